// The Teams adapter: the Teams SDK app at /api/messages on the shared HTTP server. It checks the tenant
// (the SDK does not), strips only the bot's own mention, and answers through the same use cases as
// every other chat. No error escapes a handler: the SDK would answer the Bot Connector 500.
import { PUBLIC, withOverrides } from '@microsoft/teams.api';
import { App, ExpressAdapter } from '@microsoft/teams.apps';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { actorOf, isMember, type Actor } from '../../app/actor.js';
import { handleCommand, refuse } from '../../app/handle-command.js';
import { recordAction } from '../../app/record-action.js';
import { localDateOf } from '../../domain/agenda-window.js';
import { addCalendarDays } from '../../domain/calendar.js';
import { formDefaultDue } from '../../domain/due-date.js';
import type { Meeting } from '../../domain/meeting.js';
import type { Clock, Reply } from '../../ports.js';
import { actionInclude, actionViewOf, dateOf } from '../../store/actions.js';
import type { Database } from '../../store/database.js';
import { findMember, personalChatsIn } from '../../store/members.js';
import { actionElements, addActionDialog, card, recordLeverDialog, replyActivities, type AddActionData, type TeamsActivity } from './cards.js';
import { leverTiersFor, recordLever } from '../../app/record-lever.js';
import type { TrialSettings } from '../../app/report-headline.js';
import { leverCommandFrom } from '../../domain/commands.js';
import { leverModes, leverOutcomes } from '../../domain/levers.js';
import { TeamsChat, threadOf } from './teams-chat.js';
import { TeamsTokenClient } from './token-client.js';

export interface TeamsSettings {
  clientId: string;
  clientSecret: string;
  tenantId: string;
  serviceUrl: string;
  openIdMetadataUrl: string;
  tokenUrl: string;
}

export interface TeamsAdapter {
  chat: TeamsChat;
  start(): Promise<void>;
}

interface InboundActivity {
  id?: string;
  type: string;
  text?: string;
  value?: unknown;
  replyToId?: string;
  serviceUrl?: string;
  from: { id: string; aadObjectId?: string; name?: string };
  recipient: { id: string; name?: string };
  conversation: { id: string; conversationType?: string; tenantId?: string };
  channelData?: { tenant?: { id?: string } };
  entities?: Array<{ type: string; text?: string; mentioned?: { id: string; name?: string } }>;
}

interface Ctx {
  activity: InboundActivity;
  send(activity: unknown): Promise<{ id: string }>;
  api: App['api'];
}

const dialogTitle = 'Add action';

export function createTeamsAdapter(
  settings: TeamsSettings,
  meetings: Meeting[],
  deps: { db: Database; clock: Clock; log: Logger; expressApp: Express; trialSettings?: TrialSettings },
): TeamsAdapter {
  const { db, clock, log } = deps;
  const tokens = new TeamsTokenClient({ clientId: settings.clientId, clientSecret: settings.clientSecret, tokenUrl: settings.tokenUrl });
  const app = new App({
    clientId: settings.clientId,
    tenantId: settings.tenantId,
    // The token is ours (see token-client.ts); never the SDK's MSAL path, and never no authentication.
    token: async () => tokens.token(),
    cloud: withOverrides(PUBLIC, { openIdMetadataUrl: settings.openIdMetadataUrl }),
    serviceUrl: settings.serviceUrl,
    httpServerAdapter: new ExpressAdapter(deps.expressApp),
    messagingEndpoint: '/api/messages',
    activity: { mentions: { stripText: false } },
  });
  const personalChats = personalChatsIn(db.prisma);
  const chat = new TeamsChat(app, settings.tenantId, personalChats);
  const teamsMeetings = meetings.filter((m) => m.platform === 'teams');

  const tenantOf = (a: InboundActivity) => a.channelData?.tenant?.id ?? a.conversation.tenantId;
  const channelOf = (a: InboundActivity) => a.conversation.id.split(';')[0]!;
  const isPersonal = (a: InboundActivity) => a.conversation.conversationType === 'personal';
  /** A channel names its meeting; a personal chat belongs to the bot's (first) Teams meeting. */
  const meetingOf = (a: InboundActivity) => (isPersonal(a) ? teamsMeetings[0] : teamsMeetings.find((m) => m.channel === channelOf(a)));
  const actorFor = async (a: InboundActivity): Promise<Actor> => {
    const aad = a.from.aadObjectId ?? '';
    return actorOf('teams', aad, aad ? await findMember(db.prisma, { platform: 'teams', userId: aad }) : null);
  };

  /** Why the bot will not act on this activity, if it will not; the refusal is audited. */
  const refusal = async (a: InboundActivity): Promise<string | undefined> => {
    if (tenantOf(a) !== settings.tenantId) {
      await refuse(db, actorOf('teams', a.from.aadObjectId ?? a.from.id, null), `teams:${channelOf(a)}`, `another tenant: ${tenantOf(a) ?? 'none'}`);
      return 'dmm-bot is not set up for your organisation.';
    }
    if (!meetingOf(a)) {
      await refuse(db, await actorFor(a), `teams:${channelOf(a)}`, 'not a meeting channel');
      return "dmm-bot answers only in its meeting's channel.";
    }
    return undefined;
  };

  /**
   * The command text: the bot's own mention removed, and every other mention turned into `<@aad id>`
   * so the grammar can name a person. Mention entities carry Teams' `29:` ids; the roster gives AAD ids.
   */
  const commandText = async (ctx: Ctx): Promise<string> => {
    const a = ctx.activity;
    let text = a.text ?? '';
    for (const entity of a.entities ?? []) {
      if (entity.type !== 'mention' || !entity.mentioned || !entity.text) continue;
      if (entity.mentioned.id === a.recipient.id) {
        text = text.replace(entity.text, ' ');
        continue;
      }
      let aad = entity.mentioned.id;
      if (!/^[0-9a-f-]{36}$/i.test(aad)) {
        try {
          const member = await ctx.api.conversations.members(a.conversation.id.split(';')[0]!).getById(entity.mentioned.id);
          aad = member.aadObjectId ?? aad;
        } catch (error) {
          log.warn({ err: { message: (error as Error).message } }, 'teams mention lookup failed');
        }
      }
      text = text.replace(entity.text, ` <@${aad}> `);
    }
    // Anything left that looks like markup is text, not a mention or HTML.
    return text.replace(/&nbsp;/g, ' ').replace(/\s+/g, ' ').trim();
  };

  /** Replies to the meeting go into the day's agenda thread, others into the thread they came from. */
  const deliver = async (ctx: Ctx, meeting: Meeting, reply: Reply) => {
    for (const activity of replyActivities(reply)) {
      if (reply.visibility === 'meeting' && !isPersonal(ctx.activity)) {
        await chat.sendActivity(threadOf(meeting.channel, reply.threadRef ?? threadRootOf(ctx.activity)), activity);
      } else {
        await ctx.send(activity);
      }
    }
  };
  const threadRootOf = (a: InboundActivity) => /;messageid=(\d+)/.exec(a.conversation.id)?.[1] ?? a.replyToId ?? a.id;
  const sorry = async (ctx: Ctx, error: unknown, where: string) => {
    log.error({ err: { message: (error as Error)?.message }, where }, 'teams request failed');
    await ctx.send({ type: 'message', text: 'Sorry, that did not work. Nothing was changed; please try again.', textFormat: 'plain' }).catch(() => {});
  };

  // The SDK's context types are wide; these handlers read the few fields described by Ctx.
  const route = (name: 'install.add' | 'message' | 'dialog.open' | 'dialog.submit' | 'card.action', handler: (ctx: Ctx) => Promise<unknown>) =>
    app.on(name as 'message', handler as never);

  route('install.add', async (ctx: Ctx) => {
    try {
      const a = ctx.activity;
      if (isPersonal(a) && a.from.aadObjectId && tenantOf(a) === settings.tenantId) await personalChats.set(a.from.aadObjectId, a.conversation.id);
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams install failed');
    }
  });

  route('message', async (ctx: Ctx) => {
    try {
      const a = ctx.activity;
      const refused = await refusal(a);
      if (refused) {
        await ctx.send({ type: 'message', text: refused, textFormat: 'plain' });
        return;
      }
      if (isPersonal(a) && a.from.aadObjectId) await personalChats.set(a.from.aadObjectId, a.conversation.id);
      const meeting = meetingOf(a)!;
      const context = { meeting, actor: await actorFor(a), now: clock.now(), requestId: a.id ? `teams:message:${a.id}` : undefined, ...(deps.trialSettings ? { trialSettings: deps.trialSettings } : {}) };
      const reply = await handleCommand(db, context, await commandText(ctx));
      await deliver(ctx, meeting, reply);
    } catch (error) {
      await sorry(ctx, error, 'message');
    }
  });

  const dialog = (body: Record<string, unknown>) => ({ task: { type: 'continue' as const, value: { title: dialogTitle, card: { contentType: 'application/vnd.microsoft.card.adaptive', content: body } } } });
  const dialogMessage = (value: string) => ({ task: { type: 'message' as const, value } });

  const ownerChoices = async () => {
    const members = await db.prisma.member.findMany({ where: { active: true, teamsUserId: { not: null } }, orderBy: [{ agency: 'asc' }, { displayName: 'asc' }] });
    return { owners: members.map((m) => ({ title: `${m.displayName || m.teamsUserId} (${m.agency})`, value: m.teamsUserId! })) };
  };

  route('dialog.open', async (ctx: Ctx) => {
    try {
      const a = ctx.activity;
      const refused = await refusal(a);
      if (refused) return dialogMessage(refused);
      const actor = await actorFor(a);
      if (!isMember(actor)) {
        await refuse(db, actor, meetingOf(a)!.key, 'not a member: add action form');
        return dialogMessage("Sorry, only members of this meeting can use dmm-bot. Ask the meeting's chair to add you.");
      }
      const raw = ((a.value as { data?: Record<string, unknown> })?.data ?? {}) as Record<string, unknown>;
      if (raw.dmm === 'record-lever') {
        const lever = { subject: String(raw.subject ?? ''), incident: String(raw.incident ?? ''), tier: String(raw.tier ?? '') };
        return dialog(recordLeverDialog(lever, await leverTiersFor(db, lever.subject), leverModes, leverOutcomes));
      }
      const data = raw as Partial<AddActionData>;
      const today = localDateOf(clock.now(), meetingOf(a)!.timeZone);
      // A due lever's button prefills its action and due day.
      return dialog(addActionDialog(String(data.subject ?? ''), await ownerChoices(), formDefaultDue(data.due, today), {}, typeof data.text === 'string' ? { text: data.text } : {}));
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams dialog failed');
      return dialogMessage('Sorry, that did not work. Nothing was changed; please try again.');
    }
  });

  /** The lever dialog's values go through the command grammar, exactly as a typed /dmm lever would. */
  const submitLeverDialog = async (ctx: Ctx, meeting: Meeting, actor: Actor, values: Record<string, string>) => {
    const lever = { subject: values.subject ?? '', incident: values.incident ?? '', tier: values.tier ?? '' };
    const parsed = leverCommandFrom({ subject: lever.subject, tier: values.tier ?? '', mode: values.mode ?? '', outcome: values.outcome ?? '', incident: lever.incident, script: values.script });
    const again = async (problem: string) => dialog(recordLeverDialog(lever, await leverTiersFor(db, lever.subject), leverModes, leverOutcomes, problem));
    if (!parsed.ok) return again(parsed.message);
    const { ref, tier, mode, outcome, script, incident } = parsed.command;
    const result = await recordLever(db, meeting, actor, { subject: ref, tier, mode, outcome, script, incident }, clock.now(), ctx.activity.id ? `teams:dialog:${ctx.activity.id}` : undefined);
    if (!result.ok) return again(result.message);
    if (!result.repeated) {
      const reply: Reply = { visibility: 'meeting', text: result.message, ...(result.victimAction ? { actions: [result.victimAction] } : {}) };
      const run = await db.prisma.agendaRun.findFirst({ where: { meetingKey: meeting.key, meetingDate: dateOf(localDateOf(clock.now(), meeting.timeZone)), messageRef: { not: null } } });
      if (run?.messageRef) reply.threadRef = run.messageRef;
      await deliver(ctx, meeting, reply).catch((error) => log.error({ err: { message: (error as Error)?.message } }, 'teams confirmation failed'));
    }
    return dialogMessage(result.message);
  };

  route('dialog.submit', async (ctx: Ctx) => {
    try {
      const a = ctx.activity;
      const refused = await refusal(a);
      if (refused) return dialogMessage(refused);
      const meeting = meetingOf(a)!;
      const actor = await actorFor(a);
      if (!isMember(actor)) {
        await refuse(db, actor, meeting.key, 'not a member: add action form');
        return dialogMessage("Sorry, only members of this meeting can use dmm-bot. Ask the meeting's chair to add you.");
      }
      const values = ((a.value as { data?: Record<string, string> })?.data ?? {}) as Record<string, string>;
      if (values.dmm === 'record-lever-submit') return await submitLeverDialog(ctx, meeting, actor, values);
      const request = { subject: values.subject ?? '', ownerUserId: values.owner ?? '', due: values.due ?? '', text: values.text ?? '' };
      // A dialog submitted twice carries the same dialog values and is recorded once (see createActionOnce).
      const result = await recordAction(db, meeting, actor, request, clock.now(), a.id ? `teams:dialog:${a.id}` : undefined);
      if (!result.ok) {
        const today = localDateOf(clock.now(), meeting.timeZone);
        return dialog(addActionDialog(request.subject, await ownerChoices(), addCalendarDays(today, 1), result.problems, values));
      }
      if (result.created) {
        const reply: Reply = { visibility: 'meeting', text: `Action ${result.action.id} recorded.`, actions: [result.action] };
        const run = await db.prisma.agendaRun.findFirst({ where: { meetingKey: meeting.key, meetingDate: dateOf(localDateOf(clock.now(), meeting.timeZone)), messageRef: { not: null } } });
        if (run?.messageRef) reply.threadRef = run.messageRef;
        await deliver(ctx, meeting, reply).catch((error) => log.error({ err: { message: (error as Error)?.message } }, 'teams confirmation failed'));
      }
      return dialogMessage(result.created ? `Recorded ${result.action.id}.` : `That action was already recorded as ${result.action.id}.`);
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams dialog submit failed');
      return dialogMessage('Sorry, that did not work. Nothing was recorded; please try again.');
    }
  });

  route('card.action', async (ctx: Ctx) => {
    const cardAnswer = (body: Record<string, unknown>[]) => ({ statusCode: 200 as const, type: 'application/vnd.microsoft.card.adaptive' as const, value: card(body) });
    const message = (text: string) => ({ statusCode: 200 as const, type: 'application/vnd.microsoft.activity.message' as const, value: text });
    try {
      const a = ctx.activity;
      const refused = await refusal(a);
      if (refused) return message(refused);
      const meeting = meetingOf(a)!;
      const action = (a.value as { action?: { verb?: string; data?: { id?: string; note?: string } } })?.action ?? {};
      const id = action.data?.id ?? '';
      const actor = await actorFor(a);
      const verb = action.verb ?? '';
      const row = async () => {
        const found = await db.prisma.action.findFirst({ where: { id: Number(id.replace(/^A-/i, '')) || 0, meetingKey: meeting.key }, include: actionInclude });
        return found ? actionViewOf(found, localDateOf(clock.now(), meeting.timeZone)) : undefined;
      };
      if (verb === 'update') {
        // "Update" asks for the note in the card itself; "Save note" records it.
        const view = await row();
        return view ? cardAnswer(actionElements(view, { askForNote: true })) : message(`There is no action ${id} in this meeting.`);
      }
      const text = verb === 'done' ? `action done ${id}` : verb === 'save-note' ? `action update ${id} ${action.data?.note ?? ''}` : '';
      if (!text) return message('That button is not one dmm-bot knows.');
      const reply = await handleCommand(db, { meeting, actor, now: clock.now() }, text);
      const view = await row();
      if (reply.problem || !view) return message(reply.text);
      const refreshed = card(actionElements(view));
      // Everyone sees the change: the message is updated for all, and the answer refreshes the clicker's copy.
      if (a.replyToId) {
        await ctx.api.conversations
          .activities(a.conversation.id)
          .update(a.replyToId, { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: refreshed }] } as never)
          .catch((error: unknown) => log.warn({ err: { message: (error as Error).message } }, 'teams card update failed'));
      }
      return { statusCode: 200 as const, type: 'application/vnd.microsoft.card.adaptive' as const, value: refreshed };
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams card action failed');
      return message('Sorry, that did not work. Nothing was changed; please try again.');
    }
  });

  return {
    chat,
    async start() {
      await app.initialize();
    },
  };
}

export type { TeamsActivity };

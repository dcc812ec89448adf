// The Teams adapter: the Teams SDK app at /api/messages on the shared HTTP server. It checks the tenant
// (the SDK does not), strips only the bot's own mention, and answers through the same use cases as
// every other chat. No error escapes a handler: the SDK would answer the Bot Connector 500.
import { setTimeout as sleep } from 'node:timers/promises';
import { PUBLIC, withOverrides } from '@microsoft/teams.api';
import { App, ExpressAdapter } from '@microsoft/teams.apps';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { actorOf, isMember, type Actor } from '../../app/actor.js';
import { handleCommand, refuse } from '../../app/handle-command.js';
import type { MemberDirectory } from '../../app/manage-members.js';
import { recordAction } from '../../app/record-action.js';
import { localDateOf } from '../../domain/agenda-window.js';
import { addCalendarDays } from '../../domain/calendar.js';
import { formDefaultDue } from '../../domain/due-date.js';
import type { Meeting } from '../../domain/meeting.js';
import type { Clock, Reply } from '../../ports.js';
import { agendaThreadOf } from '../../store/agenda-runs.js';
import { actionInclude, actionViewOf } from '../../store/actions.js';
import type { Database } from '../../store/database.js';
import { findMember, personalChatsIn } from '../../store/members.js';
import { actionElements, addActionDialog, card, cardContentType, recordLeverDialog, replyActivities, type TeamsActivity } from './cards.js';
import { leverTiersFor, recordLever } from '../../app/record-lever.js';
import type { TrialSettings } from '../../app/report-headline.js';
import { leverCommandFrom } from '../../domain/commands.js';
import { leverModes, leverOutcomes } from '../../domain/levers.js';
import { busyText, CommandQueue, UnansweredCount } from '../command-queue.js';
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
  /** Lets the commands already taken finish. */
  stop(): Promise<void>;
}

/** How long Teams' HTTP answer waits for a command's work: well inside the Bot Connector's patience (about 15 s). */
const answerWithinMs = 10_000;

// ---- what an incoming activity must look like (the SDK casts the body without checking it) ----

const text = z.string().nullish();
const inboundSchema = z.looseObject({
  id: text,
  type: z.string(),
  name: text,
  text,
  value: z.unknown().optional(),
  replyToId: text,
  serviceUrl: text,
  from: z.looseObject({ id: z.string(), aadObjectId: text, name: text }),
  recipient: z.looseObject({ id: z.string(), name: text }),
  conversation: z.looseObject({ id: z.string().min(1), conversationType: text, tenantId: text }),
  channelData: z.looseObject({ tenant: z.looseObject({ id: text }).nullish() }).nullish(),
  entities: z.array(z.looseObject({ type: text, text, mentioned: z.looseObject({ id: text, name: text }).nullish() })).nullish(),
});
type InboundActivity = z.infer<typeof inboundSchema>;

/** The values of a dialog or card: only strings are read; anything else counts as empty. */
const dataSchema = z
  .looseObject({ data: z.record(z.string(), z.unknown()).nullish().catch(undefined) })
  .catch({ data: undefined })
  .transform((value) => Object.fromEntries(Object.entries(value.data ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string')));

/** An action card's Action.Execute: its verb, the action's id, and the note typed in the card (merged by Teams). */
const cardActionSchema = z.looseObject({
  action: z.looseObject({
    verb: z.string().max(32),
    data: z.looseObject({ id: z.string().regex(/^A-\d{1,9}$/i), note: z.string().optional() }),
  }),
});

/** A display name Teams gives for a person: trimmed, without control characters, at most 100 characters. */
function displayNameOf(name: string | null | undefined): string | undefined {
  const clean = (name ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 100);
  return clean || undefined;
}

interface Ctx {
  activity: InboundActivity;
  send(activity: unknown): Promise<{ id: string }>;
  next(): Promise<unknown>;
  api: App['api'];
}

const dialogTitle = 'Add action';
const notSetUp = 'dmm-bot is not set up for your organisation.';
const notAMember = "Sorry, only members of this meeting can use dmm-bot. Ask the meeting's chair to add you.";
const unknownButton = 'That button is not one dmm-bot knows. Nothing was changed.';
const nothingChanged = 'Sorry, that did not work. Nothing was changed; please try again.';

const plainActivity = (value: string): TeamsActivity => ({ type: 'message', summary: value.slice(0, 200), text: value, textFormat: 'plain' });
const dialogMessage = (value: string) => ({ task: { type: 'message' as const, value } });
const cardMessage = (value: string) => ({ statusCode: 200 as const, type: 'application/vnd.microsoft.activity.message' as const, value });
const cardAnswer = (body: Record<string, unknown>) => ({ statusCode: 200 as const, type: cardContentType, value: body });

/**
 * The Teams SDK app as dmm-bot configures it, serving `/api/messages` on `expressApp`: every request
 * authenticated against `openIdMetadataUrl`'s keys. Exported so the benchmark's bare app is this same one.
 */
export function teamsSdkApp(settings: TeamsSettings, expressApp: Express): App {
  const tokens = new TeamsTokenClient({ clientId: settings.clientId, clientSecret: settings.clientSecret, tokenUrl: settings.tokenUrl });
  return new App({
    clientId: settings.clientId,
    tenantId: settings.tenantId,
    // The token is ours (see token-client.ts); never the SDK's MSAL path, and never no authentication.
    token: async () => tokens.token(),
    cloud: withOverrides(PUBLIC, { openIdMetadataUrl: settings.openIdMetadataUrl }),
    serviceUrl: settings.serviceUrl,
    httpServerAdapter: new ExpressAdapter(expressApp),
    messagingEndpoint: '/api/messages',
    activity: { mentions: { stripText: false } },
  });
}

export function createTeamsAdapter(
  settings: TeamsSettings,
  meetings: Meeting[],
  deps: { db: Database; clock: Clock; log: Logger; expressApp: Express; trialSettings?: TrialSettings },
): TeamsAdapter {
  const { db, clock, log } = deps;
  const app = teamsSdkApp(settings, deps.expressApp);
  const personalChats = personalChatsIn(db.prisma);
  const work = new CommandQueue(10);
  const busyAnswers = new CommandQueue(2, 100);
  const unanswered = new UnansweredCount(log);
  const chat = new TeamsChat(app, settings.tenantId, personalChats);
  const teamsMeetings = meetings.filter((m) => m.platform === 'teams');

  /** Every tenant the activity names (Teams puts it in two places); all must be ours. */
  const tenantsOf = (a: InboundActivity) => [a.channelData?.tenant?.id, a.conversation.tenantId].filter((t): t is string => typeof t === 'string' && t !== '');
  const channelOf = (a: InboundActivity) => a.conversation.id.split(';')[0]!;
  const isPersonal = (a: InboundActivity) => a.conversation.conversationType === 'personal';
  /** A channel names its meeting; a personal chat belongs to the bot's (first) Teams meeting. */
  const meetingOf = (a: InboundActivity) => (isPersonal(a) ? teamsMeetings[0] : teamsMeetings.find((m) => m.channel === channelOf(a)));
  /** The thread an activity in a channel belongs to (a top-level post is its own thread's root). */
  const threadRootOf = (a: InboundActivity) => /;messageid=(\d+)/.exec(a.conversation.id)?.[1] ?? a.replyToId ?? a.id ?? undefined;

  /**
   * The person behind an activity. A member whose name the bot does not know yet (a chair from
   * DMM_CHAIRS, known only by AAD object id) gets the name Teams gives, so lists and cards show it.
   */
  const actorFor = async (a: InboundActivity): Promise<Actor> => {
    const aad = a.from.aadObjectId ?? '';
    const member = aad ? await findMember(db.prisma, { platform: 'teams', userId: aad }) : null;
    const name = displayNameOf(a.from.name);
    if (member && !member.displayName && name) {
      // Only an unnamed member is named: a name already known is not replaced.
      await db.prisma.member.updateMany({ where: { id: member.id, displayName: '' }, data: { displayName: name } });
      member.displayName = name;
    }
    return actorOf('teams', aad, member);
  };

  /** Why the bot will not act here (not its meeting's channel, nor a personal chat), if so; audited. */
  const notHere = async (a: InboundActivity): Promise<string | undefined> => {
    if (meetingOf(a)) return undefined;
    await refuse(db, await actorFor(a), `teams:${channelOf(a)}`, 'not a meeting channel');
    return "dmm-bot answers only in its meeting's channel.";
  };

  /**
   * The command text: the bot's own mention removed, and every other mention turned into `<@aad id>`
   * so the grammar can name a person. Mention entities carry Teams' `29:` ids; the roster gives AAD
   * ids and display names (for `member add`).
   */
  const commandText = async (ctx: Ctx): Promise<{ text: string; names: Map<string, string> }> => {
    const a = ctx.activity;
    let words = a.text ?? '';
    const names = new Map<string, string>();
    for (const entity of a.entities ?? []) {
      const mentioned = entity.mentioned;
      if (entity.type !== 'mention' || !mentioned?.id || !entity.text) continue;
      if (mentioned.id === a.recipient.id) {
        words = words.replace(entity.text, () => ' ');
        continue;
      }
      let aad = mentioned.id;
      let name = displayNameOf(mentioned.name);
      if (!/^[0-9a-f-]{36}$/i.test(aad)) {
        try {
          const member = await ctx.api.conversations.members(channelOf(a)).getById(mentioned.id);
          aad = member.aadObjectId ?? aad;
          name = displayNameOf(member.name) ?? name;
        } catch (error) {
          log.warn({ err: { message: (error as Error).message } }, 'teams mention lookup failed');
        }
      }
      if (name) names.set(aad, name);
      words = words.replace(entity.text, () => ` <@${aad}> `);
    }
    // Anything left that looks like markup is text, not a mention or HTML.
    return { text: words.replace(/&nbsp;/g, ' ').replace(/\s+/g, ' ').trim(), names };
  };

  /**
   * Where the meeting's channel hears an answer: the day's agenda thread where there is one, else the
   * thread the request came from, else (from a personal chat) the channel itself. Posted to that
   * thread's conversation id, never as a reply quoting the request.
   */
  const meetingConversation = async (a: InboundActivity, meeting: Meeting, threadRef?: string): Promise<string> =>
    threadOf(meeting.channel, threadRef ?? (await agendaThreadOf(db.prisma, meeting.key, localDateOf(clock.now(), meeting.timeZone))) ?? (isPersonal(a) ? undefined : threadRootOf(a)));

  const toMeeting = async (a: InboundActivity, meeting: Meeting, reply: Reply) => {
    const conversation = await meetingConversation(a, meeting, reply.threadRef);
    for (const activity of replyActivities(reply)) await chat.sendActivity(conversation, activity);
  };

  /**
   * Teams has no private replies in a channel: there every answer goes where the meeting hears it (the
   * day's agenda thread where there is one). A personal chat gets every answer, and the meeting hears
   * of every change made from it.
   */
  const deliver = async (ctx: Ctx, meeting: Meeting, reply: Reply) => {
    if (isPersonal(ctx.activity)) {
      for (const activity of replyActivities(reply)) await ctx.send(activity);
      if (reply.visibility === 'meeting') await toMeeting(ctx.activity, meeting, reply);
      return;
    }
    await toMeeting(ctx.activity, meeting, reply);
  };

  /** A short plain answer where the reply would have gone; a failure here is only logged. */
  const say = async (ctx: Ctx, meeting: Meeting | undefined, words: string) => {
    try {
      if (meeting && !isPersonal(ctx.activity)) {
        await chat.sendActivity(await meetingConversation(ctx.activity, meeting), plainActivity(words));
        return;
      }
    } catch (error) {
      log.warn({ err: { message: (error as Error)?.message } }, 'teams answer in the meeting thread failed');
    }
    await ctx.send(plainActivity(words)).catch((error: unknown) => log.error({ err: { message: (error as Error)?.message } }, 'teams answer failed'));
  };

  // The SDK's context types are wide; these handlers read the few fields described by Ctx.
  const route = (name: 'install.add' | 'message' | 'dialog.open' | 'dialog.submit' | 'card.action', handler: (ctx: Ctx) => Promise<unknown>) =>
    app.on(name as 'message', handler as never);

  /** What Teams shows for a refused activity: a message, a dialog's message, or a card action's message. */
  const refuseActivity = async (ctx: Ctx, raw: { type?: unknown; name?: unknown }, words: string) => {
    if (raw.type === 'message') {
      await ctx.send(plainActivity(words)).catch((error: unknown) => log.error({ err: { message: (error as Error)?.message } }, 'teams refusal failed'));
      return undefined;
    }
    if (raw.type === 'invoke' && (raw.name === 'task/fetch' || raw.name === 'task/submit')) return dialogMessage(words);
    if (raw.type === 'invoke' && raw.name === 'adaptiveCard/action') return cardMessage(words);
    return undefined;
  };

  // Every activity passes here first: one that cannot be read, or comes from another tenant, goes no further.
  app.use((async (ctx: Ctx) => {
    const raw = (ctx.activity ?? {}) as { type?: unknown; name?: unknown };
    try {
      const parsed = inboundSchema.safeParse(ctx.activity);
      if (!parsed.success) {
        log.warn({ fields: parsed.error.issues.map((i) => i.path.join('.')) }, 'teams activity not understood');
        return await refuseActivity(ctx, raw, 'dmm-bot could not read that request. Nothing was changed.');
      }
      const a = parsed.data;
      const tenants = tenantsOf(a);
      if (tenants.length === 0 || tenants.some((t) => t !== settings.tenantId)) {
        await refuse(db, actorOf('teams', a.from.aadObjectId || a.from.id, null), `teams:${channelOf(a)}`, `another tenant: ${tenants.find((t) => t !== settings.tenantId) ?? 'none'}`);
        return await refuseActivity(ctx, raw, notSetUp);
      }
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams activity check failed');
      return await refuseActivity(ctx, raw, nothingChanged);
    }
    return ctx.next();
  }) as never);

  route('install.add', async (ctx: Ctx) => {
    try {
      const a = ctx.activity;
      if (isPersonal(a) && a.from.aadObjectId) {
        await personalChats.set(a.from.aadObjectId, a.conversation.id);
        await actorFor(a);
      }
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams install failed');
    }
  });

  // Teams sends its HTTP answer once this handler returns. A command that can start at once waits
  // for its work (up to `answerWithinMs`), so its answer is in the chat first; one that must queue
  // behind others (a burst) is answered over HTTP straight away and replies when it has run, as a
  // Slack command does after its ack, rather than hold a connection open while others are worked on.
  route('message', async (ctx: Ctx) => {
    if (work.full) {
      // Teams need not wait for the busy answer either. In a flood past even these (Teams itself
      // would refuse so many sends to one conversation), the command goes unanswered, and the
      // operator is told how many did.
      if (busyAnswers.full) unanswered.add();
      else {
        void busyAnswers.add(async () => {
          await ctx.send(plainActivity(busyText)).catch((error: unknown) => log.error({ err: { message: (error as Error)?.message } }, 'teams busy answer failed'));
        });
      }
      return;
    }
    const startsNow = work.idle;
    const worked = work.add(() => answerMessage(ctx));
    if (!startsNow) return;
    const answered = new AbortController();
    await Promise.race([
      worked.finally(() => answered.abort()),
      sleep(answerWithinMs, undefined, { signal: answered.signal }).catch(() => {}),
    ]);
  });

  const answerMessage = async (ctx: Ctx) => {
    const a = ctx.activity;
    let meeting: Meeting | undefined;
    let reply: Reply;
    try {
      const refused = await notHere(a);
      if (refused) {
        await ctx.send(plainActivity(refused));
        return;
      }
      meeting = meetingOf(a)!;
      const actor = await actorFor(a);
      if (isPersonal(a) && a.from.aadObjectId) await personalChats.set(a.from.aadObjectId, a.conversation.id);
      const { text: words, names } = await commandText(ctx);
      const directory: MemberDirectory = { displayNameOf: async (userId) => names.get(userId) };
      const context = { meeting, actor, now: clock.now(), directory, requestId: a.id ? `teams:message:${a.id}` : undefined, ...(deps.trialSettings ? { trialSettings: deps.trialSettings } : {}) };
      reply = await handleCommand(db, context, words);
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams command failed');
      await say(ctx, meeting, nothingChanged);
      return;
    }
    try {
      await deliver(ctx, meeting, reply);
    } catch (error) {
      // The command has run: saying "nothing was changed" now would be untrue.
      log.warn({ err: { message: (error as Error)?.message } }, 'teams reply failed');
      await say(ctx, meeting, reply.problem ? reply.text : "Teams did not take dmm-bot's answer, but your request was carried out. Please check (for example with action list) before trying again.");
    }
  };

  const dialog = (body: Record<string, unknown>) => ({ task: { type: 'continue' as const, value: { title: dialogTitle, card: { contentType: cardContentType, content: body } } } });

  const ownerChoices = async () => {
    const members = await db.prisma.member.findMany({ where: { active: true, teamsUserId: { not: null } }, orderBy: [{ agency: 'asc' }, { displayName: 'asc' }] });
    return { owners: members.map((m) => ({ title: `${m.displayName || m.teamsUserId} (${m.agency})`, value: m.teamsUserId! })) };
  };

  route('dialog.open', async (ctx: Ctx) => {
    try {
      const a = ctx.activity;
      const refused = await notHere(a);
      if (refused) return dialogMessage(refused);
      const meeting = meetingOf(a)!;
      const actor = await actorFor(a);
      if (!isMember(actor)) {
        await refuse(db, actor, meeting.key, 'not a member: add action form');
        return dialogMessage(notAMember);
      }
      const data = dataSchema.parse(a.value);
      if (data.dmm === 'record-lever') {
        const lever = { subject: data.subject ?? '', incident: data.incident ?? '', tier: data.tier ?? '' };
        return dialog(recordLeverDialog(lever, await leverTiersFor(db, lever.subject), leverModes, leverOutcomes));
      }
      const today = localDateOf(clock.now(), meeting.timeZone);
      // A due lever's button prefills its action and due day.
      return dialog(addActionDialog(data.subject ?? '', await ownerChoices(), formDefaultDue(data.due, today), {}, data.text !== undefined ? { text: data.text } : {}));
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams dialog failed');
      return dialogMessage(nothingChanged);
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
      await toMeeting(ctx.activity, meeting, reply).catch((error) => log.error({ err: { message: (error as Error)?.message } }, 'teams confirmation failed'));
    }
    return dialogMessage(result.message);
  };

  route('dialog.submit', async (ctx: Ctx) => {
    try {
      const a = ctx.activity;
      const refused = await notHere(a);
      if (refused) return dialogMessage(refused);
      const meeting = meetingOf(a)!;
      const actor = await actorFor(a);
      if (!isMember(actor)) {
        await refuse(db, actor, meeting.key, 'not a member: add action form');
        return dialogMessage(notAMember);
      }
      const values = dataSchema.parse(a.value);
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
        await toMeeting(a, meeting, reply).catch((error) => log.error({ err: { message: (error as Error)?.message } }, 'teams confirmation failed'));
      }
      return dialogMessage(result.created ? `Recorded ${result.action.id}.` : `That action was already recorded as ${result.action.id}.`);
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams dialog submit failed');
      return dialogMessage('Sorry, that did not work. Nothing was recorded; please try again.');
    }
  });

  route('card.action', async (ctx: Ctx) => {
    try {
      const a = ctx.activity;
      const refused = await notHere(a);
      if (refused) return cardMessage(refused);
      const meeting = meetingOf(a)!;
      const parsed = cardActionSchema.safeParse(a.value);
      if (!parsed.success) return cardMessage(unknownButton);
      const { verb, data } = parsed.data.action;
      const number = Number(data.id.slice(2));
      const id = `A-${number}`;
      const actor = await actorFor(a);
      const row = async () => {
        const found = await db.prisma.action.findFirst({ where: { id: number, meetingKey: meeting.key }, include: actionInclude });
        return found ? actionViewOf(found, localDateOf(clock.now(), meeting.timeZone)) : undefined;
      };
      if (verb === 'update') {
        // "Update" asks for the note in the card itself; "Save note" records it. Asking follows the
        // commands' rules too: members only, on their own actions; chairs on anyone's.
        if (!isMember(actor)) {
          await refuse(db, actor, meeting.key, 'not a member: update button');
          return cardMessage(notAMember);
        }
        const view = await row();
        if (!view) return cardMessage(`There is no action ${id} in this meeting.`);
        if (view.status === 'open' && !actor.isChair && view.owner.memberId !== actor.member?.id) {
          await refuse(db, actor, meeting.key, `not the owner: update ${id}`);
          return cardMessage(`${id} belongs to someone else: only its owner or a chair can change it.`);
        }
        return cardAnswer(card(actionElements(view, { askForNote: true })));
      }
      const command = verb === 'done' ? `action done ${id}` : verb === 'save-note' ? `action update ${id} ${data.note ?? ''}` : '';
      if (!command) return cardMessage(unknownButton);
      // The same command as typing it, with the same rules (members only; owners on their own actions).
      const reply = await handleCommand(db, { meeting, actor, now: clock.now() }, command);
      const view = await row();
      if (reply.problem || !view) return cardMessage(reply.text);
      const refreshed = card(actionElements(view));
      // Everyone sees the change: the message is updated for all, and the answer refreshes the clicker's copy.
      if (a.replyToId) {
        await ctx.api.conversations
          .activities(a.conversation.id)
          .update(a.replyToId, { type: 'message', attachments: [{ contentType: cardContentType, content: refreshed }] } as never)
          .catch((error: unknown) => log.warn({ err: { message: (error as Error).message } }, 'teams card update failed'));
      }
      // And the meeting is told in the day's agenda thread, as for the typed command (and Slack's button).
      await toMeeting(a, meeting, reply).catch((error: unknown) => log.error({ err: { message: (error as Error)?.message } }, 'teams confirmation failed'));
      return cardAnswer(refreshed);
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'teams card action failed');
      return cardMessage(nothingChanged);
    }
  });

  return {
    chat,
    async start() {
      await app.initialize();
    },
    async stop() {
      await Promise.all([work.drain(), busyAnswers.drain()]);
      unanswered.report();
    },
  };
}

export type { TeamsActivity };

// The Slack adapter: a Bolt app that receives `/dmm` commands, button clicks and form submissions
// (over HTTP at /slack/events, or Socket Mode) and answers through the same use cases as every chat.
import { App, ExpressReceiver, LogLevel, type Logger as BoltLogger, type RespondFn } from '@slack/bolt';
import type { KnownBlock, View } from '@slack/types';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { actorOf, isMember, type Actor } from '../../app/actor.js';
import { handleCommand, refuse } from '../../app/handle-command.js';
import type { MemberDirectory } from '../../app/manage-members.js';
import { recordAction, type ActionProblems } from '../../app/record-action.js';
import { formDefaultDue } from '../../domain/due-date.js';
import { localDateOf } from '../../domain/agenda-window.js';
import type { Meeting } from '../../domain/meeting.js';
import type { Clock, Reply } from '../../ports.js';
import type { Database } from '../../store/database.js';
import { agendaThreadOf } from '../../store/agenda-runs.js';
import { meetingKeyOfAction } from '../../store/actions.js';
import { findMember } from '../../store/members.js';
import { appendAudit } from '../../store/audit.js';
import { addActionId, recordLeverId, type AddActionValue, type RecordLeverValue } from './agenda-blocks.js';
import { leverTiersFor, recordLever } from '../../app/record-lever.js';
import type { TrialSettings } from '../../app/report-headline.js';
import { leverCommandFrom } from '../../domain/commands.js';
import { leverModes, leverOutcomes, type LeverMode } from '../../domain/levers.js';
import { actionDoneId, actionUpdateId, replyMessages } from './reply-blocks.js';
import { SlackChat, slackClientOptions } from './slack-chat.js';
import { busyText, CommandQueue } from '../command-queue.js';

export interface SlackSettings {
  botToken: string;
  signingSecret?: string | undefined;
  appToken?: string | undefined;
  apiUrl?: string | undefined;
  teamIds: string[];
  /** Commands worked on at once after their acknowledgement (default 10, the database pool's size). */
  concurrency?: number;
}

export interface SlackAdapter {
  chat: SlackChat;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const addActionForm = 'dmm_add_action_form';
const recordLeverForm = 'dmm_record_lever_form';
const leverFields = { tier: 'tier', mode: 'mode', outcome: 'outcome', script: 'script' } as const;
const updateActionForm = 'dmm_update_action_form';
const fields = { subject: 'subject', owner: 'owner', due: 'due', text: 'text', note: 'note' } as const;

function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'slack' });
  return {
    debug: (...msg) => child.debug(msg.map(String).join(' ')),
    info: (...msg) => child.info(msg.map(String).join(' ')),
    warn: (...msg) => child.warn(msg.map(String).join(' ')),
    error: (...msg) => child.error(msg.map(String).join(' ')),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}

function addActionView(meeting: Meeting, subject: string, defaultDue: string, text = ''): View {
  const input = (blockId: string, label: string, element: Record<string, unknown>, hint?: string): KnownBlock =>
    ({ type: 'input', block_id: blockId, label: { type: 'plain_text', text: label }, element: { action_id: 'value', ...element }, ...(hint ? { hint: { type: 'plain_text', text: hint } } : {}) }) as KnownBlock;
  return {
    type: 'modal',
    callback_id: addActionForm,
    private_metadata: JSON.stringify({ meeting: meeting.key }),
    title: { type: 'plain_text', text: 'Add action' },
    submit: { type: 'plain_text', text: 'Record' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      input(fields.subject, 'About', { type: 'plain_text_input', initial_value: subject, max_length: 64 }, 'An incident reference or a person\'s label'),
      input(fields.owner, 'Owner', { type: 'users_select' }, 'A member of the meeting; their agency is recorded with the action'),
      input(fields.due, 'Due', { type: 'datepicker', initial_date: defaultDue }),
      input(fields.text, 'Action', { type: 'plain_text_input', multiline: true, max_length: 1000, ...(text ? { initial_value: text } : {}) }, 'What is to be done (no names or addresses of victims)'),
    ],
  };
}

function recordLeverView(meeting: Meeting, value: RecordLeverValue, tiers: Array<{ tier: string; name: string; mode: LeverMode }>): View {
  const option = (text: string, v: string) => ({ text: { type: 'plain_text' as const, text }, value: v });
  const select = (blockId: string, label: string, options: Array<ReturnType<typeof option>>, initial: string | undefined): KnownBlock =>
    ({
      type: 'input',
      block_id: blockId,
      label: { type: 'plain_text', text: label },
      element: { type: 'static_select', action_id: 'value', options, ...(options.some((o) => o.value === initial) ? { initial_option: options.find((o) => o.value === initial) } : {}) },
    }) as KnownBlock;
  const due = tiers.find((t) => t.tier === value.tier);
  return {
    type: 'modal',
    callback_id: recordLeverForm,
    private_metadata: JSON.stringify({ meeting: meeting.key, subject: value.subject, incident: value.incident }),
    title: { type: 'plain_text', text: 'Record lever' },
    submit: { type: 'plain_text', text: 'Record' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Lever for \`${value.subject}\` after ${value.incident}` } },
      select(leverFields.tier, 'Tier', tiers.map((t) => option(`${t.tier}: ${t.name}`, t.tier)), value.tier),
      select(leverFields.mode, 'How it was given', leverModes.map((m) => option(m, m)), due?.mode),
      select(leverFields.outcome, 'Outcome', leverOutcomes.map((o) => option(o, o)), 'delivered'),
      {
        type: 'input',
        block_id: leverFields.script,
        optional: true,
        label: { type: 'plain_text', text: 'Script version' },
        hint: { type: 'plain_text', text: "Leave empty for the tier's latest script (dmm trial scripts lists them)" },
        element: { type: 'plain_text_input', action_id: 'value', max_length: 64 },
      } as KnownBlock,
    ],
  };
}

function updateActionView(meeting: Meeting, id: string): View {
  return {
    type: 'modal',
    callback_id: updateActionForm,
    private_metadata: JSON.stringify({ meeting: meeting.key, id }),
    title: { type: 'plain_text', text: `Update ${id}`.slice(0, 24) },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: fields.note,
        label: { type: 'plain_text', text: 'Progress note' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 1000 },
      },
    ],
  };
}

export function createSlackAdapter(
  settings: SlackSettings,
  meetings: Meeting[],
  deps: { db: Database; clock: Clock; log: Logger; expressApp?: Express; trialSettings?: TrialSettings },
): SlackAdapter {
  const { db, clock, log } = deps;
  const logger = boltLogger(log);
  const socketMode = settings.appToken !== undefined;
  const receiver =
    !socketMode && deps.expressApp
      ? new ExpressReceiver({ signingSecret: settings.signingSecret ?? '', app: deps.expressApp, endpoints: '/slack/events', logger })
      : undefined;
  const app = new App({
    token: settings.botToken,
    logger,
    clientOptions: slackClientOptions(settings.apiUrl),
    deferInitialization: true,
    // Bolt's conversation store is unused here, and its miss throws (with a stack) on every request.
    convoStore: false,
    ...(socketMode ? { socketMode: true, appToken: settings.appToken } : receiver ? { receiver } : { signingSecret: settings.signingSecret }),
  });
  const chat = new SlackChat({ token: settings.botToken, apiUrl: settings.apiUrl }, app.client);
  const work = new CommandQueue(settings.concurrency ?? 10);
  const directory: MemberDirectory = {
    async displayNameOf(userId) {
      try {
        const info = await app.client.users.info({ user: userId });
        return info.user?.profile?.display_name || info.user?.real_name || undefined;
      } catch {
        return undefined;
      }
    },
  };

  /** The meeting and the person behind a request, or why the bot will not answer there. */
  const place = async (teamId: string | undefined, channelId: string | undefined, meetingKey?: string) => {
    if (settings.teamIds.length > 0 && !settings.teamIds.includes(teamId ?? '')) return { refusal: 'dmm-bot is not set up for this workspace.' };
    const meeting = meetings.find((m) => (meetingKey ? m.key === meetingKey : m.channel === channelId));
    if (!meeting) return { refusal: "dmm-bot answers only in its meeting's channel." };
    return { meeting };
  };
  /**
   * Where an action card's button was pressed: the meeting's channel, or an owner's DM with a reminder,
   * where the action itself names its meeting.
   */
  const placeOfActionButton = async (teamId: string | undefined, channelId: string | undefined, actionRef: string) => {
    const inChannel = await place(teamId, channelId);
    if (inChannel.meeting || !channelId?.startsWith('D')) return inChannel;
    const meetingKey = await meetingKeyOfAction(db.prisma, actionRef);
    return meetingKey ? place(teamId, undefined, meetingKey) : inChannel;
  };
  const actorFor = async (userId: string): Promise<Actor> =>
    actorOf('slack', userId, await findMember(db.prisma, { platform: 'slack', userId }));

  /** Private replies go to the person; replies to the meeting go into the day's agenda thread. */
  const deliver = async (reply: Reply, meeting: Meeting, respond: RespondFn) => {
    for (const message of replyMessages(reply)) {
      if (reply.visibility === 'meeting') {
        await app.client.chat.postMessage({
          channel: meeting.channel,
          text: message.text,
          ...(message.blocks.length ? { blocks: message.blocks } : {}),
          ...(reply.threadRef ? { thread_ts: reply.threadRef } : {}),
        });
      } else {
        await respond({ response_type: 'ephemeral', replace_original: false, text: message.text, ...(message.blocks.length ? { blocks: message.blocks } : {}) });
      }
    }
    if (reply.image && reply.visibility === 'meeting') {
      // A chart is a file shared to the channel (Slack's upload: files.getUploadURLExternal, then complete).
      const upload = { channel_id: meeting.channel, file: Buffer.from(reply.image.png), filename: reply.image.name, title: reply.image.title, alt_text: reply.image.altText };
      await app.client.filesUploadV2(reply.threadRef ? { ...upload, thread_ts: reply.threadRef } : upload);
    }
  };
  const failed = async (error: unknown, respond: RespondFn, where: string) => {
    log.error({ err: { message: (error as Error)?.message }, where }, 'slack request failed');
    await respond({ response_type: 'ephemeral', replace_original: false, text: 'Sorry, that did not work. Nothing was changed; please try again.' }).catch(() => {});
  };

  app.command('/dmm', async ({ command, ack, respond }) => {
    const found = await place(command.team_id, command.channel_id);
    if (!found.meeting) {
      await ack({ response_type: 'ephemeral', text: found.refusal });
      await refuse(db, actorOf('slack', command.user_id, null), `slack:${command.channel_id}`, found.refusal);
      return;
    }
    if (work.full) {
      await ack({ response_type: 'ephemeral', text: busyText });
      return;
    }
    // Acknowledge within Slack's 3 seconds; the answer follows through response_url.
    await ack();
    await work.add(async () => {
      try {
        const actor = await actorFor(command.user_id);
        const reply = await handleCommand(
          db,
          { meeting: found.meeting, actor, now: clock.now(), requestId: `slack:command:${command.trigger_id}`, directory, ...(deps.trialSettings ? { trialSettings: deps.trialSettings } : {}) },
          command.text,
        );
        await deliver(reply, found.meeting, respond);
      } catch (error) {
        await failed(error, respond, 'command');
      }
    });
  });

  app.action(new RegExp(`^${addActionId}`), async ({ ack, body, action, respond, client }) => {
    await ack();
    try {
      const found = await place(body.team?.id, body.channel?.id);
      const actor = await actorFor(body.user.id);
      if (!found.meeting || !isMember(actor)) {
        await refuse(db, actor, `slack:${body.channel?.id ?? ''}`, found.refusal ?? 'not a member: add action form');
        await respond({ response_type: 'ephemeral', replace_original: false, text: found.refusal ?? "Sorry, only members of this meeting can use dmm-bot. Ask the meeting's chair to add you." });
        return;
      }
      const value = JSON.parse((action as { value?: string }).value ?? '{}') as Partial<AddActionValue>;
      const today = localDateOf(clock.now(), found.meeting.timeZone);
      await client.views.open({ trigger_id: (body as { trigger_id: string }).trigger_id, view: addActionView(found.meeting, value.subject ?? '', formDefaultDue(value.due, today), value.text ?? '') });
    } catch (error) {
      await failed(error, respond, 'add action button');
    }
  });

  app.action(new RegExp(`^${recordLeverId}`), async ({ ack, body, action, respond, client }) => {
    await ack();
    try {
      const found = await place(body.team?.id, body.channel?.id);
      const actor = await actorFor(body.user.id);
      if (!found.meeting || !isMember(actor)) {
        await refuse(db, actor, `slack:${body.channel?.id ?? ''}`, found.refusal ?? 'not a member: lever form');
        await respond({ response_type: 'ephemeral', replace_original: false, text: found.refusal ?? "Sorry, only members of this meeting can use dmm-bot. Ask the meeting's chair to add you." });
        return;
      }
      const value = JSON.parse((action as { value?: string }).value ?? '{}') as RecordLeverValue;
      const view = recordLeverView(found.meeting, value, await leverTiersFor(db, value.subject ?? ''));
      await client.views.open({ trigger_id: (body as { trigger_id: string }).trigger_id, view });
    } catch (error) {
      await failed(error, respond, 'record lever button');
    }
  });

  app.view(recordLeverForm, async ({ ack, body, view }) => {
    const meta = JSON.parse(view.private_metadata || '{}') as { meeting?: string; subject?: string; incident?: string };
    const found = await place(body.team?.id, undefined, meta.meeting);
    const actor = await actorFor(body.user.id);
    if (!found.meeting || !isMember(actor)) {
      await refuse(db, actor, meta.meeting ?? '', found.refusal ?? 'not a member: lever form');
      await ack({ response_action: 'errors', errors: { [leverFields.outcome]: found.refusal ?? 'Only members of this meeting can record levers.' } });
      return;
    }
    const values = view.state.values;
    const picked = (field: string) => values[field]?.value?.selected_option?.value ?? '';
    const script = (values[leverFields.script]?.value?.value ?? '').trim();
    const parsed = leverCommandFrom({ subject: meta.subject ?? '', tier: picked(leverFields.tier), mode: picked(leverFields.mode), outcome: picked(leverFields.outcome), incident: meta.incident, script });
    if (!parsed.ok) {
      await ack({ response_action: 'errors', errors: { [script ? leverFields.script : leverFields.outcome]: parsed.message.slice(0, 150) } });
      return;
    }
    try {
      const { ref, tier, mode, outcome, incident } = parsed.command;
      const result = await recordLever(db, found.meeting, actor, { subject: ref, tier, mode, outcome, script: parsed.command.script, incident }, clock.now(), `slack:view:${view.id}`);
      if (!result.ok) {
        const field = /script/i.test(result.message) ? leverFields.script : /tier/i.test(result.message) ? leverFields.tier : leverFields.outcome;
        await ack({ response_action: 'errors', errors: { [field]: result.message.slice(0, 150) } });
        return;
      }
      await ack();
      if (!result.repeated) {
        const reply = await handleThreadReply(found.meeting, { visibility: 'meeting', text: result.message, ...(result.victimAction ? { actions: [result.victimAction] } : {}) });
        await deliver(reply, found.meeting, async () => ({}) as never);
      }
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'record lever form failed');
      await ack({ response_action: 'errors', errors: { [leverFields.outcome]: 'Sorry, that did not work. Nothing was recorded; please try again.' } }).catch(() => {});
    }
  });

  app.view(addActionForm, async ({ ack, body, view }) => {
    const meta = JSON.parse(view.private_metadata || '{}') as { meeting?: string };
    const found = await place(body.team?.id, undefined, meta.meeting);
    const actor = await actorFor(body.user.id);
    if (!found.meeting || !isMember(actor)) {
      await refuse(db, actor, meta.meeting ?? '', found.refusal ?? 'not a member: add action form');
      await ack({ response_action: 'errors', errors: { [fields.text]: found.refusal ?? 'Only members of this meeting can record actions.' } });
      return;
    }
    const values = view.state.values;
    const request = {
      subject: values[fields.subject]?.value?.value ?? '',
      ownerUserId: values[fields.owner]?.value?.selected_user ?? '',
      due: values[fields.due]?.value?.selected_date ?? '',
      text: values[fields.text]?.value?.value ?? '',
    };
    try {
      // The form's errors must travel in the acknowledgement, so the (quick) work comes first.
      const result = await recordAction(db, found.meeting, actor, request, clock.now(), `slack:view:${view.id}`);
      if (!result.ok) {
        const errors: Record<string, string> = {};
        for (const [field, message] of Object.entries(result.problems as ActionProblems)) errors[fields[field as keyof typeof fields]] = message.slice(0, 150);
        await ack({ response_action: 'errors', errors });
        return;
      }
      await ack();
      if (result.created) {
        const meeting = found.meeting;
        const reply = await handleThreadReply(meeting, { visibility: 'meeting', text: `Action ${result.action.id} recorded.`, actions: [result.action] });
        await deliver(reply, meeting, async () => ({}) as never);
      }
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'add action form failed');
      await ack({ response_action: 'errors', errors: { [fields.text]: 'Sorry, that did not work. Nothing was recorded; please try again.' } }).catch(() => {});
    }
  });

  const handleThreadReply = async (meeting: Meeting, reply: Reply): Promise<Reply> => {
    const threadRef = await agendaThreadOf(db.prisma, meeting.key, localDateOf(clock.now(), meeting.timeZone));
    return threadRef ? { ...reply, threadRef } : reply;
  };

  /** A button on an action card runs the same command as typing it would. */
  const buttonCommand = (text: (id: string) => string) =>
    async ({ ack, body, action, respond }: { ack: () => Promise<void>; body: { team: { id: string } | null; channel?: { id: string }; user: { id: string } }; action: unknown; respond: RespondFn }) => {
      await ack();
      try {
        const id = (action as { value?: string }).value ?? '';
        const found = await placeOfActionButton(body.team?.id, body.channel?.id, id);
        const actor = await actorFor(body.user.id);
        if (!found.meeting) {
          await refuse(db, actor, `slack:${body.channel?.id ?? ''}`, found.refusal);
          await respond({ response_type: 'ephemeral', replace_original: false, text: found.refusal });
          return;
        }
        const reply = await handleCommand(db, { meeting: found.meeting, actor, now: clock.now(), directory }, text(id));
        await deliver(reply, found.meeting, respond);
      } catch (error) {
        await failed(error, respond, 'action button');
      }
    };
  app.action(actionDoneId, buttonCommand((id) => `action done ${id}`));

  app.action(actionUpdateId, async ({ ack, body, action, respond, client }) => {
    await ack();
    try {
      const found = await placeOfActionButton(body.team?.id, body.channel?.id, (action as { value?: string }).value ?? '');
      const actor = await actorFor(body.user.id);
      if (!found.meeting || !isMember(actor)) {
        await refuse(db, actor, `slack:${body.channel?.id ?? ''}`, found.refusal ?? 'not a member: update form');
        await respond({ response_type: 'ephemeral', replace_original: false, text: found.refusal ?? "Sorry, only members of this meeting can use dmm-bot. Ask the meeting's chair to add you." });
        return;
      }
      await client.views.open({ trigger_id: (body as { trigger_id: string }).trigger_id, view: updateActionView(found.meeting, (action as { value?: string }).value ?? '') });
    } catch (error) {
      await failed(error, respond, 'update button');
    }
  });

  app.view(updateActionForm, async ({ ack, body, view }) => {
    const meta = JSON.parse(view.private_metadata || '{}') as { meeting?: string; id?: string };
    const found = await place(body.team?.id, undefined, meta.meeting);
    const note = view.state.values[fields.note]?.value?.value ?? '';
    if (!found.meeting) {
      await ack({ response_action: 'errors', errors: { [fields.note]: found.refusal } });
      return;
    }
    try {
      const actor = await actorFor(body.user.id);
      // A form submitted twice carries the same view id: the note is recorded once.
      const already = await db.prisma.auditEvent.findFirst({ where: { action: 'form.update', subject: view.id } });
      if (already) {
        await ack();
        return;
      }
      const reply = await handleCommand(db, { meeting: found.meeting, actor, now: clock.now() }, `action update ${meta.id ?? ''} ${note}`);
      if (reply.visibility === 'private') {
        await ack({ response_action: 'errors', errors: { [fields.note]: reply.text.slice(0, 150) } });
        return;
      }
      await appendAudit(db.prisma, { actor: actor.id, action: 'form.update', subject: view.id, channel: found.meeting.key });
      await ack();
      await deliver(reply, found.meeting, async () => ({}) as never);
    } catch (error) {
      log.error({ err: { message: (error as Error)?.message } }, 'update form failed');
      await ack({ response_action: 'errors', errors: { [fields.note]: 'Sorry, that did not work. Nothing was changed; please try again.' } }).catch(() => {});
    }
  });

  return {
    chat,
    async start() {
      await app.init();
      if (socketMode) await app.start();
    },
    async stop() {
      if (socketMode) await app.stop();
      await work.drain();
    },
  };
}

// The Slack adapter: a Bolt app that receives `/dmm` commands and button clicks (over HTTP at
// /slack/events, or Socket Mode) and answers through the same use cases as every other chat.
import { App, ExpressReceiver, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { handleCommand } from '../../app/handle-command.js';
import type { Meeting } from '../../domain/meeting.js';
import type { Clock, Reply } from '../../ports.js';
import { appendAudit } from '../../store/audit.js';
import type { Database } from '../../store/database.js';
import { addActionId, agendaMessages, type SlackMessagePayload } from './agenda-blocks.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { SlackChat, slackClientOptions } from './slack-chat.js';

export interface SlackSettings {
  botToken: string;
  signingSecret?: string | undefined;
  appToken?: string | undefined;
  apiUrl?: string | undefined;
  teamIds: string[];
}

export interface SlackAdapter {
  chat: SlackChat;
  start(): Promise<void>;
  stop(): Promise<void>;
}

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

/** Slack messages for a reply; an agenda may take several (each answered through response_url). */
function replyMessages(reply: Reply): SlackMessagePayload[] {
  if (reply.kind === 'text') return [{ text: escapeMrkdwn(reply.text), blocks: [] }];
  return agendaMessages(reply.agenda, { late: false }).map((m) => m.payload as SlackMessagePayload);
}

export function createSlackAdapter(
  settings: SlackSettings,
  meetings: Meeting[],
  deps: { db: Database; clock: Clock; log: Logger; expressApp?: Express },
): SlackAdapter {
  const { db, clock, log } = deps;
  const clientOptions = slackClientOptions(settings.apiUrl);
  const logger = boltLogger(log);
  const socketMode = settings.appToken !== undefined;
  const receiver =
    !socketMode && deps.expressApp
      ? new ExpressReceiver({ signingSecret: settings.signingSecret ?? '', app: deps.expressApp, endpoints: '/slack/events', logger })
      : undefined;
  const app = new App({
    token: settings.botToken,
    logger,
    clientOptions,
    deferInitialization: true,
    ...(socketMode ? { socketMode: true, appToken: settings.appToken } : receiver ? { receiver } : { signingSecret: settings.signingSecret }),
  });
  const chat = new SlackChat({ token: settings.botToken, apiUrl: settings.apiUrl }, app.client);

  const refuse = async (actor: string, channel: string, why: string) => {
    await db.prisma.$transaction((tx) => appendAudit(tx, { actor, action: 'refused', channel, reason: why }));
  };

  app.command('/dmm', async ({ command, ack, respond }) => {
    const actor = `slack:${command.user_id}`;
    if (settings.teamIds.length > 0 && !settings.teamIds.includes(command.team_id)) {
      await ack({ response_type: 'ephemeral', text: 'dmm-bot is not set up for this workspace.' });
      await refuse(actor, `slack:${command.channel_id}`, `workspace ${command.team_id} is not configured`);
      return;
    }
    const meeting = meetings.find((m) => m.channel === command.channel_id);
    if (!meeting) {
      await ack({ response_type: 'ephemeral', text: "dmm-bot answers only in its meeting's channel." });
      await refuse(actor, `slack:${command.channel_id}`, 'not a meeting channel');
      return;
    }
    // Acknowledge within Slack's 3 seconds; the answer follows through response_url.
    await ack();
    try {
      const reply = await handleCommand(db, { meeting, actor, now: clock.now() }, command.text);
      for (const message of replyMessages(reply)) {
        await respond({ response_type: reply.ephemeral ? 'ephemeral' : 'in_channel', text: message.text, ...(message.blocks.length ? { blocks: message.blocks } : {}) });
      }
    } catch (error) {
      log.error({ err: { message: (error as Error).message }, meeting: meeting.key }, 'command failed');
      await respond({ response_type: 'ephemeral', text: 'Sorry, that did not work and nothing was changed. Please try again.' });
    }
  });

  app.action(new RegExp(`^${addActionId}`), async ({ ack, respond }) => {
    await ack();
    await respond({ response_type: 'ephemeral', replace_original: false, text: 'The action form is not available in this version of dmm-bot yet.' });
  });

  return {
    chat,
    async start() {
      await app.init();
      if (socketMode) await app.start();
    },
    async stop() {
      if (socketMode) await app.stop();
    },
  };
}

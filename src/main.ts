// Wiring only: opens the store, serves the HTTP endpoints, connects each meeting's chat platform,
// and schedules the agendas.
import type { Server } from 'node:http';
import os from 'node:os';
import { instanceName } from './scheduler/instance-name.js';
import express from 'express';
import type { Logger } from 'pino';
import { actorOf } from './app/actor.js';
import { handleCommand } from './app/handle-command.js';
import { postAgenda } from './app/post-agenda.js';
import type { RetryPolicy } from './app/deliver.js';
import { ConsoleChat, readConsoleCommands } from './chat/console/console-chat.js';
import { createSlackAdapter, type SlackAdapter } from './chat/slack/slack-app.js';
import { harmSettingsOf, meetingsOf, reminderPolicyOf, scoringSettingsOf, teamsTokenUrlOf, type Config } from './config.js';
import { createTeamsAdapter, type TeamsSettings } from './chat/teams/teams-app.js';
import { runReminders } from './app/send-reminders.js';
import { startReminderSchedule } from './scheduler/reminder-scheduler.js';
import type { ChatPlatformName, Meeting } from './domain/meeting.js';
import { ingestRouter } from './ingest/http-api.js';
import type { ChatPlatform, Clock } from './ports.js';
import { startAgendaScheduler, type AgendaScheduler } from './scheduler/agenda-scheduler.js';
import { clockStartingAt, systemClock } from './scheduler/clock.js';
import { openDatabase, type Database } from './store/database.js';
import { ensureChairs, parseChairIds } from './store/members.js';

export interface RunningBot {
  db: Database;
  server: Server;
  port: number;
  meetings: Meeting[];
  scheduler: AgendaScheduler;
  stop(): Promise<void>;
}

export interface BotOptions {
  clock?: Clock;
  input?: NodeJS.ReadableStream & import('node:stream').Readable;
  output?: import('node:stream').Writable;
  retry?: RetryPolicy;
}

/** dmm-bot's own HTTP endpoints; the chat platforms' receivers join them on the same port. */
export function httpApp(db: Database, config: Pick<Config, 'DMM_INGEST_TOKEN'>, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(ingestRouter(db, config.DMM_INGEST_TOKEN, log));
  return app;
}

export function teamsSettingsOf(config: Config): TeamsSettings {
  if (!config.TEAMS_CLIENT_ID || !config.TEAMS_CLIENT_SECRET || !config.TEAMS_TENANT_ID) {
    throw new Error('a Teams meeting is configured without TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET and TEAMS_TENANT_ID');
  }
  return {
    clientId: config.TEAMS_CLIENT_ID,
    clientSecret: config.TEAMS_CLIENT_SECRET,
    tenantId: config.TEAMS_TENANT_ID,
    serviceUrl: config.TEAMS_SERVICE_URL,
    openIdMetadataUrl: config.TEAMS_OPENID_METADATA_URL,
    tokenUrl: teamsTokenUrlOf(config),
  };
}

export async function startBot(config: Config, log: Logger, options: BotOptions = {}): Promise<RunningBot> {
  const meetings = meetingsOf(config);
  const clock = options.clock ?? (config.DMM_NOW ? clockStartingAt(config.DMM_NOW) : systemClock);
  const output = options.output ?? process.stdout;
  const db = await openDatabase(config);
  await ensureChairs(db.prisma, parseChairIds(config.DMM_CHAIRS));
  const stops: Array<() => Promise<void> | void> = [() => db.close()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const scoring = scoringSettingsOf(config);
    const trialSettings = { scoring, harm: harmSettingsOf(config, scoring) };
    const app = httpApp(db, config, log);
    const platforms = new Map<ChatPlatformName, ChatPlatform>();

    let slack: SlackAdapter | undefined;
    if (meetings.some((m) => m.platform === 'slack') && config.SLACK_BOT_TOKEN) {
      slack = createSlackAdapter(
        {
          botToken: config.SLACK_BOT_TOKEN,
          signingSecret: config.SLACK_SIGNING_SECRET,
          appToken: config.SLACK_APP_TOKEN,
          apiUrl: config.SLACK_API_URL,
          teamIds: config.SLACK_TEAM_IDS,
          concurrency: config.DMM_DB_POOL_SIZE,
        },
        meetings.filter((m) => m.platform === 'slack'),
        { db, clock, log, expressApp: app, trialSettings },
      );
      await slack.start();
      stops.push(() => slack?.stop());
      platforms.set('slack', slack.chat);
    }

    if (meetings.some((m) => m.platform === 'teams')) {
      const teams = createTeamsAdapter(teamsSettingsOf(config), meetings, { db, clock, log, expressApp: app, trialSettings });
      await teams.start();
      stops.push(() => teams.stop());
      platforms.set('teams', teams.chat);
    }

    const consoleMeeting = meetings.find((m) => m.platform === 'console');
    if (consoleMeeting) {
      const consoleChat = new ConsoleChat(output);
      platforms.set('console', consoleChat);
      const actor = actorOf('console', os.userInfo().username, null);
      const stopReading = readConsoleCommands(options.input ?? process.stdin, output, async (text) => {
        try {
          return consoleChat.renderReply(await handleCommand(db, { meeting: consoleMeeting, actor, now: clock.now(), trialSettings }, text));
        } catch (error) {
          log.error({ err: { message: (error as Error)?.message } }, 'console command failed');
          throw error;
        }
      });
      stops.push(stopReading);
    }

    app.use((_req, res) => {
      res.status(404).json({ error: 'Not found.' });
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.PORT, '0.0.0.0');
      s.once('listening', () => resolve(s));
      s.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new Error(`Port ${config.PORT} is already in use: set PORT to a free port.`) : error),
      );
    });
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;

    const instanceId = instanceName();
    const scheduler = startAgendaScheduler(
      meetings,
      (meeting, day) => {
        const chat = platforms.get(meeting.platform);
        if (!chat) throw new Error(`no chat platform for ${meeting.key}`);
        return postAgenda({ db, chat, clock, log, instanceId, ...(options.retry ? { retry: options.retry } : {}) }, meeting, day);
      },
      clock,
      log,
    );
    stops.push(() => scheduler.stop());
    const reminders = startReminderSchedule(
      () => runReminders({ db, chats: platforms, clock, log, instanceId, policy: reminderPolicyOf(config) }, meetings.filter((m) => platforms.has(m.platform))),
      log,
    );
    stops.push(() => reminders.stop());
    log.info({ port, store: db.kind, meetings: meetings.map((m) => m.key) }, 'dmm-bot started');
    // An agenda missed while the bot was down goes out now, marked late; reminders catch up too.
    await scheduler.tick();
    void reminders.tick();
    return { db, server, port, meetings, scheduler, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

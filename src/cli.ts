// The `dmm` command line: run the bot, migrate the store, import records, seed demo data.
import { readFileSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { Command, CommanderError } from 'commander';
import { actorOf } from './app/actor.js';
import { buildAgenda } from './app/build-agenda.js';
import { handleCommand } from './app/handle-command.js';
import { postAgenda, type PostAgendaOutcome } from './app/post-agenda.js';
import { ConsoleChat } from './chat/console/console-chat.js';
import { ConfigError, environmentWithDotenv, leverSettingsOf, loadConfig, meetingsOf, reminderPolicyOf, scoringSettingsOf, type Config } from './config.js';
import { planFor, runReminders } from './app/send-reminders.js';
import { agendaAsJson } from './domain/agenda.js';
import { formatLocalDay, renderAgendaText } from './domain/agenda-text.js';
import { agendaWindowContaining, localDateOf } from './domain/agenda-window.js';
import { isLocalDate } from './domain/calendar.js';
import { calendarOf, type Meeting } from './domain/meeting.js';
import type { ChatPlatform } from './ports.js';
import { clockStartingAt, systemClock } from './scheduler/clock.js';
import { appendAudit, verifyAuditChain } from './store/audit.js';
import { exportAudit } from './app/export-audit.js';
import { logger } from './logger.js';
import { importRecordsFile, type RecordType } from './app/import-records.js';
import { seedDemo, StoreNotEmptyError } from './app/seed-demo.js';
import { demoTrueRatio, seedTrial } from './app/seed-trial.js';
import { ImportFileError } from './ingest/csv-import.js';
import { instanceName } from './scheduler/instance-name.js';
import { manifestVersion, teamsAppPackage } from './chat/teams/app-package.js';
import { migratePostgres, StoreError, type Database } from './store/database.js';
import { cliActor, instantOption, meetingOf, settings, UsageError, withDatabase } from './cli-support.js';
import { addTrialCommands } from './cli-trial.js';
import { TrialRefusal } from './app/trial-errors.js';
import { ReportFolderError } from './report/write-report.js';

/** Errors whose message is written for the person at the terminal. */
const userErrors = [ConfigError, StoreError, ImportFileError, StoreNotEmptyError, UsageError, TrialRefusal, ReportFolderError];
import { createMigration, pendingSchemaChanges } from './store/migrations.js';

function buildProgram(): Command {
  const program = new Command('dmm')
    .description('dmm-bot: the Daily Management Meeting bot for multi-agency domestic-abuse meetings')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('start')
    .description('run the bot (HTTP endpoints on PORT; embedded database unless DATABASE_URL is set)')
    .action(async () => {
      const config = settings();
      // On the console, the person at the terminal reads the meeting's output, not the bot's routine log.
      if (!config.DMM_CHANNEL && !config.DMM_MEETINGS_FILE && !environmentWithDotenv().LOG_LEVEL) logger.level = 'warn';
      // The chat SDKs and the web server load here, not for every command: `dmm import` stays lean.
      const { startBot } = await import('./main.js');
      const bot = await startBot(config, logger);
      const where = bot.db.kind === 'embedded' ? `embedded database in ${bot.db.location}` : `PostgreSQL at ${bot.db.location}`;
      const channels = bot.meetings.map((m) => (m.platform === 'console' ? 'the console' : `${m.platform} channel ${m.channel}`)).join(', ');
      process.stdout.write(`dmm-bot is running on port ${bot.port} (${where}), posting agendas to ${channels}. Press Ctrl+C to stop.\n`);
      const consoleMeeting = bot.meetings.find((m) => m.platform === 'console');
      if (consoleMeeting) {
        const agenda = await nextAgendaSoFar(bot.db, consoleMeeting, config.DMM_NOW ? clockStartingAt(config.DMM_NOW).now() : new Date());
        process.stdout.write(`\nThe next meeting's agenda so far (it is posted here at ${consoleMeeting.time} on working days):\n${renderAgendaText(agenda)}\n\nType /dmm help for commands.\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await bot.stop();
    });

  const migrate = program
    .command('migrate')
    .description('apply pending migrations to the database (PostgreSQL: run before `dmm start`)')
    .action(async () => {
      const config = settings();
      if (config.DATABASE_URL) {
        const applied = await migratePostgres(config.DATABASE_URL);
        process.stdout.write(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'The database is up to date.\n');
      } else {
        await withDatabase(config, async (db) => {
          process.stdout.write(`The embedded database in ${db.location} is up to date (it migrates itself on start).\n`);
        });
      }
    });
  migrate
    .command('create <name>')
    .description('developers: write a new migration from the changes to prisma/schema.prisma')
    .action(async (name: string) => {
      const dir = await createMigration(name);
      process.stdout.write(dir ? `Wrote ${dir}/migration.sql\n` : 'prisma/schema.prisma and the migrations agree: nothing to write.\n');
    });
  migrate
    .command('check')
    .description('exit non-zero if prisma/schema.prisma and prisma/migrations disagree')
    .action(async () => {
      const pending = await pendingSchemaChanges();
      if (pending.trim()) {
        process.stdout.write(`The schema has changes no migration holds:\n${pending}\nRun \`npm run db:migration -- <name>\`.\n`);
        process.exitCode = 1;
      } else {
        process.stdout.write('The schema and the migrations agree.\n');
      }
    });

  program
    .command('agenda')
    .description("print a meeting's agenda for a working day (default: today in the meeting's time zone)")
    .option('--date <YYYY-MM-DD>', 'the meeting day')
    .option('--json', 'print the agenda model as JSON')
    .option('--post', "post it to the meeting's channel (once per meeting and day)")
    .option('--meeting <key>', 'the meeting, by key (default: every configured meeting)')
    .action(async (options: { date?: string; json?: boolean; post?: boolean; meeting?: string }) => {
      const config = settings();
      const code = await withDatabase(config, (db) => agendaCommand(db, config, options));
      process.exitCode = code;
    });

  program
    .command('panel')
    .description('schedule panels as the /dmm panel commands do: add <date> <time> <kind> [title], add every <pattern> <time> <kind> [title], list, cancel <id>')
    .argument('<words...>', 'the panel command, e.g. add 2026-03-10 10:00 monthly-review')
    .option('--meeting <key>', 'the meeting, by key (default: the first configured meeting)')
    .action(async (words: string[], options: { meeting?: string }) => {
      const config = settings();
      const meeting = meetingOf(config, options.meeting);
      const reply = await withDatabase(config, (db) =>
        handleCommand(db, { meeting, actor: actorOf('console', os.userInfo().username, null), now: (config.DMM_NOW ? clockStartingAt(config.DMM_NOW) : systemClock).now() }, `panel ${words.join(' ')}`),
      );
      (reply.problem ? process.stderr : process.stdout).write(`${reply.text}\n`);
      if (reply.problem) process.exitCode = 1;
    });

  const reminders = program.command('reminders').description('reminders before panels and about overdue actions');
  const nowOption = (value: string) => instantOption('--now', value);
  reminders
    .command('plan')
    .description('print the reminders that are due at an instant, without sending anything')
    .option('--now <ISO>', 'the instant (default: now)')
    .action(async (options: { now?: string }) => {
      const config = settings();
      const now = options.now ? nowOption(options.now) : new Date();
      await withDatabase(config, async (db) => {
        for (const meeting of meetingsOf(config)) {
          const plan = await planFor(db, meeting, now, reminderPolicyOf(config));
          process.stdout.write(`${meeting.key} at ${now.toISOString()}: ${plan.length} reminder(s)\n`);
          for (const r of plan) process.stdout.write(`  ${r.key}: ${r.kind} to member ${r.recipientId}, actions ${r.actionIds.map((id) => `A-${id}`).join(', ')}\n`);
        }
      });
    });
  reminders
    .command('run')
    .description('send the reminders due at an instant (what the schedule runs every minute)')
    .option('--now <ISO>', 'the instant (default: now)')
    .action(async (options: { now?: string }) => {
      const config = settings();
      const now = options.now ? nowOption(options.now) : undefined;
      const clock = now ? clockStartingAt(now) : config.DMM_NOW ? clockStartingAt(config.DMM_NOW) : systemClock;
      const summary = await withDatabase(config, async (db) => {
        const meetings = meetingsOf(config);
        const chats = new Map<string, ChatPlatform>();
        for (const meeting of meetings) if (!chats.has(meeting.platform)) chats.set(meeting.platform, await chatFor(meeting, config, db));
        return runReminders({ db, chats, clock, log: logger, instanceId: instanceName(), policy: reminderPolicyOf(config) }, meetings);
      });
      process.stdout.write(`Reminders: ${summary.planned} due, ${summary.enqueued} new, ${summary.sent} sent, ${summary.retried} to retry, ${summary.failed} failed.\n`);
      if (summary.failed > 0) process.exitCode = 1;
    });
  reminders
    .command('status')
    .description('reminders by status, and the ones that failed')
    .action(async () => {
      const config = settings();
      await withDatabase(config, async (db) => {
        const counts = await db.prisma.outboxMessage.groupBy({ by: ['status'], _count: { _all: true } });
        const line = ['pending', 'claimed', 'sent', 'failed'].map((s) => `${s} ${counts.find((c) => c.status === s)?._count._all ?? 0}`).join(', ');
        process.stdout.write(`Reminders: ${line}\n`);
        const failed = await db.prisma.outboxMessage.findMany({ where: { status: 'failed' }, orderBy: { id: 'asc' }, take: 100 });
        for (const f of failed) process.stdout.write(`  failed: ${f.key} (to member ${f.recipient}, ${f.attempts} attempt(s)): ${f.lastError ?? ''}\n`);
      });
    });

  program
    .command('teams')
    .description('Microsoft Teams')
    .command('package')
    .description('write the Teams app package (manifest.json and icons, validated against Microsoft\'s schema) for a Teams admin to upload')
    .option('--out <file>', 'where to write the zip', 'dmm-bot-teams.zip')
    .action(async (options: { out: string }) => {
      const config = settings();
      if (!config.TEAMS_CLIENT_ID) throw new UsageError('TEAMS_CLIENT_ID must be set: the package names the bot by its Microsoft app id.');
      if (!config.DMM_PUBLIC_URL) throw new UsageError('DMM_PUBLIC_URL must be set: the https:// address that serves the bot (its valid domain).');
      const existing = await stat(options.out).catch(() => undefined);
      if (existing?.isDirectory()) throw new UsageError(`--out ${options.out} is a folder; name a file such as dmm-bot-teams.zip.`);
      const result = await teamsAppPackage({ botId: config.TEAMS_CLIENT_ID, publicUrl: config.DMM_PUBLIC_URL, name: 'dmm-bot', version: packageVersion() });
      if (!result.validation.ok) throw new UsageError(`The manifest does not validate: ${result.validation.errors.join('; ')}`);
      await writeFile(options.out, result.zip);
      process.stdout.write(`Wrote ${options.out} (manifest v${manifestVersion}, validated against Microsoft's schema). Upload it in the Teams admin centre: Teams apps → Manage apps → Upload new app.\n`);
    });

  const audit = program.command('audit').description('the audit trail, for information governance');
  audit
    .command('verify')
    .description('check the hash chain of the audit trail; report the first broken link')
    .action(async () => {
      const config = settings();
      const result = await withDatabase(config, (db) => verifyAuditChain(db.prisma));
      if (result.ok) {
        process.stdout.write(`The audit trail is intact: ${result.events} events, every link checked.\n`);
      } else {
        process.stdout.write(`The audit trail is BROKEN${result.brokenAt === undefined ? '' : ` at event ${result.brokenAt}`}: ${result.problem}.\n`);
        process.exitCode = 1;
      }
    });
  audit
    .command('export')
    .description('write the audit trail as CSV (to standard output, or --out FILE)')
    .requiredOption('--since <YYYY-MM-DD>', 'the first day to export')
    .option('--out <file>', 'write to this file instead of standard output')
    .requiredOption('--reason <text>', 'why the trail is exported (recorded in the trail)')
    .action(async (options: { since: string; out?: string; reason: string }) => {
      if (!isLocalDate(options.since)) throw new UsageError(`--since must be a date as YYYY-MM-DD, not "${options.since}"`);
      const config = settings();
      const count = await withDatabase(config, (db) => exportAudit(db, new Date(`${options.since}T00:00:00Z`), options.out, cliActor(), options.reason));
      process.stderr.write(`Exported ${count} audit events since ${options.since}${options.out ? ` to ${options.out}` : ''}.\n`);
    });

  const importCommand = program.command('import').description('load records from a CSV export of the records system');
  const importOf = (type: RecordType, columns: string) =>
    importCommand
      .command(`${type} <file>`)
      .description(`import ${type} from a CSV file (${columns}); rejected rows go to <file>.rejects.csv`)
      .action(async (file: string) => {
        const config = settings();
        const summary = await withDatabase(config, (db) =>
          importRecordsFile(db, type, file, cliActor(), { showProgress: process.stderr.isTTY === true }),
        );
        process.stdout.write(
          `${type}: inserted ${summary.inserted}, updated ${summary.updated}, unchanged ${summary.unchanged}, rejected ${summary.rejected}\n`,
        );
        if (summary.rejectsFile) {
          process.stdout.write(`Rejected rows, with their line numbers and reasons: ${summary.rejectsFile}\n`);
          process.exitCode = 1;
        }
      });
  importOf('incidents', 'source_ref,reported_at,occurred_at,risk_level,category,area,perpetrator_ref,victim_ref,children_present[,source_system,risk_tool,prof_judgement,crime]');
  importOf('flags', 'perpetrator_ref,kind,note,starts_on,ends_on');
  importOf('contacts', 'source_ref,victim_ref,contacted_at,perceived_risk (0-10),agency: victim contacts of the support service');

  program
    .command('seed')
    .description('fill the store with synthetic, obviously fictional data')
    .option('--demo', 'demo data in an empty store: two weeks of incidents, flags, members, actions, a panel')
    .option('--trial', 'a demo trial with a known effect (treatment at 0.6 times control), on top of the demo data (seeded first if the store is empty)')
    .action(async (options: { demo?: boolean; trial?: boolean }) => {
      if (!options.demo && !options.trial) throw new UsageError('say what to seed: --demo, --trial, or both');
      const config = settings();
      const meeting = meetingsOf(config)[0]!;
      await withDatabase(config, async (db) => {
        const empty = (await db.prisma.incident.count()) === 0 && (await db.prisma.member.count()) === 0;
        if (options.demo || (options.trial && empty)) {
          const summary = await seedDemo(db, cliActor(), meeting.key);
          process.stdout.write(`Demo data: ${summary.incidents} incidents, ${summary.flags} flags, ${summary.members} members, ${summary.actions} open actions, ${summary.panels} panel.\n`);
        }
        if (options.trial) {
          const clock = config.DMM_NOW ? clockStartingAt(config.DMM_NOW) : systemClock;
          const today = localDateOf(clock.now(), meeting.timeZone);
          const summary = await seedTrial(db, { scoring: scoringSettingsOf(config), levers: leverSettingsOf(config), timeZone: meeting.timeZone }, today, cliActor());
          process.stdout.write(
            `Demo trial "${summary.trial}": ${summary.enrolled} perpetrators enrolled on ${summary.enrolledOn} and randomised, ${summary.incidents} incidents, ` +
              `${summary.contacts} victim contacts, ${summary.exits} exits; the treatment arm's true rate ratio is ${demoTrueRatio}.\n` +
              `See it: dmm report outcomes ${summary.trial} --out report --reason demo\n`,
          );
        }
      });
    });

  addTrialCommands(program);
  return program;
}

async function nextAgendaSoFar(db: Database, meeting: Meeting, now: Date) {
  const window = agendaWindowContaining(now, meeting, calendarOf(meeting));
  return buildAgenda(db, meeting, window.meetingDate);
}

async function agendaCommand(db: Database, config: Config, options: { date?: string; json?: boolean; post?: boolean; meeting?: string }): Promise<number> {
  const all = meetingsOf(config);
  const meetings = options.meeting ? all.filter((m) => m.key === options.meeting) : all;
  if (meetings.length === 0) throw new UsageError(`No meeting ${options.meeting}; configured: ${all.map((m) => m.key).join(', ')}`);
  if (options.date !== undefined && !isLocalDate(options.date)) throw new UsageError(`--date must be a date as YYYY-MM-DD, not "${options.date}"`);
  const clock = config.DMM_NOW ? clockStartingAt(config.DMM_NOW) : systemClock;
  let code = 0;
  const json: unknown[] = [];
  for (const meeting of meetings) {
    const day = options.date ?? localDateOf(clock.now(), meeting.timeZone);
    const calendar = calendarOf(meeting);
    if (!calendar.isWorkingDay(day)) {
      process.stderr.write(`${formatLocalDay(day)} is not a working day for ${meeting.name} (${calendar.bankHoliday(day) ?? 'weekend'}); the next working day is ${formatLocalDay(calendar.nextWorkingDay(day))} (${calendar.nextWorkingDay(day)}).\n`);
      code = 1;
      continue;
    }
    if (options.post) {
      const chat = await chatFor(meeting, config, db);
      const outcome = await postAgenda({ db, chat, clock, log: logger, instanceId: instanceName() }, meeting, day);
      const messages: Record<PostAgendaOutcome['outcome'], string> = {
        posted: `Posted the agenda for ${day} to ${meeting.key}.`,
        'already-posted': `The agenda for ${day} was already posted to ${meeting.key}; nothing was sent.`,
        'in-progress': `Another dmm process is posting the agenda for ${day} to ${meeting.key} right now; nothing was sent.`,
        'not-due': `The agenda for ${day} cannot be posted before its meeting time (${meeting.time} ${meeting.timeZone}): incidents reported until then belong on it. Nothing was sent.`,
        failed: `Could not post the agenda for ${day} to ${meeting.key}: ${outcome.outcome === 'failed' ? outcome.reason : ''}. It will be retried.`,
      };
      const problem = outcome.outcome === 'failed' || outcome.outcome === 'not-due';
      (problem ? process.stderr : process.stdout).write(`${messages[outcome.outcome]}\n`);
      if (problem) code = 1;
      continue;
    }
    const agenda = await buildAgenda(db, meeting, day);
    await appendAudit(db.prisma, { actor: cliActor(), action: 'agenda.view', subject: day, channel: 'cli', reason: 'dmm agenda', details: { meeting: meeting.key } });
    if (options.json) json.push(agendaAsJson(agenda));
    else process.stdout.write(`${renderAgendaText(agenda)}\n\n`);
  }
  if (options.json && json.length > 0) process.stdout.write(`${JSON.stringify(json.length === 1 ? json[0] : json, null, 2)}\n`);
  return code;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function chatFor(meeting: Meeting, config: Config, db: Database): Promise<ChatPlatform> {
  if (meeting.platform === 'slack' && config.SLACK_BOT_TOKEN) {
    const { SlackChat } = await import('./chat/slack/slack-chat.js');
    return new SlackChat({ token: config.SLACK_BOT_TOKEN, apiUrl: config.SLACK_API_URL });
  }
  if (meeting.platform === 'console') return new ConsoleChat(process.stdout);
  if (meeting.platform === 'teams') {
    const [{ createTeamsAdapter }, { teamsSettingsOf }, { default: express }] = await Promise.all([
      import('./chat/teams/teams-app.js'),
      import('./main.js'),
      import('express'),
    ]);
    // Sending only: the adapter's inbound routes sit on an app that never listens.
    const teams = createTeamsAdapter(teamsSettingsOf(config), [meeting], { db, clock: systemClock, log: logger, expressApp: express() });
    await teams.start();
    return teams.chat;
  }
  throw new UsageError(`No credentials for ${meeting.platform}: cannot post to ${meeting.key}`);
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (userErrors.some((type) => error instanceof type)) {
      process.stderr.write(`dmm: ${(error as Error).message}\n`);
      return 1;
    }
    // Not the user's doing: one line for them, the detail in the log.
    logger.error({ err: error }, 'unexpected error');
    process.stderr.write(`dmm: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
    return 1;
  }
}

process.exitCode = await runCli(process.argv.slice(2));
// PGlite and the schema engine keep timers alive; the command is done.
process.exit();

// The `dmm` command line: run the bot, migrate the store, import records, seed demo data.
import os from 'node:os';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import { logger } from './logger.js';
import { importRecordsFile, type RecordType } from './app/import-records.js';
import { seedDemo, StoreNotEmptyError } from './app/seed-demo.js';
import { ImportFileError } from './ingest/csv-import.js';
import { startBot } from './main.js';
import { migratePostgres, openDatabase, StoreError, type Database } from './store/database.js';
import { createMigration, pendingSchemaChanges } from './store/migrations.js';

/** Errors whose message is written for the person at the terminal. */
const userErrors = [ConfigError, StoreError, ImportFileError, StoreNotEmptyError];

const cliActor = () => `cli:${os.userInfo().username}`;

async function withDatabase<T>(config: Config, use: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(config);
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

function buildProgram(): Command {
  const program = new Command('dmm')
    .description('dmm-bot: the Daily Management Meeting bot for multi-agency domestic-abuse meetings')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('start')
    .description('run the bot (HTTP endpoints on PORT; embedded database unless DATABASE_URL is set)')
    .action(async () => {
      const config = loadConfig();
      const bot = await startBot(config, logger);
      const where = bot.db.kind === 'embedded' ? `embedded database in ${bot.db.location}` : `PostgreSQL at ${bot.db.location}`;
      process.stdout.write(`dmm-bot is running on port ${bot.port} (${where}). Press Ctrl+C to stop.\n`);
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
      const config = loadConfig();
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

  const importCommand = program.command('import').description('load records from a CSV export of the records system');
  const importOf = (type: RecordType, columns: string) =>
    importCommand
      .command(`${type} <file>`)
      .description(`import ${type} from a CSV file (${columns}); rejected rows go to <file>.rejects.csv`)
      .action(async (file: string) => {
        const config = loadConfig();
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

  program
    .command('seed')
    .description('fill an empty store with data')
    .requiredOption('--demo', 'synthetic, obviously fictional demo data (two weeks of incidents, flags, actions, a panel)')
    .action(async () => {
      const config = loadConfig();
      const summary = await withDatabase(config, (db) => seedDemo(db, cliActor(), 'console'));
      process.stdout.write(
        `Demo data: ${summary.incidents} incidents, ${summary.flags} flags, ${summary.members} members, ${summary.actions} open actions, ${summary.panels} panel.\n`,
      );
    });

  return program;
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

// What every `dmm` subcommand shares: settings, the store, who is at the terminal, and errors meant for them.
import os from 'node:os';
import { loadConfig, meetingsOf, type Config } from './config.js';
import type { Meeting } from './domain/meeting.js';
import { logger } from './logger.js';
import { openDatabase, type Database } from './store/database.js';

/** A mistake in how the command was called. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The configuration, with the log level it sets. */
export function settings(): Config {
  const config = loadConfig();
  logger.level = config.LOG_LEVEL;
  return config;
}

export const cliActor = () => `cli:${os.userInfo().username}`;

export async function withDatabase<T>(config: Config, use: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(config);
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

export function meetingOf(config: Config, key: string | undefined): Meeting {
  const all = meetingsOf(config);
  const meeting = key ? all.find((m) => m.key === key) : all[0];
  if (!meeting) throw new UsageError(`No meeting ${key}; configured: ${all.map((m) => m.key).join(', ')}`);
  return meeting;
}

/** A whole number option, or a usage error naming it. */
export function wholeNumber(name: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${name} must be a whole number, not "${value}"`);
  return Number(value);
}

/** An `--now`/`--at` option: an ISO 8601 instant with an offset or Z, or a usage error naming the option. */
export function instantOption(name: string, value: string): Date {
  const instant = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(instant.getTime())) {
    throw new UsageError(`${name} must be an ISO 8601 instant with an offset or Z, such as 2026-03-02T10:00:00Z, not "${value}"`);
  }
  return instant;
}

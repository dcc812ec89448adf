// Every setting dmm-bot reads, parsed once with zod from the environment (and an optional .env file).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { holidayDivisions } from './domain/calendar.js';
import { meetingKey, type Meeting } from './domain/meeting.js';
import type { ReminderPolicy } from './domain/reminders.js';
import { defaultLeverConfig, leverConfigSchema, type LeverConfig } from './domain/levers.js';
import { defaultScoringConfig, parseScoringConfig, scoringConfigHash, type ScoringConfig } from './domain/scoring.js';

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgresql:' || url.protocol === 'postgres:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be a PostgreSQL URL such as postgresql://user@host:5432/dmm (or unset for the embedded database)');

const emptyAsUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const hhmm = z.string().trim().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time as HH:MM, such as 09:00');
const timeZone = z
  .string()
  .trim()
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: zone });
      return zone.includes('/') || zone === 'UTC';
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/London');
const dateList = z
  .string()
  .transform((value) => value.split(',').map((d) => d.trim()).filter(Boolean))
  .pipe(z.array(z.iso.date({ error: 'must be a comma-separated list of dates as YYYY-MM-DD' })));
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const textList = z.string().transform((value) => value.split(',').map((d) => d.trim()).filter(Boolean));
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const configSchema = z.object({
  DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()),
  DMM_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('./data')),
  DMM_DB_POOL_SIZE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(100).default(10)),
  DMM_INGEST_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().min(24, 'must be at least 24 characters (use a long random secret)').optional(),
  ),
  PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
  DMM_CHANNEL: z.preprocess(emptyAsUndefined, z.string().trim().regex(/^[CG][A-Z0-9]{6,}$/, 'must be a Slack channel id such as C0123ABCDEF (not a #name)').optional()),
  DMM_MEETING_NAME: z.preprocess(emptyAsUndefined, z.string().trim().min(1).max(80).default('Daily Management Meeting')),
  DMM_TIME: z.preprocess(emptyAsUndefined, hhmm.default('09:00')),
  DMM_TIMEZONE: z.preprocess(emptyAsUndefined, timeZone.default('Europe/London')),
  DMM_HOLIDAYS: z.preprocess(
    emptyAsUndefined,
    z.enum(holidayDivisions, { error: `must be one of ${holidayDivisions.join(', ')}` }).default('england-and-wales'),
  ),
  DMM_EXTRA_HOLIDAYS: z.preprocess(emptyAsUndefined, dateList.default([])),
  DMM_NOT_HOLIDAYS: z.preprocess(emptyAsUndefined, dateList.default([])),
  DMM_AREAS: z.preprocess(emptyAsUndefined, textList.default([])),
  DMM_MEETINGS_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  DMM_SCORING_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  DMM_LEVERS_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  DMM_HARM_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  DMM_NOW: z.preprocess(
    emptyAsUndefined,
    z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 instant with an offset or Z' })
      .transform((value) => new Date(value))
      .optional(),
  ),
  DMM_CHAIRS: z.preprocess(
    emptyAsUndefined,
    textList
      .pipe(z.array(z.string().regex(/^((slack:)?[A-Z0-9]{6,}|teams:[0-9a-f-]{36})$/i, 'must list Slack user ids (U0123ABC or slack:U0123ABC) or teams:<AAD object id>')))
      // Teams sends AAD object ids in lower case: a chair's id pasted in capitals must still match.
      .transform((ids) => ids.map((id) => (/^teams:/i.test(id) ? id.toLowerCase() : id)))
      .default([]),
  ),
  DMM_REMIND_DAYS_BEFORE: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .transform((v) => v.split(',').map((d) => d.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^\d{1,2}$/, 'must be comma-separated numbers of working days, such as 5,1').transform(Number)).min(1))
      .default([5, 1]),
  ),
  DMM_NUDGE_EVERY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(30).default(2)),
  DMM_ESCALATE_AFTER: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(60).default(5)),
  DMM_WORKING_HOURS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM-HH:MM, such as 08:00-18:00')
      .refine((v) => v.slice(0, 5) < v.slice(6), 'must end after it starts')
      .default('08:00-18:00'),
  ),
  SLACK_BOT_TOKEN: z.preprocess(emptyAsUndefined, z.string().trim().startsWith('xoxb-', 'must be a bot token starting xoxb-').optional()),
  SLACK_SIGNING_SECRET: z.preprocess(emptyAsUndefined, z.string().trim().min(8, 'must be the app\'s signing secret').optional()),
  SLACK_APP_TOKEN: z.preprocess(emptyAsUndefined, z.string().trim().startsWith('xapp-', 'must be an app-level token starting xapp-').optional()),
  SLACK_API_URL: z.preprocess(emptyAsUndefined, httpUrl.optional()),
  SLACK_TEAM_IDS: z.preprocess(emptyAsUndefined, textList.default([])),
  DMM_TEAMS_CHANNEL: z.preprocess(
    emptyAsUndefined,
    z.string().trim().regex(/^19:[^\s;]+@thread\.(tacv2|skype)$/, "must be a Teams channel's conversation id such as 19:abc…@thread.tacv2").optional(),
  ),
  TEAMS_CLIENT_ID: z.preprocess(emptyAsUndefined, z.string().trim().regex(guidPattern, "must be the bot's Microsoft app (client) id, a GUID").optional()),
  TEAMS_CLIENT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(8, "must be the bot's client secret").optional()),
  TEAMS_TENANT_ID: z.preprocess(emptyAsUndefined, z.string().trim().regex(guidPattern, 'must be the Microsoft 365 tenant id, a GUID').optional()),
  TEAMS_SERVICE_URL: z.preprocess(emptyAsUndefined, httpUrl.default('https://smba.trafficmanager.net/teams/')),
  TEAMS_OPENID_METADATA_URL: z.preprocess(emptyAsUndefined, httpUrl.default('https://login.botframework.com/v1/.well-known/openidconfiguration')),
  TEAMS_TOKEN_URL: z.preprocess(emptyAsUndefined, httpUrl.optional()),
  DMM_PUBLIC_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https$/, error: 'must be the https:// address that serves the bot, such as https://dmm.example.org' }).optional()),
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
}).superRefine((config, ctx) => {
  const slackCredentials = config.SLACK_BOT_TOKEN !== undefined;
  if (slackCredentials && !config.SLACK_SIGNING_SECRET && !config.SLACK_APP_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message: 'is required with SLACK_BOT_TOKEN (or set SLACK_APP_TOKEN for Socket Mode)' });
  }
  if ((config.SLACK_SIGNING_SECRET || config.SLACK_APP_TOKEN) && !slackCredentials) {
    ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'is required with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN' });
  }
  if (config.DMM_CHANNEL && !slackCredentials) {
    ctx.addIssue({ code: 'custom', path: ['DMM_CHANNEL'], message: 'names a Slack channel, so SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are required' });
  }
  if (slackCredentials && !config.DMM_CHANNEL && !config.DMM_MEETINGS_FILE) {
    ctx.addIssue({ code: 'custom', path: ['DMM_CHANNEL'], message: 'is required with SLACK_BOT_TOKEN: the id of the meeting\'s Slack channel' });
  }
  const teamsCredentials = [config.TEAMS_CLIENT_ID, config.TEAMS_CLIENT_SECRET, config.TEAMS_TENANT_ID];
  if (teamsCredentials.some(Boolean) && !teamsCredentials.every(Boolean)) {
    for (const [name, value] of [['TEAMS_CLIENT_ID', config.TEAMS_CLIENT_ID], ['TEAMS_CLIENT_SECRET', config.TEAMS_CLIENT_SECRET], ['TEAMS_TENANT_ID', config.TEAMS_TENANT_ID]] as const) {
      if (!value) ctx.addIssue({ code: 'custom', path: [name], message: 'is required with the other Teams settings (TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET, TEAMS_TENANT_ID)' });
    }
  }
  if (config.DMM_TEAMS_CHANNEL && !teamsCredentials.every(Boolean)) {
    ctx.addIssue({ code: 'custom', path: ['DMM_TEAMS_CHANNEL'], message: 'names a Teams channel, so TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET and TEAMS_TENANT_ID are required' });
  }
  const both = config.DMM_EXTRA_HOLIDAYS.filter((d) => config.DMM_NOT_HOLIDAYS.includes(d));
  if (both.length) ctx.addIssue({ code: 'custom', path: ['DMM_NOT_HOLIDAYS'], message: `lists ${both.join(', ')}, also in DMM_EXTRA_HOLIDAYS` });
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration is not valid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads `.env` from the working directory, if any; real environment variables win. */
export function environmentWithDotenv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Record<string, string | undefined> {
  const file = path.join(cwd, '.env');
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...env };
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`),
  );
}

let loaded: Config | undefined;
export function loadConfig(): Config {
  loaded ??= parseConfig(environmentWithDotenv());
  return loaded;
}

const meetingFileSchema = z.strictObject({
  meetings: z
    .array(
      z.strictObject({
        name: z.string().trim().min(1).max(80),
        platform: z.enum(['slack', 'teams']),
        channel: z.string().trim().min(1).max(200),
        time: hhmm.optional(),
        timeZone: timeZone.optional(),
        holidays: z.enum(holidayDivisions).optional(),
        extraHolidays: z.array(z.iso.date()).optional(),
        notHolidays: z.array(z.iso.date()).optional(),
        areas: z.array(z.string().trim().min(1)).optional(),
      }),
    )
    .min(1, 'must list at least one meeting'),
});

/**
 * The meetings this bot serves: those in DMM_MEETINGS_FILE, else the Slack meeting of DMM_CHANNEL,
 * else the local console channel. Settings a meeting does not give come from DMM_TIME and friends.
 */
export function meetingsOf(config: Config): Meeting[] {
  const defaults = {
    time: config.DMM_TIME,
    timeZone: config.DMM_TIMEZONE,
    holidays: config.DMM_HOLIDAYS,
    holidayOverrides: { extraHolidays: config.DMM_EXTRA_HOLIDAYS, notHolidays: config.DMM_NOT_HOLIDAYS },
    areas: config.DMM_AREAS,
  };
  if (config.DMM_MEETINGS_FILE) {
    const file = config.DMM_MEETINGS_FILE;
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError([`DMM_MEETINGS_FILE: cannot read ${file} as YAML or JSON (${(error as Error).message.split('\n')[0]})`]);
    }
    const result = meetingFileSchema.safeParse(parsed);
    if (!result.success) {
      throw new ConfigError(result.error.issues.map((i) => `DMM_MEETINGS_FILE ${file}: ${i.path.join('.')}: ${i.message}`));
    }
    const meetings = result.data.meetings.map((m) => ({
      key: meetingKey(m.platform, m.channel),
      name: m.name,
      platform: m.platform,
      channel: m.channel,
      time: m.time ?? defaults.time,
      timeZone: m.timeZone ?? defaults.timeZone,
      holidays: m.holidays ?? defaults.holidays,
      holidayOverrides: {
        extraHolidays: m.extraHolidays ?? defaults.holidayOverrides.extraHolidays,
        notHolidays: m.notHolidays ?? defaults.holidayOverrides.notHolidays,
      },
      areas: m.areas ?? defaults.areas,
    }));
    const problems = meetings.flatMap((m, i) => [
      ...(m.platform === 'slack' && !config.SLACK_BOT_TOKEN ? [`DMM_MEETINGS_FILE ${file}: meetings.${i}: a Slack meeting needs SLACK_BOT_TOKEN`] : []),
      ...(m.platform === 'teams' && !config.TEAMS_CLIENT_ID ? [`DMM_MEETINGS_FILE ${file}: meetings.${i}: a Teams meeting needs TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET and TEAMS_TENANT_ID`] : []),
      ...(meetings.findIndex((other) => other.key === m.key) !== i ? [`DMM_MEETINGS_FILE ${file}: meetings.${i}: ${m.key} is listed twice`] : []),
    ]);
    if (problems.length) throw new ConfigError(problems);
    return meetings;
  }
  const meetings: Meeting[] = [];
  if (config.DMM_CHANNEL) {
    meetings.push({ key: meetingKey('slack', config.DMM_CHANNEL), name: config.DMM_MEETING_NAME, platform: 'slack', channel: config.DMM_CHANNEL, ...defaults });
  }
  if (config.DMM_TEAMS_CHANNEL) {
    meetings.push({ key: meetingKey('teams', config.DMM_TEAMS_CHANNEL), name: config.DMM_MEETING_NAME, platform: 'teams', channel: config.DMM_TEAMS_CHANNEL, ...defaults });
  }
  if (meetings.length > 0) return meetings;
  return [{ key: meetingKey('console', 'console'), name: config.DMM_MEETING_NAME, platform: 'console', channel: 'console', ...defaults }];
}

/** The bot's outgoing token endpoint: TEAMS_TOKEN_URL, or the tenant's Microsoft identity platform endpoint. */
export function teamsTokenUrlOf(config: Config): string {
  return config.TEAMS_TOKEN_URL ?? `https://login.microsoftonline.com/${config.TEAMS_TENANT_ID}/oauth2/v2.0/token`;
}

export function reminderPolicyOf(config: Config): ReminderPolicy {
  return {
    daysBeforePanel: config.DMM_REMIND_DAYS_BEFORE,
    nudgeEveryWorkingDays: config.DMM_NUDGE_EVERY,
    escalateAfterWorkingDays: config.DMM_ESCALATE_AFTER,
    workingHours: { start: config.DMM_WORKING_HOURS.slice(0, 5), end: config.DMM_WORKING_HOURS.slice(6) },
  };
}

export interface ScoringSettings {
  config: ScoringConfig;
  hash: string;
  /** Where it came from, for the output: the file, or the shipped illustrative defaults. */
  source: string;
}

function readSettingsFile(setting: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${setting}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
}

/** The scoring configuration of DMM_SCORING_FILE (YAML, or JSON by its .json name), else the illustrative defaults. */
export function scoringSettingsOf(config: Config): ScoringSettings {
  const file = config.DMM_SCORING_FILE;
  if (!file) return { config: defaultScoringConfig, hash: scoringConfigHash(defaultScoringConfig), source: 'the shipped illustrative defaults (set DMM_SCORING_FILE)' };
  const parsed = parseScoringConfig(readSettingsFile('DMM_SCORING_FILE', file), file.toLowerCase().endsWith('.json') ? 'json' : 'yaml');
  if (!parsed.ok) throw new ConfigError(parsed.errors.map((e) => `DMM_SCORING_FILE ${file}: ${e}`));
  return { config: parsed.config, hash: parsed.hash, source: file };
}

/** The lever tiers, rule and target of DMM_LEVERS_FILE (YAML or JSON), else the High Point defaults. A trial records them when created. */
export function leverSettingsOf(config: Config): LeverConfig {
  const file = config.DMM_LEVERS_FILE;
  if (!file) return defaultLeverConfig;
  let parsed: unknown;
  try {
    parsed = parseYaml(readSettingsFile('DMM_LEVERS_FILE', file));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([`DMM_LEVERS_FILE: cannot read ${file} as YAML or JSON (${(error as Error).message.split('\n')[0]})`]);
  }
  const result = leverConfigSchema.safeParse(parsed ?? {});
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `DMM_LEVERS_FILE ${file}: ${i.path.join('.') || 'file'}: ${i.message}`));
  return result.data;
}

const harmFileSchema = z.strictObject({
  source: z.string().trim().min(1).max(200),
  default_weight: z.number().min(0, 'must not be negative'),
  table: z.record(z.string().trim().min(1), z.number().min(0, 'must not be negative')),
});

export interface HarmSettings {
  table: Record<string, number>;
  defaultWeight: number;
  /** What the weights are, for the report's method section. */
  source: string;
}

/**
 * The severity weights of the outcome report: DMM_HARM_FILE (e.g. Cambridge Crime Harm Index days by
 * category), else the scoring configuration's gravity table.
 */
export function harmSettingsOf(config: Config, scoring: ScoringSettings): HarmSettings {
  const file = config.DMM_HARM_FILE;
  if (!file) {
    return { table: { ...scoring.config.gravity.table }, defaultWeight: scoring.config.gravity.default_weight, source: `the scoring configuration's gravity table (${scoring.hash})` };
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(readSettingsFile('DMM_HARM_FILE', file));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([`DMM_HARM_FILE: cannot read ${file} as YAML or JSON (${(error as Error).message.split('\n')[0]})`]);
  }
  const result = harmFileSchema.safeParse(parsed);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `DMM_HARM_FILE ${file}: ${i.path.join('.') || 'file'}: ${i.message}`));
  return { table: result.data.table, defaultWeight: result.data.default_weight, source: `${result.data.source} (${file})` };
}

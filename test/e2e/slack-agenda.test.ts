// End to end, as `npm start` runs it: `node bin/dmm.mjs start` as a child process, talking to a fake
// Slack Web API on loopback, on a store seeded in-process beforehand. The agenda goes out once, with
// the right incidents, across retries, restarts and two replicas; `/dmm agenda` answers through
// response_url; and `dmm agenda` prints and posts the same agenda from the command line.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importRecordsFile } from '../../src/app/import-records.js';
import { pseudonymPattern } from '../../src/domain/pseudonym.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { createEmbeddedDatabase, createServerDatabase, type TestDatabase } from '../support/databases.js';
import { baseEnv, runDmm, startDmm, stopAllDmm } from '../support/dmm-process.js';
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from '../support/fake-slack.js';
import { csvOf, incidentHeader } from '../support/records.js';
import { postToSlackApp, slashCommandBody } from '../support/slack-requests.js';

const channel = 'C0TESTDMM';
const meetingKey = `slack:${channel}`;
const signingSecret = 'test-signing-secret-0123456789';
const botToken = 'xoxb-test-0000-e2e';
const memberUserId = 'U0TESTMEMBER';
const monday = '2026-03-02';
/** 30 s after Monday's 09:00 London cutoff (GMT in early March): due, and not late. */
const justAfterCutoff = '2026-03-02T09:00:30Z';

// ---- synthetic, obviously fictional records ----

type Row = Record<string, string>;
const incident = (ref: string, reportedAt: string, risk: string, perpetrator: string, victim: string, extra: Row = {}): Row => ({
  source_ref: ref,
  reported_at: reportedAt,
  occurred_at: '',
  risk_level: risk,
  category: 'assault',
  area: 'Test Area North',
  perpetrator_ref: perpetrator,
  victim_ref: victim,
  children_present: 'false',
  ...extra,
});

const incidents: Row[] = [
  // Before Friday's 09:00 cutoff: Friday's meeting had it.
  incident('TEST-INC-100', '2026-02-27T08:59:59Z', 'high', 'TEST-P-200', 'TEST-V-300'),
  // Exactly at Friday's cutoff: the first thing on Monday's agenda.
  incident('TEST-INC-101', '2026-02-27T09:00:00Z', 'high', 'TEST-P-201', 'TEST-V-301'),
  // Sunday: rolls forward to Monday.
  incident('TEST-INC-102', '2026-03-01T14:30:00Z', 'high', 'TEST-P-202', 'TEST-V-302', { children_present: 'true' }),
  // Exactly at Monday's cutoff: waits for Tuesday.
  incident('TEST-INC-103', '2026-03-02T09:00:00Z', 'high', 'TEST-P-203', 'TEST-V-303'),
  // Standard risk, but the perpetrator has an active IOM flag.
  incident('TEST-INC-104', '2026-02-28T11:00:00Z', 'standard', 'TEST-P-204', 'TEST-V-304'),
  // Earlier incidents against TEST-V-301: with TEST-INC-101 that makes a repeat victim (3 in 365 days).
  incident('TEST-INC-090', '2025-12-01T10:00:00Z', 'standard', 'TEST-P-201', 'TEST-V-301'),
  incident('TEST-INC-091', '2026-01-15T10:00:00Z', 'medium', 'TEST-P-201', 'TEST-V-301'),
  // Around the clocks going forward (Sunday 29 March 2026): Monday 30 March 09:00 BST is 08:00Z.
  incident('TEST-INC-110', '2026-03-30T07:59:59Z', 'high', 'TEST-P-210', 'TEST-V-310'), // 08:59:59 BST: Monday's
  incident('TEST-INC-111', '2026-03-30T08:00:00Z', 'high', 'TEST-P-211', 'TEST-V-311'), // 09:00 BST: Tuesday's
];
const flagHeader = 'perpetrator_ref,kind,note,starts_on,ends_on';
const flags: Row[] = [
  { perpetrator_ref: 'TEST-P-204', kind: 'iom', note: 'Test IOM cohort', starts_on: '2026-01-01', ends_on: '' },
  // Ended before the meeting: TEST-P-202 is not flagged on Monday.
  { perpetrator_ref: 'TEST-P-202', kind: 'bail', note: 'Test bail, ended', starts_on: '2025-11-01', ends_on: '2026-02-01' },
];

/** Loads the records through the import use case and returns each person's label, by reference. */
async function seed(db: Database): Promise<Map<string, string>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dmm-e2e-csv-'));
  try {
    const incidentsFile = path.join(dir, 'incidents.csv');
    const flagsFile = path.join(dir, 'flags.csv');
    await writeFile(incidentsFile, csvOf(incidentHeader, incidents));
    await writeFile(flagsFile, csvOf(flagHeader, flags));
    const a = await importRecordsFile(db, 'incidents', incidentsFile, 'test:e2e');
    const b = await importRecordsFile(db, 'flags', flagsFile, 'test:e2e');
    expect([a.inserted, a.rejected, b.inserted, b.rejected]).toEqual([incidents.length, 0, flags.length, 0]);
    // The person who types `/dmm agenda` in the Slack tests: only members of the meeting may.
    await db.prisma.member.create({ data: { slackUserId: memberUserId, agency: 'police', displayName: 'Test Member' } });
    const nominals = await db.prisma.nominal.findMany({ select: { ref: true, label: true } });
    return new Map(nominals.map((n) => [n.ref, n.label]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- what the agenda message must say ----

const onMondaysAgenda = ['TEST-INC-101', 'TEST-INC-102', 'TEST-INC-104'];
const notOnMondaysAgenda = ['TEST-INC-100', 'TEST-INC-103', 'TEST-INC-090', 'TEST-INC-091', 'TEST-INC-110', 'TEST-INC-111'];

function agendaMessagesIn(fake: FakeSlack): FakeSlackMessage[] {
  return fake.messages.filter((m) => m.channel === channel);
}

function expectMondaysAgenda(message: FakeSlackMessage, labels: Map<string, string>, options: { late: boolean }): void {
  const blocks = JSON.stringify(message.blocks ?? []);
  const everything = `${message.text ?? ''}\n${blocks}`;
  expect(message.thread_ts).toBeUndefined();
  expect(message.text).toContain('Monday 2 March 2026');
  expect(message.text).toContain('2 new high-risk incidents, 1 flagged perpetrator, 1 repeat victim, 0 actions due, 0 panels');
  for (const ref of onMondaysAgenda) expect(blocks).toContain(ref);
  for (const ref of notOnMondaysAgenda) expect(everything).not.toContain(ref);
  // People appear by label only: no records-system reference reaches Slack.
  expect(everything).not.toMatch(/TEST-[PV]-/);
  for (const ref of ['TEST-P-201', 'TEST-V-301', 'TEST-P-202', 'TEST-V-302', 'TEST-P-204']) {
    const label = labels.get(ref);
    expect(label, ref).toMatch(pseudonymPattern);
    expect(blocks, `label of ${ref}`).toContain(label);
  }
  expect(blocks).toContain('*New high-risk incidents* (2)');
  expect(blocks).toContain('*Flagged perpetrators* (1)');
  expect(blocks).toContain(`\`${labels.get('TEST-P-204')}\` [iom]`);
  // Friday's 09:00 incident comes before Sunday's.
  expect(blocks.indexOf('TEST-INC-101')).toBeLessThan(blocks.indexOf('TEST-INC-102'));
  if (options.late) expect(blocks).toContain('Posted late');
  else expect(everything).not.toContain('Posted late');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- fixtures ----

const tmpDirs: string[] = [];
let template: string;
let labels: Map<string, string>;
let fake: FakeSlack;

beforeAll(async () => {
  // One seeded embedded store, closed, copied for each test (PGlite is one process per folder).
  const db: TestDatabase = await createEmbeddedDatabase();
  template = db.env.DMM_DATA_DIR!;
  tmpDirs.push(template);
  try {
    labels = await seed(db);
  } finally {
    await db.close();
  }
});

afterAll(async () => {
  await stopAllDmm();
  await Promise.all(tmpDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

beforeEach(async () => {
  fake = await startFakeSlack();
});

afterEach(async () => {
  await stopAllDmm();
  await fake.close();
});

/** A fresh copy of the seeded embedded store. */
async function seededDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dmm-e2e-data-'));
  tmpDirs.push(dir);
  await cp(template, dir, { recursive: true });
  return dir;
}

function slackEnv(store: Record<string, string>, now: string): NodeJS.ProcessEnv {
  return baseEnv({
    ...store,
    PORT: '0',
    SLACK_BOT_TOKEN: botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: fake.url,
    DMM_CHANNEL: channel,
    DMM_TIME: '09:00',
    DMM_TIMEZONE: 'Europe/London',
    DMM_NOW: now,
  });
}

/** The agenda runs and the audited posts in an embedded store no process holds any more. */
async function agendaRecordsIn(dataDir: string) {
  const db = await openDatabase({ DMM_DATA_DIR: dataDir });
  try {
    return {
      runs: await db.prisma.agendaRun.findMany(),
      posts: await db.prisma.auditEvent.findMany({ where: { action: 'agenda.post' } }),
    };
  } finally {
    await db.close();
  }
}

// ---- the scheduled agenda ----
// Timeouts are generous: each `dmm` process starts through tsx and opens PGlite or PostgreSQL, seconds
// apiece and more on a busy machine.

describe('dmm start posts the scheduled agenda to Slack', () => {
  it('posts Monday’s agenda once, with the incidents of Friday 09:00 to Monday 09:00, and never again after a restart', async () => {
    const dataDir = await seededDataDir();
    const env = slackEnv({ DMM_DATA_DIR: dataDir }, justAfterCutoff);

    const first = await startDmm(env);
    const [message] = await fake.waitFor(() => (agendaMessagesIn(fake).length > 0 ? agendaMessagesIn(fake) : undefined), 20_000);
    expectMondaysAgenda(message!, labels, { late: false });
    expect(fake.callsTo('chat.postMessage').map((c) => c.token)).toEqual([botToken]);

    await sleep(4_000);
    expect(agendaMessagesIn(fake)).toHaveLength(1);
    expect(await first.stop()).toBe(0);

    const second = await startDmm(env);
    // start-up runs the catch-up tick before it prints its port: anything it would post is out by now.
    await sleep(3_000);
    expect(agendaMessagesIn(fake)).toHaveLength(1);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
    expect(await second.stop()).toBe(0);
    expect(first.stderr() + second.stderr()).not.toMatch(/"level":(50|60)/);

    const { runs, posts } = await agendaRecordsIn(dataDir);
    // The audit trail holds one post: the second process did not post (or claim to) again.
    expect(posts).toHaveLength(1);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ meetingKey, status: 'sent', messageRef: message!.ts, late: false, partsPosted: 1 });
    expect(runs[0]!.meetingDate.toISOString()).toBe(`${monday}T00:00:00.000Z`);
  }, 180_000);

  it('posts at once, marked late, when it starts well after the meeting time', async () => {
    const dataDir = await seededDataDir();
    const bot = await startDmm(slackEnv({ DMM_DATA_DIR: dataDir }, '2026-03-02T11:00:00Z'));
    const [message] = await fake.waitFor(() => (agendaMessagesIn(fake).length > 0 ? agendaMessagesIn(fake) : undefined), 20_000);
    expectMondaysAgenda(message!, labels, { late: true });
    expect(JSON.stringify(message!.blocks)).toContain(':warning: Posted late: the bot was not running at the meeting time.');
    await sleep(2_000);
    expect(agendaMessagesIn(fake)).toHaveLength(1);
    expect(bot.stderr()).not.toMatch(/"level":(50|60)/);
  }, 90_000);

  it('retries after Slack answers HTTP 500, and posts exactly once', async () => {
    const dataDir = await seededDataDir();
    fake.failNext('chat.postMessage', { status: 500 });
    const bot = await startDmm(slackEnv({ DMM_DATA_DIR: dataDir }, justAfterCutoff));
    await fake.waitFor(() => agendaMessagesIn(fake).length > 0, 20_000);
    await sleep(2_000);
    const calls = fake.callsTo('chat.postMessage');
    expect(calls.map((c) => c.status)).toEqual([500, 200]);
    // Retried by the delivery policy after its 1 s backoff, not left to the next minute's catch-up tick.
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(900);
    expect(calls[1]!.at - calls[0]!.at).toBeLessThan(10_000);
    expect(bot.stderr()).not.toContain('agenda post failed');
    expect(agendaMessagesIn(fake)).toHaveLength(1);
    expectMondaysAgenda(agendaMessagesIn(fake)[0]!, labels, { late: false });
  }, 90_000);

  it('waits out a 429 for its Retry-After, and posts exactly once', async () => {
    const dataDir = await seededDataDir();
    // 2 s, not 1: the first backoff after a transient failure is also 1 s, so only a longer
    // Retry-After shows that the header, not the backoff, set the wait.
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 2 });
    const bot = await startDmm(slackEnv({ DMM_DATA_DIR: dataDir }, justAfterCutoff));
    await fake.waitFor(() => agendaMessagesIn(fake).length > 0, 20_000);
    await sleep(2_000);
    const calls = fake.callsTo('chat.postMessage');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    // Retry-After: 2, waited out by the delivery policy (not by the next minute's tick).
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1_950);
    expect(calls[1]!.at - calls[0]!.at).toBeLessThan(10_000);
    expect(bot.stderr()).not.toContain('agenda post failed');
    expect(agendaMessagesIn(fake)).toHaveLength(1);
    expectMondaysAgenda(agendaMessagesIn(fake)[0]!, labels, { late: false });
  }, 90_000);
});

// ---- two replicas on one PostgreSQL database ----

describe.runIf(Boolean(process.env.TEST_DATABASE_URL))('two dmm processes on one PostgreSQL database', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await stopAllDmm();
    await db?.destroy();
    db = undefined;
  });

  it('post the agenda exactly once between them, and record it as sent', async () => {
    db = await createServerDatabase(process.env.TEST_DATABASE_URL!);
    const serverLabels = await seed(db);
    const env = slackEnv(db.env, justAfterCutoff);
    // Slack fails twice first: whichever process claims the agenda holds its claim for ~3 s of
    // backoff, so the other's start-up tick meets the claim instead of a finished post.
    fake.failNext('chat.postMessage', { status: 500 }, 2);
    const [a, b] = await Promise.all([startDmm(env), startDmm(env)]);
    expect(a.port).not.toBe(b.port);
    const [message] = await fake.waitFor(() => (agendaMessagesIn(fake).length > 0 ? agendaMessagesIn(fake) : undefined), 30_000);
    await sleep(5_000);
    expect(agendaMessagesIn(fake)).toHaveLength(1);
    expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([500, 500, 200]);
    expect(a.stderr() + b.stderr()).not.toMatch(/"level":(50|60)/);
    expectMondaysAgenda(message!, serverLabels, { late: false });

    const runs = await db.prisma.agendaRun.findMany();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ meetingKey, status: 'sent', messageRef: message!.ts, partsPosted: 1, late: false });
    const audits = await db.prisma.auditEvent.findMany({ where: { action: 'agenda.post' } });
    expect(audits).toHaveLength(1);
  }, 90_000);
});

// ---- /dmm agenda ----

describe('/dmm agenda over Slack’s HTTP endpoint', () => {
  it('acks at once and answers with the agenda, only to the person who asked', async () => {
    const dataDir = await seededDataDir();
    // Before Monday's cutoff: nothing is due, so the only traffic is the command's.
    const bot = await startDmm(slackEnv({ DMM_DATA_DIR: dataDir }, '2026-03-02T08:00:00Z'));
    const endpoint = `http://127.0.0.1:${bot.port}/slack/events`;

    const started = Date.now();
    const ok = await postToSlackApp(endpoint, slashCommandBody({ channel_id: channel, user_id: memberUserId, text: 'agenda', response_url: fake.responseUrl('r1') }), { signingSecret });
    const ackMs = Date.now() - started;
    expect(ok.status).toBe(200);
    expect(ackMs).toBeLessThan(3_000);

    const response = await fake.waitFor(() => fake.responses.find((r) => r.path === '/response/r1'), 10_000);
    const body = response.body as { response_type?: string; text?: string; blocks?: unknown[] };
    expect(body.response_type).toBe('ephemeral');
    expectMondaysAgenda({ channel, ts: '', text: body.text, blocks: body.blocks, edits: 0 }, labels, { late: false });

    const forged = await postToSlackApp(
      endpoint,
      slashCommandBody({ channel_id: channel, user_id: memberUserId, text: 'agenda', response_url: fake.responseUrl('r2') }),
      { signingSecret, badSignature: true },
    );
    expect(forged.status).toBe(401);

    const elsewhere = await postToSlackApp(
      endpoint,
      slashCommandBody({ channel_id: 'C0OTHER99', user_id: memberUserId, text: 'agenda', response_url: fake.responseUrl('r3') }),
      { signingSecret },
    );
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.json).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/answers only in its meeting's channel/) });

    // Someone who is not a member of the meeting gets a refusal, not the agenda.
    const stranger = await postToSlackApp(
      endpoint,
      slashCommandBody({ channel_id: channel, user_id: 'U0STRANGER', text: 'agenda', response_url: fake.responseUrl('r4') }),
      { signingSecret },
    );
    expect(stranger.status).toBe(200);
    const refusal = await fake.waitFor(() => fake.responses.find((r) => r.path === '/response/r4'), 10_000);
    expect(refusal.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/only members of this meeting/) });
    expect(JSON.stringify(refusal.body)).not.toMatch(/TEST-/);

    await sleep(1_500);
    expect(fake.responses.map((r) => r.path)).toEqual(['/response/r1', '/response/r4']);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(0);
  }, 90_000);
});

// ---- dmm agenda on the command line ----

interface AgendaJson {
  meetingDate: string;
  window: { start: string; end: string };
  highRiskIncidents: Array<{ ref: string; label: string; perpetrator: { ref: string; label: string; activeFlags: string[] }; victim: { ref: string; label: string } }>;
  flaggedPerpetrators: Array<{ ref: string; label: string; flags: Array<{ kind: string }>; incidents: Array<{ ref: string }> }>;
  repeatVictims: Array<{ ref: string; label: string; incidentsLast365Days: number; incidentsInWindow: number }>;
  actionsDue: unknown[];
  panels: unknown[];
}

describe('dmm agenda', () => {
  it('prints the agenda as JSON, and names the next working day for a weekend or bank holiday', async () => {
    // One at a time: the embedded store takes one process, and PGlite start-up is CPU-bound anyway.
    const env = baseEnv({ DMM_DATA_DIR: await seededDataDir() });
    const run = (date: string) => runDmm(['agenda', '--date', date, '--json'], env);
    const mondayRun = await run(monday);
    const saturday = await run('2026-02-28');
    const goodFriday = await run('2026-04-03');
    const afterClocksChange = await run('2026-03-31');

    expect(mondayRun.code, mondayRun.stderr).toBe(0);
    const agenda = JSON.parse(mondayRun.stdout) as AgendaJson;
    expect(agenda.meetingDate).toBe(monday);
    expect(agenda.window).toEqual({ start: '2026-02-27T09:00:00.000Z', end: '2026-03-02T09:00:00.000Z' });
    expect(agenda.highRiskIncidents.map((i) => [i.ref, i.label])).toEqual([
      ['TEST-INC-101', 'TEST-INC-101'],
      ['TEST-INC-102', 'TEST-INC-102'],
    ]);
    expect(agenda.highRiskIncidents[1]!.perpetrator).toEqual({ ref: 'TEST-P-202', label: labels.get('TEST-P-202'), activeFlags: [] });
    expect(agenda.flaggedPerpetrators).toHaveLength(1);
    expect(agenda.flaggedPerpetrators[0]).toMatchObject({ ref: 'TEST-P-204', label: labels.get('TEST-P-204'), flags: [{ kind: 'iom' }], incidents: [{ ref: 'TEST-INC-104' }] });
    expect(agenda.flaggedPerpetrators[0]!.label).toMatch(pseudonymPattern);
    expect(agenda.repeatVictims).toEqual([{ ref: 'TEST-V-301', label: labels.get('TEST-V-301'), incidentsLast365Days: 3, incidentsInWindow: 1 }]);
    expect(agenda.actionsDue).toEqual([]);
    expect(agenda.panels).toEqual([]);

    expect(saturday.code).not.toBe(0);
    expect(saturday.stderr).toMatch(/Saturday 28 February 2026 is not a working day/);
    expect(saturday.stderr).toContain('the next working day is Monday 2 March 2026 (2026-03-02)');

    expect(goodFriday.code).not.toBe(0);
    expect(goodFriday.stderr).toMatch(/Friday 3 April 2026 is not a working day .*Good Friday/);
    expect(goodFriday.stderr).toContain('(2026-04-07)');

    expect(afterClocksChange.code, afterClocksChange.stderr).toBe(0);
    const tuesday = JSON.parse(afterClocksChange.stdout) as AgendaJson;
    expect(tuesday.meetingDate).toBe('2026-03-31');
    expect(tuesday.window).toEqual({ start: '2026-03-30T08:00:00.000Z', end: '2026-03-31T08:00:00.000Z' });
    expect(tuesday.highRiskIncidents.map((i) => i.ref)).toEqual(['TEST-INC-111']);
  }, 180_000);

  it('--post posts once; a second run says it was already posted', async () => {
    const dataDir = await seededDataDir();
    const env = slackEnv({ DMM_DATA_DIR: dataDir }, justAfterCutoff);
    const first = await runDmm(['agenda', '--date', monday, '--post'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Posted the agenda for 2026-03-02 to slack:C0TESTDMM\./);
    expect(agendaMessagesIn(fake)).toHaveLength(1);
    expectMondaysAgenda(agendaMessagesIn(fake)[0]!, labels, { late: false });

    const second = await runDmm(['agenda', '--date', monday, '--post'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/already posted/);
    expect(agendaMessagesIn(fake)).toHaveLength(1);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  }, 180_000);
});

// End to end: `dmm reminders plan|run|status` as child processes, against a fake Slack Web API on
// loopback, on a store seeded in-process beforehand (embedded PGlite; PostgreSQL too when
// TEST_DATABASE_URL is set). Every reminder the plan names must arrive as a DM (conversations.open,
// then chat.postMessage to `D<user>`) exactly once, through rate limits, 5xx answers, reruns, several
// processes at once, and a process killed mid-send.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { dateOf } from '../../src/store/actions.js';
import { createEmbeddedDatabase, createServerDatabase, type TestDatabase } from '../support/databases.js';
import { baseEnv, projectRoot, runDmm, type DmmRun } from '../support/dmm-process.js';
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from '../support/fake-slack.js';

const channel = 'C0TESTDMM';
const meetingKey = `slack:${channel}`;
const botToken = 'xoxb-test-token';
const signingSecret = 'test-signing-secret-123';
/** Tuesday 3 March 2026, 10:00 GMT: 5 working days before the panel on Tuesday 10 March. */
const T = '2026-03-03T10:00:00Z';
const dmmBin = path.join(projectRoot, 'bin/dmm.mjs');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Each `dmm` process starts through tsx and opens PGlite or PostgreSQL: 5–30 s apiece on a busy
// machine (measured 17–33 s at a load average of 10 on 2 cores), and a test runs up to five of them.
const processMs = 150_000;
const testMs = 300_000;

// ---- synthetic members, actions and a panel ----

/**
 * A chair and `owners` members with Slack ids U0TEST001…, each with an action due on the panel day;
 * the first `overdue` of them also have one overdue since Monday 2 March (so a nudge as well).
 * At T that plans `owners` panel reminders and `overdue` nudges. Returns member id → Slack user id.
 */
async function seed(db: Database, owners: number, overdue = 2): Promise<Map<number, string>> {
  const slackIds = new Map<number, string>();
  const chair = await db.prisma.member.create({ data: { slackUserId: 'U0TESTCHAIR', displayName: 'Test Chair', agency: 'police', role: 'chair' } });
  slackIds.set(chair.id, chair.slackUserId!);
  for (let i = 1; i <= owners; i++) {
    const member = await db.prisma.member.create({ data: { slackUserId: `U0TEST${String(i).padStart(3, '0')}`, displayName: `Test Owner ${i}`, agency: 'idva' } });
    slackIds.set(member.id, member.slackUserId!);
    const dues = i <= overdue ? ['2026-03-02', '2026-03-10'] : ['2026-03-10'];
    for (const due of dues) {
      await db.prisma.action.create({ data: { meetingKey, text: `Test action ${i} due ${due}`, ownerId: member.id, agency: 'idva', dueOn: dateOf(due), createdBy: 'test' } });
    }
  }
  await db.prisma.panel.create({ data: { meetingKey, kind: 'marac', title: 'Test MARAC', startsAt: new Date('2026-03-10T10:00:00Z'), createdBy: 'test' } });
  return slackIds;
}

// ---- what was planned, and what arrived ----

interface PlannedLine {
  key: string;
  kind: string;
  memberId: number;
  actions: string[];
}

/** Parses `dmm reminders plan` output: `  <key>: <kind> to member <id>, actions A-1, A-2`. */
function parsePlan(stdout: string): PlannedLine[] {
  return stdout
    .split('\n')
    .map((line) => /^\s+(\S+): (\w+) to member (\d+), actions (.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ key: m[1]!, kind: m[2]!, memberId: Number(m[3]), actions: m[4]!.split(', ').filter(Boolean) }));
}

function kindOfText(text: string): string {
  if (/^Before /.test(text)) return 'panel';
  if (/overdue\. Please close/.test(text)) return 'nudge';
  if (/^Chairs/.test(text)) return 'digest';
  if (/could not be delivered/.test(text)) return 'failure';
  return `unknown: ${text.slice(0, 60)}`;
}

/** `D<user>|<kind>|A-1,A-2` for a DM the fake received. */
function identityOfMessage(m: FakeSlackMessage): string {
  const actions = (m.blocks ?? [])
    .map((b) => (b as { block_id?: string }).block_id ?? '')
    .filter((id) => id.startsWith('dmm_action:'))
    .map((id) => id.slice('dmm_action:'.length))
    .sort();
  return `${m.channel}|${kindOfText(m.text ?? '')}|${actions.join(',')}`;
}

function identityOfPlanned(p: PlannedLine, slackIds: Map<number, string>): string {
  return `D${slackIds.get(p.memberId)}|${p.kind}|${[...p.actions].sort().join(',')}`;
}

function dmsIn(fake: FakeSlack): FakeSlackMessage[] {
  return fake.messages.filter((m) => m.channel.startsWith('D'));
}

/** Identity → how many times it arrived. */
function arrivals(fake: FakeSlack): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of dmsIn(fake)) counts.set(identityOfMessage(m), (counts.get(identityOfMessage(m)) ?? 0) + 1);
  return counts;
}

/** Each DM channel was opened with conversations.open before the first message to it. */
function expectOpenedBeforePosting(fake: FakeSlack): void {
  for (const dm of new Set(dmsIn(fake).map((m) => m.channel))) {
    const user = dm.slice(1);
    const opened = fake.calls.findIndex((c) => c.method === 'conversations.open' && c.params.users === user && c.status === 200);
    const firstPost = fake.calls.findIndex((c) => c.method === 'chat.postMessage' && c.params.channel === dm);
    expect(opened, `conversations.open for ${user}`).toBeGreaterThanOrEqual(0);
    expect(opened, `${dm} opened before it was posted to`).toBeLessThan(firstPost);
  }
}

const summaryLine = /Reminders: (\d+) due, (\d+) new, (\d+) sent, (\d+) to retry, (\d+) failed\./;
function summaryOf(run: DmmRun): { due: number; new: number; sent: number; retry: number; failed: number } {
  const m = summaryLine.exec(run.stdout);
  if (!m) throw new Error(`no summary line (exit ${run.code}).\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return { due: Number(m[1]), new: Number(m[2]), sent: Number(m[3]), retry: Number(m[4]), failed: Number(m[5]) };
}

// ---- fixtures ----

let fake: FakeSlack | undefined;
const tmpDirs: string[] = [];
let template: string;
let templateIds: Map<number, string>;
const templateOwners = 20;

beforeAll(async () => {
  // One seeded embedded store, closed, copied for each test (PGlite is one process per folder).
  const db: TestDatabase = await createEmbeddedDatabase();
  template = db.env.DMM_DATA_DIR!;
  tmpDirs.push(template);
  try {
    templateIds = await seed(db, templateOwners);
  } finally {
    await db.close();
  }
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

afterAll(async () => {
  await Promise.all(tmpDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function seededDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dmm-e2e-reminders-'));
  tmpDirs.push(dir);
  await cp(template, dir, { recursive: true });
  return dir;
}

function slackEnv(store: Record<string, string>, slack: FakeSlack): NodeJS.ProcessEnv {
  return baseEnv({
    ...store,
    SLACK_BOT_TOKEN: botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.url,
    DMM_CHANNEL: channel,
    DMM_TIMEZONE: 'Europe/London',
    DMM_HOLIDAYS: 'england-and-wales',
    DMM_REMIND_DAYS_BEFORE: '',
    DMM_NUDGE_EVERY: '',
    DMM_ESCALATE_AFTER: '',
    DMM_WORKING_HOURS: '',
    DMM_CHAIRS: '',
    DMM_TEAMS_CHANNEL: '',
    TEAMS_CLIENT_ID: '',
    TEAMS_CLIENT_SECRET: '',
    TEAMS_TENANT_ID: '',
  });
}

async function planned(env: NodeJS.ProcessEnv, now: string, slackIds: Map<number, string>): Promise<string[]> {
  const run = await runDmm(['reminders', 'plan', '--now', now], env, processMs);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toContain(`${meetingKey} at ${new Date(now).toISOString()}:`);
  return parsePlan(run.stdout).map((p) => identityOfPlanned(p, slackIds));
}

/** Every planned reminder arrived once, and nothing else arrived. */
function expectEachOnce(slack: FakeSlack, plan: string[]): void {
  const got = arrivals(slack);
  expect([...got.keys()].sort()).toEqual([...plan].sort());
  expect([...got.entries()].filter(([, n]) => n !== 1)).toEqual([]);
}

/** `dmm reminders run`, retried while a killed process's stale PGlite lock (15 s) still holds the folder. */
async function runWhenUnlocked(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<DmmRun> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await runDmm(args, env, processMs);
    if (!/in use by another dmm process/.test(run.stderr) || Date.now() > deadline) return run;
    await sleep(2_000);
  }
}

// ---- one process ----

describe('dmm reminders run on Slack', () => {
  it('sends each planned reminder as a DM once; a second run sends nothing; status counts them', async () => {
    fake = await startFakeSlack();
    const env = slackEnv({ DMM_DATA_DIR: await seededDataDir() }, fake);
    const plan = await planned(env, T, templateIds);
    expect(plan).toHaveLength(templateOwners + 2);

    const first = await runDmm(['reminders', 'run', '--now', T], env, processMs);
    expect(first.code, first.stderr).toBe(0);
    expect(summaryOf(first)).toEqual({ due: templateOwners + 2, new: templateOwners + 2, sent: templateOwners + 2, retry: 0, failed: 0 });
    expectEachOnce(fake, plan);
    expectOpenedBeforePosting(fake);
    expect(fake.calls.every((c) => c.token === botToken)).toBe(true);
    // Only DMs: nothing went to the meeting channel.
    expect(fake.messages.filter((m) => !m.channel.startsWith('D'))).toEqual([]);

    const sentBefore = fake.messages.length;
    const second = await runDmm(['reminders', 'run', '--now', T], env, processMs);
    expect(second.code, second.stderr).toBe(0);
    // The two nudges are not even planned again: their owners were nudged today.
    expect(summaryOf(second)).toEqual({ due: templateOwners, new: 0, sent: 0, retry: 0, failed: 0 });
    expect(fake.messages).toHaveLength(sentBefore);

    const status = await runDmm(['reminders', 'status'], env, processMs);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`Reminders: pending 0, claimed 0, sent ${templateOwners + 2}, failed 0`);
  }, testMs);

  it('gets every reminder through a rate limit of 5 a second and three 500s, one of them a lost answer, none twice', async () => {
    fake = await startFakeSlack({ rateLimit: { perSecond: 5 } });
    fake.failNext('chat.postMessage', { status: 500 }, 2);
    // Slack posts this one but the answer is a 500: the retry must find it rather than post it again.
    fake.failNext('chat.postMessage', { status: 500, afterEffect: true }, 1);
    const env = slackEnv({ DMM_DATA_DIR: await seededDataDir() }, fake);
    const plan = await planned(env, T, templateIds);

    const started = Date.now();
    const run = await runDmm(['reminders', 'run', '--now', T], env, processMs);
    const ms = Date.now() - started;
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const summary = summaryOf(run);
    expect(summary).toMatchObject({ due: plan.length, new: plan.length, sent: plan.length, failed: 0 });
    expectEachOnce(fake, plan);
    expectOpenedBeforePosting(fake);
    const statuses = fake.callsTo('chat.postMessage').map((c) => c.status);
    expect(statuses.filter((s) => s === 500)).toHaveLength(3);
    expect(statuses.filter((s) => s === 200)).toHaveLength(plan.length - 1);
    // A 500 does not say whether Slack posted the message: each of the three made the bot look in
    // that DM's history before trying again (and a 429, which says it did not, made none).
    const lookups = fake.callsTo('conversations.history');
    expect(lookups).toHaveLength(3);
    expect(lookups.every((c) => String(c.params.include_all_metadata) === 'true')).toBe(true);
    const limited = statuses.filter((s) => s === 429).length;
    expect(limited).toBeGreaterThan(0);
    expect(summary.retry).toBe(3 + limited);
    const posts = fake.callsTo('chat.postMessage');
    const sendingMs = posts[posts.length - 1]!.at - posts[0]!.at;
    console.info(`[rate-limit e2e] ${plan.length} reminders: ${sendingMs} ms from first to last chat.postMessage, ${ms} ms with process start-up; ${limited} × 429, 3 × 500, ${summary.retry} retries`);

    const status = await runDmm(['reminders', 'status'], env, processMs);
    expect(status.stdout).toContain(`Reminders: pending 0, claimed 0, sent ${plan.length}, failed 0`);
  }, testMs);
});

// ---- three processes on one PostgreSQL database ----

describe.runIf(Boolean(process.env.TEST_DATABASE_URL))('three dmm processes on one PostgreSQL database', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.destroy();
    db = undefined;
  });

  it('send each reminder once between them', async () => {
    db = await createServerDatabase(process.env.TEST_DATABASE_URL!);
    const slackIds = await seed(db, 30, 4);
    fake = await startFakeSlack({ rateLimit: { perSecond: 20 } });
    fake.failNext('chat.postMessage', { status: 500 }, 1);
    const env = slackEnv(db.env, fake);
    const plan = await planned(env, T, slackIds);
    expect(plan).toHaveLength(34);

    const runs = await Promise.all([0, 1, 2].map(() => runDmm(['reminders', 'run', '--now', T], env, processMs)));
    for (const run of runs) expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const summaries = runs.map(summaryOf);
    expect(summaries.reduce((n, s) => n + s.new, 0)).toBe(34);
    expect(summaries.reduce((n, s) => n + s.sent, 0)).toBe(34);
    expectEachOnce(fake, plan);
    console.info(`[3 processes] sent per process: ${summaries.map((s) => s.sent).join(', ')}`);

    const rows = await db.prisma.outboxMessage.findMany();
    expect(rows).toHaveLength(34);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    const audits = await db.prisma.auditEvent.findMany({ where: { action: 'reminder.sent' } });
    expect(audits).toHaveLength(34);
  }, testMs);
});

// ---- a process killed mid-send ----

describe.each([
  { name: 'embedded' as const },
  ...(process.env.TEST_DATABASE_URL ? [{ name: 'postgres' as const }] : []),
])('a reminders run killed mid-send ($name store)', ({ name }) => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.destroy();
    db = undefined;
  });

  it('is finished by the next run after the lease: nothing lost, nothing twice', async () => {
    let env: NodeJS.ProcessEnv;
    let slackIds: Map<number, string>;
    fake = await startFakeSlack({ rateLimit: { perSecond: 2 } });
    if (name === 'postgres') {
      db = await createServerDatabase(process.env.TEST_DATABASE_URL!);
      slackIds = await seed(db, templateOwners);
      env = slackEnv(db.env, fake);
    } else {
      slackIds = templateIds;
      env = slackEnv({ DMM_DATA_DIR: await seededDataDir() }, fake);
    }
    const plan = await planned(env, T, slackIds);
    // The first DM lands but its answer never comes: when the process is killed, that reminder is
    // certainly sent and unrecorded, the case a blind resend would double.
    fake.failNext('chat.postMessage', { stall: true }, 1);

    const child = spawn(process.execPath, [dmmBin, 'reminders', 'run', '--now', T], { cwd: projectRoot, env });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<string | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    try {
      await fake.waitFor(() => dmsIn(fake!).length >= 5, processMs);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\nstderr: ${stderr}`);
    }
    child.kill('SIGKILL');
    const atKill = dmsIn(fake).length;
    expect(await exited).toBe('SIGKILL');
    // Give a request already on the wire a moment to land, so the count below is final.
    await sleep(300);
    const beforeKill = dmsIn(fake).length;
    expect(beforeKill).toBeLessThan(plan.length);

    // 3 minutes later (past the 2-minute lease), the next run takes over the dead process's claims.
    const later = new Date(Date.parse(T) + 3 * 60_000).toISOString();
    const rerun = await runWhenUnlocked(['reminders', 'run', '--now', later], env);
    expect(rerun.code, `${rerun.stdout}\n${rerun.stderr}`).toBe(0);
    const summary = summaryOf(rerun);

    const got = arrivals(fake);
    // Nothing lost: every planned reminder arrived.
    expect([...got.keys()].sort()).toEqual([...plan].sort());
    const duplicates = [...got.entries()].filter(([, n]) => n > 1);
    console.info(
      `[SIGKILL ${name}] killed after ${atKill} DMs (${beforeKill} once in-flight requests landed) of ${plan.length}; the rerun sent ${summary.sent}; duplicates: ${duplicates.length}${duplicates.length ? ` (${duplicates.map(([k, n]) => `${k} ×${n}`).join('; ')})` : ''}`,
    );
    // A message Slack accepted just before the kill, unrecorded in the store, is found by its tag
    // in the DM's history when the claim is taken over: nothing arrives twice.
    expect(duplicates).toEqual([]);
    expect(dmsIn(fake)).toHaveLength(plan.length);
    expect(fake.callsTo('conversations.history').length).toBeGreaterThanOrEqual(1);

    const status = await runWhenUnlocked(['reminders', 'status'], env);
    expect(status.stdout).toContain(`Reminders: pending 0, claimed 0, sent ${plan.length}, failed 0`);
  }, testMs);
});

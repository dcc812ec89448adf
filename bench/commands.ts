// Benchmark for `/dmm` commands over HTTP: drives `action add` and `action list mine` as signed Slack
// requests at dmm-bot (`dmm start`, a child process, on a seeded store) and, as the floor, at a bare Bolt
// app that acknowledges the same command and does nothing. Prints requests per second and the latency to
// the acknowledgement (the HTTP response), then checks that the work after each ack was really done.
// Prints figures; it is not a test. Everything listens on, and talks to, 127.0.0.1 only.
//
//   npm run bench:commands                    50 connections for 30 s per target, on postgresql://postgres@127.0.0.1:5432/test
//   BENCH_SECONDS=5 npm run bench:commands    a quicker run
//   BENCH_CONNECTIONS=50                      concurrent connections
//   BENCH_WARMUP_SECONDS=3                    unmeasured load first, so both targets are warm
//   BENCH_INCIDENTS=3000 BENCH_MEMBERS=50     the seeded store
//   BENCH_STORE=embedded                      the embedded PGlite store instead (a different, slower case)
//   BENCH_DATABASE_URL=...                    the server to make a scratch database on (127.0.0.1 only)
//   BENCH_DRAIN_S=120                         how long to wait for the replies that follow the acks
//   BENCH_TIMEOUT_S=900                       give up (and clean up) after this long
//
// Processes: this one runs autocannon and nothing else that is busy; the fake Slack (which the bot posts
// its replies to) and the bare Bolt app are children forked from bench/support-commands.ts; dmm-bot runs
// as `node bin/dmm.mjs start`, as in production. Each target is measured alone, the floor first.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { incidentRecordSchema, type IncidentRecord } from '../src/domain/records.js';
import { openDatabase, type Database } from '../src/store/database.js';
import { upsertIncidents } from '../src/store/records-repository.js';
import { createServerDatabase, type TestDatabase } from '../test/support/databases.js';
import { baseEnv, startDmm, type DmmServer } from '../test/support/dmm-process.js';
import { signSlackRequest, slashCommandBody } from '../test/support/slack-requests.js';
import { assertLoopback, benchName, defaultServerUrl, fmt, met, percentile, positiveInteger, printTable, runBench } from './support.js';
import { autocannon, forkChild, type AutocannonRequest, type AutocannonResult, type FakeSlackTally, type ForkedChild } from './support-commands.js';

const name = 'bench:commands';
const { fail } = benchName(name);
const seconds = positiveInteger(fail, 'BENCH_SECONDS', 30);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const connections = positiveInteger(fail, 'BENCH_CONNECTIONS', 50);
const incidentCount = positiveInteger(fail, 'BENCH_INCIDENTS', 3_000);
const memberCount = positiveInteger(fail, 'BENCH_MEMBERS', 50);
const drainMs = positiveInteger(fail, 'BENCH_DRAIN_S', 120) * 1000;
const timeoutMs = positiveInteger(fail, 'BENCH_TIMEOUT_S', 900) * 1000;
const store = process.env.BENCH_STORE ?? 'postgres';
const serverUrl = process.env.BENCH_DATABASE_URL ?? defaultServerUrl;
if (store !== 'postgres' && store !== 'embedded') fail(`BENCH_STORE must be postgres or embedded, not ${JSON.stringify(store)}`);
if (!Number.isFinite(warmupSeconds) || warmupSeconds < 0) fail('BENCH_WARMUP_SECONDS must be 0 or more');
if (store === 'postgres') assertLoopback(fail, serverUrl);

const targetP99Ms = 100;
const targetRatio = 1.5;

const signingSecret = 'bench-signing-secret-0123456789abcdef';
const botToken = 'xoxb-bench-token';
const team = 'T0BENCH';
const channel = 'C0BENCHDMM';
const chair = 'U0BENCHCHAIR';
const members = Array.from({ length: memberCount }, (_, i) => `U0BENCH${String(i + 1).padStart(4, '0')}`);
const agencies = ['police', 'idva', 'social-care', 'health', 'housing', 'probation'];
const incidentRef = (i: number) => `BENCH-INC-${String(i).padStart(6, '0')}`;

// ---- the shape of a comparison, so another platform (Teams) can be added beside Slack ----

type Phase = 'warm' | 'run';

/** How one kind of request fared in one phase. */
interface KindCounts {
  sent: number;
  ok: number;
  other: number;
}

/** The requests of one platform: built fresh and signed for every send, counted by kind. */
interface Workload {
  path: string;
  requests(phase: Phase): AutocannonRequest[];
  counts(phase: Phase): Record<string, KindCounts>;
}

interface RunningTarget {
  url: string;
  /** The process serving it, to read its CPU time. */
  pid: number | undefined;
  /** After a phase: wait for the work that follows the acks (the replies), and say how it went. */
  settle?(phase: Phase, workload: Workload): Promise<string[]>;
  stop(): Promise<void>;
  /** After the measured run and `stop()`: check the store for what the run should have left there. */
  check?(workload: Workload): Promise<string[]>;
}

interface Target {
  name: string;
  start(): Promise<RunningTarget>;
}

interface Comparison {
  platform: string;
  floor: Target;
  bot: Target;
  workload(): Workload;
}

interface Measured {
  target: string;
  result: AutocannonResult;
  /** Response times of the 2xx answers (ms, not rounded as autocannon's histogram is). */
  latencies: number[];
  targetCpuSeconds?: number;
  benchCpuSeconds: number;
  notes: string[];
}

// ---- Slack ----

function slackWorkload(fakeOrigin: string): Workload {
  const counts: Record<Phase, Record<'add' | 'list', KindCounts>> = {
    warm: { add: { sent: 0, ok: 0, other: 0 }, list: { sent: 0, ok: 0, other: 0 } },
    run: { add: { sent: 0, ok: 0, other: 0 }, list: { sent: 0, ok: 0, other: 0 } },
  };
  let n = 0;
  /** A slash command as Slack sends it: form-encoded, signed over `v0:<ts>:<body>` with now's timestamp. */
  const signed = (phase: Phase, kind: 'add' | 'list', request: AutocannonRequest): AutocannonRequest => {
    n += 1;
    counts[phase][kind].sent += 1;
    const user = members[n % members.length]!;
    const text =
      kind === 'add'
        ? `action add ${incidentRef(1 + (n % incidentCount))} <@${members[(n * 7 + 3) % members.length]!}> +3d Bench action ${n}`
        : 'action list mine';
    const body = slashCommandBody({
      team_id: team,
      team_domain: 'dmm-bench',
      channel_id: channel,
      user_id: user,
      user_name: user.toLowerCase(),
      text,
      response_url: `${fakeOrigin}/response/${phase}-${n}`,
      trigger_id: `bench-${phase}-${n}`,
    });
    request.body = body;
    request.headers = { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(signingSecret, body) };
    return request;
  };
  const tally = (phase: Phase, kind: 'add' | 'list') => (status: number) => {
    if (status >= 200 && status < 300) counts[phase][kind].ok += 1;
    else counts[phase][kind].other += 1;
  };
  return {
    path: '/slack/events',
    requests: (phase) =>
      (['add', 'list'] as const).map((kind) => ({
        method: 'POST',
        path: '/slack/events',
        setupRequest: (request: AutocannonRequest) => signed(phase, kind, request),
        onResponse: tally(phase, kind),
      })),
    counts: (phase) => counts[phase],
  };
}

function bareBoltTarget(): Target {
  return {
    name: 'bare Bolt app (floor)',
    async start() {
      const child = await forkChild('bare-bolt', { BENCH_SIGNING_SECRET: signingSecret });
      return { url: `http://127.0.0.1:${child.port}`, pid: child.child.pid, stop: () => child.stop() };
    },
  };
}

function dmmSlackTarget(fake: ForkedChild, database: () => Promise<ScratchStore>): Target {
  return {
    name: `dmm-bot (${store === 'embedded' ? 'embedded store' : 'PostgreSQL'})`,
    async start() {
      const scratch = await database();
      const bot: DmmServer = await startDmm(
        baseEnv({
          LOG_LEVEL: 'warn',
          ...scratch.env,
          SLACK_BOT_TOKEN: botToken,
          SLACK_SIGNING_SECRET: signingSecret,
          SLACK_API_URL: `http://127.0.0.1:${fake.port}/api/`,
          DMM_CHANNEL: channel,
          DMM_CHAIRS: chair,
        }),
      );
      let baseline = await fake.ask<FakeSlackTally>('tally');
      const errorLines = () => (bot.stdout() + bot.stderr()).split('\n').filter((line) => /"level":(50|60)/.test(line));
      let errorsBefore = errorLines().length;
      let drained = false;
      return {
        url: `http://127.0.0.1:${bot.port}`,
        pid: bot.child.pid,
        async settle(phase, workload) {
          const counts = Object.values(workload.counts(phase));
          const acked = counts.reduce((sum, c) => sum + c.ok, 0);
          const answered = (t: FakeSlackTally) => t.respondedCommands + t.recordedPosts - (baseline.respondedCommands + baseline.recordedPosts);
          const loadEnded = Date.now();
          const deadline = loadEnded + drainMs;
          let tally = await fake.ask<FakeSlackTally>('tally');
          while (answered(tally) < acked && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 200));
            tally = await fake.ask<FakeSlackTally>('tally');
          }
          // Requests cut off when the load stopped may still be worked on: wait until the bot is quiet.
          for (let last = -1; last !== answered(tally) && Date.now() < deadline; ) {
            last = answered(tally);
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            tally = await fake.ask<FakeSlackTally>('tally');
          }
          const lagS = Math.max(0, tally.lastCallAt - loadEnded) / 1000;
          drained = answered(tally) >= acked;
          const notes = [
            `replies through Slack: ${fmt(answered(tally))} for ${fmt(acked)} acknowledged commands` +
              ` (${fmt(tally.recordedPosts - baseline.recordedPosts)} "recorded" posts to the meeting, ${fmt(tally.respondedCommands - baseline.respondedCommands)} response_url answers);` +
              ` the last came ${lagS.toFixed(1)} s after the load stopped`,
          ];
          if (phase === 'run') {
            // The bot's own pace: commands answered over the time from the start of the load to the last reply.
            notes.push(`  commands answered per second (load start to last reply): ${(answered(tally) / (durationOf(phase) + lagS)).toFixed(1)}`);
          }
          const sorry = tally.sorryReplies - baseline.sorryReplies;
          const otherReplies = tally.otherReplies - baseline.otherReplies;
          const apiErrors = tally.apiErrors - baseline.apiErrors;
          if (sorry || otherReplies || apiErrors) {
            notes.push(`  failures: ${fmt(sorry)} "Sorry, that did not work", ${fmt(otherReplies)} other replies, ${fmt(apiErrors)} Web API errors`);
            if (tally.otherReplySample && otherReplies) notes.push(`  e.g. ${JSON.stringify(tally.otherReplySample)}`);
          }
          if (!drained) notes.push(`  NOT all answered within BENCH_DRAIN_S (${drainMs / 1000} s): the bot was stopped with work still queued`);
          const logged = errorLines().slice(errorsBefore);
          if (logged.length) notes.push(`  the bot logged ${fmt(logged.length)} errors, e.g. ${logged[0]!.slice(0, 300)}`);
          baseline = tally;
          errorsBefore += logged.length;
          return notes;
        },
        stop: async () => {
          await bot.stop();
        },
        async check(workload) {
          const add = workload.counts('run').add!;
          const created = await scratch.countActions('slack:command:bench-run-');
          const consistent = created >= add.ok && created <= add.sent;
          const verdict = !drained ? 'not judged: stopped before all replies were in' : consistent ? 'consistent' : 'NOT consistent';
          return [
            `actions in the store from the run: ${fmt(created)}; "action add" sent ${fmt(add.sent)}, acknowledged ${fmt(add.ok)}` +
              ` (${verdict}; expected: every acknowledged add recorded, and at most every sent one)`,
          ];
        },
      };
    },
  };
}

const durationOf = (phase: Phase) => (phase === 'run' ? seconds : warmupSeconds);

// ---- the store ----

interface ScratchStore {
  env: Record<string, string>;
  /** Actions recorded by commands whose trigger ids start so (their idempotency key). */
  countActions(keyPrefix: string): Promise<number>;
  destroy(): Promise<void>;
}

async function seed(db: Database): Promise<void> {
  await db.prisma.member.createMany({
    data: members.map((id, i) => ({ slackUserId: id, agency: agencies[i % agencies.length]!, role: 'member' as const, displayName: `Bench Member ${i + 1}` })),
  });
  // Reported over the last year, so the start-up agenda holds a day's worth, as it would in use.
  const now = Date.now();
  const records: IncidentRecord[] = Array.from({ length: incidentCount }, (_, k) => {
    const i = k + 1;
    const reported = new Date(now - 86_400_000 * (1 + ((i * 7919) % 365)) - (i % 86_400) * 1000);
    return incidentRecordSchema.parse({
      source_ref: incidentRef(i),
      reported_at: reported.toISOString(),
      occurred_at: '',
      risk_level: i % 10 === 0 ? 'high' : i % 3 === 0 ? 'medium' : 'standard',
      category: `Bench Category ${1 + (i % 12)}`,
      area: `Bench Area ${1 + (i % 9)}`,
      perpetrator_ref: `BENCH-P-${String(1 + (i % Math.ceil(incidentCount / 10))).padStart(6, '0')}`,
      victim_ref: `BENCH-V-${String(1 + (i % Math.ceil(incidentCount / 8))).padStart(6, '0')}`,
      children_present: i % 4 === 0 ? 'true' : 'false',
      source_system: 'bench',
    });
  });
  for (let i = 0; i < records.length; i += 1_000) {
    const batch = records.slice(i, i + 1_000);
    await db.prisma.$transaction((tx) => upsertIncidents(tx, batch, db.labelKey));
  }
}

const countWhere = (db: Database, keyPrefix: string) => db.prisma.action.count({ where: { idempotencyKey: { startsWith: keyPrefix } } });

async function postgresStore(): Promise<ScratchStore> {
  const db: TestDatabase = await createServerDatabase(serverUrl);
  try {
    await seed(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { env: db.env, countActions: (prefix) => countWhere(db, prefix), destroy: () => db.destroy() };
}

/** PGlite is one process's database: seeded here and closed, then opened only by the bot (and counted after it stops). */
async function embeddedStore(): Promise<ScratchStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dmm-bench-'));
  const db = await openDatabase({ DMM_DATA_DIR: dir });
  try {
    await seed(db);
  } finally {
    await db.close();
  }
  return {
    env: { DMM_DATA_DIR: dir },
    async countActions(prefix) {
      // The bot holds the folder's lock while it runs: this is asked only after it has stopped.
      const reopened = await openDatabase({ DMM_DATA_DIR: dir });
      try {
        return await countWhere(reopened, prefix);
      } finally {
        await reopened.close();
      }
    },
    destroy: () => rm(dir, { recursive: true, force: true }),
  };
}

// ---- measuring ----

/** User plus system CPU seconds a process has used so far (Linux), or undefined. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

const benchCpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

async function load(url: string, workload: Workload, phase: Phase, durationS: number): Promise<{ result: AutocannonResult; latencies: number[] }> {
  const latencies: number[] = [];
  const instance = autocannon({ url: `${url}${workload.path}`, connections, duration: durationS, timeout: 10, requests: workload.requests(phase) });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  return { result, latencies };
}

async function measure(target: Target, workload: Workload, running: { current?: RunningTarget }): Promise<Measured> {
  const started = await target.start();
  running.current = started;
  const notes: string[] = [];
  try {
    if (warmupSeconds > 0) {
      await load(started.url, workload, 'warm', warmupSeconds);
      if (started.settle) await started.settle('warm', workload);
    }
    const cpuBefore = cpuSecondsOf(started.pid);
    const benchBefore = benchCpuSeconds();
    const { result, latencies } = await load(started.url, workload, 'run', seconds);
    const cpuAfter = cpuSecondsOf(started.pid);
    const measured: Measured = {
      target: target.name,
      result,
      latencies,
      benchCpuSeconds: benchCpuSeconds() - benchBefore,
      notes,
      ...(cpuBefore !== undefined && cpuAfter !== undefined ? { targetCpuSeconds: cpuAfter - cpuBefore } : {}),
    };
    const kinds = workload.counts('run');
    notes.push(
      `requests: ${Object.entries(kinds).map(([kind, c]) => `${kind} ${fmt(c.sent)} sent, ${fmt(c.ok)} 2xx${c.other ? `, ${fmt(c.other)} other` : ''}`).join('; ')}`,
    );
    const statuses = Object.entries(result.statusCodeStats).filter(([code]) => !code.startsWith('2'));
    if (result.non2xx || result.errors) {
      notes.push(`  non-2xx ${fmt(result.non2xx)} (${statuses.map(([code, s]) => `${code}: ${s.count}`).join(', ') || 'none'}), errors ${fmt(result.errors)} (timeouts ${fmt(result.timeouts)})`);
    }
    // The replies are the bot's work after the acks: stop it only after they are in, then count.
    if (started.settle) notes.push(...(await started.settle('run', workload)));
    running.current = undefined;
    await started.stop();
    if (started.check) notes.push(...(await started.check(workload)));
    return measured;
  } finally {
    if (running.current) {
      running.current = undefined;
      await started.stop();
    }
  }
}

const ms = (value: number) => value.toFixed(1);

function summaryRow(m: Measured): string[] {
  const p50 = percentile(m.latencies, 50);
  const p99 = percentile(m.latencies, 99);
  const share = (s: number | undefined) => (s === undefined ? '-' : `${Math.round((100 * s) / m.result.duration)}%`);
  return [
    m.target,
    fmt(m.result.requests.average),
    ms(p50),
    ms(p99),
    ms(m.latencies.reduce((a, b) => Math.max(a, b), 0)),
    fmt(m.result['2xx']),
    fmt(m.result.non2xx),
    fmt(m.result.errors),
    share(m.targetCpuSeconds),
    share(m.benchCpuSeconds),
  ];
}

async function main(state: { fake?: ForkedChild; store?: ScratchStore; running: { current?: RunningTarget } }): Promise<boolean> {
  console.log(
    `${name}: ${connections} connections, ${seconds} s per target after ${warmupSeconds} s of warm-up; "action add" and "action list mine" alternate;` +
      ` ${fmt(memberCount)} members, ${fmt(incidentCount)} incidents, ${store === 'embedded' ? 'embedded PGlite store' : `PostgreSQL at ${new URL(serverUrl).host}`}; ${os.cpus().length} CPUs`,
  );
  const fake = await forkChild('fake-slack', { BENCH_CHANNEL: channel, BENCH_TEAM: team });
  state.fake = fake;
  const database = async () => {
    if (state.store) throw new Error('one bot per scratch store');
    const seeded = store === 'embedded' ? embeddedStore() : postgresStore();
    state.store = await seeded;
    return state.store;
  };

  const comparisons: Comparison[] = [
    { platform: 'Slack', floor: bareBoltTarget(), bot: dmmSlackTarget(fake, database), workload: () => slackWorkload(`http://127.0.0.1:${fake.port}`) },
  ];

  let ok = true;
  for (const comparison of comparisons) {
    const measured: Measured[] = [];
    for (const target of [comparison.floor, comparison.bot]) {
      console.log(`\n${comparison.platform}: ${target.name}`);
      const m = await measure(target, comparison.workload(), state.running);
      for (const note of m.notes) console.log(`  ${note}`);
      measured.push(m);
    }
    const [floor, bot] = measured as [Measured, Measured];
    console.log(`\n${comparison.platform}: latency to the acknowledgement (HTTP response), 2xx only; CPU as a share of one core over the run`);
    printTable([
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'max ms', '2xx', 'non-2xx', 'errors', 'its CPU', 'bench CPU'],
      summaryRow(floor),
      summaryRow(bot),
    ]);
    const botP99 = percentile(bot.latencies, 99);
    const floorP99 = percentile(floor.latencies, 99);
    const ratio = botP99 / floorP99;
    const under = botP99 < targetP99Ms;
    const within = ratio <= targetRatio;
    console.log(`  dmm-bot p99 ${ms(botP99)} ms < ${targetP99Ms} ms: ${met(under)}`);
    console.log(`  dmm-bot p99 / floor p99 = ${ratio.toFixed(2)}x ≤ ${targetRatio}x: ${met(within)}`);
    // Missed targets and failed work are findings; requests not answered 2xx make the comparison itself doubtful.
    if (bot.result.non2xx || bot.result.errors || floor.result.non2xx || floor.result.errors) {
      console.log('  some requests were not answered 2xx (see the notes above): the figures are doubtful');
      ok = false;
    }
  }
  return ok;
}

const state: { fake?: ForkedChild; store?: ScratchStore; running: { current?: RunningTarget } } = { running: {} };
runBench(name, timeoutMs, () => main(state), async () => {
  await state.running.current?.stop().catch(() => {});
  await state.fake?.stop().catch(() => {});
  await state.store?.destroy().catch((error) => console.error(`${name}: could not remove the scratch store: ${error}`));
});

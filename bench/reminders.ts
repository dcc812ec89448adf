// Benchmark for sending reminders: plans and sends one panel reminder to each of N owners through a fake
// Slack that allows 50 messages a second, and sets the time beside the floor that limit sets (N / 50 s).
// Counts duplicates and losses (both must be 0). Prints figures; it is not a test.
//
//   npm run bench:reminders                      10,000 owners (floor 200 s) at concurrency 8
//   BENCH_OWNERS=1000 npm run bench:reminders    1,000 owners (floor 20 s)
//   BENCH_CONCURRENCY=1,8,16                     runs once per value, each from an empty outbox
//   BENCH_PROFILE=1                              also time every query (Prisma's query events) and Slack call, and print where the time went
//   BENCH_DATABASE_URL=...                       the server to make a scratch database on (127.0.0.1 only)
//   BENCH_TIMEOUT_S=...                          give up (and clean up) after this long (default: 3x the floor per run, plus 2 min)
import os from 'node:os';
import { pino } from 'pino';
import { AdaptivePacer } from '../src/app/pacer.js';
import { runReminders, type RunSummary } from '../src/app/send-reminders.js';
import { defaultReminderPolicy } from '../src/domain/reminders.js';
import { SlackChat } from '../src/chat/slack/slack-chat.js';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { PostgresAdapterFactory } from '../src/store/adapters.js';
import type { Database } from '../src/store/database.js';
import { clockStartingAt } from '../src/scheduler/clock.js';
import { startFakeSlack, type FakeSlack } from '../test/support/fake-slack.js';
import { createServerDatabase, type TestDatabase } from '../test/support/databases.js';
import { testMeeting } from '../test/support/meetings.js';
import {
  assertLoopback,
  benchName,
  defaultServerUrl,
  fmt,
  met,
  positiveInteger,
  positiveIntegers,
  printTable,
  runBench,
  timed,
} from './support.js';

const { fail } = benchName('bench:reminders');
const owners = positiveInteger(fail, 'BENCH_OWNERS', 10_000);
const concurrencies = positiveIntegers(fail, 'BENCH_CONCURRENCY', [8]);
const serverUrl = process.env.BENCH_DATABASE_URL ?? defaultServerUrl;
const perSecond = 50;
const floorS = owners / perSecond;
const timeoutMs = positiveInteger(fail, 'BENCH_TIMEOUT_S', Math.ceil(concurrencies.length * floorS * 3 + 120)) * 1000;
const targetRatio = 1.1;
const profile = process.env.BENCH_PROFILE === '1';

const meeting = testMeeting({ platform: 'slack' }); // slack:C0TESTDMM, 09:00 Europe/London
// Tuesday 16 June 2026, 10:00 in London: a working day, inside working hours (08:00-18:00), three working
// days before Friday's panel, so each owner is due the "5 working days before" reminder and nothing else.
const start = new Date('2026-06-16T09:00:00Z');
const panelAt = new Date('2026-06-19T09:00:00Z');
const dueOn = '2026-06-18'; // before the panel, not yet overdue: no nudge, no chairs' digest
const slackId = (i: number) => `UBENCH${String(i).padStart(6, '0')}`;

/** N owners, each with one open action due before the panel; no chairs. */
async function seed(db: TestDatabase): Promise<void> {
  await db.prisma.$executeRawUnsafe(`
    INSERT INTO member (id, slack_user_id, display_name, agency)
    SELECT g, 'UBENCH' || lpad(g::text, 6, '0'), 'Bench Owner ' || g,
           (ARRAY['police', 'idva', 'social-care', 'health', 'housing', 'probation'])[1 + g % 6]
    FROM generate_series(1, ${owners}) g`);
  await db.prisma.$executeRawUnsafe(`
    INSERT INTO action (meeting_key, text, owner_id, agency, due_on, status, created_by)
    SELECT '${meeting.key}', 'BENCH action for owner ' || g, g, 'bench', date '${dueOn}', 'open', 'bench'
    FROM generate_series(1, ${owners}) g`);
  await db.prisma.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('member', 'id'), ${owners})`);
  await db.prisma.panel.create({ data: { meetingKey: meeting.key, kind: 'marac', title: 'BENCH MARAC', startsAt: panelAt, createdBy: 'bench' } });
  await db.prisma.$executeRawUnsafe(`VACUUM ANALYZE member, action, panel`);
}

/** The app's pacer, counting what it does: the waits it imposes and the 429s it is told of. */
class CountingPacer extends AdaptivePacer {
  turns = 0;
  waitedMs = 0;
  limits = 0;
  /** The pace it kept to after each 429, sends a second. */
  readonly pacesAfterLimits: number[] = [];
  override async turn(): Promise<void> {
    const begin = performance.now();
    await super.turn();
    this.turns++;
    this.waitedMs += performance.now() - begin;
  }
  // Whatever the app passes (the wait, and when the refused request went out) goes through unchanged.
  override rateLimited(...args: Parameters<AdaptivePacer['rateLimited']>): void {
    this.limits++;
    super.rateLimited(...args);
    this.pacesAfterLimits.push(this.perSecond);
  }
}

/** The real Slack adapter, timing each private message (conversations.open and chat.postMessage together). */
class TimedSlackChat extends SlackChat {
  sends = 0;
  sendMs = 0;
  // Every argument the app passes (e.g. a fallback channel) goes through unchanged.
  override async sendDirect(...args: Parameters<SlackChat['sendDirect']>) {
    const begin = performance.now();
    try {
      return await super.sendDirect(...args);
    } finally {
      this.sends++;
      this.sendMs += performance.now() - begin;
    }
  }
}

/** Time per kind of query, from Prisma's query events: where the database part of each send goes. */
class QueryTimes {
  readonly byKind = new Map<string, { count: number; ms: number }>();
  add(query: string, ms: number): void {
    const kind = query.replace(/\s+/g, ' ').replace(/"public"\./g, '').trim().slice(0, 90);
    const entry = this.byKind.get(kind) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += ms;
    this.byKind.set(kind, entry);
  }
  clear(): void {
    this.byKind.clear();
  }
}

interface RunFigures {
  concurrency: number;
  seconds: number;
  summary: RunSummary;
  duplicates: number;
  losses: number;
  elsewhere: number;
  posts: number;
  limited: number;
  opens: number;
  firstLimitS: number | undefined;
  /** Seconds from the start until Slack accepted the first message (planning and enqueueing come first). */
  firstPostS: number;
  /** Seconds from the start until the last message Slack accepted. */
  lastPostS: number;
  /** Most messages Slack accepted in any 1 s window (the limit is 50). */
  busiestSecond: number;
  /** Whole seconds (from the first post) in which Slack accepted fewer than 45. */
  slowSeconds: number;
  pacer: CountingPacer;
  chat: TimedSlackChat;
  /** CPU seconds this process (app, Prisma, Slack client and the fake) used in the run. */
  cpuS: number;
  outbox: Record<string, number>;
}

async function runOnce(db: Database, fake: FakeSlack, concurrency: number, queries?: QueryTimes): Promise<RunFigures> {
  await db.prisma.$executeRawUnsafe(`TRUNCATE outbox_message, audit_event RESTART IDENTITY`);
  await db.prisma.auditChainHead.update({ where: { id: 1 }, data: { seq: 0, hash: '0'.repeat(64) } });
  fake.reset();
  queries?.clear();
  const chat = new TimedSlackChat({ token: 'xoxb-bench', apiUrl: fake.url });
  // A manual clock would stand still: the pacer would wait for a moment that never comes, and a
  // message held back by a 429 would never come due. This one starts at `start` and runs on in real time.
  const clock = clockStartingAt(start);
  const pacer = new CountingPacer(() => clock.now().getTime());
  const log = pino({ level: 'silent' });
  const begin = Date.now();
  const cpuBefore = process.cpuUsage();
  const { result: summary, ms } = await timed(() =>
    runReminders(
      { db, chats: new Map([['slack', chat]]), clock, log, instanceId: `bench-${concurrency}`, policy: defaultReminderPolicy, concurrency, pacer },
      [meeting],
    ),
  );
  const cpu = process.cpuUsage(cpuBefore);

  const perOwner = new Map<string, number>();
  for (const message of fake.messages) perOwner.set(message.channel, (perOwner.get(message.channel) ?? 0) + 1);
  let duplicates = 0;
  let losses = 0;
  for (let i = 1; i <= owners; i++) {
    // The DM channel conversations.open gives (the fake's `D<user>`), or the user id itself, which
    // chat.postMessage also takes for a DM.
    const count = (perOwner.get(`D${slackId(i)}`) ?? 0) + (perOwner.get(slackId(i)) ?? 0);
    if (count === 0) losses++;
    else duplicates += count - 1;
  }
  // Posted anywhere but an owner's DM (e.g. the meeting channel, when a DM cannot be opened).
  let elsewhere = 0;
  for (const [channel, count] of perOwner) if (!/^D?UBENCH\d{6}$/.test(channel)) elsewhere += count;

  const posts = fake.callsTo('chat.postMessage');
  const accepted = posts.filter((c) => c.status === 200).map((c) => c.at);
  const limited = posts.filter((c) => c.status === 429);
  let busiestSecond = 0;
  for (let i = 0, j = 0; i < accepted.length; i++) {
    while (accepted[i]! - accepted[j]! >= 1000) j++;
    busiestSecond = Math.max(busiestSecond, i - j + 1);
  }
  const firstPost = accepted[0] ?? begin;
  const bySecond = new Map<number, number>();
  for (const at of accepted) bySecond.set(Math.floor((at - firstPost) / 1000), (bySecond.get(Math.floor((at - firstPost) / 1000)) ?? 0) + 1);
  const fullSeconds = Math.floor(((accepted.at(-1) ?? firstPost) - firstPost) / 1000);
  let slowSeconds = 0;
  for (let s = 0; s < fullSeconds; s++) if ((bySecond.get(s) ?? 0) < 45) slowSeconds++;

  const statuses = await db.prisma.$queryRaw<Array<{ status: string; n: number }>>`
    SELECT status::text AS status, count(*)::int AS n FROM outbox_message GROUP BY status ORDER BY status`;
  return {
    concurrency,
    seconds: ms / 1000,
    summary,
    duplicates,
    losses,
    elsewhere,
    posts: posts.length,
    limited: limited.length,
    opens: fake.callsTo('conversations.open').length,
    firstLimitS: limited[0] ? (limited[0].at - begin) / 1000 : undefined,
    firstPostS: (firstPost - begin) / 1000,
    lastPostS: ((accepted.at(-1) ?? begin) - begin) / 1000,
    busiestSecond,
    slowSeconds,
    pacer,
    chat,
    cpuS: (cpu.user + cpu.system) / 1e6,
    outbox: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
  };
}

interface State {
  db?: TestDatabase;
  fake?: FakeSlack;
  profiled?: PrismaClient;
}

async function main(state: State): Promise<boolean> {
  assertLoopback(fail, serverUrl);
  const db = (state.db = await createServerDatabase(serverUrl));
  const fake = (state.fake = await startFakeSlack({ rateLimit: { perSecond } }));
  assertLoopback(fail, fake.url, 'the fake Slack');
  const server = await db.prisma.$queryRaw<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
  console.log(
    `bench:reminders: ${fmt(owners)} owners, one panel reminder each, through a fake Slack allowing ${perSecond} messages a second ` +
      `(floor ${floorS.toFixed(1)} s); PostgreSQL ${server[0]?.v}, Node ${process.version}, ${os.cpus().length} CPUs, ` +
      `load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  const seeded = await timed(() => seed(db));
  console.log(`seeded ${fmt(owners)} members and actions in ${(seeded.ms / 1000).toFixed(1)} s`);

  // Profiling runs on a client that reports every query, with the same pool size as the plain one.
  let queries: QueryTimes | undefined;
  let subject: Database = db;
  if (profile) {
    const times = (queries = new QueryTimes());
    const prisma = new PrismaClient({ adapter: new PostgresAdapterFactory(db.env.DATABASE_URL!, 5), log: [{ level: 'query', emit: 'event' }] });
    prisma.$on('query', (e) => times.add(e.query, e.duration));
    subject = { ...db, prisma };
    state.profiled = prisma;
  }

  const results: RunFigures[] = [];
  for (const concurrency of concurrencies) {
    const figures = await runOnce(subject, fake, concurrency, queries);
    results.push(figures);
    const f = figures;
    console.log('');
    console.log(
      `concurrency ${concurrency}: ${f.seconds.toFixed(1)} s (${(f.seconds / floorS).toFixed(3)}x the floor); this process used ` +
        `${f.cpuS.toFixed(1)} CPU s (${((f.cpuS / f.seconds) * 100).toFixed(0)}% of one CPU); load average ${os.loadavg()[0]!.toFixed(1)}`,
    );
    console.log(`  run summary ${JSON.stringify(f.summary)}; outbox ${JSON.stringify(f.outbox)}`);
    console.log(
      `  Slack: ${fmt(f.posts)} chat.postMessage calls, ${fmt(f.limited)} answered 429 (first after ${f.firstLimitS?.toFixed(2) ?? '-'} s), ` +
        `${fmt(f.opens)} conversations.open, ${fmt(f.elsewhere)} messages outside the owners' DMs; busiest second ${f.busiestSecond} accepted; ` +
        `${f.slowSeconds} of ${Math.floor(f.lastPostS - f.firstPostS)} seconds under 45 accepted; first accepted at ${f.firstPostS.toFixed(1)} s, ` +
        `last at ${f.lastPostS.toFixed(1)} s`,
    );
    console.log(
      `  pacer: ${fmt(f.pacer.turns)} turns, told of ${fmt(f.pacer.limits)} rate limits, ` +
        `waited ${(f.pacer.waitedMs / 1000).toFixed(1)} s in all (summed over ${concurrency} workers); ` +
        `its pace after each 429: ${f.pacer.pacesAfterLimits.map((p) => p.toFixed(1)).join(', ') || '-'} a second`,
    );
    console.log(
      `  sendDirect (conversations.open + chat.postMessage): ${fmt(f.chat.sends)} calls, ${(f.chat.sendMs / 1000).toFixed(1)} s in all, ` +
        `${(f.chat.sendMs / Math.max(1, f.chat.sends)).toFixed(1)} ms each`,
    );
    if (queries) {
      const kinds = [...queries.byKind.entries()].sort((a, b) => b[1].ms - a[1].ms);
      const total = kinds.reduce((sum, [, k]) => sum + k.ms, 0);
      console.log(`  queries: ${fmt(kinds.reduce((sum, [, k]) => sum + k.count, 0))} in ${(total / 1000).toFixed(1)} s in all (summed over workers):`);
      printTable([
        ['count', 'total s', 'mean ms', 'query'],
        ...kinds.slice(0, 14).map(([kind, k]) => [fmt(k.count), (k.ms / 1000).toFixed(1), (k.ms / k.count).toFixed(1), kind]),
      ]);
    }
  }

  console.log('');
  printTable([
    ['concurrency', 'seconds', 'floor', 'ratio', '429s', 'duplicates', 'losses', `≤ ${targetRatio}x floor`, 'no duplicates or losses'],
    ...results.map((f) => [
      String(f.concurrency),
      f.seconds.toFixed(1),
      floorS.toFixed(1),
      `${(f.seconds / floorS).toFixed(3)}x`,
      fmt(f.limited),
      fmt(f.duplicates),
      fmt(f.losses),
      met(f.seconds / floorS <= targetRatio),
      met(f.duplicates === 0 && f.losses === 0),
    ]),
  ]);
  return results.every((f) => f.duplicates === 0 && f.losses === 0);
}

const state: State = {};
runBench('bench:reminders', timeoutMs, () => main(state), async () => {
  await state.fake?.close().catch(() => {});
  await state.profiled?.$disconnect().catch(() => {});
  await state.db?.destroy().catch((error) => console.error(`could not drop the scratch database: ${error}`));
});

// Sending reminders through the outbox on each database: once per key across reruns, concurrent
// runners and crashes; retries for transient and rate-limited failures; chairs told of permanent
// ones; nothing outside working hours. The chat platform is a recording fake that fails on demand.
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { actorOf } from '../../src/app/actor.js';
import { changeAction } from '../../src/app/change-action.js';
import { planFor, reminderLeaseMs, runReminders, type ReminderDeps, type RunSummary } from '../../src/app/send-reminders.js';
import type { Agenda } from '../../src/domain/agenda.js';
import type { Meeting } from '../../src/domain/meeting.js';
import { defaultReminderPolicy, type PlannedReminder } from '../../src/domain/reminders.js';
import { DeliveryError, type ChatPlatform, type DirectDelivery, type OutgoingMessage, type Recipient, type ReminderView } from '../../src/ports.js';
import { manualClock } from '../../src/scheduler/clock.js';
import { dateOf } from '../../src/store/actions.js';
import { claimDue, enqueue } from '../../src/store/outbox.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { testMeeting } from '../support/meetings.js';

type ManualClock = ReturnType<typeof manualClock>;

interface Sent {
  recipient: Recipient;
  view: ReminderView;
  fallbackChannel: string | undefined;
  /** Real time of the send, for checking waits. */
  at: number;
}

/** A chat platform that records each direct message and fails on demand (per member, in order). */
class RecordingChat implements ChatPlatform {
  readonly name = 'console' as const;
  sends: Sent[] = [];
  failed: Array<{ memberId: number; kind: DeliveryError['kind']; at: number }> = [];
  private failures: Array<{ memberId: number; error: DeliveryError }> = [];
  delayMs = 0;
  /** Members who cannot be messaged privately: their messages go to the fallback channel. */
  noDirect = new Set<number>();

  failNext(memberId: number, error: DeliveryError, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ memberId, error });
  }

  agendaMessages(agenda: Agenda): OutgoingMessage[] {
    return [{ summary: agenda.meetingDate, payload: null }];
  }

  async post(): Promise<string> {
    return 'post-ref';
  }

  reminderMessage(reminder: ReminderView): OutgoingMessage {
    return { summary: reminder.heading, payload: reminder };
  }

  async sendDirect(recipient: Recipient, message: OutgoingMessage, fallbackChannel?: string): Promise<DirectDelivery> {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const i = this.failures.findIndex((f) => f.memberId === recipient.memberId);
    if (i >= 0) {
      const [failure] = this.failures.splice(i, 1);
      this.failed.push({ memberId: recipient.memberId, kind: failure!.error.kind, at: Date.now() });
      throw failure!.error;
    }
    this.sends.push({ recipient, view: message.payload as ReminderView, fallbackChannel, at: Date.now() });
    if (this.noDirect.has(recipient.memberId) && fallbackChannel) return { ref: `post-${this.sends.length}`, via: 'channel' };
    return { ref: `dm-${this.sends.length}`, via: 'direct' };
  }

  /** Sends to one member of one kind: a reminder's identity within one day's scenario. */
  sendsTo(memberId: number, kind?: ReminderView['kind']): Sent[] {
    return this.sends.filter((s) => s.recipient.memberId === memberId && (kind === undefined || s.view.kind === kind));
  }
}

const meeting: Meeting = testMeeting();
const policy = defaultReminderPolicy;
/** Tuesday 3 March 2026, 10:00 GMT: 5 working days before the panel on Tuesday 10 March. */
const tuesday = new Date('2026-03-03T10:00:00Z');
const at = (iso: string) => new Date(iso);
const silent = pino({ level: 'silent' });

/**
 * A clock for a run that waits (backoff, Retry-After): the manual clock moves on with real time while
 * `run` is in flight. runReminders waits with real timers but compares against `clock.now()`, so with
 * a clock that stands still any wait inside a run would never end.
 */
async function ticking<T>(clock: ManualClock, run: () => Promise<T>): Promise<T> {
  let last = Date.now();
  const timer = setInterval(() => {
    const t = Date.now();
    clock.advance(t - last);
    last = t;
  }, 5);
  try {
    return await run();
  } finally {
    clearInterval(timer);
  }
}

interface Scenario {
  chairs: number[];
  owners: number[];
  panelId: number;
  /** Owner → their open action ids. */
  actionsOf: Map<number, number[]>;
  /** Owner with an overdue action (due Monday 2 March): nudged as well. */
  overdueOwner: number;
}

/**
 * Two chairs; owner 0 with two actions due on the panel day, owner 1 with one due the day before,
 * owner 2 with one overdue since Monday 2 March, owner 3 with one due after the panel (never
 * reminded), then `extraOwners` more with one action each due on the panel day; and the panel on
 * Tuesday 10 March at 10:00. At `tuesday` that plans a 5-day panel reminder to owners 0, 1, 2 and the
 * extras, and a nudge to owner 2.
 */
async function seed(db: TestDatabase, options: { extraOwners?: number; withOverdue?: boolean } = {}): Promise<Scenario> {
  const chairs: number[] = [];
  for (const n of [1, 2]) chairs.push((await db.prisma.member.create({ data: { displayName: `Test Chair ${n}`, agency: 'police', role: 'chair' } })).id);
  const owners: number[] = [];
  const actionsOf = new Map<number, number[]>();
  const addAction = async (ownerId: number, dueOn: string) => {
    const row = await db.prisma.action.create({
      data: { meetingKey: meeting.key, text: `Test action for member ${ownerId}`, ownerId, agency: 'idva', dueOn: dateOf(dueOn), createdBy: 'test' },
    });
    actionsOf.set(ownerId, [...(actionsOf.get(ownerId) ?? []), row.id]);
  };
  const dues: string[][] = [['2026-03-10', '2026-03-10'], ['2026-03-09'], options.withOverdue === false ? ['2026-03-10'] : ['2026-03-02'], ['2026-03-20']];
  for (let i = 0; i < (options.extraOwners ?? 0); i++) dues.push(['2026-03-10']);
  for (const [i, list] of dues.entries()) {
    const owner = await db.prisma.member.create({ data: { displayName: `Test Owner ${i}`, agency: 'idva' } });
    owners.push(owner.id);
    for (const due of list) await addAction(owner.id, due);
  }
  const panel = await db.prisma.panel.create({ data: { meetingKey: meeting.key, kind: 'marac', title: 'Test MARAC', startsAt: at('2026-03-10T10:00:00Z'), createdBy: 'test' } });
  return { chairs, owners, panelId: panel.id, actionsOf, overdueOwner: owners[2]! };
}

/** What runReminders puts in the outbox for a plan (the same keys and payloads), without sending. */
async function enqueuePlan(db: TestDatabase, now: Date): Promise<PlannedReminder[]> {
  const plan = await planFor(db, meeting, now, policy);
  await enqueue(
    db.prisma,
    plan.map((r) => ({
      key: `${meeting.key}|${r.key}`,
      kind: r.kind,
      meetingKey: meeting.key,
      recipient: String(r.recipientId),
      payload: { kind: r.kind, actionIds: r.actionIds, day: r.day, ...(r.panelId ? { panelId: r.panelId, daysBefore: r.daysBefore } : {}) },
    })),
    now,
  );
  return plan;
}

describe.each(databaseTargets)('runReminders on $name', (target) => {
  let db: TestDatabase;
  let chat: RecordingChat;

  const deps = (instanceId: string, clock: ManualClock, more: Partial<ReminderDeps> = {}): ReminderDeps => ({
    db,
    chats: new Map([[meeting.platform, chat]]),
    clock,
    log: silent,
    instanceId,
    policy,
    concurrency: 4,
    baseDelayMs: 20,
    ...more,
  });
  const run = (instanceId: string, clock: ManualClock, more: Partial<ReminderDeps> = {}): Promise<RunSummary> => runReminders(deps(instanceId, clock, more), [meeting]);
  const rows = () => db.prisma.outboxMessage.findMany({ orderBy: { id: 'asc' } });
  const rowFor = async (reminderKey: string) => db.prisma.outboxMessage.findUniqueOrThrow({ where: { key: `${meeting.key}|${reminderKey}` } });

  beforeAll(async () => {
    db = await target.create();
  });
  afterAll(() => db.destroy());
  beforeEach(async () => {
    await db.prisma.outboxMessage.deleteMany();
    await db.prisma.actionUpdate.deleteMany();
    await db.prisma.action.deleteMany();
    await db.prisma.panel.deleteMany();
    await db.prisma.member.deleteMany();
    chat = new RecordingChat();
  });

  it('sends each planned reminder once, and a second run at the same instant sends nothing', async () => {
    const s = await seed(db);
    const [o0, o1, o2, o3] = s.owners as [number, number, number, number];
    const clock = manualClock(tuesday);

    const first = await run('a', clock);
    expect(first).toEqual({ planned: 4, enqueued: 4, sent: 4, retried: 0, failed: 0 });
    expect(chat.sends.map((x) => [x.recipient.memberId, x.view.kind]).sort()).toEqual(
      [[o0, 'panel'], [o1, 'panel'], [o2, 'nudge'], [o2, 'panel']].sort(),
    );
    expect(chat.sendsTo(o3)).toEqual([]);
    // Owner 0's two actions are in one reminder; the heading names the panel.
    const [toO0] = chat.sendsTo(o0, 'panel');
    expect(toO0!.view.actions.map((a) => a.id)).toEqual(s.actionsOf.get(o0)!.map((id) => `A-${id}`));
    expect(toO0!.view.heading).toMatch(/^Before Test MARAC \(.+\) on .+: please report progress on your 2 open actions\.$/);
    expect(chat.sendsTo(o2, 'nudge')[0]!.view.heading).toMatch(/overdue/);

    const outbox = await rows();
    expect(outbox.map((r) => r.key).sort()).toEqual(
      [`panel:${s.panelId}:before:5:to:${o0}`, `panel:${s.panelId}:before:5:to:${o1}`, `panel:${s.panelId}:before:5:to:${o2}`, `nudge:2026-03-03:to:${o2}`].map((k) => `${meeting.key}|${k}`).sort(),
    );
    for (const row of outbox) expect(row).toMatchObject({ status: 'sent', attempts: 1, claimedBy: 'a', lastError: null, messageRef: expect.stringMatching(/^dm-\d+$/) });
    const audits = await db.prisma.auditEvent.findMany({ where: { action: 'reminder.sent', subject: { in: outbox.map((r) => r.key) } } });
    expect(audits).toHaveLength(4);

    const second = await run('b', clock);
    // The nudge is not even planned again: owner 2 was nudged today.
    expect(second).toEqual({ planned: 3, enqueued: 0, sent: 0, retried: 0, failed: 0 });
    expect(chat.sends).toHaveLength(4);
  });

  it('sends each reminder exactly once when three runners race', async () => {
    const s = await seed(db, { extraOwners: 20 });
    chat.delayMs = 15;
    const clock = manualClock(tuesday);
    const summaries = await Promise.all(['a', 'b', 'c'].map((id) => run(id, clock)));
    const expected = s.owners.length - 1 + 1; // a panel reminder to every owner but owner 3, and one nudge
    expect(summaries.reduce((n, x) => n + x.sent, 0)).toBe(expected);
    expect(summaries.reduce((n, x) => n + x.enqueued, 0)).toBe(expected);
    const byIdentity = new Map<string, number>();
    for (const x of chat.sends) byIdentity.set(`${x.recipient.memberId}:${x.view.kind}`, (byIdentity.get(`${x.recipient.memberId}:${x.view.kind}`) ?? 0) + 1);
    expect(byIdentity.size).toBe(expected);
    expect([...byIdentity.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const outbox = await rows();
    expect(outbox).toHaveLength(expected);
    expect(outbox.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
    // More than one runner did some of the work (not a requirement, but the race was real).
    expect(new Set(outbox.map((r) => r.claimedBy)).size).toBeGreaterThan(1);
  });

  it('retries a transient failure and sends once (2 attempts)', async () => {
    const s = await seed(db);
    const o1 = s.owners[1]!;
    chat.failNext(o1, new DeliveryError('HTTP 500', 'transient'));
    const clock = manualClock(tuesday);
    const summary = await ticking(clock, () => run('a', clock));
    expect(summary).toEqual({ planned: 4, enqueued: 4, sent: 4, retried: 1, failed: 0 });
    expect(chat.failed.map((f) => [f.memberId, f.kind])).toEqual([[o1, 'transient']]);
    expect(chat.sendsTo(o1)).toHaveLength(1);
    expect(chat.sends).toHaveLength(4);
    expect(await rowFor(`panel:${s.panelId}:before:5:to:${o1}`)).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
  });

  it('waits out a rate limit (Retry-After 200 ms) within the same run, then sends once', async () => {
    const s = await seed(db);
    const o1 = s.owners[1]!;
    chat.failNext(o1, new DeliveryError('429', 'rate-limited', 200));
    const clock = manualClock(tuesday);
    const started = Date.now();
    const summary = await ticking(clock, () => run('a', clock));
    expect(summary).toEqual({ planned: 4, enqueued: 4, sent: 4, retried: 1, failed: 0 });
    expect(chat.sendsTo(o1)).toHaveLength(1);
    const limitedAt = chat.failed[0]!.at;
    expect(chat.sendsTo(o1)[0]!.at - limitedAt).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(10_000);
    // (Not asserting `attempts`: whether waiting out a rate limit should count as an attempt is the
    // subject of the retry-budget test at the end.)
    expect(await rowFor(`panel:${s.panelId}:before:5:to:${o1}`)).toMatchObject({ status: 'sent', lastError: null });
  });

  it('marks a permanent failure failed, tells each chair once, and does not try it again', async () => {
    const s = await seed(db);
    const o1 = s.owners[1]!;
    chat.failNext(o1, new DeliveryError('Slack refused: user_not_found', 'permanent'));
    const clock = manualClock(tuesday);
    const summary = await run('a', clock);
    expect(summary).toMatchObject({ planned: 4, enqueued: 4, failed: 1 });
    const failedKey = `${meeting.key}|panel:${s.panelId}:before:5:to:${o1}`;
    expect(await rowFor(`panel:${s.panelId}:before:5:to:${o1}`)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'Slack refused: user_not_found' });
    expect(chat.sendsTo(o1)).toEqual([]);
    for (const chair of s.chairs) {
      const told = chat.sendsTo(chair, 'failure');
      expect(told).toHaveLength(1);
      expect(told[0]!.view.heading).toMatch(/^A reminder to Test Owner 1 \(idva\) could not be delivered\./);
      expect(told[0]!.view.heading).not.toContain(failedKey);
      expect(told[0]!.view.actions.map((a) => a.id)).toEqual(s.actionsOf.get(o1)!.map((id) => `A-${id}`));
      expect(await db.prisma.outboxMessage.findUniqueOrThrow({ where: { key: `${failedKey}|failed|to:${chair}` } })).toMatchObject({ status: 'sent', kind: 'failure' });
    }
    // Three reminders to the others, two failure reports.
    expect(summary.sent).toBe(5);
    expect(chat.sends).toHaveLength(5);

    const again = await run('b', clock);
    expect(again.sent).toBe(0);
    expect(chat.sends).toHaveLength(5);
    expect(await rowFor(`panel:${s.panelId}:before:5:to:${o1}`)).toMatchObject({ status: 'failed' });
  });

  it('tells the chairs when a reminder could only go to the meeting channel', async () => {
    const s = await seed(db);
    const o1 = s.owners[1]!;
    chat.noDirect.add(o1);
    const clock = manualClock(tuesday);
    const summary = await run('a', clock);
    expect(summary).toMatchObject({ enqueued: 4, failed: 0, sent: 6 });
    expect(chat.sendsTo(o1)).toHaveLength(1);
    expect(chat.sends.every((x) => x.fallbackChannel === meeting.channel)).toBe(true);
    const key = `${meeting.key}|panel:${s.panelId}:before:5:to:${o1}`;
    expect(await rowFor(`panel:${s.panelId}:before:5:to:${o1}`)).toMatchObject({ status: 'sent', messageRef: expect.stringMatching(/^channel:post-\d+$/) });
    for (const chair of s.chairs) {
      const told = chat.sendsTo(chair, 'fallback');
      expect(told).toHaveLength(1);
      expect(told[0]!.view.heading).toMatch(/^A reminder to Test Owner 1 \(idva\) went to the meeting channel with a mention/);
      expect(await db.prisma.outboxMessage.findUniqueOrThrow({ where: { key: `${key}|in-channel|to:${chair}` } })).toMatchObject({ status: 'sent', kind: 'fallback' });
    }
    expect((await run('b', clock)).sent).toBe(0);
  });

  it('gives up on a transient failure after maxAttempts and reports it', async () => {
    const s = await seed(db);
    const o1 = s.owners[1]!;
    chat.failNext(o1, new DeliveryError('HTTP 503', 'transient'), 3);
    const clock = manualClock(tuesday);
    const summary = await ticking(clock, () => run('a', clock, { maxAttempts: 3, baseDelayMs: 5 }));
    expect(summary).toMatchObject({ retried: 2, failed: 1 });
    expect(await rowFor(`panel:${s.panelId}:before:5:to:${o1}`)).toMatchObject({ status: 'failed', attempts: 3, lastError: 'HTTP 503' });
    for (const chair of s.chairs) expect(chat.sendsTo(chair, 'failure')).toHaveLength(1);
  });

  it('leaves a crashed runner’s claim alone for the lease, then sends it exactly once', async () => {
    const s = await seed(db);
    const clock = manualClock(tuesday);
    const plan = await enqueuePlan(db, tuesday);
    expect(plan).toHaveLength(4);
    // Another instance claims one reminder and dies before sending it.
    const [dead] = await claimDue(db.prisma, 'dead', tuesday, reminderLeaseMs, 1, [meeting.key]);
    expect(dead).toBeDefined();

    clock.set(at('2026-03-03T10:01:00Z'));
    const within = await run('b', clock);
    // enqueued 0: this test's enqueue made exactly the rows runReminders would have.
    expect(within).toEqual({ planned: 4, enqueued: 0, sent: 3, retried: 0, failed: 0 });
    expect(await db.prisma.outboxMessage.findUniqueOrThrow({ where: { id: dead!.id } })).toMatchObject({ status: 'claimed', claimedBy: 'dead', attempts: 1 });
    const recipient = Number(dead!.recipient);
    const deadKind = (dead!.payload as { kind: string }).kind;
    expect(chat.sendsTo(recipient, deadKind as ReminderView['kind'])).toEqual([]);

    // Exactly at the end of the lease the claim still stands; a moment later it is stale.
    clock.set(new Date(tuesday.getTime() + reminderLeaseMs));
    expect((await run('c', clock)).sent).toBe(0);
    clock.set(new Date(tuesday.getTime() + reminderLeaseMs + 1));
    expect((await run('c', clock)).sent).toBe(1);
    expect(chat.sendsTo(recipient, deadKind as ReminderView['kind'])).toHaveLength(1);
    expect(await db.prisma.outboxMessage.findUniqueOrThrow({ where: { id: dead!.id } })).toMatchObject({ status: 'sent', claimedBy: 'c', attempts: 2 });

    clock.set(at('2026-03-03T10:10:00Z'));
    expect((await run('d', clock)).sent).toBe(0);
    expect(chat.sends).toHaveLength(4);
    expect(s.owners).toHaveLength(4);
  });

  it('sends nothing for a reminder whose actions were all closed after it was planned', async () => {
    const s = await seed(db);
    const [o0, o1] = s.owners as [number, number];
    await enqueuePlan(db, tuesday);
    // Owner 1 closes their only action; owner 0 closes one of two.
    await db.prisma.action.update({ where: { id: s.actionsOf.get(o1)![0]! }, data: { status: 'done', closedAt: tuesday } });
    await db.prisma.action.update({ where: { id: s.actionsOf.get(o0)![0]! }, data: { status: 'done', closedAt: tuesday } });
    const clock = manualClock(at('2026-03-03T10:00:30Z'));
    const summary = await run('a', clock);
    expect(summary).toMatchObject({ enqueued: 0, sent: 4, failed: 0 });
    expect(chat.sendsTo(o1)).toEqual([]);
    expect(await rowFor(`panel:${s.panelId}:before:5:to:${o1}`)).toMatchObject({ status: 'sent', messageRef: 'nothing-left' });
    expect(chat.sendsTo(o0, 'panel')[0]!.view.actions.map((a) => a.id)).toEqual([`A-${s.actionsOf.get(o0)![1]}`]);
    expect(chat.sendsTo(o0, 'panel')[0]!.view.heading).toMatch(/your open action\.$/);
    expect(chat.sends).toHaveLength(3);
  });

  it('records the nudge day: no nudge the next day, another two working days later', async () => {
    const s = await seed(db);
    const o2 = s.overdueOwner;
    const [overdueAction] = s.actionsOf.get(o2)!;
    const clock = manualClock(tuesday);
    await run('a', clock);
    expect(chat.sendsTo(o2, 'nudge')).toHaveLength(1);
    expect((await db.prisma.action.findUniqueOrThrow({ where: { id: overdueAction! } })).lastNudgedOn).toEqual(dateOf('2026-03-03'));
    // Panel reminders do not count as nudges.
    for (const id of s.actionsOf.get(s.owners[0]!)!) expect((await db.prisma.action.findUniqueOrThrow({ where: { id } })).lastNudgedOn).toBeNull();

    clock.set(at('2026-03-04T10:00:00Z'));
    expect(await run('a', clock)).toMatchObject({ sent: 0 });
    expect(chat.sendsTo(o2, 'nudge')).toHaveLength(1);

    clock.set(at('2026-03-05T10:00:00Z'));
    expect(await run('a', clock)).toMatchObject({ sent: 1 });
    expect(chat.sendsTo(o2, 'nudge')).toHaveLength(2);
    expect((await db.prisma.action.findUniqueOrThrow({ where: { id: overdueAction! } })).lastNudgedOn).toEqual(dateOf('2026-03-05'));
    expect(await rowFor(`nudge:2026-03-05:to:${o2}`)).toMatchObject({ status: 'sent' });
  });

  it('holds back reminders about a snoozed action until the snooze is over', async () => {
    const s = await seed(db);
    const o2 = s.overdueOwner;
    const [overdueAction] = s.actionsOf.get(o2)!;
    // Monday 2 March: owner 2 snoozes it for 2 days (until Wednesday 4 March).
    const snoozed = await changeAction(db, meeting, actorOf('console', 'operator', null), overdueAction!, { kind: 'snooze', days: 2 }, at('2026-03-02T16:00:00Z'));
    expect(snoozed.ok).toBe(true);
    const clock = manualClock(tuesday);
    await run('a', clock);
    expect(chat.sendsTo(o2)).toEqual([]);
    clock.set(at('2026-03-04T10:00:00Z'));
    await run('a', clock);
    expect(chat.sendsTo(o2)).toEqual([]);
    clock.set(at('2026-03-05T10:00:00Z'));
    await run('a', clock);
    expect(chat.sendsTo(o2).map((x) => x.view.kind).sort()).toEqual(['nudge', 'panel']);
  });

  it('plans nothing outside working hours, and puts back a pending reminder claimed then', async () => {
    await seed(db);
    const evening = manualClock(at('2026-03-03T18:30:00Z'));
    expect(await run('a', evening)).toEqual({ planned: 0, enqueued: 0, sent: 0, retried: 0, failed: 0 });
    expect(await rows()).toEqual([]);

    // Planned at 17:00 but not sent then (say the process stopped): claimed at 18:30, put back.
    await enqueuePlan(db, at('2026-03-03T17:00:00Z'));
    const summary = await run('a', evening);
    expect(summary).toEqual({ planned: 0, enqueued: 0, sent: 0, retried: 4, failed: 0 });
    expect(chat.sends).toEqual([]);
    for (const row of await rows()) {
      expect(row).toMatchObject({ status: 'pending', claimedBy: null, claimedAt: null, lastError: 'outside working hours' });
      expect(row.notBefore.getTime()).toBeGreaterThan(evening.now().getTime());
    }
    // Sunday: still nothing.
    expect((await run('a', manualClock(at('2026-03-08T12:00:00Z')))).sent).toBe(0);
    expect(chat.sends).toEqual([]);
  });

  // ---- reported defects: these assert the intended behaviour ----

  it('does not send yesterday’s held-back nudge as well as today’s the next morning', async () => {
    const s = await seed(db);
    const o2 = s.overdueOwner;
    await enqueuePlan(db, at('2026-03-03T17:59:00Z'));
    await run('a', manualClock(at('2026-03-03T18:00:00Z'))); // put back: outside working hours
    const morning = manualClock(at('2026-03-04T08:00:00Z'));
    await run('a', morning);
    // One nudge to owner 2 on Wednesday morning, not Tuesday's and Wednesday's together.
    expect(chat.sendsTo(o2, 'nudge')).toHaveLength(1);
    expect(chat.sendsTo(o2, 'panel')).toHaveLength(1);
  });

  it('keeps the retry budget for real failures when a reminder waits overnight', async () => {
    const s = await seed(db, { withOverdue: false });
    const o1 = s.owners[1]!;
    await enqueuePlan(db, at('2026-03-03T17:59:00Z'));
    // The schedule runs every minute; a held-back reminder is claimed and put back every 15 minutes.
    const clock = manualClock(at('2026-03-03T18:00:00Z'));
    while (clock.now() < at('2026-03-04T08:00:00Z')) {
      await run('a', clock);
      clock.advance(60_000 * 16);
    }
    expect(chat.sends).toEqual([]);
    const heldBack = await rowFor(`panel:${s.panelId}:before:5:to:${o1}`);
    // One 5xx in the morning must be retried, not turned into a permanent failure. (08:20: the last
    // put-back of the night asked for "not before" some time after 08:00.)
    chat.failNext(o1, new DeliveryError('HTTP 500', 'transient'));
    clock.set(at('2026-03-04T08:20:00Z'));
    const summary = await ticking(clock, () => run('a', clock));
    expect(summary.failed, `after the night the reminder had used ${heldBack.attempts} attempt(s) without being sent once`).toBe(0);
    expect(chat.sendsTo(o1, 'panel')).toHaveLength(1);
    for (const chair of s.chairs) expect(chat.sendsTo(chair, 'failure')).toEqual([]);
  });

  it('keeps the retry budget for real failures when a reminder meets several rate limits', async () => {
    const s = await seed(db);
    const o1 = s.owners[1]!;
    chat.failNext(o1, new DeliveryError('429', 'rate-limited', 20), 4);
    chat.failNext(o1, new DeliveryError('HTTP 500', 'transient'));
    const clock = manualClock(tuesday);
    const summary = await ticking(clock, () => run('a', clock));
    expect(summary.failed).toBe(0);
    expect(chat.sendsTo(o1, 'panel')).toHaveLength(1);
  });
});

// Checks when each meeting's agenda is due (working days, cutoff, clock changes, bank holidays) and
// that the scheduler posts once a day per meeting, retries failures, and survives a post that throws.
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import cron from 'node-cron';
import { pino } from 'pino';
import { agendaDueAt, startAgendaScheduler, type AgendaScheduler, type PostAgendaFor } from '../../src/scheduler/agenda-scheduler.js';
import { manualClock } from '../../src/scheduler/clock.js';
import type { Meeting } from '../../src/domain/meeting.js';
import type { PostAgendaOutcome } from '../../src/app/post-agenda.js';

function meeting(overrides: Partial<Meeting> = {}): Meeting {
  return {
    key: 'slack:C0TESTDMM1',
    name: 'Test DMM North',
    platform: 'slack',
    channel: 'C0TESTDMM1',
    time: '09:00',
    timeZone: 'Europe/London',
    holidays: 'england-and-wales',
    holidayOverrides: {},
    areas: ['Test Area North'],
    ...overrides,
  };
}

const at = (iso: string) => new Date(iso);

describe('agendaDueAt', () => {
  const m = meeting();

  // Monday 2 March 2026 is in GMT, so London wall-clock time equals UTC.
  it.each([
    ['Monday 08:59:59, a second before the cutoff', '2026-03-02T08:59:59Z', undefined],
    ['Monday 09:00:00, the cutoff itself', '2026-03-02T09:00:00Z', '2026-03-02'],
    ['Monday 09:00:01', '2026-03-02T09:00:01Z', '2026-03-02'],
    ['Monday 23:59', '2026-03-02T23:59:00Z', '2026-03-02'],
    ['Monday 23:59:59.999', '2026-03-02T23:59:59.999Z', '2026-03-02'],
    ['Tuesday 00:00:30, before Tuesday’s cutoff', '2026-03-03T00:00:30Z', undefined],
    ['Tuesday 09:00', '2026-03-03T09:00:00Z', '2026-03-03'],
    ['Friday 17:00', '2026-03-06T17:00:00Z', '2026-03-06'],
    ['Saturday 11:00', '2026-03-07T11:00:00Z', undefined],
    ['Sunday 09:30', '2026-03-08T09:30:00Z', undefined],
  ] as const)('%s (%s) → %s', (_label, iso, expected) => {
    expect(agendaDueAt(m, at(iso))).toBe(expected);
  });

  it('is not due on Good Friday or Easter Monday (England and Wales bank holidays)', () => {
    // 3 and 6 April 2026 are in BST: 10:00 local is 09:00Z.
    expect(agendaDueAt(m, at('2026-04-03T09:00:00Z'))).toBeUndefined();
    expect(agendaDueAt(m, at('2026-04-06T09:00:00Z'))).toBeUndefined();
    expect(agendaDueAt(m, at('2026-04-02T09:00:00Z'))).toBe('2026-04-02');
    expect(agendaDueAt(m, at('2026-04-07T09:00:00Z'))).toBe('2026-04-07');
  });

  it('uses the meeting’s calendar division and overrides', () => {
    // 2 January is a bank holiday in Scotland only (2026-01-02 is a Friday).
    expect(agendaDueAt(m, at('2026-01-02T10:00:00Z'))).toBe('2026-01-02');
    expect(agendaDueAt(meeting({ holidays: 'scotland' }), at('2026-01-02T10:00:00Z'))).toBeUndefined();
    expect(agendaDueAt(meeting({ holidayOverrides: { extraHolidays: ['2026-03-02'] } }), at('2026-03-02T10:00:00Z'))).toBeUndefined();
    expect(agendaDueAt(meeting({ holidayOverrides: { notHolidays: ['2026-04-03'] } }), at('2026-04-03T09:00:00Z'))).toBe('2026-04-03');
  });

  it('follows British Summer Time: 09:00 BST is 08:00Z', () => {
    // Monday 1 June 2026.
    expect(agendaDueAt(m, at('2026-06-01T07:59:59Z'))).toBeUndefined();
    expect(agendaDueAt(m, at('2026-06-01T08:00:00Z'))).toBe('2026-06-01');
    // 23:30Z on Monday is already 00:30 BST on Tuesday, before Tuesday’s meeting.
    expect(agendaDueAt(m, at('2026-06-01T23:30:00Z'))).toBeUndefined();
  });

  it('handles the day the clocks go forward and the day after', () => {
    // Monday 30 March 2026, first working day in BST.
    expect(agendaDueAt(m, at('2026-03-30T08:00:00Z'))).toBe('2026-03-30');
    expect(agendaDueAt(m, at('2026-03-30T07:59:00Z'))).toBeUndefined();
  });

  it('reads the meeting’s own time and zone', () => {
    const belfastEarly = meeting({ time: '08:15', holidays: 'northern-ireland' });
    expect(agendaDueAt(belfastEarly, at('2026-03-02T08:14:59Z'))).toBeUndefined();
    expect(agendaDueAt(belfastEarly, at('2026-03-02T08:15:00Z'))).toBe('2026-03-02');
    // St Patrick's Day is a bank holiday in Northern Ireland only.
    expect(agendaDueAt(belfastEarly, at('2026-03-17T10:00:00Z'))).toBeUndefined();
    expect(agendaDueAt(m, at('2026-03-17T10:00:00Z'))).toBe('2026-03-17');
  });
});

describe('startAgendaScheduler', () => {
  const log = pino({ level: 'silent' });
  const posted = (): PostAgendaOutcome => ({ outcome: 'posted', messageRef: 'TEST-MSG-1', parts: 1, late: false });
  const failed = (): PostAgendaOutcome => ({ outcome: 'failed', reason: 'test failure' });
  let scheduler: AgendaScheduler | undefined;

  beforeEach(() => {
    // Keep node-cron's real timers from firing mid-test: only tick() moves the scheduler here.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  });

  afterEach(() => {
    scheduler?.stop();
    scheduler = undefined;
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('posts once per meeting per day once the post succeeds', async () => {
    const m = meeting();
    const clock = manualClock(at('2026-03-02T08:59:00Z'));
    const post = vi.fn<PostAgendaFor>(async () => posted());
    scheduler = startAgendaScheduler([m], post, clock, log);

    await scheduler.tick();
    expect(post).not.toHaveBeenCalled();

    clock.set(at('2026-03-02T09:00:00Z'));
    await scheduler.tick();
    await scheduler.tick();
    clock.advance(5 * 60_000);
    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(1);
    expect(post).toHaveBeenCalledWith(m, '2026-03-02');

    // The next working day is a new day.
    clock.set(at('2026-03-03T09:01:00Z'));
    await scheduler.tick();
    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(2);
    expect(post).toHaveBeenLastCalledWith(m, '2026-03-03');
  });

  it('treats "already-posted" as settled too', async () => {
    const clock = manualClock(at('2026-03-02T09:30:00Z'));
    const post = vi.fn<PostAgendaFor>(async () => ({ outcome: 'already-posted', messageRef: 'TEST-MSG-0' }));
    scheduler = startAgendaScheduler([meeting()], post, clock, log);
    await scheduler.tick();
    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(1);
  });

  it('tries again on a later tick after "failed" or "in-progress", until posted', async () => {
    const m = meeting();
    const clock = manualClock(at('2026-03-02T09:00:00Z'));
    const post = vi
      .fn<PostAgendaFor>()
      .mockResolvedValueOnce(failed())
      .mockResolvedValueOnce({ outcome: 'in-progress' })
      .mockResolvedValue(posted());
    scheduler = startAgendaScheduler([m], post, clock, log);

    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(1);
    clock.advance(60_000);
    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(2);
    clock.advance(60_000);
    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(3);
    clock.advance(60_000);
    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(3);
    for (const call of post.mock.calls) expect(call).toEqual([m, '2026-03-02']);
  });

  it('ticks every meeting, and settles each on its own', async () => {
    const north = meeting();
    const south = meeting({ key: 'slack:C0TESTDMM2', channel: 'C0TESTDMM2', name: 'Test DMM South', areas: ['Test Area South'] });
    const clock = manualClock(at('2026-03-02T09:05:00Z'));
    const post = vi.fn<PostAgendaFor>(async (m) => (m.key === north.key ? posted() : failed()));
    scheduler = startAgendaScheduler([north, south], post, clock, log);

    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(2);
    expect(post).toHaveBeenCalledWith(north, '2026-03-02');
    expect(post).toHaveBeenCalledWith(south, '2026-03-02');

    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(3);
    expect(post).toHaveBeenLastCalledWith(south, '2026-03-02');
  });

  it('ticks only the meetings that are due', async () => {
    const nine = meeting();
    const ten = meeting({ key: 'slack:C0TESTDMM3', channel: 'C0TESTDMM3', time: '10:00' });
    const clock = manualClock(at('2026-03-02T09:30:00Z'));
    const post = vi.fn<PostAgendaFor>(async () => posted());
    scheduler = startAgendaScheduler([nine, ten], post, clock, log);
    await scheduler.tick();
    expect(post.mock.calls.map(([m]) => m.key)).toEqual([nine.key]);
    clock.set(at('2026-03-02T10:00:00Z'));
    await scheduler.tick();
    expect(post.mock.calls.map(([m]) => m.key)).toEqual([nine.key, ten.key]);
  });

  it('logs a post that throws, and tries again on the next tick', async () => {
    const m = meeting();
    const clock = manualClock(at('2026-03-02T09:00:00Z'));
    const error = vi.spyOn(log, 'error');
    const post = vi
      .fn<PostAgendaFor>()
      .mockRejectedValueOnce(new Error('test boom'))
      .mockResolvedValue(posted());
    scheduler = startAgendaScheduler([m], post, clock, log);

    await expect(scheduler.tick()).resolves.toBeUndefined();
    expect(error).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledWith({ meeting: m.key, err: { message: 'test boom' } }, 'agenda tick failed');

    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(2);
    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(2);
    expect(error).toHaveBeenCalledTimes(1);
  });

  it('does not let one meeting’s throw stop another meeting’s post', async () => {
    const north = meeting();
    const south = meeting({ key: 'slack:C0TESTDMM2', channel: 'C0TESTDMM2' });
    const clock = manualClock(at('2026-03-02T09:00:00Z'));
    const post = vi.fn<PostAgendaFor>(async (m) => {
      if (m.key === north.key) throw new Error('test boom');
      return posted();
    });
    scheduler = startAgendaScheduler([north, south], post, clock, log);
    await scheduler.tick();
    expect(post).toHaveBeenCalledWith(south, '2026-03-02');
    await scheduler.tick();
    expect(post.mock.calls.map(([m]) => m.key)).toEqual([north.key, south.key, north.key]);
  });

  it('makes one attempt at a time per meeting', async () => {
    const clock = manualClock(at('2026-03-02T09:00:00Z'));
    let release: (outcome: PostAgendaOutcome) => void = () => {};
    const post = vi
      .fn<PostAgendaFor>()
      .mockImplementationOnce(
        () =>
          new Promise<PostAgendaOutcome>((resolve) => {
            release = resolve;
          }),
      )
      .mockResolvedValue(posted());
    scheduler = startAgendaScheduler([meeting()], post, clock, log);
    const first = scheduler.tick();
    await scheduler.tick();
    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(1);
    release(failed());
    await first;
    await scheduler.tick();
    expect(post).toHaveBeenCalledTimes(2);
  });

  it('never posts on a weekend or bank holiday, however often it ticks', async () => {
    const clock = manualClock(at('2026-03-07T00:00:00Z'));
    const post = vi.fn<PostAgendaFor>(async () => posted());
    scheduler = startAgendaScheduler([meeting()], post, clock, log);
    for (let hour = 0; hour < 48; hour++) {
      await scheduler.tick();
      clock.advance(3_600_000);
    }
    clock.set(at('2026-04-03T09:00:00Z'));
    await scheduler.tick();
    expect(post).not.toHaveBeenCalled();
  });

  it('schedules a weekday cron job at each meeting’s local time plus a minute catch-up, and stops them', () => {
    const before = new Set(cron.getTasks().keys());
    const m = meeting({ key: 'slack:C0TESTCRON', channel: 'C0TESTCRON', time: '08:45' });
    const s = startAgendaScheduler([m], vi.fn<PostAgendaFor>(), manualClock(at('2026-03-02T09:00:00Z')), log);
    const created = [...cron.getTasks().values()].filter((t) => !before.has(t.id));
    expect(created.map((t) => [t.name, t.getPattern()]).sort()).toEqual([
      ['agenda catch-up', '* * * * *'],
      [`agenda ${m.key}`, '45 8 * * 1-5'],
    ]);
    for (const task of created) expect(task.getStatus()).not.toBe('stopped');
    s.stop();
    for (const task of created) {
      expect(task.getStatus()).toBe('stopped');
      void task.destroy();
    }
  });
});

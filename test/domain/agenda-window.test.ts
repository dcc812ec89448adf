// Checks which instants each meeting's agenda window covers across weekends, holidays and clock changes.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { addCalendarDays, holidayDivisions, workingCalendar } from '../../src/domain/calendar.js';
import {
  NotAWorkingDayError,
  agendaWindowContaining,
  agendaWindowFor,
  cutoffOf,
  inWindow,
  localDateOf,
  localTimeOf,
  meetingDayFor,
  type AgendaWindow,
} from '../../src/domain/agenda-window.js';

const ew = workingCalendar('england-and-wales');
const scot = workingCalendar('scotland');
const ni = workingCalendar('northern-ireland');
const nine = { time: '09:00', timeZone: 'Europe/London' };
const HOUR = 60 * 60 * 1000;

function iso(w: AgendaWindow): [string, string] {
  return [w.start.toISOString(), w.end.toISOString()];
}

function hours(w: AgendaWindow): number {
  return (w.end.getTime() - w.start.getTime()) / HOUR;
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('cutoffOf', () => {
  it('reads the wall clock in GMT and BST', () => {
    expect(cutoffOf('2026-11-10', '09:00', 'Europe/London').toISOString()).toBe('2026-11-10T09:00:00.000Z');
    expect(cutoffOf('2026-07-07', '09:00', 'Europe/London').toISOString()).toBe('2026-07-07T08:00:00.000Z');
    expect(cutoffOf('2026-11-10', '09:30', 'America/New_York').toISOString()).toBe('2026-11-10T14:30:00.000Z');
  });

  it('moves a time skipped by clocks going forward on by the gap', () => {
    // 01:30 does not exist on 28 Mar 2027 in the UK; it becomes 02:30 BST.
    expect(cutoffOf('2027-03-28', '01:30', 'Europe/London').toISOString()).toBe('2027-03-28T01:30:00.000Z');
    expect(cutoffOf('2027-03-28', '01:00', 'Europe/London').toISOString()).toBe('2027-03-28T01:00:00.000Z');
    expect(cutoffOf('2027-03-28', '02:00', 'Europe/London').toISOString()).toBe('2027-03-28T01:00:00.000Z');
  });

  it('takes the later of a time repeated by clocks going back', () => {
    // 01:30 happens at 00:30Z (BST) and again at 01:30Z (GMT) on 31 Oct 2027.
    expect(cutoffOf('2027-10-31', '01:30', 'Europe/London').toISOString()).toBe('2027-10-31T01:30:00.000Z');
    expect(cutoffOf('2027-10-31', '02:00', 'Europe/London').toISOString()).toBe('2027-10-31T02:00:00.000Z');
  });

  it('rejects bad input', () => {
    expect(() => cutoffOf('2026-11-10', '9:00', 'Europe/London')).toThrow(RangeError);
    expect(() => cutoffOf('2026-11-10', '24:00', 'Europe/London')).toThrow(RangeError);
    expect(() => cutoffOf('2026-11-10', '09:60', 'Europe/London')).toThrow(RangeError);
    expect(() => cutoffOf('2026-11-31', '09:00', 'Europe/London')).toThrow(RangeError);
    expect(() => cutoffOf('2026-11-10', '09:00', 'Europe/Atlantis')).toThrow(/time zone/);
    expect(() => cutoffOf('2026-11-10', '09:00', 'Nope+05')).toThrow(/time zone/);
  });
});

describe('agendaWindowFor', () => {
  it('a normal Tuesday covers Monday 09:00 to Tuesday 09:00', () => {
    const w = agendaWindowFor('2026-11-10', nine, ew);
    expect(w.meetingDate).toBe('2026-11-10');
    expect(iso(w)).toEqual(['2026-11-09T09:00:00.000Z', '2026-11-10T09:00:00.000Z']);
    expect(hours(w)).toBe(24);
  });

  it('a summer Tuesday is 24 hours of BST', () => {
    const w = agendaWindowFor('2026-07-07', nine, ew);
    expect(iso(w)).toEqual(['2026-07-06T08:00:00.000Z', '2026-07-07T08:00:00.000Z']);
  });

  it('a winter Monday reaches back to Friday: 72 hours', () => {
    const w = agendaWindowFor('2026-11-16', nine, ew);
    expect(iso(w)).toEqual(['2026-11-13T09:00:00.000Z', '2026-11-16T09:00:00.000Z']);
    expect(hours(w)).toBe(72);
  });

  it('the Monday after clocks go forward (Sun 29 Mar 2026) is 71 hours', () => {
    const w = agendaWindowFor('2026-03-30', nine, ew);
    expect(iso(w)).toEqual(['2026-03-27T09:00:00.000Z', '2026-03-30T08:00:00.000Z']);
    expect(hours(w)).toBe(71);
  });

  it('Monday 29 Mar 2027, after clocks go forward, is Easter Monday except in Scotland', () => {
    expect(thrown(() => agendaWindowFor('2027-03-29', nine, ew))).toBeInstanceOf(NotAWorkingDayError);
    // Scotland works Easter Monday but not Good Friday: Thursday 09:00 GMT to Monday 09:00 BST.
    const w = agendaWindowFor('2027-03-29', nine, scot);
    expect(iso(w)).toEqual(['2027-03-25T09:00:00.000Z', '2027-03-29T08:00:00.000Z']);
    expect(hours(w)).toBe(95);
  });

  it('the Monday after clocks go back (Sun 31 Oct 2027) is 73 hours', () => {
    const w = agendaWindowFor('2027-11-01', nine, ew);
    expect(iso(w)).toEqual(['2027-10-29T08:00:00.000Z', '2027-11-01T09:00:00.000Z']);
    expect(hours(w)).toBe(73);
  });

  it('the Tuesday after Easter 2027 reaches back over Good Friday and the clock change', () => {
    const w = agendaWindowFor('2027-03-30', nine, ew);
    expect(iso(w)).toEqual(['2027-03-25T09:00:00.000Z', '2027-03-30T08:00:00.000Z']);
    expect(localTimeOf(w.start, 'Europe/London')).toBe('09:00');
    expect(localTimeOf(w.end, 'Europe/London')).toBe('09:00');
  });

  it('Tuesday 29 Dec 2026 covers Christmas from Thursday 24 Dec', () => {
    expect(iso(agendaWindowFor('2026-12-29', nine, ew))).toEqual([
      '2026-12-24T09:00:00.000Z',
      '2026-12-29T09:00:00.000Z',
    ]);
  });

  it('Monday 4 Jan 2027 covers New Year from Thursday 31 Dec in England; Scotland meets on the 5th', () => {
    expect(iso(agendaWindowFor('2027-01-04', nine, ew))).toEqual([
      '2026-12-31T09:00:00.000Z',
      '2027-01-04T09:00:00.000Z',
    ]);
    expect(thrown(() => agendaWindowFor('2027-01-04', nine, scot))).toMatchObject({
      day: '2027-01-04',
      nextWorkingDay: '2027-01-05',
    });
    expect(iso(agendaWindowFor('2027-01-05', nine, scot))).toEqual([
      '2026-12-31T09:00:00.000Z',
      '2027-01-05T09:00:00.000Z',
    ]);
  });

  it("each division's own holidays lengthen only that division's window", () => {
    // St Andrew's Day, Monday 30 Nov 2026.
    expect(agendaWindowFor('2026-12-01', nine, scot).start.toISOString()).toBe('2026-11-27T09:00:00.000Z');
    expect(agendaWindowFor('2026-12-01', nine, ew).start.toISOString()).toBe('2026-11-30T09:00:00.000Z');
    // St Patrick's Day, Wednesday 17 Mar 2027.
    expect(agendaWindowFor('2027-03-18', nine, ni).start.toISOString()).toBe('2027-03-16T09:00:00.000Z');
    expect(agendaWindowFor('2027-03-18', nine, ew).start.toISOString()).toBe('2027-03-17T09:00:00.000Z');
    // Battle of the Boyne, Monday 12 Jul 2027 (BST).
    expect(agendaWindowFor('2027-07-13', nine, ni).start.toISOString()).toBe('2027-07-09T08:00:00.000Z');
    expect(agendaWindowFor('2027-07-13', nine, ew).start.toISOString()).toBe('2027-07-12T08:00:00.000Z');
    // Summer bank holiday: first Monday of August in Scotland, last Monday elsewhere.
    expect(agendaWindowFor('2026-08-04', nine, scot).start.toISOString()).toBe('2026-07-31T08:00:00.000Z');
    expect(agendaWindowFor('2026-08-04', nine, ew).start.toISOString()).toBe('2026-08-03T08:00:00.000Z');
    expect(agendaWindowFor('2026-09-01', nine, ew).start.toISOString()).toBe('2026-08-28T08:00:00.000Z');
    expect(agendaWindowFor('2026-09-01', nine, scot).start.toISOString()).toBe('2026-08-31T08:00:00.000Z');
  });

  it('honours calendar overrides', () => {
    const royal = workingCalendar('england-and-wales', { extraHolidays: ['2026-06-10'] });
    expect(agendaWindowFor('2026-06-11', nine, royal).start.toISOString()).toBe('2026-06-09T08:00:00.000Z');
    const open = workingCalendar('england-and-wales', { notHolidays: ['2026-12-28'] });
    expect(iso(agendaWindowFor('2026-12-28', nine, open))).toEqual([
      '2026-12-24T09:00:00.000Z',
      '2026-12-28T09:00:00.000Z',
    ]);
    expect(agendaWindowFor('2026-12-29', nine, open).start.toISOString()).toBe('2026-12-28T09:00:00.000Z');
  });
});

describe('NotAWorkingDayError', () => {
  it('a Saturday names the Monday', () => {
    const e = thrown(() => agendaWindowFor('2026-11-14', nine, ew));
    expect(e).toBeInstanceOf(NotAWorkingDayError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'NotAWorkingDayError', day: '2026-11-14', nextWorkingDay: '2026-11-16' });
  });

  it('Christmas Day 2026 names Tuesday 29 Dec', () => {
    const e = thrown(() => agendaWindowFor('2026-12-25', nine, ew));
    expect(e).toMatchObject({ day: '2026-12-25', nextWorkingDay: '2026-12-29' });
    expect((e as Error).message).toContain('2026-12-29');
  });
});

describe('inWindow', () => {
  const tuesday = agendaWindowFor('2026-11-10', nine, ew);
  const wednesday = agendaWindowFor('2026-11-11', nine, ew);

  it('an incident exactly at a cutoff belongs to the later window', () => {
    const cutoff = new Date('2026-11-10T09:00:00.000Z');
    expect(inWindow(cutoff, tuesday)).toBe(false);
    expect(inWindow(cutoff, wednesday)).toBe(true);
  });

  it('one millisecond earlier belongs to the earlier window', () => {
    const justBefore = new Date('2026-11-10T08:59:59.999Z');
    expect(inWindow(justBefore, tuesday)).toBe(true);
    expect(inWindow(justBefore, wednesday)).toBe(false);
  });
});

describe('local date and time', () => {
  it('reads the London wall clock', () => {
    const late = new Date('2027-03-30T23:30:00Z');
    expect(localDateOf(late, 'Europe/London')).toBe('2027-03-31');
    expect(localTimeOf(late, 'Europe/London')).toBe('00:30');
    const winter = new Date('2026-12-31T23:30:00Z');
    expect(localDateOf(winter, 'Europe/London')).toBe('2026-12-31');
    expect(localTimeOf(winter, 'Europe/London')).toBe('23:30');
  });

  it('rejects an invalid instant', () => {
    expect(() => localDateOf(new Date('nonsense'), 'Europe/London')).toThrow(RangeError);
  });
});

describe('meetingDayFor', () => {
  it('is the local date when that is a working day', () => {
    expect(meetingDayFor(new Date('2026-11-10T10:00:00Z'), nine, ew)).toBe('2026-11-10');
    // 00:30 BST on Tuesday 7 July is still Monday in UTC.
    expect(meetingDayFor(new Date('2026-07-06T23:30:00Z'), nine, ew)).toBe('2026-07-07');
  });

  it('is undefined on weekends and bank holidays', () => {
    expect(meetingDayFor(new Date('2026-11-14T10:00:00Z'), nine, ew)).toBeUndefined();
    expect(meetingDayFor(new Date('2026-12-28T10:00:00Z'), nine, ew)).toBeUndefined();
    expect(meetingDayFor(new Date('2026-11-30T10:00:00Z'), nine, scot)).toBe(undefined);
    expect(meetingDayFor(new Date('2026-11-30T10:00:00Z'), nine, ew)).toBe('2026-11-30');
  });
});

describe('agendaWindowContaining', () => {
  it('sends Friday-after-meeting incidents to Monday', () => {
    expect(agendaWindowContaining(new Date('2026-11-13T10:00:00Z'), nine, ew).meetingDate).toBe('2026-11-16');
  });

  it('keeps before-meeting incidents on today’s agenda', () => {
    expect(agendaWindowContaining(new Date('2026-11-10T08:59:00Z'), nine, ew).meetingDate).toBe('2026-11-10');
    expect(agendaWindowContaining(new Date('2026-11-10T09:00:00Z'), nine, ew).meetingDate).toBe('2026-11-11');
  });

  it('rolls holiday incidents forward', () => {
    expect(agendaWindowContaining(new Date('2026-12-25T12:00:00Z'), nine, ew).meetingDate).toBe('2026-12-29');
    expect(agendaWindowContaining(new Date('2027-01-04T12:00:00Z'), nine, scot).meetingDate).toBe('2027-01-05');
  });
});

describe('properties over 2026–2030', () => {
  const anyDay = fc.integer({ min: 0, max: 5 * 365 - 1 }).map((n) => addCalendarDays('2026-01-01', n));
  const anyTime = fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const calendars = { 'england-and-wales': ew, scotland: scot, 'northern-ireland': ni };

  it('windows of consecutive working days tile the timeline', () => {
    fc.assert(
      fc.property(fc.constantFrom(...holidayDivisions), anyDay, anyTime, (division, day, time) => {
        const cal = calendars[division];
        const meeting = { time, timeZone: 'Europe/London' };
        const d = cal.isWorkingDay(day) ? day : cal.nextWorkingDay(day);
        const w = agendaWindowFor(d, meeting, cal);
        const next = agendaWindowFor(cal.nextWorkingDay(d), meeting, cal);
        expect(next.start.getTime()).toBe(w.end.getTime());
        expect(w.start.getTime()).toBeLessThan(w.end.getTime());
        // UK clocks change on Sundays, so every cutoff shows the meeting time exactly.
        expect(localTimeOf(w.start, 'Europe/London')).toBe(time);
        expect(localTimeOf(w.end, 'Europe/London')).toBe(time);
        // Whole days between cutoffs, give or take one clock change.
        const calendarDays = daysBetween(cal.previousWorkingDay(d), d);
        expect(Math.abs(hours(w) - 24 * calendarDays)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('every instant falls in exactly the window agendaWindowContaining picks', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    const end = Date.parse('2030-12-31T00:00:00Z');
    fc.assert(
      fc.property(fc.constantFrom(...holidayDivisions), fc.integer({ min: start, max: end }), (division, t) => {
        const cal = calendars[division];
        const instant = new Date(t);
        const w = agendaWindowContaining(instant, nine, cal);
        expect(inWindow(instant, w)).toBe(true);
        expect(cal.isWorkingDay(w.meetingDate)).toBe(true);
        expect(inWindow(instant, agendaWindowFor(cal.nextWorkingDay(w.meetingDate), nine, cal))).toBe(false);
        expect(inWindow(instant, agendaWindowFor(cal.previousWorkingDay(w.meetingDate), nine, cal))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

function daysBetween(from: string, to: string): number {
  let n = 0;
  for (let d = from; d < to; d = addCalendarDays(d, 1)) n++;
  return n;
}

describe('machine time zone', () => {
  // TZDate alone would fail this: its pick in the repeated October hour follows process.env.TZ.
  it('does not change windows or cutoffs', () => {
    const original = process.env.TZ;
    const results: string[] = [];
    const offsets = new Set<number>();
    try {
      for (const zone of ['UTC', 'Europe/London', 'Pacific/Kiritimati', 'America/Los_Angeles']) {
        process.env.TZ = zone;
        offsets.add(new Date(2027, 0, 1).getTimezoneOffset());
        results.push(
          JSON.stringify([
            iso(agendaWindowFor('2027-03-30', nine, ew)),
            iso(agendaWindowFor('2027-11-01', nine, ew)),
            cutoffOf('2027-10-31', '01:30', 'Europe/London').toISOString(),
            cutoffOf('2027-03-28', '01:30', 'Europe/London').toISOString(),
            localDateOf(new Date('2027-03-30T23:30:00Z'), 'Europe/London'),
          ]),
        );
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
    // UTC and Europe/London share an offset in January; the other two differ.
    expect(offsets.size).toBe(3);
    expect(new Set(results).size).toBe(1);
  });
});

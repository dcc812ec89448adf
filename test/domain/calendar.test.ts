// Checks the working-day calendar against GOV.UK bank holidays for each UK division.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import Holidays from 'date-holidays';
import {
  addCalendarDays,
  holidayDivisions,
  isLocalDate,
  isWeekendDay,
  parseLocalDate,
  workingCalendar,
  type HolidayDivision,
  type LocalDate,
} from '../../src/domain/calendar.js';

const ew = workingCalendar('england-and-wales');
const scot = workingCalendar('scotland');
const ni = workingCalendar('northern-ireland');
const calendars: Record<HolidayDivision, typeof ew> = { 'england-and-wales': ew, scotland: scot, 'northern-ireland': ni };

function daysOf(year: number): LocalDate[] {
  const days: LocalDate[] = [];
  for (let d = `${year}-01-01`; d.startsWith(String(year)); d = addCalendarDays(d, 1)) days.push(d);
  return days;
}

function weekdayHolidays(division: HolidayDivision, year: number): LocalDate[] {
  const cal = workingCalendar(division);
  return daysOf(year).filter((d) => !isWeekendDay(d) && !cal.isWorkingDay(d));
}

// Weekday bank holidays as GOV.UK lists them (weekend dates have a substitute weekday instead).
const govUk: Record<HolidayDivision, Record<number, LocalDate[]>> = {
  'england-and-wales': {
    2026: ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28'],
    2027: ['2027-01-01', '2027-03-26', '2027-03-29', '2027-05-03', '2027-05-31', '2027-08-30', '2027-12-27', '2027-12-28'],
  },
  scotland: {
    2026: ['2026-01-01', '2026-01-02', '2026-04-03', '2026-05-04', '2026-05-25', '2026-08-03', '2026-11-30', '2026-12-25', '2026-12-28'],
    2027: ['2027-01-01', '2027-01-04', '2027-03-26', '2027-05-03', '2027-05-31', '2027-08-02', '2027-11-30', '2027-12-27', '2027-12-28'],
  },
  'northern-ireland': {
    2026: ['2026-01-01', '2026-03-17', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-07-13', '2026-08-31', '2026-12-25', '2026-12-28'],
    2027: ['2027-01-01', '2027-03-17', '2027-03-26', '2027-03-29', '2027-05-03', '2027-05-31', '2027-07-12', '2027-08-30', '2027-12-27', '2027-12-28'],
  },
};

describe('isLocalDate / parseLocalDate', () => {
  it('accepts real dates only', () => {
    expect(isLocalDate('2026-12-28')).toBe(true);
    expect(isLocalDate('2028-02-29')).toBe(true);
    expect(isLocalDate('2026-02-29')).toBe(false);
    expect(isLocalDate('2026-04-31')).toBe(false);
    expect(isLocalDate('2026-13-01')).toBe(false);
    expect(isLocalDate('2026-00-10')).toBe(false);
    expect(isLocalDate('2026-1-01')).toBe(false);
    expect(isLocalDate(' 2026-01-01')).toBe(false);
    expect(isLocalDate('2026-01-01T00:00')).toBe(false);
    expect(isLocalDate(20260101)).toBe(false);
  });

  it('splits a date and rejects a bad one', () => {
    expect(parseLocalDate('2027-03-09')).toEqual({ year: 2027, month: 3, day: 9 });
    expect(() => parseLocalDate('2027-02-30')).toThrow(RangeError);
  });

  it('calendar methods reject malformed dates rather than guessing', () => {
    expect(() => ew.isWorkingDay('2026-2-3')).toThrow(RangeError);
    expect(() => ew.bankHoliday('not a date')).toThrow(RangeError);
    expect(() => ew.workingDaysBetween('2026-01-01', '2026-02-30')).toThrow(RangeError);
  });
});

describe('weekday bank holidays match GOV.UK', () => {
  for (const division of holidayDivisions) {
    for (const year of [2026, 2027]) {
      it(`${division} ${year}`, () => {
        expect(weekdayHolidays(division, year)).toEqual(govUk[division][year]);
      });
    }
  }

  it('England and Wales are one list in date-holidays (ENG stands for both)', () => {
    const publicDays = (state: string, year: number) =>
      new Holidays('GB', state)
        .getHolidays(year)
        .filter((h) => h.type === 'public' || h.type === 'bank')
        .map((h) => `${h.date.slice(0, 10)} ${h.name}`);
    for (let year = 2000; year <= 2060; year++) {
      expect(publicDays('WLS', year), String(year)).toEqual(publicDays('ENG', year));
    }
  });

  it('includes the royal one-off days and the moved bank holidays', () => {
    for (const cal of [ew, scot, ni]) {
      expect(cal.bankHoliday('2020-05-08')).toMatch(/VE day/);
      expect(cal.isWorkingDay('2020-05-04')).toBe(true);
      expect(cal.isWorkingDay('2022-05-30')).toBe(true);
      expect(cal.isWorkingDay('2022-06-02')).toBe(false);
      expect(cal.bankHoliday('2022-06-03')).toMatch(/Jubilee/);
      expect(cal.bankHoliday('2022-09-19')).toMatch(/Funeral/);
      expect(cal.bankHoliday('2023-05-08')).toMatch(/Coronation/);
    }
  });

  it('ignores observances such as Mother’s Day and Easter Sunday', () => {
    expect(ew.bankHoliday('2026-03-15')).toBeUndefined();
    expect(ew.bankHoliday('2026-04-05')).toBeUndefined();
  });
});

describe('Christmas 2026 and New Year 2027', () => {
  it('names weekend holidays and the substitute Monday', () => {
    expect(ew.isWorkingDay('2026-12-24')).toBe(true);
    expect(ew.bankHoliday('2026-12-25')).toBe('Christmas Day');
    expect(ew.bankHoliday('2026-12-26')).toBe('Boxing Day');
    expect(ew.bankHoliday('2026-12-28')).toBe('Boxing Day (substitute day)');
    expect(ew.isWorkingDay('2026-12-28')).toBe(false);
  });

  it('steps over the break', () => {
    expect(ew.nextWorkingDay('2026-12-24')).toBe('2026-12-29');
    expect(ew.previousWorkingDay('2026-12-29')).toBe('2026-12-24');
    expect(ew.previousWorkingDay('2027-01-04')).toBe('2026-12-31');
  });

  it('Scotland also stops for 2 January, substituted to Monday 4 January 2027', () => {
    expect(scot.bankHoliday('2027-01-02')).toBe('January 2nd');
    expect(scot.bankHoliday('2027-01-04')).toBe('January 2nd (substitute day)');
    expect(scot.nextWorkingDay('2026-12-31')).toBe('2027-01-05');
    expect(ew.isWorkingDay('2027-01-04')).toBe(true);
    expect(ni.isWorkingDay('2027-01-04')).toBe(true);
  });
});

describe("each division's own holidays", () => {
  it('St Andrew’s Day (Monday 30 Nov 2026) is Scottish only', () => {
    expect(scot.bankHoliday('2026-11-30')).toBe('St Andrew’s Day');
    expect(ew.isWorkingDay('2026-11-30')).toBe(true);
    expect(ni.isWorkingDay('2026-11-30')).toBe(true);
  });

  it('St Andrew’s Day on a Sunday moves to Monday in Scotland (2025)', () => {
    expect(scot.bankHoliday('2025-12-01')).toBe('St Andrew’s Day (substitute day)');
    expect(ew.isWorkingDay('2025-12-01')).toBe(true);
  });

  it('St Patrick’s Day (Wednesday 17 Mar 2027) is Northern Irish only', () => {
    expect(ni.bankHoliday('2027-03-17')).toBe('St Patrick’s Day');
    expect(ew.isWorkingDay('2027-03-17')).toBe(true);
    expect(scot.isWorkingDay('2027-03-17')).toBe(true);
  });

  it('Battle of the Boyne is Northern Irish only, with a substitute in 2026', () => {
    expect(ni.isWorkingDay('2027-07-12')).toBe(false);
    expect(ni.bankHoliday('2026-07-13')).toMatch(/Boyne.*substitute/);
    expect(ew.isWorkingDay('2027-07-12')).toBe(true);
    expect(scot.isWorkingDay('2026-07-13')).toBe(true);
  });

  it('summer bank holiday is early August in Scotland, late August elsewhere', () => {
    expect(scot.isWorkingDay('2026-08-03')).toBe(false);
    expect(scot.isWorkingDay('2026-08-31')).toBe(true);
    expect(ew.isWorkingDay('2026-08-03')).toBe(true);
    expect(ew.isWorkingDay('2026-08-31')).toBe(false);
    expect(ni.isWorkingDay('2026-08-31')).toBe(false);
  });

  it('Easter Monday is not a bank holiday in Scotland', () => {
    expect(scot.isWorkingDay('2027-03-29')).toBe(true);
    expect(ew.isWorkingDay('2027-03-29')).toBe(false);
    expect(ni.isWorkingDay('2027-03-29')).toBe(false);
  });
});

describe('overrides', () => {
  it('adds a one-off holiday', () => {
    const cal = workingCalendar('england-and-wales', { extraHolidays: ['2026-06-10'] });
    expect(cal.isWorkingDay('2026-06-10')).toBe(false);
    expect(cal.bankHoliday('2026-06-10')).toBe('Additional bank holiday (configured)');
    expect(cal.nextWorkingDay('2026-06-09')).toBe('2026-06-11');
    expect(ew.isWorkingDay('2026-06-10')).toBe(true);
  });

  it('keeps the library name when an extra day is already a holiday', () => {
    const cal = workingCalendar('england-and-wales', { extraHolidays: ['2026-12-25'] });
    expect(cal.bankHoliday('2026-12-25')).toBe('Christmas Day');
  });

  it('removes a listed holiday', () => {
    const cal = workingCalendar('england-and-wales', { notHolidays: ['2026-12-28'] });
    expect(cal.isWorkingDay('2026-12-28')).toBe(true);
    expect(cal.bankHoliday('2026-12-28')).toBeUndefined();
    expect(cal.nextWorkingDay('2026-12-24')).toBe('2026-12-28');
  });

  it('removing a weekend holiday does not make the weekend a working day', () => {
    const cal = workingCalendar('england-and-wales', { notHolidays: ['2026-12-26'] });
    expect(cal.isWorkingDay('2026-12-26')).toBe(false);
  });

  it('rejects malformed or contradictory overrides', () => {
    expect(() => workingCalendar('scotland', { extraHolidays: ['2026-6-10'] })).toThrow(RangeError);
    expect(() =>
      workingCalendar('scotland', { extraHolidays: ['2026-06-10'], notHolidays: ['2026-06-10'] }),
    ).toThrow(/both/);
    expect(() => workingCalendar('wales' as HolidayDivision)).toThrow(RangeError);
  });
});

describe('addWorkingDays / workingDaysBetween', () => {
  it('counts across Christmas', () => {
    expect(ew.addWorkingDays('2026-12-24', 1)).toBe('2026-12-29');
    expect(ew.addWorkingDays('2026-12-29', -1)).toBe('2026-12-24');
    expect(ew.addWorkingDays('2026-12-18', 5)).toBe('2026-12-29');
    expect(ew.workingDaysBetween('2026-12-24', '2027-01-04')).toBe(4);
    expect(scot.workingDaysBetween('2026-12-24', '2027-01-04')).toBe(3);
    expect(ew.workingDaysBetween('2027-01-04', '2026-12-24')).toBe(-4);
  });

  it('zero is a no-op even on a non-working day', () => {
    expect(ew.addWorkingDays('2026-12-26', 0)).toBe('2026-12-26');
    expect(ew.workingDaysBetween('2026-12-26', '2026-12-26')).toBe(0);
  });

  it('a weekend contributes nothing', () => {
    expect(ew.workingDaysBetween('2026-11-13', '2026-11-15')).toBe(0);
    expect(ew.workingDaysBetween('2026-11-13', '2026-11-16')).toBe(1);
  });

  it('rejects fractional counts', () => {
    expect(() => ew.addWorkingDays('2026-12-24', 1.5)).toThrow(RangeError);
  });

  it('adding n working days is undone by counting them (property)', () => {
    const anyDay = fc.integer({ min: 0, max: 5 * 365 }).map((n) => addCalendarDays('2026-01-01', n));
    fc.assert(
      fc.property(
        fc.constantFrom(...holidayDivisions),
        anyDay,
        fc.integer({ min: -40, max: 40 }),
        (division, day, n) => {
          const cal = calendars[division];
          const working = cal.isWorkingDay(day) ? day : cal.nextWorkingDay(day);
          const moved = cal.addWorkingDays(working, n);
          expect(cal.isWorkingDay(moved)).toBe(true);
          expect(cal.workingDaysBetween(working, moved)).toBe(n);
          expect(cal.previousWorkingDay(cal.nextWorkingDay(working))).toBe(working);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('machine time zone', () => {
  it('does not change which days are working days', () => {
    const original = process.env.TZ;
    const results: string[] = [];
    const offsets = new Set<number>();
    try {
      for (const zone of ['Pacific/Kiritimati', 'America/Los_Angeles', 'UTC']) {
        process.env.TZ = zone;
        // Proves Node picked up the change, so equal results below mean something.
        offsets.add(new Date(2026, 0, 1).getTimezoneOffset());
        const cal = workingCalendar('scotland');
        results.push(daysOf(2026).filter((d) => cal.isWorkingDay(d)).join(','));
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
    expect(offsets.size).toBe(3);
    expect(new Set(results).size).toBe(1);
    expect(results[0]?.split(',')).toHaveLength(252);
  });
});

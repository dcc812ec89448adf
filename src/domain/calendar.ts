// Working-day calendar for each UK bank-holiday division, so meetings skip weekends and bank holidays.
import Holidays from 'date-holidays';
import { TZDate } from '@date-fns/tz';
// Each function from its own module: date-fns's index loads all of its ~250 (some 20 MB of memory).
import { addDays } from 'date-fns/addDays';
import { format } from 'date-fns/format';
import { isWeekend } from 'date-fns/isWeekend';

export const holidayDivisions = ['england-and-wales', 'scotland', 'northern-ireland'] as const;
export type HolidayDivision = (typeof holidayDivisions)[number];

/** A calendar date with no time or zone, written `YYYY-MM-DD`. */
export type LocalDate = string;

export interface WorkingCalendar {
  isWorkingDay(day: LocalDate): boolean;
  previousWorkingDay(day: LocalDate): LocalDate;
  nextWorkingDay(day: LocalDate): LocalDate;
  /** The bank holiday's name, whether or not it falls on a weekend. */
  bankHoliday(day: LocalDate): string | undefined;
  /** `n` may be negative; `n = 0` returns `day` even when it is not a working day. */
  addWorkingDays(day: LocalDate, n: number): LocalDate;
  /** Working days `d` with `from < d <= to`; negative (counted the other way) when `to < from`. */
  workingDaysBetween(from: LocalDate, to: LocalDate): number;
}

export interface CalendarOverrides {
  /** One-off bank holidays proclaimed after the library's data was published. */
  extraHolidays?: LocalDate[];
  /** Days the library lists that the service nonetheless works. */
  notHolidays?: LocalDate[];
}

// England and Wales share one GOV.UK list; date-holidays models them as separate
// states but (checked for 2000–2060 in date-holidays 3.37.0) they agree, so ENG stands for both.
const divisionState: Record<HolidayDivision, string> = {
  'england-and-wales': 'ENG',
  scotland: 'SCT',
  'northern-ireland': 'NIR',
};

// date-holidays 3.37.0 types every GOV.UK bank holiday for GB (including substitute days,
// Scotland's 2 January and St Andrew's Day, Northern Ireland's St Patrick's Day and Battle of
// the Boyne, and the 2020/2022/2023 royal one-offs) as 'public'; GB has no 'bank' entries.
// 'bank' is accepted too so a future re-typing of a GOV.UK day does not silently drop it.
// 'observance' (Mother's Day, Easter Sunday…) is excluded because offices stay open.
const closedTypes: ReadonlySet<string> = new Set(['public', 'bank']);

const EXTRA_HOLIDAY_NAME = 'Additional bank holiday (configured)';

// A calendar that ran this far without a working day is misconfigured; stop rather than spin.
const MAX_SEARCH_DAYS = 366 * 2;

const localDatePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `s` is `YYYY-MM-DD` naming a date that exists (so not `2026-02-30`). */
export function isLocalDate(s: unknown): s is LocalDate {
  if (typeof s !== 'string') return false;
  const m = localDatePattern.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  // TZDate normalises overflow (Feb 30 → Mar 2), so a round trip exposes impossible dates.
  return formatLocalDate(new TZDate(year, month - 1, day, 'UTC')) === s;
}

/** Year, month (1–12) and day of a LocalDate; throws RangeError for anything else. */
export function parseLocalDate(day: LocalDate): { year: number; month: number; day: number } {
  if (!isLocalDate(day)) throw new RangeError(`Not a YYYY-MM-DD date: ${JSON.stringify(day)}`);
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return { year: y, month: m, day: d };
}

// Day arithmetic runs on TZDate pinned to UTC so the machine's own zone cannot shift a date
// across midnight or change which weekday it is.
function toUtcDate(day: LocalDate): TZDate {
  const { year, month, day: d } = parseLocalDate(day);
  return new TZDate(year, month - 1, d, 'UTC');
}

function formatLocalDate(date: TZDate): LocalDate {
  return format(date, 'yyyy-MM-dd');
}

/** The date `n` calendar days after `day` (before it when `n` is negative). */
export function addCalendarDays(day: LocalDate, n: number): LocalDate {
  return formatLocalDate(addDays(toUtcDate(day), n));
}

export function isWeekendDay(day: LocalDate): boolean {
  return isWeekend(toUtcDate(day));
}

export function workingCalendar(
  division: HolidayDivision,
  overrides: CalendarOverrides = {},
): WorkingCalendar {
  if (!holidayDivisions.includes(division)) {
    throw new RangeError(`Unknown holiday division: ${JSON.stringify(division)}`);
  }
  const extra = new Set(validated(overrides.extraHolidays ?? [], 'extraHolidays'));
  const removed = new Set(validated(overrides.notHolidays ?? [], 'notHolidays'));
  // A day in both lists is a configuration mistake; guessing which was meant would hide it.
  for (const d of extra) {
    if (removed.has(d)) throw new RangeError(`${d} is in both extraHolidays and notHolidays`);
  }
  // One library instance per calendar: construction parses the whole GB rule set.
  const source = new Holidays('GB', divisionState[division]);
  const byYear = new Map<number, ReadonlyMap<LocalDate, string>>();

  function holidaysIn(year: number): ReadonlyMap<LocalDate, string> {
    const cached = byYear.get(year);
    if (cached) return cached;
    const names = new Map<LocalDate, string>();
    for (const h of source.getHolidays(year)) {
      if (!closedTypes.has(h.type)) continue;
      // `date` is the wall-clock date in the country ("YYYY-MM-DD hh:mm:ss"); `start` is an
      // instant and would need a zone to read back.
      const day = h.date.slice(0, 10);
      const previous = names.get(day);
      names.set(day, previous === undefined ? h.name : `${previous}; ${h.name}`);
    }
    byYear.set(year, names);
    return names;
  }

  function bankHoliday(day: LocalDate): string | undefined {
    const { year } = parseLocalDate(day);
    if (removed.has(day)) return undefined;
    if (extra.has(day)) return holidaysIn(year).get(day) ?? EXTRA_HOLIDAY_NAME;
    return holidaysIn(year).get(day);
  }

  function isWorkingDay(day: LocalDate): boolean {
    return !isWeekendDay(day) && bankHoliday(day) === undefined;
  }

  function step(day: LocalDate, direction: 1 | -1): LocalDate {
    let d = day;
    for (let i = 0; i < MAX_SEARCH_DAYS; i++) {
      d = addCalendarDays(d, direction);
      if (isWorkingDay(d)) return d;
    }
    throw new RangeError(`No working day within ${MAX_SEARCH_DAYS} days of ${day}`);
  }

  function addWorkingDays(day: LocalDate, n: number): LocalDate {
    if (!Number.isSafeInteger(n)) throw new RangeError(`Working-day count must be an integer: ${n}`);
    parseLocalDate(day);
    let d = day;
    for (let i = 0; i < Math.abs(n); i++) d = step(d, n > 0 ? 1 : -1);
    return d;
  }

  function workingDaysBetween(from: LocalDate, to: LocalDate): number {
    parseLocalDate(from);
    parseLocalDate(to);
    // YYYY-MM-DD with four-digit years sorts lexically in date order.
    if (to < from) return -workingDaysBetween(to, from);
    let count = 0;
    for (let d = addCalendarDays(from, 1); d <= to; d = addCalendarDays(d, 1)) {
      if (isWorkingDay(d)) count++;
    }
    return count;
  }

  return {
    isWorkingDay,
    previousWorkingDay: (day) => step(day, -1),
    nextWorkingDay: (day) => step(day, 1),
    bankHoliday,
    addWorkingDays,
    workingDaysBetween,
  };
}

function validated(days: readonly LocalDate[], field: string): LocalDate[] {
  for (const d of days) {
    if (!isLocalDate(d)) throw new RangeError(`${field}: not a YYYY-MM-DD date: ${JSON.stringify(d)}`);
  }
  return [...days];
}

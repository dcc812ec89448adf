// Which stretch of time each Daily Management Meeting reviews, from one meeting's cutoff to the next.
import { TZDate } from '@date-fns/tz';
import { DateTime } from 'luxon';
import { format } from 'date-fns/format';
import { parseLocalDate, type LocalDate, type WorkingCalendar } from './calendar.js';

/** When a meeting sits: local wall-clock `HH:MM` in an IANA time zone. */
export interface MeetingSchedule {
  time: string;
  timeZone: string;
}

/** Incidents with `start <= reportedAt < end` go on `meetingDate`'s agenda. */
export interface AgendaWindow {
  meetingDate: LocalDate;
  start: Date;
  end: Date;
}

export class NotAWorkingDayError extends Error {
  override readonly name = 'NotAWorkingDayError';
  constructor(
    readonly day: LocalDate,
    readonly nextWorkingDay: LocalDate,
  ) {
    super(`${day} is not a working day; the next meeting is on ${nextWorkingDay}`);
  }
}

const timePattern = /^([01]\d|2[0-3]):([0-5]\d)$/;
const knownZones = new Set<string>();

function parseTime(time: string): { hours: number; minutes: number } {
  const m = timePattern.exec(time);
  if (!m) throw new RangeError(`Not an HH:MM time: ${JSON.stringify(time)}`);
  return { hours: Number(m[1]), minutes: Number(m[2]) };
}

// A bad zone name must fail loudly, so ask Intl, which rejects anything it does not know.
function assertTimeZone(timeZone: string): void {
  if (knownZones.has(timeZone)) return;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
  } catch {
    throw new RangeError(`Unknown time zone: ${JSON.stringify(timeZone)}`);
  }
  knownZones.add(timeZone);
}

/**
 * The instant the wall clock in `timeZone` reads `time` on `day`.
 *
 * A time skipped by clocks going forward is moved on by the length of the gap (01:30 on a UK
 * spring-forward Sunday becomes 02:30 BST); a time that happens twice when clocks go back takes
 * the later (GMT) occurrence, as Luxon resolves it. Luxon's answer does not depend on the
 * process's own TZ, which TZDate's does in the repeated hour.
 */
export function cutoffOf(day: LocalDate, time: string, timeZone: string): Date {
  const { year, month, day: d } = parseLocalDate(day);
  const { hours, minutes } = parseTime(time);
  assertTimeZone(timeZone);
  return DateTime.fromObject({ year, month, day: d, hour: hours, minute: minutes }, { zone: timeZone }).toJSDate();
}

/** The calendar date the wall clock in `timeZone` shows at `instant`. */
export function localDateOf(instant: Date, timeZone: string): LocalDate {
  return formatIn(instant, timeZone, 'yyyy-MM-dd');
}

/** The `HH:MM` the wall clock in `timeZone` shows at `instant`. */
export function localTimeOf(instant: Date, timeZone: string): string {
  return formatIn(instant, timeZone, 'HH:mm');
}

function formatIn(instant: Date, timeZone: string, pattern: string): string {
  if (Number.isNaN(instant.getTime())) throw new RangeError('Invalid Date');
  assertTimeZone(timeZone);
  return format(new TZDate(instant.getTime(), timeZone), pattern);
}

/**
 * The agenda for working day `day`: everything since the previous working day's meeting, up to
 * this meeting's cutoff. Weekends and bank holidays have no meeting, so their incidents roll
 * forward into the next working day's window.
 */
export function agendaWindowFor(
  day: LocalDate,
  meeting: MeetingSchedule,
  calendar: WorkingCalendar,
): AgendaWindow {
  if (!calendar.isWorkingDay(day)) throw new NotAWorkingDayError(day, calendar.nextWorkingDay(day));
  return {
    meetingDate: day,
    start: cutoffOf(calendar.previousWorkingDay(day), meeting.time, meeting.timeZone),
    end: cutoffOf(day, meeting.time, meeting.timeZone),
  };
}

/** Start inclusive, end exclusive: an incident logged exactly at a cutoff waits for the next meeting. */
export function inWindow(instant: Date, w: AgendaWindow): boolean {
  const t = instant.getTime();
  return w.start.getTime() <= t && t < w.end.getTime();
}

/** The working day whose local date contains `instant`, or undefined on weekends and bank holidays. */
export function meetingDayFor(
  instant: Date,
  meeting: Pick<MeetingSchedule, 'timeZone'>,
  calendar: WorkingCalendar,
): LocalDate | undefined {
  const day = localDateOf(instant, meeting.timeZone);
  return calendar.isWorkingDay(day) ? day : undefined;
}

/** The window whose meeting will review something reported at `instant`. */
export function agendaWindowContaining(
  instant: Date,
  meeting: MeetingSchedule,
  calendar: WorkingCalendar,
): AgendaWindow {
  const today = localDateOf(instant, meeting.timeZone);
  const meetsToday =
    calendar.isWorkingDay(today) &&
    instant.getTime() < cutoffOf(today, meeting.time, meeting.timeZone).getTime();
  return agendaWindowFor(meetsToday ? today : calendar.nextWorkingDay(today), meeting, calendar);
}

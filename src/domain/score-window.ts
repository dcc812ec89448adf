// The instants a score "as of" a day looks over: the months before that day began, in the meeting's zone.
import { DateTime } from 'luxon';
import type { LocalDate } from './calendar.js';

export interface ScoreWindow {
  asOf: LocalDate;
  /** The first instant counted (inclusive). */
  start: Date;
  /** Where "recent" starts, for eligibility (inclusive). */
  recentStart: Date;
  /**
   * The start of the as-of day (exclusive): a score as of D is made of what was reported before D began,
   * which is also the instant an enrolment as of D begins, so a baseline never overlaps the follow-up.
   */
  end: Date;
}

export function scoreWindowFor(asOf: LocalDate, windowMonths: number, recentMonths: number, timeZone: string): ScoreWindow {
  const end = DateTime.fromISO(asOf, { zone: timeZone }).startOf('day');
  return {
    asOf,
    start: end.minus({ months: windowMonths }).toJSDate(),
    recentStart: end.minus({ months: recentMonths }).toJSDate(),
    end: end.toJSDate(),
  };
}

// Use case: the agenda of one meeting for one working day.
import { agendaWindowFor } from '../domain/agenda-window.js';
import type { Agenda } from '../domain/agenda.js';
import type { LocalDate } from '../domain/calendar.js';
import { calendarOf, type Meeting } from '../domain/meeting.js';
import { loadAgenda } from '../store/agenda-repository.js';
import type { Database } from '../store/database.js';

/** Throws NotAWorkingDayError (with the next working day) for a weekend or bank holiday. */
export async function buildAgenda(db: Database, meeting: Meeting, day: LocalDate): Promise<Agenda> {
  const calendar = calendarOf(meeting);
  const window = agendaWindowFor(day, meeting, calendar);
  return loadAgenda(db.prisma, { meeting, window, nextWorkingDay: calendar.nextWorkingDay(day) });
}

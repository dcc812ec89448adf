// node-cron wiring: each meeting's agenda at its local time on weekdays, plus a minute tick that
// posts late (after a restart) or retries, while the meeting day lasts. Posting itself is idempotent.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { cutoffOf, localDateOf } from '../domain/agenda-window.js';
import { calendarOf, type Meeting } from '../domain/meeting.js';
import type { Clock } from '../ports.js';
import type { PostAgendaOutcome } from '../app/post-agenda.js';

export type PostAgendaFor = (meeting: Meeting, day: string) => Promise<PostAgendaOutcome>;

/** The meeting day whose agenda is due at `now`: a working day whose cutoff has passed and which has not ended. */
export function agendaDueAt(meeting: Meeting, now: Date): string | undefined {
  const today = localDateOf(now, meeting.timeZone);
  if (!calendarOf(meeting).isWorkingDay(today)) return undefined;
  // Before the cutoff it is not due; after local midnight `today` is already the next day.
  if (now.getTime() < cutoffOf(today, meeting.time, meeting.timeZone).getTime()) return undefined;
  return today;
}

export interface AgendaScheduler {
  /** Posts whatever is due now; the cron jobs call this, and so do start-up and tests. */
  tick(): Promise<void>;
  stop(): void;
}

export function startAgendaScheduler(meetings: Meeting[], post: PostAgendaFor, clock: Clock, log: Logger): AgendaScheduler {
  const running = new Set<string>();
  const settled = new Set<string>();
  const tickMeeting = async (meeting: Meeting) => {
    const day = agendaDueAt(meeting, clock.now());
    if (!day) return;
    const key = `${meeting.key}|${day}`;
    // One attempt at a time per meeting in this process; once posted, the minute tick stays quiet.
    if (running.has(meeting.key) || settled.has(key)) return;
    running.add(meeting.key);
    try {
      const result = await post(meeting, day);
      if (result.outcome === 'posted' || result.outcome === 'already-posted') settled.add(key);
    } catch (error) {
      log.error({ meeting: meeting.key, err: { message: (error as Error).message } }, 'agenda tick failed');
    } finally {
      running.delete(meeting.key);
    }
  };
  const tick = async () => {
    await Promise.all(meetings.map(tickMeeting));
  };
  const tasks: ScheduledTask[] = meetings.map((meeting) => {
    const [hour, minute] = meeting.time.split(':').map(Number);
    return cron.schedule(`${minute} ${hour} * * 1-5`, () => void tickMeeting(meeting), { timezone: meeting.timeZone, name: `agenda ${meeting.key}` });
  });
  tasks.push(cron.schedule('* * * * *', () => void tick(), { name: 'agenda catch-up' }));
  return {
    tick,
    stop() {
      for (const task of tasks) void task.stop();
    },
  };
}

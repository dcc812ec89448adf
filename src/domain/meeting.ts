// A Daily Management Meeting: where it sits (a chat channel), when (local time and zone) and which days.
import { workingCalendar, type CalendarOverrides, type HolidayDivision, type WorkingCalendar } from './calendar.js';
import type { MeetingSchedule } from './agenda-window.js';

export const chatPlatforms = ['slack', 'teams', 'console'] as const;
export type ChatPlatformName = (typeof chatPlatforms)[number];

export interface Meeting extends MeetingSchedule {
  /** Stable identity in the store: `<platform>:<channel>`. */
  key: string;
  name: string;
  platform: ChatPlatformName;
  /** The platform's channel id (Slack `C…`, Teams `19:…@thread.tacv2`, or `console`). */
  channel: string;
  holidays: HolidayDivision;
  holidayOverrides: CalendarOverrides;
  /** Only incidents in these areas; empty means every area. */
  areas: string[];
}

export function meetingKey(platform: ChatPlatformName, channel: string): string {
  return `${platform}:${channel}`;
}

const calendars = new Map<string, WorkingCalendar>();

export function calendarOf(meeting: Pick<Meeting, 'holidays' | 'holidayOverrides'>): WorkingCalendar {
  const id = JSON.stringify([meeting.holidays, meeting.holidayOverrides]);
  let calendar = calendars.get(id);
  if (!calendar) {
    calendar = workingCalendar(meeting.holidays, meeting.holidayOverrides);
    calendars.set(id, calendar);
  }
  return calendar;
}

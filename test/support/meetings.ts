// A meeting as configuration would make it, for tests.
import { meetingKey, type Meeting } from '../../src/domain/meeting.js';

export function testMeeting(overrides: Partial<Meeting> = {}): Meeting {
  const platform = overrides.platform ?? 'console';
  const channel = overrides.channel ?? (platform === 'slack' ? 'C0TESTDMM' : 'console');
  return {
    key: meetingKey(platform, channel),
    name: 'Test DMM',
    platform,
    channel,
    time: '09:00',
    timeZone: 'Europe/London',
    holidays: 'england-and-wales',
    holidayOverrides: {},
    areas: [],
    ...overrides,
  };
}

// Checks what a typed due date means on a given day: relative words, weekdays, +Nd, panel and dates.
import { describe, expect, it } from 'vitest';
import { resolveDue, type DueResult } from '../../src/domain/due-date.js';

const monday = '2026-03-02';

function dueOn(result: DueResult): string {
  if (!result.ok) throw new Error(`expected a date, got the refusal "${result.message}"`);
  return result.dueOn;
}

function refusal(result: DueResult): string {
  if (result.ok) throw new Error(`expected a refusal, got ${result.dueOn}`);
  return result.message;
}

describe('resolveDue', () => {
  it('reads today and tomorrow', () => {
    expect(resolveDue('today', monday, undefined)).toEqual({ ok: true, dueOn: '2026-03-02' });
    expect(resolveDue('tomorrow', monday, undefined)).toEqual({ ok: true, dueOn: '2026-03-03' });
  });

  it('reads a weekday name as the next such day after today', () => {
    expect(dueOn(resolveDue('tuesday', monday, undefined))).toBe('2026-03-03');
    expect(dueOn(resolveDue('friday', monday, undefined))).toBe('2026-03-06');
    expect(dueOn(resolveDue('sunday', monday, undefined))).toBe('2026-03-08');
  });

  it("reads today's weekday name as a week today, never as today", () => {
    expect(dueOn(resolveDue('monday', monday, undefined))).toBe('2026-03-09');
    expect(dueOn(resolveDue('friday', '2026-03-06', undefined))).toBe('2026-03-13');
  });

  it('reads +Nd as N calendar days ahead, +0d being today', () => {
    expect(dueOn(resolveDue('+3d', monday, undefined))).toBe('2026-03-05');
    expect(dueOn(resolveDue('+0d', monday, undefined))).toBe(monday);
    expect(dueOn(resolveDue('+30d', monday, undefined))).toBe('2026-04-01');
  });

  it('takes a date on or after today as it is', () => {
    expect(dueOn(resolveDue('2026-03-10', monday, undefined))).toBe('2026-03-10');
    expect(dueOn(resolveDue('2026-03-02', monday, undefined))).toBe('2026-03-02');
  });

  it('refuses a date in the past, saying so', () => {
    const message = refusal(resolveDue('2026-03-01', monday, undefined));
    expect(message).toContain('in the past');
    expect(message).toContain('2026-03-01');
    expect(message).toContain(monday);
  });

  it('reads panel as the day before the next panel', () => {
    expect(dueOn(resolveDue('panel', monday, '2026-03-05'))).toBe('2026-03-04');
    // A panel tomorrow makes "panel" today, which has not passed.
    expect(dueOn(resolveDue('panel', monday, '2026-03-03'))).toBe(monday);
    // The day before a panel on the 1st is the last day of the month before.
    expect(dueOn(resolveDue('panel', '2026-03-30', '2026-04-01'))).toBe('2026-03-31');
  });

  it('refuses panel when no panel is scheduled, asking for a date', () => {
    const message = refusal(resolveDue('panel', monday, undefined));
    expect(message).toMatch(/no panel is scheduled/i);
    expect(message).toContain('give a date');
  });

  it('refuses panel when the panel is today, as the day before it has passed', () => {
    const message = refusal(resolveDue('panel', monday, monday));
    expect(message).toContain('has passed');
    expect(message).toContain(monday);
  });

  it('reads words in any case, and ignores surrounding spaces', () => {
    expect(dueOn(resolveDue('Friday', monday, undefined))).toBe('2026-03-06');
    expect(dueOn(resolveDue('FRIDAY', monday, undefined))).toBe('2026-03-06');
    expect(dueOn(resolveDue('ToMoRRoW', monday, undefined))).toBe('2026-03-03');
    expect(dueOn(resolveDue('PANEL', monday, '2026-03-05'))).toBe('2026-03-04');
    expect(dueOn(resolveDue('+3D', monday, undefined))).toBe('2026-03-05');
    expect(dueOn(resolveDue('  today ', monday, undefined))).toBe(monday);
  });

  it('refuses a date that does not exist, or a word it does not know, naming the forms', () => {
    for (const spec of ['2026-02-30', '2026-13-01', 'someday', '+3', '3d', '-1d', '+1000d', '']) {
      const message = refusal(resolveDue(spec, monday, undefined));
      expect(message, spec).toContain('is not a due date');
      expect(message, spec).toContain('YYYY-MM-DD');
    }
  });

  it('counts across the end of a month and of a year', () => {
    expect(dueOn(resolveDue('tomorrow', '2026-12-31', undefined))).toBe('2027-01-01');
    expect(dueOn(resolveDue('+1d', '2026-02-28', undefined))).toBe('2026-03-01');
    expect(dueOn(resolveDue('+1d', '2028-02-28', undefined))).toBe('2028-02-29');
    // 2026-12-31 is a Thursday; the next Monday is in the new year.
    expect(dueOn(resolveDue('monday', '2026-12-31', undefined))).toBe('2027-01-04');
    expect(dueOn(resolveDue('panel', '2026-12-31', '2027-01-02'))).toBe('2027-01-01');
  });
});

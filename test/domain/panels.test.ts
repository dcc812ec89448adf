// Recurring panel dates and how panels are named to people.
import { describe, expect, it } from 'vitest';
import { monthlyDays, panelKindName, panelKindValue, panelRef } from '../../src/domain/panels.js';

describe('monthlyDays', () => {
  it('finds the first Tuesday of each month, starting with the month of `from`', () => {
    expect(monthlyDays('first', 'tuesday', '2026-11-26', 4)).toEqual(['2026-11-03', '2026-12-01', '2027-01-05', '2027-02-02']);
  });

  it('finds the last Friday, also in a February of a leap year and across the clock change', () => {
    expect(monthlyDays('last', 'friday', '2028-02-01', 3)).toEqual(['2028-02-25', '2028-03-31', '2028-04-28']);
  });

  it('finds the fourth Monday, which every month has', () => {
    expect(monthlyDays('fourth', 'monday', '2026-03-15', 3)).toEqual(['2026-03-23', '2026-04-27', '2026-05-25']);
  });

  it('counts a month that starts on the weekday itself', () => {
    // 1 September 2026 is a Tuesday.
    expect(monthlyDays('first', 'tuesday', '2026-09-30', 1)).toEqual(['2026-09-01']);
    expect(monthlyDays('second', 'tuesday', '2026-09-30', 1)).toEqual(['2026-09-08']);
  });
});

describe('panel names', () => {
  it('names a panel without a title by its kind, as people write it', () => {
    expect(panelKindName(panelKindValue('marac'))).toBe('MARAC');
    expect(panelKindName(panelKindValue('monthly-review'))).toBe('monthly review');
    expect(panelKindName(panelKindValue('local-panel'))).toBe('local panel');
  });

  it('refers to panels by a short id', () => {
    expect(panelRef(14)).toBe('P-14');
  });
});

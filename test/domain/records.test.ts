// Validation of ingested records: every bad input names its field and says what is wrong.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeProblems, flagRecordSchema, incidentRecordSchema } from '../../src/domain/records.js';

const goodIncident = {
  source_ref: 'TEST-INC-1',
  reported_at: '2026-03-02T08:15:00Z',
  occurred_at: '2026-03-02T07:00:00+00:00',
  risk_level: 'high',
  category: 'assault',
  area: 'Test Area North',
  perpetrator_ref: 'TEST-P-1',
  victim_ref: 'TEST-V-1',
  children_present: 'true',
};

function problemsOf(input: unknown) {
  const result = incidentRecordSchema.safeParse(input);
  expect(result.success).toBe(false);
  return result.success ? [] : describeProblems(result.error);
}

describe('incident records', () => {
  it('accepts a CSV-shaped record and fills the optional fields', () => {
    const record = incidentRecordSchema.parse(goodIncident);
    expect(record.reported_at.toISOString()).toBe('2026-03-02T08:15:00.000Z');
    expect(record.children_present).toBe(true);
    expect(record.source_system).toBe('rms');
    expect(record.prof_judgement).toBe(false);
    expect(record.crime).toBe(false);
    expect(record.risk_tool).toBeUndefined();
  });

  it('accepts JSON booleans and an offset other than Z', () => {
    const record = incidentRecordSchema.parse({ ...goodIncident, children_present: false, crime: true, reported_at: '2026-06-01T09:00:00+01:00' });
    expect(record.reported_at.toISOString()).toBe('2026-06-01T08:00:00.000Z');
    expect(record.crime).toBe(true);
  });

  it('refuses risk_level=severe', () => {
    expect(problemsOf({ ...goodIncident, risk_level: 'severe' })).toEqual([
      { field: 'risk_level', reason: 'must be one of standard|medium|high' },
    ]);
  });

  it('refuses a reported_at with no offset', () => {
    const [problem] = problemsOf({ ...goodIncident, reported_at: '2026-03-02T08:15:00' });
    expect(problem?.field).toBe('reported_at');
    expect(problem?.reason).toMatch(/offset or Z/);
  });

  it('refuses an impossible date', () => {
    expect(problemsOf({ ...goodIncident, reported_at: '2026-02-30T08:15:00Z' })[0]?.field).toBe('reported_at');
  });

  it('refuses an instant outside the years 0001 to 9999 in UTC, which the database could not store', () => {
    for (const reported_at of ['0000-12-31T23:59:59Z', '0001-01-01T00:30:00+01:00', '9999-12-31T23:30:00-01:00']) {
      expect(problemsOf({ ...goodIncident, reported_at })).toEqual([{ field: 'reported_at', reason: 'must be between the years 0001 and 9999 in UTC' }]);
    }
    for (const reported_at of ['0001-01-01T00:00:00Z', '0001-01-01T00:30:00-01:00', '9999-12-31T23:59:59.999Z']) {
      expect(incidentRecordSchema.safeParse({ ...goodIncident, reported_at }).success).toBe(true);
    }
  });

  it('refuses a missing perpetrator_ref, also as an empty CSV cell', () => {
    const { perpetrator_ref: _, ...missing } = goodIncident;
    expect(problemsOf(missing)).toEqual([{ field: 'perpetrator_ref', reason: 'is required' }]);
    expect(problemsOf({ ...goodIncident, perpetrator_ref: '' })).toEqual([{ field: 'perpetrator_ref', reason: 'is required' }]);
  });

  it('refuses a 5 MB field without echoing it', () => {
    const problems = problemsOf({ ...goodIncident, category: 'x'.repeat(5 * 1024 * 1024) });
    expect(problems).toEqual([{ field: 'category', reason: 'must be at most 100 characters' }]);
  });

  it('refuses an unknown field', () => {
    expect(problemsOf({ ...goodIncident, victim_name: 'anything' })).toEqual([{ field: 'victim_name', reason: 'unknown field' }]);
  });

  it('refuses the same person as perpetrator and victim', () => {
    expect(problemsOf({ ...goodIncident, victim_ref: goodIncident.perpetrator_ref })[0]?.field).toBe('victim_ref');
  });

  it('refuses something that is not an object', () => {
    expect(problemsOf('a string')[0]?.field).toBe('(record)');
    expect(problemsOf([goodIncident])[0]?.field).toBe('(record)');
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(() => incidentRecordSchema.safeParse(value)).not.toThrow();
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...Object.keys(goodIncident)), fc.string()), (partial) => {
        const result = incidentRecordSchema.safeParse({ ...goodIncident, ...partial });
        if (!result.success) expect(describeProblems(result.error).length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('flag records', () => {
  const goodFlag = { perpetrator_ref: 'TEST-P-1', kind: 'iom', note: 'Test note', starts_on: '2026-01-05', ends_on: '' };

  it('accepts an open-ended flag', () => {
    expect(flagRecordSchema.parse(goodFlag)).toEqual({ ...goodFlag, ends_on: undefined });
  });

  it('refuses an unknown kind, a bad date and an end before the start', () => {
    const problems = (input: unknown) => {
      const r = flagRecordSchema.safeParse(input);
      return r.success ? [] : describeProblems(r.error).map((p) => p.field);
    };
    expect(problems({ ...goodFlag, kind: 'curfew' })).toEqual(['kind']);
    expect(problems({ ...goodFlag, starts_on: '05/01/2026' })).toEqual(['starts_on']);
    expect(problems({ ...goodFlag, ends_on: '2026-01-04' })).toEqual(['ends_on']);
    expect(problems({ ...goodFlag, starts_on: '0000-01-01' })).toEqual(['starts_on']);
    expect(problems({ ...goodFlag, starts_on: '0001-01-01', ends_on: '9999-12-31' })).toEqual([]);
  });
});

// Synthetic, obviously fictional incidents for the trial tests: perpetrators TEST-P-001… with known
// RFG(V) scores under the shipped illustrative scoring, a few not eligible, and one outside the window.
// Every reported_at is before Monday 9 March 2026, so enrolling "as of 2026-03-09" sees them all and
// nothing on or after that day counts as an incident since enrolment.
import { csvOf } from './records.js';

export const trialIncidentHeader = 'source_ref,reported_at,occurred_at,risk_level,category,area,perpetrator_ref,victim_ref,children_present,crime';

type Row = Record<string, string>;

/** One incident row; `crime` is 'true' or 'false'. */
export function trialIncident(ref: string, reportedAt: string, perpetrator: string, victim: string, category: string, crime: boolean, extra: Partial<Row> = {}): Row {
  return {
    source_ref: ref,
    reported_at: reportedAt,
    occurred_at: '',
    risk_level: 'medium',
    category,
    area: 'Test Area North',
    perpetrator_ref: perpetrator,
    victim_ref: victim,
    children_present: 'false',
    crime: crime ? 'true' : 'false',
    ...extra,
  };
}

const i = trialIncident;

/**
 * The base incidents. Scores as of 2026-03-09 or 2026-03-10 (GMT; weights 1, sum of gravity):
 *   P-001 60 (R10 F5 G40 V5)  P-002 55  P-004 53  P-009 40  P-003 28  P-010 28  P-007 24  P-008 24
 *   P-012 21  P-005 19  P-006 16 (one incident in a category not in the gravity table)  P-011 14
 * Not eligible: P-102 32 and P-101 22 (one incident each), P-103 27 (nothing in the last 12 months).
 * P-104's incidents are older than the 36-month window: not scored at all.
 */
export const baseTrialIncidents: Row[] = [
  i('TEST-INC-001A', '2026-03-02T10:00:00Z', 'TEST-P-001', 'TEST-V-001', 'strangulation', true, { risk_level: 'high' }),
  i('TEST-INC-001B', '2026-02-10T10:00:00Z', 'TEST-P-001', 'TEST-V-001', 'assault', true),
  i('TEST-INC-001C', '2025-12-01T10:00:00Z', 'TEST-P-001', 'TEST-V-002', 'assault', true, { risk_level: 'standard' }),
  i('TEST-INC-002A', '2026-02-20T10:00:00Z', 'TEST-P-002', 'TEST-V-003', 'strangulation', true, { area: 'Test Area South' }),
  i('TEST-INC-002B', '2026-01-20T10:00:00Z', 'TEST-P-002', 'TEST-V-003', 'sexual offence', true, { area: 'Test Area South' }),
  i('TEST-INC-003A', '2026-01-15T10:00:00Z', 'TEST-P-003', 'TEST-V-004', 'assault', true),
  i('TEST-INC-003B', '2025-11-20T10:00:00Z', 'TEST-P-003', 'TEST-V-004', 'threats', false, { risk_level: 'standard' }),
  i('TEST-INC-004A', '2026-02-25T10:00:00Z', 'TEST-P-004', 'TEST-V-005', 'coercive control', true),
  i('TEST-INC-004B', '2026-01-05T10:00:00Z', 'TEST-P-004', 'TEST-V-006', 'coercive control', true),
  i('TEST-INC-004C', '2025-09-10T10:00:00Z', 'TEST-P-004', 'TEST-V-007', 'stalking', true),
  i('TEST-INC-005A', '2025-10-15T10:00:00Z', 'TEST-P-005', 'TEST-V-008', 'harassment', false, { risk_level: 'standard' }),
  i('TEST-INC-005B', '2025-08-01T10:00:00Z', 'TEST-P-005', 'TEST-V-008', 'harassment', false, { risk_level: 'standard' }),
  i('TEST-INC-006A', '2026-02-01T10:00:00Z', 'TEST-P-006', 'TEST-V-009', 'criminal damage', true, { area: 'Test Area South' }),
  i('TEST-INC-006B', '2025-12-15T10:00:00Z', 'TEST-P-006', 'TEST-V-009', 'TEST unlisted category', false, { area: 'Test Area South' }),
  i('TEST-INC-007A', '2025-06-01T10:00:00Z', 'TEST-P-007', 'TEST-V-010', 'assault', true),
  i('TEST-INC-007B', '2025-05-01T10:00:00Z', 'TEST-P-007', 'TEST-V-010', 'breach of order', true),
  i('TEST-INC-008A', '2026-02-14T10:00:00Z', 'TEST-P-008', 'TEST-V-011', 'threats', false, { risk_level: 'standard' }),
  i('TEST-INC-008B', '2025-12-24T10:00:00Z', 'TEST-P-008', 'TEST-V-011', 'threats', false, { risk_level: 'standard' }),
  i('TEST-INC-009A', '2026-03-05T10:00:00Z', 'TEST-P-009', 'TEST-V-012', 'assault', true, { area: 'Test Area South' }),
  i('TEST-INC-009B', '2026-01-30T10:00:00Z', 'TEST-P-009', 'TEST-V-013', 'assault', true, { area: 'Test Area South' }),
  i('TEST-INC-010A', '2026-02-05T10:00:00Z', 'TEST-P-010', 'TEST-V-014', 'stalking', true),
  i('TEST-INC-010B', '2025-11-11T10:00:00Z', 'TEST-P-010', 'TEST-V-014', 'harassment', true),
  i('TEST-INC-011A', '2026-02-27T10:00:00Z', 'TEST-P-011', 'TEST-V-015', 'verbal argument', false, { risk_level: 'standard' }),
  i('TEST-INC-011B', '2026-01-10T10:00:00Z', 'TEST-P-011', 'TEST-V-015', 'verbal argument', false, { risk_level: 'standard' }),
  i('TEST-INC-012A', '2026-02-18T10:00:00Z', 'TEST-P-012', 'TEST-V-016', 'criminal damage', true),
  i('TEST-INC-012B', '2025-10-02T10:00:00Z', 'TEST-P-012', 'TEST-V-016', 'criminal damage', true),
  i('TEST-INC-101A', '2026-03-03T10:00:00Z', 'TEST-P-101', 'TEST-V-101', 'assault', true),
  i('TEST-INC-102A', '2026-02-28T10:00:00Z', 'TEST-P-102', 'TEST-V-102', 'strangulation', true),
  i('TEST-INC-103A', '2024-06-01T10:00:00Z', 'TEST-P-103', 'TEST-V-103', 'assault', true),
  i('TEST-INC-103B', '2024-05-01T10:00:00Z', 'TEST-P-103', 'TEST-V-103', 'assault', true),
  i('TEST-INC-104A', '2022-02-01T10:00:00Z', 'TEST-P-104', 'TEST-V-104', 'assault', true),
  i('TEST-INC-104B', '2022-01-01T10:00:00Z', 'TEST-P-104', 'TEST-V-104', 'assault', true),
];

/** Eligible perpetrators in ranking order (ties by reference), as of 2026-03-09 or 2026-03-10. */
export const eligibleInOrder = [
  'TEST-P-001', 'TEST-P-002', 'TEST-P-004', 'TEST-P-009', 'TEST-P-003', 'TEST-P-010',
  'TEST-P-007', 'TEST-P-008', 'TEST-P-012', 'TEST-P-005', 'TEST-P-006', 'TEST-P-011',
];

/** Every perpetrator scored (the window's), by reference: [total, recency, frequency, gravity, victims, eligible]. */
export const expectedScores: Record<string, [number, number, number, number, number, boolean]> = {
  'TEST-P-001': [60, 10, 5, 40, 5, true],
  'TEST-P-002': [55, 10, 5, 40, 0, true],
  'TEST-P-004': [53, 10, 5, 28, 10, true],
  'TEST-P-009': [40, 10, 5, 20, 5, true],
  'TEST-P-003': [28, 10, 2, 16, 0, true],
  'TEST-P-010': [28, 10, 5, 13, 0, true],
  'TEST-P-007': [24, 4, 5, 15, 0, true],
  'TEST-P-008': [24, 10, 2, 12, 0, true],
  'TEST-P-012': [21, 10, 5, 6, 0, true],
  'TEST-P-005': [19, 7, 2, 10, 0, true],
  'TEST-P-006': [16, 10, 2, 4, 0, true],
  'TEST-P-011': [14, 10, 2, 2, 0, true],
  'TEST-P-102': [32, 10, 2, 20, 0, false],
  'TEST-P-103': [27, 2, 5, 20, 0, false],
  'TEST-P-101': [22, 10, 2, 10, 0, false],
};

export function trialIncidentsCsv(rows: Row[]): string {
  return csvOf(trialIncidentHeader, rows);
}

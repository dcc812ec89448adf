// What scoring reads from the store, on each database: one row per perpetrator with the window's
// incidents counted by category (crime and non-crime), distinct victims, the latest report and the
// recent count; the window's edges (start counted, end not); the nominal-id filter; and the ranking
// scoreAsOf builds on it, against totals worked out by hand with the shipped default configuration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreAsOf } from '../../src/app/score-perpetrators.js';
import { incidentRecordSchema } from '../../src/domain/records.js';
import { scoreWindowFor } from '../../src/domain/score-window.js';
import { defaultScoringConfig, scoringConfigHash } from '../../src/domain/scoring.js';
import { perpetratorActivityIn } from '../../src/store/scoring-repository.js';
import { upsertIncidents } from '../../src/store/records-repository.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { trialIncident } from '../support/trial-data.js';

const timeZone = 'Europe/London';
const asOf = '2026-03-10';
const scoring = { config: defaultScoringConfig, hash: scoringConfigHash(defaultScoringConfig), source: 'test' };
/** The default window as of 2026-03-10 (GMT): what was reported before that day began, [2023-03-10T00:00Z, 2026-03-10T00:00Z), recent from 2025-03-10T00:00Z. */
const window = scoreWindowFor(asOf, defaultScoringConfig.window_months, defaultScoringConfig.eligibility.recent_months, timeZone);

const rec = (...args: Parameters<typeof trialIncident>) => incidentRecordSchema.parse(trialIncident(...args));

/**
 * TEST-P-301: incidents on every edge of the window. Counted: exactly at the start, a millisecond
 * before recent starts, exactly where recent starts, a millisecond before the end. Not counted: a
 * millisecond before the start, exactly at the end.
 * TEST-P-302: one victim, "assault" as a crime and a non-crime, and "Assault" (a different string).
 * TEST-P-303: only outside the window. TEST-P-304: one incident (not eligible).
 */
const incidents = [
  rec('TEST-INC-301-BEFORE-START', '2023-03-09T23:59:59.999Z', 'TEST-P-301', 'TEST-V-301', 'sexual offence', true),
  rec('TEST-INC-301-AT-START', '2023-03-10T00:00:00.000Z', 'TEST-P-301', 'TEST-V-301', 'assault', true),
  rec('TEST-INC-301-BEFORE-RECENT', '2025-03-09T23:59:59.999Z', 'TEST-P-301', 'TEST-V-303', 'assault', true),
  rec('TEST-INC-301-AT-RECENT', '2025-03-10T00:00:00.000Z', 'TEST-P-301', 'TEST-V-301', 'harassment', false),
  rec('TEST-INC-301-LAST-MS', '2026-03-09T23:59:59.999Z', 'TEST-P-301', 'TEST-V-302', 'threats', false),
  rec('TEST-INC-301-AT-END', '2026-03-10T00:00:00.000Z', 'TEST-P-301', 'TEST-V-304', 'strangulation', true),
  rec('TEST-INC-302-A', '2026-01-15T10:00:00Z', 'TEST-P-302', 'TEST-V-305', 'assault', true),
  rec('TEST-INC-302-B', '2025-12-01T10:00:00Z', 'TEST-P-302', 'TEST-V-305', 'assault', false),
  rec('TEST-INC-302-C', '2025-06-01T10:00:00Z', 'TEST-P-302', 'TEST-V-305', 'Assault', true),
  rec('TEST-INC-303-OLD', '2022-01-01T10:00:00Z', 'TEST-P-303', 'TEST-V-306', 'assault', true),
  rec('TEST-INC-303-LATER', '2026-03-12T10:00:00Z', 'TEST-P-303', 'TEST-V-306', 'assault', true),
  rec('TEST-INC-304-A', '2026-02-01T10:00:00Z', 'TEST-P-304', 'TEST-V-307', 'stalking', true),
];

describe.each(databaseTargets)('perpetratorActivityIn and scoreAsOf on $name', (target) => {
  let db: TestDatabase;
  const idOf = new Map<string, number>();

  beforeAll(async () => {
    db = await target.create();
    await db.prisma.$transaction((tx) => upsertIncidents(tx, incidents, db.labelKey));
    for (const n of await db.prisma.nominal.findMany()) idOf.set(n.ref, n.id);
  });
  afterAll(() => db.destroy());

  it('takes its window from scoreWindowFor: up to the start of the as-of day, 36 and 12 months back', () => {
    expect(window.start.toISOString()).toBe('2023-03-10T00:00:00.000Z');
    expect(window.recentStart.toISOString()).toBe('2025-03-10T00:00:00.000Z');
    expect(window.end.toISOString()).toBe('2026-03-10T00:00:00.000Z');
  });

  it('counts an incident exactly at the window start but not one exactly at its end, by category, crime and recency', async () => {
    const activity = await perpetratorActivityIn(db.prisma, window);
    const byRef = new Map(activity.map((a) => [a.ref, a]));
    expect([...byRef.keys()].sort()).toEqual(['TEST-P-301', 'TEST-P-302', 'TEST-P-304']);

    const p301 = byRef.get('TEST-P-301')!;
    expect(p301.perpetratorId).toBe(idOf.get('TEST-P-301'));
    // The strangulation at the end and the sexual offence a millisecond before the start are left out.
    expect(p301.byCategory).toEqual([
      { category: 'assault', crimes: 2, nonCrimes: 0 },
      { category: 'harassment', crimes: 0, nonCrimes: 1 },
      { category: 'threats', crimes: 0, nonCrimes: 1 },
    ]);
    // TEST-V-301 twice, TEST-V-302, TEST-V-303; TEST-V-304 only at the (excluded) end.
    expect(p301.victims).toBe(3);
    // Recent from 2025-03-10T00:00Z inclusive: the incident exactly there and the last millisecond's.
    expect(p301.recentIncidents).toBe(2);
    expect(p301.latestAt.toISOString()).toBe('2026-03-09T23:59:59.999Z');
    const label = await db.prisma.nominal.findUniqueOrThrow({ where: { ref: 'TEST-P-301' } });
    expect(p301.label).toBe(label.label);
  });

  it('groups by the exact category string in code-unit order, and counts one victim once', async () => {
    const [p302] = await perpetratorActivityIn(db.prisma, window, [idOf.get('TEST-P-302')!]);
    expect(p302).toMatchObject({ ref: 'TEST-P-302', victims: 1, recentIncidents: 3 });
    expect(p302!.byCategory).toEqual([
      { category: 'Assault', crimes: 1, nonCrimes: 0 },
      { category: 'assault', crimes: 1, nonCrimes: 1 },
    ]);
    expect(p302!.latestAt.toISOString()).toBe('2026-01-15T10:00:00.000Z');
  });

  it('reads only the perpetrators named by nominalIds (none for an empty list)', async () => {
    const only = await perpetratorActivityIn(db.prisma, window, [idOf.get('TEST-P-304')!, idOf.get('TEST-P-303')!]);
    // TEST-P-303 has nothing in the window, so asking for them adds nobody.
    expect(only.map((a) => a.ref)).toEqual(['TEST-P-304']);
    expect(only[0]).toMatchObject({ victims: 1, recentIncidents: 1, byCategory: [{ category: 'stalking', crimes: 1, nonCrimes: 0 }] });
    expect(await perpetratorActivityIn(db.prisma, window, [])).toEqual([]);
    // A victim's id names no perpetrator.
    expect(await perpetratorActivityIn(db.prisma, window, [idOf.get('TEST-V-301')!])).toEqual([]);
  });

  it('moves the window with the as-of day: the end is local midnight (BST in summer)', async () => {
    // As of 2026-01-16: the 302-A incident at 10:00Z the day before counts; 301's later ones do not.
    const jan = scoreWindowFor('2026-01-16', 36, 12, timeZone);
    const activity = await perpetratorActivityIn(db.prisma, jan);
    const p302 = activity.find((a) => a.ref === 'TEST-P-302')!;
    expect(p302.latestAt.toISOString()).toBe('2026-01-15T10:00:00.000Z');
    expect(activity.find((a) => a.ref === 'TEST-P-304')).toBeUndefined();
    // As of 2025-06-02 in BST the day begins at 23:00Z the day before, so 302-C (10:00Z on 1 June) counts and 302-B does not.
    const june = scoreWindowFor('2025-06-02', 36, 12, timeZone);
    expect(june.end.toISOString()).toBe('2025-06-01T23:00:00.000Z');
    const [p302june] = await perpetratorActivityIn(db.prisma, june, [idOf.get('TEST-P-302')!]);
    expect(p302june!.byCategory).toEqual([{ category: 'Assault', crimes: 1, nonCrimes: 0 }]);
  });

  it('ranks the store with scoreAsOf as worked out by hand with the default configuration', async () => {
    const scored = await scoreAsOf(db, scoring, asOf, timeZone);
    expect(scored.window).toEqual(window);
    // TEST-P-301: recency 0 days → 10; frequency 2 crimes + 2 × 0.5 = 3 → 5; gravity assault 2 × 10 +
    //   harassment 5 + threats 6 = 31; victims 3 → 10. Total 56, eligible.
    // TEST-P-302: latest 53 days before → 10; 2 crimes + 0.5 = 2.5 → 5; gravity 3 × assault 10 = 30
    //   ("Assault" is the same gravity category); 1 victim → 0. Total 45, eligible.
    // TEST-P-304: 17 days → 10; 1 crime → 2; stalking 8; 1 victim → 0. Total 20, not eligible (1 incident).
    expect(
      scored.ranking.map((s) => ({ rank: s.rank, ref: s.ref, total: s.total, r: s.recency.points, f: s.frequency.points, g: s.gravity.points, v: s.victims.points, eligible: s.eligible })),
    ).toEqual([
      { rank: 1, ref: 'TEST-P-301', total: 56, r: 10, f: 5, g: 31, v: 10, eligible: true },
      { rank: 2, ref: 'TEST-P-302', total: 45, r: 10, f: 5, g: 30, v: 0, eligible: true },
      { rank: 3, ref: 'TEST-P-304', total: 20, r: 10, f: 2, g: 8, v: 0, eligible: false },
    ]);
    const p301 = scored.ranking[0]!;
    expect(p301).toMatchObject({ incidents: 4, crimes: 2, recentIncidents: 2, recency: { days: 0 } });
    expect(scored.ranking[1]!.recency.days).toBe(53);
    expect(scored.ranking[2]!.ineligibleReason).toMatch(/1 incident in the last 36 months, fewer than the 2 needed/);
    expect(scored.warnings).toEqual([]);
  });
});

// RFGV scoring: hand-computed scores, band edges, ranking order, power few, config hashing and refusals.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  defaultScoringConfig,
  explainScore,
  parseScoringConfig,
  powerFew,
  rankPerpetrators,
  scorePerpetrator,
  scoringConfigHash,
  type PerpetratorActivity,
  type ScoringConfig,
} from '../../src/domain/scoring.js';

const dayMs = 86_400_000;
const asOf = new Date('2026-03-01T12:00:00Z');
const daysBefore = (days: number) => new Date(asOf.getTime() - days * dayMs);

/** Not the shipped defaults: tests must not move when a force's illustrative numbers do. Weights other than 1 to catch a missing multiply. */
const testYaml = `
window_months: 36
recency:
  bands:
    - { from: 0, to: 90, points: 10 }
    - { from: 90, to: 180, points: 7 }
    - { from: 180, points: 1 }
frequency:
  crime_weight: 1
  non_crime_weight: 0.5
  bands:
    - { from: 1, to: 2, points: 2 }
    - { from: 2, to: 4, points: 5 }
    - { from: 4, points: 8 }
gravity:
  aggregate: sum
  default_weight: 1
  table:
    Assault: 10
    harassment: 5
    verbal argument: 1
    strangulation: 20
victims:
  enabled: true
  bands:
    - { from: 1, to: 2, points: 0 }
    - { from: 2, to: 3, points: 5 }
    - { from: 3, points: 10 }
weights: { recency: 2, frequency: 1, gravity: 0.5, victims: 3 }
eligibility: { min_incidents: 2, min_recent_incidents: 1, recent_months: 12 }
`;

function parsed(text: string, format: 'yaml' | 'json' = 'yaml'): ScoringConfig {
  const result = parseScoringConfig(text, format);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

function errorsOf(text: string, format: 'yaml' | 'json' = 'yaml'): string[] {
  const result = parseScoringConfig(text, format);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.errors;
}

const config = parsed(testYaml);
const withSection = (patch: Partial<ScoringConfig>): ScoringConfig => ({ ...config, ...patch });

function activity(overrides: Partial<PerpetratorActivity> & { ref: string }): PerpetratorActivity {
  return {
    perpetratorId: Number(overrides.ref.replace(/\D/g, '')) || 1,
    label: `Label ${overrides.ref}`,
    latestAt: daysBefore(10),
    byCategory: [{ category: 'assault', crimes: 2, nonCrimes: 0 }],
    victims: 1,
    recentIncidents: 2,
    ...overrides,
  };
}

/** 6 incidents: 3 crimes, 3 non-crimes; 2 victims; latest 40 days ago. */
const alpha = activity({
  ref: 'TEST-P-1',
  latestAt: daysBefore(40),
  byCategory: [
    { category: 'assault', crimes: 2, nonCrimes: 0 },
    { category: ' Harassment ', crimes: 1, nonCrimes: 2 },
    { category: 'verbal argument', crimes: 0, nonCrimes: 1 },
  ],
  victims: 2,
  recentIncidents: 2,
});

describe('scorePerpetrator', () => {
  it('computes every component and the weighted total by hand', () => {
    const score = scorePerpetrator(config, alpha, asOf);
    expect(score).toMatchObject({
      perpetratorId: 1,
      ref: 'TEST-P-1',
      label: 'Label TEST-P-1',
      incidents: 6,
      crimes: 3,
      recency: { days: 40, points: 10 },
      // 3 × 1 + 3 × 0.5 = 4.5 → band 4+ → 8
      frequency: { weightedCount: 4.5, points: 8 },
      // assault 2 × 10 + harassment 3 × 5 + verbal argument 1 × 1 (table keys matched ignoring case and spaces)
      gravity: { value: 36, points: 36 },
      victims: { count: 2, points: 5, serial: true },
      // 2 × 10 + 1 × 8 + 0.5 × 36 + 3 × 5
      total: 61,
      eligible: true,
      unknownCategories: [],
    });
    expect(score.ineligibleReason).toBeUndefined();
  });

  it('puts a value exactly at a band\'s "to" in the next band, and at its "from" in that band', () => {
    const recencyAt = (latestAt: Date) => scorePerpetrator(config, activity({ ref: 'TEST-P-2', latestAt }), asOf).recency;
    expect(recencyAt(daysBefore(90))).toEqual({ days: 90, points: 7 });
    // One millisecond short of 90 days is 89 whole days.
    expect(recencyAt(new Date(daysBefore(90).getTime() + 1))).toEqual({ days: 89, points: 10 });
    expect(recencyAt(daysBefore(0))).toEqual({ days: 0, points: 10 });
    expect(recencyAt(daysBefore(180))).toEqual({ days: 180, points: 1 });
    expect(recencyAt(daysBefore(179.5))).toEqual({ days: 179, points: 7 });
    // Later on the as-of day than asOf itself still counts as today.
    expect(recencyAt(new Date(asOf.getTime() + 3_600_000))).toEqual({ days: 0, points: 10 });

    const frequencyOf = (crimes: number, nonCrimes: number) =>
      scorePerpetrator(config, activity({ ref: 'TEST-P-2', byCategory: [{ category: 'assault', crimes, nonCrimes }] }), asOf).frequency;
    expect(frequencyOf(2, 0)).toEqual({ weightedCount: 2, points: 5 });
    expect(frequencyOf(1, 1)).toEqual({ weightedCount: 1.5, points: 2 });
    expect(frequencyOf(1, 0)).toEqual({ weightedCount: 1, points: 2 });
    // Below the first band's "from": the gap scores 0.
    expect(frequencyOf(0, 1)).toEqual({ weightedCount: 0.5, points: 0 });
    expect(frequencyOf(3, 2)).toEqual({ weightedCount: 4, points: 8 });

    const victimsOf = (victims: number) => scorePerpetrator(config, activity({ ref: 'TEST-P-2', victims }), asOf).victims;
    expect(victimsOf(1)).toEqual({ count: 1, points: 0, serial: false });
    expect(victimsOf(2)).toEqual({ count: 2, points: 5, serial: true });
    expect(victimsOf(3)).toEqual({ count: 3, points: 10, serial: true });
  });

  it('scores a value in a gap between bands as 0 points', () => {
    const gappy = withSection({
      recency: { bands: [{ from: 0, to: 30, points: 10 }, { from: 60, points: 1 }] },
    });
    expect(scorePerpetrator(gappy, activity({ ref: 'TEST-P-3', latestAt: daysBefore(45) }), asOf).recency).toEqual({ days: 45, points: 0 });
    expect(scorePerpetrator(gappy, activity({ ref: 'TEST-P-3', latestAt: daysBefore(60) }), asOf).recency).toEqual({ days: 60, points: 1 });
  });

  it('leaves victims out of the total under RFG but still marks a serial perpetrator', () => {
    const rfg = withSection({ victims: { ...config.victims, enabled: false } });
    const score = scorePerpetrator(rfg, alpha, asOf);
    expect(score.victims).toEqual({ count: 2, points: 0, serial: true });
    expect(score.total).toBe(61 - 15);
  });

  it('weights crimes and non-crimes separately', () => {
    const heavy = withSection({ frequency: { ...config.frequency, crime_weight: 2, non_crime_weight: 0.25 } });
    // 3 × 2 + 3 × 0.25 = 6.75
    expect(scorePerpetrator(heavy, alpha, asOf).frequency).toEqual({ weightedCount: 6.75, points: 8 });
    const light = withSection({ frequency: { ...config.frequency, crime_weight: 0.1, non_crime_weight: 0.7 } });
    // 3 × 0.1 + 3 × 0.7 = 2.4, without float noise
    expect(scorePerpetrator(light, alpha, asOf).frequency).toEqual({ weightedCount: 2.4, points: 5 });
  });

  it('aggregates gravity as the highest weight under max', () => {
    const max = withSection({ gravity: { ...config.gravity, aggregate: 'max' } });
    expect(scorePerpetrator(max, alpha, asOf).gravity).toEqual({ value: 10, points: 10 });
    const strangled = activity({
      ref: 'TEST-P-4',
      byCategory: [
        { category: 'assault', crimes: 5, nonCrimes: 0 },
        { category: 'Strangulation', crimes: 1, nonCrimes: 0 },
        // A row with no incidents carries no weight.
        { category: 'made up', crimes: 0, nonCrimes: 0 },
      ],
    });
    const score = scorePerpetrator(max, strangled, asOf);
    expect(score.gravity).toEqual({ value: 20, points: 20 });
    expect(score.unknownCategories).toEqual([]);
    expect(scorePerpetrator(config, strangled, asOf).gravity.value).toBe(5 * 10 + 20);
  });

  it('scores an unknown category with the default weight and lists it, without an error', () => {
    const score = scorePerpetrator(
      withSection({ gravity: { ...config.gravity, default_weight: 2 } }),
      activity({
        ref: 'TEST-P-5',
        byCategory: [
          { category: 'Stalking ', crimes: 1, nonCrimes: 1 },
          { category: 'assault', crimes: 1, nonCrimes: 0 },
          { category: 'stalking', crimes: 1, nonCrimes: 0 },
          { category: 'arson', crimes: 1, nonCrimes: 0 },
        ],
      }),
      asOf,
    );
    expect(score.unknownCategories).toEqual(['arson', 'stalking']);
    // stalking 3 × 2 + assault 1 × 10 + arson 1 × 2
    expect(score.gravity.value).toBe(18);
  });

  it('says why a perpetrator is not eligible', () => {
    const once = scorePerpetrator(config, activity({ ref: 'TEST-P-6', byCategory: [{ category: 'assault', crimes: 1, nonCrimes: 0 }], recentIncidents: 1 }), asOf);
    expect(once.eligible).toBe(false);
    expect(once.ineligibleReason).toBe('1 incident in the last 36 months, fewer than the 2 needed');
    const old = scorePerpetrator(config, activity({ ref: 'TEST-P-7', recentIncidents: 0 }), asOf);
    expect(old.eligible).toBe(false);
    expect(old.ineligibleReason).toBe('0 incidents in the last 12 months, fewer than the 1 needed');
    const neither = scorePerpetrator(config, activity({ ref: 'TEST-P-8', byCategory: [{ category: 'assault', crimes: 0, nonCrimes: 1 }], recentIncidents: 0 }), asOf);
    expect(neither.ineligibleReason).toBe('1 incident in the last 36 months, fewer than the 2 needed; 0 incidents in the last 12 months, fewer than the 1 needed');
  });

  it('gives no recency points to a perpetrator with no incidents', () => {
    const score = scorePerpetrator(config, activity({ ref: 'TEST-P-9', byCategory: [], victims: 0, recentIncidents: 0 }), asOf);
    expect(score).toMatchObject({ incidents: 0, total: 0, eligible: false });
    expect(score.recency.points).toBe(0);
  });
});

describe('rankPerpetrators', () => {
  const people = [
    alpha, // total 61
    activity({ ref: 'TEST-P-10' }), // assault 2 crimes, 10 days ago, 1 victim: 20 + 5 + 10 + 0 = 35
    activity({ ref: 'TEST-P-2' }), // identical: 35
    activity({ ref: 'TEST-P-B', perpetratorId: 20 }), // 35
    activity({ ref: 'TEST-P-a', perpetratorId: 21 }), // 35
    activity({ ref: 'TEST-P-3', latestAt: daysBefore(200), byCategory: [{ category: 'verbal argument', crimes: 0, nonCrimes: 2 }] }), // 2 + 2 + 1 + 0 = 5
    activity({ ref: 'TEST-P-4', byCategory: [{ category: 'stalking', crimes: 4, nonCrimes: 0 }], victims: 3 }), // 20 + 8 + 2 + 30 = 60
    activity({ ref: 'TEST-P-5', byCategory: [{ category: 'STALKING', crimes: 1, nonCrimes: 0 }, { category: 'arson', crimes: 1, nonCrimes: 0 }] }), // 20 + 5 + 1 + 0 = 26
  ];
  const expectedOrder = ['TEST-P-1', 'TEST-P-4', 'TEST-P-10', 'TEST-P-2', 'TEST-P-B', 'TEST-P-a', 'TEST-P-5', 'TEST-P-3'];

  it('orders by total, then ref in code-point order (not locale order), with 1-based ranks', () => {
    const { ranking } = rankPerpetrators(config, people, asOf);
    expect(ranking.map((s) => s.ref)).toEqual(expectedOrder);
    expect(ranking.map((s) => s.total)).toEqual([61, 60, 35, 35, 35, 35, 26, 5]);
    expect(ranking.map((s) => s.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('gives the same ranking whatever the input order', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 20; round++) {
      const shuffled = [...people];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const { ranking } = rankPerpetrators(config, shuffled, asOf);
      expect(ranking.map((s) => `${s.rank}:${s.ref}`)).toEqual(expectedOrder.map((ref, i) => `${i + 1}:${ref}`));
    }
  });

  it('warns once per unknown category with the number of incidents given the default weight', () => {
    const { warnings, ranking } = rankPerpetrators(config, people, asOf);
    expect(warnings).toEqual([
      'category "arson" is not in the gravity table: 1 incident scored with the default weight 1',
      'category "stalking" is not in the gravity table: 5 incidents scored with the default weight 1',
    ]);
    expect(ranking.find((s) => s.ref === 'TEST-P-5')!.unknownCategories).toEqual(['arson', 'stalking']);
  });

  it('ranks an empty list without fault', () => {
    const result = rankPerpetrators(config, [], asOf);
    expect(result.ranking).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.powerFew).toMatchObject({ perpetrators: 0, totalGravity: 0, top1: { count: 0, share: 0 }, top10: { count: 0, share: 0 } });
  });
});

describe('powerFew', () => {
  // A table where one "unit" incident weighs 1, so gravity equals the incident count.
  const unit = withSection({ gravity: { aggregate: 'sum', default_weight: 0, table: { unit: 1 } } });
  const withGravity = (values: number[]) =>
    values.map((value, i) =>
      scorePerpetrator(unit, activity({ ref: `TEST-P-${i + 1}`, byCategory: [{ category: 'unit', crimes: value, nonCrimes: 0 }] }), asOf),
    );

  it('gives the share of all gravity caused by the top 1%, 5% and 10%', () => {
    // 20 perpetrators: 100, 50, 25 and seventeen of 5 (85); total 260. Given out of order on purpose.
    const scores = withGravity([5, 5, 50, 5, 5, 5, 100, 5, 5, 5, 5, 5, 25, 5, 5, 5, 5, 5, 5, 5]);
    const result = powerFew(scores);
    expect(result.perpetrators).toBe(20);
    expect(result.totalGravity).toBe(260);
    // ceil(1% of 20) = 1 → at least one; ceil(5% of 20) = 1; ceil(10% of 20) = 2
    expect(result.top1).toEqual({ count: 1, share: Number((100 / 260).toFixed(6)) });
    expect(result.top5).toEqual({ count: 1, share: Number((100 / 260).toFixed(6)) });
    expect(result.top10).toEqual({ count: 2, share: Number((150 / 260).toFixed(6)) });
    expect(result.curve).toHaveLength(21);
    expect(result.curve[0]).toEqual({ perpetratorShare: 0, gravityShare: 0 });
    expect(result.curve[1]).toEqual({ perpetratorShare: 0.05, gravityShare: Number((100 / 260).toFixed(6)) });
    expect(result.curve[3]).toEqual({ perpetratorShare: 0.15, gravityShare: Number((175 / 260).toFixed(6)) });
    expect(result.curve.at(-1)).toEqual({ perpetratorShare: 1, gravityShare: 1 });
  });

  it('counts the top 5% of 200 as 10 perpetrators and keeps the curve to 101 points', () => {
    const values = Array.from({ length: 200 }, (_, i) => (i < 10 ? 10 : 1));
    const result = powerFew(withGravity(values));
    expect(result.top1).toEqual({ count: 2, share: Number((20 / 290).toFixed(6)) });
    expect(result.top5).toEqual({ count: 10, share: Number((100 / 290).toFixed(6)) });
    expect(result.top10).toEqual({ count: 20, share: Number((110 / 290).toFixed(6)) });
    expect(result.curve).toHaveLength(101);
  });

  it('reports zero shares when nobody has any gravity', () => {
    const result = powerFew(withGravity([0, 0, 0]));
    expect(result.top1).toEqual({ count: 1, share: 0 });
    expect(result.totalGravity).toBe(0);
  });
});

describe('explainScore', () => {
  it('explains each component, the total and eligibility', () => {
    const withUnknown: PerpetratorActivity = { ...alpha, byCategory: [...alpha.byCategory, { category: 'Arson', crimes: 1, nonCrimes: 0 }] };
    const score = scorePerpetrator(config, withUnknown, asOf);
    expect(explainScore(config, score)).toEqual([
      'Recency: latest incident 40 days before the as-of date → band 0–90 days → 10 points × weight 2 = 20',
      'Frequency: 4 crimes × 1 + 3 non-crimes × 0.5 = 5.5 → band 4+ → 8 points × weight 1 = 8',
      'Gravity (sum of category weights): 37 points × weight 0.5 = 18.5',
      '  arson: 1 incident × 1 (default weight: not in the gravity table) = 1',
      '  Assault: 2 incidents × 10 = 20',
      '  harassment: 3 incidents × 5 = 15',
      '  verbal argument: 1 incident × 1 = 1',
      'Victims: 2 distinct victims (serial) → band 2–3 → 5 points × weight 3 = 15',
      'Total: 20 + 8 + 18.5 + 15 = 61.5',
      'Eligible: yes (7 incidents in the last 36 months, at least 2 needed; 2 in the last 12 months, at least 1 needed)',
    ]);
  });

  it('says when victims are not used and why someone is not eligible', () => {
    const rfg = withSection({ victims: { ...config.victims, enabled: false } });
    const lines = explainScore(rfg, scorePerpetrator(rfg, activity({ ref: 'TEST-P-2', recentIncidents: 0 }), asOf));
    expect(lines).toContain('Victims: not used (RFG); 1 distinct victim');
    expect(lines).toContain('Total: 20 + 5 + 10 = 35');
    expect(lines.at(-1)).toBe('Eligible: no (0 incidents in the last 12 months, fewer than the 1 needed)');
  });
});

describe('parseScoringConfig and scoringConfigHash', () => {
  it('ships a YAML file equal to the defaults in code', () => {
    const text = readFileSync(new URL('../../config/scoring.default.yaml', import.meta.url), 'utf8');
    expect(text.split('\n')[0]).toMatch(/ILLUSTRATIVE/);
    const result = parseScoringConfig(text, 'yaml');
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config).toEqual(defaultScoringConfig);
    expect(result.hash).toBe(scoringConfigHash(defaultScoringConfig));
  });

  it('fills every omitted section from the defaults', () => {
    expect(parsed('{}')).toEqual(defaultScoringConfig);
    const partial = parsed('weights: { recency: 3, frequency: 1, gravity: 1, victims: 1 }');
    expect(partial.weights.recency).toBe(3);
    expect(partial.gravity).toEqual(defaultScoringConfig.gravity);
    expect(scoringConfigHash(parsed('{}', 'json'))).toBe(scoringConfigHash(defaultScoringConfig));
  });

  it('hashes the values, not the formatting or key order', () => {
    const yaml = parseScoringConfig(testYaml, 'yaml');
    const reordered = {
      eligibility: { recent_months: 12, min_recent_incidents: 1, min_incidents: 2 },
      weights: { victims: 3, gravity: 0.5, frequency: 1, recency: 2 },
      victims: { bands: config.victims.bands.map((b) => ({ points: b.points, ...(b.to === undefined ? {} : { to: b.to }), from: b.from })), enabled: true },
      gravity: { table: { strangulation: 20, 'verbal argument': 1.0, harassment: 5, Assault: 10 }, default_weight: 1, aggregate: 'sum' },
      frequency: { bands: config.frequency.bands, non_crime_weight: 0.5, crime_weight: 1 },
      recency: config.recency,
      window_months: 36,
    };
    const json = parseScoringConfig(JSON.stringify(reordered, null, 4), 'json');
    expect(yaml.ok && json.ok).toBe(true);
    if (!yaml.ok || !json.ok) return;
    expect(yaml.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(json.hash).toBe(yaml.hash);
    expect(scoringConfigHash(config)).toBe(yaml.hash);

    const changed = parseScoringConfig(testYaml.replace('gravity: 0.5', 'gravity: 0.6'), 'yaml');
    expect(changed.ok && changed.hash).not.toBe(yaml.hash);
    expect(changed.ok && changed.config.weights.gravity).toBe(0.6);
    expect(scoringConfigHash({ ...config, window_months: 24 })).not.toBe(yaml.hash);
  });

  it('refuses a negative weight, points or default weight, naming the path', () => {
    expect(errorsOf('weights: { recency: -1, frequency: 1, gravity: 1, victims: 1 }')).toEqual(['weights.recency: must not be negative']);
    expect(errorsOf(testYaml.replace('Assault: 10', 'Assault: -10'))).toEqual(['gravity.table.Assault: must not be negative']);
    expect(errorsOf(testYaml.replace('verbal argument: 1', 'verbal argument: -1'))).toEqual(['gravity.table["verbal argument"]: must not be negative']);
    expect(errorsOf(testYaml.replace('default_weight: 1', 'default_weight: -0.5'))).toEqual(['gravity.default_weight: must not be negative']);
    expect(errorsOf(testYaml.replace('{ from: 90, to: 180, points: 7 }', '{ from: 90, to: 180, points: -7 }'))).toEqual([
      'recency.bands[1].points: must not be negative',
    ]);
    expect(errorsOf(testYaml.replace('non_crime_weight: 0.5', 'non_crime_weight: -0.5'))).toEqual(['frequency.non_crime_weight: must not be negative']);
  });

  it('refuses overlapping, unsorted and open-ended-but-not-last bands', () => {
    expect(errorsOf(testYaml.replace('{ from: 90, to: 180, points: 7 }', '{ from: 80, to: 180, points: 7 }'))).toEqual([
      "recency.bands[1]: overlaps the band before it (its from 80 is below that band's to 90)",
    ]);
    expect(errorsOf('recency: { bands: [{ from: 90, to: 180, points: 7 }, { from: 0, to: 90, points: 10 }] }')).toEqual([
      'recency.bands[1]: is out of order: bands must be sorted by "from" (0 comes after 90)',
    ]);
    expect(errorsOf('victims: { enabled: true, bands: [{ from: 1, points: 0 }, { from: 3, points: 10 }] }')).toEqual([
      'victims.bands[0]: has no "to", so it must be the last band',
    ]);
    // Touching bands and gaps are fine.
    expect(parseScoringConfig('recency: { bands: [{ from: 0, to: 30, points: 10 }, { from: 60, points: 1 }] }', 'yaml').ok).toBe(true);
  });

  it('refuses a band whose "to" is not after its "from"', () => {
    expect(errorsOf('recency: { bands: [{ from: 90, to: 90, points: 7 }] }')).toEqual(['recency.bands[0].to: must be greater than from (90)']);
    expect(errorsOf('{"frequency": {"crime_weight": 1, "non_crime_weight": 1, "bands": [{"from": 4, "to": 2, "points": 1}]}}', 'json')).toEqual([
      'frequency.bands[0].to: must be greater than from (4)',
    ]);
  });

  it('refuses unknown keys at any depth', () => {
    expect(errorsOf('{ colour: blue }')).toEqual(['colour: is not a known setting']);
    expect(errorsOf(testYaml.replace('aggregate: sum', 'aggregate: sum\n  aggregat: max'))).toEqual(['gravity.aggregat: is not a known setting']);
    expect(errorsOf('recency: { bands: [{ from: 0, points: 1, until: 5 }] }')).toEqual(['recency.bands[0].until: is not a known setting']);
  });

  it('refuses other bad values with a message naming the path', () => {
    expect(errorsOf('gravity: { aggregate: mean, default_weight: 1, table: {} }')).toEqual(['gravity.aggregate: must be one of sum, max']);
    expect(errorsOf('weights: { recency: 1, frequency: 1, gravity: 1 }')).toEqual(['weights.victims: is required']);
    expect(errorsOf('window_months: "36"')).toEqual(['window_months: must be a number']);
    expect(errorsOf('window_months: 0')).toEqual(['window_months: must be at least 1']);
    expect(errorsOf('eligibility: { min_incidents: 1.5, min_recent_incidents: 1, recent_months: 12 }')).toEqual(['eligibility.min_incidents: must be a whole number']);
    expect(errorsOf('window_months: 6')).toEqual([
      'eligibility.recent_months: must not be longer than window_months (6): incidents outside the window are not counted',
    ]);
    expect(errorsOf('gravity: { aggregate: sum, default_weight: 1, table: { assault: 10, " Assault": 5 } }')).toEqual([
      'gravity.table[" Assault"]: is the same category as "assault" (keys ignore case and surrounding spaces)',
    ]);
    expect(errorsOf('{"gravity": {"aggregate": "sum", "default_weight": 1, "table": {"__proto__": 5}}}', 'json')).toEqual([
      'gravity.table.__proto__: is not allowed as a category',
    ]);
    expect(errorsOf('recency: { bands: [] }')[0]).toMatch(/^recency\.bands: must list at least one band/);
    expect(errorsOf('- 1\n- 2')).toEqual(['(configuration): must be an object']);
    expect(errorsOf('')).toEqual(['(configuration): is empty; write the settings, or {} to take the illustrative defaults']);
  });

  it('refuses invalid YAML and JSON without throwing', () => {
    const yaml = errorsOf('recency:\n  bands: [ { from: 0, to: 90\n');
    expect(yaml.length).toBeGreaterThan(0);
    expect(yaml[0]).toMatch(/^YAML: /);
    expect(errorsOf('weights: { recency: 1 }\nweights: { recency: 2 }')[0]).toMatch(/^YAML: .*unique/i);
    expect(errorsOf('{"window_months": 36,', 'json')[0]).toMatch(/^JSON: /);
    expect(() => parseScoringConfig('\t- : : {', 'yaml')).not.toThrow();
    expect(parseScoringConfig('{}', 'toml' as 'yaml').ok).toBe(false);
  });

  it('hands back frozen configurations, since compiled lookups are cached by identity', () => {
    expect(Object.isFrozen(config.gravity.table)).toBe(true);
    expect(Object.isFrozen(defaultScoringConfig.recency.bands[0])).toBe(true);
  });
});

// RFG/RFGV scoring of domestic-abuse perpetrators (Recency, Frequency, Gravity, Victims): configuration, scores, ranking, power few, explanation.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseDocument } from 'yaml';

const dayMs = 86_400_000;

// Rounding to 6 places keeps sums such as 3 × 0.7 from landing just below a band edge or printing as 2.0999999999999996.
function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Configuration

const nonNegative = z.number().min(0, 'must not be negative');
const count = z.number().int('must be a whole number').min(0, 'must not be negative');

const bandSchema = z
  .strictObject({
    from: nonNegative,
    to: z.number().optional(),
    points: nonNegative,
  })
  .superRefine((band, ctx) => {
    if (typeof band.from === 'number' && typeof band.to === 'number' && band.to <= band.from) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `must be greater than from (${band.from})` });
    }
  });

const bandsSchema = z
  .array(bandSchema)
  .min(1, 'must list at least one band (set the weight to 0 to leave a component out)')
  .superRefine((bands, ctx) => {
    for (let i = 1; i < bands.length; i++) {
      const before = bands[i - 1]!;
      const band = bands[i]!;
      if (before.to === undefined) {
        ctx.addIssue({ code: 'custom', path: [i - 1], message: 'has no "to", so it must be the last band' });
      } else if (band.from < before.from) {
        ctx.addIssue({ code: 'custom', path: [i], message: `is out of order: bands must be sorted by "from" (${band.from} comes after ${before.from})` });
      } else if (band.from < before.to) {
        ctx.addIssue({ code: 'custom', path: [i], message: `overlaps the band before it (its from ${band.from} is below that band's to ${before.to})` });
      }
    }
  });

/** Gravity table keys are matched trimmed and case-insensitively, against categories normalised the same way. */
export function normaliseCategory(category: string): string {
  return category.trim().toLowerCase();
}

// Zod's record skips a `__proto__` key without a word, leaving a category the force thinks it weighted; refuse it first.
const noProtoKey = z.unknown().superRefine((raw, ctx) => {
  if (raw !== null && typeof raw === 'object' && Object.hasOwn(raw, '__proto__')) {
    ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'is not allowed as a category' });
  }
});

const gravityTableSchema = noProtoKey
  .pipe(z.record(z.string(), nonNegative))
  .superRefine((table, ctx) => {
    const seen = new Map<string, string>();
    for (const key of Object.keys(table)) {
      const normal = normaliseCategory(key);
      if (normal === '') {
        ctx.addIssue({ code: 'custom', path: [key], message: 'is not a category: it is empty' });
        continue;
      }
      const earlier = seen.get(normal);
      if (earlier !== undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: `is the same category as "${earlier}" (keys ignore case and surrounding spaces)` });
      } else {
        seen.set(normal, key);
      }
    }
  });

const recencySchema = z.strictObject({ bands: bandsSchema });
const frequencySchema = z.strictObject({ crime_weight: nonNegative, non_crime_weight: nonNegative, bands: bandsSchema });
const gravitySchema = z.strictObject({ aggregate: z.enum(['sum', 'max']), default_weight: nonNegative, table: gravityTableSchema });
const victimsSchema = z.strictObject({ enabled: z.boolean(), bands: bandsSchema });
const weightsSchema = z.strictObject({ recency: nonNegative, frequency: nonNegative, gravity: nonNegative, victims: nonNegative });
const eligibilitySchema = z.strictObject({
  min_incidents: count,
  min_recent_incidents: count,
  recent_months: z.number().int('must be a whole number').min(1, 'must be at least 1'),
});

export type ScoringBand = z.output<typeof bandSchema>;
export type GravityAggregate = z.output<typeof gravitySchema>['aggregate'];

// Typed per section so the defaults can feed the schema's `.default()` without a circular type.
const defaultRecency: z.output<typeof recencySchema> = {
  bands: [
    { from: 0, to: 90, points: 10 },
    { from: 90, to: 180, points: 7 },
    { from: 180, to: 365, points: 4 },
    { from: 365, to: 730, points: 2 },
    { from: 730, points: 1 },
  ],
};
const defaultFrequency: z.output<typeof frequencySchema> = {
  crime_weight: 1,
  non_crime_weight: 0.5,
  bands: [
    { from: 0.5, to: 2, points: 2 },
    { from: 2, to: 4, points: 5 },
    { from: 4, to: 7, points: 8 },
    { from: 7, points: 10 },
  ],
};
const defaultGravity: z.output<typeof gravitySchema> = {
  aggregate: 'sum',
  default_weight: 1,
  table: {
    strangulation: 20,
    'sexual offence': 20,
    assault: 10,
    'coercive control': 10,
    stalking: 8,
    threats: 6,
    harassment: 5,
    'breach of order': 5,
    'criminal damage': 3,
    'verbal argument': 1,
  },
};
const defaultVictims: z.output<typeof victimsSchema> = {
  enabled: true,
  bands: [
    { from: 1, to: 2, points: 0 },
    { from: 2, to: 3, points: 5 },
    { from: 3, points: 10 },
  ],
};
const defaultWeights: z.output<typeof weightsSchema> = { recency: 1, frequency: 1, gravity: 1, victims: 1 };
const defaultEligibility: z.output<typeof eligibilitySchema> = { min_incidents: 2, min_recent_incidents: 1, recent_months: 12 };
const defaultWindowMonths = 36;

export const scoringConfigSchema = z
  .strictObject({
    window_months: z.number().int('must be a whole number').min(1, 'must be at least 1').default(defaultWindowMonths),
    recency: recencySchema.default(() => structuredClone(defaultRecency)),
    frequency: frequencySchema.default(() => structuredClone(defaultFrequency)),
    gravity: gravitySchema.default(() => structuredClone(defaultGravity)),
    victims: victimsSchema.default(() => structuredClone(defaultVictims)),
    weights: weightsSchema.default(() => structuredClone(defaultWeights)),
    eligibility: eligibilitySchema.default(() => structuredClone(defaultEligibility)),
  })
  .superRefine((config, ctx) => {
    // Refinements still run after a continuable issue; a window already refused would only add noise here.
    const windowValid = Number.isInteger(config.window_months) && config.window_months >= 1;
    if (windowValid && config.eligibility.recent_months > config.window_months) {
      ctx.addIssue({
        code: 'custom',
        path: ['eligibility', 'recent_months'],
        message: `must not be longer than window_months (${config.window_months}): incidents outside the window are not counted`,
      });
    }
  });

export type ScoringConfig = z.output<typeof scoringConfigSchema>;

/** The shipped illustrative defaults; `config/scoring.default.yaml` must say the same. Frozen: compiled lookups are cached by identity. */
export const defaultScoringConfig: ScoringConfig = deepFreeze({
  window_months: defaultWindowMonths,
  recency: structuredClone(defaultRecency),
  frequency: structuredClone(defaultFrequency),
  gravity: structuredClone(defaultGravity),
  victims: structuredClone(defaultVictims),
  weights: structuredClone(defaultWeights),
  eligibility: structuredClone(defaultEligibility),
});

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === '' ? '(configuration)' : out;
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

// Zod's stock wording ("Invalid input: expected number, received string") reads poorly to a force analyst editing YAML.
const errorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}`;
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map(String).join(', ')}`;
  return undefined;
};

function describeIssues(error: z.ZodError): string[] {
  const errors: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) errors.push(`${formatPath([...issue.path, key])}: is not a known setting`);
    } else {
      errors.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  return [...new Set(errors)];
}

export type ParsedScoringConfig = { ok: true; config: ScoringConfig; hash: string } | { ok: false; errors: string[] };

/** Reads a scoring configuration from YAML or JSON text. Never throws: every problem comes back as a line naming its path. */
export function parseScoringConfig(text: string, format: 'yaml' | 'json'): ParsedScoringConfig {
  let data: unknown;
  try {
    if (format === 'json') {
      try {
        data = JSON.parse(text);
      } catch (error) {
        return { ok: false, errors: [`JSON: ${(error as Error).message}`] };
      }
    } else if (format === 'yaml') {
      const doc = parseDocument(text, { uniqueKeys: true });
      // Only the first line: the rest of yaml's message is a code excerpt that spoils a one-line report.
      if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`) };
      data = doc.toJS({ maxAliasCount: 100 });
    } else {
      return { ok: false, errors: [`format must be yaml or json, not ${String(format)}`] };
    }
  } catch (error) {
    return { ok: false, errors: [`${format === 'json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`] };
  }
  // An empty file is far more likely a mistake than a wish for the illustrative defaults.
  if (data === null || data === undefined) {
    return { ok: false, errors: ['(configuration): is empty; write the settings, or {} to take the illustrative defaults'] };
  }
  const result = scoringConfigSchema.safeParse(data, { error: errorMap });
  if (!result.success) return { ok: false, errors: describeIssues(result.error) };
  const config = deepFreeze(result.data);
  return { ok: true, config, hash: scoringConfigHash(config) };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Identifies a configuration by its values, so a report can say exactly which weights produced it. */
export function scoringConfigHash(config: ScoringConfig): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Scoring

export interface PerpetratorActivity {
  perpetratorId: number;
  /** Records-system reference. */
  ref: string;
  /** Pseudonymous label. */
  label: string;
  /** Latest incident `reported_at` in the window; the caller filters to [asOf - window_months, asOf]. */
  latestAt: Date;
  /** Incidents in the window grouped by category. */
  byCategory: { category: string; crimes: number; nonCrimes: number }[];
  /** Distinct victims in the window. */
  victims: number;
  /** Incidents in the last `eligibility.recent_months`. */
  recentIncidents: number;
}

export interface PerpetratorScore {
  perpetratorId: number;
  ref: string;
  label: string;
  asOf: Date;
  latestAt: Date;
  /** The activity's rows, by reference (not copied), so explainScore can itemise gravity. */
  byCategory: readonly { category: string; crimes: number; nonCrimes: number }[];
  incidents: number;
  crimes: number;
  recentIncidents: number;
  recency: { days: number; points: number };
  frequency: { weightedCount: number; points: number };
  gravity: { value: number; points: number };
  victims: { count: number; points: number; serial: boolean };
  total: number;
  eligible: boolean;
  ineligibleReason?: string;
  /** Categories (normalised) scored with the default weight. */
  unknownCategories: string[];
}

export type RankedScore = PerpetratorScore & { rank: number };

/** A configuration turned into lookups once, so scoring 200,000 perpetrators does not rebuild them each time. */
export interface CompiledScoring {
  readonly config: ScoringConfig;
  /** Normalised category -> weight. */
  readonly gravityWeights: ReadonlyMap<string, number>;
  /** Normalised category -> the key as the configuration spells it, for explanations. */
  readonly gravityNames: ReadonlyMap<string, string>;
  readonly normalised: Map<string, string>;
}

const compiledByConfig = new WeakMap<ScoringConfig, CompiledScoring>();
// Categories repeat across perpetrators; a bounded memo spares a trim+lowercase string per row.
const normalisedCacheLimit = 10_000;

/** Memoised by identity, so treat configurations as immutable (parsed ones and the defaults are frozen). */
export function compileScoring(config: ScoringConfig): CompiledScoring {
  const cached = compiledByConfig.get(config);
  if (cached) return cached;
  const gravityWeights = new Map<string, number>();
  const gravityNames = new Map<string, string>();
  for (const [key, weight] of Object.entries(config.gravity.table)) {
    const normal = normaliseCategory(key);
    if (!gravityWeights.has(normal)) {
      gravityWeights.set(normal, weight);
      gravityNames.set(normal, key.trim());
    }
  }
  const compiled: CompiledScoring = { config, gravityWeights, gravityNames, normalised: new Map() };
  compiledByConfig.set(config, compiled);
  return compiled;
}

function normaliseWith(compiled: CompiledScoring, category: string): string {
  let normal = compiled.normalised.get(category);
  if (normal === undefined) {
    normal = normaliseCategory(category);
    if (compiled.normalised.size < normalisedCacheLimit) compiled.normalised.set(category, normal);
  }
  return normal;
}

function bandIndex(bands: readonly ScoringBand[], value: number): number {
  // A full scan rather than an early exit, so a hand-built (unvalidated) configuration still scores correctly.
  for (let i = 0; i < bands.length; i++) {
    const band = bands[i]!;
    if (value >= band.from && (band.to === undefined || value < band.to)) return i;
  }
  return -1;
}

function bandPoints(bands: readonly ScoringBand[], value: number): number {
  const i = bandIndex(bands, value);
  return i < 0 ? 0 : bands[i]!.points;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function ineligibility(config: ScoringConfig, incidents: number, recent: number): string | undefined {
  const { min_incidents, min_recent_incidents, recent_months } = config.eligibility;
  let reason: string | undefined;
  if (incidents < min_incidents) {
    reason = `${plural(incidents, 'incident')} in the last ${config.window_months} months, fewer than the ${min_incidents} needed`;
  }
  if (recent < min_recent_incidents) {
    const part = `${plural(recent, 'incident')} in the last ${recent_months} months, fewer than the ${min_recent_incidents} needed`;
    reason = reason === undefined ? part : `${reason}; ${part}`;
  }
  return reason;
}

function scoreWith(
  compiled: CompiledScoring,
  activity: PerpetratorActivity,
  asOf: Date,
  unknownCounts: Map<string, number> | undefined,
): PerpetratorScore {
  const { config, gravityWeights } = compiled;
  const useMax = config.gravity.aggregate === 'max';
  const defaultWeight = config.gravity.default_weight;
  let crimes = 0;
  let nonCrimes = 0;
  let gravity = 0;
  let unknown: string[] | undefined;
  const rows = activity.byCategory;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    crimes += row.crimes;
    nonCrimes += row.nonCrimes;
    const incidents = row.crimes + row.nonCrimes;
    if (incidents <= 0) continue;
    const key = normaliseWith(compiled, row.category);
    let weight = gravityWeights.get(key);
    if (weight === undefined) {
      weight = defaultWeight;
      if (unknown === undefined) unknown = [key];
      else if (!unknown.includes(key)) unknown.push(key);
      if (unknownCounts !== undefined) unknownCounts.set(key, (unknownCounts.get(key) ?? 0) + incidents);
    }
    if (useMax) {
      if (weight > gravity) gravity = weight;
    } else {
      gravity += incidents * weight;
    }
  }
  gravity = round6(gravity);
  const incidents = crimes + nonCrimes;

  // An incident later on the as-of day (the window runs to the day's end) is still "today", not -1 days.
  const days = Math.max(0, Math.floor((asOf.getTime() - activity.latestAt.getTime()) / dayMs));
  // No incidents means no recency to reward, whatever latestAt says.
  const recencyPoints = incidents > 0 ? bandPoints(config.recency.bands, days) : 0;
  const weightedCount = round6(crimes * config.frequency.crime_weight + nonCrimes * config.frequency.non_crime_weight);
  const frequencyPoints = bandPoints(config.frequency.bands, weightedCount);
  const victimsPoints = config.victims.enabled ? bandPoints(config.victims.bands, activity.victims) : 0;
  const w = config.weights;
  const total = round6(w.recency * recencyPoints + w.frequency * frequencyPoints + w.gravity * gravity + w.victims * victimsPoints);
  const ineligibleReason = ineligibility(config, incidents, activity.recentIncidents);
  if (unknown !== undefined && unknown.length > 1) unknown.sort(compareCodePoints);

  return {
    perpetratorId: activity.perpetratorId,
    ref: activity.ref,
    label: activity.label,
    asOf,
    latestAt: activity.latestAt,
    byCategory: rows,
    incidents,
    crimes,
    recentIncidents: activity.recentIncidents,
    recency: { days, points: recencyPoints },
    frequency: { weightedCount, points: frequencyPoints },
    gravity: { value: gravity, points: gravity },
    victims: { count: activity.victims, points: victimsPoints, serial: activity.victims >= 2 },
    total,
    eligible: ineligibleReason === undefined,
    ineligibleReason,
    unknownCategories: unknown ?? [],
  };
}

export function scorePerpetrator(config: ScoringConfig, activity: PerpetratorActivity, asOf: Date): PerpetratorScore {
  return scoreWith(compileScoring(config), activity, asOf, undefined);
}

/** Code-point order, not locale order: the ranking must be the same on every machine and in every locale. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 puts surrogates (astral code points) below U+E000–U+FFFF; lift them above to match code-point order.
      if (x >= 0xd800) x += x <= 0xdfff ? 0x2000 : -0x800;
      if (y >= 0xd800) y += y <= 0xdfff ? 0x2000 : -0x800;
      return x - y;
    }
  }
  return a.length - b.length;
}

function compareRanked(a: PerpetratorScore, b: PerpetratorScore): number {
  // perpetratorId last, so even duplicate refs cannot make the order depend on the input's.
  return b.total - a.total || compareCodePoints(a.ref, b.ref) || a.perpetratorId - b.perpetratorId;
}

export interface PowerFewShare {
  count: number;
  share: number;
}

export interface PowerFew {
  perpetrators: number;
  totalGravity: number;
  top1: PowerFewShare;
  top5: PowerFewShare;
  top10: PowerFewShare;
  /** Cumulative share of gravity against share of perpetrators, most harmful first, in 1% steps. */
  curve: { perpetratorShare: number; gravityShare: number }[];
}

export interface Ranking {
  ranking: RankedScore[];
  warnings: string[];
  powerFew: PowerFew;
}

/** Scores everyone and ranks by total (highest first), ties by ref in code-point order; rank is the 1-based position. */
export function rankPerpetrators(config: ScoringConfig, activities: readonly PerpetratorActivity[], asOf: Date): Ranking {
  const compiled = compileScoring(config);
  const unknownCounts = new Map<string, number>();
  const ranking = new Array<RankedScore>(activities.length);
  // Cast now, rank set after the sort: every score gains `rank` the same way, so they keep one shape.
  for (let i = 0; i < activities.length; i++) ranking[i] = scoreWith(compiled, activities[i]!, asOf, unknownCounts) as RankedScore;
  ranking.sort(compareRanked);
  for (let i = 0; i < ranking.length; i++) ranking[i]!.rank = i + 1;
  const warnings = [...unknownCounts.keys()]
    .sort(compareCodePoints)
    .map(
      (category) =>
        `category "${category}" is not in the gravity table: ${plural(unknownCounts.get(category)!, 'incident')} scored with the default weight ${config.gravity.default_weight}`,
    );
  return { ranking, warnings, powerFew: powerFew(ranking) };
}

/** How concentrated harm is: the share of all gravity caused by the most harmful 1%, 5% and 10% of perpetrators. */
export function powerFew(scores: readonly PerpetratorScore[]): PowerFew {
  const n = scores.length;
  // Cumulative shares depend only on the sorted values, so ties (and the ref tie-break) cannot change them.
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = scores[i]!.gravity.value;
  values.sort().reverse();
  const cumulative = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) cumulative[i + 1] = cumulative[i]! + values[i]!;
  const total = cumulative[n]!;
  const shareOf = (k: number) => (total > 0 ? round6(cumulative[k]! / total) : 0);
  // Integer percent keeps ceil exact: 7 * 100 / 100 is 7, where 0.07 * 100 is 7.000000000000001.
  const top = (percent: number): PowerFewShare => {
    const k = n === 0 ? 0 : Math.max(1, Math.ceil((percent * n) / 100));
    return { count: k, share: shareOf(k) };
  };
  const curve: PowerFew['curve'] = [];
  if (n > 0) {
    let previous = -1;
    for (let percent = 0; percent <= 100; percent++) {
      const k = Math.ceil((percent * n) / 100);
      if (k === previous) continue;
      previous = k;
      curve.push({ perpetratorShare: round6(k / n), gravityShare: shareOf(k) });
    }
  }
  return { perpetrators: n, totalGravity: round6(total), top1: top(1), top5: top(5), top10: top(10), curve };
}

// ---------------------------------------------------------------------------------------------
// Explanation

const num = (value: number) => String(round6(value));

function bandText(bands: readonly ScoringBand[], value: number, unit: string): string {
  const i = bandIndex(bands, value);
  if (i < 0) return 'no band (a gap in the bands)';
  const band = bands[i]!;
  return band.to === undefined ? `band ${band.from}+${unit}` : `band ${band.from}–${band.to}${unit}`;
}

/** Lines saying how a score was made, for an analyst or a chair. No ref or label, so the caller decides where it may be shown. */
export function explainScore(config: ScoringConfig, score: PerpetratorScore): string[] {
  const compiled = compileScoring(config);
  const w = config.weights;
  const lines: string[] = [];

  if (score.incidents === 0) {
    lines.push(`Recency: no incidents in the window → 0 points`);
  } else {
    lines.push(
      `Recency: latest incident ${plural(score.recency.days, 'day')} before the as-of date → ${bandText(config.recency.bands, score.recency.days, ' days')} → ` +
        `${num(score.recency.points)} points × weight ${num(w.recency)} = ${num(score.recency.points * w.recency)}`,
    );
  }

  const nonCrimes = score.incidents - score.crimes;
  lines.push(
    `Frequency: ${plural(score.crimes, 'crime')} × ${num(config.frequency.crime_weight)} + ${plural(nonCrimes, 'non-crime')} × ${num(config.frequency.non_crime_weight)} ` +
      `= ${num(score.frequency.weightedCount)} → ${bandText(config.frequency.bands, score.frequency.weightedCount, '')} → ` +
      `${num(score.frequency.points)} points × weight ${num(w.frequency)} = ${num(score.frequency.points * w.frequency)}`,
  );

  const byCategory = new Map<string, number>();
  for (const row of score.byCategory) {
    const incidents = row.crimes + row.nonCrimes;
    if (incidents <= 0) continue;
    const key = normaliseCategory(row.category);
    byCategory.set(key, (byCategory.get(key) ?? 0) + incidents);
  }
  const useMax = config.gravity.aggregate === 'max';
  lines.push(
    `Gravity (${useMax ? 'highest category weight' : 'sum of category weights'}): ${num(score.gravity.points)} points × weight ${num(w.gravity)} = ${num(score.gravity.points * w.gravity)}`,
  );
  for (const key of [...byCategory.keys()].sort(compareCodePoints)) {
    const incidents = byCategory.get(key)!;
    const known = compiled.gravityWeights.get(key);
    const weight = known ?? config.gravity.default_weight;
    const name = compiled.gravityNames.get(key) ?? key;
    const mark = known === undefined ? ' (default weight: not in the gravity table)' : '';
    lines.push(
      useMax
        ? `  ${name}: ${plural(incidents, 'incident')}, weight ${num(weight)}${mark}`
        : `  ${name}: ${plural(incidents, 'incident')} × ${num(weight)}${mark} = ${num(incidents * weight)}`,
    );
  }

  const victims = `${plural(score.victims.count, 'distinct victim')}${score.victims.serial ? ' (serial)' : ''}`;
  lines.push(
    config.victims.enabled
      ? `Victims: ${victims} → ${bandText(config.victims.bands, score.victims.count, '')} → ${num(score.victims.points)} points × weight ${num(w.victims)} = ${num(score.victims.points * w.victims)}`
      : `Victims: not used (RFG); ${victims}`,
  );

  const parts = [score.recency.points * w.recency, score.frequency.points * w.frequency, score.gravity.points * w.gravity];
  if (config.victims.enabled) parts.push(score.victims.points * w.victims);
  lines.push(`Total: ${parts.map(num).join(' + ')} = ${num(score.total)}`);

  lines.push(
    score.eligible
      ? `Eligible: yes (${plural(score.incidents, 'incident')} in the last ${config.window_months} months, at least ${config.eligibility.min_incidents} needed; ` +
          `${score.recentIncidents} in the last ${config.eligibility.recent_months} months, at least ${config.eligibility.min_recent_incidents} needed)`
      : `Eligible: no (${score.ineligibleReason ?? 'not eligible'})`,
  );
  return lines;
}

// The trial's outcome measures: rates per arm and period, the ratio of rate ratios with a perpetrator-level
// bootstrap interval, victim-perceived risk, the CONSORT counts and the cumulative-incidents chart. Pure: no I/O.
import { DateTime } from 'luxon';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { quantile } from 'simple-statistics';
import type {
  Consort,
  CumulativePoint,
  Effect,
  OutcomeReport,
  PeriodName,
  PeriodRate,
  PeriodRisk,
  RateMeasure,
  RiskMeasure,
} from './outcome-report.js';
import { periodNames } from './outcome-report.js';
import { compareCodePoints, normaliseCategory } from './scoring.js';
import { controlArm } from './trial.js';

// ---------------------------------------------------------------------------------------------
// Inputs

export interface ParticipantRecord {
  /** Records-system reference. */
  ref: string;
  /** `control` or a treated arm. */
  arm: string;
  /** YYYY-MM-DD, the local date in the meeting's time zone. */
  enrolledOn: string;
  /** YYYY-MM-DD, the last day of participation, or null. */
  exitedOn: string | null;
  incidents: Array<{ reportedAt: Date; crime: boolean; category: string }>;
  /** Instants (the start of the flag's starts_on day in the zone) of 'marac' flags started. */
  maracFlagsStarted: Date[];
  /** Contacts of this perpetrator's victims. */
  victimContacts: Array<{ victim: string; contactedAt: Date; perceivedRisk: number }>;
}

export interface OutcomeInputs {
  /** YYYY-MM-DD: the report's day (periods end at the end of this day). */
  asOf: string;
  /** IANA zone, e.g. Europe/London. */
  timeZone: string;
  participants: ParticipantRecord[];
  /** Severity weights by category (looked up with normaliseCategory); `source` names where they came from. */
  harm: { table: Record<string, number>; defaultWeight: number; source: string };
  /** The caller's default is 2000 resamples. */
  bootstrap: { resamples: number; seed: number };
  /**
   * The trial's arms in order (as registered). Optional: without it the arms are those the participants are in,
   * treated arms in code-point order and then control. The first treated arm's effect is the measure's `effect`.
   */
  arms?: string[];
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const dayMs = 86_400_000;
const yearMs = 365.25 * dayMs;

/** Six decimal places, so report.json is stable and readable; computation stays in full precision. */
function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a calendar date, with no zone (so clock changes cannot touch it). */
function epochDay(date: string, what: string): number {
  const m = typeof date === 'string' ? isoDate.exec(date) : null;
  if (m === null) throw new Error(`${what} "${String(date)}" is not a date written YYYY-MM-DD`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, day);
  const check = new Date(ms);
  if (month < 1 || month > 12 || check.getUTCDate() !== day || check.getUTCFullYear() !== year) throw new Error(`${what} "${date}" is not a real date`);
  return ms / dayMs;
}

const dateOfEpochDay = (day: number) => new Date(day * dayMs).toISOString().slice(0, 10);

/**
 * Day starts and month arithmetic in one zone, through luxon, memoised by date: a trial's participants share a few
 * hundred dates, and a luxon call in a named zone costs tens of microseconds.
 */
export interface ZoneDays {
  readonly timeZone: string;
  /** The instant (ms) the local day `date` (YYYY-MM-DD) begins in the zone. */
  dayStart(date: string, what?: string): number;
  /** The same for a day given as days since 1970-01-01. */
  dayStartOf(epochDay: number): number;
  /** The calendar date `months` months after `date` (negative for before; the day clamped to the month's end). */
  plusMonths(date: string, months: number): string;
}

// Shared by every call for a zone: the answers never change, and a report, its tests and the demo ask for the same dates.
const zoneDaysByZone = new Map<string, ZoneDays>();
const zoneDaysCacheLimit = 100_000;

export function zoneDays(timeZone: string): ZoneDays {
  const cached = zoneDaysByZone.get(timeZone);
  if (cached) return cached;
  if (!DateTime.local().setZone(timeZone).isValid) throw new Error(`time zone "${timeZone}" is not known`);
  const starts = new Map<number, number>();
  const shifted = new Map<string, string>();
  const days: ZoneDays = {
    timeZone,
    dayStart(date, what = 'date') {
      return days.dayStartOf(epochDay(date, what));
    },
    dayStartOf(day) {
      let start = starts.get(day);
      if (start === undefined) {
        if (!Number.isInteger(day)) throw new Error(`day ${day} is not a whole number of days`);
        start = DateTime.fromISO(dateOfEpochDay(day), { zone: timeZone }).startOf('day').toMillis();
        if (starts.size >= zoneDaysCacheLimit) starts.clear();
        starts.set(day, start);
      }
      return start;
    },
    plusMonths(date, months) {
      const key = `${date}|${months}`;
      let out = shifted.get(key);
      if (out === undefined) {
        epochDay(date, 'date');
        out = DateTime.fromISO(date, { zone: 'utc' }).plus({ months }).toISODate()!;
        if (shifted.size >= zoneDaysCacheLimit) shifted.clear();
        shifted.set(key, out);
      }
      return out;
    },
  };
  if (zoneDaysByZone.size >= 100) zoneDaysByZone.clear();
  zoneDaysByZone.set(timeZone, days);
  return days;
}

// ---------------------------------------------------------------------------------------------
// Periods

/** A half-open interval of instants: start included, end excluded. */
export interface Interval {
  start: Date;
  end: Date;
}

export type Periods = Record<PeriodName, Interval | null>;

/**
 * The participant's periods, by `reported_at` in the meeting's zone:
 * pre = [start of enrolledOn − 12 months, start of enrolledOn);
 * during = [start of enrolledOn, end of exitedOn), or to the end of asOf when not exited by then;
 * post = [end of exitedOn, that + 12 months) clipped to the end of asOf, null when not exited by asOf.
 * "End of a day" is the start of the next local day, so a day across a clock change is 23 or 25 hours long.
 * All three are null for a participant enrolled after asOf (not yet in the trial on the report's day).
 * Pass `days` (from zoneDays) when calling for many participants, so the dates are looked up once.
 */
export function periodsOf(
  participant: Pick<ParticipantRecord, 'enrolledOn' | 'exitedOn'>,
  asOf: string,
  timeZone: string,
  days: ZoneDays = zoneDays(timeZone),
): Periods {
  if (days.timeZone !== timeZone) throw new Error(`the day lookups are for ${days.timeZone}, not ${timeZone}`);
  const nextDay = (date: string, what: string) => days.dayStartOf(epochDay(date, what) + 1);
  const asOfEnd = nextDay(asOf, 'asOf');
  const enrolStart = days.dayStart(participant.enrolledOn, 'enrolledOn');
  let exitEnd: number | null = null;
  if (participant.exitedOn !== null) {
    if (epochDay(participant.exitedOn, 'exitedOn') < epochDay(participant.enrolledOn, 'enrolledOn')) {
      throw new Error(`exitedOn ${participant.exitedOn} is before enrolledOn ${participant.enrolledOn}`);
    }
    exitEnd = nextDay(participant.exitedOn, 'exitedOn');
  }
  if (enrolStart >= asOfEnd) return { pre: null, during: null, post: null };
  const interval = (start: number, end: number): Interval => ({ start: new Date(start), end: new Date(end) });
  const pre = interval(days.dayStart(days.plusMonths(participant.enrolledOn, -12)), enrolStart);
  if (exitEnd === null || exitEnd > asOfEnd) return { pre, during: interval(enrolStart, asOfEnd), post: null };
  const exitNext = dateOfEpochDay(epochDay(participant.exitedOn!, 'exitedOn') + 1);
  const postEnd = Math.min(days.dayStart(days.plusMonths(exitNext, 12)), asOfEnd);
  return { pre, during: interval(enrolStart, exitEnd), post: interval(exitEnd, postEnd) };
}

/** Person-time in years of 365.25 days. */
export function personYears(interval: Interval | null): number {
  return interval === null ? 0 : (interval.end.getTime() - interval.start.getTime()) / yearMs;
}

function periodOfInstant(periods: Periods, at: number): PeriodName | null {
  for (const name of periodNames) {
    const p = periods[name];
    if (p !== null && at >= p.start.getTime() && at < p.end.getTime()) return name;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Per-participant tallies

const rateMeasureNames = ['offending', 'severity', 'incidents', 'referrals'] as const;
type RateMeasureName = (typeof rateMeasureNames)[number];

interface PeriodTally {
  offending: number;
  severity: number;
  incidents: number;
  referrals: number;
  /** Sum of each victim's latest score in the period, and how many victims had one. */
  riskSum: number;
  riskVictims: number;
  personYears: number;
}

interface Tally {
  ref: string;
  arm: string;
  exited: boolean;
  byPeriod: Record<PeriodName, PeriodTally>;
}

const emptyTally = (): PeriodTally => ({ offending: 0, severity: 0, incidents: 0, referrals: 0, riskSum: 0, riskVictims: 0, personYears: 0 });

function harmLookup(harm: OutcomeInputs['harm']): (category: string) => number {
  if (!Number.isFinite(harm.defaultWeight) || harm.defaultWeight < 0) throw new Error(`harm default weight ${String(harm.defaultWeight)} must be a non-negative number`);
  const weights = new Map<string, number>();
  for (const [key, weight] of Object.entries(harm.table)) {
    if (!Number.isFinite(weight) || weight < 0) throw new Error(`harm weight for "${key}" must be a non-negative number, not ${String(weight)}`);
    const normal = normaliseCategory(key);
    // First spelling wins, as in compileScoring.
    if (!weights.has(normal)) weights.set(normal, weight);
  }
  return (category) => weights.get(normaliseCategory(category)) ?? harm.defaultWeight;
}

function tallyOf(participant: ParticipantRecord, periods: Periods, harmOf: (category: string) => number, asOf: string): Tally {
  const byPeriod = { pre: emptyTally(), during: emptyTally(), post: emptyTally() };
  for (const name of periodNames) byPeriod[name].personYears = personYears(periods[name]);
  for (const incident of participant.incidents) {
    const at = incident.reportedAt.getTime();
    if (Number.isNaN(at)) throw new Error(`participant ${participant.ref} has an incident with an invalid reported_at`);
    const name = periodOfInstant(periods, at);
    if (name === null) continue;
    const t = byPeriod[name];
    t.incidents++;
    if (incident.crime) t.offending++;
    t.severity += harmOf(incident.category);
  }
  for (const flag of participant.maracFlagsStarted) {
    const name = periodOfInstant(periods, flag.getTime());
    if (name !== null) byPeriod[name].referrals++;
  }
  // Each victim's latest score in each period; contacts at the same instant keep the higher score, so input order cannot matter.
  const latest = new Map<string, { at: number; score: number }>();
  for (const contact of participant.victimContacts) {
    const at = contact.contactedAt.getTime();
    if (!Number.isFinite(contact.perceivedRisk)) throw new Error(`participant ${participant.ref} has a victim contact with no perceived-risk score`);
    const name = periodOfInstant(periods, at);
    if (name === null) continue;
    const key = `${name}\u0000${contact.victim}`;
    const seen = latest.get(key);
    if (seen === undefined || at > seen.at || (at === seen.at && contact.perceivedRisk > seen.score)) latest.set(key, { at, score: contact.perceivedRisk });
  }
  for (const [key, { score }] of latest) {
    const t = byPeriod[key.slice(0, key.indexOf('\u0000')) as PeriodName];
    t.riskSum += score;
    t.riskVictims++;
  }
  return { ref: participant.ref, arm: participant.arm, exited: participant.exitedOn !== null && participant.exitedOn <= asOf, byPeriod };
}

// ---------------------------------------------------------------------------------------------
// The bootstrap

export interface BootstrapResult {
  /** One array per statistic: its value in each resample where it was defined. */
  values: number[][];
  /** Per statistic, resamples where it was undefined (null). */
  dropped: number[];
}

/**
 * Resamples units with replacement within each group and evaluates statistics on the groups' column sums.
 * `groups[g]` is a list of units, each a vector of `width` numbers; each resample draws `groups[g].length`
 * units from group g (groups in order, units by uniformInt on xoroshiro128plus(seed)), sums them column by column
 * into `sums[g]`, and passes all groups' sums to each statistic. A statistic returning null (e.g. a division by 0)
 * is dropped for that resample. The same inputs and seed always give the same values.
 */
export function bootstrapSums(
  groups: ReadonlyArray<ReadonlyArray<ArrayLike<number>>>,
  width: number,
  resamples: number,
  seed: number,
  statistics: ReadonlyArray<(sums: readonly Float64Array[]) => number | null>,
): BootstrapResult {
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`resamples ${String(resamples)} must be a whole number of at least 1`);
  if (!Number.isSafeInteger(seed)) throw new Error(`bootstrap seed ${String(seed)} is not a safe integer`);
  // Units packed in one array per group, so the inner loop touches contiguous memory.
  const packed = groups.map((units) => {
    const flat = new Float64Array(units.length * width);
    units.forEach((unit, i) => {
      if (unit.length !== width) throw new Error(`every unit needs ${width} values, got ${unit.length}`);
      for (let k = 0; k < width; k++) flat[i * width + k] = unit[k]!;
    });
    return flat;
  });
  const sizes = groups.map((units) => units.length);
  const sums = groups.map(() => new Float64Array(width));
  const values = statistics.map(() => [] as number[]);
  const dropped = statistics.map(() => 0);
  const rng = xoroshiro128plus(seed);
  for (let r = 0; r < resamples; r++) {
    for (let g = 0; g < packed.length; g++) {
      const flat = packed[g]!;
      const sum = sums[g]!;
      const n = sizes[g]!;
      sum.fill(0);
      for (let j = 0; j < n; j++) {
        const base = uniformInt(rng, 0, n - 1) * width;
        for (let k = 0; k < width; k++) sum[k]! += flat[base + k]!;
      }
    }
    for (let s = 0; s < statistics.length; s++) {
      const value = statistics[s]!(sums);
      if (value === null || !Number.isFinite(value)) dropped[s]!++;
      else values[s]!.push(value);
    }
  }
  return { values, dropped };
}

/** The 95% percentile interval (type-7 quantiles from simple-statistics). */
export function percentileInterval(values: readonly number[], level = 0.95): [number, number] {
  if (values.length === 0) throw new Error('a percentile interval needs at least one value');
  if (!(level > 0 && level < 1)) throw new Error(`level ${level} must be between 0 and 1`);
  // Rounded so 0.95 gives tails of exactly 0.025 and 0.975, not 0.025000000000000022.
  const tail = Number(((1 - level) / 2).toFixed(12));
  const [low, high] = quantile([...values], [tail, 1 - tail]) as [number, number];
  return [low, high];
}

/** Resamples may drop out (undefined ratio) up to this share before the interval is withheld. */
export const MAX_DROPPED_SHARE = 0.05;

// Column layout of a perpetrator's bootstrap unit: the pre and during tallies side by side.
const columns = ['offending', 'severity', 'incidents', 'referrals', 'riskSum', 'riskVictims', 'personYears'] as const;
type Column = (typeof columns)[number];
const width = columns.length * 2;
const columnIndex = new Map<Column, number>(columns.map((c, i) => [c, i]));
const col = (period: 'pre' | 'during', column: Column) => (period === 'pre' ? 0 : columns.length) + columnIndex.get(column)!;

function unitOf(t: Tally): number[] {
  return [...columns.map((c) => t.byPeriod.pre[c]), ...columns.map((c) => t.byPeriod.during[c])];
}

function rateFrom(sums: Float64Array, period: 'pre' | 'during', measure: RateMeasureName): number | null {
  const years = sums[col(period, 'personYears')]!;
  return years > 0 ? sums[col(period, measure)]! / years : null;
}

function meanFrom(sums: Float64Array, period: 'pre' | 'during'): number | null {
  const victims = sums[col(period, 'riskVictims')]!;
  return victims > 0 ? sums[col(period, 'riskSum')]! / victims : null;
}

/**
 * (rate_T,during / rate_T,pre) / (rate_C,during / rate_C,pre). Null (undefined) when a rate has no person-time or
 * a rate divided by is 0: rate_T,pre, rate_C,pre, or rate_C,during (which divides once its ratio is formed).
 * A treated arm with no events during participation gives 0, which a resample keeps.
 */
function ratioOfRateRatios(treated: Float64Array, control: Float64Array, measure: RateMeasureName): number | null {
  const tPre = rateFrom(treated, 'pre', measure);
  const tDuring = rateFrom(treated, 'during', measure);
  const cPre = rateFrom(control, 'pre', measure);
  const cDuring = rateFrom(control, 'during', measure);
  if (tPre === null || tDuring === null || cPre === null || cDuring === null) return null;
  if (!(tPre > 0 && cPre > 0 && cDuring > 0)) return null;
  return (tDuring / tPre) / (cDuring / cPre);
}

/** (mean_T,during − mean_T,pre) − (mean_C,during − mean_C,pre); null when any mean is missing. */
function differenceInChange(treated: Float64Array, control: Float64Array): number | null {
  const tPre = meanFrom(treated, 'pre');
  const tDuring = meanFrom(treated, 'during');
  const cPre = meanFrom(control, 'pre');
  const cDuring = meanFrom(control, 'during');
  if (tPre === null || tDuring === null || cPre === null || cDuring === null) return null;
  return tDuring - tPre - (cDuring - cPre);
}

// ---------------------------------------------------------------------------------------------
// Definitions and wording

const eventWords: Record<RateMeasureName, string> = {
  offending: 'crimes',
  severity: 'harm-weighted incidents',
  incidents: 'incidents',
  referrals: 'MARAC referrals',
};
const periodWords: Record<PeriodName, string> = { pre: 'before enrolment', during: 'during participation', post: 'after exit' };

function definitions(harm: OutcomeInputs['harm']): Record<keyof OutcomeReport['measures'], string> {
  return {
    offending:
      'Crimes per person-year: incidents recorded as crimes in the period, divided by the years the arm\u2019s perpetrators were followed in it (all of the arm pooled).',
    severity:
      `Harm per person-year: every incident in the period, crime or not, counts its category\u2019s severity weight from ${harm.source} ` +
      `(${round6(harm.defaultWeight)} for a category not listed); the weights are summed and divided by person-years (all of the arm pooled).`,
    incidents: 'Domestic-abuse incidents per person-year, crimes or not, in the period (all of the arm pooled).',
    referrals: 'MARAC referrals per person-year: \u2018marac\u2019 flags started in the period, dated by the day the flag starts (all of the arm pooled).',
    victimRisk:
      'Victim-perceived risk (0\u201310): each victim\u2019s latest score in the period, averaged over the arm\u2019s victims with a score there; ' +
      'the person-years are the arm\u2019s follow-up in the period.',
  };
}

export const periodDefinitions: Record<PeriodName, string> = {
  pre: 'the 12 months before the enrolment day (from the start of the day 12 months earlier to the start of the enrolment day)',
  during: 'from the start of the enrolment day to the end of the exit day, or to the end of the report\u2019s day if not exited',
  post: 'from the end of the exit day for 12 months, as far as has elapsed by the end of the report\u2019s day; none if not exited',
};

/** The report's `method` section for these inputs. */
export function outcomeMethod(inputs: Pick<OutcomeInputs, 'timeZone' | 'harm' | 'bootstrap'>): OutcomeReport['method'] {
  return {
    analysis:
      'Intention to treat: every randomised perpetrator is analysed in the arm allocated, including those who exited. ' +
      'Rates pool events and person-time over the arm; the effect is the ratio of the arms\u2019 rate ratios (during over pre, treatment over control), ' +
      'and for victim-perceived risk the difference in the arms\u2019 change in mean score.',
    periods: { ...periodDefinitions },
    personTime: `Milliseconds between the period's start and end, in years of 365.25 days; days and months counted in ${inputs.timeZone} (so a clock change shortens or lengthens a day).`,
    bootstrap: {
      resamples: inputs.bootstrap.resamples,
      seed: inputs.bootstrap.seed,
      interval: '95% percentile interval; perpetrators resampled with replacement within each arm (xoroshiro128plus); resamples with an undefined ratio are left out, and the interval withheld if more than 5% are',
    },
    harm: `Severity weights from ${inputs.harm.source}; ${round6(inputs.harm.defaultWeight)} for a category not listed.`,
  };
}

// ---------------------------------------------------------------------------------------------
// The measures

/** Without the trial's own order: treated arms in code-point order, then control. */
function defaultArmOrder(armsPresent: Iterable<string>): string[] {
  const present = new Set(armsPresent);
  const treated = [...present].filter((a) => a !== controlArm).sort(compareCodePoints);
  return present.has(controlArm) ? [...treated, controlArm] : treated;
}

function armOrder(inputs: OutcomeInputs): string[] {
  const present = new Set(inputs.participants.map((p) => p.arm));
  if (inputs.arms !== undefined) {
    const listed = new Set(inputs.arms);
    if (listed.size !== inputs.arms.length) throw new Error('arms lists an arm twice');
    const stray = [...present].find((arm) => !listed.has(arm));
    if (stray !== undefined) throw new Error(`a participant is in arm "${stray}", which is not one of the trial's arms (${inputs.arms.join(', ')})`);
    return [...inputs.arms];
  }
  return defaultArmOrder(present);
}

function sumTallies(tallies: readonly Tally[], period: PeriodName): PeriodTally {
  const total = emptyTally();
  for (const t of tallies) {
    const p = t.byPeriod[period];
    for (const c of columns) total[c] += p[c];
  }
  return total;
}

function periodRate(total: PeriodTally, measure: RateMeasureName): PeriodRate {
  const events = total[measure];
  return { events: round6(events), personYears: round6(total.personYears), rate: total.personYears > 0 ? round6(events / total.personYears) : null };
}

function periodRisk(total: PeriodTally): PeriodRisk {
  const mean = total.riskVictims > 0 ? round6(total.riskSum / total.riskVictims) : null;
  return { events: total.riskVictims, personYears: round6(total.personYears), rate: mean, victims: total.riskVictims, mean };
}

interface Comparison {
  treated: string;
  n: number;
  /** Why the point estimate cannot be made, per measure (empty when it can). */
  blockers: Partial<Record<keyof OutcomeReport['measures'], string[]>>;
}

function blockersFor(treated: string, treatedTallies: Tally[], controlTallies: Tally[]): Comparison['blockers'] {
  const blockers: Comparison['blockers'] = {};
  const small: string[] = [];
  for (const [arm, tallies] of [[controlArm, controlTallies], [treated, treatedTallies]] as const) {
    if (tallies.length < 2) small.push(`the ${arm} arm has ${plural(tallies.length, 'perpetrator')} with person-time, fewer than the 2 needed`);
  }
  for (const measure of [...rateMeasureNames, 'victimRisk'] as const) {
    const reasons = [...small];
    if (small.length === 0) {
      for (const [arm, tallies] of [[controlArm, controlTallies], [treated, treatedTallies]] as const) {
        for (const period of ['pre', 'during'] as const) {
          const total = sumTallies(tallies, period);
          if (total.personYears <= 0) reasons.push(`the ${arm} arm has no person-time ${periodWords[period]}`);
          else if (measure === 'victimRisk' ? total.riskVictims === 0 : total[measure] <= 0) {
            reasons.push(measure === 'victimRisk' ? `the ${arm} arm has no victim risk scores ${periodWords[period]}` : `the ${arm} arm has no ${eventWords[measure]} ${periodWords[period]}`);
          }
        }
      }
    }
    if (reasons.length) blockers[measure] = reasons;
  }
  return blockers;
}

function intervalNote(dropped: number, resamples: number): { ok: boolean; note?: string } {
  if (dropped === 0) return { ok: true };
  const share = dropped / resamples;
  const percent = `${Math.round(share * 1000) / 10}%`;
  if (share > MAX_DROPPED_SHARE) {
    return {
      ok: false,
      note: `95% interval not available: ${dropped} of ${resamples} resamples (${percent}) had an undefined estimate (an arm with no events, no scores or no person-time in a period), more than the 5% allowed`,
    };
  }
  return { ok: true, note: `${dropped} of ${resamples} resamples (${percent}) had an undefined estimate (an arm with no events in a period) and were left out of the interval` };
}

function effectFrom(
  estimate: number | null,
  blockers: string[] | undefined,
  values: number[],
  dropped: number,
  method: string,
  n: number,
  resamples: number,
): Effect {
  if (blockers !== undefined || estimate === null) {
    return { estimate: null, ci95: null, method, n, note: `not available: ${(blockers ?? ['the estimate is undefined']).join('; ')}` };
  }
  const { ok, note } = intervalNote(dropped, resamples);
  const ci95 = ok && values.length > 0 ? (percentileInterval(values).map(round6) as [number, number]) : null;
  const effect: Effect = { estimate: round6(estimate), ci95, method, n };
  if (note !== undefined) effect.note = note;
  return effect;
}

export interface OutcomeMeasures {
  arms: OutcomeReport['arms'];
  measures: OutcomeReport['measures'];
  cumulative: Record<string, CumulativePoint[]>;
}

/** The main entry point: every measure per arm and period, the effects with their bootstrap intervals, and the cumulative chart. */
export function outcomeMeasures(inputs: OutcomeInputs): OutcomeMeasures {
  const { asOf, timeZone, bootstrap } = inputs;
  if (!Number.isInteger(bootstrap.resamples) || bootstrap.resamples < 1) throw new Error(`bootstrap resamples ${String(bootstrap.resamples)} must be a whole number of at least 1`);
  if (!Number.isSafeInteger(bootstrap.seed)) throw new Error(`bootstrap seed ${String(bootstrap.seed)} is not a safe integer`);
  epochDay(asOf, 'asOf');
  const days = zoneDays(timeZone);
  const arms = armOrder(inputs);
  const harmOf = harmLookup(inputs.harm);
  const refs = new Set<string>();
  for (const p of inputs.participants) {
    if (refs.has(p.ref)) throw new Error(`participant ref "${p.ref}" appears twice`);
    refs.add(p.ref);
  }

  // Sorted by ref, so the resamples do not depend on the order the store returned the participants in.
  const tallies = [...inputs.participants]
    .sort((a, b) => compareCodePoints(a.ref, b.ref))
    .flatMap((p) => {
      const periods = periodsOf(p, asOf, timeZone, days);
      return periods.during === null ? [] : [tallyOf(p, periods, harmOf, asOf)];
    });
  const byArm = new Map(arms.map((arm) => [arm, tallies.filter((t) => t.arm === arm)]));

  const armRows: OutcomeReport['arms'] = arms.map((name) => {
    const members = byArm.get(name)!;
    const years = (period: PeriodName) => round6(members.reduce((sum, t) => sum + t.byPeriod[period].personYears, 0));
    return { name, n: members.length, exited: members.filter((t) => t.exited).length, personYears: { pre: years('pre'), during: years('during'), post: years('post') } };
  });

  const totals = new Map(arms.map((arm) => [arm, Object.fromEntries(periodNames.map((p) => [p, sumTallies(byArm.get(arm)!, p)])) as Record<PeriodName, PeriodTally>]));
  const rateByArm = (measure: RateMeasureName) =>
    Object.fromEntries(arms.map((arm) => [arm, Object.fromEntries(periodNames.map((p) => [p, periodRate(totals.get(arm)![p], measure)])) as Record<PeriodName, PeriodRate>]));
  const riskByArm = Object.fromEntries(
    arms.map((arm) => [arm, Object.fromEntries(periodNames.map((p) => [p, periodRisk(totals.get(arm)![p])])) as Record<PeriodName, PeriodRisk>]),
  );

  // Effects: each treated arm against control, all from the same resamples (every arm resampled each time, in arm order).
  const treatedArms = arms.filter((a) => a !== controlArm);
  const hasControl = arms.includes(controlArm);
  const groupIndex = new Map(arms.map((arm, i) => [arm, i]));
  const full = arms.map((arm) => {
    const sum = new Float64Array(width);
    for (const t of byArm.get(arm)!) unitOf(t).forEach((v, k) => (sum[k]! += v));
    return sum;
  });

  type Stat = { treated: string; measure: keyof OutcomeReport['measures']; fn: (sums: readonly Float64Array[]) => number | null };
  const stats: Stat[] = [];
  if (hasControl) {
    const c = groupIndex.get(controlArm)!;
    for (const treated of treatedArms) {
      const t = groupIndex.get(treated)!;
      for (const measure of rateMeasureNames) stats.push({ treated, measure, fn: (sums) => ratioOfRateRatios(sums[t]!, sums[c]!, measure) });
      stats.push({ treated, measure: 'victimRisk', fn: (sums) => differenceInChange(sums[t]!, sums[c]!) });
    }
  }
  const comparisons = new Map<string, Comparison>(
    treatedArms.map((treated) => [
      treated,
      {
        treated,
        n: byArm.get(treated)!.length + (hasControl ? byArm.get(controlArm)!.length : 0),
        blockers: hasControl ? blockersFor(treated, byArm.get(treated)!, byArm.get(controlArm)!) : {},
      },
    ]),
  );
  // Only statistics whose point estimate exists are bootstrapped; the draws are the same either way.
  const needed = stats.filter((s) => comparisons.get(s.treated)!.blockers[s.measure] === undefined && s.fn(full) !== null);
  const boot = needed.length
    ? bootstrapSums(
        arms.map((arm) => byArm.get(arm)!.map(unitOf)),
        width,
        bootstrap.resamples,
        bootstrap.seed,
        needed.map((s) => s.fn),
      )
    : { values: [], dropped: [] };

  const bootText = `95% percentile bootstrap, ${bootstrap.resamples} resamples resampling perpetrators within arms, seed ${bootstrap.seed}`;
  const effectOf = (measure: keyof OutcomeReport['measures'], treated: string | undefined): Effect => {
    const what = measure === 'victimRisk' ? 'difference in mean change (during \u2212 pre, treatment \u2212 control)' : 'ratio of rate ratios (during/pre, treatment/control)';
    if (treated === undefined || !hasControl) {
      const method = `${what}; ${bootText}`;
      const n = tallies.length;
      return { estimate: null, ci95: null, method, n, note: `not available: the trial needs a ${controlArm} arm and a treated arm to compare` };
    }
    const method = `${what.replace('treatment', treated)}; ${bootText}`;
    const comparison = comparisons.get(treated)!;
    const stat = stats.find((s) => s.treated === treated && s.measure === measure)!;
    const at = needed.indexOf(stat);
    return effectFrom(
      stat.fn(full),
      comparison.blockers[measure],
      at >= 0 ? boot.values[at]! : [],
      at >= 0 ? boot.dropped[at]! : 0,
      method,
      comparison.n,
      bootstrap.resamples,
    );
  };
  const withEffects = <M extends RateMeasure | RiskMeasure>(measure: keyof OutcomeReport['measures'], base: Omit<M, 'effect' | 'effects'>): M => {
    const out = { ...base, effect: effectOf(measure, treatedArms[0]) } as M;
    if (treatedArms.length > 1) out.effects = Object.fromEntries(treatedArms.slice(1).map((arm) => [arm, effectOf(measure, arm)]));
    return out;
  };

  const defs = definitions(inputs.harm);
  const measures: OutcomeReport['measures'] = {
    offending: withEffects<RateMeasure>('offending', { definition: defs.offending, byArm: rateByArm('offending') }),
    severity: withEffects<RateMeasure>('severity', { definition: defs.severity, byArm: rateByArm('severity') }),
    incidents: withEffects<RateMeasure>('incidents', { definition: defs.incidents, byArm: rateByArm('incidents') }),
    referrals: withEffects<RateMeasure>('referrals', { definition: defs.referrals, byArm: rateByArm('referrals') }),
    victimRisk: withEffects<RiskMeasure>('victimRisk', { definition: defs.victimRisk, byArm: riskByArm }),
  };

  return { arms: armRows, measures, cumulative: cumulativeIncidents(inputs.participants, asOf, timeZone, arms, days) };
}

// ---------------------------------------------------------------------------------------------
// Cumulative incidents

/**
 * Per arm, the mean cumulative number of incidents per perpetrator since enrolment, every 7 days up to the
 * longest follow-up in the arm. Enrolment is staggered, so each week's increment is the mean number of incidents
 * in that week (from day d−7 to day d since enrolment) among the perpetrators enrolled at least d days by the end of
 * asOf, and the points add these up (a mean cumulative function): with everyone followed that long it is the plain
 * mean, and it never goes down when late enrolments drop out of the later weeks. Intention to treat: incidents after
 * an exit still count. Day d begins at the start of the local day d days after the enrolment day. `arms` gives the
 * order (default: treated arms in code-point order, then control).
 */
export function cumulativeIncidents(
  participants: readonly ParticipantRecord[],
  asOf: string,
  timeZone: string,
  arms?: readonly string[],
  days: ZoneDays = zoneDays(timeZone),
): Record<string, CumulativePoint[]> {
  if (days.timeZone !== timeZone) throw new Error(`the day lookups are for ${days.timeZone}, not ${timeZone}`);
  const asOfDay = epochDay(asOf, 'asOf');
  const order = arms ?? defaultArmOrder(participants.map((p) => p.arm));
  const out: Record<string, CumulativePoint[]> = {};
  for (const arm of order) {
    // elapsed: whole days of follow-up by the end of asOf; weekCounts[w]: incidents on days 7w to 7w+6.
    const members: Array<{ elapsed: number; weekCounts: number[] }> = [];
    for (const p of participants) {
      if (p.arm !== arm) continue;
      const enrolDay = epochDay(p.enrolledOn, 'enrolledOn');
      const elapsed = asOfDay - enrolDay + 1;
      if (elapsed <= 0) continue;
      // Week boundaries as instants (the start of day 7w, and the end of follow-up), found once per date.
      const weeks = Math.ceil(elapsed / 7);
      const bounds: number[] = [];
      for (let w = 0; w < weeks; w++) bounds.push(days.dayStartOf(enrolDay + 7 * w));
      bounds.push(days.dayStartOf(asOfDay + 1));
      const weekCounts = new Array<number>(weeks).fill(0);
      for (const incident of p.incidents) {
        const at = incident.reportedAt.getTime();
        if (!(at >= bounds[0]! && at < bounds[weeks]!)) continue;
        // The last boundary at or before the incident.
        let lo = 0;
        let hi = weeks;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (bounds[mid]! <= at) lo = mid;
          else hi = mid;
        }
        weekCounts[lo]!++;
      }
      members.push({ elapsed, weekCounts });
    }
    const maxElapsed = members.reduce((max, m) => Math.max(max, m.elapsed), 0);
    const points: CumulativePoint[] = [];
    if (members.length) {
      let cumulative = 0;
      points.push({ day: 0, meanIncidents: 0 });
      for (let day = 7; day <= maxElapsed; day += 7) {
        let atRisk = 0;
        let events = 0;
        for (const m of members) {
          if (m.elapsed < day) continue;
          atRisk++;
          events += m.weekCounts[day / 7 - 1]!;
        }
        cumulative += events / atRisk;
        points.push({ day, meanIncidents: round6(cumulative) });
      }
    }
    out[arm] = points;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CONSORT

export interface ConsortInput {
  /** Perpetrators scored at the enrolment(s). */
  scored: number;
  /** Of those, eligible by the scoring's rules. */
  eligible: number;
  /** Eligible perpetrators not randomised, each with the reason. */
  exclusions: Array<{ reason: string }>;
  /** Everyone randomised. `analysed` (default true) is false for anyone without person-time (enrolled after the report's day). */
  participants: Array<{ arm: string; exitReason: string | null; analysed?: boolean }>;
  /** The trial's arms in order, so an arm nobody was allocated to still shows 0 (default: treated arms in code-point order, then control). */
  arms?: string[];
}

const countBy = (keys: readonly string[]) => {
  const out: Record<string, number> = {};
  for (const key of [...keys].sort(compareCodePoints)) out[key] = (out[key] ?? 0) + 1;
  return out;
};

/** The CONSORT flow: scored → eligible → excluded / randomised → allocated → exited → analysed (intention to treat). */
export function consortOf(input: ConsortInput): Consort {
  for (const [name, value] of [['scored', input.scored], ['eligible', input.eligible]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} ${String(value)} must be a whole number of at least 0`);
  }
  if (input.eligible > input.scored) throw new Error(`eligible (${input.eligible}) cannot exceed scored (${input.scored})`);
  const arms = input.arms ?? defaultArmOrder(input.participants.map((p) => p.arm));
  const allocated: Record<string, number> = {};
  const exited: Consort['exited'] = {};
  const analysed: Record<string, number> = {};
  for (const arm of arms) {
    const members = input.participants.filter((p) => p.arm === arm);
    const reasons = members.flatMap((p) => (p.exitReason === null ? [] : [p.exitReason]));
    allocated[arm] = members.length;
    exited[arm] = { total: reasons.length, byReason: countBy(reasons) };
    analysed[arm] = members.filter((p) => p.analysed !== false).length;
  }
  const stray = input.participants.find((p) => !arms.includes(p.arm));
  if (stray !== undefined) throw new Error(`a participant is in arm "${stray.arm}", which is not one of the trial's arms (${arms.join(', ')})`);
  return {
    scored: input.scored,
    eligible: input.eligible,
    excluded: { total: input.exclusions.length, byReason: countBy(input.exclusions.map((e) => e.reason)) },
    randomised: input.participants.length,
    allocated,
    exited,
    analysed,
  };
}

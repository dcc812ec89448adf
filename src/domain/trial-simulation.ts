// Synthetic trial participants with a known effect: for the outcome tests (coverage of the intervals) and the demo trial.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { periodsOf, zoneDays, type Interval, type ParticipantRecord } from './outcomes.js';
import { controlArm } from './trial.js';

// Knuth's method multiplies uniforms until the product falls below e^−λ; beyond ~700 that underflows and the
// loop slows with λ, so larger means are drawn as a sum of Poissons (which is Poisson) of at most this mean.
const KNUTH_CHUNK = 30;

function knuth(rng: RandomGenerator, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let product = uniformFloat64(rng);
  while (product > limit) {
    k++;
    product *= uniformFloat64(rng);
  }
  return k;
}

/** A Poisson(lambda) count drawn from `rng` (Knuth's method, in chunks of mean at most 30). */
export function poisson(rng: RandomGenerator, lambda: number): number {
  if (!Number.isFinite(lambda) || lambda < 0) throw new Error(`a Poisson mean must be a non-negative number, not ${String(lambda)}`);
  let count = 0;
  let remaining = lambda;
  while (remaining > 0) {
    const step = Math.min(remaining, KNUTH_CHUNK);
    remaining -= step;
    count += knuth(rng, step);
  }
  return count;
}

/** Categories drawn for crimes and non-crimes (weighted by the shipped illustrative gravity table; one is not in it). */
const crimeCategories = ['assault', 'coercive control', 'stalking', 'threats', 'harassment', 'breach of order', 'criminal damage', 'strangulation', 'sexual offence'];
const nonCrimeCategories = ['verbal argument', 'concern for welfare'];

export interface SimulationOptions {
  seed: number;
  /** Perpetrators per arm (120 in the protocol). */
  perArm?: number;
  /** Every treated arm's during-participation rate over control's (the pre rates are equal). */
  trueRatio?: number;
  /** Incidents per person-year before enrolment, in every arm, and during participation in control. */
  baseRate?: number;
  /** Share of incidents that are crimes. */
  crimeShare?: number;
  /** Chance that a crime leads to a MARAC referral (a 'marac' flag started that day). */
  maracShare?: number;
  /** Share of perpetrators who exit before the report's day. */
  exitShare?: number;
  /** Arms, one of them `control`. */
  arms?: string[];
  /** Enrolment days are spread uniformly over [enrolFrom, enrolFrom + enrolDays]. */
  enrolFrom?: string;
  enrolDays?: number;
  /** The report's day; on or after the last enrolment day. */
  asOf?: string;
  timeZone?: string;
  /** Change in victims' perceived risk (0–10) from pre to during in control, and the treated arms' extra change. */
  controlRiskChange?: number;
  riskEffect?: number;
}

export const simulationDefaults = {
  perArm: 120,
  trueRatio: 0.6,
  baseRate: 4,
  crimeShare: 0.6,
  maracShare: 0.15,
  exitShare: 0.1,
  arms: ['treatment', controlArm],
  enrolFrom: '2024-01-01',
  enrolDays: 182,
  asOf: '2025-06-30',
  timeZone: 'Europe/London',
  controlRiskChange: -0.5,
  riskEffect: -1,
} as const;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const dayMs = 86_400_000;

function epochDay(date: string, what: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) throw new Error(`${what} "${date}" is not a date written YYYY-MM-DD`);
  return ms / dayMs;
}
const dateOf = (day: number) => new Date(day * dayMs).toISOString().slice(0, 10);

/**
 * Participants (refs SIM-P-0001…, arms shuffled, `perArm` in each) whose incidents are Poisson processes:
 * `baseRate` a year before enrolment in every arm, the same during participation in control and `trueRatio` times
 * it in the treated arms (also after an exit). Crimes, categories and MARAC referrals are the same shares in every
 * period, so the true ratio of rate ratios is `trueRatio` for offending, severity, incidents and referrals alike.
 * Each perpetrator has 1–3 victims, contacted before enrolment and during participation (and after an exit) with
 * scores around a victim's own level, shifted by `controlRiskChange` (plus `riskEffect` if treated) from pre to after.
 * The same options always give the same participants.
 */
export function simulateTrial(options: SimulationOptions): ParticipantRecord[] {
  // An option given as undefined takes the default, as one left out does.
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as SimulationOptions;
  const o = { ...simulationDefaults, ...given };
  if (!Number.isSafeInteger(o.seed)) throw new Error(`seed ${String(o.seed)} is not a safe integer`);
  if (!Number.isInteger(o.perArm) || o.perArm < 0) throw new Error(`perArm ${String(o.perArm)} must be a whole number`);
  if (!(o.trueRatio >= 0) || !(o.baseRate >= 0)) throw new Error('trueRatio and baseRate must be non-negative');
  if (!o.arms.includes(controlArm)) throw new Error(`the arms must include "${controlArm}"`);
  const zone = o.timeZone;
  const days = zoneDays(zone);
  const first = epochDay(o.enrolFrom, 'enrolFrom');
  const asOfDay = epochDay(o.asOf, 'asOf');
  if (!Number.isInteger(o.enrolDays) || o.enrolDays < 0) throw new Error(`enrolDays ${String(o.enrolDays)} must be a whole number`);
  if (first + o.enrolDays > asOfDay) throw new Error(`the last enrolment day (${o.enrolFrom} + ${o.enrolDays} days) is after asOf ${o.asOf}`);
  const asOfEnd = new Date(days.dayStartOf(asOfDay + 1));
  /** The start of the local day the instant falls in (a zone's offset is under a day, so it is one of three). */
  const startOfDayOf = (at: Date) => {
    const utcDay = Math.floor(at.getTime() / dayMs);
    for (const day of [utcDay + 1, utcDay, utcDay - 1]) {
      const start = days.dayStartOf(day);
      if (start <= at.getTime()) return new Date(start);
    }
    throw new Error(`no local day found for ${at.toISOString()} in ${zone}`);
  };

  const rng = xoroshiro128plus(o.seed);
  const armOf = o.arms.flatMap((arm) => Array.from({ length: o.perArm }, () => arm));
  for (let i = armOf.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [armOf[i], armOf[j]] = [armOf[j]!, armOf[i]!];
  }

  const instantIn = (interval: Interval) => new Date(interval.start.getTime() + Math.floor(uniformFloat64(rng) * (interval.end.getTime() - interval.start.getTime())));
  const pick = <T>(items: readonly T[]) => items[uniformInt(rng, 0, items.length - 1)]!;

  return armOf.map((arm, index) => {
    const ref = `SIM-P-${String(index + 1).padStart(4, '0')}`;
    const treated = arm !== controlArm;
    const enrolDay = first + uniformInt(rng, 0, o.enrolDays);
    const enrolledOn = dateOf(enrolDay);
    let exitedOn: string | null = null;
    if (uniformFloat64(rng) < o.exitShare) exitedOn = dateOf(enrolDay + uniformInt(rng, 0, asOfDay - enrolDay));
    const periods = periodsOf({ enrolledOn, exitedOn }, o.asOf, zone, days);
    const pre = periods.pre!;
    const during = periods.during!;
    // After an exit the perpetrator goes on offending at the arm's rate until the report's day.
    const after: Interval | null = periods.post === null ? null : { start: periods.post.start, end: asOfEnd };
    const segments: Array<{ interval: Interval; rate: number; riskShift: number }> = [
      { interval: pre, rate: o.baseRate, riskShift: 0 },
      { interval: during, rate: o.baseRate * (treated ? o.trueRatio : 1), riskShift: o.controlRiskChange + (treated ? o.riskEffect : 0) },
    ];
    if (after !== null && after.end > after.start) segments.push({ interval: after, rate: o.baseRate * (treated ? o.trueRatio : 1), riskShift: o.controlRiskChange + (treated ? o.riskEffect : 0) });

    const incidents: ParticipantRecord['incidents'] = [];
    const maracFlagsStarted: Date[] = [];
    for (const { interval, rate } of segments) {
      const years = (interval.end.getTime() - interval.start.getTime()) / (365.25 * 86_400_000);
      const count = poisson(rng, rate * years);
      for (let k = 0; k < count; k++) {
        const reportedAt = instantIn(interval);
        const crime = uniformFloat64(rng) < o.crimeShare;
        incidents.push({ reportedAt, crime, category: pick(crime ? crimeCategories : nonCrimeCategories) });
        if (crime && uniformFloat64(rng) < o.maracShare) {
          maracFlagsStarted.push(startOfDayOf(reportedAt));
        }
      }
    }
    incidents.sort((a, b) => a.reportedAt.getTime() - b.reportedAt.getTime());
    maracFlagsStarted.sort((a, b) => a.getTime() - b.getTime());

    const victimContacts: ParticipantRecord['victimContacts'] = [];
    const victims = uniformInt(rng, 1, 3);
    for (let v = 1; v <= victims; v++) {
      const victim = `${ref}-V${v}`;
      const level = uniformInt(rng, 4, 8);
      for (const { interval, riskShift } of segments) {
        if (uniformFloat64(rng) >= 0.8) continue;
        const contacts = uniformInt(rng, 1, 3);
        for (let c = 0; c < contacts; c++) {
          // Noise uniform on (−1, 1): rounding it is unbiased, so the mean score moves by riskShift (away from the clamps).
          const perceivedRisk = clamp(Math.round(level + riskShift + 2 * uniformFloat64(rng) - 1), 0, 10);
          victimContacts.push({ victim, contactedAt: instantIn(interval), perceivedRisk });
        }
      }
    }
    victimContacts.sort((a, b) => a.contactedAt.getTime() - b.contactedAt.getTime());
    return { ref, arm, enrolledOn, exitedOn, incidents, maracFlagsStarted, victimContacts };
  });
}

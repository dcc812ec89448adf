// The outcome report's model: what `dmm report outcomes` computes once and writes as report.json, HTML, CSV and charts.
// Shared by the measures (domain/outcomes.ts) and the renderers (src/report/); no logic here.

export type PeriodName = 'pre' | 'during' | 'post';
export const periodNames: readonly PeriodName[] = ['pre', 'during', 'post'];

/** One arm's events and person-time in one period; `rate` is events per person-year, null without person-time. */
export interface PeriodRate {
  events: number;
  personYears: number;
  rate: number | null;
}

/** Victim-perceived risk in one period: the mean of each victim's latest score (0–10). */
export interface PeriodRisk extends PeriodRate {
  /** Victims with a score in the period (also in `events`, so every measure has the same keys). */
  victims: number;
  /** The mean score (also in `rate`). */
  mean: number | null;
}

export interface Effect {
  /** For rates: the ratio of the arms' rate ratios (during over pre, treatment over control); for risk: the difference in mean change. */
  estimate: number | null;
  ci95: [number, number] | null;
  method: string;
  /** Perpetrators analysed. */
  n: number;
  /** Why the estimate is not available, or what to bear in mind. */
  note?: string;
}

export interface RateMeasure {
  definition: string;
  byArm: Record<string, Record<PeriodName, PeriodRate>>;
  /** The first treated arm against control. */
  effect: Effect;
  /** With several treated arms: each further treated arm against control, by arm. */
  effects?: Record<string, Effect>;
}

export interface RiskMeasure {
  definition: string;
  byArm: Record<string, Record<PeriodName, PeriodRisk>>;
  /** The first treated arm against control. */
  effect: Effect;
  /** With several treated arms: each further treated arm against control, by arm. */
  effects?: Record<string, Effect>;
}

export interface Consort {
  scored: number;
  eligible: number;
  excluded: { total: number; byReason: Record<string, number> };
  randomised: number;
  allocated: Record<string, number>;
  exited: Record<string, { total: number; byReason: Record<string, number> }>;
  analysed: Record<string, number>;
}

export interface CumulativePoint {
  /** Days since enrolment. */
  day: number;
  /** Mean incidents per perpetrator of the arm up to that day. */
  meanIncidents: number;
}

export interface OutcomeReport {
  trial: { name: string; arms: Array<{ name: string; ratio: number }>; strata: string[]; seed: number; bootstrapSeed: number };
  asOf: string;
  timeZone: string;
  arms: Array<{ name: string; n: number; exited: number; personYears: Record<PeriodName, number> }>;
  consort: Consort;
  measures: {
    offending: RateMeasure;
    severity: RateMeasure;
    incidents: RateMeasure;
    referrals: RateMeasure;
    victimRisk: RiskMeasure;
  };
  method: {
    analysis: string;
    periods: Record<PeriodName, string>;
    personTime: string;
    bootstrap: { resamples: number; seed: number; interval: string };
    harm: string;
  };
  charts: {
    /** Per arm, days since enrolment against mean cumulative incidents per perpetrator. */
    cumulative: Record<string, CumulativePoint[]>;
    /** The "power few" curve of the scoring as of the report's date. */
    powerFew: Array<{ perpetratorShare: number; gravityShare: number }>;
  };
}

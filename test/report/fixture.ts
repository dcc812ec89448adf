// A synthetic, obviously fictional outcome report for the renderers' tests, built by hand.
import type { OutcomeReport, PeriodName, PeriodRate, PeriodRisk } from '../../src/domain/outcome-report.js';

function rates(table: Record<string, Record<PeriodName, [number, number]>>): Record<string, Record<PeriodName, PeriodRate>> {
  const out: Record<string, Record<PeriodName, PeriodRate>> = {};
  for (const [arm, periods] of Object.entries(table)) {
    const cell = ([events, personYears]: [number, number]): PeriodRate => ({
      events,
      personYears,
      rate: personYears > 0 ? events / personYears : null,
    });
    out[arm] = { pre: cell(periods.pre), during: cell(periods.during), post: cell(periods.post) };
  }
  return out;
}

function risks(table: Record<string, Record<PeriodName, [number, number, number | null]>>): Record<string, Record<PeriodName, PeriodRisk>> {
  const out: Record<string, Record<PeriodName, PeriodRisk>> = {};
  for (const [arm, periods] of Object.entries(table)) {
    const cell = ([victims, personYears, mean]: [number, number, number | null]): PeriodRisk => ({
      events: victims,
      victims,
      personYears,
      rate: mean,
      mean,
    });
    out[arm] = { pre: cell(periods.pre), during: cell(periods.during), post: cell(periods.post) };
  }
  return out;
}

/** Every number here is made up. */
export function syntheticReport(): OutcomeReport {
  return {
    trial: {
      name: 'test-trial',
      arms: [
        { name: 'treatment', ratio: 1 },
        { name: 'control', ratio: 1 },
      ],
      strata: ['area'],
      seed: 4242,
      bootstrapSeed: 9001,
    },
    asOf: '2031-06-30',
    timeZone: 'Europe/London',
    arms: [
      { name: 'treatment', n: 61, exited: 7, personYears: { pre: 61, during: 38.5, post: 9.25 } },
      { name: 'control', n: 59, exited: 5, personYears: { pre: 59, during: 37.75, post: 8.5 } },
    ],
    consort: {
      scored: 1437,
      eligible: 212,
      excluded: { total: 92, byReason: { 'in custody': 53, 'already under MATAC': 27, 'moved out of area': 12 } },
      randomised: 120,
      allocated: { treatment: 61, control: 59 },
      exited: {
        treatment: { total: 7, byReason: { 'custodial sentence': 4, deceased: 1, 'moved out of area': 2 } },
        control: { total: 5, byReason: { 'custodial sentence': 3, 'moved out of area': 2 } },
      },
      analysed: { treatment: 61, control: 59 },
    },
    measures: {
      offending: {
        definition: 'Recorded domestic-abuse offences per person-year (synthetic test definition).',
        byArm: rates({
          treatment: { pre: [183, 61], during: [81, 38.5], post: [17, 9.25] },
          control: { pre: [171, 59], during: [98, 37.75], post: [19, 8.5] },
        }),
        effect: { estimate: 0.8123, ci95: [0.6034, 1.0871], method: 'bootstrap ratio of rate ratios', n: 120 },
      },
      severity: {
        definition: 'Harm-weighted offences (synthetic harm index units) per person-year.',
        byArm: rates({
          treatment: { pre: [5210, 61], during: [2140, 38.5], post: [388, 9.25] },
          control: { pre: [4990, 59], during: [2790, 37.75], post: [421, 8.5] },
        }),
        effect: { estimate: 0.7311, ci95: [0.5102, 1.0444], method: 'bootstrap ratio of rate ratios', n: 120 },
      },
      incidents: {
        definition: 'Reported domestic-abuse incidents and call-outs per person-year.',
        byArm: rates({
          treatment: { pre: [240, 61], during: [121, 38.5], post: [25, 9.25] },
          control: { pre: [229, 59], during: [133, 37.75], post: [27, 8.5] },
        }),
        effect: { estimate: 0.8876, ci95: [0.7012, 1.1302], method: 'bootstrap ratio of rate ratios', n: 120 },
      },
      referrals: {
        definition: 'MARAC referrals naming the perpetrator per person-year.',
        byArm: rates({
          treatment: { pre: [12, 61], during: [3, 38.5], post: [0, 9.25] },
          control: { pre: [11, 59], during: [0, 37.75], post: [0, 0] },
        }),
        effect: { estimate: null, ci95: null, method: 'bootstrap ratio of rate ratios', n: 120, note: 'too few referrals in the control arm during engagement' },
      },
      victimRisk: {
        definition: "Victims' latest self-rated risk (0 = safe, 10 = in danger), averaged over the arm's victims.",
        byArm: risks({
          treatment: { pre: [44, 61, 6.4], during: [31, 38.5, 5.1], post: [6, 9.25, 4.9] },
          control: { pre: [42, 59, 6.2], during: [29, 37.75, 5.9], post: [0, 8.5, null] },
        }),
        effect: { estimate: -0.9, ci95: [-1.72, -0.08], method: 'bootstrap difference in mean change', n: 86 },
      },
    },
    method: {
      analysis: 'Intention to treat: every randomised perpetrator is analysed in the arm they were allocated to.',
      periods: {
        pre: 'the 12 months before enrolment',
        during: 'from enrolment to exit or the report date',
        post: 'from exit to the report date',
      },
      personTime: 'Days at liberty in each period, divided by 365.25; time in custody is left out.',
      bootstrap: { resamples: 2000, seed: 9001, interval: 'percentile' },
      harm: 'Synthetic test harm weights (config/test-harm.yml)',
    },
    charts: {
      cumulative: {
        treatment: [
          { day: 0, meanIncidents: 0 },
          { day: 30, meanIncidents: 0.31 },
          { day: 90, meanIncidents: 0.82 },
          { day: 180, meanIncidents: 1.45 },
          { day: 365, meanIncidents: 2.1 },
        ],
        control: [
          { day: 0, meanIncidents: 0 },
          { day: 30, meanIncidents: 0.38 },
          { day: 90, meanIncidents: 1.02 },
          { day: 180, meanIncidents: 1.79 },
          { day: 365, meanIncidents: 2.64 },
        ],
      },
      powerFew: [
        { perpetratorShare: 0, gravityShare: 0 },
        { perpetratorShare: 0.02, gravityShare: 0.31 },
        { perpetratorShare: 0.05, gravityShare: 0.52 },
        { perpetratorShare: 0.1, gravityShare: 0.66 },
        { perpetratorShare: 0.25, gravityShare: 0.83 },
        { perpetratorShare: 0.5, gravityShare: 0.94 },
        { perpetratorShare: 1, gravityShare: 1 },
      ],
    },
  };
}

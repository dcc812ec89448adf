// Words and number formats shared by the outcome report's renderers (charts, HTML, CSV); no I/O.
import type { Effect, OutcomeReport, PeriodName } from '../domain/outcome-report.js';

export type MeasureKey = keyof OutcomeReport['measures'];
export type RateMeasureKey = Exclude<MeasureKey, 'victimRisk'>;

export interface MeasureInfo {
  key: MeasureKey;
  label: string;
  /** 'rate': events per person-year, effect a ratio of rate ratios (reference 1); 'risk': mean score, effect a difference (reference 0). */
  kind: 'rate' | 'risk';
}

/** The report's measures in the order the seed lists its outcome measures. */
export const measureInfo: readonly MeasureInfo[] = [
  { key: 'offending', label: 'Offending', kind: 'rate' },
  { key: 'severity', label: 'Severity (harm-weighted)', kind: 'rate' },
  { key: 'incidents', label: 'Incidents', kind: 'rate' },
  { key: 'referrals', label: 'Referrals', kind: 'rate' },
  { key: 'victimRisk', label: 'Victim-perceived risk', kind: 'risk' },
];

export const periodLabels: Record<PeriodName, string> = { pre: 'Pre', during: 'During', post: 'Post' };

/** What an effect's estimate is, in words, by the kind of measure. */
export function effectName(kind: MeasureInfo['kind']): string {
  return kind === 'rate' ? 'ratio of rate ratios' : 'difference in mean change';
}

/** Escapes text for HTML and XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A fixed number of decimals, without "-0.00"; an en dash for null or a non-finite number. */
export function fixed(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const text = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** A rate or mean for people to read: two decimals below 10, one below 100, none above. */
export function readable(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const size = Math.abs(value);
  return fixed(value, size >= 100 ? 0 : size >= 10 ? 1 : 2);
}

/** Whether an effect has an estimate to show. */
export function effectAvailable(effect: Effect): effect is Effect & { estimate: number } {
  return effect.estimate !== null && Number.isFinite(effect.estimate);
}

/** "0.72 (95% CI 0.51 to 1.02)", or "not available: why". */
export function effectSummary(effect: Effect): string {
  if (!effectAvailable(effect)) return effect.note ? `not available: ${effect.note}` : 'not available';
  const interval = effect.ci95 ? ` (95% CI ${fixed(effect.ci95[0], 2)} to ${fixed(effect.ci95[1], 2)})` : ' (no interval)';
  return `${fixed(effect.estimate, 2)}${interval}`;
}

/**
 * The arms in the trial's order, then any other arm a table or chart names (so none is dropped),
 * each once.
 */
export function armNames(report: OutcomeReport): string[] {
  const names: string[] = [];
  const add = (name: string): void => {
    if (!names.includes(name)) names.push(name);
  };
  for (const arm of report.trial.arms) add(arm.name);
  for (const arm of report.arms) add(arm.name);
  for (const info of measureInfo) for (const name of Object.keys(report.measures[info.key].byArm)) add(name);
  for (const name of Object.keys(report.consort.allocated)) add(name);
  for (const name of Object.keys(report.charts.cumulative)) add(name);
  return names;
}

// The outcome report's headline as plain text: for the terminal and for `/dmm report` in chat (counts only, no person).
import type { OutcomeReport } from '../domain/outcome-report.js';
import { effectName, effectSummary, measureInfo } from './text.js';

export function headline(report: OutcomeReport): string[] {
  const c = report.consort;
  const perArm = (counts: Record<string, number>) => Object.entries(counts).map(([arm, n]) => `${arm} ${n}`).join(', ');
  const exited = Object.entries(c.exited).map(([arm, e]) => `${arm} ${e.total}`).join(', ');
  return [
    `Trial ${report.trial.name}, outcomes as of ${report.asOf} (intention to treat):`,
    ...measureInfo.map((info) => `• ${info.label}: ${effectName(info.kind)} ${effectSummary(report.measures[info.key].effect)}`),
    `CONSORT: ${c.scored} scored, ${c.eligible} eligible, ${c.excluded.total} not randomised, ${c.randomised} randomised (${perArm(c.allocated)}); exited ${exited}; analysed ${perArm(c.analysed)}.`,
    `Bootstrap: ${report.method.bootstrap.resamples} resamples, seed ${report.method.bootstrap.seed}.`,
  ];
}

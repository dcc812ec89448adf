// Use case: `/dmm report TRIAL` in a chat: the headline effects, the CONSORT counts and the main chart, for
// the channel it was asked in. Aggregates only: no person is named.
import type { HarmSettings, ScoringSettings } from '../config.js';
import { localDateOf } from '../domain/agenda-window.js';
import type { Meeting } from '../domain/meeting.js';
import { scoringConfigHash, scoringConfigSchema } from '../domain/scoring.js';
import type { ReplyImage } from '../ports.js';
import { renderCharts, svgToPng } from '../report/charts.js';
import { headline } from '../report/headline.js';
import type { Database } from '../store/database.js';
import type { Actor } from './actor.js';
import { trialNamed } from './create-trial.js';
import { outcomeReport } from './report-outcomes.js';

export interface TrialSettings {
  scoring: ScoringSettings;
  harm: HarmSettings;
}

export async function reportHeadline(db: Database, meeting: Meeting, actor: Actor, trialName: string, now: Date, settings?: TrialSettings): Promise<{ text: string; image: ReplyImage }> {
  const chosen = settings ?? (await recordedSettings(db, trialName));
  const asOf = localDateOf(now, meeting.timeZone);
  const { report } = await outcomeReport(db, { ...chosen, timeZone: meeting.timeZone }, { trial: trialName, asOf, reason: `/dmm report in ${meeting.key}`, actor: actor.id, channel: meeting.key });
  const charts = await renderCharts(report);
  // The forest plot of the effects is the main chart: every measure's estimate and interval at a glance.
  const main = charts.find((c) => c.name === 'effects') ?? charts[0]!;
  return {
    text: `${headline(report).join('\n')}\nThe full report (tables, definitions, every chart): dmm report outcomes ${report.trial.name} --reason …`,
    image: { name: `${report.trial.name}-${main.name}.png`, title: `${report.trial.name}: ${main.title}`, altText: `${main.title}, as of ${report.asOf}`, png: svgToPng(main.svg, 1) },
  };
}

/** Without configured settings, the scoring the trial's latest enrolment recorded, and its gravity table for harm. */
async function recordedSettings(db: Database, trialName: string): Promise<TrialSettings> {
  const trial = await trialNamed(db.prisma, trialName);
  const latest = await db.prisma.trialEnrolment.findFirst({ where: { trialId: trial.id }, orderBy: { phase: 'desc' } });
  const config = scoringConfigSchema.parse(latest?.scoringConfig ?? {});
  const hash = scoringConfigHash(config);
  return {
    scoring: { config, hash, source: `the scoring recorded with ${trial.name}` },
    harm: { table: { ...config.gravity.table }, defaultWeight: config.gravity.default_weight, source: `the gravity table of the scoring recorded with ${trial.name} (${hash})` },
  };
}

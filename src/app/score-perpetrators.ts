// Ranks every perpetrator with incidents in the scoring window, as of a day: the analyst's list and the trial's pool.
import type { LocalDate } from '../domain/calendar.js';
import { rankPerpetrators } from '../domain/scoring.js';
import { scoreWindowFor } from '../domain/score-window.js';
import type { ScoringSettings } from '../config.js';
import type { Database } from '../store/database.js';
import { perpetratorActivityIn } from '../store/scoring-repository.js';

export async function scoreAsOf(db: Database, scoring: ScoringSettings, asOf: LocalDate, timeZone: string) {
  const { config } = scoring;
  const window = scoreWindowFor(asOf, config.window_months, config.eligibility.recent_months, timeZone);
  const activities = await perpetratorActivityIn(db.prisma, window);
  return { window, ...rankPerpetrators(config, activities, window.end) };
}

export type Scored = Awaited<ReturnType<typeof scoreAsOf>>;

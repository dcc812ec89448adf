// Reads what scoring needs: per perpetrator, the window's incidents counted by category, their latest date and victims.
import type { PerpetratorActivity } from '../domain/scoring.js';
import type { ScoreWindow } from '../domain/score-window.js';
import type { PrismaClient } from '../generated/prisma/client.js';

interface ActivityRow {
  perpetrator_id: number;
  ref: string;
  label: string;
  latest_at: Date;
  recent: number;
  victims: number;
  categories: string[];
  crimes: number[];
  non_crimes: number[];
}

/**
 * One row per perpetrator with the window's incidents: the categories come back as parallel arrays,
 * so 200,000 perpetrators cost 200,000 rows however many categories each has.
 */
export async function perpetratorActivityIn(prisma: PrismaClient, window: ScoreWindow, perpetratorIds?: number[]): Promise<PerpetratorActivity[]> {
  const only = perpetratorIds ?? null;
  const rows = await prisma.$queryRaw<ActivityRow[]>`
    WITH in_window AS (
      SELECT perpetrator_id, victim_id, category, crime, reported_at
        FROM incident
       WHERE reported_at >= ${window.start} AND reported_at < ${window.end}
         AND (${only}::int[] IS NULL OR perpetrator_id = ANY(${only}::int[]))
    ), by_category AS (
      SELECT perpetrator_id, category,
             count(*) FILTER (WHERE crime)::int AS crimes,
             count(*) FILTER (WHERE NOT crime)::int AS non_crimes,
             max(reported_at) AS latest_at,
             count(*) FILTER (WHERE reported_at >= ${window.recentStart})::int AS recent
        FROM in_window GROUP BY perpetrator_id, category
    ), victims AS (
      SELECT perpetrator_id, count(DISTINCT victim_id)::int AS victims FROM in_window GROUP BY perpetrator_id
    )
    SELECT c.perpetrator_id, n.ref, n.label, max(c.latest_at) AS latest_at, sum(c.recent)::int AS recent, v.victims,
           array_agg(c.category) AS categories, array_agg(c.crimes) AS crimes, array_agg(c.non_crimes) AS non_crimes
      FROM by_category c
      JOIN victims v ON v.perpetrator_id = c.perpetrator_id
      JOIN nominal n ON n.id = c.perpetrator_id
     GROUP BY c.perpetrator_id, n.ref, n.label, v.victims`;
  return rows.map((row) => ({
    perpetratorId: row.perpetrator_id,
    ref: row.ref,
    label: row.label,
    latestAt: row.latest_at,
    recentIncidents: row.recent,
    victims: row.victims,
    byCategory: row.categories.map((category, i) => ({ category, crimes: row.crimes[i]!, nonCrimes: row.non_crimes[i]! })),
  }));
}

/** The area of each perpetrator's latest incident in the window (for stratified allocation). */
export async function latestAreasOf(prisma: PrismaClient, window: ScoreWindow, perpetratorIds: number[]): Promise<Map<number, string>> {
  const rows = await prisma.$queryRaw<{ perpetrator_id: number; area: string }[]>`
    SELECT DISTINCT ON (perpetrator_id) perpetrator_id, area
      FROM incident
     WHERE perpetrator_id = ANY(${perpetratorIds}::int[]) AND reported_at < ${window.end}
     ORDER BY perpetrator_id, reported_at DESC, id DESC`;
  return new Map(rows.map((r) => [r.perpetrator_id, r.area]));
}

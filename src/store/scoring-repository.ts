// Reads what scoring needs: per perpetrator, the window's incidents counted by category, their latest date and victims.
import type { PerpetratorActivity } from '../domain/scoring.js';
import type { ScoreWindow } from '../domain/score-window.js';
import type { PrismaClient } from '../generated/prisma/client.js';

/** One JSON array per perpetrator: id, ref, label, latest `reported_at` (epoch ms), recent count, victims, then per incident its category and crime flag (1/0). */
type ActivityRow = [number, string, string, number, number, number, string[], number[]];

/**
 * One row per perpetrator with the window's incidents, aggregated in a single pass over the window
 * (the floor's shape); the incidents' categories come back as parallel arrays and are counted by
 * category here. Each row is one JSON text: the driver and Prisma then hand over one string per row,
 * where array and date columns cost them several conversions per value (at 300,000 incidents they took
 * longer than the query).
 */
export async function perpetratorActivityIn(prisma: PrismaClient, window: ScoreWindow, perpetratorIds?: number[]): Promise<PerpetratorActivity[]> {
  const only = perpetratorIds ?? null;
  // reported_at is timestamptz(3), so its epoch in whole milliseconds is exact.
  const rows = await prisma.$queryRaw<{ r: string }[]>`
    SELECT json_build_array(a.perpetrator_id, n.ref, n.label, a.latest_ms, a.recent, a.victims, a.categories, a.crimes)::text AS r
      FROM (SELECT perpetrator_id,
                   (extract(epoch FROM max(reported_at)) * 1000)::int8 AS latest_ms,
                   count(*) FILTER (WHERE reported_at >= ${window.recentStart})::int AS recent,
                   count(DISTINCT victim_id)::int AS victims,
                   array_agg(category) AS categories,
                   array_agg(crime::int) AS crimes
              FROM incident
             WHERE reported_at >= ${window.start} AND reported_at < ${window.end}
               AND (${only}::int[] IS NULL OR perpetrator_id = ANY(${only}::int[]))
             GROUP BY perpetrator_id) a
      JOIN nominal n ON n.id = a.perpetrator_id`;
  const activities = new Array<PerpetratorActivity>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [perpetratorId, ref, label, latestMs, recent, victims, categories, crimes] = JSON.parse(rows[i]!.r) as ActivityRow;
    activities[i] = {
      perpetratorId,
      ref,
      label,
      latestAt: new Date(latestMs),
      recentIncidents: recent,
      victims,
      byCategory: countByCategory(categories, crimes),
    };
  }
  return activities;
}

type CategoryCount = { category: string; crimes: number; nonCrimes: number };

/** Incidents counted by category (exact string, as GROUP BY category would), in code-unit order of category. */
function countByCategory(categories: string[], crimes: number[]): CategoryCount[] {
  const counts: CategoryCount[] = [];
  // Most perpetrators have a handful of incidents: a scan beats a Map until the list grows.
  let index: Map<string, CategoryCount> | undefined;
  for (let i = 0; i < categories.length; i++) {
    const category = categories[i]!;
    let count: CategoryCount | undefined;
    if (index !== undefined) {
      count = index.get(category);
    } else {
      for (let j = 0; j < counts.length; j++) {
        if (counts[j]!.category === category) {
          count = counts[j];
          break;
        }
      }
    }
    if (count === undefined) {
      count = { category, crimes: 0, nonCrimes: 0 };
      counts.push(count);
      if (index !== undefined) index.set(category, count);
      else if (counts.length > 8) index = new Map(counts.map((c) => [c.category, c]));
    }
    if (crimes[i] === 1) count.crimes++;
    else count.nonCrimes++;
  }
  if (counts.length > 1) counts.sort((a, b) => (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
  return counts;
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

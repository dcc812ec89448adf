// Reads the treated perpetrators' incidents since enrolment and the levers delivered for them, for the levers due.
import { closingOutcomes, leverConfigSchema, leversDue, type LeverConfig, type LeverDue } from '../domain/levers.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { controlArm } from '../domain/trial.js';

export interface TreatedPerpetrator {
  trialId: number;
  trialName: string;
  nominalId: number;
  ref: string;
  label: string;
  levers: LeverConfig;
  due: LeverDue[];
}

interface Row {
  trial_id: number;
  nominal_id: number;
  ref: string;
  label: string;
  incident_id: number;
  source_ref: string;
  reported_at: Date;
  crime: boolean;
  area: string;
  closed: boolean;
}

/**
 * Every treated perpetrator taking part at `until` with an incident since enrolment (up to `until`,
 * and to the end of their exit day), and the levers those incidents make due. Control is never read here.
 */
export async function treatedPerpetrators(
  prisma: PrismaClient,
  options: { timeZone: string; until: Date; nominalIds?: number[]; areas?: string[] },
): Promise<TreatedPerpetrator[]> {
  const only = options.nominalIds ?? null;
  const areas = options.areas ?? [];
  const rows = await prisma.$queryRaw<Row[]>`
    SELECT a.trial_id, a.nominal_id, n.ref, n.label, i.id AS incident_id, i.source_ref, i.reported_at, i.crime, i.area,
           EXISTS (SELECT 1 FROM lever_delivery d WHERE d.incident_id = i.id AND d.trial_id = a.trial_id
                     AND d.outcome = ANY(${[...closingOutcomes]}::text[])) AS closed
      FROM trial_allocation a
      JOIN nominal n ON n.id = a.nominal_id
      JOIN incident i ON i.perpetrator_id = a.nominal_id
     WHERE a.arm <> ${controlArm}
       AND (${only}::int[] IS NULL OR a.nominal_id = ANY(${only}::int[]))
       AND i.reported_at >= (a.enrolled_on::timestamp AT TIME ZONE ${options.timeZone})
       AND i.reported_at < ${options.until}
       AND (a.exited_on IS NULL OR i.reported_at < ((a.exited_on + 1)::timestamp AT TIME ZONE ${options.timeZone}))
     ORDER BY a.nominal_id, i.reported_at, i.id`;
  if (rows.length === 0) return [];
  const trials = await prisma.trial.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.trial_id))] } }, select: { id: true, name: true, levers: true } });
  const trialById = new Map(trials.map((t) => [t.id, { name: t.name, levers: leverConfigSchema.parse(t.levers) }]));
  const byPerson = new Map<number, { first: Row; rows: Row[] }>();
  for (const row of rows) {
    const entry = byPerson.get(row.nominal_id) ?? { first: row, rows: [] };
    entry.rows.push(row);
    byPerson.set(row.nominal_id, entry);
  }
  return [...byPerson.values()].map(({ first, rows: own }) => {
    const trial = trialById.get(first.trial_id)!;
    const closed = new Set(own.filter((r) => r.closed).map((r) => r.incident_id));
    // Every incident counts towards the tier (the n-th crime), but a meeting sees only its areas' levers.
    const due = leversDue(trial.levers, own.map((r) => ({ incidentId: r.incident_id, ref: r.source_ref, reportedAt: r.reported_at, crime: r.crime })), closed, options.until);
    const inAreas = new Set(own.filter((r) => areas.length === 0 || areas.includes(r.area)).map((r) => r.incident_id));
    return {
      trialId: first.trial_id,
      trialName: trial.name,
      nominalId: first.nominal_id,
      ref: first.ref,
      label: first.label,
      levers: trial.levers,
      due: due.filter((d) => inAreas.has(d.incidentId)),
    };
  });
}

// Reads what the outcome report needs about each enrolled perpetrator: their incidents, MARAC flags and
// their victims' contacts, from 12 months before their enrolment to the report's as-of date.
import type { LocalDate } from '../domain/calendar.js';
import type { ParticipantRecord } from '../domain/outcomes.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { localDateOfRow } from './actions.js';

interface IncidentRow {
  nominal_id: number;
  reported_at: Date;
  crime: boolean;
  category: string;
  victim_id: number;
}

/**
 * One record per allocation of the trial. `end` is the end of the as-of day (exclusive); every read
 * starts 12 months before the earliest enrolment, which covers every pre period.
 */
export async function participantsOf(prisma: PrismaClient, trialId: number, timeZone: string, end: Date): Promise<ParticipantRecord[]> {
  const allocations = await prisma.trialAllocation.findMany({ where: { trialId }, include: { nominal: { select: { ref: true } } }, orderBy: { id: 'asc' } });
  if (allocations.length === 0) return [];
  const ids = allocations.map((a) => a.nominalId);
  const [incidents, flags] = await Promise.all([
    prisma.$queryRaw<IncidentRow[]>`
      SELECT i.perpetrator_id AS nominal_id, i.reported_at, i.crime, i.category, i.victim_id
        FROM incident i
        JOIN trial_allocation a ON a.nominal_id = i.perpetrator_id AND a.trial_id = ${trialId}
       WHERE i.reported_at >= ((a.enrolled_on - interval '12 months')::timestamp AT TIME ZONE ${timeZone})
         AND i.reported_at < ${end}`,
    prisma.$queryRaw<Array<{ nominal_id: number; starts_at: Date }>>`
      SELECT f.perpetrator_id AS nominal_id, (f.starts_on::timestamp AT TIME ZONE ${timeZone}) AS starts_at
        FROM flag f
       WHERE f.kind = 'marac' AND f.perpetrator_id = ANY(${ids}::int[])
         AND (f.starts_on::timestamp AT TIME ZONE ${timeZone}) < ${end}`,
  ]);
  const victimIds = [...new Set(incidents.map((i) => i.victim_id))];
  const contacts = victimIds.length
    ? await prisma.$queryRaw<Array<{ victim_id: number; contacted_at: Date; perceived_risk: number }>>`
        SELECT victim_id, contacted_at, perceived_risk FROM victim_contact
         WHERE victim_id = ANY(${victimIds}::int[]) AND contacted_at < ${end}`
    : [];
  const contactsOf = group(contacts, (c) => c.victim_id);
  const incidentsOf = group(incidents, (i) => i.nominal_id);
  const flagsOf = group(flags, (f) => f.nominal_id);
  return allocations.map((a): ParticipantRecord => {
    const own = incidentsOf.get(a.nominalId) ?? [];
    const victims = [...new Set(own.map((i) => i.victim_id))];
    return {
      ref: a.nominal.ref,
      arm: a.arm,
      enrolledOn: localDateOfRow(a.enrolledOn) as LocalDate,
      exitedOn: a.exitedOn ? localDateOfRow(a.exitedOn) : null,
      incidents: own.map((i) => ({ reportedAt: i.reported_at, crime: i.crime, category: i.category })),
      maracFlagsStarted: (flagsOf.get(a.nominalId) ?? []).map((f) => f.starts_at),
      // Victims are named to the measures by an opaque number: the report never needs who they are.
      victimContacts: victims.flatMap((v) => (contactsOf.get(v) ?? []).map((c) => ({ victim: String(v), contactedAt: c.contacted_at, perceivedRisk: c.perceived_risk }))),
    };
  });
}

function group<T>(rows: T[], key: (row: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

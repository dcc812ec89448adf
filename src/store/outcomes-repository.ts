// Reads what the outcome report needs about each enrolled perpetrator: their incidents, MARAC flags and
// their victims' contacts, from 12 months before their enrolment to the report's as-of date.
import type { LocalDate } from '../domain/calendar.js';
import type { ParticipantRecord } from '../domain/outcomes.js';
import type { PrismaClient } from '../generated/prisma/client.js';

interface AllocationRow {
  nominal_id: number;
  ref: string;
  arm: string;
  /** YYYY-MM-DD. */
  enrolled_on: string;
  exited_on: string | null;
  /** JSON text: [[reported_at ms, crime, victim_id, category], …] in reported_at order, or null for none. */
  incidents: string | null;
  /** JSON text: [starts_at ms, …] in starts_on order, or null for none. */
  flags: string | null;
}

type IncidentTuple = [number, boolean, number, string];

interface ContactRow {
  victim_id: number;
  contacted_ms: number;
  perceived_risk: number;
}

/**
 * One record per allocation of the trial (in allocation order). `end` is the end of the as-of day
 * (exclusive); each perpetrator's incidents are read from 12 months before their own enrolment,
 * which is their pre period; MARAC flags and victim contacts from any time before `end`.
 *
 * Two statements, in parallel. The first walks the allocations and, for each, reads their incidents
 * through the (perpetrator_id, reported_at) index (a join on the enrolment-dependent lower bound alone
 * gets a scan of the whole incident table) and their MARAC flags through the flag key, and hands each
 * person's rows over as one JSON text: one row per participant instead of one per incident, so the
 * driver and Prisma do not build and convert an object (and a Date) per incident. The second reads the
 * contacts of those incidents' victims, with the victims found on the server rather than sent as a
 * parameter (OFFSET 0 keeps its lateral read on the index too). Instants travel as milliseconds since
 * 1970 (the columns hold milliseconds). A person's incidents come in reported_at order (then id), flags
 * by day, and each victim's contacts by contacted_at (then id); the measures do not depend on the order.
 */
export async function participantsOf(prisma: PrismaClient, trialId: number, timeZone: string, end: Date): Promise<ParticipantRecord[]> {
  const [allocations, contacts] = await Promise.all([
    prisma.$queryRaw<AllocationRow[]>`
      SELECT a.nominal_id, n.ref, a.arm, to_char(a.enrolled_on, 'YYYY-MM-DD') AS enrolled_on, to_char(a.exited_on, 'YYYY-MM-DD') AS exited_on, i.incidents::text AS incidents, f.flags::text AS flags
        FROM trial_allocation a
        JOIN nominal n ON n.id = a.nominal_id
        LEFT JOIN LATERAL (
          SELECT json_agg(json_build_array((extract(epoch FROM i.reported_at) * 1000)::bigint, i.crime, i.victim_id, i.category)
                          ORDER BY i.reported_at, i.id) AS incidents
            FROM incident i
           WHERE i.perpetrator_id = a.nominal_id
             AND i.reported_at >= ((a.enrolled_on - interval '12 months')::timestamp AT TIME ZONE ${timeZone})
             AND i.reported_at < ${end}) i ON true
        LEFT JOIN LATERAL (
          SELECT json_agg((extract(epoch FROM s.starts_at) * 1000)::bigint ORDER BY s.starts_at) AS flags
            FROM (SELECT (f.starts_on::timestamp AT TIME ZONE ${timeZone}) AS starts_at
                    FROM flag f
                   WHERE f.perpetrator_id = a.nominal_id AND f.kind = 'marac') s
           WHERE s.starts_at < ${end}) f ON true
       WHERE a.trial_id = ${trialId}
       ORDER BY a.id`,
    prisma.$queryRaw<ContactRow[]>`
      SELECT c.victim_id, (extract(epoch FROM c.contacted_at) * 1000)::float8 AS contacted_ms, c.perceived_risk
        FROM victim_contact c
       WHERE c.contacted_at < ${end}
         AND c.victim_id IN (
           SELECT i.victim_id
             FROM trial_allocation a
            CROSS JOIN LATERAL (
              SELECT i.victim_id FROM incident i
               WHERE i.perpetrator_id = a.nominal_id
                 AND i.reported_at >= ((a.enrolled_on - interval '12 months')::timestamp AT TIME ZONE ${timeZone})
                 AND i.reported_at < ${end}
              OFFSET 0) i
            WHERE a.trial_id = ${trialId})
       ORDER BY c.victim_id, c.contacted_at, c.id`,
  ]);
  if (allocations.length === 0) return [];
  const contactsOf = groupBy(contacts, (c) => c.victim_id);
  return allocations.map((a): ParticipantRecord => {
    const own = a.incidents === null ? [] : (JSON.parse(a.incidents) as IncidentTuple[]);
    const victims = [...new Set(own.map((i) => i[2]))];
    return {
      ref: a.ref,
      arm: a.arm,
      enrolledOn: a.enrolled_on as LocalDate,
      exitedOn: a.exited_on,
      incidents: own.map(([at, crime, , category]) => ({ reportedAt: new Date(at), crime, category })),
      maracFlagsStarted: a.flags === null ? [] : (JSON.parse(a.flags) as number[]).map((at) => new Date(at)),
      // Victims are named to the measures by an opaque number: the report never needs who they are.
      victimContacts: victims.flatMap((v) => (contactsOf.get(v) ?? []).map((c) => ({ victim: String(v), contactedAt: new Date(c.contacted_ms), perceivedRisk: c.perceived_risk }))),
    };
  });
}

/** Rows by a key, in their order. */
export function groupBy<T, K>(rows: readonly T[], key: (row: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

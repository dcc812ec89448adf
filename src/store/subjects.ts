// Finds what an action or review is about from what a person typed: an incident reference, a
// person's pseudonymous label, or a records-system reference.
import type { PrismaClient } from '../generated/prisma/client.js';

export type Subject =
  | { kind: 'incident'; incidentId: number; ref: string; perpetratorId: number }
  | { kind: 'person'; nominalId: number; ref: string; label: string };

export type SubjectLookup = { ok: true; subject: Subject } | { ok: false; message: string };

export async function findSubject(prisma: PrismaClient, typed: string): Promise<SubjectLookup> {
  const [system, ...rest] = typed.split(':');
  const qualified = rest.length > 0 ? { sourceSystem: system!, sourceRef: rest.join(':') } : undefined;
  const incidents = await prisma.incident.findMany({
    where: qualified ?? { sourceRef: typed },
    select: { id: true, sourceRef: true, sourceSystem: true, perpetratorId: true },
    take: 5,
  });
  if (incidents.length > 1) {
    return { ok: false, message: `${typed} names incidents in ${incidents.map((i) => i.sourceSystem).join(' and ')}: write it as system:ref, such as ${incidents[0]!.sourceSystem}:${typed}.` };
  }
  if (incidents[0]) return { ok: true, subject: { kind: 'incident', incidentId: incidents[0].id, ref: incidents[0].sourceRef, perpetratorId: incidents[0].perpetratorId } };
  const person = await prisma.nominal.findFirst({ where: { OR: [{ label: typed.toUpperCase() }, { ref: typed }] } });
  if (person) return { ok: true, subject: { kind: 'person', nominalId: person.id, ref: person.ref, label: person.label } };
  return { ok: false, message: `No incident or person is known by "${typed.slice(0, 64)}". Use an incident reference or a person's label (N-XXXXX-XXXXX) from the agenda.` };
}

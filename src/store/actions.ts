// Actions in the store: created once however often a request arrives, changed with their history.
import { actionId, parseActionId, type ActionView } from '../domain/agenda.js';
import type { LocalDate } from '../domain/calendar.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

type Tx = Prisma.TransactionClient;

export const actionInclude = {
  owner: true,
  incident: { select: { sourceRef: true } },
  nominal: { select: { ref: true, label: true } },
} as const;

export type ActionRow = Prisma.ActionGetPayload<{ include: typeof actionInclude }>;

export function dateOf(day: LocalDate): Date {
  return new Date(`${day}T00:00:00Z`);
}

export function localDateOfRow(date: Date): LocalDate {
  return date.toISOString().slice(0, 10);
}

export function actionViewOf(row: ActionRow, today: LocalDate): ActionView {
  const dueOn = localDateOfRow(row.dueOn);
  const person = row.nominal ? { ref: row.nominal.ref, label: row.nominal.label } : null;
  const incidentRef = row.incident?.sourceRef ?? null;
  return {
    id: actionId(row.id),
    status: row.status,
    ref: incidentRef ?? person?.ref ?? '',
    label: incidentRef ?? person?.label ?? '',
    text: row.text,
    dueOn,
    overdue: row.status === 'open' && dueOn < today,
    owner: {
      memberId: row.owner.id,
      name: row.owner.displayName,
      agency: row.agency,
      slackUserId: row.owner.slackUserId,
      teamsUserId: row.owner.teamsUserId,
    },
    subject: { incidentRef, person },
  };
}

export interface NewAction {
  meetingKey: string;
  incidentId: number | null;
  nominalId: number | null;
  text: string;
  ownerId: number;
  agency: string;
  dueOn: LocalDate;
  createdBy: string;
  idempotencyKey?: string | undefined;
}

/**
 * Creates the action unless the same request (by key) or an identical open action already exists:
 * a retried request, a double click or a form submitted twice records one action.
 */
export async function createActionOnce(tx: Tx, action: NewAction): Promise<{ row: ActionRow; created: boolean }> {
  // Serialises creation per meeting, so two replicas cannot both miss the other's row.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`action:${action.meetingKey}`}))`;
  const existing = await tx.action.findFirst({
    where: action.idempotencyKey
      ? { OR: [{ idempotencyKey: action.idempotencyKey }, sameContent(action)] }
      : sameContent(action),
    include: actionInclude,
  });
  if (existing) return { row: existing, created: false };
  const row = await tx.action.create({
    data: {
      meetingKey: action.meetingKey,
      incidentId: action.incidentId,
      nominalId: action.nominalId,
      text: action.text,
      ownerId: action.ownerId,
      agency: action.agency,
      dueOn: dateOf(action.dueOn),
      createdBy: action.createdBy,
      idempotencyKey: action.idempotencyKey ?? null,
    },
    include: actionInclude,
  });
  await tx.actionUpdate.create({ data: { actionId: row.id, author: action.createdBy, kind: 'created', note: '' } });
  return { row, created: true };
}

function sameContent(action: NewAction): Prisma.ActionWhereInput {
  return {
    meetingKey: action.meetingKey,
    status: 'open',
    incidentId: action.incidentId,
    nominalId: action.nominalId,
    ownerId: action.ownerId,
    dueOn: dateOf(action.dueOn),
    text: action.text,
  };
}

/** The meeting an action (by its short id, e.g. A-12) was agreed in, if there is such an action. */
export async function meetingKeyOfAction(prisma: PrismaClient, actionRef: string): Promise<string | undefined> {
  const id = parseActionId(actionRef);
  if (id === undefined) return undefined;
  const action = await prisma.action.findUnique({ where: { id }, select: { meetingKey: true } });
  return action?.meetingKey;
}

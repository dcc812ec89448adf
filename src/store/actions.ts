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

/**
 * What an action's view is made from: its row with owner and subject, whether Prisma loaded them
 * (an ActionRow) or one SQL query joined them (openActionsDueBefore).
 */
export type ActionSource = Pick<ActionRow, 'id' | 'status' | 'text' | 'agency' | 'dueOn' | 'incident' | 'nominal'> & {
  owner: Pick<ActionRow['owner'], 'id' | 'displayName' | 'slackUserId' | 'teamsUserId'>;
};

export function dateOf(day: LocalDate): Date {
  return new Date(`${day}T00:00:00Z`);
}

export function localDateOfRow(date: Date): LocalDate {
  return date.toISOString().slice(0, 10);
}

export function actionViewOf(row: ActionSource, today: LocalDate): ActionView {
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

interface JoinedActionRow {
  id: number;
  status: ActionRow['status'];
  text: string;
  agency: string;
  due_on: Date;
  owner_id: number;
  display_name: string;
  slack_user_id: string | null;
  teams_user_id: string | null;
  incident_ref: string | null;
  nominal_ref: string | null;
  nominal_label: string | null;
}

/**
 * A meeting's open actions due before `day`, by due date then id, as views on `today`. One query: with
 * `include` each relation costs a query of its own and Prisma's mapping of every row, and an agenda
 * carries a couple of thousand actions.
 */
export async function openActionsDueBefore(prisma: PrismaClient, meetingKey: string, day: LocalDate, today: LocalDate): Promise<ActionView[]> {
  // The subject by key look-ups rather than LEFT JOINs: with those the planner hashes the whole nominal
  // table to join the few hundred people the actions name.
  const rows = await prisma.$queryRaw<JoinedActionRow[]>`
    SELECT a.id, a.status::text AS status, a.text, a.agency, a.due_on,
           m.id AS owner_id, m.display_name, m.slack_user_id, m.teams_user_id,
           (SELECT i.source_ref FROM incident i WHERE i.id = a.incident_id) AS incident_ref,
           (SELECT n.ref FROM nominal n WHERE n.id = a.nominal_id) AS nominal_ref,
           (SELECT n.label FROM nominal n WHERE n.id = a.nominal_id) AS nominal_label
    FROM action a
    JOIN member m ON m.id = a.owner_id
    WHERE a.meeting_key = ${meetingKey} AND a.status = 'open' AND a.due_on < ${day}::date
    ORDER BY a.due_on, a.id`;
  return rows.map((r) =>
    actionViewOf(
      {
        id: r.id,
        status: r.status,
        text: r.text,
        agency: r.agency,
        dueOn: r.due_on,
        owner: { id: r.owner_id, displayName: r.display_name, slackUserId: r.slack_user_id, teamsUserId: r.teams_user_id },
        incident: r.incident_ref === null ? null : { sourceRef: r.incident_ref },
        nominal: r.nominal_ref === null ? null : { ref: r.nominal_ref, label: r.nominal_label! },
      },
      today,
    ),
  );
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

// Use case: chairs schedule panels (one-off or monthly), list and cancel them.
import { cutoffOf, localDateOf } from '../domain/agenda-window.js';
import { formatLocal } from '../domain/agenda-text.js';
import type { monthlyOrdinals, PanelKindName, weekdays } from '../domain/commands.js';
import type { Meeting } from '../domain/meeting.js';
import { monthlyDays, panelKindName, panelKindValue, panelRef } from '../domain/panels.js';
import { appendAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';

/** How far ahead a monthly panel is scheduled. */
export const recurringMonths = 12;

export async function addPanel(db: Database, meeting: Meeting, actor: string, date: string, time: string, kind: PanelKindName, title: string, now: Date): Promise<{ ok: boolean; message: string }> {
  const startsAt = cutoffOf(date, time, meeting.timeZone);
  if (startsAt.getTime() <= now.getTime()) return { ok: false, message: `${date} ${time} has passed; a panel is scheduled for a time to come.` };
  const panel = await db.prisma.$transaction(async (tx) => {
    const created = await tx.panel.create({ data: { meetingKey: meeting.key, kind: panelKindValue(kind), title, startsAt, createdBy: actor } });
    await appendAudit(tx, { actor, action: 'panel.add', subject: panelRef(created.id), channel: meeting.key, details: { kind, startsAt: startsAt.toISOString() } });
    return created;
  });
  return { ok: true, message: `${panelRef(panel.id)}: ${title || panelKindName(panel.kind)} on ${formatLocal(startsAt, meeting.timeZone)}.` };
}

export async function addMonthlyPanels(
  db: Database,
  meeting: Meeting,
  actor: string,
  pattern: { ordinal: (typeof monthlyOrdinals)[number]; weekday: (typeof weekdays)[number] },
  time: string,
  kind: PanelKindName,
  title: string,
  now: Date,
): Promise<{ ok: boolean; message: string }> {
  const today = localDateOf(now, meeting.timeZone);
  const recurrence = `every ${pattern.ordinal}-${pattern.weekday} ${time}`;
  const starts = monthlyDays(pattern.ordinal, pattern.weekday, today, recurringMonths + 1)
    .map((day) => cutoffOf(day, time, meeting.timeZone))
    .filter((instant) => instant.getTime() > now.getTime())
    .slice(0, recurringMonths);
  const created = await db.prisma.$transaction(async (tx) => {
    const rows = [];
    for (const startsAt of starts) {
      rows.push(await tx.panel.create({ data: { meetingKey: meeting.key, kind: panelKindValue(kind), title, startsAt, recurrence, createdBy: actor } }));
    }
    await appendAudit(tx, { actor, action: 'panel.add', subject: recurrence, channel: meeting.key, details: { kind, panels: rows.length } });
    return rows;
  });
  const first = created[0]!;
  return {
    ok: true,
    message: `${created.length} panels scheduled ${recurrence} (${panelRef(first.id)} to ${panelRef(created.at(-1)!.id)}), the first on ${formatLocal(first.startsAt, meeting.timeZone)}.`,
  };
}

export async function listPanels(db: Database, meeting: Meeting, now: Date): Promise<string> {
  const panels = await db.prisma.panel.findMany({ where: { meetingKey: meeting.key, cancelledAt: null, startsAt: { gt: now } }, orderBy: { startsAt: 'asc' }, take: 30 });
  if (panels.length === 0) return 'No panels are scheduled. A chair can add one with /dmm panel add.';
  return ['Panels to come:', ...panels.map((p) => `${panelRef(p.id)} ${formatLocal(p.startsAt, meeting.timeZone, 'EEE d MMM yyyy HH:mm')} ${p.title || panelKindName(p.kind)}${p.recurrence ? ` (${p.recurrence})` : ''}`)].join('\n');
}

export async function cancelPanel(db: Database, meeting: Meeting, actor: string, id: number, now: Date): Promise<{ ok: boolean; message: string }> {
  const panel = await db.prisma.panel.findFirst({ where: { id, meetingKey: meeting.key } });
  if (!panel) return { ok: false, message: `There is no panel ${panelRef(id)} in this meeting. /dmm panel list shows them.` };
  if (panel.cancelledAt) return { ok: false, message: `${panelRef(id)} is already cancelled; nothing was changed.` };
  await db.prisma.$transaction(async (tx) => {
    await tx.panel.update({ where: { id }, data: { cancelledAt: now } });
    await appendAudit(tx, { actor, action: 'panel.cancel', subject: panelRef(id), channel: meeting.key });
  });
  return { ok: true, message: `${panelRef(id)} on ${formatLocal(panel.startsAt, meeting.timeZone)} is cancelled.` };
}

// Use case: answer a `/dmm` command typed in any chat (Slack, Teams or the console).
import { localDateOf, NotAWorkingDayError } from '../domain/agenda-window.js';
import { formatLocalDay } from '../domain/agenda-text.js';
import { helpText, parseCommand } from '../domain/commands.js';
import type { Meeting } from '../domain/meeting.js';
import type { Reply } from '../ports.js';
import { appendAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { buildAgenda } from './build-agenda.js';

export interface CommandContext {
  meeting: Meeting;
  /** Who asked, as `<platform>:<user id>`. */
  actor: string;
  now: Date;
}

export async function handleCommand(db: Database, context: CommandContext, text: string): Promise<Reply> {
  const parsed = parseCommand(text);
  if (!parsed.ok) return { kind: 'text', text: parsed.message, ephemeral: true };
  const { command } = parsed;
  switch (command.name) {
    case 'help':
      return { kind: 'text', text: helpText(command.topic), ephemeral: true };
    case 'agenda': {
      const day = command.date ?? localDateOf(context.now, context.meeting.timeZone);
      try {
        const agenda = await buildAgenda(db, context.meeting, day);
        await db.prisma.$transaction((tx) =>
          appendAudit(tx, {
            actor: context.actor,
            action: 'agenda.view',
            subject: day,
            channel: context.meeting.key,
            reason: 'agenda command',
            details: { highRiskIncidents: agenda.highRiskIncidents.length, flaggedPerpetrators: agenda.flaggedPerpetrators.length },
          }),
        );
        return { kind: 'agenda', agenda, ephemeral: true };
      } catch (error) {
        if (error instanceof NotAWorkingDayError) {
          return {
            kind: 'text',
            text: `${formatLocalDay(day)} is not a working day for this meeting; the next meeting is on ${formatLocalDay(error.nextWorkingDay)}.`,
            ephemeral: true,
          };
        }
        throw error;
      }
    }
  }
}

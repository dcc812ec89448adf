// Use case: answer a `/dmm` command typed in any chat (Slack, Teams or the console), after checking
// who may do it; every command, and every refusal, is audited.
import { localDateOf, NotAWorkingDayError } from '../domain/agenda-window.js';
import { formatLocalDay } from '../domain/agenda-text.js';
import { commandHelp, helpText, parseCommand, usageOf, type Command } from '../domain/commands.js';
import type { Meeting } from '../domain/meeting.js';
import type { Reply } from '../ports.js';
import { agendaThreadOf } from '../store/agenda-runs.js';
import { appendAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { isMember, type Actor } from './actor.js';
import { buildAgenda } from './build-agenda.js';
import { changeAction } from './change-action.js';
import { flagPerpetrator, unflagPerpetrator } from './flag-perpetrator.js';
import { listActions, showAction } from './list-actions.js';
import { addMember, listMembers, removeMember, type MemberDirectory } from './manage-members.js';
import { recordAction } from './record-action.js';
import { recordLever } from './record-lever.js';
import { reportHeadline, type TrialSettings } from './report-headline.js';
import { TrialRefusal } from './trial-errors.js';
import { reviewIncident } from './review-incident.js';
import { addMonthlyPanels, addPanel, cancelPanel, listPanels } from './schedule-panels.js';

export interface CommandContext {
  meeting: Meeting;
  actor: Actor;
  now: Date;
  /** The platform's id of this request, so a retried delivery records nothing twice. */
  requestId?: string;
  directory?: MemberDirectory;
  /** The scoring and harm settings of `/dmm report` (else the trial's recorded scoring). */
  trialSettings?: TrialSettings;
}

const privately = (text: string): Reply => ({ visibility: 'private', text });
/** A refusal or a mistake: said privately, nothing changed. */
const problem = (text: string): Reply => ({ visibility: 'private', text, problem: true });

export async function refuse(db: Database, actor: Actor, channel: string, reason: string): Promise<void> {
  await appendAudit(db.prisma, { actor: actor.id, action: 'refused', channel, reason });
}

export async function handleCommand(db: Database, context: CommandContext, text: string): Promise<Reply> {
  const parsed = parseCommand(text);
  const reply = parsed.ok ? await authorisedReply(db, context, parsed.command) : problem(parsed.message);
  // Every command is on the record, whatever came of it; what it changed has events of its own.
  await appendAudit(db.prisma, {
    actor: context.actor.id,
    action: 'command',
    subject: parsed.ok ? parsed.command.name : 'not understood',
    channel: context.meeting.key,
    details: { answer: reply.problem ? 'refused or not understood' : reply.visibility === 'meeting' ? 'to the meeting' : 'private' },
  });
  return reply;
}

async function authorisedReply(db: Database, context: CommandContext, command: Command): Promise<Reply> {
  const { meeting, actor } = context;
  if (command.name === 'help') return privately(helpText(command.topic));
  if (!isMember(actor)) {
    await refuse(db, actor, meeting.key, `not a member: ${command.name}`);
    return problem('Sorry, only members of this meeting can use dmm-bot. Ask the meeting\'s chair to add you.');
  }
  const help = commandHelp.find((h) => h.name === command.name);
  if (help?.chairsOnly && !actor.isChair) {
    await refuse(db, actor, meeting.key, `not a chair: ${command.name}`);
    return problem(`Only a chair can use /dmm ${command.name}.`);
  }
  const reply = await execute(db, context, command);
  if (reply.visibility === 'meeting') {
    const threadRef = await agendaThreadOf(db.prisma, meeting.key, localDateOf(context.now, meeting.timeZone));
    if (threadRef) reply.threadRef = threadRef;
  }
  return reply;
}

async function execute(db: Database, context: CommandContext, command: Command): Promise<Reply> {
  const { meeting, actor, now } = context;
  switch (command.name) {
    case 'help':
      return privately(helpText(command.topic));
    case 'agenda':
      return agendaReply(db, context, command.date);
    case 'action add': {
      const result = await recordAction(
        db,
        meeting,
        actor,
        { subject: command.ref, ownerUserId: command.ownerId, due: command.due, text: command.text },
        now,
        context.requestId,
      );
      if (!result.ok) {
        return problem(`${Object.values(result.problems).join(' ')} Nothing was recorded. ${usageOf('action add')}`);
      }
      if (!result.created) return { visibility: 'private', text: `That action was already recorded as ${result.action.id}.`, actions: [result.action] };
      return { visibility: 'meeting', text: `Action ${result.action.id} recorded.`, actions: [result.action] };
    }
    case 'action list': {
      const result = await listActions(db, meeting, actor, command.filter, now);
      if (!result.ok) return problem(result.message);
      return { visibility: 'private', text: result.actions.length ? `${result.heading}:` : `${result.heading}: none.`, actions: result.actions };
    }
    case 'action show': {
      const result = await showAction(db, meeting, actor, command.id, now);
      if (!result.ok) return problem(result.message);
      return { visibility: 'private', text: result.history.length ? `History:\n${result.history.join('\n')}` : '', actions: [result.action] };
    }
    case 'lever': {
      const { ref, tier, mode, outcome, script, incident } = command;
      const result = await recordLever(db, meeting, actor, { subject: ref, tier, mode, outcome, script, incident }, now, context.requestId);
      if (!result.ok) return problem(`${result.message} ${usageOf('lever')}`);
      if (result.repeated) return privately(result.message);
      return { visibility: 'meeting', text: result.message, ...(result.victimAction ? { actions: [result.victimAction] } : {}) };
    }
    case 'report': {
      try {
        const result = await reportHeadline(db, meeting, actor, command.trial, now, context.trialSettings);
        return { visibility: 'meeting', text: result.text, image: result.image };
      } catch (error) {
        if (error instanceof TrialRefusal) return problem(`${error.message}. Nothing was posted.`);
        throw error;
      }
    }
    case 'remind snooze': {
      const result = await changeAction(db, meeting, actor, command.id, { kind: 'snooze', days: command.days }, now);
      return result.ok ? { visibility: 'private', text: result.message, actions: [result.action] } : problem(result.message);
    }
    case 'action done':
    case 'action update':
    case 'action reassign':
    case 'action due':
    case 'action cancel': {
      const change =
        command.name === 'action done'
          ? { kind: 'done' as const, note: command.note }
          : command.name === 'action update'
            ? { kind: 'update' as const, note: command.note }
            : command.name === 'action reassign'
              ? { kind: 'reassign' as const, ownerUserId: command.ownerId }
              : command.name === 'action due'
                ? { kind: 'due' as const, due: command.due }
                : { kind: 'cancel' as const, reason: command.reason };
      const result = await changeAction(db, meeting, actor, command.id, change, now);
      if (!result.ok) return problem(`${result.message} ${usageOf(command.name)}`);
      return { visibility: 'meeting', text: result.message, actions: [result.action] };
    }
    case 'review': {
      const result = await reviewIncident(db, meeting, actor, command.ref, command.outcome, now);
      return result.ok ? { visibility: 'meeting', text: result.message } : problem(result.message);
    }
    case 'flag':
    case 'unflag': {
      const result =
        command.name === 'flag'
          ? await flagPerpetrator(db, meeting, actor, command.ref, command.kind, command.note, now)
          : await unflagPerpetrator(db, meeting, actor, command.ref, command.kind, now);
      return result.ok ? { visibility: 'meeting', text: result.message } : problem(result.message);
    }
    case 'member add':
      return privately((await addMember(db, meeting, actor, command.userId, command.agency, command.chair, context.directory)).message);
    case 'member remove': {
      const result = await removeMember(db, meeting, actor, command.userId);
      return result.ok ? privately(result.message) : problem(result.message);
    }
    case 'member list':
      return privately(await listMembers(db, meeting, actor));
    case 'panel add': {
      const result = await addPanel(db, meeting, actor.id, command.date, command.time, command.kind, command.title, now);
      return result.ok ? { visibility: 'meeting', text: result.message } : problem(result.message);
    }
    case 'panel add every': {
      const result = await addMonthlyPanels(db, meeting, actor.id, command, command.time, command.kind, command.title, now);
      return result.ok ? { visibility: 'meeting', text: result.message } : problem(result.message);
    }
    case 'panel list':
      return privately(await listPanels(db, meeting, now));
    case 'panel cancel': {
      const result = await cancelPanel(db, meeting, actor.id, command.id, now);
      return result.ok ? { visibility: 'meeting', text: result.message } : problem(result.message);
    }
  }
}

async function agendaReply(db: Database, context: CommandContext, date: string | undefined): Promise<Reply> {
  const { meeting, actor, now } = context;
  const day = date ?? localDateOf(now, meeting.timeZone);
  try {
    const agenda = await buildAgenda(db, meeting, day);
    await appendAudit(db.prisma, {
      actor: actor.id,
      action: 'agenda.view',
      subject: day,
      channel: meeting.key,
      reason: 'agenda command',
      details: { highRiskIncidents: agenda.highRiskIncidents.length, flaggedPerpetrators: agenda.flaggedPerpetrators.length },
    });
    return { visibility: 'private', text: '', agenda };
  } catch (error) {
    if (error instanceof NotAWorkingDayError) {
      return problem(`${formatLocalDay(day)} is not a working day for this meeting; the next meeting is on ${formatLocalDay(error.nextWorkingDay)}.`);
    }
    throw error;
  }
}

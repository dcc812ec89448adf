// Renders command replies for Slack: text, agendas, and action cards with "Done" and "Update" buttons.
import type { KnownBlock } from '@slack/types';
import type { ActionView } from '../../domain/agenda.js';
import type { OutgoingMessage, Reply, ReminderView } from '../../ports.js';
import { agendaMessages, fit, slackLimits, type SlackMessagePayload } from './agenda-blocks.js';
import { escapeMrkdwn } from './mrkdwn.js';

export const actionDoneId = 'dmm_action_done';
export const actionUpdateId = 'dmm_action_update';
const maxCardsPerMessage = 20;

export function actionCardText(action: ActionView): string {
  const e = escapeMrkdwn;
  const owner = action.owner.slackUserId ? `<@${action.owner.slackUserId}>` : e(action.owner.name || `member ${action.owner.memberId}`);
  const state = action.status === 'open' ? (action.overdue ? ' · *overdue*' : '') : ` · ${action.status}`;
  return fit(`*${action.id}*${action.label ? ` (${e(action.label)})` : ''}: ${e(action.text)}\n${owner}, ${e(action.owner.agency)} · due ${action.dueOn}${state}`, slackLimits.sectionText);
}

export function actionCardBlocks(action: ActionView): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: actionCardText(action) } }];
  if (action.status === 'open') {
    blocks.push({
      type: 'actions',
      block_id: `dmm_action:${action.id}`,
      elements: [
        { type: 'button', action_id: actionDoneId, text: { type: 'plain_text', text: 'Done' }, style: 'primary', value: action.id },
        { type: 'button', action_id: actionUpdateId, text: { type: 'plain_text', text: 'Update' }, value: action.id },
      ],
    });
  }
  return blocks;
}

/** Slack messages for a reply; a long one takes several. */
export function replyMessages(reply: Reply): SlackMessagePayload[] {
  const messages: SlackMessagePayload[] = [];
  if (reply.agenda) messages.push(...agendaMessages(reply.agenda, { late: false }).map((m) => m.payload as SlackMessagePayload));
  const actions = reply.actions ?? [];
  const text = escapeMrkdwn(reply.text);
  if (actions.length === 0) {
    if (text || messages.length === 0) messages.push({ text: text || 'Done.', blocks: [] });
    return messages;
  }
  for (let i = 0; i < actions.length; i += maxCardsPerMessage) {
    const cards = actions.slice(i, i + maxCardsPerMessage);
    const blocks: KnownBlock[] = [];
    if (i === 0 && text) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fit(text, slackLimits.sectionText) } });
    for (const action of cards) blocks.push(...actionCardBlocks(action));
    messages.push({ text: text || cards.map((a) => a.id).join(', '), blocks });
  }
  return messages;
}

/** A reminder DM: the heading, then each action as a card with "Done" and "Update". */
export function reminderMessage(reminder: ReminderView): OutgoingMessage {
  const shown = reminder.actions.slice(0, maxCardsPerMessage);
  const more = reminder.actions.length - shown.length;
  const [first] = replyMessages({ visibility: 'private', text: reminder.heading, actions: shown });
  const payload: SlackMessagePayload = first ?? { text: escapeMrkdwn(reminder.heading), blocks: [] };
  if (more > 0) payload.blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${more} more: /dmm action list mine shows them all.` }] });
  return { summary: reminder.heading, payload };
}

// The chat port on Microsoft Teams: posts to channels and threads, and messages members privately,
// turning the Bot Connector's answers into the retry policy's terms (the SDK itself never retries).
import type { App } from '@microsoft/teams.apps';
import type { Agenda } from '../../domain/agenda.js';
import { DeliveryError, type ChatPlatform, type DirectDelivery, type OutgoingMessage, type Recipient, type ReminderView } from '../../ports.js';
import type { PersonalChats } from '../../store/members.js';
import { agendaMessages, reminderMessage, type TeamsActivity } from './cards.js';

/** Refusals that mean "this person cannot be messaged privately", not "try again". */
const notReachable = new Set(['BotNotInConversationRoster', 'ConversationBlockedByUser', 'UserNotFound', 'BotDisabledByAdmin', 'ForbiddenOperationException']);

export function deliveryErrorOf(error: unknown): DeliveryError {
  const e = error as { response?: { status?: number; headers?: Record<string, string>; data?: { error?: { code?: string } } }; code?: string; message?: string };
  const status = e.response?.status;
  const code = e.response?.data?.error?.code ?? '';
  if (status === 429) {
    const seconds = Number(e.response?.headers?.['retry-after'] ?? 1);
    return new DeliveryError(`Teams throttled the bot (${code || 429})`, 'rate-limited', (Number.isFinite(seconds) ? seconds : 1) * 1_000);
  }
  if (status === undefined) return new DeliveryError(`Teams could not be reached (${e.code ?? 'network error'})`, 'transient');
  if (status >= 500 || status === 412) return new DeliveryError(`Teams answered ${status}`, 'transient');
  return new DeliveryError(`Teams refused: ${status}${code ? ` ${code}` : ''}`, 'permanent');
}

function refusedAsUnreachable(error: unknown): boolean {
  const e = error as { response?: { status?: number; data?: { error?: { code?: string } } } };
  return (e.response?.status === 403 || e.response?.status === 404) && notReachable.has(e.response?.data?.error?.code ?? '');
}

/** A channel message goes into a thread by addressing `<channel>;messageid=<root>`. */
export function threadOf(channel: string, threadRef: string | undefined): string {
  return threadRef ? `${channel};messageid=${threadRef}` : channel;
}

export class TeamsChat implements ChatPlatform {
  readonly name = 'teams' as const;
  /** Personal chats being opened, by AAD object id. */
  private readonly opening = new Map<string, Promise<string>>();

  constructor(
    private readonly app: App,
    private readonly tenantId: string,
    private readonly personalChats: PersonalChats,
  ) {}

  agendaMessages(agenda: Agenda, options: { late: boolean }): OutgoingMessage[] {
    return agendaMessages(agenda, options);
  }

  reminderMessage(reminder: ReminderView): OutgoingMessage {
    return reminderMessage(reminder);
  }

  async post(channel: string, message: OutgoingMessage, threadRef?: string): Promise<string> {
    return this.sendActivity(threadOf(channel, threadRef), message.payload as TeamsActivity);
  }

  async sendActivity(conversationId: string, activity: TeamsActivity): Promise<string> {
    try {
      const sent = await this.app.send(conversationId, activity as Parameters<App['send']>[1]);
      return sent.id;
    } catch (error) {
      throw deliveryErrorOf(error);
    }
  }

  /** The member's personal chat: the one they started or the bot opened before, or a new one. */
  private async personalChatWith(teamsUserId: string, name: string): Promise<string> {
    const known = await this.personalChats.get(teamsUserId);
    if (known) return known;
    // Sends to one person at the same moment (a reminder and a chair's notice) open one chat between them.
    let opening = this.opening.get(teamsUserId);
    if (!opening) {
      opening = (async () => {
        const created = await this.app.api.conversations.create({
          members: [{ id: teamsUserId, name, role: 'user' }],
          tenantId: this.tenantId,
          channelData: { tenant: { id: this.tenantId } },
        } as Parameters<App['api']['conversations']['create']>[0]);
        await this.personalChats.set(teamsUserId, created.id);
        return created.id;
      })().finally(() => this.opening.delete(teamsUserId));
      this.opening.set(teamsUserId, opening);
    }
    return opening;
  }

  /**
   * A personal chat: the one the member started, or one the bot opens. Where Teams refuses (the app is
   * not installed for them), the message goes to the meeting channel with an @mention instead.
   */
  async sendDirect(recipient: Recipient, message: OutgoingMessage, fallbackChannel?: string): Promise<DirectDelivery> {
    if (!recipient.teamsUserId) throw new DeliveryError(`member ${recipient.memberId} has no Teams id`, 'permanent');
    const activity = message.payload as TeamsActivity;
    try {
      const chatId = await this.personalChatWith(recipient.teamsUserId, recipient.name);
      const sent = await this.app.send(chatId, activity as Parameters<App['send']>[1]);
      return { ref: sent.id, via: 'direct' };
    } catch (error) {
      if (!fallbackChannel || !refusedAsUnreachable(error)) throw error instanceof DeliveryError ? error : deliveryErrorOf(error);
    }
    // One message for one person: their own message (a reminder of their actions, or a chair's notice)
    // with one mention, of them, by their AAD object id (Teams accepts it in a bot's mention).
    const name = recipient.name.replace(/[<>&]/g, ' ').replace(/\s+/g, ' ').trim() || 'dmm-bot member';
    const mention = `<at>${name}</at>`;
    const inChannel: TeamsActivity = {
      ...activity,
      text: `${mention} this is for you: dmm-bot could not message you privately (add the dmm-bot app in Teams to get these in a personal chat).`,
      entities: [{ type: 'mention', text: mention, mentioned: { id: recipient.teamsUserId, name } }],
    };
    return { ref: await this.sendActivity(fallbackChannel, inChannel), via: 'channel' };
  }
}

// The chat port on Slack's Web API: posts rendered messages and turns Slack's failures into the
// retry policy's terms (the client itself never retries, so one policy governs every platform).
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type WebClientOptions,
} from '@slack/web-api';
import type { Agenda } from '../../domain/agenda.js';
import { DeliveryError, type ChatPlatform, type DirectDelivery, type OutgoingMessage, type Recipient, type ReminderView } from '../../ports.js';
import { reminderMessage } from './reply-blocks.js';
import { agendaMessages, type SlackMessagePayload } from './agenda-blocks.js';

export interface SlackApiSettings {
  token: string;
  apiUrl?: string | undefined;
}

/** Options for every Slack client dmm-bot makes: our retry policy, not the SDK's half hour of retries. */
export function slackClientOptions(apiUrl: string | undefined): WebClientOptions {
  return {
    ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 15_000,
  };
}

const transientPlatformErrors = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

export function deliveryErrorOf(error: unknown): DeliveryError {
  if (error instanceof WebAPIRateLimitedError) return new DeliveryError('Slack rate limit', 'rate-limited', error.retryAfter * 1_000);
  if (error instanceof WebAPIHTTPError) {
    return new DeliveryError(`Slack HTTP ${error.statusCode}`, error.statusCode >= 500 ? 'transient' : 'permanent');
  }
  if (error instanceof WebAPIRequestError) return new DeliveryError('Slack could not be reached', 'transient');
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    return new DeliveryError(`Slack refused: ${code}`, transientPlatformErrors.has(code) ? 'transient' : 'permanent');
  }
  return new DeliveryError(`Slack send failed: ${(error as Error)?.message ?? String(error)}`, 'transient');
}

export class SlackChat implements ChatPlatform {
  readonly name = 'slack' as const;
  readonly client: WebClient;
  private readonly directChannels = new Map<string, string>();

  constructor(settings: SlackApiSettings, client?: WebClient) {
    this.client = client ?? new WebClient(settings.token, slackClientOptions(settings.apiUrl));
  }

  agendaMessages(agenda: Agenda, options: { late: boolean }): OutgoingMessage[] {
    return agendaMessages(agenda, options);
  }

  reminderMessage(reminder: ReminderView): OutgoingMessage {
    return reminderMessage(reminder);
  }

  /** A DM: conversations.open once per person (remembered), then chat.postMessage. */
  async sendDirect(recipient: Recipient, message: OutgoingMessage): Promise<DirectDelivery> {
    if (!recipient.slackUserId) throw new DeliveryError(`member ${recipient.memberId} has no Slack id`, 'permanent');
    let channel = this.directChannels.get(recipient.slackUserId);
    if (!channel) {
      try {
        const opened = await this.client.conversations.open({ users: recipient.slackUserId });
        channel = opened.channel?.id ?? '';
      } catch (error) {
        throw deliveryErrorOf(error);
      }
      this.directChannels.set(recipient.slackUserId, channel);
    }
    return { ref: await this.post(channel, message), via: 'direct' };
  }

  async post(channel: string, message: OutgoingMessage, threadRef?: string): Promise<string> {
    const payload = message.payload as SlackMessagePayload;
    try {
      const result = await this.client.chat.postMessage({
        channel,
        text: payload.text,
        blocks: payload.blocks,
        ...(threadRef ? { thread_ts: threadRef } : {}),
        unfurl_links: false,
        unfurl_media: false,
      });
      return result.ts ?? '';
    } catch (error) {
      throw deliveryErrorOf(error);
    }
  }
}

// The chat port on Slack's Web API: posts rendered messages and turns Slack's failures into the
// retry policy's terms (the client itself never retries, so one policy governs every platform).
import { createHash } from 'node:crypto';
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type WebClientOptions,
} from '@slack/web-api';
import { z } from 'zod';
import type { Agenda } from '../../domain/agenda.js';
import {
  DeliveryError,
  type ChatPlatform,
  type DirectDelivery,
  type OutgoingMessage,
  type Recipient,
  type ReminderView,
  type SendOptions,
} from '../../ports.js';
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

/** The message metadata event every tagged dmm-bot message carries (Slack's `metadata` on chat.postMessage). */
export const deliveryEventType = 'dmm_delivery';

/**
 * The tag a message carries for its delivery key: a digest, as the key names outbox rows and members
 * by id, which other apps reading the channel's metadata need not see.
 */
export function deliveryTag(deliveryKey: string): string {
  return createHash('sha256').update(deliveryKey).digest('hex').slice(0, 32);
}

/**
 * How far back an unconfirmed send is looked for: the newest messages of the conversation (or thread).
 * A send is unconfirmed for at most a claim's lease of a few minutes, and a DMM channel or an owner's
 * DM with the bot does not see 200 messages in that time.
 */
const lookBackMessages = 200;

const taggedMessages = z.object({
  messages: z
    .array(
      z.object({
        ts: z.string(),
        metadata: z.object({ event_type: z.string(), event_payload: z.record(z.string(), z.unknown()).optional() }).optional(),
      }),
    )
    .default([]),
});

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
  async sendDirect(recipient: Recipient, message: OutgoingMessage, _fallbackChannel?: string, options: SendOptions = {}): Promise<DirectDelivery> {
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
    return { ref: await this.post(channel, message, undefined, options), via: 'direct' };
  }

  /**
   * chat.postMessage has no idempotency key, so a message is tagged with its delivery key in Slack's
   * message metadata; a send whose earlier attempt went unconfirmed first looks for that tag.
   */
  async post(channel: string, message: OutgoingMessage, threadRef?: string, options: SendOptions = {}): Promise<string> {
    const payload = message.payload as SlackMessagePayload;
    const tag = message.deliveryKey === undefined ? undefined : deliveryTag(message.deliveryKey);
    if (tag && options.earlierAttemptUnconfirmed) {
      const earlier = await this.findTagged(channel, tag, threadRef);
      if (earlier) return earlier;
    }
    try {
      const result = await this.client.chat.postMessage({
        channel,
        text: payload.text,
        blocks: payload.blocks,
        ...(threadRef ? { thread_ts: threadRef } : {}),
        ...(tag ? { metadata: { event_type: deliveryEventType, event_payload: { delivery: tag } } } : {}),
        unfurl_links: false,
        unfurl_media: false,
      });
      return result.ts ?? '';
    } catch (error) {
      throw deliveryErrorOf(error);
    }
  }

  /** The ts of the newest message in the conversation (or thread) that carries `tag`, if there is one. */
  private async findTagged(channel: string, tag: string, threadRef: string | undefined): Promise<string | undefined> {
    let answer: unknown;
    try {
      answer = threadRef
        ? await this.client.conversations.replies({ channel, ts: threadRef, include_all_metadata: true, limit: lookBackMessages })
        : await this.client.conversations.history({ channel, include_all_metadata: true, limit: lookBackMessages });
    } catch (error) {
      const failure = deliveryErrorOf(error);
      // Refused for good (an install that predates the history scopes, say): a reminder sent twice is
      // better than one never sent, so the send goes ahead.
      if (failure.kind === 'permanent') return undefined;
      throw failure;
    }
    const parsed = taggedMessages.safeParse(answer);
    // An answer we cannot read proves nothing either way: sending again is the retry's job, not a guess.
    if (!parsed.success) throw new DeliveryError('Slack answered the message history in an unexpected shape', 'transient');
    return parsed.data.messages.find((m) => m.metadata?.event_type === deliveryEventType && m.metadata.event_payload?.['delivery'] === tag)?.ts;
  }
}

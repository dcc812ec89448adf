// The interfaces the use cases need from the outside world: the chat platforms and the clock.
import type { ActionView, Agenda } from './domain/agenda.js';
import type { ReminderKind } from './domain/reminders.js';
import type { ChatPlatformName } from './domain/meeting.js';

export interface Clock {
  now(): Date;
}

/** A message rendered for one platform; only its adapter reads the payload. */
export interface OutgoingMessage {
  /** Plain text for notifications, screen readers and logs of what was sent (no free text about people). */
  summary: string;
  payload: unknown;
  /**
   * Names this send uniquely (an outbox key, an agenda part). A platform that can tag its messages
   * carries it with the message, so that a send whose outcome was never confirmed can be found later.
   */
  deliveryKey?: string;
}

export interface SendOptions {
  /**
   * An earlier attempt at this very send may have reached the platform without our knowing (the
   * process died mid-send, or the answer was lost): a platform that can, looks for a message with the
   * same `deliveryKey` first and returns its reference instead of sending again.
   */
  earlierAttemptUnconfirmed?: boolean;
}

/** Why a send failed, in terms the retry policy understands. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    readonly kind: 'rate-limited' | 'transient' | 'permanent',
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * What a command or a form answers, before a platform renders it: privately to the person who
 * asked, or to the meeting (in the thread of that day's agenda where there is one).
 */
export interface Reply {
  visibility: 'private' | 'meeting';
  text: string;
  /** The request was refused or not understood, and changed nothing. */
  problem?: boolean;
  agenda?: Agenda;
  /** Actions to show as cards, with "Done" and "Update" buttons where the platform has them. */
  actions?: ActionView[];
  /** The thread of the day's agenda, for a reply to the meeting. */
  threadRef?: string;
  /** A chart to show with the text (e.g. the trial's main outcome chart). */
  image?: ReplyImage;
}

export interface ReplyImage {
  /** A file name, such as effects.png. */
  name: string;
  title: string;
  /** What the chart shows, for screen readers. */
  altText: string;
  png: Uint8Array;
}

/** A private message to one member: their actions before a panel, overdue ones, or the chairs' digest. */
export interface ReminderView {
  kind: ReminderKind | 'failure' | 'fallback';
  heading: string;
  actions: ActionView[];
  timeZone: string;
}

/** Who a private message goes to, on whichever platforms they are known. */
export interface Recipient {
  memberId: number;
  name: string;
  slackUserId: string | null;
  teamsUserId: string | null;
}

export interface DirectDelivery {
  ref: string;
  via: 'direct' | 'channel';
}

export interface ChatPlatform {
  readonly name: ChatPlatformName;
  /** The agenda as this platform's messages, each within its limits; the first opens the thread. */
  agendaMessages(agenda: Agenda, options: { late: boolean }): OutgoingMessage[];
  /** Posts to a channel, in a thread when `threadRef` is given; returns the new message's reference. */
  post(channel: string, message: OutgoingMessage, threadRef?: string, options?: SendOptions): Promise<string>;
  reminderMessage(reminder: ReminderView): OutgoingMessage;
  /**
   * Sends a private message to one member. Where the platform refuses a private message (Teams, when
   * the app is not installed for them), it may post in `fallbackChannel` with a mention instead.
   */
  sendDirect(recipient: Recipient, message: OutgoingMessage, fallbackChannel?: string, options?: SendOptions): Promise<DirectDelivery>;
}

// Builders for inbound Bot Framework activities as Microsoft Teams sends them to a bot's messaging
// endpoint, and a poster. Sign the request with `FakeTeams.signToken({ audience: botId, serviceUrl })` and
// give activities `serviceUrl: fake.serviceUrl`: the Teams SDK checks the token's `serviceurl` claim
// against `activity.serviceUrl` and sends replies to `activity.serviceUrl`.

/** Who sends the activity, and to which bot. */
export interface TeamsActorOptions {
  /** The sender's Entra object id (`from.aadObjectId`). */
  fromAadId: string;
  /** The sender's Bot Framework id (default `'29:' + fromAadId`). */
  fromId?: string;
  /** Default `User <fromAadId>`. */
  fromName?: string;
  tenantId: string;
  /** The Bot Connector base URL (the fake's `serviceUrl`). */
  serviceUrl: string;
  /** The bot's client (app) id; the recipient is `28:<botId>`. */
  botId: string;
  /** Default `dmm`. */
  botName?: string;
  /** The activity id (default a fresh numeric id, like Teams message ids). */
  id?: string;
  /** Default now. */
  timestamp?: Date;
  /** Default `en-GB`. */
  locale?: string;
}

export interface TeamsMention {
  /** The mentioned account's id (`29:…` for people, `28:…` for bots). */
  id: string;
  name: string;
}

export interface ChannelMessageOptions extends TeamsActorOptions {
  text: string;
  /** The channel's conversation id, `19:…@thread.tacv2`, with or without `;messageid=`. */
  conversationId: string;
  /** `channelData.team.id` (default the channel id without `;messageid=`, as for a team's General channel). */
  teamId?: string;
  /**
   * Other people (or bots) mentioned. Their `<at>name</at>` tags must already be in `text`; the builder
   * adds the mention entities only.
   */
  mentions?: TeamsMention[];
  /** Prefix `<at>botName</at> ` to the text and add the bot's mention entity (default true). */
  mentionBot?: boolean;
  /** A reply in the thread of this message: conversation id gets `;messageid=<replyToId>` and `replyToId` is set. */
  replyToId?: string;
  /**
   * When the conversation id has no `;messageid=`: append `;messageid=<replyToId ?? id>` as Teams does for
   * channel posts (default true). False keeps the id as given.
   */
  threaded?: boolean;
}

export interface PersonalMessageOptions extends TeamsActorOptions {
  text: string;
  /** Default `a:1:1-<fromId>` (the id the fake gives a 1:1 chat created with that member). */
  conversationId?: string;
  mentions?: TeamsMention[];
  replyToId?: string;
}

export type InvokeName = 'task/fetch' | 'task/submit' | 'adaptiveCard/action' | (string & {});

export interface InvokeOptions extends TeamsActorOptions {
  /** Default `a:1:1-<fromId>` (a personal chat). */
  conversationId?: string;
  /** Default `channel` for a `19:…@thread…` id, else `personal`. */
  conversationType?: 'personal' | 'channel' | 'groupChat';
  /** For channels: `channelData.team.id` (default the channel id without `;messageid=`). */
  teamId?: string;
  /** The message that holds the card (Teams sets it for card actions). */
  replyToId?: string;
}

/** The fields every built activity has (the rest is `Record<string, unknown>`). */
export interface TeamsActivityCore {
  type: string;
  id: string;
  serviceUrl: string;
  channelId: 'msteams';
  from: { id: string; name: string; aadObjectId: string };
  recipient: { id: string; name: string };
}

export type TeamsActivity = Record<string, unknown> &
  TeamsActivityCore & {
    conversation: { id: string; conversationType: string; tenantId: string; isGroup?: boolean };
    channelData: Record<string, unknown>;
  };

let idCounter = 0;
const idBase = Date.now();

/** A fresh numeric activity id (Teams message ids are epoch milliseconds). */
export function nextActivityId(): string {
  idCounter += 1;
  return String(idBase + idCounter);
}

/** The `<at>name</at>` mention entity Teams sends. */
export function mentionEntity(m: TeamsMention): Record<string, unknown> {
  return { type: 'mention', text: `<at>${m.name}</at>`, mentioned: { id: m.id, name: m.name } };
}

const baseId = (conversationId: string): string => conversationId.split(';')[0] ?? conversationId;

function common(type: string, o: TeamsActorOptions, id: string): TeamsActivityCore & { entities: unknown[]; [key: string]: unknown } {
  const timestamp = (o.timestamp ?? new Date()).toISOString();
  const locale = o.locale ?? 'en-GB';
  return {
    type,
    id,
    timestamp,
    localTimestamp: timestamp,
    localTimezone: 'Europe/London',
    serviceUrl: o.serviceUrl,
    channelId: 'msteams',
    from: { id: o.fromId ?? `29:${o.fromAadId}`, name: o.fromName ?? `User ${o.fromAadId}`, aadObjectId: o.fromAadId },
    recipient: { id: `28:${o.botId}`, name: o.botName ?? 'dmm' },
    locale,
    entities: [{ type: 'clientInfo', locale, country: 'GB', platform: 'Web', timezone: 'Europe/London' }],
  };
}

function channelConversation(conversationId: string, tenantId: string, teamId: string | undefined) {
  const channel = baseId(conversationId);
  const team = teamId ?? channel;
  return {
    conversation: { id: conversationId, conversationType: 'channel', tenantId, isGroup: true },
    channelData: {
      tenant: { id: tenantId },
      channel: { id: channel },
      team: { id: team },
      teamsChannelId: channel,
      teamsTeamId: team,
    },
  };
}

function personalConversation(conversationId: string, tenantId: string) {
  return {
    conversation: { id: conversationId, conversationType: 'personal', tenantId },
    channelData: { tenant: { id: tenantId } },
  };
}

/** A message posted in a team channel that @mentions the bot (Teams only delivers those). */
export function channelMessage(o: ChannelMessageOptions): TeamsActivity {
  const id = o.id ?? nextActivityId();
  const botName = o.botName ?? 'dmm';
  const mentionBot = o.mentionBot ?? true;
  let conversationId = o.conversationId;
  if (o.replyToId !== undefined) conversationId = `${baseId(conversationId)};messageid=${o.replyToId}`;
  else if (!conversationId.includes(';messageid=') && (o.threaded ?? true)) conversationId = `${conversationId};messageid=${id}`;
  const base = common('message', o, id);
  const mentions = [...(mentionBot ? [{ id: `28:${o.botId}`, name: botName }] : []), ...(o.mentions ?? [])];
  const activity: TeamsActivity = {
    ...base,
    ...channelConversation(conversationId, o.tenantId, o.teamId),
    textFormat: 'plain',
    text: mentionBot ? `<at>${botName}</at> ${o.text}` : o.text,
    entities: [...mentions.map(mentionEntity), ...base.entities],
    attachments: [],
  };
  if (o.replyToId !== undefined) activity.replyToId = o.replyToId;
  return activity;
}

/** A message in the bot's 1:1 chat with the sender (no mention needed). */
export function personalMessage(o: PersonalMessageOptions): TeamsActivity {
  const id = o.id ?? nextActivityId();
  const base = common('message', o, id);
  const fromId = o.fromId ?? `29:${o.fromAadId}`;
  const activity: TeamsActivity = {
    ...base,
    ...personalConversation(o.conversationId ?? `a:1:1-${fromId}`, o.tenantId),
    textFormat: 'plain',
    text: o.text,
    entities: [...(o.mentions ?? []).map(mentionEntity), ...base.entities],
    attachments: [],
  };
  if (o.replyToId !== undefined) activity.replyToId = o.replyToId;
  return activity;
}

/**
 * An `invoke` activity. Teams waits for the HTTP response body (the invoke response): for `task/fetch`
 * and `task/submit` a task module response, for `adaptiveCard/action` an adaptive card action response.
 */
export function invokeActivity(name: InvokeName, value: unknown, o: InvokeOptions): TeamsActivity {
  const id = o.id ?? nextActivityId();
  const fromId = o.fromId ?? `29:${o.fromAadId}`;
  const conversationId = o.conversationId ?? `a:1:1-${fromId}`;
  const type = o.conversationType ?? (/^19:.*@thread\./.test(conversationId) ? 'channel' : 'personal');
  const where =
    type === 'channel'
      ? channelConversation(conversationId, o.tenantId, o.teamId)
      : type === 'groupChat'
        ? {
            conversation: { id: conversationId, conversationType: 'groupChat', tenantId: o.tenantId, isGroup: true },
            channelData: { tenant: { id: o.tenantId } },
          }
        : personalConversation(conversationId, o.tenantId);
  const activity: TeamsActivity = { ...common('invoke', o, id), ...where, name, value };
  if (o.replyToId !== undefined) activity.replyToId = o.replyToId;
  return activity;
}

/** `adaptiveCard/action` for an `Action.Execute` button (routes to `card.action`, or `card.action.<data.action>`). */
export function cardAction(verb: string, data: Record<string, unknown>, o: InvokeOptions): TeamsActivity {
  return invokeActivity('adaptiveCard/action', { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' }, o);
}

/** `task/fetch` (routes to `dialog.open`, or `dialog.open.<data.dialog_id>`). */
export function dialogFetch(data: Record<string, unknown>, o: InvokeOptions): TeamsActivity {
  return invokeActivity('task/fetch', { data, context: { theme: 'default' } }, o);
}

/** `task/submit` (routes to `dialog.submit`, or `dialog.submit.<data.action>`). */
export function dialogSubmit(data: Record<string, unknown>, o: InvokeOptions): TeamsActivity {
  return invokeActivity('task/submit', { data, context: { theme: 'default' } }, o);
}

export interface PostedActivityResponse {
  status: number;
  /** The raw response text. */
  body: string;
  /** The parsed body, when it is JSON. */
  json?: unknown;
}

/** POSTs an activity to a bot endpoint (`http://127.0.0.1:PORT/api/messages`) with `Authorization: Bearer <token>` when given. */
export async function postActivity(url: string, activity: unknown, token: string | undefined): Promise<PostedActivityResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(activity) });
  const body = await res.text();
  const out: PostedActivityResponse = { status: res.status, body };
  if (body !== '') {
    try {
      out.json = JSON.parse(body);
    } catch {
      // not JSON
    }
  }
  return out;
}

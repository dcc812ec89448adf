// Requests to a Slack app, built and signed as Slack sends them (see notes/slack-teams-platform.md §1–3):
// slash commands as `application/x-www-form-urlencoded` fields, interactivity as one `payload=<JSON>`
// field, events as JSON, each signed `v0=HMAC-SHA256(secret, "v0:<ts>:<raw body>")`.
import { createHmac } from 'node:crypto';
import type { BlockButtonAction, ViewSubmitAction } from '@slack/bolt';

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

/** Unix seconds now. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestamp: number = nowSeconds(),
): SlackSignatureHeaders {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestamp) };
}

// ---- slash commands ----

export interface SlashCommandFields {
  token: string;
  team_id: string;
  team_domain: string;
  enterprise_id?: string;
  enterprise_name?: string;
  channel_id: string;
  channel_name: string;
  user_id: string;
  user_name: string;
  command: string;
  text: string;
  api_app_id: string;
  is_enterprise_install: 'true' | 'false';
  response_url: string;
  trigger_id: string;
}

export const SLASH_COMMAND_DEFAULTS: SlashCommandFields = {
  token: 'legacy-verification-token',
  team_id: 'T0TEST',
  team_domain: 'dmm-test',
  channel_id: 'C0TEST',
  channel_name: 'dmm',
  user_id: 'U0USER',
  user_name: 'alice',
  command: '/dmm',
  text: '',
  api_app_id: 'A0TEST',
  is_enterprise_install: 'false',
  response_url: 'https://hooks.slack.com/commands/T0TEST/1000000000001/abcdefABCDEF0123456789',
  trigger_id: '1000000000001.1000000000002.0123456789abcdef0123456789abcdef',
};

/** The form body of a slash command, fields in the order Slack sends them. */
export function slashCommandBody(fields: Partial<SlashCommandFields> = {}): string {
  const f: SlashCommandFields = { ...SLASH_COMMAND_DEFAULTS, ...fields };
  const ordered: [string, string | undefined][] = [
    ['token', f.token],
    ['team_id', f.team_id],
    ['team_domain', f.team_domain],
    ['enterprise_id', f.enterprise_id],
    ['enterprise_name', f.enterprise_name],
    ['channel_id', f.channel_id],
    ['channel_name', f.channel_name],
    ['user_id', f.user_id],
    ['user_name', f.user_name],
    ['command', f.command],
    ['text', f.text],
    ['api_app_id', f.api_app_id],
    ['is_enterprise_install', f.is_enterprise_install],
    ['response_url', f.response_url],
    ['trigger_id', f.trigger_id],
  ];
  const body = new URLSearchParams();
  for (const [key, value] of ordered) if (value !== undefined) body.append(key, value);
  return body.toString();
}

// ---- interactivity ----

/** `payload=<url-encoded JSON>`, the form Slack posts for every interaction. */
export function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
export const blockActionsBody = (payload: BlockButtonAction | Record<string, unknown>): string => interactionBody(payload);
export const viewSubmissionBody = (payload: ViewSubmitAction | Record<string, unknown>): string => interactionBody(payload);

export interface BlockActionOptions {
  actionId: string;
  blockId?: string;
  value?: string;
  /** The button's label. */
  buttonText?: string;
  userId?: string;
  userName?: string;
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
  channelId?: string;
  channelName?: string;
  messageTs?: string;
  messageText?: string;
  messageBlocks?: unknown[];
  responseUrl?: string;
  triggerId?: string;
  token?: string;
  actionTs?: string;
}

/** A `block_actions` payload for a button click in a bot message. */
export function blockActionPayload(o: BlockActionOptions): BlockButtonAction {
  const teamId = o.teamId ?? SLASH_COMMAND_DEFAULTS.team_id;
  const channelId = o.channelId ?? SLASH_COMMAND_DEFAULTS.channel_id;
  const messageTs = o.messageTs ?? '1700000000.000100';
  const blockId = o.blockId ?? 'actions';
  const buttonText = o.buttonText ?? 'Go';
  return {
    type: 'block_actions',
    user: { id: o.userId ?? SLASH_COMMAND_DEFAULTS.user_id, username: o.userName ?? 'alice', name: o.userName ?? 'alice', team_id: teamId },
    api_app_id: o.apiAppId ?? SLASH_COMMAND_DEFAULTS.api_app_id,
    token: o.token ?? SLASH_COMMAND_DEFAULTS.token,
    container: { type: 'message', message_ts: messageTs, channel_id: channelId, is_ephemeral: false },
    trigger_id: o.triggerId ?? SLASH_COMMAND_DEFAULTS.trigger_id,
    team: { id: teamId, domain: o.teamDomain ?? SLASH_COMMAND_DEFAULTS.team_domain },
    is_enterprise_install: false,
    channel: { id: channelId, name: o.channelName ?? SLASH_COMMAND_DEFAULTS.channel_name },
    message: {
      type: 'message',
      subtype: 'bot_message',
      user: 'U0BOT',
      bot_id: 'B0TEST',
      ts: messageTs,
      text: o.messageText ?? 'This content can’t be displayed.',
      blocks: o.messageBlocks ?? [
        {
          type: 'actions',
          block_id: blockId,
          elements: [
            {
              type: 'button',
              action_id: o.actionId,
              text: { type: 'plain_text', text: buttonText, emoji: true },
              ...(o.value !== undefined ? { value: o.value } : {}),
            },
          ],
        },
      ],
    },
    state: { values: {} },
    response_url: o.responseUrl ?? 'https://hooks.slack.com/actions/T0TEST/1000000000003/abcdefABCDEF0123456789',
    actions: [
      {
        type: 'button',
        action_id: o.actionId,
        block_id: blockId,
        text: { type: 'plain_text', text: buttonText, emoji: true },
        ...(o.value !== undefined ? { value: o.value } : {}),
        action_ts: o.actionTs ?? `${nowSeconds()}.123456`,
      },
    ],
  };
}

export interface ViewSubmissionOptions {
  callbackId: string;
  privateMetadata?: string;
  /** `state.values`: `{ [block_id]: { [action_id]: { type, value | selected_option | … } } }`. */
  values?: ViewSubmitAction['view']['state']['values'];
  viewId?: string;
  title?: string;
  blocks?: ViewSubmitAction['view']['blocks'];
  userId?: string;
  userName?: string;
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
  botId?: string;
  triggerId?: string;
  token?: string;
  hash?: string;
  responseUrls?: ViewSubmitAction['response_urls'];
}

/** A `view_submission` payload for a modal. */
export function viewSubmissionPayload(o: ViewSubmissionOptions): ViewSubmitAction {
  const teamId = o.teamId ?? SLASH_COMMAND_DEFAULTS.team_id;
  const viewId = o.viewId ?? 'V00000001';
  const apiAppId = o.apiAppId ?? SLASH_COMMAND_DEFAULTS.api_app_id;
  return {
    type: 'view_submission',
    team: { id: teamId, domain: o.teamDomain ?? SLASH_COMMAND_DEFAULTS.team_domain },
    user: { id: o.userId ?? SLASH_COMMAND_DEFAULTS.user_id, name: o.userName ?? 'alice', team_id: teamId },
    api_app_id: apiAppId,
    token: o.token ?? SLASH_COMMAND_DEFAULTS.token,
    trigger_id: o.triggerId ?? SLASH_COMMAND_DEFAULTS.trigger_id,
    view: {
      id: viewId,
      team_id: teamId,
      type: 'modal',
      blocks: o.blocks ?? [],
      private_metadata: o.privateMetadata ?? '',
      callback_id: o.callbackId,
      state: { values: o.values ?? {} },
      hash: o.hash ?? '1700000000.abcdEFGH',
      title: { type: 'plain_text', text: o.title ?? 'DMM', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: { type: 'plain_text', text: 'Cancel', emoji: true },
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: apiAppId,
      external_id: '',
      app_installed_team_id: teamId,
      bot_id: o.botId ?? 'B0TEST',
    },
    response_urls: o.responseUrls ?? [],
    is_enterprise_install: false,
  };
}

// ---- posting ----

export type SlackContentType = 'application/x-www-form-urlencoded' | 'application/json';

export interface PostToSlackAppOptions {
  signingSecret: string;
  /** Default: `application/json` when the body starts with `{`, else `application/x-www-form-urlencoded`. */
  contentType?: SlackContentType;
  /** Unix seconds to sign with (default now). */
  timestamp?: number;
  /** Adds `x-slack-retry-num` and `x-slack-retry-reason`. */
  retryNum?: number;
  retryReason?: string;
  /** Sign with the wrong secret. */
  badSignature?: boolean;
}

export interface SlackAppResponse {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
  headers: Headers;
}

export async function postToSlackApp(url: string, rawBody: string, o: PostToSlackAppOptions): Promise<SlackAppResponse> {
  const contentType: SlackContentType =
    o.contentType ?? (rawBody.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded');
  const secret = o.badSignature ? `${o.signingSecret}-wrong` : o.signingSecret;
  const headers: Record<string, string> = {
    // Exactly this: Bolt compares the whole header, so a `; charset=…` suffix gets a 400.
    'content-type': contentType,
    ...signSlackRequest(secret, rawBody, o.timestamp ?? nowSeconds()),
  };
  if (o.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(o.retryNum);
    headers['x-slack-retry-reason'] = o.retryReason ?? 'http_timeout';
  }
  const response = await fetch(url, { method: 'POST', headers, body: rawBody });
  const body = await response.text();
  let json: unknown;
  if (body !== '') {
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
  }
  return { status: response.status, body, headers: response.headers, ...(json !== undefined ? { json } : {}) };
}

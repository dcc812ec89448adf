// A fake Slack Web API on loopback, for driving a real Bolt app (or WebClient) in tests.
// Point Bolt at it with `clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } }`.
// It records every call, keeps the posted messages, checks Slack's Block Kit limits, and can be told
// to fail (HTTP 5xx, 429 with Retry-After, or `ok:false` errors). It also serves `response_url`s.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlackCall {
  method: string;
  /** The decoded parameters, without `token` (JSON fields such as `blocks` are decoded). */
  params: Record<string, unknown>;
  /** The token from `Authorization: Bearer …` or the `token` parameter. */
  token?: string;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** The HTTP status the fake answered with (200 also for `ok:false` answers). */
  status: number;
  /** The `error` of an `ok:false` answer. */
  error?: string;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  /** Message metadata given to chat.postMessage, returned by conversations.history/replies with `include_all_metadata`. */
  metadata?: { event_type: string; event_payload?: Record<string, unknown> };
  /** How many times `chat.update` changed it. */
  edits: number;
}

export interface FakeSlackEphemeral {
  channel: string;
  user: string;
  message_ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
}

export interface FakeSlackView {
  id: string;
  trigger_id?: string;
  view: Record<string, unknown>;
  updates: number;
}

export interface FakeSlackResponse {
  /** e.g. `/response/cmd-1`. */
  path: string;
  body: unknown;
}

export interface FakeSlackUser {
  id: string;
  team_id: string;
  name: string;
  real_name: string;
  deleted: boolean;
  is_bot: boolean;
  tz: string;
  tz_label: string;
  tz_offset: number;
  profile: {
    real_name: string;
    display_name: string;
    email: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * A failure to inject. `{ status }` answers that HTTP status (body `{ok:false,error:'internal_error'}`
 * unless `body` is given); with `retryAfter` it also sends `Retry-After: <seconds>` (use it with 429).
 * `{ error }` answers HTTP 200 `{ ok:false, error }`, as Slack does for platform errors.
 */
export type FakeSlackFailure =
  | { status: number; retryAfter?: number; body?: string; /** The call takes effect (a message is posted) and only its answer fails: a lost answer. */ afterEffect?: boolean }
  | { error: string; extra?: Record<string, unknown> }
  /** The call takes effect and its answer never comes (the caller dies or times out waiting). */
  | { stall: true };

export interface FakeSlackOptions {
  teamId?: string;
  teamDomain?: string;
  botId?: string;
  botUserId?: string;
  /** Sliding 1 s window limit; over it the fake answers 429 `Retry-After: 1` `{ok:false,error:'ratelimited'}`. */
  rateLimit?: { perSecond: number; methods?: string[] };
  /** Users for `users.info`, merged over the generated defaults. */
  users?: Record<string, Partial<FakeSlackUser>>;
  /** Unix seconds of the first `ts` handed out (default 1700000000). */
  firstTs?: number;
}

export interface FakeSlack {
  /** `http://127.0.0.1:PORT/api/`: pass as Bolt `clientOptions.slackApiUrl`. */
  url: string;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  calls: FakeSlackCall[];
  messages: FakeSlackMessage[];
  ephemerals: FakeSlackEphemeral[];
  views: FakeSlackView[];
  responses: FakeSlackResponse[];
  /** Files shared with files.getUploadURLExternal, the upload, and files.completeUploadExternal. */
  files: FakeSlackFile[];
  callsTo(method: string): FakeSlackCall[];
  /** Make the next `times` calls to `method` fail (`'response_url'` targets `/response/*` posts). */
  failNext(method: string, failure: FakeSlackFailure, times?: number): void;
  /** `${origin}/response/${id}`: hand it out as a payload's `response_url`. */
  responseUrl(id: string): string;
  /** Polls until `predicate()` is truthy and returns its value; rejects after `timeoutMs`. */
  waitFor<T>(predicate: () => T | Promise<T>, timeoutMs?: number): Promise<NonNullable<T>>;
  /** Forget recorded calls, messages, responses and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeSlackFile {
  id: string;
  filename: string;
  title: string;
  bytes: Buffer;
  /** Set once the upload is completed and shared. */
  channel?: string;
  threadTs?: string;
}

// Limits from Slack's Block Kit reference (see notes/slack-teams-platform.md §5).
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  blocksPerView: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  buttonText: 75,
  actionId: 255,
  blockId: 255,
  messageText: 40_000,
} as const;

const KNOWN_METHODS = new Set([
  'auth.test',
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'conversations.open',
  'conversations.history',
  'conversations.replies',
  'views.open',
  'views.update',
  'users.info',
  'files.getUploadURLExternal',
  'files.completeUploadExternal',
]);

type Answer = { status: number; body: Record<string, unknown>; headers?: Record<string, string>; raw?: string };

const ok = (body: Record<string, unknown> = {}): Answer => ({ status: 200, body: { ok: true, ...body } });
const fail = (error: string, extra: Record<string, unknown> = {}): Answer => ({
  status: 200,
  body: { ok: false, error, ...extra },
});

/** The file in an upload: the raw body, or the first part of a multipart/form-data body (what the Web API client sends). */
function uploadedBytes(contentType: string | undefined, body: Buffer): Buffer {
  const boundary = /multipart\/form-data;.*boundary=("?)([^";]+)\1/i.exec(contentType ?? '')?.[2];
  if (!boundary) return body;
  const delimiter = Buffer.from(`--${boundary}`);
  const start = body.indexOf(delimiter);
  const headersEnd = body.indexOf('\r\n\r\n', start);
  const next = body.indexOf(delimiter, headersEnd);
  if (start < 0 || headersEnd < 0 || next < 0) return Buffer.alloc(0);
  // The part's content runs to the CRLF before the next delimiter.
  return body.subarray(headersEnd + 4, next - 2);
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const teamId = options.teamId ?? 'T0TEST';
  const teamDomain = options.teamDomain ?? 'dmm-test';
  const botId = options.botId ?? 'B0TEST';
  const botUserId = options.botUserId ?? 'U0BOT';
  const rateLimited = new Set(options.rateLimit?.methods ?? ['chat.postMessage']);
  const firstTs = options.firstTs ?? 1_700_000_000;

  const calls: FakeSlackCall[] = [];
  const messages: FakeSlackMessage[] = [];
  const ephemerals: FakeSlackEphemeral[] = [];
  const views: FakeSlackView[] = [];
  const responses: FakeSlackResponse[] = [];
  const files: FakeSlackFile[] = [];
  let origin = '';
  const failures = new Map<string, { failure: FakeSlackFailure; times: number }[]>();
  const admitted = new Map<string, number[]>();
  let tsCounter = 0;
  let viewCounter = 0;

  const nextTs = (): string => {
    tsCounter += 1;
    const micros = tsCounter * 100;
    const seconds = firstTs + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  };

  const takeFailure = (method: string): FakeSlackFailure | undefined => {
    const queue = failures.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.times -= 1;
    if (head.times <= 0) queue.shift();
    return head.failure;
  };

  const failureAnswer = (failure: Exclude<FakeSlackFailure, { stall: true }>): Answer => {
    if ('error' in failure) return fail(failure.error, failure.extra);
    const headers: Record<string, string> = {};
    if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
    const error = failure.status === 429 ? 'ratelimited' : 'internal_error';
    const answer: Answer = { status: failure.status, body: { ok: false, error }, headers };
    if (failure.body !== undefined) answer.raw = failure.body;
    return answer;
  };

  const overRateLimit = (method: string, now: number): boolean => {
    const limit = options.rateLimit;
    if (!limit || !rateLimited.has(method)) return false;
    const recent = (admitted.get(method) ?? []).filter((t) => now - t < 1000);
    if (recent.length >= limit.perSecond) {
      admitted.set(method, recent);
      return true;
    }
    recent.push(now);
    admitted.set(method, recent);
    return false;
  };

  const userFor = (id: string): FakeSlackUser => {
    const override = options.users?.[id] ?? {};
    const name = `user-${id.toLowerCase()}`;
    const base: FakeSlackUser = {
      id,
      team_id: teamId,
      name,
      real_name: `User ${id}`,
      deleted: false,
      is_bot: false,
      tz: 'Europe/London',
      tz_label: 'Greenwich Mean Time',
      tz_offset: 0,
      profile: { real_name: `User ${id}`, display_name: name, email: `${name}@example.org` },
    };
    return { ...base, ...override, profile: { ...base.profile, ...(override.profile ?? {}) } };
  };

  const handle = (method: string, p: Record<string, unknown>): Answer => {
    switch (method) {
      case 'auth.test':
        return ok({
          url: `https://${teamDomain}.slack.com/`,
          team: 'DMM Test',
          user: 'dmm',
          team_id: teamId,
          user_id: botUserId,
          bot_id: botId,
          is_enterprise_install: false,
        });

      case 'chat.postMessage': {
        const channel = str(p.channel);
        if (!channel) return fail('channel_not_found');
        const invalid = checkMessage(p);
        if (invalid) return invalid;
        const ts = nextTs();
        const thread_ts = str(p.thread_ts);
        const text = str(p.text);
        const blocks = Array.isArray(p.blocks) ? p.blocks : undefined;
        const metadata = metadataOf(p.metadata);
        if (metadata === null) return fail('invalid_metadata_format');
        messages.push({ channel, ts, thread_ts, text, blocks, ...(metadata ? { metadata } : {}), edits: 0 });
        return ok({
          channel,
          ts,
          message: {
            type: 'message',
            user: botUserId,
            bot_id: botId,
            team: teamId,
            ts,
            text: text ?? '',
            blocks,
            ...(thread_ts ? { thread_ts } : {}),
          },
        });
      }

      case 'chat.update': {
        const channel = str(p.channel);
        const ts = str(p.ts);
        if (!channel) return fail('channel_not_found');
        if (!ts) return fail('message_not_found');
        const message = messages.find((m) => m.channel === channel && m.ts === ts);
        if (!message) return fail('message_not_found');
        const invalid = checkMessage(p);
        if (invalid) return invalid;
        if (p.text !== undefined) message.text = str(p.text);
        if (Array.isArray(p.blocks)) message.blocks = p.blocks;
        message.edits += 1;
        return ok({
          channel,
          ts,
          text: message.text ?? '',
          message: { type: 'message', user: botUserId, bot_id: botId, text: message.text ?? '', blocks: message.blocks },
        });
      }

      case 'chat.postEphemeral': {
        const channel = str(p.channel);
        const user = str(p.user);
        if (!channel) return fail('channel_not_found');
        if (!user) return fail('user_not_in_channel');
        const invalid = checkMessage(p);
        if (invalid) return invalid;
        const message_ts = nextTs();
        ephemerals.push({
          channel,
          user,
          message_ts,
          thread_ts: str(p.thread_ts),
          text: str(p.text),
          blocks: Array.isArray(p.blocks) ? p.blocks : undefined,
        });
        return ok({ message_ts });
      }

      case 'conversations.open': {
        const channel = str(p.channel);
        if (channel) return ok({ channel: { id: channel }, no_op: true, already_open: true });
        const users = (str(p.users) ?? '').split(',').map((u) => u.trim()).filter(Boolean);
        if (users.length === 0) return fail('users_list_not_supplied');
        if (users.length > 8) return fail('too_many_users');
        const id = users.length === 1 ? `D${users[0]}` : `G${users.join('').replace(/U/g, '')}`;
        return ok({ channel: { id } });
      }

      // Newest first, top-level messages only (replies are in conversations.replies), as Slack lists them.
      case 'conversations.history': {
        const channel = str(p.channel);
        if (!channel) return fail('channel_not_found');
        const listed = messages.filter((m) => m.channel === channel && (!m.thread_ts || m.thread_ts === m.ts)).reverse();
        return ok({ messages: listed.slice(0, limitOf(p.limit)).map((m) => historyEntry(m, p.include_all_metadata)), has_more: listed.length > limitOf(p.limit) });
      }

      // The thread's parent, then its replies oldest first.
      case 'conversations.replies': {
        const channel = str(p.channel);
        const ts = str(p.ts);
        if (!channel) return fail('channel_not_found');
        const parent = messages.find((m) => m.channel === channel && m.ts === ts);
        if (!parent) return fail('thread_not_found');
        const thread = [parent, ...messages.filter((m) => m.channel === channel && m.thread_ts === ts && m.ts !== ts)];
        return ok({ messages: thread.slice(0, limitOf(p.limit)).map((m) => historyEntry(m, p.include_all_metadata)), has_more: thread.length > limitOf(p.limit) });
      }

      case 'views.open':
      case 'views.update': {
        const view = p.view;
        if (typeof view !== 'object' || view === null || Array.isArray(view)) return fail('invalid_arguments');
        const invalid = checkBlocks((view as Record<string, unknown>).blocks, SLACK_LIMITS.blocksPerView, '/view/blocks');
        if (invalid) return invalid;
        let record: FakeSlackView | undefined;
        if (method === 'views.open') {
          const trigger_id = str(p.trigger_id);
          if (!trigger_id) return fail('invalid_arguments');
          viewCounter += 1;
          record = { id: `V${String(viewCounter).padStart(8, '0')}`, trigger_id, view: {}, updates: 0 };
          views.push(record);
        } else {
          const viewId = str(p.view_id);
          const externalId = str(p.external_id);
          record = views.find(
            (v) => (viewId && v.id === viewId) || (externalId && v.view.external_id === externalId),
          );
          if (!record) return fail('not_found');
          record.updates += 1;
        }
        record.view = { ...(view as Record<string, unknown>) };
        return ok({
          view: {
            id: record.id,
            team_id: teamId,
            app_id: 'A0TEST',
            bot_id: botId,
            state: { values: {} },
            hash: `${Date.now()}.${record.updates}`,
            private_metadata: '',
            callback_id: '',
            root_view_id: record.id,
            previous_view_id: null,
            ...record.view,
          },
        });
      }

      case 'files.getUploadURLExternal': {
        const filename = str(p.filename);
        const length = Number(p.length);
        if (!filename || !Number.isInteger(length) || length <= 0) return fail('invalid_arguments');
        const id = `F${String(files.length + 1).padStart(8, '0')}`;
        files.push({ id, filename, title: filename, bytes: Buffer.alloc(0) });
        return ok({ upload_url: `${origin}/upload/${id}`, file_id: id });
      }

      case 'files.completeUploadExternal': {
        let listed: Array<{ id?: string; title?: string }> = [];
        try {
          listed = typeof p.files === 'string' ? (JSON.parse(p.files) as typeof listed) : ((p.files as typeof listed) ?? []);
        } catch {
          return fail('invalid_arguments');
        }
        const done: FakeSlackFile[] = [];
        for (const entry of listed) {
          const file = files.find((f) => f.id === entry.id);
          if (!file || file.bytes.length === 0) return fail('file_not_found');
          if (entry.title) file.title = entry.title;
          const channel = str(p.channel_id);
          if (channel) file.channel = channel;
          const threadTs = str(p.thread_ts);
          if (threadTs) file.threadTs = threadTs;
          done.push(file);
        }
        return ok({ files: done.map((f) => ({ id: f.id, title: f.title, name: f.filename })) });
      }

      case 'users.info': {
        const user = str(p.user);
        if (!user) return fail('user_not_found');
        return ok({ user: userFor(user) });
      }

      default:
        return fail('unknown_method');
    }
  };

  const respondJson = (res: ServerResponse, answer: Answer): void => {
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...(answer.headers ?? {}) });
    res.end(answer.raw ?? JSON.stringify(answer.body));
  };

  const onApi = (req: IncomingMessage, res: ServerResponse, method: string, raw: string, query: URLSearchParams): void => {
    const at = Date.now();
    const decoded = decodeBody(req.headers['content-type'], raw);
    const params = { ...decodeQuery(query), ...(decoded ?? {}) };
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? str(params.token);
    delete params.token;
    const call: FakeSlackCall = { method, params, at, status: 200, ...(token !== undefined ? { token } : {}) };

    const injected = takeFailure(method);
    let answer: Answer;
    if (injected && 'stall' in injected) {
      handle(method, params);
      call.status = 0;
      calls.push(call);
      return;
    }
    if (injected && 'status' in injected && injected.afterEffect) {
      handle(method, params);
      answer = failureAnswer(injected);
    } else if (injected) answer = failureAnswer(injected);
    else if (decoded === undefined) answer = fail('invalid_json');
    else if (overRateLimit(method, at))
      answer = { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '1' } };
    else if (!KNOWN_METHODS.has(method)) answer = fail('unknown_method');
    else if (!token) answer = fail('not_authed');
    else if (!/^xox[abpe]-/.test(token)) answer = fail('invalid_auth');
    else answer = handle(method, params);

    call.status = answer.status;
    if (answer.body.ok === false) call.error = String(answer.body.error);
    calls.push(call);
    respondJson(res, answer);
  };

  const onResponseUrl = (req: IncomingMessage, res: ServerResponse, path: string, raw: string): void => {
    let body: unknown = raw;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // keep the raw text: a test can see what was sent
    }
    const injected = takeFailure('response_url');
    if (injected && 'stall' in injected) {
      responses.push({ path, body });
      return;
    }
    if (injected) {
      respondJson(res, failureAnswer(injected));
      return;
    }
    responses.push({ path, body });
    respondJson(res, ok());
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const raw = bytes.toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      try {
        const api = /^\/api\/([A-Za-z0-9._-]+)$/.exec(url.pathname);
        const upload = /^\/upload\/(F\d+)$/.exec(url.pathname);
        if (upload?.[1] && req.method === 'POST') {
          // The file's bytes, as Slack's upload URL takes them (the Web API client posts the raw file).
          const file = files.find((f) => f.id === upload[1]);
          if (file) file.bytes = uploadedBytes(req.headers['content-type'], bytes);
          res.writeHead(file ? 200 : 404, { 'content-type': 'text/plain' });
          res.end(file ? `OK - ${bytes.length}` : 'not found');
        } else if (api?.[1] && (req.method === 'POST' || req.method === 'GET')) {
          onApi(req, res, api[1], raw, url.searchParams);
        } else if (url.pathname.startsWith('/response/') && req.method === 'POST') {
          onResponseUrl(req, res, url.pathname, raw);
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found');
        }
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake-slack crashed: ${error instanceof Error ? error.stack : String(error)}`);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  const describe = (): string => {
    const recent = calls.slice(-10).map((c) => `${c.method} → ${c.status}${c.error ? ` ${c.error}` : ''}`);
    return `calls (${calls.length}, last 10): [${recent.join(', ')}]; messages: ${messages.length}; responses: ${responses.length}`;
  };

  return {
    url: `${origin}/api/`,
    origin,
    calls,
    messages,
    ephemerals,
    views,
    responses,
    files,
    callsTo: (method) => calls.filter((c) => c.method === method),
    failNext(method, failure, times = 1) {
      const queue = failures.get(method) ?? [];
      queue.push({ failure, times });
      failures.set(method, queue);
    },
    responseUrl: (id) => `${origin}/response/${encodeURIComponent(id)}`,
    async waitFor<T>(predicate: () => T | Promise<T>, timeoutMs = 5000): Promise<NonNullable<T>> {
      const deadline = Date.now() + timeoutMs;
      let lastError: unknown;
      for (;;) {
        try {
          const value = await predicate();
          if (value) return value as NonNullable<T>;
        } catch (error) {
          lastError = error;
        }
        if (Date.now() >= deadline) {
          const cause = lastError instanceof Error ? ` (last predicate error: ${lastError.message})` : '';
          throw new Error(`fake Slack: condition not met within ${timeoutMs} ms${cause}; ${describe()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset() {
      calls.length = 0;
      messages.length = 0;
      ephemerals.length = 0;
      views.length = 0;
      responses.length = 0;
      files.length = 0;
      failures.clear();
      admitted.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// ---- request decoding ----

/** Slack's `limit`: 100 unless given, at most 999. */
function limitOf(value: unknown): number {
  const n = Number(value ?? 100);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 999) : 100;
}

/** A message as conversations.history lists it; its metadata only when asked for, as Slack does. */
function historyEntry(message: FakeSlackMessage, includeMetadata: unknown): Record<string, unknown> {
  return {
    type: 'message',
    ts: message.ts,
    text: message.text ?? '',
    ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    ...(message.metadata && (includeMetadata === true || includeMetadata === 'true') ? { metadata: message.metadata } : {}),
  };
}

/** chat.postMessage's `metadata`: undefined when absent, null when malformed. */
function metadataOf(value: unknown): FakeSlackMessage['metadata'] | null | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as { event_type?: unknown }).event_type !== 'string') return null;
  const { event_type, event_payload } = value as { event_type: string; event_payload?: unknown };
  if (event_payload !== undefined && (typeof event_payload !== 'object' || event_payload === null)) return null;
  return { event_type, ...(event_payload ? { event_payload: event_payload as Record<string, unknown> } : {}) };
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function maybeJson(value: string): unknown {
  const trimmed = value.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

function decodeQuery(query: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of query) out[key] = maybeJson(value);
  return out;
}

/** The body's fields, or undefined when a JSON body does not parse. */
function decodeBody(contentType: string | undefined, raw: string): Record<string, unknown> | undefined {
  if (raw === '') return {};
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return undefined;
    }
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? { ...(parsed as Record<string, unknown>) }
      : {};
  }
  // Slack's Web API takes form posts; treat anything else as a form too.
  return decodeQuery(new URLSearchParams(raw));
}

// ---- Block Kit limits ----

type Invalid = Answer | undefined;

function invalidBlocks(problem: string, pointer: string): Answer {
  return fail('invalid_blocks', {
    errors: [`${problem} [json-pointer:${pointer}]`],
    response_metadata: { messages: [`[ERROR] ${problem} [json-pointer:${pointer}]`] },
  });
}

function checkMessage(p: Record<string, unknown>): Invalid {
  const hasText = typeof p.text === 'string' && p.text !== '';
  const hasBlocks = p.blocks !== undefined && !(Array.isArray(p.blocks) && p.blocks.length === 0);
  if (!hasText && !hasBlocks && p.attachments === undefined) return fail('no_text');
  if (typeof p.text === 'string' && p.text.length > SLACK_LIMITS.messageText) return fail('msg_too_long');
  if (p.blocks !== undefined) return checkBlocks(p.blocks, SLACK_LIMITS.blocksPerMessage, '/blocks');
  return undefined;
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null && typeof (value as { text?: unknown }).text === 'string') {
    return (value as { text: string }).text;
  }
  return undefined;
}

function checkElement(element: unknown, pointer: string): Invalid {
  if (typeof element !== 'object' || element === null) return undefined;
  const e = element as Record<string, unknown>;
  if (typeof e.action_id === 'string' && e.action_id.length > SLACK_LIMITS.actionId) {
    return invalidBlocks(`must be less than ${SLACK_LIMITS.actionId + 1} characters`, `${pointer}/action_id`);
  }
  if (e.type === 'button') {
    const text = textOf(e.text);
    if (text !== undefined && text.length > SLACK_LIMITS.buttonText) {
      return invalidBlocks(`must be less than ${SLACK_LIMITS.buttonText + 1} characters`, `${pointer}/text/text`);
    }
  }
  return undefined;
}

function checkBlocks(blocks: unknown, maxBlocks: number, pointer: string): Invalid {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return fail('invalid_blocks_format');
  if (blocks.length > maxBlocks) return invalidBlocks(`no more than ${maxBlocks} items allowed`, pointer);
  for (const [i, block] of blocks.entries()) {
    const at = `${pointer}/${i}`;
    if (typeof block !== 'object' || block === null || typeof (block as { type?: unknown }).type !== 'string') {
      return invalidBlocks('missing required field: type', at);
    }
    const b = block as Record<string, unknown>;
    if (typeof b.block_id === 'string' && b.block_id.length > SLACK_LIMITS.blockId) {
      return invalidBlocks(`must be less than ${SLACK_LIMITS.blockId + 1} characters`, `${at}/block_id`);
    }
    if (b.type === 'section') {
      const text = textOf(b.text);
      if (text !== undefined && text.length > SLACK_LIMITS.sectionText) {
        return invalidBlocks(`must be less than ${SLACK_LIMITS.sectionText + 1} characters`, `${at}/text/text`);
      }
      if (Array.isArray(b.fields)) {
        if (b.fields.length > SLACK_LIMITS.sectionFields) {
          return invalidBlocks(`no more than ${SLACK_LIMITS.sectionFields} items allowed`, `${at}/fields`);
        }
        for (const [j, field] of b.fields.entries()) {
          const t = textOf(field);
          if (t !== undefined && t.length > SLACK_LIMITS.sectionFieldText) {
            return invalidBlocks(`must be less than ${SLACK_LIMITS.sectionFieldText + 1} characters`, `${at}/fields/${j}/text`);
          }
        }
      }
      const invalid = checkElement(b.accessory, `${at}/accessory`);
      if (invalid) return invalid;
    }
    if (b.type === 'header') {
      const text = textOf(b.text);
      if (text !== undefined && text.length > SLACK_LIMITS.headerText) {
        return invalidBlocks(`must be less than ${SLACK_LIMITS.headerText + 1} characters`, `${at}/text/text`);
      }
    }
    if (Array.isArray(b.elements)) {
      for (const [j, element] of b.elements.entries()) {
        const invalid = checkElement(element, `${at}/elements/${j}`);
        if (invalid) return invalid;
      }
    }
    if (b.type === 'input') {
      const invalid = checkElement(b.element, `${at}/element`);
      if (invalid) return invalid;
    }
  }
  return undefined;
}

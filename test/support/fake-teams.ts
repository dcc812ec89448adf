// A fake Microsoft Teams back end on loopback, for driving a real `@microsoft/teams.apps` App in tests.
// One origin plays three roles (see notes/slack-teams-platform.md §8–9):
//  - the Bot Framework token issuer: an RSA key served as JWKS at `/v1/.well-known/keys` (the Teams SDK
//    derives that URI from `cloud.openIdMetadataUrl`), plus `signToken()` for inbound activity tokens;
//  - an OAuth 2.0 token endpoint (`POST /oauth2/v2.0/token`, client credentials) for the bot's own token;
//  - the Bot Connector (`/v3/conversations/...`): sends, replies, updates, deletes, 1:1 chat creation and
//    member look-ups, with the 100 KB (UTF-16) message limit, rate limiting and injectable failures.
// Point an App at it with
//   cloud: withOverrides(PUBLIC, { openIdMetadataUrl: fake.openIdMetadataUrl }), serviceUrl: fake.serviceUrl
// and make inbound activities carry `serviceUrl: fake.serviceUrl` (replies go to the activity's serviceUrl).
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';

/** Limits the fake enforces (notes §9). */
export const TEAMS_LIMITS = {
  /** 100 KB counted in UTF-16 code units; the fake measures `JSON.stringify(body).length`. */
  messageChars: 102_400,
  /** Clock tolerance of the Teams SDK's inbound JWT check, in seconds (for reference). */
  sdkClockToleranceSeconds: 300,
} as const;

/** Which Bot Connector operation a call was (also the key for `failNext`). */
export type FakeTeamsKind = 'send' | 'update' | 'delete' | 'create' | 'members' | 'token';

/**
 * A failure to inject. The answer is `status` with body `{"error":{"code","message"}}` (the shape of Bot
 * Connector errors); `code` defaults by status (429 `Throttled`, 403 `Forbidden`, 404 `NotFound`,
 * 413 `MessageSizeTooBig`, 412 `PreconditionFailed`, 400 `BadArgument`, 401 `Unauthorized`, 5xx
 * `ServiceError`). `retryAfter` adds `Retry-After: <seconds>`. `body` replaces the whole body.
 * For kind `'token'` the body is the OAuth shape `{error: code ?? 'temporarily_unavailable', error_description}`.
 */
export interface FakeTeamsFailure {
  status: number;
  retryAfter?: number;
  code?: string;
  message?: string;
  body?: unknown;
}

export interface FakeTeamsCall {
  method: string;
  /** The path as it arrived (raw, not decoded), without the query string. */
  path: string;
  /** The query string without `?` (e.g. `isTargetedActivity=true`), if any. */
  query?: string;
  kind?: FakeTeamsKind;
  /** The conversation id, URL-decoded if it arrived encoded (may contain `;messageid=`). */
  conversationId?: string;
  /** For PUT/DELETE the activity id; for `POST …/activities/{replyToId}` the replied-to id; for members the user id. */
  activityId?: string;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
  /** The raw `Authorization` header. */
  authorization?: string;
  /** The bearer token from `Authorization`, if any. */
  token?: string;
  /** The HTTP status the fake answered with. */
  status: number;
  /** The `error.code` of an error answer. */
  errorCode?: string;
  /** `Date.now()` when the request arrived. */
  at: number;
}

export interface FakeTeamsActivity {
  /** The conversation id exactly as posted (decoded), e.g. `19:x@thread.tacv2;messageid=123`. */
  conversationId: string;
  /** `conversationId` without `;messageid=…`. */
  baseConversationId: string;
  /** The `messageid` of a threaded conversation id, if any. */
  threadId?: string;
  /** The id the fake assigned (e.g. `1700000000001`). */
  id: string;
  /** From the path (`…/activities/{replyToId}`) or the body. */
  replyToId?: string;
  /** The latest body (PUTs replace it). */
  body: Record<string, unknown>;
  /** How many PUTs changed it. */
  edits: number;
  deleted: boolean;
  at: number;
}

export interface FakeTeamsUpdate {
  conversationId: string;
  activityId: string;
  body: Record<string, unknown>;
  at: number;
}

export interface FakeTeamsConversation {
  id: string;
  /** The create-conversation request body. */
  body: Record<string, unknown>;
  at: number;
}

export interface FakeTeamsTokenRequest {
  grantType?: string;
  clientId?: string;
  clientSecret?: string;
  scope?: string;
  /** `'basic'` when the client credentials came in an HTTP Basic header (simple-oauth2's default). */
  authMethod: 'body' | 'basic';
  status: number;
  at: number;
}

export interface FakeTeamsMember {
  id: string;
  name: string;
  aadObjectId: string;
  givenName?: string;
  surname?: string;
  email?: string;
  userPrincipalName?: string;
  tenantId?: string;
  userRole?: string;
  [key: string]: unknown;
}

export interface FakeTeamsOptions {
  /** When set, the token endpoint refuses another client_id with 401 `invalid_client`. */
  clientId?: string;
  /** When set, the token endpoint refuses another client_secret with 401 `invalid_client`. */
  clientSecret?: string;
  /** `expires_in` of issued tokens, seconds (default 3600). */
  tokenExpiresIn?: number;
  /** Member ids (`29:…`) the app is not installed for: creating a 1:1 chat with them answers 403 `BotNotInConversationRoster`. */
  notInstalledFor?: string[];
  /** `aadObjectId` by member id for `GET …/members/{id}` (default `'aad-' + id`). */
  aadObjectIds?: Record<string, string>;
  /** Other member fields by member id, merged over the generated ones. */
  members?: Record<string, Partial<FakeTeamsMember>>;
  /** Member ids by conversation id (without `;messageid=`) for `GET …/members` (default: none). */
  rosters?: Record<string, string[]>;
  /** Sliding 1 s window on sends; over it the fake answers 429 `Retry-After: 1` code `Throttled`. */
  rateLimit?: { perSecond: number; perConversation?: boolean };
  /** The first activity id handed out is `firstActivityId + 1` (default 1_700_000_000_000). */
  firstActivityId?: number;
  /** Connector calls must carry a token the token endpoint issued (default: any bearer is accepted). */
  onlyIssuedTokens?: boolean;
  /** Refuse (401) a bearer JWT whose `exp` has passed (default true). */
  checkTokenExpiry?: boolean;
  /** Generate new RSA keys for this fake instead of the pair shared by fakes in this process. */
  freshKeys?: boolean;
  /** `kid` of the issuer key (default `fake-teams-key-1`). */
  kid?: string;
}

export interface SignTokenOptions {
  /** `aud`: the bot's client id (or `api://botid-<id>`, `api://<id>`). */
  audience: string | string[];
  /** The `serviceurl` claim; omitted when undefined. */
  serviceUrl?: string;
  /** `iss` (default `https://api.botframework.com`). */
  issuer?: string;
  /** `exp` = now + this (default 3600; negative for an expired token). */
  expiresInSeconds?: number;
  /** `nbf` = now + this, when given (positive for a not-yet-valid token). */
  notBefore?: number;
  /** Header `kid` (default the issuer key's kid). */
  kid?: string;
  /** Sign with this key instead of the issuer's. */
  privateKey?: KeyObject;
  /** Extra claims, merged last. */
  claims?: Record<string, unknown>;
}

export interface FakeTeams {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** Same as `origin`: the Bot Connector base (the App's `serviceUrl`, and activities' `serviceUrl`). */
  serviceUrl: string;
  /** `${origin}/v1/.well-known/openidconfiguration`: pass as the cloud's `openIdMetadataUrl`. */
  openIdMetadataUrl: string;
  /** `${origin}/v1/.well-known/keys`. */
  jwksUri: string;
  /** `${origin}/oauth2/v2.0/token`. */
  tokenUrl: string;
  /** The issuer key's `kid`. */
  kid: string;
  /** A Bot Framework-style inbound token signed (RS256) with the issuer key. */
  signToken(options: SignTokenOptions): string;
  /** Like `signToken`, but signed with another key (same `kid` unless given), so signature checks fail. */
  otherKeyToken(options: SignTokenOptions): string;
  /** Connector calls (not issuer or token-endpoint requests). */
  calls: FakeTeamsCall[];
  /** Every activity posted (sends, replies, and the `activity` of create-conversation requests). */
  activities: FakeTeamsActivity[];
  /** Every successful PUT. */
  updates: FakeTeamsUpdate[];
  /** Every successful create-conversation request. */
  conversations: FakeTeamsConversation[];
  tokenRequests: FakeTeamsTokenRequest[];
  /** Tokens the token endpoint issued. */
  issuedTokens: string[];
  /** How many times the JWKS (or the OpenID document) was fetched. */
  keyRequests: number;
  /** Calls of one kind. */
  callsOf(kind: FakeTeamsKind): FakeTeamsCall[];
  /**
   * Live activities in a conversation. An id without `;messageid=` matches the whole conversation (every
   * thread); an id with it matches that thread only.
   */
  activitiesIn(conversationId: string): FakeTeamsActivity[];
  /** Make the next `times` requests of `kind` fail. */
  failNext(kind: FakeTeamsKind, failure: FakeTeamsFailure, times?: number): void;
  /** Polls until `predicate()` is truthy and returns its value; rejects after `timeoutMs` (default 5000). */
  waitFor<T>(predicate: () => T | Promise<T>, timeoutMs?: number): Promise<NonNullable<T>>;
  /** Forget recorded calls, activities, token requests and pending failures (keys, options and the validity of issued tokens stay). */
  reset(): void;
  close(): Promise<void>;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string>; errorCode?: string };

const DEFAULT_CODES: Record<number, string> = {
  400: 'BadArgument',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  412: 'PreconditionFailed',
  413: 'MessageSizeTooBig',
  429: 'Throttled',
};

const DEFAULT_MESSAGES: Record<string, string> = {
  Throttled: 'Too many requests.',
  MessageSizeTooBig: 'Message size too large.',
  BotNotInConversationRoster: 'The bot is not part of the conversation roster.',
};

function errorAnswer(status: number, code?: string, message?: string, headers?: Record<string, string>): Answer {
  const c = code ?? DEFAULT_CODES[status] ?? (status >= 500 ? 'ServiceError' : 'BadRequest');
  return { status, body: { error: { code: c, message: message ?? DEFAULT_MESSAGES[c] ?? `Fake Teams error ${status}.` } }, headers, errorCode: c };
}

/** Connector 401, as the real Bot Connector words it. */
const DENIED: Answer = { status: 401, body: { message: 'Authorization has been denied for this request.' }, errorCode: 'Unauthorized' };

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** `;messageid=` split of a conversation id. */
export function splitConversationId(id: string): { base: string; threadId?: string } {
  const i = id.indexOf(';');
  if (i < 0) return { base: id };
  const base = id.slice(0, i);
  const match = /;messageid=([^;]*)/i.exec(id.slice(i));
  return match?.[1] ? { base, threadId: match[1] } : { base };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The payload of a JWT-shaped string, or undefined. */
function jwtPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

type KeyPair = { privateKey: KeyObject; publicKey: KeyObject };

const newRsaKey = (): KeyPair => generateKeyPairSync('rsa', { modulusLength: 2048 });

// RSA-2048 generation takes a noticeable fraction of a second, so fakes in one process share a pair of
// keys unless asked for fresh ones (each App's JWKS client is its own, so sharing cannot leak state).
let sharedKeys: { issuer: KeyPair; other: KeyPair } | undefined;

export async function startFakeTeams(options: FakeTeamsOptions = {}): Promise<FakeTeams> {
  const kid = options.kid ?? 'fake-teams-key-1';
  const keys = options.freshKeys ? { issuer: newRsaKey(), other: newRsaKey() } : (sharedKeys ??= { issuer: newRsaKey(), other: newRsaKey() });
  const issuerKey = keys.issuer;
  const otherKey = keys.other;
  const jwk = issuerKey.publicKey.export({ format: 'jwk' });
  const tokenExpiresIn = options.tokenExpiresIn ?? 3600;
  const notInstalled = new Set(options.notInstalledFor ?? []);
  const firstActivityId = options.firstActivityId ?? 1_700_000_000_000;
  const checkExpiry = options.checkTokenExpiry ?? true;

  const calls: FakeTeamsCall[] = [];
  const activities: FakeTeamsActivity[] = [];
  const updates: FakeTeamsUpdate[] = [];
  const conversations: FakeTeamsConversation[] = [];
  const tokenRequests: FakeTeamsTokenRequest[] = [];
  const issuedTokens: string[] = [];
  const issued = new Set<string>();
  const failures = new Map<FakeTeamsKind, { failure: FakeTeamsFailure; times: number }[]>();
  const admitted = new Map<string, number[]>();
  let activityCounter = 0;
  let origin = '';

  const fake = {} as FakeTeams;

  const sign = (o: SignTokenOptions, key: KeyObject): string => {
    const now = nowSeconds();
    const payload: Record<string, unknown> = {
      iss: o.issuer ?? BOT_FRAMEWORK_ISSUER,
      aud: o.audience,
      iat: now,
      exp: now + (o.expiresInSeconds ?? 3600),
    };
    if (o.serviceUrl !== undefined) payload.serviceurl = o.serviceUrl;
    if (o.notBefore !== undefined) payload.nbf = now + o.notBefore;
    Object.assign(payload, o.claims ?? {});
    return jwt.sign(payload, key, { algorithm: 'RS256', keyid: o.kid ?? kid });
  };

  const takeFailure = (kind: FakeTeamsKind): FakeTeamsFailure | undefined => {
    const queue = failures.get(kind);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.times -= 1;
    if (head.times <= 0) queue.shift();
    return head.failure;
  };

  const failureAnswer = (f: FakeTeamsFailure): Answer => {
    const headers: Record<string, string> = {};
    if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
    const answer = errorAnswer(f.status, f.code, f.message, headers);
    if (f.body !== undefined) answer.body = f.body;
    return answer;
  };

  const overRateLimit = (conversationId: string, now: number): boolean => {
    const limit = options.rateLimit;
    if (!limit) return false;
    const key = limit.perConversation ? conversationId : '*';
    const recent = (admitted.get(key) ?? []).filter((t) => now - t < 1000);
    if (recent.length >= limit.perSecond) {
      admitted.set(key, recent);
      return true;
    }
    recent.push(now);
    admitted.set(key, recent);
    return false;
  };

  const memberFor = (id: string): FakeTeamsMember => ({
    id,
    name: `User ${id}`,
    aadObjectId: options.aadObjectIds?.[id] ?? `aad-${id}`,
    userRole: 'user',
    ...(options.members?.[id] ?? {}),
  });

  const tooBig = (body: unknown): boolean => JSON.stringify(body ?? null).length > TEAMS_LIMITS.messageChars;

  const storeActivity = (conversationId: string, body: Record<string, unknown>, replyToId: string | undefined, now: number): FakeTeamsActivity => {
    activityCounter += 1;
    const { base, threadId } = splitConversationId(conversationId);
    const stored: FakeTeamsActivity = {
      conversationId,
      baseConversationId: base,
      id: String(firstActivityId + activityCounter),
      body,
      edits: 0,
      deleted: false,
      at: now,
    };
    if (threadId !== undefined) stored.threadId = threadId;
    const reply = replyToId ?? (typeof body.replyToId === 'string' ? body.replyToId : undefined);
    if (reply !== undefined) stored.replyToId = reply;
    activities.push(stored);
    return stored;
  };

  const findActivity = (conversationId: string, id: string): FakeTeamsActivity | undefined => {
    const { base } = splitConversationId(conversationId);
    return activities.find((a) => a.id === id && a.baseConversationId === base && !a.deleted);
  };

  // ---- Bot Connector ----

  const connector = (method: string, rawPath: string, body: unknown, call: FakeTeamsCall, now: number): Answer => {
    const rest = rawPath.slice('/v3/conversations'.length);
    let kind: FakeTeamsKind | undefined;
    let conversationId: string | undefined;
    let second: string | undefined;

    if (rest === '' || rest === '/') {
      if (method === 'POST') kind = 'create';
    } else {
      const activitiesMatch = /^\/(.+?)\/activities(?:\/([^/]+))?\/?$/.exec(rest);
      const membersMatch = /^\/(.+?)\/(?:members|pagedMembers)(?:\/([^/]+))?\/?$/.exec(rest);
      if (activitiesMatch?.[1]) {
        conversationId = safeDecode(activitiesMatch[1]);
        second = activitiesMatch[2] === undefined ? undefined : safeDecode(activitiesMatch[2]);
        if (method === 'POST') kind = 'send';
        else if (method === 'PUT' && second) kind = 'update';
        else if (method === 'DELETE' && second) kind = 'delete';
      } else if (membersMatch?.[1] && method === 'GET') {
        conversationId = safeDecode(membersMatch[1]);
        second = membersMatch[2] === undefined ? undefined : safeDecode(membersMatch[2]);
        kind = 'members';
      }
    }
    if (kind) call.kind = kind;
    if (conversationId !== undefined) call.conversationId = conversationId;
    if (second !== undefined) call.activityId = second;
    if (!kind) return errorAnswer(404, 'NotFound', `No fake route for ${method} ${rawPath}.`);

    // Authorization: a bearer token is required on every connector call.
    const token = call.token;
    if (!token || token === 'null' || token === 'undefined') return DENIED;
    if (options.onlyIssuedTokens && !issued.has(token)) return DENIED;
    if (checkExpiry) {
      const exp = jwtPayload(token)?.exp;
      if (typeof exp === 'number' && exp < nowSeconds()) return DENIED;
    }

    const injected = takeFailure(kind);
    if (injected) return failureAnswer(injected);

    const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    switch (kind) {
      case 'send': {
        const cid = conversationId ?? '';
        if (overRateLimit(splitConversationId(cid).base, now)) {
          return errorAnswer(429, 'Throttled', undefined, { 'retry-after': '1' });
        }
        if (typeof body !== 'object' || body === null) return errorAnswer(400, 'BadArgument', 'Activity body is required.');
        if (tooBig(body)) return errorAnswer(413, 'MessageSizeTooBig');
        const stored = storeActivity(cid, b, second, now);
        return { status: 201, body: { id: stored.id } };
      }
      case 'update': {
        const cid = conversationId ?? '';
        const id = second ?? '';
        if (typeof body !== 'object' || body === null) return errorAnswer(400, 'BadArgument', 'Activity body is required.');
        if (tooBig(body)) return errorAnswer(413, 'MessageSizeTooBig');
        const existing = findActivity(cid, id);
        if (existing) {
          existing.body = b;
          existing.edits += 1;
        }
        updates.push({ conversationId: cid, activityId: id, body: b, at: now });
        return { status: 200, body: { id } };
      }
      case 'delete': {
        const existing = findActivity(conversationId ?? '', second ?? '');
        if (existing) existing.deleted = true;
        return { status: 200 };
      }
      case 'create': {
        const members = Array.isArray(b.members) ? (b.members as { id?: unknown }[]) : [];
        const first = members[0];
        if (!first || typeof first.id !== 'string') return errorAnswer(400, 'BadArgument', 'Conversation members are required.');
        const channelData = b.channelData as { tenant?: { id?: unknown } } | undefined;
        if (typeof b.tenantId !== 'string' && typeof channelData?.tenant?.id !== 'string') {
          return errorAnswer(400, 'BadArgument', 'A tenant id is required.');
        }
        const blocked = members.find((m) => typeof m.id === 'string' && notInstalled.has(m.id));
        if (blocked) return errorAnswer(403, 'BotNotInConversationRoster');
        const id = `a:1:1-${first.id}`;
        conversations.push({ id, body: b, at: now });
        const answer: Record<string, unknown> = { id };
        if (typeof b.activity === 'object' && b.activity !== null) {
          if (tooBig(b.activity)) return errorAnswer(413, 'MessageSizeTooBig');
          answer.activityId = storeActivity(id, b.activity as Record<string, unknown>, undefined, now).id;
        }
        return { status: 201, body: answer };
      }
      case 'members': {
        if (second !== undefined) return { status: 200, body: memberFor(second) };
        const roster = (options.rosters?.[splitConversationId(conversationId ?? '').base] ?? []).map(memberFor);
        return { status: 200, body: rawPath.includes('/pagedMembers') ? { members: roster } : roster };
      }
      default:
        return errorAnswer(404, 'NotFound');
    }
  };

  // ---- token endpoint ----

  const tokenEndpoint = (req: IncomingMessage, raw: string, now: number): Answer => {
    const form = new URLSearchParams(raw);
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    let authMethod: FakeTeamsTokenRequest['authMethod'] = 'body';
    const auth = req.headers.authorization;
    if (auth?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
      const formDecode = (s: string): string => safeDecode(s.replace(/\+/g, ' '));
      clientId = formDecode(i < 0 ? decoded : decoded.slice(0, i));
      clientSecret = i < 0 ? '' : formDecode(decoded.slice(i + 1));
      authMethod = 'basic';
    }
    const record: FakeTeamsTokenRequest = {
      grantType: form.get('grant_type') ?? undefined,
      clientId,
      clientSecret,
      scope: form.get('scope') ?? undefined,
      authMethod,
      status: 0,
      at: now,
    };
    const answer = ((): Answer => {
      const injected = takeFailure('token');
      if (injected) {
        const headers: Record<string, string> = {};
        if (injected.retryAfter !== undefined) headers['retry-after'] = String(injected.retryAfter);
        return {
          status: injected.status,
          headers,
          body: injected.body ?? { error: injected.code ?? 'temporarily_unavailable', error_description: injected.message ?? 'Fake token endpoint failure.' },
          errorCode: injected.code ?? 'temporarily_unavailable',
        };
      }
      if (record.grantType !== 'client_credentials') {
        return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Only client_credentials is supported.' }, errorCode: 'unsupported_grant_type' };
      }
      if (!clientId) return { status: 400, body: { error: 'invalid_request', error_description: 'client_id is required.' }, errorCode: 'invalid_request' };
      if ((options.clientId !== undefined && clientId !== options.clientId) || (options.clientSecret !== undefined && clientSecret !== options.clientSecret)) {
        return {
          status: 401,
          body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7_000_215] },
          errorCode: 'invalid_client',
        };
      }
      const iat = nowSeconds();
      const accessToken = jwt.sign(
        {
          aud: 'https://api.botframework.com',
          iss: 'https://sts.windows.net/fake-tenant/',
          appid: clientId,
          scp: record.scope,
          iat,
          nbf: iat,
          exp: iat + tokenExpiresIn,
          jti: randomUUID(),
        },
        issuerKey.privateKey,
        { algorithm: 'RS256', keyid: kid },
      );
      issued.add(accessToken);
      issuedTokens.push(accessToken);
      return { status: 200, body: { token_type: 'Bearer', expires_in: tokenExpiresIn, ext_expires_in: tokenExpiresIn, access_token: accessToken } };
    })();
    record.status = answer.status;
    tokenRequests.push(record);
    return answer;
  };

  // ---- HTTP ----

  const send = (res: ServerResponse, answer: Answer): void => {
    const headers: Record<string, string> = { ...(answer.headers ?? {}) };
    if (answer.body === undefined) {
      res.writeHead(answer.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(answer.body);
    headers['content-type'] = 'application/json; charset=utf-8';
    res.writeHead(answer.status, headers);
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const now = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? undefined : url.slice(q + 1);

    if (method === 'GET' && rawPath === '/v1/.well-known/keys') {
      fake.keyRequests += 1;
      send(res, { status: 200, body: { keys: [{ kty: 'RSA', n: jwk.n, e: jwk.e, kid, use: 'sig', alg: 'RS256' }] } });
      return;
    }
    if (method === 'GET' && rawPath === '/v1/.well-known/openidconfiguration') {
      fake.keyRequests += 1;
      send(res, {
        status: 200,
        body: {
          issuer: BOT_FRAMEWORK_ISSUER,
          authorization_endpoint: `${origin}/v1/.well-known/authorize`,
          jwks_uri: `${origin}/v1/.well-known/keys`,
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
        },
      });
      return;
    }
    if (method === 'POST' && rawPath === '/oauth2/v2.0/token') {
      send(res, tokenEndpoint(req, raw, now));
      return;
    }
    if (rawPath === '/v3/conversations' || rawPath.startsWith('/v3/conversations/')) {
      let body: unknown;
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
      }
      const authorization = req.headers.authorization;
      const call: FakeTeamsCall = { method, path: rawPath, body, status: 0, at: now };
      if (query !== undefined) call.query = query;
      if (authorization !== undefined) {
        call.authorization = authorization;
        const m = /^Bearer\s+(.*)$/i.exec(authorization);
        if (m?.[1] !== undefined) call.token = m[1].trim();
      }
      const answer =
        typeof body === 'string' ? errorAnswer(400, 'BadSyntax', 'The request body is not JSON.') : connector(method, rawPath, body, call, now);
      call.status = answer.status;
      if (answer.errorCode !== undefined) call.errorCode = answer.errorCode;
      calls.push(call);
      send(res, answer);
      return;
    }
    send(res, errorAnswer(404, 'NotFound', `No fake route for ${method} ${rawPath}.`));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, errorAnswer(500, 'ServiceError', String(error)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  Object.assign(fake, {
    origin,
    serviceUrl: origin,
    openIdMetadataUrl: `${origin}/v1/.well-known/openidconfiguration`,
    jwksUri: `${origin}/v1/.well-known/keys`,
    tokenUrl: `${origin}/oauth2/v2.0/token`,
    kid,
    signToken: (o: SignTokenOptions) => sign(o, o.privateKey ?? issuerKey.privateKey),
    otherKeyToken: (o: SignTokenOptions) => sign(o, o.privateKey ?? otherKey.privateKey),
    calls,
    activities,
    updates,
    conversations,
    tokenRequests,
    issuedTokens,
    keyRequests: 0,
    callsOf: (kind: FakeTeamsKind) => calls.filter((c) => c.kind === kind),
    activitiesIn(conversationId: string) {
      const wanted = splitConversationId(conversationId);
      return activities.filter(
        (a) =>
          !a.deleted &&
          a.baseConversationId === wanted.base &&
          (wanted.threadId === undefined || a.threadId === wanted.threadId),
      );
    },
    failNext(kind: FakeTeamsKind, failure: FakeTeamsFailure, times = 1) {
      const queue = failures.get(kind) ?? [];
      queue.push({ failure, times });
      failures.set(kind, queue);
    },
    async waitFor<T>(predicate: () => T | Promise<T>, timeoutMs = 5000): Promise<NonNullable<T>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await predicate();
        if (value) return value as NonNullable<T>;
        if (Date.now() > deadline) throw new Error(`fake Teams: waitFor timed out after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset() {
      calls.length = 0;
      activities.length = 0;
      updates.length = 0;
      conversations.length = 0;
      tokenRequests.length = 0;
      issuedTokens.length = 0;
      failures.clear();
      admitted.clear();
      fake.keyRequests = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  } satisfies FakeTeams);
  return fake;
}

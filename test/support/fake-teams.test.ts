// Tests of the fake Teams back end (issuer, token endpoint, Bot Connector) and the inbound-activity
// builders, driving a real `@microsoft/teams.apps` 2.0.16 App on loopback, so the fake is held to what
// the SDK actually validates and sends.
import { createPublicKey } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { PUBLIC, withOverrides } from '@microsoft/teams.api';
import { App, ExpressAdapter, type AppOptions, type IPlugin } from '@microsoft/teams.apps';
import express from 'express';
import jwt from 'jsonwebtoken';
import { ClientCredentials } from 'simple-oauth2';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTeams, type FakeTeams, type FakeTeamsOptions, type SignTokenOptions } from './fake-teams.js';
import {
  cardAction,
  channelMessage,
  dialogFetch,
  invokeActivity,
  personalMessage,
  postActivity,
  type ChannelMessageOptions,
} from './teams-requests.js';

const CLIENT_ID = 'test-bot-id';
const TENANT = 'test-tenant';
const CHANNEL = '19:abc123@thread.tacv2';
const ALICE_AAD = '11111111-aaaa-4aaa-8aaa-111111111111';

type Logger = NonNullable<AppOptions<IPlugin>['logger']>;

/** A logger that keeps SDK output out of the test log but remembers errors. */
function quietLogger(errors: unknown[][]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (...msg: unknown[]) => void errors.push(msg),
    trace: () => undefined,
    log: () => undefined,
    child: () => logger,
  };
  return logger;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) await cleanup();
});

async function fakeTeams(options?: FakeTeamsOptions): Promise<FakeTeams> {
  const fake = await startFakeTeams(options);
  cleanups.push(() => fake.close());
  return fake;
}

/** The bot's outbound token, by the client-credentials grant against the fake token endpoint. */
async function fetchBotToken(fake: FakeTeams, scope: string): Promise<string> {
  const res = await fetch(fake.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'shh', scope }),
  });
  if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

interface Harness {
  fake: FakeTeams;
  app: App;
  /** `http://127.0.0.1:PORT/api/messages`. */
  endpoint: string;
  /** Activities the `message` handler saw. */
  messages: Record<string, unknown>[];
  /** Errors the App emitted (its `error` event). */
  appErrors: unknown[];
  logged: unknown[][];
  /** Calls of the App's `token` option. */
  tokenCalls: { scope: string | string[]; tenantId?: string }[];
  /** A correctly signed inbound token (override any claim). */
  token(overrides?: Partial<SignTokenOptions>): string;
  /** A channel message from Alice to the bot, addressed to the fake. */
  message(overrides?: Partial<ChannelMessageOptions>): Record<string, unknown>;
}

/**
 * A real Teams SDK App on an Express app we listen on ourselves (port 0), pointed at a fresh fake.
 * By default `message` replies `pong`; `configure` may register more routes.
 */
async function startHarness(
  o: { fake?: FakeTeamsOptions; configure?: (app: App, h: Harness) => void; noDefaultMessage?: boolean } = {},
): Promise<Harness> {
  const fake = await fakeTeams(o.fake);
  const logged: unknown[][] = [];
  const tokenCalls: Harness['tokenCalls'] = [];
  const expressApp = express();
  const app = new App({
    clientId: CLIENT_ID,
    tenantId: TENANT,
    token: async (scope, tenantId) => {
      tokenCalls.push(tenantId === undefined ? { scope } : { scope, tenantId });
      return fetchBotToken(fake, Array.isArray(scope) ? scope.join(' ') : scope);
    },
    cloud: withOverrides(PUBLIC, { openIdMetadataUrl: fake.openIdMetadataUrl }),
    serviceUrl: fake.serviceUrl,
    httpServerAdapter: new ExpressAdapter(expressApp),
    logger: quietLogger(logged),
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = expressApp.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  const h: Harness = {
    fake,
    app,
    endpoint: `http://127.0.0.1:${port}/api/messages`,
    messages: [],
    appErrors: [],
    logged,
    tokenCalls,
    token: (overrides = {}) => fake.signToken({ audience: CLIENT_ID, serviceUrl: fake.serviceUrl, ...overrides }),
    message: (overrides = {}) =>
      channelMessage({
        text: 'ping',
        fromAadId: ALICE_AAD,
        fromName: 'Alice',
        conversationId: CHANNEL,
        tenantId: TENANT,
        serviceUrl: fake.serviceUrl,
        botId: CLIENT_ID,
        ...overrides,
      }),
  };
  app.event('error', ({ error }) => void h.appErrors.push(error));
  if (!o.noDefaultMessage) {
    app.on('message', async ({ activity, reply }) => {
      h.messages.push(activity as unknown as Record<string, unknown>);
      await reply('pong');
    });
  }
  o.configure?.(app, h);
  await app.initialize();
  return h;
}

interface AxiosLikeError {
  name?: string;
  isAxiosError?: boolean;
  response?: { status: number; headers: Record<string, string>; data: { error?: { code?: string; message?: string } } };
}

async function rejection(promise: Promise<unknown>): Promise<AxiosLikeError> {
  try {
    await promise;
  } catch (error) {
    return error as AxiosLikeError;
  }
  throw new Error('expected a rejection');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('fake Teams issuer and token endpoint', () => {
  it('serves an OpenID document and a JWKS whose key verifies signToken', async () => {
    const fake = await fakeTeams();
    const config = (await (await fetch(fake.openIdMetadataUrl)).json()) as { jwks_uri: string; issuer: string };
    expect(config.jwks_uri).toBe(fake.jwksUri);
    expect(config.issuer).toBe('https://api.botframework.com');
    const { keys } = (await (await fetch(fake.jwksUri)).json()) as { keys: Record<string, string>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', kid: fake.kid, use: 'sig', alg: 'RS256' });
    expect(fake.keyRequests).toBe(2);

    const publicKey = createPublicKey({ key: { kty: 'RSA', n: keys[0]!.n!, e: keys[0]!.e! }, format: 'jwk' });
    const token = fake.signToken({ audience: CLIENT_ID, serviceUrl: fake.serviceUrl });
    const claims = jwt.verify(token, publicKey, { audience: CLIENT_ID, issuer: 'https://api.botframework.com' }) as jwt.JwtPayload;
    expect(claims.serviceurl).toBe(fake.serviceUrl);
    expect(jwt.decode(token, { complete: true })?.header.kid).toBe(fake.kid);
    expect(() => jwt.verify(fake.otherKeyToken({ audience: CLIENT_ID }), publicKey)).toThrow(/invalid signature/);
  });

  it('issues JWT-shaped client-credentials tokens and records the requests', async () => {
    const fake = await fakeTeams({ clientSecret: 'shh', tokenExpiresIn: 120 });
    const token = await fetchBotToken(fake, 'https://api.botframework.com/.default');
    const payload = jwt.decode(token) as jwt.JwtPayload;
    expect(payload.exp! - Math.floor(Date.now() / 1000)).toBeGreaterThan(100);
    expect(payload.exp! - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(120);
    expect(fake.tokenRequests).toMatchObject([
      { grantType: 'client_credentials', clientId: CLIENT_ID, clientSecret: 'shh', scope: 'https://api.botframework.com/.default', authMethod: 'body', status: 200 },
    ]);
    expect(fake.issuedTokens).toEqual([token]);

    const wrong = await fetch(fake.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'nope' }),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('works with simple-oauth2 (client credentials in a Basic header)', async () => {
    const fake = await fakeTeams({ clientSecret: 's3cr:et+/' });
    const client = new ClientCredentials({
      client: { id: CLIENT_ID, secret: 's3cr:et+/' },
      auth: { tokenHost: fake.origin, tokenPath: '/oauth2/v2.0/token' },
    });
    const accessToken = await client.getToken({ scope: 'https://api.botframework.com/.default' });
    expect(accessToken.token.token_type).toBe('Bearer');
    expect(accessToken.token.expires_in).toBe(3600);
    expect(accessToken.expired()).toBe(false);
    expect(fake.tokenRequests[0]).toMatchObject({ authMethod: 'basic', clientId: CLIENT_ID, clientSecret: 's3cr:et+/' });

    fake.failNext('token', { status: 503 });
    await expect(client.getToken({ scope: 'x' })).rejects.toThrow();
  });
});

describe('inbound JWT validation by the real Teams SDK', () => {
  it('accepts a correctly signed activity and the reply reaches the fake connector with the bearer token', async () => {
    const h = await startHarness();
    const activity = h.message();
    const res = await postActivity(h.endpoint, activity, h.token());
    expect(res.status).toBe(200);
    expect(h.messages).toHaveLength(1);

    const conversationId = (activity.conversation as { id: string }).id;
    expect(conversationId).toBe(`${CHANNEL};messageid=${activity.id as string}`);
    const [reply] = await h.fake.waitFor(() => (h.fake.activitiesIn(CHANNEL).length ? h.fake.activitiesIn(CHANNEL) : undefined));
    // ctx.reply() posts into the incoming message's thread and quotes it.
    expect(reply!.conversationId).toBe(conversationId);
    expect(reply!.body).toMatchObject({ type: 'message', from: { id: `28:${CLIENT_ID}` } });
    expect(String(reply!.body.text)).toContain('pong');
    expect(String(reply!.body.text)).toContain(`<quoted messageId="${activity.id as string}"/>`);
    const call = h.fake.callsOf('send')[0]!;
    expect(call.method).toBe('POST');
    expect(call.path).toBe(`/v3/conversations/${conversationId}/activities`); // not URL-encoded
    expect(call.token).toBe(h.fake.issuedTokens.at(-1));
    expect(call.authorization).toBe(`Bearer ${call.token}`);
    expect(call.status).toBe(201);
    expect(h.tokenCalls[0]).toEqual({ scope: 'https://api.botframework.com/.default', tenantId: TENANT });
  });

  it('rejects missing, forged, misaddressed and expired tokens with 401', async () => {
    const h = await startHarness();
    const now = Math.floor(Date.now() / 1000);
    // [label, token, what the SDK logs as the reason]
    const cases: [string, string | undefined, RegExp | undefined][] = [
      ['no Authorization', undefined, undefined],
      ['wrong issuer', h.token({ issuer: 'https://sts.windows.net/evil/' }), /does not match allowed issuer/],
      ['signed with another key (same kid)', h.fake.otherKeyToken({ audience: CLIENT_ID, serviceUrl: h.fake.serviceUrl }), /invalid signature/],
      [
        'signed with another key (unknown kid)',
        h.fake.otherKeyToken({ audience: CLIENT_ID, serviceUrl: h.fake.serviceUrl, kid: 'other' }),
        /Unable to find a signing key that matches 'other'/,
      ],
      ['serviceurl claim differs from activity.serviceUrl', h.token({ serviceUrl: 'https://smba.trafficmanager.net/teams/' }), /Service URL mismatch/],
      ['no serviceurl claim', h.token({ serviceUrl: undefined }), /Token missing serviceurl claim/],
      ['expired 6 minutes ago', h.token({ expiresInSeconds: -360 }), /jwt expired/],
      ['not valid for another 10 minutes', h.token({ notBefore: 600 }), /jwt not active/],
      ['wrong audience', h.token({ audience: 'someone-else' }), /jwt audience invalid/],
      ['not a JWT', 'garbage', /jwt malformed/],
      [
        'HS256 signed',
        jwt.sign({ aud: CLIENT_ID, iss: 'https://api.botframework.com', serviceurl: h.fake.serviceUrl, exp: now + 600 }, 'secret'),
        /invalid algorithm/,
      ],
    ];
    for (const [label, token, reason] of cases) {
      h.logged.length = 0;
      const res = await postActivity(h.endpoint, h.message(), token);
      expect({ label, status: res.status }).toEqual({ label, status: 401 });
      expect(res.json).toEqual({ error: token === undefined ? 'Missing authorization header' : 'JWT validation failed' });
      if (reason) {
        const text = h.logged.flat().map((x) => (x instanceof Error ? x.message : String(x))).join('\n');
        expect({ label, text }).toEqual({ label, text: expect.stringMatching(reason) });
      }
    }
    expect(h.messages).toHaveLength(0);
    expect(h.fake.calls).toHaveLength(0);
  });

  it('accepts the 300 s clock tolerance, every allowed audience, and serviceUrl differing in case or trailing slash', async () => {
    const h = await startHarness();
    const accepted: [string, string][] = [
      ['expired 2 minutes ago', h.token({ expiresInSeconds: -120 })],
      ['nbf 2 minutes ahead', h.token({ notBefore: 120 })],
      ['aud api://botid-<clientId>', h.token({ audience: `api://botid-${CLIENT_ID}` })],
      ['aud api://<clientId>', h.token({ audience: `api://${CLIENT_ID}` })],
      ['serviceurl upper-case with a trailing slash', h.token({ serviceUrl: `${h.fake.serviceUrl.toUpperCase()}/` })],
    ];
    for (const [label, token] of accepted) {
      const res = await postActivity(h.endpoint, h.message(), token);
      expect({ label, status: res.status }).toEqual({ label, status: 200 });
    }
    expect(h.messages).toHaveLength(accepted.length);
    // The JWKS is fetched once and cached by jwks-rsa.
    expect(h.fake.keyRequests).toBe(1);
  });

  it('skips the serviceurl check when the activity carries no serviceUrl (replies then go to the claim)', async () => {
    const h = await startHarness();
    const activity = h.message();
    delete activity.serviceUrl;
    const res = await postActivity(h.endpoint, activity, h.token());
    expect(res.status).toBe(200);
    await h.fake.waitFor(() => h.fake.activitiesIn(CHANNEL).length === 1);
  });

  it('does not check the tenant: a signed activity from another tenant reaches the handler', async () => {
    const h = await startHarness();
    const res = await postActivity(h.endpoint, h.message({ tenantId: 'someone-elses-tenant' }), h.token());
    expect(res.status).toBe(200);
    expect(h.messages[0]).toMatchObject({ channelData: { tenant: { id: 'someone-elses-tenant' } } });
  });
});

describe('outbound calls from the real Teams SDK to the fake connector', () => {
  it('app.send reaches the fake proactively, flat or threaded, with increasing ids', async () => {
    const h = await startHarness();
    const first = await h.app.send(CHANNEL, 'hi');
    const threaded = `${CHANNEL};messageid=${first.id}`;
    const second = await h.app.send(threaded, { type: 'message', text: 'in thread' });
    expect(first.id).toBe('1700000000001');
    expect(second.id).toBe('1700000000002');
    expect(h.fake.callsOf('send').map((c) => c.path)).toEqual([`/v3/conversations/${CHANNEL}/activities`, `/v3/conversations/${threaded}/activities`]);
    expect(h.fake.activitiesIn(CHANNEL).map((a) => a.id)).toEqual(['1700000000001', '1700000000002']);
    expect(h.fake.activitiesIn(threaded).map((a) => a.body.text)).toEqual(['in thread']);
    expect(h.fake.activities[1]).toMatchObject({ baseConversationId: CHANNEL, threadId: first.id });
    expect(h.fake.activities[0]!.body).toMatchObject({ type: 'message', text: 'hi', from: { id: CLIENT_ID, role: 'bot' }, conversation: { id: CHANNEL } });
    // app.reply(conversationId, messageId, …) builds the threaded id itself.
    await h.app.reply(CHANNEL, first.id, 'via app.reply');
    expect(h.fake.callsOf('send')[2]!.conversationId).toBe(threaded);
    // The SDK asks the token option for a token on every send (no caching).
    expect(h.tokenCalls).toHaveLength(3);
    expect(h.fake.tokenRequests).toHaveLength(3);
  });

  it('a 429 injected on send surfaces at once as an AxiosError with status, Retry-After and code (no retry)', async () => {
    const h = await startHarness();
    h.fake.failNext('send', { status: 429, retryAfter: 7 });
    const error = await rejection(h.app.send(CHANNEL, 'hi'));
    expect(error.name).toBe('AxiosError');
    expect(error.isAxiosError).toBe(true);
    expect(error.response?.status).toBe(429);
    expect(error.response?.headers['retry-after']).toBe('7');
    expect(error.response?.data.error).toEqual({ code: 'Throttled', message: 'Too many requests.' });
    expect(h.fake.callsOf('send')).toMatchObject([{ status: 429, errorCode: 'Throttled' }]);
    expect(h.fake.activities).toHaveLength(0);
    // The failure was used up.
    await expect(h.app.send(CHANNEL, 'again')).resolves.toMatchObject({ id: '1700000000001' });
  });

  it('rate-limits sends per second with 429 Retry-After: 1', async () => {
    const h = await startHarness({ fake: { rateLimit: { perSecond: 2 } } });
    const results = await Promise.allSettled(['one', 'two', 'three'].map((text) => h.app.send(CHANNEL, text)));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    const error = refused[0]!.reason as AxiosLikeError;
    expect(error.response?.status).toBe(429);
    expect(error.response?.headers['retry-after']).toBe('1');
    expect(error.response?.data.error?.code).toBe('Throttled');
    expect(h.fake.activities).toHaveLength(2);
  });

  it('refuses messages over 100 KB counted in UTF-16 with 413 MessageSizeTooBig', async () => {
    const h = await startHarness();
    await h.app.send(CHANNEL, 'x'.repeat(90_000));
    // 52,000 emoji are 104,000 UTF-16 code units (but only 52,000 code points).
    const error = await rejection(h.app.send(CHANNEL, '😀'.repeat(52_000)));
    expect(error.response?.status).toBe(413);
    expect(error.response?.data).toEqual({ error: { code: 'MessageSizeTooBig', message: 'Message size too large.' } });
    expect(h.fake.activities).toHaveLength(1);
  });

  it('updates and deletes activities', async () => {
    const h = await startHarness();
    const sent = await h.app.send(CHANNEL, 'draft');
    await h.app.api.conversations.updateActivity(CHANNEL, sent.id, { type: 'message', text: 'final' });
    expect(h.fake.updates).toMatchObject([{ conversationId: CHANNEL, activityId: sent.id, body: { text: 'final' } }]);
    expect(h.fake.activities[0]).toMatchObject({ edits: 1, body: { text: 'final' } });
    expect(h.fake.callsOf('update')[0]).toMatchObject({ method: 'PUT', path: `/v3/conversations/${CHANNEL}/activities/${sent.id}`, status: 200 });
    // An activity with an id sent through app.send is an update too.
    await h.app.send(CHANNEL, { type: 'message', id: sent.id, text: 'final 2' });
    expect(h.fake.updates).toHaveLength(2);

    h.fake.failNext('update', { status: 404, code: 'ActivityNotFoundInConversation' });
    const error = await rejection(h.app.api.conversations.updateActivity(CHANNEL, sent.id, { type: 'message', text: 'x' }));
    expect(error.response?.data.error?.code).toBe('ActivityNotFoundInConversation');

    await h.app.api.conversations.deleteActivity(CHANNEL, sent.id);
    expect(h.fake.callsOf('delete')[0]).toMatchObject({ method: 'DELETE', activityId: sent.id, status: 200 });
    expect(h.fake.activitiesIn(CHANNEL)).toHaveLength(0);
    expect(h.fake.activities[0]!.deleted).toBe(true);
  });

  it('creates 1:1 conversations, refusing members without the app with 403 BotNotInConversationRoster', async () => {
    const h = await startHarness({ fake: { notInstalledFor: ['29:bob'] } });
    const created = await h.app.api.conversations.create({
      members: [{ id: '29:alice', name: 'Alice', role: 'user' }],
      tenantId: TENANT,
      channelData: { tenant: { id: TENANT } },
      isGroup: false,
    });
    expect(created.id).toBe('a:1:1-29:alice');
    expect(h.fake.conversations).toMatchObject([{ id: 'a:1:1-29:alice', body: { tenantId: TENANT, members: [{ id: '29:alice' }] } }]);
    const sent = await h.app.send(created.id, 'hello Alice');
    expect(h.fake.activitiesIn('a:1:1-29:alice').map((a) => a.id)).toEqual([sent.id]);

    const error = await rejection(
      h.app.api.conversations.create({ members: [{ id: '29:bob', name: 'Bob', role: 'user' }], tenantId: TENANT, channelData: { tenant: { id: TENANT } } }),
    );
    expect(error.response?.status).toBe(403);
    expect(error.response?.data.error?.code).toBe('BotNotInConversationRoster');

    h.fake.failNext('create', { status: 403, code: 'ConversationBlockedByUser' });
    const blocked = await rejection(h.app.api.conversations.create({ members: [{ id: '29:alice', name: 'Alice', role: 'user' }], tenantId: TENANT }));
    expect(blocked.response?.data.error?.code).toBe('ConversationBlockedByUser');
  });

  it('answers member look-ups with aadObjectId', async () => {
    const h = await startHarness({ fake: { aadObjectIds: { '29:alice': ALICE_AAD }, members: { '29:alice': { name: 'Alice' } } } });
    const alice = await h.app.api.conversations.getMemberById(CHANNEL, '29:alice');
    expect(alice).toMatchObject({ id: '29:alice', aadObjectId: ALICE_AAD, name: 'Alice' });
    const bob = await h.app.api.conversations.getMemberById(CHANNEL, '29:bob');
    expect(bob.aadObjectId).toBe('aad-29:bob');
    expect(h.fake.callsOf('members').map((c) => [c.path, c.activityId])).toEqual([
      [`/v3/conversations/${CHANNEL}/members/29:alice`, '29:alice'],
      [`/v3/conversations/${CHANNEL}/members/29:bob`, '29:bob'],
    ]);
    h.fake.failNext('members', { status: 404, code: 'MemberNotFoundInConversation' });
    const error = await rejection(h.app.api.conversations.getMemberById(CHANNEL, '29:carol'));
    expect(error.response?.status).toBe(404);
  });

  it('an uncaught send error in a handler makes the SDK answer the Bot Connector 500', async () => {
    const h = await startHarness();
    h.fake.failNext('send', { status: 403, code: 'BotNotInConversationRoster' });
    const res = await postActivity(h.endpoint, h.message(), h.token());
    expect(res.status).toBe(500);
    expect(h.appErrors).toHaveLength(1);
    expect((h.appErrors[0] as AxiosLikeError).response?.status).toBe(403);
  });
});

describe('fake connector without the SDK', () => {
  it('accepts URL-encoded conversation ids and the ReplyToActivity path, decoding them', async () => {
    const fake = await fakeTeams();
    const encoded = encodeURIComponent(`${CHANNEL};messageid=42`);
    const res = await fetch(`${fake.serviceUrl}/v3/conversations/${encoded}/activities/42`, {
      method: 'POST',
      headers: { authorization: 'Bearer anything', 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', text: 'botbuilder style' }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: '1700000000001' });
    expect(fake.calls[0]).toMatchObject({ kind: 'send', conversationId: `${CHANNEL};messageid=42`, activityId: '42' });
    expect(fake.activitiesIn(`${CHANNEL};messageid=42`)).toMatchObject([{ replyToId: '42', threadId: '42', body: { text: 'botbuilder style' } }]);
  });

  it('requires a bearer token on connector calls (and an unexpired one; optionally one it issued)', async () => {
    const fake = await fakeTeams({ onlyIssuedTokens: true });
    const post = (authorization?: string) =>
      fetch(`${fake.serviceUrl}/v3/conversations/${CHANNEL}/activities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ type: 'message', text: 'x' }),
      });
    expect((await post()).status).toBe(401);
    expect((await post('Bearer null')).status).toBe(401);
    expect((await post('Bearer not-issued')).status).toBe(401);
    const expired = fake.signToken({ audience: 'x', expiresInSeconds: -10 });
    expect((await post(`Bearer ${expired}`)).status).toBe(401);
    const issued = await fetchBotToken(fake, 'https://api.botframework.com/.default');
    expect((await post(`Bearer ${issued}`)).status).toBe(201);
    expect(fake.calls.map((c) => c.status)).toEqual([401, 401, 401, 401, 201]);
    expect(fake.calls[1]!.authorization).toBe('Bearer null');
  });
});

describe('inbound builders against the SDK router', () => {
  it('builds channel messages with bot and people mentions the SDK understands', async () => {
    const h = await startHarness();
    const activity = h.message({ text: 'assign <at>Bob</at> to review', mentions: [{ id: '29:bob', name: 'Bob' }] });
    expect(activity).toMatchObject({
      type: 'message',
      channelId: 'msteams',
      text: '<at>dmm</at> assign <at>Bob</at> to review',
      recipient: { id: `28:${CLIENT_ID}`, name: 'dmm' },
      from: { id: `29:${ALICE_AAD}`, aadObjectId: ALICE_AAD, name: 'Alice' },
      conversation: { conversationType: 'channel', tenantId: TENANT },
      channelData: { tenant: { id: TENANT }, channel: { id: CHANNEL }, team: { id: CHANNEL } },
    });
    expect((await postActivity(h.endpoint, activity, h.token())).status).toBe(200);
    // The handler gets the SDK's MessageActivity, whose mention helpers understand the builder's entities.
    const seen = h.messages[0] as unknown as {
      entities: { type: string; mentioned?: { id: string } }[];
      isRecipientMentioned(): boolean;
      clone(): { stripMentionsText(o?: { accountId?: string }): { text: string } };
    };
    expect(seen.entities.filter((e) => e.type === 'mention').map((e) => e.mentioned?.id)).toEqual([`28:${CLIENT_ID}`, '29:bob']);
    expect(seen.isRecipientMentioned()).toBe(true);
    expect(seen.clone().stripMentionsText({ accountId: `28:${CLIENT_ID}` }).text).toBe('assign <at>Bob</at> to review');
    // Without options every mention goes, tag and name, the person's too (leaving a double space).
    expect(seen.clone().stripMentionsText().text).toBe('assign  to review');
  });

  it('routes a thread reply and a personal message', async () => {
    const h = await startHarness();
    const reply = h.message({ text: 'in a thread', replyToId: '1699999999999' });
    expect(reply).toMatchObject({ replyToId: '1699999999999', conversation: { id: `${CHANNEL};messageid=1699999999999` } });
    const dm = personalMessage({ text: 'hello', fromAadId: ALICE_AAD, tenantId: TENANT, serviceUrl: h.fake.serviceUrl, botId: CLIENT_ID });
    expect(dm).toMatchObject({ text: 'hello', conversation: { id: `a:1:1-29:${ALICE_AAD}`, conversationType: 'personal' } });
    expect((await postActivity(h.endpoint, reply, h.token())).status).toBe(200);
    expect((await postActivity(h.endpoint, dm, h.token())).status).toBe(200);
    expect(h.messages.map((m) => (m.conversation as { id: string }).id)).toEqual([`${CHANNEL};messageid=1699999999999`, `a:1:1-29:${ALICE_AAD}`]);
    await h.fake.waitFor(() => h.fake.activitiesIn(`a:1:1-29:${ALICE_AAD}`).length === 1);
    expect(h.fake.activitiesIn(`${CHANNEL};messageid=1699999999999`)).toHaveLength(1);
  });

  it('returns what invoke handlers return as the HTTP body (card.action, dialog.open, sub-routes)', async () => {
    const h = await startHarness({
      configure: (app) => {
        app.on('card.action', async ({ activity }) => ({
          statusCode: 200,
          type: 'application/vnd.microsoft.activity.message',
          value: `done ${activity.value.action.verb}`,
        }));
        app.on('dialog.open', async () => ({ task: { type: 'message', value: 'opened' } }));
        app.on('dialog.submit', async () => ({ status: 400, body: { task: { type: 'message', value: 'bad' } } }));
      },
    });
    const who = { fromAadId: ALICE_AAD, tenantId: TENANT, serviceUrl: h.fake.serviceUrl, botId: CLIENT_ID };

    const card = cardAction('complete', { actionId: 'A-1' }, { ...who, conversationId: CHANNEL, replyToId: '1700000000005' });
    expect(card).toMatchObject({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'complete', data: { actionId: 'A-1' } } } });
    const cardRes = await postActivity(h.endpoint, card, h.token());
    expect(cardRes.status).toBe(200);
    expect(cardRes.json).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'done complete' });

    const open = await postActivity(h.endpoint, dialogFetch({ kind: 'record' }, who), h.token());
    expect(open).toMatchObject({ status: 200, json: { task: { type: 'message', value: 'opened' } } });

    // Returning {status, body} sets the HTTP status.
    const submit = await postActivity(h.endpoint, invokeActivity('task/submit', { data: { x: 1 } }, who), h.token());
    expect(submit).toMatchObject({ status: 400, json: { task: { value: 'bad' } } });

    // An invoke nobody handles is answered 200 with an empty body.
    const unhandled = await postActivity(h.endpoint, invokeActivity('composeExtension/query', {}, who), h.token());
    expect(unhandled).toMatchObject({ status: 200, body: '' });
  });

  it('routes card.action.<data.action> and dialog.open.<data.dialog_id> sub-routes', async () => {
    const h = await startHarness({
      configure: (app) => {
        app.on('card.action.complete', async () => ({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'sub' }));
        app.on('dialog.open.record', async () => ({ task: { type: 'message', value: 'record dialog' } }));
      },
    });
    const who = { fromAadId: ALICE_AAD, tenantId: TENANT, serviceUrl: h.fake.serviceUrl, botId: CLIENT_ID };
    const card = await postActivity(h.endpoint, cardAction('any-verb', { action: 'complete' }, who), h.token());
    expect(card.json).toMatchObject({ value: 'sub' });
    const open = await postActivity(h.endpoint, dialogFetch({ dialog_id: 'record' }, who), h.token());
    expect(open.json).toMatchObject({ task: { value: 'record dialog' } });
  });
});

describe('App.start on a real port', () => {
  it('app.start(port) listens (0 would mean 3978, so pick a free port first) and app.stop() closes', async () => {
    const fake = await fakeTeams();
    const port = await freePort();
    const logged: unknown[][] = [];
    const app = new App({
      clientId: CLIENT_ID,
      tenantId: TENANT,
      token: () => fetchBotToken(fake, 'https://api.botframework.com/.default'),
      cloud: withOverrides(PUBLIC, { openIdMetadataUrl: fake.openIdMetadataUrl }),
      serviceUrl: fake.serviceUrl,
      logger: quietLogger(logged),
    });
    app.on('message', async ({ send }) => {
      await send('started');
    });
    await app.start(port);
    cleanups.push(() => app.stop());
    const activity = channelMessage({ text: 'hi', fromAadId: ALICE_AAD, conversationId: CHANNEL, tenantId: TENANT, serviceUrl: fake.serviceUrl, botId: CLIENT_ID });
    const res = await postActivity(`http://127.0.0.1:${port}/api/messages`, activity, fake.signToken({ audience: CLIENT_ID, serviceUrl: fake.serviceUrl }));
    expect(res.status).toBe(200);
    await fake.waitFor(() => fake.activitiesIn(CHANNEL).find((a) => a.body.text === 'started'));
  });
});

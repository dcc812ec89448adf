// Tests of the fake Slack Web API and the signed-request helpers, driving a real Bolt 5 App
// (HTTPReceiver on loopback) against the fake, so the fake is held to what Bolt actually sends.
import type { AddressInfo } from 'node:net';
import { App, ErrorCode, LogLevel, RespondError, webApi, type BlockButtonAction, type Logger, type SlashCommand } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from './fake-slack.js';
import {
  blockActionPayload,
  blockActionsBody,
  nowSeconds,
  postToSlackApp,
  signSlackRequest,
  slashCommandBody,
  viewSubmissionBody,
  viewSubmissionPayload,
} from './slack-requests.js';

const SIGNING_SECRET = 'test-signing-secret';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) await cleanup();
});

async function fakeSlack(options?: FakeSlackOptions): Promise<FakeSlack> {
  const fake = await startFakeSlack(options);
  cleanups.push(() => fake.close());
  return fake;
}

interface Seen {
  commands: SlashCommand[];
  retryNums: (number | undefined)[];
  posted: { ts?: string; channel?: string }[];
  postErrors: { error: unknown; at: number }[];
  respondErrors: unknown[];
  actions: { actionId: string; value?: string; userId: string }[];
}

/** A real Bolt app pointed at a fresh fake; `/dmm` acks, posts `DMM: <text>` and responds. */
async function startHarness(
  clientOptions: webApi.WebClientOptions = {},
  fakeOptions?: FakeSlackOptions,
): Promise<{ fake: FakeSlack; app: App; endpoint: string; seen: Seen }> {
  const fake = await fakeSlack(fakeOptions);
  const app = new App({
    token: 'xoxb-test',
    signingSecret: SIGNING_SECRET,
    botId: 'B0TEST',
    botUserId: 'U0BOT',
    tokenVerificationEnabled: false,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 }, ...clientOptions },
  });
  const seen: Seen = { commands: [], retryNums: [], posted: [], postErrors: [], respondErrors: [], actions: [] };

  app.command('/dmm', async ({ command, ack, client, respond, context }) => {
    await ack();
    seen.commands.push(command);
    seen.retryNums.push(context.retryNum);
    const blocks =
      command.text === 'many-blocks'
        ? Array.from({ length: 51 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `item ${i}` } }))
        : undefined;
    let posted: { ts?: string; channel?: string } | undefined;
    try {
      posted = await client.chat.postMessage({
        channel: command.channel_id,
        text: `DMM: ${command.text}`,
        ...(blocks ? { blocks } : {}),
      });
      seen.posted.push(posted);
    } catch (error) {
      seen.postErrors.push({ error, at: Date.now() });
    }
    try {
      await respond({ response_type: 'ephemeral', text: posted ? `posted ${posted.ts}` : 'failed' });
    } catch (error) {
      seen.respondErrors.push(error);
    }
  });

  app.action<BlockButtonAction>('x', async ({ ack, action, body }) => {
    await ack();
    seen.actions.push({
      actionId: action.action_id,
      ...(action.value !== undefined ? { value: action.value } : {}),
      userId: body.user.id,
    });
  });

  app.view('dmm-note', async ({ ack, view }) => {
    const note = view.state.values.note?.text?.value ?? '';
    if (note.trim() === '') await ack({ response_action: 'errors', errors: { note: 'Write something' } });
    else await ack();
  });

  const server = await app.start({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.stop().then(() => undefined));
  const { port } = server.address() as AddressInfo;
  return { fake, app, endpoint: `http://127.0.0.1:${port}/slack/events`, seen };
}

const postCommand = (endpoint: string, fields: Parameters<typeof slashCommandBody>[0], extra = {}) =>
  postToSlackApp(endpoint, slashCommandBody(fields), { signingSecret: SIGNING_SECRET, ...extra });

describe('signed requests through a real Bolt app to the fake', () => {
  it('acks a signed slash command, posts through the fake, and responds on the response_url', async () => {
    const { fake, endpoint, seen } = await startHarness();

    const res = await postCommand(endpoint, { text: 'agenda today', response_url: fake.responseUrl('cmd-1') });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');

    await fake.waitFor(() => fake.responses.length === 1);
    const [post] = fake.callsTo('chat.postMessage');
    expect(post).toMatchObject({ status: 200, token: 'xoxb-test', params: { channel: 'C0TEST', text: 'DMM: agenda today' } });
    expect(fake.messages).toEqual([
      { channel: 'C0TEST', ts: '1700000000.000100', thread_ts: undefined, text: 'DMM: agenda today', blocks: undefined, edits: 0 },
    ]);
    expect(seen.posted[0]).toMatchObject({ ok: true, channel: 'C0TEST', ts: '1700000000.000100' });
    expect(fake.responses).toEqual([
      { path: '/response/cmd-1', body: { response_type: 'ephemeral', text: 'posted 1700000000.000100' } },
    ]);
    expect(seen.commands[0]).toMatchObject({ command: '/dmm', user_id: 'U0USER', is_enterprise_install: 'false' });

    // Retry headers reach the listener as context.retryNum; Bolt does not drop the retry itself.
    const retried = await postCommand(endpoint, { text: 'again', response_url: fake.responseUrl('cmd-2') }, { retryNum: 2 });
    expect(retried.status).toBe(200);
    await fake.waitFor(() => fake.responses.length === 2);
    expect(seen.retryNums).toEqual([undefined, 2]);
    expect(fake.messages.map((m) => m.ts)).toEqual(['1700000000.000100', '1700000000.000200']);
  });

  it('rejects a bad signature and a stale timestamp with 401 before any listener runs', async () => {
    const { fake, endpoint, seen } = await startHarness();

    const bad = await postCommand(endpoint, { text: 'forged' }, { badSignature: true });
    expect(bad.status).toBe(401);
    const stale = await postCommand(endpoint, { text: 'stale' }, { timestamp: nowSeconds() - 6 * 60 });
    expect(stale.status).toBe(401);

    // A good request afterwards is handled, and is the only one that reached the fake.
    const good = await postCommand(endpoint, { text: 'genuine', response_url: fake.responseUrl('ok') });
    expect(good.status).toBe(200);
    await fake.waitFor(() => fake.responses.length === 1);
    expect(fake.calls.map((c) => c.params.text)).toEqual(['DMM: genuine']);
    expect(seen.commands.map((c) => c.text)).toEqual(['genuine']);
  });

  it('shows two Bolt receiver quirks: future timestamps pass, a charset on the form content-type is a 400', async () => {
    const { fake, endpoint } = await startHarness();

    const future = await postCommand(endpoint, { text: 'future', response_url: fake.responseUrl('f') }, {
      timestamp: nowSeconds() + 10 * 60,
    });
    expect(future.status).toBe(200);

    const body = slashCommandBody({ text: 'charset' });
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...signSlackRequest(SIGNING_SECRET, body) },
      body,
    });
    expect(res.status).toBe(400);

    await fake.waitFor(() => fake.responses.length === 1);
    expect(fake.callsTo('chat.postMessage').map((c) => c.params.text)).toEqual(['DMM: future']);
  });

  it('routes a signed block_actions payload to app.action and a view_submission to app.view', async () => {
    const { endpoint, seen } = await startHarness();

    const click = await postToSlackApp(
      endpoint,
      blockActionsBody(blockActionPayload({ actionId: 'x', value: 'case-42', userId: 'U0CLICK' })),
      { signingSecret: SIGNING_SECRET },
    );
    expect(click.status).toBe(200);
    expect(seen.actions).toEqual([{ actionId: 'x', value: 'case-42', userId: 'U0CLICK' }]);

    const empty = await postToSlackApp(
      endpoint,
      viewSubmissionBody(
        viewSubmissionPayload({ callbackId: 'dmm-note', values: { note: { text: { type: 'plain_text_input', value: ' ' } } } }),
      ),
      { signingSecret: SIGNING_SECRET },
    );
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({ response_action: 'errors', errors: { note: 'Write something' } });

    const filled = await postToSlackApp(
      endpoint,
      viewSubmissionBody(
        viewSubmissionPayload({ callbackId: 'dmm-note', values: { note: { text: { type: 'plain_text_input', value: 'hi' } } } }),
      ),
      { signingSecret: SIGNING_SECRET },
    );
    expect(filled.status).toBe(200);
    expect(filled.body).toBe('');
  });
});

describe('failures injected into the fake, as client.chat.postMessage sees them (retries: 0)', () => {
  it('429 by default: web-api sleeps Retry-After, then rejects with WebAPIRequestError and does not retry', async () => {
    const { fake, endpoint, seen } = await startHarness();
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });

    const started = Date.now();
    const res = await postCommand(endpoint, { text: 'limited', response_url: fake.responseUrl('r1') });
    expect(res.status).toBe(200); // the ack is not held up by the rate limit
    expect(Date.now() - started).toBeLessThan(900);

    await fake.waitFor(() => seen.postErrors.length === 1);
    const { error, at } = seen.postErrors[0]!;
    expect(error).toBeInstanceOf(webApi.WebAPIRequestError);
    const requestError = error as InstanceType<typeof webApi.WebAPIRequestError>;
    expect(requestError.code).toBe(webApi.ErrorCode.RequestError);
    expect(requestError.original.message).toMatch(/A rate limit was exceeded .*retry-after: 1\)/);
    const [limited] = fake.callsTo('chat.postMessage');
    expect(at - limited!.at).toBeGreaterThanOrEqual(950); // it waited out Retry-After before failing
    expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429]);
    expect(fake.messages).toHaveLength(0);
    await fake.waitFor(() => fake.responses.length === 1);
    expect(fake.responses[0]!.body).toMatchObject({ text: 'failed' });

    // The injected failure was used up: the next call goes through.
    await postCommand(endpoint, { text: 'later', response_url: fake.responseUrl('r2') });
    await fake.waitFor(() => fake.responses.length === 2);
    expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(fake.messages.map((m) => m.text)).toEqual(['DMM: later']);
  });

  it('429 with rejectRateLimitedCalls: rejects at once with WebAPIRateLimitedError.retryAfter', async () => {
    const { fake, endpoint, seen } = await startHarness({ rejectRateLimitedCalls: true });
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });

    await postCommand(endpoint, { text: 'limited', response_url: fake.responseUrl('r1') });
    await fake.waitFor(() => seen.postErrors.length === 1);
    const { error, at } = seen.postErrors[0]!;
    expect(error).toBeInstanceOf(webApi.WebAPIRateLimitedError);
    expect(error).toMatchObject({ code: webApi.ErrorCode.RateLimitedError, retryAfter: 1 });
    expect(at - fake.calls[0]!.at).toBeLessThan(500);
    expect(fake.calls.map((c) => [c.method, c.status, c.error])).toEqual([['chat.postMessage', 429, 'ratelimited']]);
    expect(fake.messages).toHaveLength(0);
  });

  it('429 with one retry allowed: web-api pauses for Retry-After and the retry succeeds', async () => {
    const { fake, endpoint, seen } = await startHarness({ retryConfig: { retries: 1, minTimeout: 10, maxTimeout: 10 } });
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });

    await postCommand(endpoint, { text: 'eventually', response_url: fake.responseUrl('r1') });
    await fake.waitFor(() => fake.responses.length === 1);
    const statuses = fake.callsTo('chat.postMessage');
    expect(statuses.map((c) => c.status)).toEqual([429, 200]);
    expect(statuses[1]!.at - statuses[0]!.at).toBeGreaterThanOrEqual(950);
    expect(seen.postErrors).toHaveLength(0);
    expect(fake.messages.map((m) => m.text)).toEqual(['DMM: eventually']);
  });

  it('500 rejects with WebAPIHTTPError; an injected ok:false error rejects with WebAPIPlatformError', async () => {
    const { fake, endpoint, seen } = await startHarness();
    fake.failNext('chat.postMessage', { status: 500 });
    fake.failNext('chat.postMessage', { error: 'channel_not_found' });

    await postCommand(endpoint, { text: 'one', response_url: fake.responseUrl('r1') });
    await fake.waitFor(() => fake.responses.length === 1);
    await postCommand(endpoint, { text: 'two', response_url: fake.responseUrl('r2') });
    await fake.waitFor(() => fake.responses.length === 2);

    const [http, platform] = seen.postErrors.map((e) => e.error);
    expect(http).toBeInstanceOf(webApi.WebAPIHTTPError);
    expect(http).toMatchObject({
      code: webApi.ErrorCode.HTTPError,
      statusCode: 500,
      body: { ok: false, error: 'internal_error' },
    });
    expect(platform).toBeInstanceOf(webApi.WebAPIPlatformError);
    expect(platform).toMatchObject({ code: webApi.ErrorCode.PlatformError, data: { ok: false, error: 'channel_not_found' } });
    expect(fake.calls.map((c) => c.status)).toEqual([500, 200]);
    expect(fake.messages).toHaveLength(0);
  });

  it('rejects 51 blocks from the Bolt client with invalid_blocks and stores no message', async () => {
    const { fake, endpoint, seen } = await startHarness();

    await postCommand(endpoint, { text: 'many-blocks', response_url: fake.responseUrl('r1') });
    await fake.waitFor(() => fake.responses.length === 1);
    const [call] = fake.callsTo('chat.postMessage');
    expect(Array.isArray(call!.params.blocks) && call!.params.blocks.length).toBe(51); // form field JSON-decoded
    expect(call).toMatchObject({ status: 200, error: 'invalid_blocks' });
    expect(seen.postErrors[0]!.error).toMatchObject({ data: { ok: false, error: 'invalid_blocks' } });
    expect(fake.messages).toHaveLength(0);
  });

  it('a failing response_url makes Bolt respond() throw RespondError with the status', async () => {
    const { fake, endpoint, seen } = await startHarness();
    fake.failNext('response_url', { status: 404 });

    await postCommand(endpoint, { text: 'hi', response_url: fake.responseUrl('gone') });
    await fake.waitFor(() => seen.respondErrors.length === 1);
    expect(seen.respondErrors[0]).toBeInstanceOf(RespondError);
    expect(seen.respondErrors[0]).toMatchObject({ code: ErrorCode.RespondError, statusCode: 404 });
    expect(fake.responses).toHaveLength(0);
    expect(fake.messages).toHaveLength(1);
  });
});

describe('the fake Web API, through a plain WebClient', () => {
  // Quiet: web-api logs the fake's `response_metadata.messages` (as it does Slack's) at error level.
  const silent: Logger = {
    debug() {},
    info() {},
    warn() {},
    error() {},
    setLevel() {},
    getLevel: () => LogLevel.ERROR,
    setName() {},
  };
  const client = (fake: FakeSlack, options: webApi.WebClientOptions = {}, token: string | null = 'xoxb-test') =>
    new webApi.WebClient(token ?? undefined, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: silent, ...options });
  const errorOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
    try {
      await promise;
      return undefined;
    } catch (error) {
      return (error as { data?: { error?: string } }).data?.error ?? String(error);
    }
  };

  it('checks Block Kit and message limits at their boundaries', async () => {
    const fake = await fakeSlack();
    const web = client(fake);
    const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
    const button = (text: string, action_id = 'a') => ({
      type: 'actions',
      elements: [{ type: 'button', action_id, text: { type: 'plain_text', text } }],
    });
    const post = (extra: Record<string, unknown>) => errorOf(web.chat.postMessage({ channel: 'C1', text: 't', ...extra }));

    expect(await post({ blocks: Array.from({ length: 50 }, () => section('x')) })).toBeUndefined();
    expect(await post({ blocks: Array.from({ length: 51 }, () => section('x')) })).toBe('invalid_blocks');
    expect(await post({ blocks: [section('x'.repeat(3000))] })).toBeUndefined();
    expect(await post({ blocks: [section('x'.repeat(3001))] })).toBe('invalid_blocks');
    expect(await post({ blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(150) } }] })).toBeUndefined();
    expect(await post({ blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] })).toBe('invalid_blocks');
    expect(await post({ blocks: [button('b'.repeat(75))] })).toBeUndefined();
    expect(await post({ blocks: [button('b'.repeat(76))] })).toBe('invalid_blocks');
    expect(await post({ blocks: [button('ok', 'a'.repeat(255))] })).toBeUndefined();
    expect(await post({ blocks: [button('ok', 'a'.repeat(256))] })).toBe('invalid_blocks');
    expect(await post({ blocks: [{ ...section('x'), block_id: 'b'.repeat(256) }] })).toBe('invalid_blocks');
    expect(await post({ blocks: [{ ...section('x'), accessory: { type: 'button', action_id: 'z', text: { type: 'plain_text', text: 'q'.repeat(76) } } }] })).toBe('invalid_blocks');
    expect(await post({ text: 'x'.repeat(40_000) })).toBeUndefined();
    expect(await post({ text: 'x'.repeat(40_001) })).toBe('msg_too_long');
    expect(await errorOf(web.chat.postMessage({ channel: 'C1', text: '' }))).toBe('no_text');

    const rejected = fake.calls.filter((c) => c.error === 'invalid_blocks');
    expect(rejected).toHaveLength(7);
    expect(fake.messages).toHaveLength(6);
    const stamps = fake.messages.map((m) => m.ts);
    expect([...stamps].sort()).toEqual(stamps);
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it('answers the other methods, auth errors and unknown methods', async () => {
    const fake = await fakeSlack({ users: { U0PAT: { tz: 'America/New_York', profile: { real_name: 'Pat', display_name: 'pat', email: 'pat@example.org' } } } });
    const web = client(fake);

    expect(await web.auth.test()).toMatchObject({ ok: true, team_id: 'T0TEST', user_id: 'U0BOT', bot_id: 'B0TEST' });
    expect(await web.conversations.open({ users: 'U0PAT' })).toMatchObject({ ok: true, channel: { id: 'DU0PAT' } });
    expect(await web.users.info({ user: 'U0PAT' })).toMatchObject({
      ok: true,
      user: { id: 'U0PAT', tz: 'America/New_York', profile: { real_name: 'Pat', email: 'pat@example.org' } },
    });
    expect(await web.users.info({ user: 'U0OTHER' })).toMatchObject({ user: { id: 'U0OTHER', tz: 'Europe/London' } });

    const posted = await web.chat.postMessage({ channel: 'DU0PAT', text: 'first', thread_ts: '1699999999.000001' });
    expect(posted).toMatchObject({ channel: 'DU0PAT', message: { text: 'first', thread_ts: '1699999999.000001' } });
    await web.chat.update({ channel: 'DU0PAT', ts: posted.ts!, text: 'edited' });
    expect(fake.messages[0]).toMatchObject({ text: 'edited', edits: 1, thread_ts: '1699999999.000001' });
    expect(await errorOf(web.chat.update({ channel: 'DU0PAT', ts: '1.2', text: 'x' }))).toBe('message_not_found');
    expect(await web.chat.postEphemeral({ channel: 'C1', user: 'U0PAT', text: 'psst' })).toMatchObject({ ok: true });
    expect(fake.ephemerals).toMatchObject([{ channel: 'C1', user: 'U0PAT', text: 'psst' }]);

    const opened = await web.views.open({
      trigger_id: 't1',
      view: { type: 'modal', callback_id: 'dmm-note', title: { type: 'plain_text', text: 'Note' }, blocks: [] },
    });
    expect(opened.view).toMatchObject({ id: 'V00000001', callback_id: 'dmm-note' });
    const updated = await web.views.update({
      view_id: opened.view!.id!,
      view: { type: 'modal', callback_id: 'dmm-note-2', title: { type: 'plain_text', text: 'Note' }, blocks: [] },
    });
    expect(updated.view).toMatchObject({ id: 'V00000001', callback_id: 'dmm-note-2' });
    expect(await errorOf(web.views.update({ view_id: 'V404', view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } }))).toBe('not_found');

    expect(await errorOf(web.apiCall('chat.scheduleMessage', { channel: 'C1', text: 'x', post_at: 1 }))).toBe('unknown_method');
    expect(await errorOf(client(fake, {}, null).chat.postMessage({ channel: 'C1', text: 'x' }))).toBe('not_authed');

    // The JSON body form is accepted too, with the token as a parameter.
    const viaJson = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'xoxb-json', channel: 'C9', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'j' } }] }),
    });
    expect(await viaJson.json()).toMatchObject({ ok: true, channel: 'C9' });
    expect(fake.calls.at(-1)).toMatchObject({ token: 'xoxb-json', params: { channel: 'C9', blocks: [{ type: 'section' }] } });
    expect(fake.calls.at(-1)!.params).not.toHaveProperty('token');
  });

  it('rate-limits chat.postMessage in a sliding one-second window', async () => {
    const fake = await fakeSlack({ rateLimit: { perSecond: 2 } });
    const web = client(fake, { rejectRateLimitedCalls: true });

    await web.chat.postMessage({ channel: 'C1', text: '1' });
    await web.chat.postMessage({ channel: 'C1', text: '2' });
    const third = await web.chat.postMessage({ channel: 'C1', text: '3' }).catch((error: unknown) => error);
    expect(third).toMatchObject({ code: webApi.ErrorCode.RateLimitedError, retryAfter: 1 });
    expect(await web.users.info({ user: 'U1' })).toMatchObject({ ok: true }); // other methods are not limited
    expect(fake.callsTo('chat.postMessage').map((c) => c.status)).toEqual([200, 200, 429]);

    await fake.waitFor(() => Date.now() - fake.callsTo('chat.postMessage')[0]!.at >= 1000, 2000);
    await web.chat.postMessage({ channel: 'C1', text: '4' });
    expect(fake.messages.map((m) => m.text)).toEqual(['1', '2', '4']);
  });

  it('waitFor rejects with a description of what the fake saw', async () => {
    const fake = await fakeSlack();
    await client(fake).auth.test();
    await expect(fake.waitFor(() => fake.messages.length > 0, 50)).rejects.toThrow(
      /not met within 50 ms.*auth\.test → 200.*messages: 0/,
    );
  });
});

describe('file uploads', () => {
  it("takes the real WebClient's filesUploadV2: the upload URL gets the bytes, and completing shares the file to the channel's thread", async () => {
    const fake = await fakeSlack();
    const client = new webApi.WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    await client.filesUploadV2({ channel_id: 'C0TEST', file: png, filename: 'effects.png', title: 'Effects', thread_ts: '1700000000.000100' });
    expect(fake.files).toHaveLength(1);
    expect(fake.files[0]).toMatchObject({ filename: 'effects.png', title: 'Effects', channel: 'C0TEST', threadTs: '1700000000.000100' });
    expect(fake.files[0]!.bytes.equals(png)).toBe(true);
    expect(fake.callsTo('files.getUploadURLExternal')[0]!.params).toMatchObject({ filename: 'effects.png', length: String(png.length) });
  });
});

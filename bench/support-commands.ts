// What bench/commands.ts needs beyond bench/support.ts: autocannon (loaded untyped, typed here), and the
// helper processes it forks: the fake Slack and the fake Teams that the bot answers through, and the bare
// Bolt and bare Teams SDK apps (the floors).
// Run as a script (`node --import tsx bench/support-commands.ts <role>`), this file is one of those children;
// it talks to its parent over the IPC channel `fork` opens, and listens on 127.0.0.1 only.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Express } from 'express';
import type { TeamsSettings } from '../src/chat/teams/teams-app.js';

// ---- autocannon (9.x ships no types and @types/autocannon is not installed) ----

export interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Called before every send of this request: return it with a fresh body and headers. */
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
}

export interface AutocannonHistogram {
  average: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  p50: number;
  p97_5: number;
  p99: number;
  total: number;
}

export interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  latency: AutocannonHistogram;
  requests: AutocannonHistogram & { sent: number };
}

export interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  /** Seconds to wait for a response (a slower one counts as an error). */
  timeout?: number;
  requests: AutocannonRequest[];
}

export interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  stop(): void;
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): this;
  on(event: 'reqError', listener: (error: Error) => void): this;
}

export const autocannon = createRequire(import.meta.url)('autocannon') as (options: AutocannonOptions) => AutocannonInstance;

// ---- the children ----

export type ChildRole = 'fake-slack' | 'bare-bolt' | 'fake-teams' | 'bare-teams';

/** What a fake platform has seen, for telling whether every command the bot took was also answered. */
export interface FakeChatTally {
  /** Commands answered: an action recorded, or a list of the sender's actions. */
  answered: number;
  /** "Action A-n recorded." posts to the meeting: each an action that must be in the store. */
  recordedPosts: number;
  /** Answers saying "Sorry, that did not work" (the bot's catch-all for a failure). */
  sorryReplies: number;
  /** Answers saying the bot was too busy and did nothing (Teams sends them; Slack's are in the ack). */
  busyReplies: number;
  /** Answers that were neither a recorded action, a list of actions, "busy" nor a "sorry", e.g. a refusal. */
  otherReplies: number;
  otherReplySample?: string;
  /** API calls the fake answered with an error. */
  apiErrors: number;
  /** When the fake last heard from the bot (ms since the epoch), to tell when the work after the acks ended. */
  lastCallAt: number;
}

export interface FakeSlackTally extends FakeChatTally {
  /** Distinct `response_url`s posted to (each command carries its own). */
  respondedCommands: number;
  /** Every other `chat.postMessage` (agendas, other replies, reminders). */
  otherPosts: number;
}

export interface FakeTeamsTally extends FakeChatTally {
  /** Posts listing the sender's open actions. */
  listReplies: number;
  /** Top-level posts in the channel (the agenda). */
  agendaPosts: number;
  /** `GET …/members/{id}` calls: the bot turning a mentioned owner's `29:` id into an AAD object id. */
  memberLookups: number;
}

/** Where the fake Teams is, as the bot's settings name it. */
export interface FakeTeamsUrls {
  serviceUrl: string;
  openIdMetadataUrl: string;
  tokenUrl: string;
}

export interface ForkedChild {
  child: ChildProcess;
  port: number;
  /** Asks the child a question over IPC and waits for the answer. */
  ask<T>(question: string): Promise<T>;
  stop(): Promise<void>;
}

const thisFile = fileURLToPath(import.meta.url);

/** Forks this file in `role`, with the parent's Node flags (so tsx loads it), and waits for its port. */
export async function forkChild(role: ChildRole, env: Record<string, string> = {}): Promise<ForkedChild> {
  const child = fork(thisFile, [role], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start within 30 s`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited (${code}) before it was listening`));
    });
    child.once('message', (message: { port?: number }) => {
      clearTimeout(timer);
      if (typeof message?.port === 'number') resolve(message.port);
      else reject(new Error(`${role} sent ${JSON.stringify(message)} instead of its port`));
    });
  });
  const port = await ready;
  child.removeAllListeners('exit');
  let asked = 0;
  return {
    child,
    port,
    ask<T>(question: string): Promise<T> {
      const id = ++asked;
      return new Promise<T>((resolve) => {
        const onMessage = (message: { id?: number; answer?: T }) => {
          if (message?.id !== id) return;
          child.off('message', onMessage);
          resolve(message.answer as T);
        };
        child.on('message', onMessage);
        child.send({ id, question });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The fake Slack Web API and response_url endpoint, tallying what arrives and forgetting the bodies. */
async function runFakeSlack(): Promise<void> {
  const { startFakeSlack } = await import('../test/support/fake-slack.js');
  const channel = process.env.BENCH_CHANNEL ?? '';
  const fake = await startFakeSlack({ teamId: process.env.BENCH_TEAM ?? 'T0BENCH' });
  const paths = new Set<string>();
  const tally: FakeSlackTally = { answered: 0, respondedCommands: 0, recordedPosts: 0, otherPosts: 0, sorryReplies: 0, busyReplies: 0, otherReplies: 0, apiErrors: 0, lastCallAt: 0 };
  // The fake keeps every call, message and body; a 30 s run would hold tens of MB, so count and let go.
  const collect = () => {
    for (const call of fake.calls) {
      if (call.error || call.status !== 200) tally.apiErrors += 1;
      tally.lastCallAt = Math.max(tally.lastCallAt, call.at);
      if (call.method !== 'chat.postMessage') continue;
      const text = String(call.params.text ?? '');
      if (call.params.channel === channel && /^Action A-\d+ recorded\.$/.test(text)) tally.recordedPosts += 1;
      else tally.otherPosts += 1;
    }
    for (const response of fake.responses) {
      paths.add(response.path);
      tally.lastCallAt = Date.now();
      const text = String((response.body as { text?: unknown } | undefined)?.text ?? '');
      if (text.startsWith('Sorry, that did not work')) tally.sorryReplies += 1;
      else if (!/^Your open actions/.test(text)) {
        tally.otherReplies += 1;
        tally.otherReplySample ??= text.slice(0, 300);
      }
    }
    tally.respondedCommands = paths.size;
    tally.answered = tally.respondedCommands + tally.recordedPosts;
    fake.reset();
  };
  const timer = setInterval(collect, 250);
  process.on('message', (message: { id: number; question: string }) => {
    if (message.question === 'tally') {
      collect();
      process.send?.({ id: message.id, answer: { ...tally } });
    }
  });
  process.once('SIGTERM', () => {
    clearInterval(timer);
    void fake.close().finally(() => process.exit(0));
  });
  process.send?.({ port: Number(new URL(fake.origin).port) });
}

/** Serves a floor's express app on a loopback port, tells the parent the port, and closes on SIGTERM. */
async function serveFloor(expressApp: Express): Promise<void> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = expressApp.listen(0, '127.0.0.1');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
  process.send?.({ port: (server.address() as AddressInfo).port });
}

/**
 * The floor: a Bolt app that acknowledges `/dmm` and does nothing else, served the way dmm-bot serves
 * Slack (ExpressReceiver on an express app, signature checked with the same secret). Token checking is
 * off and the bot's ids are given, so it makes no Web API call at all.
 */
async function runBareBolt(): Promise<void> {
  const { App, ExpressReceiver, LogLevel } = await import('@slack/bolt');
  const express = (await import('express')).default;
  const expressApp = express();
  expressApp.disable('x-powered-by');
  const receiver = new ExpressReceiver({ signingSecret: process.env.BENCH_SIGNING_SECRET ?? '', app: expressApp, endpoints: '/slack/events' });
  const app = new App({
    receiver,
    token: 'xoxb-bench-floor',
    botId: 'B0BENCH',
    botUserId: 'U0BENCHBOT',
    tokenVerificationEnabled: false,
    logLevel: LogLevel.WARN,
  });
  app.command('/dmm', async ({ ack }) => {
    await ack();
  });
  await serveFloor(expressApp);
}

/** Settings of the fake Teams child, in BENCH_FAKE_TEAMS as JSON. */
export interface FakeTeamsChildSettings {
  clientId: string;
  clientSecret: string;
  channel: string;
  /** AAD object ids by Teams member id (`29:…`), for the roster look-ups of mentioned owners. */
  aadObjectIds: Record<string, string>;
}

/**
 * The fake Bot Framework (token issuer, token endpoint, Bot Connector), tallying what arrives and
 * forgetting the bodies. It also signs the Bot Connector's token for the bench: the issuer's key stays here.
 */
async function runFakeTeams(): Promise<void> {
  const { startFakeTeams } = await import('../test/support/fake-teams.js');
  const settings = JSON.parse(process.env.BENCH_FAKE_TEAMS ?? '{}') as FakeTeamsChildSettings;
  const fake = await startFakeTeams({ clientId: settings.clientId, clientSecret: settings.clientSecret, aadObjectIds: settings.aadObjectIds });
  const tally: FakeTeamsTally = {
    answered: 0,
    recordedPosts: 0,
    listReplies: 0,
    agendaPosts: 0,
    memberLookups: 0,
    sorryReplies: 0,
    busyReplies: 0,
    otherReplies: 0,
    apiErrors: 0,
    lastCallAt: 0,
  };
  // As for Slack: a 30 s run would hold tens of MB of bodies, so count and let go.
  const collect = () => {
    for (const call of fake.calls) {
      if (call.status >= 400) tally.apiErrors += 1;
      if (call.kind === 'members') tally.memberLookups += 1;
      tally.lastCallAt = Math.max(tally.lastCallAt, call.at);
    }
    for (const activity of fake.activities) {
      const summary = String(activity.body.summary ?? activity.body.text ?? '');
      if (/^Action A-\d+ recorded\.$/.test(summary)) tally.recordedPosts += 1;
      else if (/^Your open actions/.test(summary)) tally.listReplies += 1;
      else if (summary.startsWith('Sorry, that did not work')) tally.sorryReplies += 1;
      else if (summary.startsWith('dmm-bot is very busy')) tally.busyReplies += 1;
      else if (activity.conversationId === settings.channel) tally.agendaPosts += 1;
      else {
        tally.otherReplies += 1;
        tally.otherReplySample ??= summary.slice(0, 300);
      }
    }
    tally.answered = tally.recordedPosts + tally.listReplies;
    fake.reset();
  };
  const timer = setInterval(collect, 250);
  const urls: FakeTeamsUrls = { serviceUrl: fake.serviceUrl, openIdMetadataUrl: fake.openIdMetadataUrl, tokenUrl: fake.tokenUrl };
  const answers: Record<string, () => unknown> = {
    tally: () => {
      collect();
      return { ...tally };
    },
    urls: () => urls,
    // The Bot Connector signs a token and sends it with every activity until it nears expiry, so one is enough.
    token: () => fake.signToken({ audience: settings.clientId, serviceUrl: fake.serviceUrl }),
  };
  process.on('message', (message: { id: number; question: string }) => {
    process.send?.({ id: message.id, answer: answers[message.question]?.() });
  });
  process.once('SIGTERM', () => {
    clearInterval(timer);
    void fake.close().finally(() => process.exit(0));
  });
  process.send?.({ port: Number(new URL(fake.origin).port) });
}

/**
 * The floor for Teams: the Teams SDK app exactly as dmm-bot configures it (`teamsSdkApp`: the same
 * authentication against the same fake issuer, on an express app), whose message handler answers and
 * does nothing else. Settings (`TeamsSettings`) come in BENCH_TEAMS_SETTINGS as JSON.
 */
async function runBareTeams(): Promise<void> {
  const { teamsSdkApp } = await import('../src/chat/teams/teams-app.js');
  const express = (await import('express')).default;
  const settings = JSON.parse(process.env.BENCH_TEAMS_SETTINGS ?? '{}') as TeamsSettings;
  const expressApp = express();
  expressApp.disable('x-powered-by');
  const app = teamsSdkApp(settings, expressApp);
  app.on('message', async () => {});
  await app.initialize();
  await serveFloor(expressApp);
}

const runners: Record<ChildRole, () => Promise<void>> = {
  'fake-slack': runFakeSlack,
  'bare-bolt': runBareBolt,
  'fake-teams': runFakeTeams,
  'bare-teams': runBareTeams,
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const role = process.argv[2];
  const run = role && Object.hasOwn(runners, role) ? runners[role as ChildRole] : undefined;
  if (!run) {
    console.error(`support-commands: unknown role ${JSON.stringify(role)} (${Object.keys(runners).join(', ')})`);
    process.exit(2);
  }
  // Orphaned (the bench was killed): go too.
  process.on('disconnect', () => process.exit(0));
  run().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

// End to end on Microsoft Teams, as `npm start` runs it: `node bin/dmm.mjs start` as a child process with
// the Teams settings, against a fake Bot Framework (token issuer, OAuth token endpoint and Bot Connector)
// on loopback, on a store seeded beforehand (embedded PGlite; PostgreSQL too when TEST_DATABASE_URL is
// set). Activities are posted to /api/messages signed as the Bot Connector signs them; every answer is
// checked where Teams would show it (the channel, the agenda's thread, a personal chat, an invoke's
// answer) and, once the bot has stopped, in the store.
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { actorOf } from '../../src/app/actor.js';
import { handleCommand } from '../../src/app/handle-command.js';
import { meetingsOf, parseConfig } from '../../src/config.js';
import { pseudonymPattern } from '../../src/domain/pseudonym.js';
import { incidentRecordSchema } from '../../src/domain/records.js';
import { dateOf } from '../../src/store/actions.js';
import { verifyAuditChain } from '../../src/store/audit.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { findMember } from '../../src/store/members.js';
import { upsertIncidents } from '../../src/store/records-repository.js';
import { createServerDatabase, databaseTargets, type TestDatabase } from '../support/databases.js';
import { baseEnv, runDmm, startDmm, stopAllDmm, type DmmRun, type DmmServer } from '../support/dmm-process.js';
import { startFakeTeams, type FakeTeams, type FakeTeamsActivity } from '../support/fake-teams.js';
import {
  cardAction,
  channelMessage,
  dialogFetch,
  dialogSubmit,
  personalMessage,
  postActivity,
  type PostedActivityResponse,
  type TeamsActorOptions,
  type TeamsMention,
} from '../support/teams-requests.js';

const clientId = '0b0b0b0b-0000-4000-8000-000000000e2e';
const clientSecret = 'test-teams-client-secret';
const tenantId = '7e7e7e7e-0000-4000-8000-000000000001';
const otherTenantId = '0e0e0e0e-0000-4000-8000-0000000000ff';
const chairAad = 'c0c0c0c0-0000-4000-8000-000000000001';
const ownerAad = '0a0a0a0a-0000-4000-8000-000000000001';
const nobodyAad = 'deadbeef-0000-4000-8000-000000000001';
const strangerAad = '5a5a5a5a-0000-4000-8000-000000000001';
/** In our tenant and in the channel, but not a member of the meeting. */
const colleagueAad = '5b5b5b5b-0000-4000-8000-000000000001';
const channel = '19:testdmm@thread.tacv2';
const meetingKey = `teams:${channel}`;
/** 30 s after Monday 2 March 2026's 09:00 London cutoff (GMT in early March): the agenda is due, not late. */
const justAfterCutoff = '2026-03-02T09:00:30Z';
const botFrameworkScope = 'https://api.botframework.com/.default';
const cardType = 'application/vnd.microsoft.card.adaptive';

/** A person as the tests name them: a Teams `29:` id (in mentions) and an AAD object id (in the store). */
interface Person extends TeamsMention {
  aad: string;
}
const owner: Person = { id: '29:test-owner', name: 'Test Owner', aad: ownerAad };
const nobody: Person = { id: '29:test-nobody', name: 'Test Nobody', aad: nobodyAad };
/** Not a member until a chair adds them with `member add @Test Newcomer`. */
const newcomerAad = '0e0e0e0e-0000-4000-8000-00000000000e';
const newcomer: Person = { id: '29:test-newcomer', name: 'Test Newcomer', aad: newcomerAad };
/** The names Teams gives in `from.name`. The chair is known only by AAD id (DMM_CHAIRS) until they talk. */
const fromNames: Record<string, string> = {
  [chairAad]: 'Test Chair',
  [ownerAad]: 'Test Owner (renamed in Teams)',
  [newcomerAad]: 'Test Newcomer',
  [colleagueAad]: 'Test Colleague',
  [strangerAad]: 'Test Stranger',
};
/** The Bot Connector's roster: `GET …/members/{29:id}` answers these AAD ids and names. */
const roster = {
  aadObjectIds: { [owner.id]: ownerAad, [nobody.id]: nobodyAad, [newcomer.id]: newcomerAad },
  members: { [owner.id]: { name: 'Test Owner' }, [nobody.id]: { name: 'Test Nobody' }, [newcomer.id]: { name: 'Test Newcomer' } },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Each `dmm` process starts through tsx and opens PGlite or PostgreSQL: 10–30 s apiece on a busy machine.
const startMs = 120_000;
const testMs = 180_000;

// ---- synthetic, obviously fictional records ----

const incidents = [
  // In Monday's window (Friday 09:00 to Monday 09:00).
  { ref: 'TEST-INC-1', reportedAt: '2026-03-01T10:00:00Z', perpetrator: 'TEST-P-1', victim: 'TEST-V-1' },
  { ref: 'TEST-INC-2', reportedAt: '2026-03-01T11:00:00Z', perpetrator: 'TEST-P-2', victim: 'TEST-V-2' },
  // Exactly at Monday's cutoff: Tuesday's.
  { ref: 'TEST-INC-9', reportedAt: '2026-03-02T09:00:00Z', perpetrator: 'TEST-P-9', victim: 'TEST-V-9' },
];

/** The incidents and the owner (a member; the chair comes from DMM_CHAIRS). Returns each person's label by reference. */
async function seed(db: Database): Promise<Map<string, string>> {
  const records = incidents.map((i) =>
    incidentRecordSchema.parse({
      source_ref: i.ref,
      reported_at: i.reportedAt,
      occurred_at: '',
      risk_level: 'high',
      category: 'assault',
      area: 'Test Area North',
      perpetrator_ref: i.perpetrator,
      victim_ref: i.victim,
      children_present: 'false',
    }),
  );
  await db.prisma.$transaction((tx) => upsertIncidents(tx, records, db.labelKey));
  await db.prisma.member.create({ data: { teamsUserId: ownerAad, agency: 'idva', displayName: 'Test Owner' } });
  const nominals = await db.prisma.nominal.findMany({ select: { ref: true, label: true } });
  return new Map(nominals.map((n) => [n.ref, n.label]));
}

/** Stops the bots and the fake, and removes the store a describe block seeded. */
async function tearDown(store: string, fake: FakeTeams | undefined, seeded: TestDatabase | undefined): Promise<void> {
  await stopAllDmm();
  await fake?.close();
  if (store === 'embedded') {
    if (seeded?.env.DMM_DATA_DIR) await rm(seeded.env.DMM_DATA_DIR, { recursive: true, force: true });
  } else await seeded?.destroy();
}

function teamsEnv(store: Record<string, string>, fake: FakeTeams, now?: string): NodeJS.ProcessEnv {
  return baseEnv({
    ...store,
    PORT: '0',
    TEAMS_CLIENT_ID: clientId,
    TEAMS_CLIENT_SECRET: clientSecret,
    TEAMS_TENANT_ID: tenantId,
    TEAMS_SERVICE_URL: fake.serviceUrl,
    TEAMS_OPENID_METADATA_URL: fake.openIdMetadataUrl,
    TEAMS_TOKEN_URL: fake.tokenUrl,
    DMM_TEAMS_CHANNEL: channel,
    DMM_CHAIRS: `teams:${chairAad}`,
    DMM_TIME: '09:00',
    DMM_TIMEZONE: 'Europe/London',
    DMM_HOLIDAYS: 'england-and-wales',
    DMM_REMIND_DAYS_BEFORE: '',
    DMM_NUDGE_EVERY: '',
    DMM_ESCALATE_AFTER: '',
    DMM_WORKING_HOURS: '',
    DMM_PUBLIC_URL: '',
    ...(now ? { DMM_NOW: now } : {}),
  });
}

// ---- reading what the fake received ----

type Body = Record<string, unknown> & {
  summary?: string;
  text?: string;
  textFormat?: string;
  replyToId?: string;
  entities?: Array<{ type?: string; text?: string; mentioned?: { id?: string; name?: string } }>;
  attachments?: Array<{ contentType: string; content: Card }>;
};
type Element = Record<string, unknown> & { type: string };
type Card = { type: string; version: string; body: Element[]; actions?: Element[] };

const bodyOf = (a: FakeTeamsActivity) => a.body as Body;
const summaryOf = (a: FakeTeamsActivity) => bodyOf(a).summary ?? '';

function cardIn(body: Body): Card {
  expect(body.attachments, JSON.stringify(body).slice(0, 300)).toHaveLength(1);
  expect(body.attachments![0]!.contentType).toBe(cardType);
  return body.attachments![0]!.content;
}

function walk(elements: Element[]): Element[] {
  return elements.flatMap((e) => [e, ...walk(((e.items as Element[] | undefined) ?? []).concat((e.actions as Element[] | undefined) ?? []))]);
}

const executeActions = (card: Card) => walk(card.body).filter((e) => e.type === 'Action.Execute');
const mentionEntities = (body: Body) => (body.entities ?? []).filter((e) => e.type === 'mention');

/** The channel's top-level posts (not replies in a thread). */
const channelPosts = (fake: FakeTeams) => fake.activitiesIn(channel).filter((a) => a.threadId === undefined);

function expectMondaysAgenda(agenda: FakeTeamsActivity, labels: Map<string, string>): void {
  const body = bodyOf(agenda);
  expect(agenda.conversationId).toBe(channel);
  expect(body.type).toBe('message');
  expect(body.summary).toContain('Monday 2 March 2026');
  expect(body.summary).toContain('2 new high-risk incidents');
  const card = cardIn(body);
  expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
  const json = JSON.stringify(body);
  for (const ref of ['TEST-INC-1', 'TEST-INC-2']) expect(json).toContain(`**${ref}**`);
  expect(json).not.toContain('TEST-INC-9');
  // People appear by label only: no records-system reference reaches Teams.
  expect(json).not.toMatch(/TEST-[PV]-/);
  for (const ref of ['TEST-P-1', 'TEST-V-1', 'TEST-P-2', 'TEST-V-2']) {
    const label = labels.get(ref);
    expect(label, ref).toMatch(pseudonymPattern);
    expect(json, `label of ${ref}`).toContain(label);
  }
  // Each incident has its "Add action" button, which opens the dialog (task/fetch).
  const buttons = walk(card.body).filter((e) => e.type === 'Action.Submit').map((e) => e.data);
  expect(buttons).toEqual([
    { msteams: { type: 'task/fetch' }, dmm: 'add-action', kind: 'incident', subject: 'TEST-INC-1' },
    { msteams: { type: 'task/fetch' }, dmm: 'add-action', kind: 'incident', subject: 'TEST-INC-2' },
  ]);
  expect(json).not.toContain('Posted late');
}

// ---- the bot in a channel: agenda, commands, the dialog, card buttons, refusals ----

describe.each(databaseTargets)('dmm start on Teams ($name store)', (target) => {
  let fake: FakeTeams;
  let seeded: TestDatabase;
  let labels: Map<string, string>;
  let env: NodeJS.ProcessEnv;
  let bot: DmmServer;
  let startedAt: number;
  let agendaId: string;
  let agendaPostedAt = 0;
  const timings: Array<{ what: string; ms: number }> = [];
  /** The store while the bot runs: PostgreSQL can be read alongside it; the embedded store only after it stops. */
  const live = () => (target.name === 'postgres' ? seeded : undefined);

  beforeAll(async () => {
    seeded = await target.create();
    labels = await seed(seeded);
    // PGlite is one process's database: let go of the folder before the bot opens it.
    if (target.name === 'embedded') await seeded.close();
    fake = await startFakeTeams({ clientId, clientSecret, ...roster });
    // The agenda's first post meets a 500, its retry a 429 with Retry-After: 2.
    fake.failNext('send', { status: 500 });
    fake.failNext('send', { status: 429, retryAfter: 2 });
    env = teamsEnv(seeded.env, fake, justAfterCutoff);
    startedAt = Date.now();
    bot = await startDmm(env, { timeoutMs: startMs });
  }, startMs + 30_000);

  afterAll(() => tearDown(target.name, fake, seeded));

  const endpoint = () => `http://127.0.0.1:${bot.port}/api/messages`;
  const goodToken = () => fake.signToken({ audience: clientId, serviceUrl: fake.serviceUrl });
  const as = (aad: string, extra: Partial<TeamsActorOptions> = {}): TeamsActorOptions => ({ fromAadId: aad, fromName: fromNames[aad], tenantId, serviceUrl: fake.serviceUrl, botId: clientId, ...extra });

  /** Posts an activity signed with a good token, or with `token` (`null`: no Authorization header at all). */
  async function post(what: string, activity: unknown, token?: string | null): Promise<PostedActivityResponse> {
    const started = performance.now();
    const response = await postActivity(endpoint(), activity, token === null ? undefined : (token ?? goodToken()));
    timings.push({ what, ms: performance.now() - started });
    return response;
  }

  /** `@dmm <text>` in the channel from the chair (a new post: its own thread is `;messageid=<its id>`). */
  function say(text: string, mentions: TeamsMention[] = [], from = as(chairAad)) {
    return channelMessage({ ...from, conversationId: channel, text, mentions });
  }

  const agendaThread = () => `${channel};messageid=${agendaId}`;
  const inAgendaThread = (predicate: (a: FakeTeamsActivity) => boolean) => fake.waitFor(() => fake.activitiesIn(agendaThread()).find(predicate), 15_000);
  /** The bot's answer in a message's own thread. */
  const answerTo = (messageId: string) => fake.waitFor(() => fake.activitiesIn(`${channel};messageid=${messageId}`)[0], 15_000);
  /** What the bot posted in a message's own thread (a reply there would mean it missed the agenda's). */
  const inOwnThread = (messageId: string) => fake.activitiesIn(`${channel};messageid=${messageId}`);

  /**
   * Posts `@dmm …` and returns what the bot then posted in the day's agenda thread, where every answer
   * to a command in the channel goes. The bot answers before Teams gets its HTTP response.
   */
  async function answersInAgendaThread(what: string, message: ReturnType<typeof say>, token?: string): Promise<FakeTeamsActivity[]> {
    const before = fake.activitiesIn(agendaThread()).length;
    const response = await post(what, message, token);
    expect(response.status, what).toBe(200);
    const answers = await fake.waitFor(() => (fake.activitiesIn(agendaThread()).length > before ? fake.activitiesIn(agendaThread()).slice(before) : undefined), 15_000);
    for (const answer of answers) {
      // Posted to the thread's conversation id, not as a reply quoting the command.
      expect(answer.conversationId, what).toBe(agendaThread());
      expect(bodyOf(answer).replyToId, what).toBeUndefined();
      expect(JSON.stringify(answer.body), what).not.toContain('<quoted');
    }
    expect(inOwnThread(message.id), what).toEqual([]);
    return answers;
  }

  // ---- 1. the scheduled agenda ----

  it('posts the agenda once, as an Adaptive Card 1.5, through a 500 and a 429 with Retry-After', async () => {
    const [agenda] = await fake.waitFor(() => (channelPosts(fake).length > 0 ? channelPosts(fake) : undefined), 30_000);
    agendaId = agenda!.id;
    agendaPostedAt = agenda!.at;
    expectMondaysAgenda(agenda!, labels);
    const sends = fake.callsOf('send');
    expect(sends.slice(0, 3).map((c) => c.status)).toEqual([500, 429, 201]);
    // Backed off about 1 s after the 500, and waited out Retry-After: 2 after the 429.
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(900);
    expect(sends[2]!.at - sends[1]!.at).toBeGreaterThanOrEqual(1_950);
    expect(sends[2]!.at - sends[0]!.at).toBeLessThan(20_000);
    expect(sends.every((c) => c.conversationId === channel)).toBe(true);
    await sleep(2_000);
    expect(channelPosts(fake)).toHaveLength(1);
    expect(bot.stderr()).not.toContain('agenda post failed');
    const db = live();
    if (db) expect(await db.prisma.agendaRun.findMany()).toMatchObject([{ meetingKey, status: 'sent', messageRef: agendaId, partsPosted: 1, late: false }]);
  }, testMs);

  // ---- 2. @dmm action add, the dialog ----

  let firstId: number;
  let firstMessage: ReturnType<typeof say>;
  let firstConfirmation: FakeTeamsActivity;

  it('records an action from "@dmm action add" with a mentioned owner; confirms it in the agenda thread, not as a quote', async () => {
    const membersBefore = fake.callsOf('members').length;
    firstMessage = say(`action add TEST-INC-1 <at>${owner.name}</at> friday Review the safety plan`, [owner]);
    const response = await post('action add', firstMessage);
    expect(response.status).toBe(200);
    firstConfirmation = await inAgendaThread((a) => /^Action A-\d+ recorded\.$/.test(summaryOf(a)));
    firstId = Number(/A-(\d+)/.exec(summaryOf(firstConfirmation))![1]);

    // The owner's 29: id was turned into their AAD object id through the roster.
    const lookups = fake.callsOf('members').slice(membersBefore);
    expect(lookups.map((c) => [c.conversationId, c.activityId, c.status])).toEqual([[channel, owner.id, 200]]);

    // A post in the agenda's thread (`<channel>;messageid=<agenda>`), not a reply quoting the command.
    expect(firstConfirmation.conversationId).toBe(agendaThread());
    expect(firstConfirmation.threadId).toBe(agendaId);
    const body = bodyOf(firstConfirmation);
    expect(body.replyToId).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain('<quoted');
    const sendCall = fake.callsOf('send').find((c) => c.conversationId === agendaThread());
    expect(sendCall?.path).toBe(`/v3/conversations/${agendaThread()}/activities`);
    const card = cardIn(body);
    expect(card.version).toBe('1.5');
    const json = JSON.stringify(card);
    for (const part of [`**A-${firstId}**`, 'TEST-INC-1', 'Review the safety plan', 'Test Owner, idva', 'due 2026-03-06']) expect(json).toContain(part);
    expect(executeActions(card).map((e) => [e.verb, e.data])).toEqual([
      ['done', { id: `A-${firstId}` }],
      ['update', { id: `A-${firstId}` }],
    ]);
    // Nothing went to the command's own thread.
    expect(fake.activitiesIn(`${channel};messageid=${firstMessage.id}`)).toEqual([]);

    const db = live();
    if (db) {
      const rows = await db.prisma.action.findMany({ include: { owner: true, incident: true } });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: firstId, meetingKey, agency: 'idva', status: 'open', text: 'Review the safety plan', createdBy: `teams:${chairAad}`, idempotencyKey: `teams:message:${firstMessage.id}` });
      expect(rows[0]!.owner.teamsUserId).toBe(ownerAad);
      expect(rows[0]!.incident?.sourceRef).toBe('TEST-INC-1');
      expect(rows[0]!.dueOn.toISOString().slice(0, 10)).toBe('2026-03-06');
    }
  }, testMs);

  it('records it once when Teams delivers the same activity twice; says so in the agenda thread', async () => {
    const confirmations = () => fake.activitiesIn(agendaThread()).filter((a) => /^Action A-\d+ recorded\.$/.test(summaryOf(a))).length;
    const before = confirmations();
    const answers = await answersInAgendaThread('action add (redelivered)', firstMessage);
    expect(answers.map(summaryOf)).toEqual([`That action was already recorded as A-${firstId}.`]);
    await sleep(500);
    expect(confirmations()).toBe(before);
    const db = live();
    if (db) expect(await db.prisma.action.count()).toBe(1);
  }, testMs);

  it('opens the "Add action" dialog from the agenda button, prefilled, with an owner picker, a date and a text', async () => {
    const sendsBefore = fake.callsOf('send').length;
    const response = await post(
      'dialog open',
      dialogFetch({ dmm: 'add-action', kind: 'incident', subject: 'TEST-INC-1', msteams: { type: 'task/fetch' } }, { ...as(chairAad), conversationId: agendaThread() }),
    );
    expect(response.status).toBe(200);
    const task = (response.json as { task: { type: string; value: { title: string; card: { contentType: string; content: Card } } } }).task;
    expect(task.type).toBe('continue');
    expect(task.value.title).toBe('Add action');
    expect(task.value.card.contentType).toBe(cardType);
    const form = task.value.card.content;
    expect(form.version).toBe('1.5');
    const byId = new Map(form.body.filter((e) => typeof e.id === 'string').map((e) => [e.id as string, e]));
    expect(byId.get('subject')).toMatchObject({ type: 'Input.Text', value: 'TEST-INC-1' });
    expect(byId.get('owner')).toMatchObject({ type: 'Input.ChoiceSet' });
    expect(byId.get('owner')!.choices).toContainEqual({ title: 'Test Owner (idva)', value: ownerAad });
    expect(byId.get('due')).toMatchObject({ type: 'Input.Date', value: '2026-03-03' });
    expect(byId.get('text')).toMatchObject({ type: 'Input.Text' });
    expect(form.actions?.map((a) => a.type)).toEqual(['Action.Submit']);
    // The dialog is the invoke's answer: nothing was posted.
    expect(fake.callsOf('send')).toHaveLength(sendsBefore);
  }, testMs);

  let dialogId: number;
  let dialogSubmitId: string;

  it('shows a bad due date in the form and records nothing; records a good form once, however often it is submitted', async () => {
    const form = (due: string) => ({ dmm: 'add-action-submit', subject: 'TEST-INC-1', owner: ownerAad, due, text: 'TEST check school attendance' });
    const submit = (due: string) => dialogSubmit(form(due), { ...as(chairAad), conversationId: agendaThread() });
    const sendsBefore = fake.callsOf('send').length;

    const bad = await post('dialog submit (bad)', submit('2020-01-01'));
    expect(bad.status).toBe(200);
    const again = (bad.json as { task: { type: string; value: { card: { content: Card } } } }).task;
    expect(again.type).toBe('continue');
    const body = again.value.card.content.body;
    const due = body.findIndex((e) => e.id === 'due');
    expect(body[due]).toMatchObject({ type: 'Input.Date', value: '2020-01-01' });
    expect(body[due + 1]).toMatchObject({ type: 'TextBlock', text: 'The due date 2020-01-01 is in the past (today is 2026-03-02).', color: 'Attention' });
    // What was typed is kept.
    expect(body.find((e) => e.id === 'text')).toMatchObject({ value: 'TEST check school attendance' });
    expect(body.find((e) => e.id === 'owner')).toMatchObject({ value: ownerAad });
    expect(fake.callsOf('send')).toHaveLength(sendsBefore);

    const goodActivity = submit('2026-03-09');
    dialogSubmitId = goodActivity.id;
    const good = await post('dialog submit', goodActivity);
    expect(good.status).toBe(200);
    const recorded = (good.json as { task: { type: string; value: string } }).task;
    expect(recorded.type).toBe('message');
    expect(recorded.value).toMatch(/^Recorded A-\d+\.$/);
    dialogId = Number(/A-(\d+)/.exec(recorded.value)![1]);
    expect(dialogId).not.toBe(firstId);
    const confirmation = await inAgendaThread((a) => summaryOf(a) === `Action A-${dialogId} recorded.`);
    expect(JSON.stringify(cardIn(bodyOf(confirmation)))).toContain('TEST check school attendance');

    const twice = await post('dialog submit (again)', submit('2026-03-09'));
    expect(twice.status).toBe(200);
    expect((twice.json as { task: { type: string; value: string } }).task).toEqual({ type: 'message', value: `That action was already recorded as A-${dialogId}.` });
    await sleep(500);
    expect(fake.activitiesIn(agendaThread()).filter((a) => summaryOf(a) === `Action A-${dialogId} recorded.`)).toHaveLength(1);
    const db = live();
    if (db) {
      expect(await db.prisma.action.count()).toBe(2);
      expect(await db.prisma.action.findUniqueOrThrow({ where: { id: dialogId } })).toMatchObject({ idempotencyKey: `teams:dialog:${dialogSubmitId}`, createdBy: `teams:${chairAad}` });
    }
  }, testMs);

  // ---- 3. the Done button ----

  it('"Done" closes the action, answers with the refreshed card, updates the message for everyone (PUT), and tells the meeting in the agenda thread', async () => {
    const threadBefore = fake.activitiesIn(agendaThread()).length;
    const response = await post('card done', cardAction('done', { id: `A-${firstId}` }, { ...as(chairAad), conversationId: firstConfirmation.conversationId, replyToId: firstConfirmation.id }));
    expect(response.status).toBe(200);
    const answer = response.json as { statusCode: number; type: string; value: Card };
    expect(answer.statusCode).toBe(200);
    expect(answer.type).toBe(cardType);
    expect(answer.value).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    const text = JSON.stringify(answer.value);
    expect(text).toContain(`**A-${firstId}**`);
    expect(text).toContain('· done');
    expect(executeActions(answer.value)).toEqual([]);

    const update = await fake.waitFor(() => fake.updates.find((u) => u.activityId === firstConfirmation.id), 10_000);
    expect(update.conversationId.split(';')[0]).toBe(channel);
    expect((update.body as Body).attachments?.[0]?.content).toEqual(answer.value);
    expect(fake.callsOf('update').map((c) => [c.method, c.status])).toEqual([['PUT', 200]]);
    const stored = fake.activities.find((a) => a.id === firstConfirmation.id)!;
    expect(stored.edits).toBe(1);
    expect(JSON.stringify(stored.body)).toContain('· done');

    // As the typed command's answer (and Slack's "Done" button): one confirmation in the day's agenda thread.
    const told = fake.activitiesIn(agendaThread()).slice(threadBefore);
    expect(told.map(summaryOf)).toEqual([`A-${firstId} is done.`]);
    expect(told[0]!.conversationId).toBe(agendaThread());
    expect(bodyOf(told[0]!).replyToId).toBeUndefined();
    const toldCard = cardIn(bodyOf(told[0]!));
    expect(JSON.stringify(toldCard)).toContain(`**A-${firstId}**`);
    expect(JSON.stringify(toldCard)).toContain('· done');
    expect(executeActions(toldCard)).toEqual([]);

    const db = live();
    if (db) {
      const row = await db.prisma.action.findUniqueOrThrow({ where: { id: firstId } });
      expect(row.status).toBe('done');
      expect(row.closedAt).not.toBeNull();
    }
  }, testMs);

  it('"Update" asks for a note in the card; "Save note" records it and refreshes the card for everyone', async () => {
    const confirmation = fake.activitiesIn(agendaThread()).find((a) => summaryOf(a) === `Action A-${dialogId} recorded.`)!;
    const where = { ...as(chairAad), conversationId: confirmation.conversationId, replyToId: confirmation.id };
    const asked = await post('card update', cardAction('update', { id: `A-${dialogId}` }, where));
    expect(asked.status).toBe(200);
    const askCard = (asked.json as { statusCode: number; type: string; value: Card }).value;
    expect(walk(askCard.body).find((e) => e.type === 'Input.Text')).toMatchObject({ id: 'note', isRequired: true });
    expect(executeActions(askCard).map((e) => [e.verb, e.data])).toEqual([['save-note', { id: `A-${dialogId}` }]]);
    // Asking changes nothing for anyone else.
    expect(fake.updates.filter((u) => u.activityId === confirmation.id)).toEqual([]);

    // Action.Execute merges the card's inputs into the action's data.
    const threadBefore = fake.activitiesIn(agendaThread()).length;
    const saved = await post('card save-note', cardAction('save-note', { id: `A-${dialogId}`, note: 'TEST left a message, will try again' }, where));
    expect(saved.status).toBe(200);
    const answer = saved.json as { statusCode: number; type: string; value: Card };
    expect(answer).toMatchObject({ statusCode: 200, type: cardType });
    expect(executeActions(answer.value).map((e) => e.verb)).toEqual(['done', 'update']);
    const update = await fake.waitFor(() => fake.updates.find((u) => u.activityId === confirmation.id), 10_000);
    expect((update.body as Body).attachments?.[0]?.content).toEqual(answer.value);
    // The meeting hears of the note in the agenda thread, as it would of "action update".
    expect(fake.activitiesIn(agendaThread()).slice(threadBefore).map(summaryOf)).toEqual([`Noted on A-${dialogId}.`]);
    const db = live();
    if (db) {
      expect(await db.prisma.actionUpdate.findFirst({ where: { actionId: dialogId, kind: 'update' } })).toMatchObject({ note: 'TEST left a message, will try again', author: `teams:${chairAad}` });
      expect((await db.prisma.action.findUniqueOrThrow({ where: { id: dialogId } })).status).toBe('open');
    }
  }, testMs);

  // ---- people: names, members, and who may press which button ----

  it('names a chair known only by AAD id (DMM_CHAIRS) as Teams does once they talk; member list shows it; member add takes the roster name', async () => {
    const [list] = await answersInAgendaThread('member list', say('member list'));
    const listed = bodyOf(list!);
    expect(listed.textFormat).toBe('plain');
    expect(listed.text).toContain('Test Chair (police, chair)');
    expect(listed.text).toContain('Test Owner (idva)');
    expect(listed.text).not.toContain(chairAad);

    const [added] = await answersInAgendaThread('member add', say(`member add <at>${newcomer.name}</at> probation`, [newcomer]));
    expect(bodyOf(added!).text).toBe('Test Newcomer is now a member (probation).');
    const [again] = await answersInAgendaThread('member list (again)', say('member list'));
    expect(bodyOf(again!).text).toContain('Test Newcomer (probation)');
    expect(bodyOf(again!).text).not.toContain(newcomerAad);
  }, testMs);

  let ownersId: number;

  it("holds the card's buttons to the commands' rules: another member may neither Update nor close an action, its owner may", async () => {
    const [created] = await answersInAgendaThread('action add (for the owner)', say(`action add TEST-INC-2 <at>${owner.name}</at> +5d TEST the owner closes this`, [owner]));
    ownersId = Number(/^Action A-(\d+) recorded\.$/.exec(summaryOf(created!))![1]);
    const where = (aad: string) => ({ ...as(aad), conversationId: created!.conversationId, replyToId: created!.id });
    const updatesBefore = fake.updates.length;
    const sendsBefore = fake.callsOf('send').length;
    const refusal = `A-${ownersId} belongs to someone else: only its owner or a chair can change it.`;
    const message = (value: unknown) => ({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value });

    // A member who is not its owner (nor a chair): refused, in the clicker's card only.
    expect((await post('member: update another\'s', cardAction('update', { id: `A-${ownersId}` }, where(newcomerAad)))).json).toEqual(message(refusal));
    expect((await post('member: done another\'s', cardAction('done', { id: `A-${ownersId}` }, where(newcomerAad)))).json).toEqual(message(expect.stringContaining(refusal)));
    const note = cardAction('save-note', { id: `A-${ownersId}`, note: 'TEST not mine to note' }, where(newcomerAad));
    expect((await post('member: note on another\'s', note)).json).toEqual(message(expect.stringContaining(refusal)));
    expect(fake.updates).toHaveLength(updatesBefore);
    expect(fake.callsOf('send')).toHaveLength(sendsBefore);

    // Its owner may: "Update" asks for the note; "Done" closes it for everyone and tells the meeting.
    const asked = await post('owner: update', cardAction('update', { id: `A-${ownersId}` }, where(ownerAad)));
    expect(walk((asked.json as { value: Card }).value.body).find((e) => e.type === 'Input.Text')).toMatchObject({ id: 'note', isRequired: true });
    const threadBefore = fake.activitiesIn(agendaThread()).length;
    const done = await post('owner: done', cardAction('done', { id: `A-${ownersId}` }, where(ownerAad)));
    expect(done.json).toMatchObject({ statusCode: 200, type: cardType });
    expect(JSON.stringify((done.json as { value: Card }).value)).toContain('· done');
    await fake.waitFor(() => fake.updates.find((u) => u.activityId === created!.id), 10_000);
    expect(fake.activitiesIn(agendaThread()).slice(threadBefore).map(summaryOf)).toEqual([`A-${ownersId} is done.`]);

    const db = live();
    if (db) {
      expect(await db.prisma.actionUpdate.findMany({ where: { actionId: ownersId }, orderBy: { id: 'asc' }, select: { kind: true, author: true } })).toEqual([
        { kind: 'created', author: `teams:${chairAad}` },
        { kind: 'done', author: `teams:${ownerAad}` },
      ]);
      expect(await db.prisma.auditEvent.findFirst({ where: { action: 'refused', actor: `teams:${newcomerAad}` } })).toMatchObject({ channel: meetingKey, reason: `not the owner: update A-${ownersId}` });
    }
  }, testMs);

  it('keeps a failed send inside the handler: Teams gets 200, the action is recorded once, and the answer does not say nothing changed', async () => {
    fake.failNext('send', { status: 500 });
    const message = say(`action add TEST-INC-2 <at>${owner.name}</at> +4d TEST answer lost`, [owner]);
    const answers = await answersInAgendaThread('action add (answer lost)', message);
    expect(answers).toHaveLength(1);
    const said = bodyOf(answers[0]!);
    expect(said.textFormat).toBe('plain');
    expect(said.text).toMatch(/^Teams did not take dmm-bot's answer, but your request was carried out\./);
    expect(said.text).not.toMatch(/[Nn]othing was changed/);
    expect(fake.callsOf('send').slice(-2).map((c) => [c.conversationId, c.status])).toEqual([
      [agendaThread(), 500],
      [agendaThread(), 201],
    ]);
    // Logged as a warning, with no words of the command in it.
    const logged = await fake.waitFor(() => bot.stderr().split('\n').find((line) => line.includes('teams reply failed')), 10_000);
    expect(logged).toMatch(/"level":40/);
    expect(logged).not.toContain('TEST answer lost');
    // Delivered again by Teams, it is recognised: still one action.
    const [again] = await answersInAgendaThread('action add (answer lost, redelivered)', message);
    expect(summaryOf(again!)).toMatch(/^That action was already recorded as A-\d+\.$/);
    const db = live();
    if (db) expect(await db.prisma.action.count({ where: { text: 'TEST answer lost' } })).toBe(1);
  }, testMs);

  // ---- 5. refused requests ----

  it('refuses with 401, and does nothing, without a token or with a bad one', async () => {
    const callsBefore = fake.calls.length;
    const tokensBefore = fake.tokenRequests.length;
    const serviceUrl = fake.serviceUrl;
    const cases: Array<[string, string | null]> = [
      ['no token', null],
      ['wrong issuer', fake.signToken({ audience: clientId, serviceUrl, issuer: 'https://login.example.org' })],
      ['signed with another key', fake.otherKeyToken({ audience: clientId, serviceUrl })],
      ['expired 6 minutes ago', fake.signToken({ audience: clientId, serviceUrl, expiresInSeconds: -360 })],
      ['for another audience', fake.signToken({ audience: '0b0b0b0b-0000-4000-8000-00000000ffff', serviceUrl })],
      ['for another service URL', fake.signToken({ audience: clientId, serviceUrl: 'https://smba.trafficmanager.net/teams/' })],
    ];
    for (const [name, token] of cases) {
      const message = await post(`forged: ${name}`, say(`action add TEST-INC-2 <at>${owner.name}</at> friday TEST forged ${name}`, [owner]), token);
      expect(message.status, name).toBe(401);
      const click = await post(`forged click: ${name}`, cardAction('done', { id: `A-${dialogId}` }, { ...as(chairAad), conversationId: agendaThread(), replyToId: agendaId }), token);
      expect(click.status, name).toBe(401);
    }
    await sleep(1_000);
    expect(fake.calls.slice(callsBefore)).toEqual([]);
    expect(fake.tokenRequests).toHaveLength(tokensBefore);
    const db = live();
    if (db) {
      expect(await db.prisma.action.count({ where: { text: { startsWith: 'TEST forged' } } })).toBe(0);
      expect((await db.prisma.action.findUniqueOrThrow({ where: { id: dialogId } })).status).toBe('open');
    }
  }, testMs);

  it('accepts a token that expired a minute ago (inside the 5-minute clock skew)', async () => {
    const message = say('help');
    const [answer] = await answersInAgendaThread('help (token expired 1 minute ago)', message, fake.signToken({ audience: clientId, serviceUrl: fake.serviceUrl, expiresInSeconds: -60 }));
    expect(bodyOf(answer!).text).toMatch(/action add/);
  }, testMs);

  it('refuses an activity from another tenant, correctly signed: a clear answer, nothing changed, the refusal audited', async () => {
    const membersBefore = fake.callsOf('members').length;
    const updatesBefore = fake.updates.length;
    const stranger = as(strangerAad, { tenantId: otherTenantId });
    const message = say(`action add TEST-INC-2 <at>${owner.name}</at> friday TEST other tenant`, [owner], stranger);
    const response = await post('other tenant', message);
    expect(response.status).toBe(200);
    const answer = bodyOf(await answerTo(message.id));
    expect(answer).toMatchObject({ text: 'dmm-bot is not set up for your organisation.', textFormat: 'plain' });

    const dialog = await post('other tenant: dialog', dialogFetch({ dmm: 'add-action', kind: 'incident', subject: 'TEST-INC-2', msteams: { type: 'task/fetch' } }, { ...stranger, conversationId: agendaThread() }));
    expect(dialog.json).toEqual({ task: { type: 'message', value: 'dmm-bot is not set up for your organisation.' } });
    const submit = await post(
      'other tenant: dialog submit',
      dialogSubmit({ dmm: 'add-action-submit', subject: 'TEST-INC-2', owner: ownerAad, due: '2026-03-09', text: 'TEST other tenant' }, { ...stranger, conversationId: agendaThread() }),
    );
    expect(submit.json).toEqual({ task: { type: 'message', value: 'dmm-bot is not set up for your organisation.' } });
    const click = await post('other tenant: click', cardAction('done', { id: `A-${dialogId}` }, { ...stranger, conversationId: agendaThread(), replyToId: agendaId }));
    expect(click.json).toMatchObject({ statusCode: 200, value: 'dmm-bot is not set up for your organisation.' });
    // Installing the app from another tenant: Teams shows no answer, but nothing is kept and it is audited.
    const sendsBefore = fake.callsOf('send').length;
    const install = { ...personalMessage({ ...stranger, text: '' }), type: 'installationUpdate', action: 'add' };
    expect((await post('other tenant: install', install)).status).toBe(200);
    expect(fake.callsOf('send')).toHaveLength(sendsBefore);
    // Refused before the mention was even looked up.
    expect(fake.callsOf('members')).toHaveLength(membersBefore);
    expect(fake.updates).toHaveLength(updatesBefore);
    const db = live();
    if (db) {
      expect(await db.prisma.action.count({ where: { text: 'TEST other tenant' } })).toBe(0);
      expect((await db.prisma.action.findUniqueOrThrow({ where: { id: dialogId } })).status).toBe('open');
      const refusals = await db.prisma.auditEvent.findMany({ where: { action: 'refused', actor: `teams:${strangerAad}` }, orderBy: { id: 'asc' } });
      expect(refusals.map((r) => r.reason)).toEqual(Array(5).fill(`another tenant: ${otherTenantId}`));
      expect(refusals[0]).toMatchObject({ channel: meetingKey });
      expect(await db.prisma.member.count({ where: { teamsUserId: strangerAad } })).toBe(0);
    }
  }, testMs);

  it("refuses a colleague in the channel who is not a member: a polite answer, no change, the refusal audited", async () => {
    const colleague = as(colleagueAad);
    const message = say(`action add TEST-INC-2 <at>${owner.name}</at> friday TEST from a non-member`, [owner], colleague);
    const [answer] = await answersInAgendaThread('non-member: action add', message);
    expect(bodyOf(answer!)).toMatchObject({ textFormat: 'plain', text: expect.stringMatching(/^Sorry, only members of this meeting can use dmm-bot/) });
    const updatesBefore = fake.updates.length;
    const click = await post('non-member: click', cardAction('done', { id: `A-${dialogId}` }, { ...colleague, conversationId: agendaThread(), replyToId: agendaId }));
    expect(click.json).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: expect.stringMatching(/^Sorry, only members/) });
    // "Update" only asks for a note, but a non-member is not asked: the same refusal, audited.
    const update = await post('non-member: update', cardAction('update', { id: `A-${dialogId}` }, { ...colleague, conversationId: agendaThread(), replyToId: agendaId }));
    expect(update.json).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: "Sorry, only members of this meeting can use dmm-bot. Ask the meeting's chair to add you." });
    expect(fake.updates).toHaveLength(updatesBefore);
    const dialog = await post('non-member: dialog', dialogFetch({ dmm: 'add-action', kind: 'incident', subject: 'TEST-INC-2', msteams: { type: 'task/fetch' } }, { ...colleague, conversationId: agendaThread() }));
    expect(dialog.json).toMatchObject({ task: { type: 'message', value: expect.stringMatching(/^Sorry, only members/) } });
    const db = live();
    if (db) {
      expect(await db.prisma.action.count({ where: { text: 'TEST from a non-member' } })).toBe(0);
      expect((await db.prisma.action.findUniqueOrThrow({ where: { id: dialogId } })).status).toBe('open');
      expect(await db.prisma.auditEvent.count({ where: { action: 'refused', actor: `teams:${colleagueAad}`, reason: { startsWith: 'not a member' } } })).toBe(4);
      expect(await db.prisma.member.count({ where: { teamsUserId: colleagueAad } })).toBe(0);
    }
  }, testMs);

  it('refuses a button, or an activity, that is not what dmm-bot or Teams sends, saying so and changing nothing', async () => {
    const updatesBefore = fake.updates.length;
    const sendsBefore = fake.callsOf('send').length;
    const where = { ...as(chairAad), conversationId: agendaThread(), replyToId: agendaId };
    const unknownButton = { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'That button is not one dmm-bot knows. Nothing was changed.' };
    for (const [what, verb, data] of [
      ['an id that is not an action id', 'done', { id: `A-${dialogId}; TEST` }],
      ['an id that is a number', 'done', { id: dialogId }],
      ['no id', 'done', {}],
      ['a verb dmm-bot has not', 'cancel', { id: `A-${dialogId}` }],
    ] as const) {
      expect((await post(`bad button: ${what}`, cardAction(verb, data, where))).json, what).toEqual(unknownButton);
    }
    // No sender: Teams never sends that; it is not read further.
    const { from: _from, ...noSender } = dialogFetch({ dmm: 'add-action', kind: 'incident', subject: 'TEST-INC-1' }, { ...as(chairAad), conversationId: agendaThread() });
    expect((await post('no sender', noSender)).json).toEqual({ task: { type: 'message', value: 'dmm-bot could not read that request. Nothing was changed.' } });
    expect(fake.updates).toHaveLength(updatesBefore);
    expect(fake.callsOf('send')).toHaveLength(sendsBefore);
    const db = live();
    if (db) expect((await db.prisma.action.findUniqueOrThrow({ where: { id: dialogId } })).status).toBe('open');
  }, testMs);

  // ---- 7. mistakes, and markup ----

  /** Each mistake's words, with mentions written by `at` (Teams: `<at>name</at>`; the command grammar: `<@aad>`). */
  const mistakes: Array<{ name: string; words: (at: (p: Person) => string) => string; mentions: Person[]; what: RegExp }> = [
    { name: 'an unknown subcommand', words: () => 'action frob', mentions: [], what: /"action frob" is not a command/ },
    { name: 'an unknown reference', words: (at) => `action add TEST-NO-SUCH-REF ${at(owner)} friday Review the safety plan`, mentions: [owner], what: /No incident or person is known by "TEST-NO-SUCH-REF"/ },
    { name: 'a due date in the past', words: (at) => `action add TEST-INC-1 ${at(owner)} 2020-01-01 Review the safety plan`, mentions: [owner], what: /The due date 2020-01-01 is in the past/ },
    { name: 'an owner who is not a member', words: (at) => `action add TEST-INC-1 ${at(nobody)} friday Review the safety plan`, mentions: [nobody], what: /The owner must be a member/ },
    { name: 'a 10,000-character text', words: (at) => `action add TEST-INC-1 ${at(owner)} friday ${'x'.repeat(10_000)}`, mentions: [owner], what: /limit is 4000/ },
    { name: 'an action id that does not exist', words: () => 'action done A-999', mentions: [], what: /no action A-999/ },
  ];
  const teamsAt = (p: Person) => `<at>${p.name}</at>`;
  const grammarAt = (p: Person) => `<@${p.aad}>`;
  /** What each mistake got in Teams, to compare with handleCommand's answer once the bot has stopped. */
  const answered: Array<{ name: string; command: string; text: string }> = [];
  let closedTwiceId: number;

  async function mistake(name: string, words: string, mentions: Person[], what: RegExp, command: string): Promise<void> {
    const answers = await answersInAgendaThread(`mistake: ${name}`, say(words, mentions));
    expect(answers, name).toHaveLength(1);
    const answer = bodyOf(answers[0]!);
    expect(answer.textFormat, name).toBe('plain');
    expect(answer.attachments, name).toBeUndefined();
    expect(mentionEntities(answer), name).toEqual([]);
    expect(answer.text, name).toMatch(what);
    answered.push({ name, command, text: answer.text! });
  }

  it('answers every mistake in the day\'s agenda thread (not the command\'s own), saying what was wrong, and records nothing', async () => {
    const db = live();
    const actionsBefore = db ? await db.prisma.action.count() : 0;
    for (const m of mistakes) {
      await mistake(m.name, m.words(teamsAt), m.mentions, m.what, m.words(grammarAt));
    }
    // Every action mistake says how to write it, with an example.
    for (const a of answered.filter((x) => x.command.startsWith('action add'))) {
      expect(a.text, a.name).toMatch(/Usage: \/dmm action add/);
      expect(a.text, a.name).toMatch(/for example: \/dmm action add/i);
    }
    if (db) expect(await db.prisma.action.count()).toBe(actionsBefore);
  }, testMs);

  it('closing an action twice: the second time says it is already done, and changes nothing', async () => {
    const add = say(`action add TEST-INC-2 <at>${owner.name}</at> +7d TEST close me twice`, [owner]);
    await post('action add (close twice)', add);
    const created = await inAgendaThread((a) => /^Action A-\d+ recorded\.$/.test(summaryOf(a)) && JSON.stringify(a.body).includes('TEST close me twice'));
    closedTwiceId = Number(/A-(\d+)/.exec(summaryOf(created))![1]);
    const done = say(`action done A-${closedTwiceId}`);
    await post('action done', done);
    const closed = await inAgendaThread((a) => summaryOf(a) === `A-${closedTwiceId} is done.`);
    expect(JSON.stringify(closed.body)).toContain('· done');
    const db = live();
    const updatesBefore = db ? await db.prisma.actionUpdate.count({ where: { actionId: closedTwiceId } }) : 0;
    await mistake('closing an action twice', `action done A-${closedTwiceId}`, [], new RegExp(`A-${closedTwiceId} is already done`), `action done A-${closedTwiceId}`);
    expect(fake.activitiesIn(agendaThread()).filter((a) => summaryOf(a) === `A-${closedTwiceId} is done.`)).toHaveLength(1);
    if (db) expect(await db.prisma.actionUpdate.count({ where: { actionId: closedTwiceId } })).toBe(updatesBefore);
  }, testMs);

  let markupId: number;
  const markupText = 'TEST call <at>Someone</at> about <b>x</b> *now*';

  it('never echoes <at> or HTML typed in a text as markup: no mention is made of it, and the card shows it literally', async () => {
    const membersBefore = fake.callsOf('members').length;
    const add = say(`action add TEST-INC-2 <at>${owner.name}</at> +3d ${markupText}`, [owner]);
    expect((await post('action add (markup)', add)).status).toBe(200);
    const confirmation = await inAgendaThread((a) => /^Action A-\d+ recorded\.$/.test(summaryOf(a)) && JSON.stringify(a.body).includes('Someone'));
    markupId = Number(/A-(\d+)/.exec(summaryOf(confirmation))![1]);
    const body = bodyOf(confirmation);
    expect(mentionEntities(body)).toEqual([]);
    expect(body.text).toBeUndefined();
    const card = cardIn(body);
    expect(JSON.stringify(card)).not.toContain('msteams');
    const line = walk(card.body).filter((e) => e.type === 'TextBlock').map((e) => String(e.text)).find((t) => t.includes('Someone'))!;
    // Shown as typed: Adaptive Cards render neither <at> nor HTML from a TextBlock, and the Markdown is escaped.
    expect(line).toContain('TEST call <at>Someone</at> about <b>x</b> \\*now\\*');
    // Only the real mention (the owner) was looked up.
    expect(fake.callsOf('members').slice(membersBefore).map((c) => c.activityId)).toEqual([owner.id]);

    const unknown = say(`<b>x</b> <at>Someone</at> hello`);
    const [reply] = await answersInAgendaThread('unknown command (markup)', unknown);
    const answer = bodyOf(reply!);
    expect(answer.textFormat).toBe('plain');
    expect(mentionEntities(answer)).toEqual([]);
    expect(answer.text).toContain('"<b>x</b>"');

    const db = live();
    if (db) expect((await db.prisma.action.findUniqueOrThrow({ where: { id: markupId } })).text).toBe(markupText);
    // No message from the bot carried a mention entity, or a quote.
    for (const a of fake.activities) {
      expect(mentionEntities(bodyOf(a)), summaryOf(a)).toEqual([]);
      expect(JSON.stringify(a.body)).not.toContain('<quoted');
    }
  }, testMs);

  // ---- 6. the outgoing token ----

  it('fetched its outgoing token once from TEAMS_TOKEN_URL, and used it for every Bot Connector call', () => {
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.tokenRequests[0]).toMatchObject({ grantType: 'client_credentials', clientId, clientSecret, scope: botFrameworkScope, status: 200 });
    const sends = fake.callsOf('send');
    expect(sends.length).toBeGreaterThanOrEqual(10);
    expect(fake.calls.every((c) => c.token === fake.issuedTokens[0])).toBe(true);
  });

  // ---- the store, once the bot has stopped ----

  it('leaves the store as the answers said: the actions, the refusal, the same answers as handleCommand gives, an intact audit chain', async () => {
    const sorted = timings.map((t) => t.ms).sort((a, b) => a - b);
    const slowest = timings.reduce((a, b) => (b.ms > a.ms ? b : a));
    console.info(`[teams ${target.name}] ${timings.length} requests answered: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${slowest.ms.toFixed(0)} ms (${slowest.what}); start-up to agenda ${agendaPostedAt - startedAt} ms`);
    const now = new Date(Date.parse(justAfterCutoff) + (Date.now() - startedAt));
    expect(await bot.stop()).toBe(0);
    expect(bot.stderr()).not.toMatch(/"level":(50|60)/);

    const db = target.name === 'embedded' ? await openDatabase({ DMM_DATA_DIR: seeded.env.DMM_DATA_DIR! }) : seeded;
    try {
      const actions = await db.prisma.action.findMany({ orderBy: { id: 'asc' } });
      expect(actions.map((a) => [a.id, a.text, a.status])).toEqual([
        [firstId, 'Review the safety plan', 'done'],
        [dialogId, 'TEST check school attendance', 'open'],
        [ownersId, 'TEST the owner closes this', 'done'],
        [expect.any(Number), 'TEST answer lost', 'open'],
        [closedTwiceId, 'TEST close me twice', 'done'],
        [markupId, markupText, 'open'],
      ]);
      expect(actions[0]!.idempotencyKey).toBe(`teams:message:${firstMessage.id}`);
      expect(actions[1]!.idempotencyKey).toBe(`teams:dialog:${dialogSubmitId}`);
      expect(await db.prisma.actionUpdate.count({ where: { actionId: firstId, kind: 'done' } })).toBe(1);
      expect(await db.prisma.actionUpdate.count({ where: { actionId: closedTwiceId, kind: 'done' } })).toBe(1);
      // The message, the dialog (opened and submitted), the click and the installation from another tenant.
      expect(await db.prisma.auditEvent.count({ where: { action: 'refused', actor: `teams:${strangerAad}`, reason: `another tenant: ${otherTenantId}` } })).toBe(5);
      expect(await db.prisma.auditEvent.count({ where: { action: 'refused', actor: `teams:${colleagueAad}`, reason: { startsWith: 'not a member' } } })).toBe(4);
      expect(await db.prisma.auditEvent.count({ where: { action: 'refused', actor: `teams:${newcomerAad}`, reason: `not the owner: update A-${ownersId}` } })).toBe(1);
      expect(await db.prisma.actionUpdate.findMany({ where: { actionId: ownersId }, orderBy: { id: 'asc' }, select: { kind: true, author: true } })).toEqual([
        { kind: 'created', author: `teams:${chairAad}` },
        { kind: 'done', author: `teams:${ownerAad}` },
      ]);
      // The chair got the name Teams gives; a name already known was kept; the newcomer got the roster's.
      const people = await db.prisma.member.findMany({ orderBy: { id: 'asc' }, select: { teamsUserId: true, displayName: true, agency: true, role: true } });
      expect(people).toEqual(
        expect.arrayContaining([
          { teamsUserId: chairAad, displayName: 'Test Chair', agency: 'police', role: 'chair' },
          { teamsUserId: ownerAad, displayName: 'Test Owner', agency: 'idva', role: 'member' },
          { teamsUserId: newcomerAad, displayName: 'Test Newcomer', agency: 'probation', role: 'member' },
        ]),
      );
      expect(people).toHaveLength(3);
      expect(await db.prisma.actionUpdate.findFirst({ where: { actionId: dialogId, kind: 'update' } })).toMatchObject({ note: 'TEST left a message, will try again', author: `teams:${chairAad}` });

      const runs = await db.prisma.agendaRun.findMany();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ meetingKey, status: 'sent', messageRef: agendaId, partsPosted: 1, late: false });
      expect(await db.prisma.auditEvent.count({ where: { action: 'agenda.post' } })).toBe(1);

      // Teams gave each mistake exactly the answer the platform-neutral command handler gives (as Slack does).
      const meeting = meetingsOf(parseConfig(env as Record<string, string>)).find((m) => m.key === meetingKey)!;
      const actor = actorOf('teams', chairAad, await findMember(db.prisma, { platform: 'teams', userId: chairAad }));
      expect(actor.isChair).toBe(true);
      expect(answered.map((a) => a.name)).toEqual([...mistakes.map((m) => m.name), 'closing an action twice']);
      for (const a of answered) {
        const reply = await handleCommand(db, { meeting, actor, now }, a.command);
        expect(reply.problem, a.name).toBe(true);
        expect(a.text, a.name).toBe(reply.text);
      }
      const chain = await verifyAuditChain(db.prisma);
      expect(chain).toMatchObject({ ok: true });
    } finally {
      if (target.name === 'embedded') await db.close();
    }
  }, testMs);
});

// ---- 1c. before the day's agenda, and personal chats ----

/** Monday 2 March 2026, 07:00 GMT: two hours before the day's agenda is due. */
const beforeAgenda = '2026-03-02T07:00:00Z';

describe.each(databaseTargets)("dmm start on Teams before the day's agenda ($name store)", (target) => {
  let fake: FakeTeams;
  let seeded: TestDatabase;
  let bot: DmmServer;
  let ownersActionId: number;

  beforeAll(async () => {
    seeded = await target.create();
    await seed(seeded);
    const ownerRow = await seeded.prisma.member.findFirstOrThrow({ where: { teamsUserId: ownerAad } });
    const action = await seeded.prisma.action.create({ data: { meetingKey, text: 'TEST closed from a personal chat', ownerId: ownerRow.id, agency: 'idva', dueOn: dateOf('2026-03-06'), createdBy: 'test' } });
    ownersActionId = action.id;
    if (target.name === 'embedded') await seeded.close();
    fake = await startFakeTeams({ clientId, clientSecret, ...roster });
    bot = await startDmm(teamsEnv(seeded.env, fake, beforeAgenda), { timeoutMs: startMs });
  }, startMs + 30_000);

  afterAll(() => tearDown(target.name, fake, seeded));

  const as = (aad: string): TeamsActorOptions => ({ fromAadId: aad, fromName: fromNames[aad], tenantId, serviceUrl: fake.serviceUrl, botId: clientId });
  const post = (activity: unknown) => postActivity(`http://127.0.0.1:${bot.port}/api/messages`, activity, fake.signToken({ audience: clientId, serviceUrl: fake.serviceUrl }));
  /** The personal chat Teams gives the bot with a person (the builders' default id). */
  const chatWith = (aad: string) => `a:1:1-29:${aad}`;
  const topLevel = () => fake.activitiesIn(channel).filter((a) => a.threadId === undefined);

  it('answers a chair named only by AAD id (DMM_CHAIRS) in their personal chat, and lists them by the name Teams gives', async () => {
    const response = await post(personalMessage({ ...as(chairAad), text: 'member list' }));
    expect(response.status).toBe(200);
    const answers = fake.activitiesIn(chatWith(chairAad));
    expect(answers).toHaveLength(1);
    const answer = bodyOf(answers[0]!);
    expect(answer.textFormat).toBe('plain');
    expect(answer.text).toContain('Test Chair (police, chair)');
    expect(answer.text).toContain('Test Owner (idva)');
    expect(answer.text).not.toContain(chairAad);
    // A private answer stays in the personal chat.
    expect(fake.activitiesIn(channel)).toEqual([]);
  }, testMs);

  it('answers commands in the channel in their own thread while there is no agenda thread yet, posted there and not as a quote', async () => {
    const help = channelMessage({ ...as(chairAad), conversationId: channel, text: 'help' });
    expect((await post(help)).status).toBe(200);
    const add = channelMessage({ ...as(chairAad), conversationId: channel, text: `action add TEST-INC-1 <at>${owner.name}</at> friday TEST before the agenda`, mentions: [owner] });
    expect((await post(add)).status).toBe(200);
    const [helpAnswer] = fake.activitiesIn(`${channel};messageid=${help.id}`);
    const [confirmation] = fake.activitiesIn(`${channel};messageid=${add.id}`);
    expect(bodyOf(helpAnswer!).text).toMatch(/action add/);
    expect(summaryOf(confirmation!)).toMatch(/^Action A-\d+ recorded\.$/);
    for (const answer of [helpAnswer!, confirmation!]) {
      expect(bodyOf(answer).replyToId).toBeUndefined();
      expect(JSON.stringify(answer.body)).not.toContain('<quoted');
    }
    expect(fake.callsOf('send').filter((c) => c.conversationId === `${channel};messageid=${add.id}`).map((c) => c.path)).toEqual([`/v3/conversations/${channel};messageid=${add.id}/activities`]);
    expect(topLevel()).toEqual([]);
  }, testMs);

  it('tells the meeting of a change made in a personal chat (in the channel, as there is no agenda thread yet), and answers in the chat', async () => {
    const response = await post(personalMessage({ ...as(ownerAad), text: `action done A-${ownersActionId}` }));
    expect(response.status).toBe(200);
    expect(fake.activitiesIn(chatWith(ownerAad)).map(summaryOf)).toEqual([`A-${ownersActionId} is done.`]);
    const told = topLevel();
    expect(told.map(summaryOf)).toEqual([`A-${ownersActionId} is done.`]);
    expect(JSON.stringify(cardIn(bodyOf(told[0]!)))).toContain('TEST closed from a personal chat');
    // A private answer from a personal chat does not reach the channel.
    await post(personalMessage({ ...as(ownerAad), text: 'action list mine' }));
    expect(fake.activitiesIn(chatWith(ownerAad))).toHaveLength(2);
    expect(topLevel()).toHaveLength(1);
  }, testMs);

  it('leaves the store as said: the chair named, the owner\'s known name kept, the action closed by its owner', async () => {
    expect(await bot.stop()).toBe(0);
    expect(bot.stderr()).not.toMatch(/"level":(50|60)/);
    const db = target.name === 'embedded' ? await openDatabase({ DMM_DATA_DIR: seeded.env.DMM_DATA_DIR! }) : seeded;
    try {
      const people = await db.prisma.member.findMany({ orderBy: { id: 'asc' }, select: { teamsUserId: true, displayName: true, teamsChatId: true } });
      expect(people).toEqual(
        expect.arrayContaining([
          { teamsUserId: chairAad, displayName: 'Test Chair', teamsChatId: chatWith(chairAad) },
          { teamsUserId: ownerAad, displayName: 'Test Owner', teamsChatId: chatWith(ownerAad) },
        ]),
      );
      expect(await db.prisma.action.findUniqueOrThrow({ where: { id: ownersActionId } })).toMatchObject({ status: 'done' });
      expect(await db.prisma.actionUpdate.count({ where: { actionId: ownersActionId, kind: 'done', author: `teams:${ownerAad}` } })).toBe(1);
      expect(await db.prisma.agendaRun.count()).toBe(0);
      expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: true });
    } finally {
      if (target.name === 'embedded') await db.close();
    }
  }, testMs);
});

// ---- 1b. two replicas on one PostgreSQL database ----

describe.runIf(Boolean(process.env.TEST_DATABASE_URL))('two dmm processes on Teams, one PostgreSQL database', () => {
  let db: TestDatabase | undefined;
  let fake: FakeTeams | undefined;
  afterEach(async () => {
    await stopAllDmm();
    await fake?.close();
    await db?.destroy();
    db = undefined;
    fake = undefined;
  });

  it('post the agenda exactly once between them', async () => {
    db = await createServerDatabase(process.env.TEST_DATABASE_URL!);
    const serverLabels = await seed(db);
    fake = await startFakeTeams({ clientId, clientSecret });
    // Teams fails twice first: whichever process claims the agenda holds its claim through ~3 s of
    // backoff, so the other's start-up tick meets the claim instead of a finished post.
    fake.failNext('send', { status: 500 }, 2);
    const env = teamsEnv(db.env, fake, justAfterCutoff);
    const [a, b] = await Promise.all([startDmm(env, { timeoutMs: startMs }), startDmm(env, { timeoutMs: startMs })]);
    expect(a.port).not.toBe(b.port);
    const [agenda] = await fake.waitFor(() => (channelPosts(fake!).length > 0 ? channelPosts(fake!) : undefined), 30_000);
    await sleep(5_000);
    expect(channelPosts(fake)).toHaveLength(1);
    expect(fake.callsOf('send').map((c) => c.status)).toEqual([500, 500, 201]);
    expectMondaysAgenda(agenda!, serverLabels);
    expect(a.stderr() + b.stderr()).not.toMatch(/"level":(50|60)/);
    const runs = await db.prisma.agendaRun.findMany();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ meetingKey, status: 'sent', messageRef: agenda!.id, partsPosted: 1 });
    expect(await db.prisma.auditEvent.count({ where: { action: 'agenda.post' } })).toBe(1);
  }, testMs);
});

// ---- 4. reminders in personal chats, and in the channel where the app is not installed ----

/** Tuesday 3 March 2026, 10:00 GMT: 5 working days before the panel on Tuesday 10 March. */
const T = '2026-03-03T10:00:00Z';
const ownerAads = ['0a0a0a0a-0000-4000-8000-0000000000a1', '0a0a0a0a-0000-4000-8000-0000000000a2', '0a0a0a0a-0000-4000-8000-0000000000a3', '0a0a0a0a-0000-4000-8000-0000000000a4'];
/** The second and fourth owners have not installed the app: Teams refuses a personal chat with them. */
const notInstalledAads = [ownerAads[1]!, ownerAads[3]!];
/** Each owner's actions' texts (the fourth has two, so a fallback message holds more than one). */
const reminderTexts = [['TEST reminder action 1'], ['TEST reminder action 2'], ['TEST reminder action 3'], ['TEST reminder action 4a', 'TEST reminder action 4b']];
const allReminderTexts = reminderTexts.flat();

async function seedReminders(db: Database): Promise<void> {
  await db.prisma.member.create({ data: { teamsUserId: chairAad, displayName: 'Test Chair', agency: 'police', role: 'chair' } });
  for (const [i, aad] of ownerAads.entries()) {
    const member = await db.prisma.member.create({ data: { teamsUserId: aad, displayName: `Test Owner ${i + 1}`, agency: 'idva' } });
    for (const text of reminderTexts[i]!) {
      await db.prisma.action.create({ data: { meetingKey, text, ownerId: member.id, agency: 'idva', dueOn: dateOf('2026-03-10'), createdBy: 'test' } });
    }
  }
  await db.prisma.panel.create({ data: { meetingKey, kind: 'marac', title: 'Test MARAC', startsAt: new Date('2026-03-10T10:00:00Z'), createdBy: 'test' } });
}

const reminderSummary = /Reminders: (\d+) due, (\d+) new, (\d+) sent, (\d+) to retry, (\d+) failed\./;
function reminderCounts(run: DmmRun): number[] {
  const m = reminderSummary.exec(run.stdout);
  if (!m) throw new Error(`no summary line (exit ${run.code}).\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return m.slice(1).map(Number);
}

describe.each(databaseTargets)('dmm reminders run on Teams ($name store)', (target) => {
  let db: TestDatabase | undefined;
  let fake: FakeTeams | undefined;
  afterEach(async () => {
    await fake?.close();
    if (target.name === 'embedded') {
      if (db?.env.DMM_DATA_DIR) await rm(db.env.DMM_DATA_DIR, { recursive: true, force: true });
    } else await db?.destroy();
    db = undefined;
    fake = undefined;
  });

  it('opens a personal chat with each owner and sends one reminder each; each owner without the app is mentioned in the channel in a message of their own, and the chairs are told of each', async () => {
    db = await target.create();
    await seedReminders(db);
    if (target.name === 'embedded') await db.close();
    fake = await startFakeTeams({ clientId, clientSecret, notInstalledFor: notInstalledAads });
    const env = teamsEnv(db.env, fake);

    const first = await runDmm(['reminders', 'run', '--now', T], env, 150_000);
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    // 4 planned (one per owner for the panel); 6 sent: the 4 reminders and the chair's notice of each of
    // the 2 that went to the channel.
    expect(reminderCounts(first)).toEqual([4, 4, 6, 0, 0]);

    // Personal chats: created with POST /v3/conversations (in our tenant) for each reachable owner and the chair.
    const creates = fake.callsOf('create');
    expect(creates.map((c) => [c.path, c.method])).toEqual(creates.map(() => ['/v3/conversations', 'POST']));
    const refusedCreates = creates.filter((c) => c.status === 403).map((c) => [(c.body as { members: Array<{ id: string }> }).members[0]!.id, c.errorCode]);
    expect(refusedCreates.sort()).toEqual(notInstalledAads.map((aad) => [aad, 'BotNotInConversationRoster']).sort());
    const created = fake.conversations.map((c) => c.id).sort();
    expect(created).toEqual([`a:1:1-${chairAad}`, `a:1:1-${ownerAads[0]}`, `a:1:1-${ownerAads[2]}`].sort());
    for (const c of fake.conversations) expect(c.body).toMatchObject({ tenantId, channelData: { tenant: { id: tenantId } } });

    for (const [i, aad] of ownerAads.entries()) {
      if (notInstalledAads.includes(aad)) continue;
      const messages = fake.activitiesIn(`a:1:1-${aad}`);
      expect(messages, `owner ${i + 1}`).toHaveLength(1);
      const body = bodyOf(messages[0]!);
      expect(body.summary).toMatch(/^Before Test MARAC \(P-\d+\) on Tue 10 Mar 10:00: please report progress on your open action\.$/);
      const json = JSON.stringify(cardIn(body));
      for (const text of allReminderTexts) expect(json.includes(text), `owner ${i + 1}: ${text}`).toBe(reminderTexts[i]!.includes(text));
      expect(executeActions(cardIn(body)).map((e) => e.verb)).toEqual(['done', 'update']);
      expect(mentionEntities(body)).toEqual([]);
    }

    // Each owner without the app: one top-level post in the meeting channel, mentioning that owner
    // (by AAD object id) and no one else, holding that owner's actions and no one else's.
    const inChannel = fake.activitiesIn(channel);
    expect(inChannel).toHaveLength(2);
    for (const post of inChannel) {
      expect(post.conversationId).toBe(channel);
      expect(post.threadId).toBeUndefined();
    }
    for (const aad of notInstalledAads) {
      const i = ownerAads.indexOf(aad);
      const name = `Test Owner ${i + 1}`;
      const mine = inChannel.filter((a) => mentionEntities(bodyOf(a)).some((m) => m.mentioned?.id === aad));
      expect(mine, name).toHaveLength(1);
      const fallback = bodyOf(mine[0]!);
      expect(fallback.text).toMatch(new RegExp(`^<at>${name}</at> this is for you: dmm-bot could not message you privately`));
      expect(mentionEntities(fallback)).toEqual([{ type: 'mention', text: `<at>${name}</at>`, mentioned: { id: aad, name } }]);
      const json = JSON.stringify(cardIn(fallback));
      for (const text of allReminderTexts) expect(json.includes(text), `${name}: ${text}`).toBe(reminderTexts[i]!.includes(text));
      // "Done" and "Update" for each of them.
      expect(executeActions(cardIn(fallback))).toHaveLength(2 * reminderTexts[i]!.length);
      expect(fallback.summary).toMatch(reminderTexts[i]!.length === 1 ? /your open action\.$/ : /your 2 open actions\.$/);
    }

    // The chair hears of each, in a notice of its own holding only that owner's actions.
    const toChair = fake.activitiesIn(`a:1:1-${chairAad}`);
    expect(toChair).toHaveLength(2);
    for (const notice of toChair) {
      expect(summaryOf(notice)).toMatch(/went to the meeting channel with a mention/);
      expect(mentionEntities(bodyOf(notice))).toEqual([]);
    }
    for (const aad of notInstalledAads) {
      const i = ownerAads.indexOf(aad);
      const about = toChair.filter((n) => JSON.stringify(cardIn(bodyOf(n))).includes(reminderTexts[i]![0]!));
      expect(about, `notice about owner ${i + 1}`).toHaveLength(1);
      const json = JSON.stringify(cardIn(bodyOf(about[0]!)));
      expect(json).toContain(`Test Owner ${i + 1}, idva`);
      for (const text of allReminderTexts) expect(json.includes(text), `notice about owner ${i + 1}: ${text}`).toBe(reminderTexts[i]!.includes(text));
    }
    expect(fake.activities).toHaveLength(6);

    // One outgoing token for the whole run.
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.tokenRequests[0]).toMatchObject({ clientId, clientSecret, scope: botFrameworkScope });
    expect(fake.calls.every((c) => c.token === fake!.issuedTokens[0])).toBe(true);

    // Run again: nothing new to send.
    const second = await runDmm(['reminders', 'run', '--now', T], env, 150_000);
    expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
    expect(reminderCounts(second)).toEqual([4, 0, 0, 0, 0]);
    expect(fake.activities).toHaveLength(6);

    if (target.name === 'postgres') {
      const chats = await db.prisma.member.findMany({ where: { teamsChatId: { not: null } }, select: { teamsUserId: true } });
      expect(chats.map((m) => m.teamsUserId).sort()).toEqual([chairAad, ownerAads[0], ownerAads[2]].sort());
      expect(await db.prisma.auditEvent.count({ where: { action: 'reminder.sent' } })).toBe(6);
    }
  }, 360_000);
});

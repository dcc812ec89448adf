// End to end, the trial as the meeting sees it. A store (embedded PGlite; PostgreSQL too when
// TEST_DATABASE_URL is set) with synthetic, obviously fictional incidents and a trial created and enrolled
// through the use cases; then treated and control members have new incidents. Slack in process (startBot,
// its real Bolt app, a fake Slack Web API on loopback, signed slash commands): the agenda shows the lever
// due and prefills its action; `/dmm lever` records it, opens the victim contact, and refuses a control
// member and a bad mode. Teams as `dmm start` (a child process, a fake Bot Framework): the same command
// from a channel message. Then `dmm reminders run` twice: an overdue lever is told once to whoever owns
// its "Deliver lever …" action.
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgenda } from '../../src/app/build-agenda.js';
import { createTrial } from '../../src/app/create-trial.js';
import { enrolTrial } from '../../src/app/enrol-trial.js';
import { scoreAsOf } from '../../src/app/score-perpetrators.js';
import { trialRapidity } from '../../src/app/trial-records.js';
import { parseConfig, scoringSettingsOf } from '../../src/config.js';
import { defaultLeverConfig } from '../../src/domain/levers.js';
import { incidentRecordSchema } from '../../src/domain/records.js';
import { startBot, type RunningBot } from '../../src/main.js';
import { manualClock } from '../../src/scheduler/clock.js';
import { verifyAuditChain } from '../../src/store/audit.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { upsertIncidents } from '../../src/store/records-repository.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { baseEnv, runDmm, startDmm, stopAllDmm, type DmmRun } from '../support/dmm-process.js';
import { startFakeSlack, type FakeSlack, type FakeSlackMessage, type FakeSlackResponse } from '../support/fake-slack.js';
import { startFakeTeams, type FakeTeams } from '../support/fake-teams.js';
import { postToSlackApp, slashCommandBody } from '../support/slack-requests.js';
import { channelMessage, postActivity } from '../support/teams-requests.js';
import { testMeeting } from '../support/meetings.js';
import { baseTrialIncidents, eligibleInOrder, trialIncident } from '../support/trial-data.js';

// ---- Slack ----
const channel = 'C0TESTDMM';
const meetingKey = `slack:${channel}`;
const signingSecret = 'test-signing-secret-123';
const botToken = 'xoxb-test-trial';
const chair = 'U0TESTCHAIR';
const idva = 'U0TESTIDVA';
const probation = 'U0TESTPROB';
/** Wednesday 11 March 2026, 10:00 GMT: a working day, after the 09:00 agenda (posted late at start-up). */
const slackNow = new Date('2026-03-11T10:00:00Z');
const today = '2026-03-11';

// ---- Teams ----
const clientId = '0b0b0b0b-0000-4000-8000-000000000e2e';
const clientSecret = 'test-teams-client-secret';
const tenantId = '7e7e7e7e-0000-4000-8000-000000000001';
const teamsMemberAad = '0a0a0a0a-0000-4000-8000-0000000000f1';
const teamsChannel = '19:testdmmtrial@thread.tacv2';
const teamsNow = '2026-03-11T10:30:00Z';

/** Friday 13 March 2026, 14:00 GMT: working hours, past the 72-hour target of Tuesday's 10:30 incident. */
const reminderNow = '2026-03-13T14:00:00Z';

const processMs = 150_000;
const slow = 300_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the store ----

interface Cast {
  /** Treated members: one for Slack, one for Teams, one whose lever is left to go overdue. */
  slackRef: string;
  teamsRef: string;
  remindRef: string;
  controlRef: string;
  labels: Map<string, string>;
}

const record = (row: Record<string, string>) => incidentRecordSchema.parse(row);

/** Incidents, a trial of the 8 highest eligible (as of Monday 9 March), then the new incidents of Tuesday 10 March. */
async function seed(db: Database): Promise<Cast> {
  await db.prisma.$transaction((tx) => upsertIncidents(tx, baseTrialIncidents.map(record), db.labelKey));
  await db.prisma.member.create({ data: { slackUserId: idva, agency: 'idva', displayName: 'Test IDVA' } });
  await db.prisma.member.create({ data: { slackUserId: probation, agency: 'probation', displayName: 'Test Probation' } });
  await db.prisma.member.create({ data: { teamsUserId: teamsMemberAad, agency: 'police', displayName: 'Test Teams Officer' } });

  await createTrial(db, { name: 't1', arms: 'treatment,control', seed: '7', from: '2026-03-09', levers: defaultLeverConfig }, 'test:e2e');
  const outcome = await enrolTrial(db, scoringSettingsOf(parseConfig({})), 'Europe/London', { trial: 't1', asOf: '2026-03-09', top: 8 }, 'test:e2e');
  expect(outcome).toMatchObject({ kind: 'enrolled', enrolled: 8 });
  const allocations = await db.prisma.trialAllocation.findMany({ include: { nominal: true }, orderBy: { nominal: { ref: 'asc' } } });
  const treated = allocations.filter((a) => a.arm === 'treatment').map((a) => a.nominal.ref);
  const control = allocations.filter((a) => a.arm === 'control').map((a) => a.nominal.ref);
  // 8 people in blocks of 2, 4 or 6 at 1:1 leave at least 3 in each arm.
  expect(treated.length).toBeGreaterThanOrEqual(3);
  expect(control.length).toBeGreaterThanOrEqual(1);
  const cast = { slackRef: treated[0]!, teamsRef: treated[1]!, remindRef: treated[2]!, controlRef: control[0]!, labels: new Map<string, string>() };

  const after = [
    trialIncident('TEST-INC-301', '2026-03-10T10:00:00Z', cast.slackRef, 'TEST-V-301', 'assault', true),
    trialIncident('TEST-INC-302', '2026-03-10T10:15:00Z', cast.teamsRef, 'TEST-V-302', 'assault', true),
    trialIncident('TEST-INC-303', '2026-03-10T10:30:00Z', cast.remindRef, 'TEST-V-303', 'threats', false, { risk_level: 'standard' }),
    trialIncident('TEST-INC-304', '2026-03-10T10:45:00Z', cast.controlRef, 'TEST-V-304', 'verbal argument', false, { risk_level: 'standard' }),
  ];
  await db.prisma.$transaction((tx) => upsertIncidents(tx, after.map(record), db.labelKey));
  for (const n of await db.prisma.nominal.findMany({ select: { ref: true, label: true } })) cast.labels.set(n.ref, n.label);
  return cast;
}

function textOf(body: unknown): string {
  return typeof body === 'object' && body !== null && typeof (body as { text?: unknown }).text === 'string' ? (body as { text: string }).text : '';
}

type Block = { type: string; block_id?: string; text?: { text: string }; accessory?: { action_id: string; value: string; text: { text: string } }; elements?: Array<{ action_id: string; value: string; text: { text: string } }> };

describe.each(databaseTargets)('a trial in the meeting, on the $name store', (target) => {
  let seeded: TestDatabase;
  let cast: Cast;
  let fake: FakeSlack;
  let bot: RunningBot | undefined;
  let eventsUrl: string;
  let agendaTs: string;
  let remindActionId: number;
  let slackLeverId: number;
  let seq = 0;
  const clock = manualClock(slackNow);
  const label = (ref: string) => cast.labels.get(ref)!;
  /** The store, whoever holds it: the running bot's, the server's, or the embedded folder opened for a moment. */
  async function withStore<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    if (bot) return fn(bot.db);
    if (target.name === 'postgres') return fn(seeded);
    const db = await openDatabase({ DMM_DATA_DIR: seeded.env.DMM_DATA_DIR! });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    seeded = await target.create();
    cast = await seed(seeded);
    // PGlite is one process's (and one handle's) database: let go of the folder before the bot opens it.
    if (target.name === 'embedded') await seeded.close();
    fake = await startFakeSlack();
    const config = parseConfig({
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: fake.url,
      DMM_CHANNEL: channel,
      DMM_CHAIRS: chair,
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...seeded.env,
    });
    bot = await startBot(config, pino({ level: 'silent' }), { clock });
    eventsUrl = `http://127.0.0.1:${bot.port}/slack/events`;
    const run = await bot.db.prisma.agendaRun.findFirst({ where: { meetingKey, status: 'sent' } });
    expect(run?.messageRef).toBeTruthy();
    agendaTs = run!.messageRef!;
  }, slow);

  afterAll(async () => {
    await bot?.stop();
    await stopAllDmm();
    await fake?.close();
    if (target.name === 'embedded') await rm(seeded.env.DMM_DATA_DIR!, { recursive: true, force: true });
    else await seeded?.destroy();
  });

  // ---- Slack ----

  async function command(text: string, user: string): Promise<{ id: string; status: number }> {
    const id = `cmd-${++seq}`;
    const body = slashCommandBody({ channel_id: channel, user_id: user, user_name: user.toLowerCase(), text, response_url: fake.responseUrl(id), trigger_id: `${5000 + seq}.6000.trigger${seq}` });
    const response = await postToSlackApp(eventsUrl, body, { signingSecret });
    return { id, status: response.status };
  }
  const answerTo = (sent: { id: string }): Promise<FakeSlackResponse> => fake.waitFor(() => fake.responses.find((r) => r.path === `/response/${sent.id}`), 10_000);
  const meetingMessage = (predicate: (m: FakeSlackMessage) => boolean) => fake.waitFor(() => fake.messages.find((m) => m.channel === channel && predicate(m)), 10_000);
  const agendaBlocks = () => (fake.messages.find((m) => m.ts === agendaTs)?.blocks ?? []) as Block[];

  it("posts the agenda with the treated member's lever due, its Add action button prefilled \"Deliver lever …\", and nothing of the control member", async () => {
    const agenda = fake.messages.find((m) => m.ts === agendaTs)!;
    expect(agenda.channel).toBe(channel);
    const blocks = agendaBlocks();
    const section = blocks.find((b) => b.type === 'section' && b.text?.text.startsWith(`\`${label(cast.slackRef)}\``));
    expect(section, JSON.stringify(blocks).slice(0, 500)).toBeDefined();
    expect(section!.text!.text).toContain('[cohort]');
    expect(section!.text!.text).toContain(':bell: lever C (face-to-face notice) due after TEST-INC-301, by Fri 13 Mar 10:00');
    expect(section!.accessory!.text.text).toBe('Add action');
    const value = JSON.parse(section!.accessory!.value) as { kind: string; subject: string; text: string; due: string };
    expect(value).toEqual({ kind: 'incident', subject: 'TEST-INC-301', text: 'Deliver lever C (face-to-face notice, in-person) after TEST-INC-301', due: '2026-03-13' });
    expect(value.text.startsWith('Deliver lever')).toBe(true);
    // And the "Record lever" button just below it.
    const buttons = blocks[blocks.indexOf(section!) + 1]!;
    expect(buttons.type).toBe('actions');
    expect(buttons.elements!.map((e) => [e.text.text, JSON.parse(e.value)])).toEqual([['Record lever C', { subject: label(cast.slackRef), incident: 'TEST-INC-301', tier: 'C' }]]);

    // The other treated members are there too; the control member is nowhere in what Slack was sent.
    const all = JSON.stringify({ text: agenda.text, blocks });
    for (const ref of [cast.teamsRef, cast.remindRef]) expect(all).toContain(label(ref));
    expect(all).toContain(':bell: lever D (letter) due after TEST-INC-303');
    expect(all).not.toContain(label(cast.controlRef));
    expect(all).not.toContain('TEST-INC-304');
    expect(JSON.stringify(fake.calls.map((c) => c.params))).not.toContain(label(cast.controlRef));
  });

  it('records the "Deliver lever …" action the button offers with /dmm action add', async () => {
    const section = agendaBlocks().find((b) => b.type === 'section' && b.text?.text.startsWith(`\`${label(cast.remindRef)}\``))!;
    const value = JSON.parse(section.accessory!.value) as { subject: string; text: string };
    expect(value).toMatchObject({ subject: 'TEST-INC-303', text: 'Deliver lever D (letter, letter) after TEST-INC-303' });
    const sent = await command(`action add ${value.subject} <@${probation}> 2026-03-20 ${value.text}`, chair);
    expect(sent.status).toBe(200);
    const message = await meetingMessage((m) => /^Action A-\d+ recorded\.$/.test(m.text ?? ''));
    remindActionId = Number(/A-(\d+)/.exec(message.text!)![1]);
    const row = await bot!.db.prisma.action.findUniqueOrThrow({ where: { id: remindActionId }, include: { owner: true, incident: true } });
    expect([row.text, row.owner.slackUserId, row.incident?.sourceRef, row.status]).toEqual([value.text, probation, 'TEST-INC-303', 'open']);
  });

  it('/dmm lever by a member records the lever, answers in the agenda thread naming L-…, opens the victim contact for the IDVA, and the lever is no longer due', async () => {
    const db = bot!.db;
    const deliveriesBefore = await db.prisma.leverDelivery.count();
    const sent = await command(`lever ${label(cast.slackRef)} tier C mode in-person outcome delivered`, idva);
    expect(sent.status).toBe(200);
    const message = await meetingMessage((m) => (m.text ?? '').startsWith('Lever L-'));
    expect(message.thread_ts).toBe(agendaTs);
    const said = new RegExp(
      `^Lever L-(\\d+): tier C \\(face-to-face notice\\) delivered in person for ${label(cast.slackRef)} after TEST-INC-301 \\(reported Tue 10 Mar 10:00\\), 24 hours later, within the 72-hour target\\. Script [0-9a-f]{12}\\.\\nVictim contact: A-(\\d+) for idva, due 2026-03-12\\.$`,
    ).exec(message.text!);
    expect(said, message.text).not.toBeNull();
    slackLeverId = Number(said![1]);
    const victimActionId = Number(said![2]);
    // The victim contact is shown as an action card with its buttons.
    expect(JSON.stringify(message.blocks)).toContain(`dmm_action:A-${victimActionId}`);

    expect(await db.prisma.leverDelivery.count()).toBe(deliveriesBefore + 1);
    const delivery = await db.prisma.leverDelivery.findUniqueOrThrow({ where: { id: slackLeverId }, include: { incident: true, nominal: true } });
    expect([delivery.incident.sourceRef, delivery.nominal.ref, delivery.tier, delivery.mode, delivery.outcome, delivery.rapidityHours, delivery.deliveredBy, delivery.victimActionId]).toEqual([
      'TEST-INC-301',
      cast.slackRef,
      'C',
      'in-person',
      'delivered',
      24,
      `slack:${idva}`,
      victimActionId,
    ]);
    expect(delivery.idempotencyKey).toMatch(/^slack:command:/);
    const contact = await db.prisma.action.findUniqueOrThrow({ where: { id: victimActionId }, include: { owner: true } });
    expect(contact).toMatchObject({ meetingKey, status: 'open', agency: 'idva', text: `Contact the victim: lever C (face-to-face notice) was delivered to ${label(cast.slackRef)} after TEST-INC-301` });
    expect(contact.owner.slackUserId).toBe(idva);
    expect(contact.dueOn.toISOString().slice(0, 10)).toBe('2026-03-12');

    const agenda = await buildAgenda(db, bot!.meetings[0]!, today);
    const entryOf = (ref: string) => agenda.flaggedPerpetrators.find((p) => p.ref === ref);
    expect(entryOf(cast.slackRef)).toBeDefined();
    expect(entryOf(cast.slackRef)!.leversDue).toBeUndefined();
    // The others' levers are still due.
    expect(entryOf(cast.teamsRef)!.leversDue?.map((l) => l.incidentRef)).toEqual(['TEST-INC-302']);
    expect(entryOf(cast.remindRef)!.leversDue?.map((l) => l.incidentRef)).toEqual(['TEST-INC-303']);
    expect(await db.prisma.auditEvent.count({ where: { action: 'lever.record', subject: label(cast.slackRef) } })).toBe(1);
  });

  it('/dmm lever for a control member is refused privately, and changes nothing', async () => {
    const db = bot!.db;
    const [deliveries, actions, posts] = [await db.prisma.leverDelivery.count(), await db.prisma.action.count(), fake.callsTo('chat.postMessage').length];
    const sent = await command(`lever ${label(cast.controlRef)} tier C mode in-person outcome delivered`, idva);
    expect(sent.status).toBe(200);
    const answer = await answerTo(sent);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    expect(textOf(answer.body)).toMatch(
      new RegExp(`^${label(cast.controlRef)} is not in a trial's treatment arm, so no lever may be recorded for them: it would break the trial\\. Nothing was recorded\\.`),
    );
    await sleep(300);
    expect(await db.prisma.leverDelivery.count()).toBe(deliveries);
    expect(await db.prisma.action.count()).toBe(actions);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(posts);
    expect(await db.prisma.auditEvent.findFirst({ where: { action: 'lever.refused', subject: label(cast.controlRef) } })).toMatchObject({ details: { reason: 'control arm' } });

    // Someone in no trial gets the very same words: chat cannot tell control from not enrolled.
    const outsider = await command(`lever ${label('TEST-P-102')} tier C mode in-person outcome delivered`, idva);
    const outsiderText = textOf((await answerTo(outsider)).body);
    expect(outsiderText.replaceAll(label('TEST-P-102'), '<label>')).toBe(textOf(answer.body).replaceAll(label(cast.controlRef), '<label>'));
    expect(await db.prisma.leverDelivery.count()).toBe(deliveries);
  });

  it('/dmm lever with a mode that does not exist is answered privately, naming the modes', async () => {
    const db = bot!.db;
    const [deliveries, posts] = [await db.prisma.leverDelivery.count(), fake.callsTo('chat.postMessage').length];
    const sent = await command('lever X tier C mode bicycle outcome delivered', idva);
    const answer = await answerTo(sent);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    const text = textOf(answer.body);
    expect(text).toMatch(/^The mode must be one of letter, in-person, call-in\. Usage: \/dmm lever /);
    expect(text).toContain('for example: /dmm lever');
    await sleep(300);
    expect(await db.prisma.leverDelivery.count()).toBe(deliveries);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(posts);
  });

  // ---- Teams, as `dmm start` ----

  it('records the same kind of lever from a Teams channel message; the reply names L-…, and the store has the delivery', async () => {
    await bot!.stop();
    bot = undefined;
    const teams: FakeTeams = await startFakeTeams({ clientId, clientSecret });
    try {
      const env = baseEnv({
        ...seeded.env,
        PORT: '0',
        TEAMS_CLIENT_ID: clientId,
        TEAMS_CLIENT_SECRET: clientSecret,
        TEAMS_TENANT_ID: tenantId,
        TEAMS_SERVICE_URL: teams.serviceUrl,
        TEAMS_OPENID_METADATA_URL: teams.openIdMetadataUrl,
        TEAMS_TOKEN_URL: teams.tokenUrl,
        DMM_TEAMS_CHANNEL: teamsChannel,
        DMM_CHAIRS: '',
        DMM_TIMEZONE: 'Europe/London',
        DMM_NOW: teamsNow,
        DMM_SCORING_FILE: '',
        DMM_LEVERS_FILE: '',
        DMM_PUBLIC_URL: '',
      });
      const server = await startDmm(env, { timeoutMs: processMs });
      // Start-up posted Wednesday's agenda (late): the Teams member's lever is due, with its prefilled button.
      const agenda = await teams.waitFor(() => teams.activitiesIn(teamsChannel).find((a) => String((a.body as { summary?: string }).summary ?? '').startsWith('DMM agenda')), 30_000);
      const card = JSON.stringify(agenda.body);
      expect(card).toContain(label(cast.teamsRef));
      expect(card).toContain('lever C (face-to-face notice) due after TEST-INC-302');
      expect(card).toContain(JSON.stringify({ msteams: { type: 'task/fetch' }, dmm: 'add-action', kind: 'incident', subject: 'TEST-INC-302', text: 'Deliver lever C (face-to-face notice, in-person) after TEST-INC-302', due: '2026-03-13' }));
      // The lever given in Slack is no longer due; the control member is not there.
      expect(card).not.toContain('due after TEST-INC-301');
      expect(card).not.toContain(label(cast.controlRef));
      const message = channelMessage({
        fromAadId: teamsMemberAad,
        tenantId,
        serviceUrl: teams.serviceUrl,
        botId: clientId,
        conversationId: teamsChannel,
        text: `lever ${label(cast.teamsRef)} tier C mode in-person outcome delivered`,
      });
      const response = await postActivity(`http://127.0.0.1:${server.port}/api/messages`, message, teams.signToken({ audience: clientId, serviceUrl: teams.serviceUrl }));
      expect(response.status).toBe(200);
      const reply = await teams.waitFor(() => teams.activities.find((a) => /^Lever L-\d+/.test(String((a.body as { summary?: string }).summary ?? ''))), 30_000);
      const summary = String((reply.body as { summary: string }).summary);
      const said = new RegExp(`^Lever L-(\\d+): tier C \\(face-to-face notice\\) delivered in person for ${label(cast.teamsRef)} after TEST-INC-302 .*within the 72-hour target\\.`).exec(summary);
      expect(said, summary).not.toBeNull();
      expect(reply.conversationId.startsWith(teamsChannel)).toBe(true);
      expect(JSON.stringify(reply.body)).toMatch(/Victim contact: A-\d+ for idva/);
      expect(await server.stop()).toBe(0);
      expect(server.stderr()).not.toMatch(/"level":(50|60)/);

      await withStore(async (db) => {
        const delivery = await db.prisma.leverDelivery.findUniqueOrThrow({ where: { id: Number(said![1]) }, include: { incident: true } });
        expect([delivery.incident.sourceRef, delivery.tier, delivery.mode, delivery.outcome, delivery.deliveredBy, delivery.idempotencyKey]).toEqual([
          'TEST-INC-302',
          'C',
          'in-person',
          'delivered',
          `teams:${teamsMemberAad}`,
          `teams:message:${message.id}`,
        ]);
        expect(delivery.id).not.toBe(slackLeverId);
        expect(await db.prisma.leverDelivery.count()).toBe(2);
        const contact = await db.prisma.action.findUniqueOrThrow({ where: { id: delivery.victimActionId! } });
        expect(contact).toMatchObject({ meetingKey: `teams:${teamsChannel}`, agency: 'idva', status: 'open' });
      });
    } finally {
      await stopAllDmm();
      await teams.close();
    }
  }, slow);

  // ---- an overdue lever, reminded once ----

  it('reminds the owner of the "Deliver lever …" action of the overdue lever exactly once, over two runs', async () => {
    const slack = await startFakeSlack();
    try {
      const env = baseEnv({
        ...seeded.env,
        SLACK_BOT_TOKEN: botToken,
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: slack.url,
        DMM_CHANNEL: channel,
        DMM_TIMEZONE: 'Europe/London',
        DMM_HOLIDAYS: 'england-and-wales',
        DMM_REMIND_DAYS_BEFORE: '',
        DMM_NUDGE_EVERY: '',
        DMM_ESCALATE_AFTER: '',
        DMM_WORKING_HOURS: '',
        DMM_CHAIRS: '',
        DMM_TEAMS_CHANNEL: '',
        TEAMS_CLIENT_ID: '',
        TEAMS_CLIENT_SECRET: '',
        TEAMS_TENANT_ID: '',
      });
      const summary = /Reminders: (\d+) due, (\d+) new, (\d+) sent, (\d+) to retry, (\d+) failed\./;
      const counts = (run: DmmRun) => {
        const m = summary.exec(run.stdout);
        expect(m, `${run.stdout}\n${run.stderr}`).not.toBeNull();
        return m!.slice(1).map(Number);
      };
      const first = await runDmm(['reminders', 'run', '--now', reminderNow], env, processMs);
      expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
      // The lever to its action's owner, the chair's digest, and the IDVA's nudge about Thursday's victim contact.
      expect(counts(first)).toEqual([3, 3, 3, 0, 0]);
      const second = await runDmm(['reminders', 'run', '--now', reminderNow], env, processMs);
      expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
      expect(counts(second).slice(1)).toEqual([0, 0, 0, 0]);

      const toOwner = slack.messages.filter((m) => m.channel === `D${probation}`);
      expect(toOwner).toHaveLength(1);
      expect(slack.callsTo('conversations.open').filter((c) => c.params.users === probation)).toHaveLength(1);
      const remindLabel = label(cast.remindRef);
      expect(toOwner[0]!.text).toBe(
        `A trial lever is past its target and not yet recorded:\n${remindLabel}: lever D (letter) after TEST-INC-303 was due by Fri 13 Mar 10:30; OVERDUE. ` +
          `Record it with /dmm lever ${remindLabel} tier D mode letter outcome delivered`,
      );
      // The action the meeting agreed is in it, with its buttons.
      expect((toOwner[0]!.blocks ?? []).map((b) => (b as { block_id?: string }).block_id)).toContain(`dmm_action:A-${remindActionId}`);
      // The levers already given are in no reminder about levers; the control member is in no message at all.
      const aboutLevers = JSON.stringify(slack.messages.filter((m) => /trial lever/.test(m.text ?? '')));
      expect(aboutLevers).toContain('TEST-INC-303');
      expect(aboutLevers).not.toContain('TEST-INC-301');
      expect(aboutLevers).not.toContain('TEST-INC-302');
      expect(JSON.stringify(slack.messages)).not.toContain(label(cast.controlRef));
      // The IDVA is nudged once about the victim contact that the Slack lever opened (due Thursday).
      const toIdva = slack.messages.filter((m) => m.channel === `D${idva}`);
      expect(toIdva.map((m) => m.text)).toEqual(['This action is overdue. Please close, update or re-date it.']);
      expect(JSON.stringify(toIdva[0]!.blocks)).toContain(`Contact the victim: lever C (face-to-face notice) was delivered to ${label(cast.slackRef)} after TEST-INC-301`);
      // The chair hears of it once, in the digest.
      const toChair = slack.messages.filter((m) => m.channel === `D${chair}`);
      expect(toChair).toHaveLength(1);
      expect(toChair[0]!.text).toContain(`${remindLabel}: lever D (letter) after TEST-INC-303 was due by Fri 13 Mar 10:30; OVERDUE`);
      expect(slack.messages.filter((m) => !m.channel.startsWith('D'))).toEqual([]);

      await withStore(async (db) => {
        const rows = await db.prisma.outboxMessage.findMany({ where: { kind: 'lever' } });
        expect(rows.map((r) => [r.status, r.recipient])).toEqual([['sent', String((await db.prisma.member.findUniqueOrThrow({ where: { slackUserId: probation } })).id)]]);
        expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: true });
      });
    } finally {
      await slack.close();
    }
  }, slow);
});

// ---- the enrolment day ----

describe.each(databaseTargets)('the enrolment day, on the $name store', (target) => {
  it('an incident the enrolment scored (reported the day before --as-of) is not an incident since enrolment: it makes no lever due', async () => {
    const db = await target.create();
    try {
      // Sunday 8 March, 08:00: one more incident for each eligible perpetrator, before anyone is enrolled.
      const monday = eligibleInOrder.map((ref, n) =>
        trialIncident(`TEST-INC-5${String(n).padStart(2, '0')}`, '2026-03-08T08:00:00Z', ref, `TEST-V-5${String(n).padStart(2, '0')}`, 'threats', false, { risk_level: 'standard' }),
      );
      await db.prisma.$transaction((tx) => upsertIncidents(tx, [...baseTrialIncidents, ...monday].map(record), db.labelKey));
      const scoring = scoringSettingsOf(parseConfig({}));
      await createTrial(db, { name: 't1', arms: 'treatment,control', seed: '7', from: '2026-03-09', levers: defaultLeverConfig }, 'test:e2e');
      const outcome = await enrolTrial(db, scoring, 'Europe/London', { trial: 't1', asOf: '2026-03-09', top: 12 }, 'test:e2e');
      expect(outcome).toMatchObject({ kind: 'enrolled', enrolled: 12 });
      const treatedRefs = (await db.prisma.trialAllocation.findMany({ where: { arm: 'treatment' }, include: { nominal: true } })).map((a) => a.nominal.ref);
      expect(treatedRefs.length).toBeGreaterThan(0);

      // The enrolment's ranking counted Sunday's incidents: the score "as of 2026-03-09" counts what was reported before that day began.
      const scored = await scoreAsOf(db, scoring, '2026-03-09', 'Europe/London');
      const base = (ref: string) => baseTrialIncidents.filter((r) => r.perpetrator_ref === ref).length;
      for (const ref of treatedRefs) expect(scored.ranking.find((r) => r.ref === ref)!.incidents, ref).toBe(base(ref) + 1);

      // So nothing has happened since enrolment, and no lever is due: not on Monday's agenda, not in the rapidity report.
      const meeting = testMeeting();
      const agenda = await buildAgenda(db, meeting, '2026-03-09');
      expect(agenda.flaggedPerpetrators.map((p) => p.ref).sort()).toEqual([...treatedRefs].sort());
      expect(agenda.flaggedPerpetrators.filter((p) => p.leversDue).map((p) => [p.ref, p.leversDue!.map((l) => l.incidentRef)])).toEqual([]);
      const report = await trialRapidity(db, 't1', 'Europe/London', new Date('2026-03-10T12:00:00Z'), 'test:e2e');
      expect(report.due).toBe(0);
    } finally {
      await db.destroy();
    }
  }, slow);
});

// End to end, the trial's report asked for in the meeting's chat. A store (embedded PGlite; PostgreSQL too
// when TEST_DATABASE_URL is set) with the demo data and the demo trial (seedDemo and seedTrial, on a fixed
// day). Slack in process (startBot, its real Bolt app, a fake Slack Web API on loopback, signed slash
// commands): a chair's `/dmm report demo` posts the headline to the channel and shares the effects chart as
// a PNG file there, naming nobody; a member who is not a chair, and an unknown trial, are refused privately
// and nothing is posted. Teams as `dmm start` (a child process, a fake Bot Framework): a chair's
// `report demo` is answered with a card holding the headline and the chart (or a note that it is too large).
// All data is synthetic (SIM-…, DEMO-…).
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/app/seed-demo.js';
import { seedTrial } from '../../src/app/seed-trial.js';
import { parseConfig, scoringSettingsOf } from '../../src/config.js';
import { defaultLeverConfig } from '../../src/domain/levers.js';
import { startBot, type RunningBot } from '../../src/main.js';
import { manualClock } from '../../src/scheduler/clock.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { pngSignature } from '../report/helpers.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { baseEnv, startDmm, stopAllDmm } from '../support/dmm-process.js';
import { startFakeSlack, type FakeSlack, type FakeSlackMessage, type FakeSlackResponse } from '../support/fake-slack.js';
import { startFakeTeams, type FakeTeams } from '../support/fake-teams.js';
import { postToSlackApp, slashCommandBody } from '../support/slack-requests.js';
import { channelMessage, postActivity } from '../support/teams-requests.js';

// ---- Slack ----
const channel = 'C0TESTDMM';
const meetingKey = `slack:${channel}`;
const signingSecret = 'test-signing-secret-123';
const botToken = 'xoxb-test-report';
/** The demo data's chair and one of its members who is not a chair. */
const chair = 'U0DEMOCHAIR';
const member = 'U0DEMOIDVA';
/** Wednesday 11 March 2026, 10:00 GMT: a working day; the demo trial enrolled 300 days before. */
const slackNow = new Date('2026-03-11T10:00:00Z');
const today = '2026-03-11';

// ---- Teams ----
const clientId = '0b0b0b0b-0000-4000-8000-000000000e2e';
const clientSecret = 'test-teams-client-secret';
const tenantId = '7e7e7e7e-0000-4000-8000-000000000001';
const teamsChairAad = '0a0a0a0a-0000-4000-8000-0000000000c1';
const teamsChannel = '19:testdmmreport@thread.tacv2';
const teamsNow = '2026-03-11T10:30:00Z';

const processMs = 150_000;
const slow = 300_000;
const labelPattern = /N-[0-9A-Z]{5}-[0-9A-Z]{5}/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function textOf(body: unknown): string {
  return typeof body === 'object' && body !== null && typeof (body as { text?: unknown }).text === 'string' ? (body as { text: string }).text : '';
}

/** The headline as the report states it: the five measures with intervals, and the CONSORT counts. */
function expectHeadline(text: string): void {
  expect(text).toContain(`Trial demo, outcomes as of ${today} (intention to treat):`);
  expect(text).toMatch(/Offending: ratio of rate ratios \d+\.\d{2} \(95% CI \d+\.\d{2} to \d+\.\d{2}\)/);
  expect(text).toContain('95% CI');
  expect(text).toMatch(/CONSORT: \d+ scored, \d+ eligible, \d+ not randomised, 240 randomised \(treatment \d+, control \d+\)/);
}

describe.each(databaseTargets)('/dmm report on the $name store', (target) => {
  let seeded: TestDatabase;
  let fake: FakeSlack;
  let bot: RunningBot | undefined;
  let eventsUrl: string;
  let seq = 0;
  let simLabels: string[];
  const clock = manualClock(slackNow);

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
    await seedDemo(seeded, 'test:e2e', meetingKey, slackNow);
    const summary = await seedTrial(seeded, { scoring: scoringSettingsOf(parseConfig({})), levers: defaultLeverConfig, timeZone: 'Europe/London' }, today, 'test:e2e');
    expect(summary).toMatchObject({ trial: 'demo', enrolled: 240 });
    simLabels = (await seeded.prisma.nominal.findMany({ where: { ref: { startsWith: 'SIM-P-' } }, select: { label: true } })).map((n) => n.label);
    expect(simLabels.length).toBeGreaterThanOrEqual(240);
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
  }, slow);

  afterAll(async () => {
    await bot?.stop();
    await stopAllDmm();
    await fake?.close();
    if (target.name === 'embedded') await rm(seeded.env.DMM_DATA_DIR!, { recursive: true, force: true });
    else await seeded?.destroy();
  });

  async function command(text: string, user: string): Promise<{ id: string; status: number }> {
    const id = `cmd-${++seq}`;
    const body = slashCommandBody({ channel_id: channel, user_id: user, user_name: user.toLowerCase(), text, response_url: fake.responseUrl(id), trigger_id: `${7000 + seq}.8000.trigger${seq}` });
    const response = await postToSlackApp(eventsUrl, body, { signingSecret });
    return { id, status: response.status };
  }
  const answerTo = (sent: { id: string }): Promise<FakeSlackResponse> => fake.waitFor(() => fake.responses.find((r) => r.path === `/response/${sent.id}`), 30_000);
  const meetingMessage = (predicate: (m: FakeSlackMessage) => boolean) => fake.waitFor(() => fake.messages.find((m) => m.channel === channel && predicate(m)), 30_000);
  /**
   * Everything the bot told the meeting's channel, and the asker, from call number `from` on: messages to the
   * channel, file uploads (names, titles, alt texts), answers to response_urls. Not the reminders and the
   * chairs' digest that the bot sends members privately meanwhile (they name treated people by label).
   */
  const sentSince = (from: { calls: number; responses: number }) =>
    JSON.stringify({
      calls: fake.calls
        .slice(from.calls)
        .filter((c) => (c.method === 'chat.postMessage' && c.params.channel === channel) || c.method.startsWith('files.'))
        .map((c) => [c.method, c.params]),
      files: fake.files.map((f) => [f.filename, f.title]),
      responses: fake.responses.slice(from.responses).map((r) => r.body),
    });
  const mark = () => ({ calls: fake.calls.length, responses: fake.responses.length, files: fake.files.length, posts: fake.callsTo('chat.postMessage').filter((c) => c.params.channel === channel).length });

  it("a chair's /dmm report demo posts the headline to the channel and shares the effects chart there as a PNG, naming nobody", async () => {
    const before = mark();
    const reportsBefore = await bot!.db.prisma.auditEvent.count({ where: { action: 'report.outcomes' } });
    const sent = await command('report demo', chair);
    expect(sent.status).toBe(200);
    const message = await meetingMessage((m) => (m.text ?? '').startsWith('Trial demo, outcomes as of'));
    expectHeadline(message.text!);
    expect(message.text).toContain('Offending');
    expect(message.text).toContain('CONSORT');

    const file = await fake.waitFor(() => fake.files.find((f) => f.channel !== undefined), 30_000);
    expect(fake.files).toHaveLength(before.files + 1);
    expect(file.channel).toBe(channel);
    expect(file.bytes.subarray(0, 8).equals(pngSignature)).toBe(true);
    expect(file.bytes.length).toBeGreaterThan(1000);
    expect(file.filename).toMatch(/^demo-.*\.png$/);
    // Message and chart go to the same place: the day's agenda thread when there is one.
    expect(file.threadTs).toBe(message.thread_ts);

    // Nothing sent names anyone: no reference, no pseudonymous label.
    await sleep(500);
    const sentNow = sentSince(before);
    expect(sentNow).toContain('Trial demo, outcomes as of');
    expect(sentNow).not.toContain('SIM-');
    expect(sentNow).not.toMatch(labelPattern);
    for (const label of simLabels) expect(sentNow.includes(label), label).toBe(false);
    // No private answer to the chair: the reply is the meeting's.
    expect(fake.responses.slice(before.responses)).toEqual([]);

    const events = await bot!.db.prisma.auditEvent.findMany({ where: { action: 'report.outcomes' }, orderBy: { id: 'asc' } });
    expect(events).toHaveLength(reportsBefore + 1);
    expect([events.at(-1)!.actor, events.at(-1)!.subject, events.at(-1)!.channel, events.at(-1)!.reason]).toEqual([`slack:${chair}`, 'demo', meetingKey, `/dmm report in ${meetingKey}`]);
  });

  it('a member who is not a chair is refused privately; nothing is posted or uploaded, and no report is run', async () => {
    const before = mark();
    const reports = await bot!.db.prisma.auditEvent.count({ where: { action: 'report.outcomes' } });
    const sent = await command('report demo', member);
    expect(sent.status).toBe(200);
    const answer = await answerTo(sent);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    expect(textOf(answer.body)).toBe('Only a chair can use /dmm report.');
    await sleep(1_000);
    expect(fake.files).toHaveLength(before.files);
    expect(fake.callsTo('files.getUploadURLExternal')).toHaveLength(before.files);
    expect(fake.callsTo('chat.postMessage').filter((c) => c.params.channel === channel)).toHaveLength(before.posts);
    expect(await bot!.db.prisma.auditEvent.count({ where: { action: 'report.outcomes' } })).toBe(reports);
    expect(await bot!.db.prisma.auditEvent.findFirst({ where: { action: 'refused', actor: `slack:${member}` }, orderBy: { id: 'desc' } })).toMatchObject({ reason: 'not a chair: report' });
  });

  it('/dmm report for a trial that does not exist is refused privately, naming the trials there are; nothing is posted', async () => {
    const before = mark();
    const sent = await command('report nosuch', chair);
    const answer = await answerTo(sent);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    expect(textOf(answer.body)).toBe('there is no trial "nosuch"; trials: demo. Nothing was posted.');
    await sleep(1_000);
    expect(fake.files).toHaveLength(before.files);
    expect(fake.callsTo('chat.postMessage').filter((c) => c.params.channel === channel)).toHaveLength(before.posts);
  });

  // ---- Teams, as `dmm start` ----

  it("a chair's `report demo` in a Teams channel is answered with a card holding the headline and the chart as a PNG (or a note that it is too large)", async () => {
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
        DMM_CHAIRS: `teams:${teamsChairAad}`,
        DMM_TIMEZONE: 'Europe/London',
        DMM_NOW: teamsNow,
        DMM_SCORING_FILE: '',
        DMM_LEVERS_FILE: '',
        DMM_HARM_FILE: '',
        DMM_PUBLIC_URL: '',
      });
      const server = await startDmm(env, { timeoutMs: processMs });
      const activitiesBefore = teams.activities.length;
      const message = channelMessage({ fromAadId: teamsChairAad, tenantId, serviceUrl: teams.serviceUrl, botId: clientId, conversationId: teamsChannel, text: 'report demo' });
      const response = await postActivity(`http://127.0.0.1:${server.port}/api/messages`, message, teams.signToken({ audience: clientId, serviceUrl: teams.serviceUrl }));
      expect(response.status).toBe(200);
      const reply = await teams.waitFor(
        () => teams.activities.slice(activitiesBefore).find((a) => String((a.body as { summary?: string }).summary ?? '').startsWith('Trial demo, outcomes as of')),
        60_000,
      );
      expect(reply.conversationId.startsWith(teamsChannel)).toBe(true);
      const attachments = (reply.body as { attachments?: Array<{ contentType: string; content: { body: Array<Record<string, unknown>> } }> }).attachments ?? [];
      expect(attachments).toHaveLength(1);
      const elements = attachments[0]!.content.body;
      const texts = elements.filter((e) => e.type === 'TextBlock').map((e) => String(e.text)).join('\n');
      expectHeadline(texts);
      expect(texts).toContain('Offending');
      expect(texts).toContain('CONSORT');
      const image = elements.find((e) => e.type === 'Image');
      if (image) {
        const url = String(image.url);
        expect(url.startsWith('data:image/png;base64,')).toBe(true);
        const png = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
        expect(png.subarray(0, 8).equals(pngSignature)).toBe(true);
      } else {
        expect(texts).toContain('The chart is too large for a Teams message');
      }
      // Everything the bot sent for the report names nobody.
      const sent = JSON.stringify(teams.activities.slice(activitiesBefore).filter((a) => a.baseConversationId === teamsChannel).map((a) => a.body));
      expect(sent).toContain('Trial demo, outcomes as of');
      expect(sent).not.toContain('SIM-');
      expect(sent).not.toMatch(labelPattern);
      expect(await server.stop()).toBe(0);
      expect(server.stderr()).not.toMatch(/"level":(50|60)/);

      await withStore(async (db) => {
        const event = await db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'report.outcomes' }, orderBy: { id: 'desc' } });
        expect([event.actor, event.channel]).toEqual([`teams:${teamsChairAad}`, `teams:${teamsChannel}`]);
      });
    } finally {
      await stopAllDmm();
      await teams.close();
    }
  }, slow);
});

// A Slack post whose outcome was never confirmed (a lost answer, a process that died after Slack
// accepted it) is found by the tag in its message metadata instead of being posted twice.
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildAgenda } from '../../../src/app/build-agenda.js';
import type { RetryPolicy } from '../../../src/app/deliver.js';
import { agendaClaimLeaseMs, postAgenda, type PostAgendaDeps } from '../../../src/app/post-agenda.js';
import { deliveryEventType, deliveryTag, SlackChat } from '../../../src/chat/slack/slack-chat.js';
import { manualClock } from '../../../src/scheduler/clock.js';
import { claimAgendaRun } from '../../../src/store/agenda-runs.js';
import { databaseTargets, type TestDatabase } from '../../support/databases.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { testMeeting } from '../../support/meetings.js';

const meeting = testMeeting({ platform: 'slack' });
const day = '2026-03-02';
const justAfterCutoff = new Date('2026-03-02T09:00:10Z');
const noWaits: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} };

let fake: FakeSlack;
let chat: SlackChat;

beforeEach(async () => {
  fake = await startFakeSlack();
  chat = new SlackChat({ token: 'xoxb-test', apiUrl: fake.url });
});
afterEach(() => fake.close());

const agendaPosts = () => fake.messages.filter((m) => m.channel === meeting.channel);

describe('SlackChat.post', () => {
  it('tags a message with a digest of its delivery key, not the key itself', async () => {
    await chat.post('C1', { summary: 's', payload: { text: 't', blocks: [] }, deliveryKey: 'panel:7|to:3' });
    const [message] = fake.messages;
    expect(message?.metadata).toEqual({ event_type: deliveryEventType, event_payload: { delivery: deliveryTag('panel:7|to:3') } });
    expect(JSON.stringify(message?.metadata)).not.toContain('panel:7');
  });

  it('looks for an unconfirmed earlier attempt first, in the channel or in the thread', async () => {
    const message = { summary: 's', payload: { text: 't', blocks: [] }, deliveryKey: 'k1' };
    const first = await chat.post('C1', message);
    const again = await chat.post('C1', message, undefined, { earlierAttemptUnconfirmed: true });
    expect(again).toBe(first);
    const reply = { ...message, deliveryKey: 'k2' };
    const inThread = await chat.post('C1', reply, first);
    expect(await chat.post('C1', reply, first, { earlierAttemptUnconfirmed: true })).toBe(inThread);
    expect(fake.messages).toHaveLength(2);
    expect(fake.callsTo('conversations.replies')[0]?.params).toMatchObject({ channel: 'C1', ts: first });
  });

  it('posts when the earlier attempt is not there, and without looking when nothing is unconfirmed', async () => {
    const message = { summary: 's', payload: { text: 't', blocks: [] }, deliveryKey: 'k1' };
    await chat.post('C1', { ...message, deliveryKey: 'other' });
    await chat.post('C1', message, undefined, { earlierAttemptUnconfirmed: true });
    expect(fake.messages).toHaveLength(2);
    await chat.post('C1', { ...message, deliveryKey: 'k3' });
    expect(fake.callsTo('conversations.history')).toHaveLength(1);
  });

  it('still sends when Slack refuses the history for good (a reminder twice beats none)', async () => {
    fake.failNext('conversations.history', { error: 'missing_scope' });
    await chat.post('C1', { summary: 's', payload: { text: 't', blocks: [] }, deliveryKey: 'k1' }, undefined, { earlierAttemptUnconfirmed: true });
    expect(fake.messages).toHaveLength(1);
  });

  it('does not send while the history cannot be read for now', async () => {
    fake.failNext('conversations.history', { status: 503 });
    await expect(
      chat.post('C1', { summary: 's', payload: { text: 't', blocks: [] }, deliveryKey: 'k1' }, undefined, { earlierAttemptUnconfirmed: true }),
    ).rejects.toMatchObject({ kind: 'transient' });
    expect(fake.messages).toHaveLength(0);
  });
});

describe.each(databaseTargets)('the agenda on Slack, posted once on $name', (target) => {
  let db: TestDatabase;
  const deps = (instanceId: string, clock = manualClock(justAfterCutoff)): PostAgendaDeps => ({
    db,
    chat,
    clock,
    log: pino({ level: 'silent' }),
    instanceId,
    retry: noWaits,
  });

  beforeAll(async () => {
    db = await target.create();
  });
  afterAll(() => db.destroy());
  beforeEach(async () => {
    await db.prisma.agendaRun.deleteMany();
  });

  it('through a lost answer: Slack posted it, answered 500, and the retry finds it', async () => {
    fake.failNext('chat.postMessage', { status: 500, afterEffect: true });
    const outcome = await postAgenda(deps('a'), meeting, day);
    expect(outcome).toMatchObject({ outcome: 'posted', parts: 1 });
    expect(agendaPosts()).toHaveLength(1);
    expect(outcome.outcome === 'posted' && outcome.messageRef).toBe(agendaPosts()[0]!.ts);
    expect(fake.callsTo('conversations.history')).toHaveLength(1);
  });

  it('after a lost answer and a history that could not be read: the next run finds the post rather than repeating it', async () => {
    fake.failNext('chat.postMessage', { status: 500, afterEffect: true });
    fake.failNext('conversations.history', { status: 503 }, 3);
    expect(await postAgenda(deps('a'), meeting, day)).toMatchObject({ outcome: 'failed' });
    expect(await db.prisma.agendaRun.findFirstOrThrow()).toMatchObject({ status: 'failed', unconfirmedSince: expect.any(Date) });

    expect(await postAgenda(deps('b'), meeting, day)).toMatchObject({ outcome: 'posted' });
    expect(agendaPosts()).toHaveLength(1);
    expect(await db.prisma.agendaRun.findFirstOrThrow()).toMatchObject({ status: 'sent', partsPosted: 1, unconfirmedSince: null });
  });

  it('after a process died between Slack accepting the post and recording it', async () => {
    // The dead process: it claimed the run and Slack took its post; nothing more was recorded.
    const claim = await claimAgendaRun(db.prisma, meeting.key, day, 'dead', justAfterCutoff, agendaClaimLeaseMs);
    expect(claim.outcome).toBe('claimed');
    const probe = await postAgenda(deps('probe'), meeting, day);
    expect(probe).toEqual({ outcome: 'in-progress' });
    const [message] = chat.agendaMessages(await buildAgenda(db, meeting, day), { late: false });
    await chat.post(meeting.channel, { ...message!, deliveryKey: `agenda|${meeting.key}|${day}|part 1` });

    const later = manualClock(new Date(justAfterCutoff.getTime() + agendaClaimLeaseMs + 1_000));
    const outcome = await postAgenda(deps('b', later), meeting, day);
    expect(outcome).toMatchObject({ outcome: 'posted' });
    expect(agendaPosts()).toHaveLength(1);
    expect(outcome.outcome === 'posted' && outcome.messageRef).toBe(agendaPosts()[0]!.ts);
  });

  it('and a takeover with nothing posted yet posts it once', async () => {
    await claimAgendaRun(db.prisma, meeting.key, day, 'dead', justAfterCutoff, agendaClaimLeaseMs);
    const later = manualClock(new Date(justAfterCutoff.getTime() + agendaClaimLeaseMs + 1_000));
    expect(await postAgenda(deps('b', later), meeting, day)).toMatchObject({ outcome: 'posted' });
    expect(agendaPosts()).toHaveLength(1);
    expect(fake.callsTo('conversations.history')).toHaveLength(1);
  });
});

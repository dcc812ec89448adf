// Posting the agenda exactly once on each database: concurrent posters, platform errors, a crash mid-post.
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../src/app/deliver.js';
import { agendaClaimLeaseMs, postAgenda, type PostAgendaDeps } from '../../src/app/post-agenda.js';
import type { Agenda } from '../../src/domain/agenda.js';
import { DeliveryError, type ChatPlatform, type DirectDelivery, type OutgoingMessage } from '../../src/ports.js';
import { manualClock } from '../../src/scheduler/clock.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { testMeeting } from '../support/meetings.js';

/** A chat platform that records what it posts and fails on demand; an agenda takes `parts` messages. */
class RecordingChat implements ChatPlatform {
  readonly name = 'console' as const;
  posts: Array<{ channel: string; summary: string; threadRef?: string | undefined }> = [];
  failures: DeliveryError[] = [];
  parts = 1;
  delayMs = 0;

  agendaMessages(agenda: Agenda, options: { late: boolean }): OutgoingMessage[] {
    return Array.from({ length: this.parts }, (_, i) => ({ summary: `${agenda.meetingDate} part ${i + 1}${options.late ? ' late' : ''}`, payload: null }));
  }

  reminderMessage(): OutgoingMessage {
    throw new Error('not used by the agenda');
  }

  sendDirect(): Promise<DirectDelivery> {
    throw new Error('not used by the agenda');
  }

  async post(channel: string, message: OutgoingMessage, threadRef?: string): Promise<string> {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.posts.push({ channel, summary: message.summary, threadRef });
    return `ref-${this.posts.length}`;
  }
}

const meeting = testMeeting();
const day = '2026-03-02';
const justAfterCutoff = new Date('2026-03-02T09:00:10Z');

describe.each(databaseTargets)('postAgenda on $name', (target) => {
  let db: TestDatabase;
  let chat: RecordingChat;
  let waits: number[];
  let deps: (instanceId: string, clock?: ReturnType<typeof manualClock>) => PostAgendaDeps;

  beforeAll(async () => {
    db = await target.create();
  });
  afterAll(() => db.destroy());
  beforeEach(async () => {
    await db.prisma.agendaRun.deleteMany();
    chat = new RecordingChat();
    waits = [];
    const retry: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5_000, sleep: async (ms) => void waits.push(ms) };
    deps = (instanceId, clock = manualClock(justAfterCutoff)) => ({ db, chat, clock, log: pino({ level: 'silent' }), instanceId, retry });
  });

  it('posts once, and a second call says it was already posted', async () => {
    expect(await postAgenda(deps('a'), meeting, day)).toMatchObject({ outcome: 'posted', messageRef: 'ref-1', late: false });
    expect(await postAgenda(deps('b'), meeting, day)).toEqual({ outcome: 'already-posted', messageRef: 'ref-1' });
    expect(chat.posts).toHaveLength(1);
    const run = await db.prisma.agendaRun.findFirstOrThrow();
    expect(run).toMatchObject({ status: 'sent', messageRef: 'ref-1', partsPosted: 1 });
  });

  it('posts once when several posters race', async () => {
    chat.delayMs = 50;
    const outcomes = await Promise.all(['a', 'b', 'c', 'd'].map((id) => postAgenda(deps(id), meeting, day)));
    expect(outcomes.filter((o) => o.outcome === 'posted')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'in-progress' || o.outcome === 'already-posted')).toHaveLength(3);
    expect(chat.posts).toHaveLength(1);
  });

  it('retries a 5xx with backoff and waits out a rate limit, posting once', async () => {
    chat.failures = [new DeliveryError('HTTP 500', 'transient'), new DeliveryError('429', 'rate-limited', 2_000)];
    expect(await postAgenda(deps('a'), meeting, day)).toMatchObject({ outcome: 'posted' });
    expect(waits).toEqual([100, 2_000]);
    expect(chat.posts).toHaveLength(1);
  });

  it('marks a run failed when sends keep failing, and a later attempt posts it once', async () => {
    chat.failures = Array.from({ length: 4 }, () => new DeliveryError('HTTP 503', 'transient'));
    expect(await postAgenda(deps('a'), meeting, day)).toMatchObject({ outcome: 'failed' });
    expect(await db.prisma.agendaRun.findFirstOrThrow()).toMatchObject({ status: 'failed', lastError: 'HTTP 503' });
    expect(chat.posts).toHaveLength(0);
    expect(await postAgenda(deps('a'), meeting, day)).toMatchObject({ outcome: 'posted' });
    expect(chat.posts).toHaveLength(1);
  });

  it('gives up at once on a permanent refusal', async () => {
    chat.failures = [new DeliveryError('channel_not_found', 'permanent')];
    expect(await postAgenda(deps('a'), meeting, day)).toEqual({ outcome: 'failed', reason: 'channel_not_found' });
    expect(waits).toEqual([]);
  });

  it('resumes after a crash mid-post from the part after the last one posted, in the same thread', async () => {
    chat.parts = 3;
    // The first process posts part 1 and dies before part 2: simulated by a permanent failure that leaves its claim…
    chat.failures = [];
    const crashed = deps('crashed');
    const crashingChat = Object.assign(Object.create(chat), {
      post: async (channel: string, message: OutgoingMessage, threadRef?: string) => {
        if (message.summary.endsWith('part 2')) throw new Error('process killed');
        return RecordingChat.prototype.post.call(chat, channel, message, threadRef);
      },
    }) as ChatPlatform;
    await postAgenda({ ...crashed, chat: crashingChat, retry: { ...crashed.retry!, maxAttempts: 1 } }, meeting, day);
    // …then, as after a real crash, its claim stays behind: make the row look claimed by the dead process.
    await db.prisma.agendaRun.updateMany({ data: { status: 'claimed', claimedBy: 'crashed', claimedAt: justAfterCutoff } });
    expect(chat.posts.map((p) => p.summary)).toEqual(['2026-03-02 part 1']);

    const clock = manualClock(new Date(justAfterCutoff.getTime() + 60_000));
    expect(await postAgenda(deps('survivor', clock), meeting, day)).toEqual({ outcome: 'in-progress' });
    clock.advance(agendaClaimLeaseMs);
    expect(await postAgenda(deps('survivor', clock), meeting, day)).toMatchObject({ outcome: 'posted', messageRef: 'ref-1', parts: 3 });
    expect(chat.posts.map((p) => [p.summary, p.threadRef])).toEqual([
      ['2026-03-02 part 1', undefined],
      ['2026-03-02 part 2', 'ref-1'],
      ['2026-03-02 part 3', 'ref-1'],
    ]);
  });

  it('marks an agenda posted more than 5 minutes after the meeting time as late', async () => {
    expect(await postAgenda(deps('a', manualClock(new Date('2026-03-02T11:00:00Z'))), meeting, day)).toMatchObject({ outcome: 'posted', late: true });
    expect(chat.posts[0]!.summary).toBe('2026-03-02 part 1 late');
  });

  it('audits each post as a disclosure to the channel', async () => {
    await postAgenda(deps('a'), meeting, day);
    const event = await db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'agenda.post' }, orderBy: { id: 'desc' } });
    expect(event).toMatchObject({ actor: 'bot:a', subject: day, channel: meeting.key });
  });
});

describe('postAgenda before the meeting time', () => {
  it('posts nothing and claims nothing, so the day keeps its one post', async () => {
    const db = await databaseTargets[0]!.create();
    try {
      const chat = new RecordingChat();
      const clock = manualClock(new Date('2026-03-02T08:59:59Z'));
      const outcome = await postAgenda({ db, chat, clock, log: pino({ level: 'silent' }), instanceId: 'early' }, meeting, day);
      expect(outcome).toEqual({ outcome: 'not-due', cutoff: new Date('2026-03-02T09:00:00Z') });
      expect(await postAgenda({ db, chat, clock, log: pino({ level: 'silent' }), instanceId: 'early' }, meeting, '2026-03-09')).toMatchObject({ outcome: 'not-due' });
      expect(chat.posts).toHaveLength(0);
      expect(await db.prisma.agendaRun.count()).toBe(0);
    } finally {
      await db.destroy();
    }
  });
});

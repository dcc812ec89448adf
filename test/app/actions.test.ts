// `/dmm` commands on each database, through handleCommand as every chat calls it: recording actions
// once, changing them (owners their own, chairs any), listing them, flags, members, reviews, and
// refusals, with every command on the audit trail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorOf, type Actor } from '../../src/app/actor.js';
import { handleCommand } from '../../src/app/handle-command.js';
import { flagRecordSchema, incidentRecordSchema } from '../../src/domain/records.js';
import type { Reply } from '../../src/ports.js';
import { verifyAuditChain } from '../../src/store/audit.js';
import { findMember } from '../../src/store/members.js';
import { upsertFlags, upsertIncidents } from '../../src/store/records-repository.js';
import type { Meeting } from '../../src/domain/meeting.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { testMeeting } from '../support/meetings.js';

const meeting = testMeeting();
/** A second meeting, so the lists start from actions of their own. */
const listMeeting = testMeeting({ platform: 'slack', channel: 'C0TESTLIST' });
/** Monday 2 March 2026, 10:00 in London. */
const now = new Date('2026-03-02T10:00:00Z');
const usage = 'Usage: /dmm action add';

function incident(ref: string, perpetrator: string, victim: string) {
  return incidentRecordSchema.parse({
    source_ref: ref,
    reported_at: '2026-03-01T20:00:00Z',
    risk_level: 'high',
    category: 'assault',
    area: 'Test Area North',
    perpetrator_ref: perpetrator,
    victim_ref: victim,
    children_present: 'false',
  });
}

/** `A-12` → 12. */
function idOf(reply: Reply): number {
  const id = reply.actions?.[0]?.id;
  if (!id) throw new Error(`expected an action card, got ${JSON.stringify(reply)}`);
  return Number(id.slice(2));
}

describe.each(databaseTargets)('/dmm commands on $name', (target) => {
  let db: TestDatabase;
  /** handleCommand calls made, each of which must leave one `command` audit event. */
  let commands = 0;
  let chair: Actor;
  let idva: Actor;
  let police: Actor;
  let outsider: Actor;
  const operator = actorOf('console', 'operator', null);
  const ids = { inc1: 0, inc2: 0, inc3: 0, p1: 0, p2: 0, v1: 0, chair: 0, idva: 0, police: 0, csc: 0 };
  const labels = { p1: '', p2: '', v1: '' };

  async function run(actor: Actor, text: string, options: { requestId?: string; at?: Date; in?: Meeting } = {}): Promise<Reply> {
    commands++;
    return handleCommand(
      db,
      { meeting: options.in ?? meeting, actor, now: options.at ?? now, ...(options.requestId ? { requestId: options.requestId } : {}) },
      text,
    );
  }

  /** The actor a Slack user is, found as the Slack adapter finds them (active members only). */
  async function slackActor(userId: string): Promise<Actor> {
    return actorOf('slack', userId, await findMember(db.prisma, { platform: 'slack', userId }));
  }

  const actionsWith = (text: string) => db.prisma.action.findMany({ where: { text }, orderBy: { id: 'asc' } });
  const kindsOf = async (actionId: number) =>
    (await db.prisma.actionUpdate.findMany({ where: { actionId }, orderBy: { id: 'asc' } })).map((u) => u.kind);
  const refusals = (actor: Actor) => db.prisma.auditEvent.count({ where: { actor: actor.id, action: 'refused' } });

  beforeAll(async () => {
    db = await target.create();
    await db.prisma.$transaction(async (tx) => {
      await upsertIncidents(
        tx,
        [incident('TEST-INC-1', 'TEST-P-1', 'TEST-V-1'), incident('TEST-INC-2', 'TEST-P-1', 'TEST-V-2'), incident('TEST-INC-3', 'TEST-P-2', 'TEST-V-3')],
        db.labelKey,
      );
      await upsertFlags(tx, [flagRecordSchema.parse({ perpetrator_ref: 'TEST-P-2', kind: 'marac', note: '', starts_on: '2026-02-01' })], db.labelKey, 'test');
    });
    const incidentId = async (ref: string) => (await db.prisma.incident.findFirstOrThrow({ where: { sourceRef: ref } })).id;
    const nominal = (ref: string) => db.prisma.nominal.findUniqueOrThrow({ where: { ref } });
    ids.inc1 = await incidentId('TEST-INC-1');
    ids.inc2 = await incidentId('TEST-INC-2');
    ids.inc3 = await incidentId('TEST-INC-3');
    for (const [key, ref] of [['p1', 'TEST-P-1'], ['p2', 'TEST-P-2'], ['v1', 'TEST-V-1']] as const) {
      const row = await nominal(ref);
      ids[key] = row.id;
      labels[key] = row.label;
    }
    const member = (slackUserId: string, displayName: string, agency: string, role: 'member' | 'chair' = 'member') =>
      db.prisma.member.create({ data: { slackUserId, displayName, agency, role } });
    ids.chair = (await member('U0TESTCHAIR', 'Test Chair', 'police', 'chair')).id;
    ids.idva = (await member('U0TESTIDVA', 'Test IDVA', 'idva')).id;
    ids.police = (await member('U0TESTPOLICE', 'Test Police', 'police')).id;
    ids.csc = (await member('U0TESTCSC', 'Test CSC', 'childrens-social-care')).id;
    chair = await slackActor('U0TESTCHAIR');
    idva = await slackActor('U0TESTIDVA');
    police = await slackActor('U0TESTPOLICE');
    outsider = await slackActor('U0TESTOUTSIDER');
    await db.prisma.panel.create({
      data: { meetingKey: meeting.key, kind: 'monthly_review', title: 'Test panel', startsAt: new Date('2026-03-10T10:00:00Z'), createdBy: 'test' },
    });
  });
  afterAll(() => db?.destroy());

  it('sets up the actors as the chats would', () => {
    expect(chair).toMatchObject({ id: 'slack:U0TESTCHAIR', isChair: true });
    expect(idva).toMatchObject({ id: 'slack:U0TESTIDVA', isChair: false });
    expect(outsider).toMatchObject({ member: null, isChair: false });
    expect(operator.isChair).toBe(true);
    expect(labels.p1).toMatch(/^N-/);
  });

  describe('action add', () => {
    it("records an action on an incident, with the owner's agency rather than the author's, to the meeting", async () => {
      const reply = await run(idva, 'action add TEST-INC-1 @U0TESTPOLICE friday Check the bail conditions');
      expect(reply.visibility).toBe('meeting');
      expect(reply.actions).toHaveLength(1);
      const id = idOf(reply);
      expect(reply.text).toBe(`Action A-${id} recorded.`);
      expect(reply.actions![0]).toMatchObject({
        id: `A-${id}`,
        status: 'open',
        ref: 'TEST-INC-1',
        label: 'TEST-INC-1',
        text: 'Check the bail conditions',
        dueOn: '2026-03-06',
        overdue: false,
        owner: { memberId: ids.police, agency: 'police', slackUserId: 'U0TESTPOLICE' },
      });
      const row = await db.prisma.action.findUniqueOrThrow({ where: { id } });
      expect(row).toMatchObject({
        meetingKey: meeting.key,
        incidentId: ids.inc1,
        nominalId: ids.p1,
        ownerId: ids.police,
        agency: 'police',
        status: 'open',
        createdBy: 'slack:U0TESTIDVA',
        dueOn: new Date('2026-03-06T00:00:00Z'),
      });
      expect(await kindsOf(id)).toEqual(['created']);
      expect(await db.prisma.auditEvent.count({ where: { action: 'action.add', subject: `A-${id}`, actor: 'slack:U0TESTIDVA' } })).toBe(1);
    });

    it("records an action on a person by their label, in any case, with a platform's mention", async () => {
      const reply = await run(idva, `action add ${labels.p1.toLowerCase()} <@U0TESTIDVA|idva> +3d Share the safety plan`);
      expect(reply.visibility).toBe('meeting');
      expect(reply.actions).toHaveLength(1);
      expect(reply.actions![0]).toMatchObject({ label: labels.p1, dueOn: '2026-03-05', owner: { agency: 'idva' } });
      const row = await db.prisma.action.findUniqueOrThrow({ where: { id: idOf(reply) } });
      expect(row).toMatchObject({ incidentId: null, nominalId: ids.p1, ownerId: ids.idva, agency: 'idva', dueOn: new Date('2026-03-05T00:00:00Z') });
    });

    it("records an action on a person by their records-system reference, showing only their label", async () => {
      const reply = await run(chair, 'action add TEST-V-1 @U0TESTCSC 2026-03-10 Refer to the outreach service');
      expect(reply.visibility).toBe('meeting');
      expect(reply.actions).toHaveLength(1);
      expect(reply.actions![0]).toMatchObject({ label: labels.v1, dueOn: '2026-03-10', owner: { agency: 'childrens-social-care' } });
      expect(reply.text).not.toContain('TEST-V-1');
      const row = await db.prisma.action.findUniqueOrThrow({ where: { id: idOf(reply) } });
      expect(row).toMatchObject({ incidentId: null, nominalId: ids.v1, ownerId: ids.csc, agency: 'childrens-social-care', createdBy: 'slack:U0TESTCHAIR' });
    });

    it('reads "panel" as the day before the next panel', async () => {
      const reply = await run(idva, 'action add TEST-INC-2 @U0TESTIDVA panel Bring the case to the panel');
      expect(reply.visibility).toBe('meeting');
      expect(reply.actions![0]!.dueOn).toBe('2026-03-09');
      expect((await db.prisma.action.findUniqueOrThrow({ where: { id: idOf(reply) } })).dueOn).toEqual(new Date('2026-03-09T00:00:00Z'));
    });

    it('lets the console operator record an action for a member', async () => {
      const reply = await run(operator, 'action add TEST-INC-3 @U0TESTIDVA tomorrow Contact the victim');
      expect(reply.visibility).toBe('meeting');
      expect(await db.prisma.action.findUniqueOrThrow({ where: { id: idOf(reply) } })).toMatchObject({
        incidentId: ids.inc3,
        nominalId: ids.p2,
        ownerId: ids.idva,
        createdBy: 'console:operator',
        dueOn: new Date('2026-03-03T00:00:00Z'),
      });
    });
  });

  describe('action add, once', () => {
    it('records a request delivered twice once, answering the second privately', async () => {
      const text = 'action add TEST-INC-1 @U0TESTIDVA +7d Retried request';
      const first = await run(idva, text, { requestId: 'req-retry-1' });
      const second = await run(idva, text, { requestId: 'req-retry-1' });
      expect(first.visibility).toBe('meeting');
      expect(second.visibility).toBe('private');
      expect(second.text).toBe(`That action was already recorded as A-${idOf(first)}.`);
      expect(idOf(second)).toBe(idOf(first));
      const rows = await actionsWith('Retried request');
      expect(rows).toHaveLength(1);
      expect(rows[0]!.idempotencyKey).toBe('req-retry-1');
      expect(await kindsOf(rows[0]!.id)).toEqual(['created']);
    });

    it('records an identical command under another request id once', async () => {
      const text = 'action add TEST-INC-1 @U0TESTIDVA +7d Typed twice';
      const first = await run(idva, text, { requestId: 'req-typed-1' });
      const second = await run(chair, text, { requestId: 'req-typed-2' });
      const third = await run(idva, text);
      expect(first.visibility).toBe('meeting');
      for (const again of [second, third]) {
        expect(again.visibility).toBe('private');
        expect(again.text).toContain('already recorded');
        expect(idOf(again)).toBe(idOf(first));
      }
      expect(await actionsWith('Typed twice')).toHaveLength(1);
    });

    it('records two identical commands arriving together once', async () => {
      const text = 'action add TEST-INC-2 @U0TESTPOLICE +5d Double click';
      const replies = await Promise.all([run(idva, text), run(idva, text)]);
      expect(await actionsWith('Double click')).toHaveLength(1);
      expect(replies.map((r) => r.visibility).sort()).toEqual(['meeting', 'private']);
      expect(new Set(replies.map(idOf)).size).toBe(1);
    });

    it('records two deliveries of one request arriving together once', async () => {
      const text = 'action add TEST-INC-2 @U0TESTPOLICE +5d Concurrent retry';
      const replies = await Promise.all([run(idva, text, { requestId: 'req-race-1' }), run(idva, text, { requestId: 'req-race-1' })]);
      expect(await actionsWith('Concurrent retry')).toHaveLength(1);
      expect(replies.map((r) => r.visibility).sort()).toEqual(['meeting', 'private']);
    });

    it('records the same text again when it is about something else, for someone else or due another day', async () => {
      await run(idva, 'action add TEST-INC-1 @U0TESTIDVA friday Same words');
      await run(idva, 'action add TEST-INC-2 @U0TESTIDVA friday Same words');
      await run(idva, 'action add TEST-INC-1 @U0TESTPOLICE friday Same words');
      await run(idva, 'action add TEST-INC-1 @U0TESTIDVA thursday Same words');
      expect(await actionsWith('Same words')).toHaveLength(4);
    });
  });

  describe('action add, refused', () => {
    async function refusedAdd(text: string, ...problems: Array<string | RegExp>): Promise<Reply> {
      const before = await db.prisma.action.count();
      const reply = await run(idva, text);
      expect(reply.visibility, text.slice(0, 80)).toBe('private');
      expect(reply.actions ?? []).toEqual([]);
      for (const problem of problems) {
        if (typeof problem === 'string') expect(reply.text).toContain(problem);
        else expect(reply.text).toMatch(problem);
      }
      expect(reply.text).toContain(usage);
      expect(await db.prisma.action.count()).toBe(before);
      return reply;
    }

    it('refuses a reference nobody is known by', async () => {
      await refusedAdd('action add TEST-INC-NOPE @U0TESTIDVA friday Unknown ref', 'No incident or person is known by "TEST-INC-NOPE"', 'Nothing was recorded');
    });

    it('refuses a due date in the past', async () => {
      await refusedAdd('action add TEST-INC-1 @U0TESTIDVA 2026-03-01 Past due', 'in the past', '2026-03-01');
    });

    it('refuses a due date that does not exist', async () => {
      await refusedAdd('action add TEST-INC-1 @U0TESTIDVA 2026-02-30 Impossible date', '2026-02-30', 'is not a due date');
    });

    it('refuses an owner who is not a member', async () => {
      await refusedAdd('action add TEST-INC-1 @U0TESTOUTSIDER friday Outsider owner', 'The owner must be a member');
    });

    it('refuses an owner written without an @mention', async () => {
      await refusedAdd('action add TEST-INC-1 U0TESTIDVA friday No mention', 'is not an @mention');
    });

    it('names every problem at once', async () => {
      await refusedAdd('action add TEST-INC-NOPE @U0TESTOUTSIDER 2026-03-01 Three problems', 'No incident or person', 'in the past', 'The owner must be a member');
    });

    it('refuses a missing text', async () => {
      await refusedAdd('action add TEST-INC-1 @U0TESTIDVA friday', 'The action text is missing');
      await refusedAdd('action add TEST-INC-1 @U0TESTIDVA friday    ', 'The action text is missing');
    });

    it('refuses missing words, naming the first one missing', async () => {
      await refusedAdd('action add TEST-INC-1', 'The @owner is missing');
      await refusedAdd('action add TEST-INC-1 @U0TESTIDVA', 'The due date is missing');
    });

    it('refuses a text over the limit of 1,000 characters', async () => {
      await refusedAdd(`action add TEST-INC-1 @U0TESTIDVA friday ${'x'.repeat(1_001)}`, 'longer than 1000 characters');
    });

    it('refuses a 10,000-character text, naming the limit', async () => {
      const reply = await refusedAdd(`action add TEST-INC-1 @U0TESTIDVA friday ${'x'.repeat(10_000)}`, /limit|at most|longer than/i);
      expect(reply.text.length).toBeLessThan(1_000);
    });

    it('refuses a text with control characters', async () => {
      await refusedAdd('action add TEST-INC-1 @U0TESTIDVA friday Bell\u0007here', 'control characters');
    });
  });

  describe('changing an action', () => {
    let id: number;
    beforeAll(async () => {
      id = idOf(await run(chair, 'action add TEST-INC-2 @U0TESTIDVA friday Call the victim back'));
    });
    const row = () => db.prisma.action.findUniqueOrThrow({ where: { id } });

    it('lets the owner add a note, to the meeting', async () => {
      const reply = await run(idva, `action update A-${id} Left a message, will try again`);
      expect(reply).toMatchObject({ visibility: 'meeting', text: `Noted on A-${id}.` });
      expect(reply.actions).toHaveLength(1);
      expect(await kindsOf(id)).toEqual(['created', 'update']);
      const update = await db.prisma.actionUpdate.findFirstOrThrow({ where: { actionId: id, kind: 'update' } });
      expect(update).toMatchObject({ author: 'slack:U0TESTIDVA', note: 'Left a message, will try again' });
    });

    it('lets the owner change the due date, and takes the id without its A-', async () => {
      const reply = await run(idva, `action due ${id} +7d`);
      expect(reply).toMatchObject({ visibility: 'meeting', text: `A-${id} is now due 2026-03-09.` });
      expect((await row()).dueOn).toEqual(new Date('2026-03-09T00:00:00Z'));
      expect(await kindsOf(id)).toEqual(['created', 'update', 'due']);
    });

    it('refuses a due date in the past, changing nothing', async () => {
      const reply = await run(idva, `action due A-${id} 2026-03-01`);
      expect(reply.visibility).toBe('private');
      expect(reply.text).toContain('in the past');
      expect((await row()).dueOn).toEqual(new Date('2026-03-09T00:00:00Z'));
      expect(await kindsOf(id)).toEqual(['created', 'update', 'due']);
    });

    it("refuses every change by another member who is not a chair", async () => {
      const before = await row();
      for (const text of [
        `action done A-${id}`,
        `action update A-${id} Not mine`,
        `action reassign A-${id} @U0TESTPOLICE`,
        `action due A-${id} friday`,
        `action cancel A-${id} Not mine`,
      ]) {
        const reply = await run(police, text);
        expect(reply.visibility, text).toBe('private');
        expect(reply.text, text).toContain('only its owner or a chair');
      }
      expect(await row()).toEqual(before);
      expect(await kindsOf(id)).toEqual(['created', 'update', 'due']);
    });

    it("lets a chair change anyone's action", async () => {
      const reply = await run(chair, `action update A-${id} Chair asked for an update`);
      expect(reply.visibility).toBe('meeting');
      expect(await kindsOf(id)).toEqual(['created', 'update', 'due', 'update']);
    });

    it('refuses to reassign to someone who is not a member, keeping the owner', async () => {
      const reply = await run(idva, `action reassign A-${id} @U0TESTOUTSIDER`);
      expect(reply.visibility).toBe('private');
      expect(reply.text).toContain('must be a member');
      expect(await row()).toMatchObject({ ownerId: ids.idva, agency: 'idva' });
    });

    it("reassigns to another member, the action taking the new owner's agency", async () => {
      const reply = await run(idva, `action reassign A-${id} <@U0TESTCSC>`);
      expect(reply.visibility).toBe('meeting');
      expect(reply.text).toBe(`A-${id} now belongs to Test CSC (childrens-social-care).`);
      expect(reply.actions![0]!.owner).toMatchObject({ memberId: ids.csc, agency: 'childrens-social-care' });
      expect(await row()).toMatchObject({ ownerId: ids.csc, agency: 'childrens-social-care', status: 'open' });
      expect(await kindsOf(id)).toEqual(['created', 'update', 'due', 'update', 'reassign']);
    });

    it('no longer lets the former owner change it', async () => {
      const reply = await run(idva, `action update A-${id} Still mine?`);
      expect(reply.visibility).toBe('private');
      expect(reply.text).toContain('only its owner or a chair');
    });

    it('lets the new owner close it, with a note', async () => {
      const reply = await run(await slackActor('U0TESTCSC'), `action done A-${id} Safety plan agreed`);
      expect(reply).toMatchObject({ visibility: 'meeting', text: `A-${id} is done.` });
      expect(reply.actions![0]!.status).toBe('done');
      expect(await row()).toMatchObject({ status: 'done', closedNote: 'Safety plan agreed', closedAt: now });
      expect(await kindsOf(id)).toEqual(['created', 'update', 'due', 'update', 'reassign', 'done']);
    });

    it('refuses to close or change it again, changing nothing', async () => {
      const before = await row();
      const csc = await slackActor('U0TESTCSC');
      for (const [actor, text] of [
        [csc, `action done A-${id}`],
        [chair, `action done A-${id} Again`],
        [chair, `action cancel A-${id} Too late`],
        [csc, `action update A-${id} After the fact`],
      ] as const) {
        const reply = await run(actor, text);
        expect(reply.visibility, text).toBe('private');
        expect(reply.text, text).toContain('already done');
        expect(reply.text, text).toContain('nothing was changed');
      }
      expect(await row()).toEqual(before);
      expect(await kindsOf(id)).toHaveLength(6);
    });

    it('lets a chair close a member’s action', async () => {
      const other = idOf(await run(idva, 'action add TEST-INC-3 @U0TESTIDVA friday Chair closes this'));
      const reply = await run(chair, `action done A-${other}`);
      expect(reply.visibility).toBe('meeting');
      expect(await db.prisma.action.findUniqueOrThrow({ where: { id: other } })).toMatchObject({ status: 'done', closedNote: null });
      const done = await db.prisma.actionUpdate.findFirstOrThrow({ where: { actionId: other, kind: 'done' } });
      expect(done.author).toBe('slack:U0TESTCHAIR');
    });

    it('lets the owner cancel with a reason, and then refuses to close it', async () => {
      const other = idOf(await run(idva, 'action add TEST-INC-3 @U0TESTIDVA friday To be cancelled'));
      const reply = await run(idva, `action cancel A-${other} Duplicate of another action`);
      expect(reply).toMatchObject({ visibility: 'meeting', text: `A-${other} is cancelled.` });
      expect(await db.prisma.action.findUniqueOrThrow({ where: { id: other } })).toMatchObject({ status: 'cancelled', closedNote: 'Duplicate of another action' });
      expect(await kindsOf(other)).toEqual(['created', 'cancel']);
      const again = await run(idva, `action done A-${other}`);
      expect(again.visibility).toBe('private');
      expect(again.text).toContain('already cancelled');
    });

    it('refuses a cancel without a reason', async () => {
      const other = idOf(await run(idva, 'action add TEST-INC-3 @U0TESTIDVA friday Cancel without reason'));
      const reply = await run(idva, `action cancel A-${other}`);
      expect(reply.visibility).toBe('private');
      expect(reply.text).toContain('The reason is missing');
      expect((await db.prisma.action.findUniqueOrThrow({ where: { id: other } })).status).toBe('open');
    });

    it('says when there is no such action, or it is in another meeting', async () => {
      const missing = await run(chair, 'action done A-999999');
      expect(missing.visibility).toBe('private');
      expect(missing.text).toContain('There is no action A-999999 in this meeting');
      const elsewhere = await run(chair, `action done A-${id}`, { in: listMeeting });
      expect(elsewhere.text).toContain(`There is no action A-${id} in this meeting`);
    });
  });

  describe('action list and show', () => {
    const listed = (reply: Reply) => (reply.actions ?? []).map((a) => a.text);
    const list = (actor: Actor, text: string) => run(actor, text, { in: listMeeting });
    let shownId: number;

    beforeAll(async () => {
      const add = async (actor: Actor, text: string, at = now) => {
        const reply = await run(actor, text, { in: listMeeting, at });
        expect(reply.visibility, text).toBe('meeting');
        return idOf(reply);
      };
      shownId = await add(idva, 'action add TEST-INC-2 @U0TESTIDVA friday L1 incident two, idva');
      await add(chair, `action add ${labels.p2} @U0TESTPOLICE +3d L2 person two, police`);
      // Recorded last month, so it is overdue today.
      await add(chair, 'action add TEST-INC-2 @U0TESTPOLICE 2026-02-25 L3 incident two, police, overdue', new Date('2026-02-20T10:00:00Z'));
      const closed = await add(idva, 'action add TEST-INC-1 @U0TESTIDVA friday L4 closed');
      await list(idva, `action done A-${closed}`);
      await list(idva, `action update A-${shownId} First call made`);
    });

    it('lists the open actions of the meeting, soonest due first, privately', async () => {
      const reply = await list(idva, 'action list');
      expect(reply.visibility).toBe('private');
      expect(reply.text).toBe('Open actions:');
      expect(listed(reply)).toEqual(['L3 incident two, police, overdue', 'L2 person two, police', 'L1 incident two, idva']);
      expect(reply.actions!.map((a) => a.overdue)).toEqual([true, false, false]);
    });

    it("lists the asker's own actions", async () => {
      const reply = await list(idva, 'action list mine');
      expect(reply.text).toBe('Your open actions:');
      expect(listed(reply)).toEqual(['L1 incident two, idva']);
      expect(listed(await list(police, 'action list MINE'))).toEqual(['L3 incident two, police, overdue', 'L2 person two, police']);
    });

    it('lists overdue actions', async () => {
      const reply = await list(idva, 'action list overdue');
      expect(reply.text).toBe('Overdue actions:');
      expect(listed(reply)).toEqual(['L3 incident two, police, overdue']);
    });

    it("lists a member's actions by mention, in either form", async () => {
      const reply = await list(idva, 'action list @U0TESTPOLICE');
      expect(reply.text).toBe('Open actions of Test Police:');
      expect(listed(reply)).toEqual(['L3 incident two, police, overdue', 'L2 person two, police']);
      expect(listed(await list(idva, 'action list <@U0TESTPOLICE|police>'))).toEqual(listed(reply));
      const none = await list(idva, 'action list @U0TESTCSC');
      expect(none.text).toBe('Open actions of Test CSC: none.');
      expect(none.actions).toEqual([]);
    });

    it('lists the actions on an incident, or on a person by label', async () => {
      const byIncident = await list(idva, 'action list TEST-INC-2');
      expect(byIncident.text).toBe('Open actions on TEST-INC-2:');
      expect(listed(byIncident)).toEqual(['L3 incident two, police, overdue', 'L1 incident two, idva']);
      const byPerson = await list(idva, `action list ${labels.p2}`);
      expect(byPerson.text).toBe(`Open actions on ${labels.p2}:`);
      expect(listed(byPerson)).toEqual(['L2 person two, police']);
      expect(listed(await list(idva, 'action list TEST-INC-1'))).toEqual([]);
    });

    it('says when a list cannot be made', async () => {
      const notMember = await list(idva, 'action list @U0TESTOUTSIDER');
      expect(notMember).toMatchObject({ visibility: 'private', text: 'That person is not a member of the meeting.' });
      const unknown = await list(idva, 'action list TEST-INC-NOPE');
      expect(unknown.visibility).toBe('private');
      expect(unknown.text).toContain('No incident or person is known by "TEST-INC-NOPE"');
      const consoleMine = await list(operator, 'action list mine');
      expect(consoleMine.text).toContain('The console has no actions of its own');
      expect(listed(await list(operator, 'action list'))).toHaveLength(3);
    });

    it('keeps the meetings apart', async () => {
      const texts = listed(await run(idva, 'action list'));
      expect(texts.length).toBeGreaterThan(0);
      expect(texts.filter((t) => /^L\d /.test(t))).toEqual([]);
    });

    it('shows one action with its history, privately', async () => {
      const reply = await list(police, `action show A-${shownId}`);
      expect(reply.visibility).toBe('private');
      expect(reply.actions).toHaveLength(1);
      expect(reply.actions![0]).toMatchObject({ id: `A-${shownId}`, text: 'L1 incident two, idva' });
      const lines = reply.text.split('\n');
      expect(lines[0]).toBe('History:');
      expect(lines).toHaveLength(3);
      expect(lines[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} created$/);
      expect(lines[2]).toMatch(/ update: First call made$/);
      const missing = await list(police, 'action show A-999999');
      expect(missing.text).toContain('There is no action A-999999 in this meeting');
    });
  });

  describe('outsiders', () => {
    it('refuses every command but help to someone who is not a member, on the record', async () => {
      const texts = [
        'agenda',
        'agenda 2026-03-02',
        'action add TEST-INC-1 @U0TESTIDVA friday Outsider action',
        'action add TEST-INC-1 @U0TESTOUTSIDER friday Outsider action',
        'action list',
        'action list mine',
        'action show A-1',
        'action done A-1',
        'action update A-1 Outsider note',
        'action reassign A-1 @U0TESTOUTSIDER',
        'action due A-1 friday',
        'action cancel A-1 Outsider reason',
        'review TEST-INC-1 Outsider outcome',
        `flag ${labels.p1} chair`,
        `unflag ${labels.p2} marac`,
        'member add @U0TESTOUTSIDER idva chair',
        'member remove @U0TESTIDVA',
        'member list',
      ];
      const actionsBefore = await db.prisma.action.count();
      const updatesBefore = await db.prisma.actionUpdate.count();
      const membersBefore = await db.prisma.member.findMany({ orderBy: { id: 'asc' } });
      const flagsBefore = await db.prisma.flag.findMany({ orderBy: { id: 'asc' } });
      const reviewsBefore = await db.prisma.incidentReview.count();
      const refusedBefore = await refusals(outsider);
      for (const text of texts) {
        const reply = await run(outsider, text);
        expect(reply.visibility, text).toBe('private');
        expect(reply.text, text).toContain('only members of this meeting');
        expect(reply.actions, text).toBeUndefined();
        expect(reply.agenda, text).toBeUndefined();
      }
      expect(await refusals(outsider)).toBe(refusedBefore + texts.length);
      const reasons = (await db.prisma.auditEvent.findMany({ where: { actor: outsider.id, action: 'refused' }, orderBy: { id: 'asc' } })).map((e) => e.reason);
      expect(reasons).toContain('not a member: action add');
      expect(reasons).toContain('not a member: member add');
      expect(await db.prisma.action.count()).toBe(actionsBefore);
      expect(await db.prisma.actionUpdate.count()).toBe(updatesBefore);
      expect(await db.prisma.member.findMany({ orderBy: { id: 'asc' } })).toEqual(membersBefore);
      expect(await db.prisma.flag.findMany({ orderBy: { id: 'asc' } })).toEqual(flagsBefore);
      expect(await db.prisma.incidentReview.count()).toBe(reviewsBefore);
    });

    it('answers help to anyone, without a refusal', async () => {
      const refusedBefore = await refusals(outsider);
      const all = await run(outsider, 'help');
      expect(all.visibility).toBe('private');
      expect(all.text).toContain('dmm-bot commands:');
      expect(all.text).toContain('/dmm action add');
      const blank = await run(outsider, '');
      expect(blank.text).toBe(all.text);
      const one = await run(outsider, 'help action add');
      expect(one.text).toContain('/dmm action add <ref> @owner <due> <text…>');
      expect(await refusals(outsider)).toBe(refusedBefore);
    });
  });

  describe('chairs only', () => {
    it('refuses flag, unflag and member commands to a member who is not a chair, on the record', async () => {
      const texts: Array<[string, string]> = [
        [`flag ${labels.p1} chair Not a chair`, 'flag'],
        [`unflag ${labels.p2} marac`, 'unflag'],
        ['member add @U0TESTNEWBIE idva', 'member add'],
        ['member remove @U0TESTPOLICE', 'member remove'],
        ['member list', 'member list'],
      ];
      const membersBefore = await db.prisma.member.findMany({ orderBy: { id: 'asc' } });
      const flagsBefore = await db.prisma.flag.findMany({ orderBy: { id: 'asc' } });
      const refusedBefore = await refusals(idva);
      for (const [text, name] of texts) {
        const reply = await run(idva, text);
        expect(reply).toMatchObject({ visibility: 'private', text: `Only a chair can use /dmm ${name}.` });
      }
      expect(await refusals(idva)).toBe(refusedBefore + texts.length);
      expect(await db.prisma.auditEvent.count({ where: { actor: idva.id, action: 'refused', reason: 'not a chair: member add' } })).toBe(1);
      expect(await db.prisma.member.findMany({ orderBy: { id: 'asc' } })).toEqual(membersBefore);
      expect(await db.prisma.flag.findMany({ orderBy: { id: 'asc' } })).toEqual(flagsBefore);
    });
  });

  describe('flags', () => {
    const flagsOf = (perpetratorId: number, kind: 'chair' | 'marac') => db.prisma.flag.findMany({ where: { perpetratorId, kind }, orderBy: { id: 'asc' } });

    it('lets a chair flag a perpetrator from today, to the meeting', async () => {
      const reply = await run(chair, `flag ${labels.p1} chair Repeat breaches`);
      expect(reply).toMatchObject({ visibility: 'meeting', text: `${labels.p1} is flagged chair from 2026-03-02.` });
      const flags = await flagsOf(ids.p1, 'chair');
      expect(flags).toHaveLength(1);
      expect(flags[0]).toMatchObject({ startsOn: new Date('2026-03-02T00:00:00Z'), endsOn: null, note: 'Repeat breaches', setBy: 'slack:U0TESTCHAIR' });
      expect(await db.prisma.auditEvent.count({ where: { action: 'flag.set', subject: labels.p1 } })).toBe(1);
    });

    it('says a perpetrator is already flagged, changing nothing', async () => {
      const before = await flagsOf(ids.p1, 'chair');
      const reply = await run(chair, `flag ${labels.p1} CHAIR Again`);
      expect(reply.visibility).toBe('private');
      expect(reply.text).toContain('already has an active chair flag');
      expect(await flagsOf(ids.p1, 'chair')).toEqual(before);
    });

    it('removes a flag that started today when it is ended', async () => {
      const reply = await run(chair, `unflag ${labels.p1} chair`);
      expect(reply).toMatchObject({ visibility: 'meeting', text: `${labels.p1}'s chair flag has ended.` });
      expect(await flagsOf(ids.p1, 'chair')).toEqual([]);
      const again = await run(chair, `unflag ${labels.p1} chair`);
      expect(again.visibility).toBe('private');
      expect(again.text).toContain('has no active chair flag');
    });

    it('ends a flag that started earlier yesterday, keeping its history', async () => {
      const reply = await run(chair, `unflag ${labels.p2.toLowerCase()} MARAC`);
      expect(reply.visibility).toBe('meeting');
      const flags = await flagsOf(ids.p2, 'marac');
      expect(flags).toHaveLength(1);
      expect(flags[0]).toMatchObject({ startsOn: new Date('2026-02-01T00:00:00Z'), endsOn: new Date('2026-03-01T00:00:00Z') });
      // Flagged again today, a new flag starts today beside the ended one.
      expect((await run(operator, `flag ${labels.p2} marac`)).visibility).toBe('meeting');
      expect((await flagsOf(ids.p2, 'marac')).map((f) => [f.startsOn, f.endsOn])).toEqual([
        [new Date('2026-02-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z')],
        [new Date('2026-03-02T00:00:00Z'), null],
      ]);
    });

    it('refuses to flag an incident or someone unknown', async () => {
      const incidentFlag = await run(chair, 'flag TEST-INC-1 chair');
      expect(incidentFlag.visibility).toBe('private');
      expect(incidentFlag.text).toContain('is an incident');
      const unknown = await run(chair, 'flag N-NOPE-NOPE chair');
      expect(unknown.visibility).toBe('private');
      expect(unknown.text).toContain('No incident or person is known');
      const badKind = await run(chair, `flag ${labels.p1} nonsense`);
      expect(badKind.text).toContain('The flag kind must be one of');
    });
  });

  describe('members', () => {
    it('lets a chair add a member, who can then use the commands', async () => {
      expect((await run(await slackActor('U0TESTNEW'), 'action list')).text).toContain('only members');
      const reply = await run(chair, 'member add @U0TESTNEW Probation');
      expect(reply).toMatchObject({ visibility: 'private', text: 'U0TESTNEW is now a member (probation).' });
      expect(await db.prisma.member.findUniqueOrThrow({ where: { slackUserId: 'U0TESTNEW' } })).toMatchObject({ agency: 'probation', role: 'member', active: true });
      const newcomer = await slackActor('U0TESTNEW');
      const list = await run(newcomer, 'action list');
      expect(list.visibility).toBe('private');
      expect(list.text).toMatch(/^Open actions/);
      expect((await run(newcomer, 'member list')).text).toBe('Only a chair can use /dmm member list.');
    });

    it('lists the members and their agencies to a chair', async () => {
      const reply = await run(chair, 'member list');
      expect(reply.visibility).toBe('private');
      expect(reply.text).toContain('Test Chair (police, chair)');
      expect(reply.text).toContain('Test IDVA (idva)');
      expect(reply.text).toContain('U0TESTNEW (probation)');
    });

    it('removes a member, who is refused from then on, and says what they still own', async () => {
      const owned = idOf(await run(chair, 'action add TEST-INC-1 @U0TESTNEW +1d Call probation'));
      const reply = await run(chair, 'member remove @U0TESTNEW');
      expect(reply.visibility).toBe('private');
      expect(reply.text).toContain('U0TESTNEW can no longer use dmm-bot.');
      expect(reply.text).toContain('They own 1 open action(s)');
      const row = await db.prisma.member.findUniqueOrThrow({ where: { slackUserId: 'U0TESTNEW' } });
      expect(row.active).toBe(false);
      // As the Slack adapter finds them (no active member), and with their inactive row.
      for (const leaver of [await slackActor('U0TESTNEW'), actorOf('slack', 'U0TESTNEW', row)]) {
        const refused = await run(leaver, `action done A-${owned}`);
        expect(refused.visibility).toBe('private');
        expect(refused.text).toContain('only members of this meeting');
      }
      expect((await db.prisma.action.findUniqueOrThrow({ where: { id: owned } })).status).toBe('open');
      // A leaver can no longer be given actions.
      expect((await run(chair, 'action add TEST-INC-1 @U0TESTNEW +2d Leaver owner')).text).toContain('The owner must be a member');
      expect((await run(chair, `action reassign A-${owned} @U0TESTNEW`)).text).toContain('must be a member');
      expect((await run(chair, 'member list')).text).not.toContain('U0TESTNEW');
      const again = await run(chair, 'member remove @U0TESTNEW');
      expect(again.text).toContain('is not a member; nothing was changed');
    });

    it('re-adds a leaver, with their new agency and role', async () => {
      const reply = await run(chair, 'member add <@U0TESTNEW> idva chair');
      expect(reply.text).toBe('U0TESTNEW is now a chair (idva).');
      expect(await db.prisma.member.findMany({ where: { slackUserId: 'U0TESTNEW' } })).toEqual([
        expect.objectContaining({ agency: 'idva', role: 'chair', active: true }),
      ]);
      expect((await slackActor('U0TESTNEW')).isChair).toBe(true);
    });

    it('does not let a chair remove themself', async () => {
      const reply = await run(chair, 'member remove @U0TESTCHAIR');
      expect(reply).toMatchObject({ visibility: 'private', text: 'You cannot remove yourself; ask another chair.' });
      expect((await db.prisma.member.findUniqueOrThrow({ where: { id: ids.chair } })).active).toBe(true);
    });
  });

  describe('review', () => {
    it('records that an incident was discussed, and its outcome, in the thread of the day', async () => {
      await db.prisma.agendaRun.create({
        data: { meetingKey: meeting.key, meetingDate: new Date('2026-03-02T00:00:00Z'), status: 'sent', messageRef: 'agenda-thread-1' },
      });
      const reply = await run(idva, 'review TEST-INC-1 MARAC referral agreed');
      expect(reply).toMatchObject({ visibility: 'meeting', text: 'TEST-INC-1 reviewed: MARAC referral agreed', threadRef: 'agenda-thread-1' });
      const reviews = await db.prisma.incidentReview.findMany({ where: { incidentId: ids.inc1 } });
      expect(reviews).toHaveLength(1);
      expect(reviews[0]).toMatchObject({
        meetingKey: meeting.key,
        meetingDate: new Date('2026-03-02T00:00:00Z'),
        outcome: 'MARAC referral agreed',
        reviewedBy: 'slack:U0TESTIDVA',
      });
      expect(await db.prisma.auditEvent.count({ where: { action: 'incident.review', subject: 'TEST-INC-1' } })).toBe(1);
    });

    it('replies to the meeting in the thread of its agenda, once the agenda is posted', async () => {
      const reply = await run(idva, 'action add TEST-INC-3 @U0TESTIDVA friday Threaded action');
      expect(reply).toMatchObject({ visibility: 'meeting', threadRef: 'agenda-thread-1' });
      expect((await run(idva, 'action list mine')).threadRef).toBeUndefined();
    });

    it('refuses to review a person, an unknown reference or without an outcome', async () => {
      const before = await db.prisma.incidentReview.count();
      const person = await run(idva, `review ${labels.p1} Discussed`);
      expect(person.visibility).toBe('private');
      expect(person.text).toContain('is a person; review takes an incident reference');
      const unknown = await run(idva, 'review TEST-INC-NOPE Discussed');
      expect(unknown.text).toContain('No incident or person is known');
      const noOutcome = await run(idva, 'review TEST-INC-2');
      expect(noOutcome.text).toContain('The outcome is missing');
      expect(noOutcome.text).toContain('Usage: /dmm review');
      expect(await db.prisma.incidentReview.count()).toBe(before);
    });
  });

  describe('the audit trail', () => {
    it('puts every command on an unbroken record', async () => {
      expect(await run(idva, 'nonsense words')).toMatchObject({ visibility: 'private' });
      const check = await verifyAuditChain(db.prisma);
      expect(check).toMatchObject({ ok: true });
      const events = await db.prisma.auditEvent.findMany({ where: { action: 'command' } });
      expect(events).toHaveLength(commands);
      expect(commands).toBeGreaterThan(100);
      expect(events.filter((e) => e.subject === 'not understood').length).toBeGreaterThan(0);
      expect(check.events).toBe(await db.prisma.auditEvent.count());
    });
  });
});

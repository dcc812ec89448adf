// Configured chairs on each database: replicas starting together on one store must not trip over each other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChairs, parseChairIds } from '../../src/store/members.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

describe.each(databaseTargets)('configured chairs on $name', (target) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await target.create();
  });
  afterAll(async () => db?.destroy());

  it('makes each configured chair a member once, however many start at the same moment', async () => {
    const chairs = parseChairIds(['UTESTCHAIR1', 'teams:00000000-0000-4000-8000-00000000c0de']);
    await Promise.all(Array.from({ length: 6 }, () => ensureChairs(db.prisma, chairs)));
    const members = await db.prisma.member.findMany({ orderBy: { id: 'asc' } });
    expect(members.map((m) => [m.slackUserId, m.teamsUserId, m.role, m.active])).toEqual([
      ['UTESTCHAIR1', null, 'chair', true],
      [null, '00000000-0000-4000-8000-00000000c0de', 'chair', true],
    ]);
  });

  it('restores a configured chair who was demoted or removed', async () => {
    await db.prisma.member.updateMany({ where: { slackUserId: 'UTESTCHAIR1' }, data: { role: 'member', active: false } });
    await ensureChairs(db.prisma, parseChairIds(['slack:UTESTCHAIR1']));
    const chair = await db.prisma.member.findFirstOrThrow({ where: { slackUserId: 'UTESTCHAIR1' } });
    expect([chair.role, chair.active]).toEqual(['chair', true]);
  });
});

// Use case: chairs add and remove members (leavers lose access at once) and list them.
import type { Meeting } from '../domain/meeting.js';
import { appendAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { findMember, memberWhere, type PlatformUser } from '../store/members.js';
import type { Actor } from './actor.js';

export interface MemberDirectory {
  /** The person's display name on the platform, if it can tell. */
  displayNameOf(userId: string): Promise<string | undefined>;
}

export async function addMember(db: Database, meeting: Meeting, actor: Actor, userId: string, agency: string, chair: boolean, directory?: MemberDirectory): Promise<{ ok: boolean; message: string }> {
  const platform = actor.platform === 'console' ? 'slack' : actor.platform;
  const user: PlatformUser = { platform, userId };
  const displayName = (await directory?.displayNameOf(userId)) ?? '';
  const existing = await findMember(db.prisma, user, false);
  await db.prisma.$transaction(async (tx) => {
    if (existing) {
      await tx.member.update({ where: { id: existing.id }, data: { agency, role: chair ? 'chair' : 'member', active: true, ...(displayName ? { displayName } : {}) } });
    } else {
      await tx.member.create({ data: { ...memberWhere(user), agency, role: chair ? 'chair' : 'member', displayName } });
    }
    await appendAudit(tx, { actor: actor.id, action: 'member.add', subject: `${platform}:${userId}`, channel: meeting.key, details: { agency, chair } });
  });
  return { ok: true, message: `${displayName || userId} is now a ${chair ? 'chair' : 'member'} (${agency}).` };
}

export async function removeMember(db: Database, meeting: Meeting, actor: Actor, userId: string): Promise<{ ok: boolean; message: string }> {
  const member = await findMember(db.prisma, { platform: actor.platform, userId });
  if (!member) return { ok: false, message: 'That person is not a member; nothing was changed.' };
  if (actor.member?.id === member.id) return { ok: false, message: 'You cannot remove yourself; ask another chair.' };
  await db.prisma.$transaction(async (tx) => {
    await tx.member.update({ where: { id: member.id }, data: { active: false } });
    await appendAudit(tx, { actor: actor.id, action: 'member.remove', subject: `member:${member.id}`, channel: meeting.key });
  });
  const open = await db.prisma.action.count({ where: { ownerId: member.id, status: 'open' } });
  return { ok: true, message: `${member.displayName || userId} can no longer use dmm-bot.${open ? ` They own ${open} open action(s): reassign them with /dmm action reassign.` : ''}` };
}

export async function listMembers(db: Database, meeting: Meeting, actor: Actor): Promise<string> {
  const members = await db.prisma.member.findMany({ where: { active: true }, orderBy: [{ role: 'desc' }, { agency: 'asc' }, { id: 'asc' }] });
  await appendAudit(db.prisma, { actor: actor.id, action: 'member.list', channel: meeting.key });
  if (members.length === 0) return 'There are no members yet.';
  return ['Members:', ...members.map((m) => `${m.displayName || m.slackUserId || m.teamsUserId} (${m.agency}${m.role === 'chair' ? ', chair' : ''})`)].join('\n');
}

// Members of the meetings: who may use dmm-bot, their agency and role, known by a Slack and/or Teams id.
import type { ChatPlatformName } from '../domain/meeting.js';
import type { Member, PrismaClient } from '../generated/prisma/client.js';

export type { Member };

/** A person's id on one platform; the console's operator has no member row. */
export interface PlatformUser {
  platform: ChatPlatformName;
  userId: string;
}

export function memberWhere(user: PlatformUser) {
  return user.platform === 'teams' ? { teamsUserId: user.userId } : { slackUserId: user.userId };
}

/** A mention on the console may name either platform's id. */
export async function findMember(prisma: PrismaClient, user: PlatformUser, activeOnly = true): Promise<Member | null> {
  const where =
    user.platform === 'console' ? { OR: [{ slackUserId: user.userId }, { teamsUserId: user.userId }] } : memberWhere(user);
  return prisma.member.findFirst({ where: { ...where, ...(activeOnly ? { active: true } : {}) } });
}

/** DMM_CHAIRS: `U0123ABC` or `slack:U0123ABC` for Slack, `teams:<AAD object id>` for Teams. */
export function parseChairIds(entries: string[]): PlatformUser[] {
  return entries.map((entry) => {
    const [prefix, ...rest] = entry.split(':');
    if (rest.length > 0 && (prefix === 'slack' || prefix === 'teams')) return { platform: prefix, userId: rest.join(':') };
    return { platform: 'slack' as const, userId: entry };
  });
}

/**
 * The configured chairs are members and chairs, whatever the store says.
 * Replicas start together on one database, so the insert must tolerate another's (ON CONFLICT DO NOTHING).
 */
export async function ensureChairs(prisma: PrismaClient, chairs: PlatformUser[]): Promise<void> {
  for (const chair of chairs) {
    const where = memberWhere(chair);
    await prisma.member.createMany({
      data: [{ ...where, agency: 'police', role: 'chair', displayName: '' }],
      skipDuplicates: true,
    });
    await prisma.member.updateMany({
      where: { ...where, OR: [{ role: { not: 'chair' } }, { active: false }] },
      data: { role: 'chair', active: true },
    });
  }
}

/** Where the bot's personal chat with a Teams member is, once known. */
export interface PersonalChats {
  get(teamsUserId: string): Promise<string | undefined>;
  set(teamsUserId: string, chatId: string): Promise<void>;
}

export function personalChatsIn(prisma: PrismaClient): PersonalChats {
  return {
    async get(teamsUserId) {
      const member = await prisma.member.findFirst({ where: { teamsUserId }, select: { teamsChatId: true } });
      return member?.teamsChatId ?? undefined;
    },
    async set(teamsUserId, chatId) {
      await prisma.member.updateMany({ where: { teamsUserId }, data: { teamsChatId: chatId } });
    },
  };
}

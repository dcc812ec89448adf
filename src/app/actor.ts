// Who is asking: a platform user, the member behind them (if any), and what they may do.
import type { ChatPlatformName } from '../domain/meeting.js';
import type { Member } from '../store/members.js';

export interface Actor {
  /** `<platform>:<user id>`, as the audit trail names people. */
  id: string;
  platform: ChatPlatformName;
  userId: string;
  member: Member | null;
  isChair: boolean;
}

export function actorOf(platform: ChatPlatformName, userId: string, member: Member | null): Actor {
  // The console is the local operator of this installation, who holds the store itself.
  const isChair = platform === 'console' || member?.role === 'chair';
  return { id: `${platform}:${userId}`, platform, userId, member, isChair };
}

export function isMember(actor: Actor): boolean {
  return actor.platform === 'console' || (actor.member !== null && actor.member.active);
}

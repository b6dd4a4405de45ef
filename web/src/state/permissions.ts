/**
 * What the signed-in user may do in a room, to decide which moderation controls to show. The rules are the
 * server's own (src/protocol/permissions.ts: the one table, printed in docs/protocol.md); this adapts them to the
 * UI's needs so it does not offer buttons that can only fail. The server still decides.
 */
import type { Member, MemberRole, MyRoom, PublicUser, RoomKind } from '../../../src/protocol/model.js';
import {
  can as allowed,
  mayGrant,
  outranks as ranksAbove,
  rank,
  READ_ONLY_POSTER,
  type RoomAction,
} from '../../../src/protocol/permissions.js';

export { rank };

type Action = 'update' | 'setRole' | 'moderate' | 'deleteAny' | 'viewAudit' | 'pin';
const RULE: Record<Action, RoomAction> = {
  update: 'update',
  setRole: 'setRole',
  moderate: 'kick', // kick, ban, mute, join requests and reports share one least role
  deleteAny: 'deleteMessage',
  viewAudit: 'viewAudit',
  pin: 'pin',
};

const isAdmin = (me: PublicUser | null) => me?.role === 'admin';

/**
 * Whether `me` (with room role `role`, null if not a member) may do `action` in a room of `kind`. In DMs the UI
 * offers server admins only deletion (acting on a report), though the API lets them remove, ban and mute too.
 */
export function can(action: Action, kind: RoomKind, role: MemberRole | null, me: PublicUser | null): boolean {
  if (kind === 'dm' && action !== 'deleteAny' && action !== 'pin') return false;
  return allowed(RULE[action], kind, role, isAdmin(me));
}

/** May act (kick, ban, mute, change role) on a member holding `target`: only on those ranked below you. */
export function outranks(role: MemberRole | null, me: PublicUser | null, target: MemberRole | null): boolean {
  return ranksAbove(role, isAdmin(me), target);
}

/** The roles `me` may give someone: owners any, others only roles below their own. */
export function grantable(role: MemberRole | null, me: PublicUser | null): MemberRole[] {
  const all: MemberRole[] = ['owner', 'admin', 'moderator', 'member'];
  return all.filter((r) => mayGrant(role, isAdmin(me), r));
}

/** Posting is closed to you here: a read-only room below moderator. (Mutes are per member: see `mutedUntil`.) */
export function readOnlyFor(room: MyRoom): boolean {
  return room.settings?.readOnly === true && rank(room.myRole) < rank(READ_ONLY_POSTER);
}

/** Slow mode applies to you here (it does not from moderator up). */
export function slowModeFor(room: MyRoom): number {
  return rank(room.myRole) < rank(READ_ONLY_POSTER) ? (room.settings?.slowModeSeconds ?? 0) : 0;
}

/** Whether a member's mute is still running (an expired one is no mute). */
export function isMuted(m: Pick<Member, 'mutedUntil'> | undefined, now = Date.now()): boolean {
  return !!m?.mutedUntil && Date.parse(m.mutedUntil) > now;
}

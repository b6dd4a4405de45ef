/**
 * What the signed-in user may do in a room, to decide which moderation controls to show. The server decides
 * (src/core/permissions.ts holds the one table; docs/protocol.md prints it); this mirrors it so the UI does not
 * offer buttons that can only fail. Server admins moderate every room but do not post where they are not members.
 */
import type { Member, MemberRole, MyRoom, PublicUser, RoomKind } from '../../../src/protocol/model.js';

const RANK: Record<MemberRole, number> = { owner: 4, admin: 3, moderator: 2, member: 1 };

export function rank(role: MemberRole | null | undefined): number {
  return role ? RANK[role] : 0;
}

type Action = 'update' | 'setRole' | 'moderate' | 'deleteAny' | 'viewAudit';
const LEAST: Record<Action, MemberRole> = {
  update: 'admin',
  setRole: 'admin',
  moderate: 'moderator', // kick, ban, mute, join requests, reports
  deleteAny: 'moderator',
  viewAudit: 'admin',
};

/** Whether `me` (with room role `role`, null if not a member) may do `action` in a room of `kind`. */
export function can(action: Action, kind: RoomKind, role: MemberRole | null, me: PublicUser | null): boolean {
  if (kind === 'dm') return action === 'deleteAny' && me?.role === 'admin';
  if (me?.role === 'admin') return true;
  return rank(role) >= RANK[LEAST[action]];
}

/** May act (kick, ban, mute, change role) on a member holding `target`: only on those ranked below you. */
export function outranks(role: MemberRole | null, me: PublicUser | null, target: MemberRole | null): boolean {
  if (me?.role === 'admin' || role === 'owner') return true;
  return rank(role) > rank(target);
}

/** The roles `me` may give someone: owners any, others only roles below their own. */
export function grantable(role: MemberRole | null, me: PublicUser | null): MemberRole[] {
  const all: MemberRole[] = ['owner', 'admin', 'moderator', 'member'];
  if (me?.role === 'admin' || role === 'owner') return all;
  return all.filter((r) => rank(role) > RANK[r]);
}

/** Posting is closed to you here: a read-only room below moderator. (Mutes are per member: see `mutedUntil`.) */
export function readOnlyFor(room: MyRoom): boolean {
  return room.settings?.readOnly === true && rank(room.myRole) < RANK.moderator;
}

/** Slow mode applies to you here (it does not from moderator up). */
export function slowModeFor(room: MyRoom): number {
  return rank(room.myRole) < RANK.moderator ? (room.settings?.slowModeSeconds ?? 0) : 0;
}

/** Whether a member's mute is still running (an expired one is no mute). */
export function isMuted(m: Pick<Member, 'mutedUntil'> | undefined, now = Date.now()): boolean {
  return !!m?.mutedUntil && Date.parse(m.mutedUntil) > now;
}

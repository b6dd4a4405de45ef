import type { MemberRole, RoomKind } from './model.js';

/**
 * Who may do what in a room: the one table. docs/protocol.md prints it and test/e2e/authorization-matrix.test.ts
 * checks every cell over HTTP and WebSocket, against a grid of its own (test/helpers/permission-oracle.ts) that
 * test/unit/permissions-oracle.test.ts holds equal to this table and to the docs.
 *
 * Each cell is the least room role that may act (`anyone` = any signed-in user, `nobody` = no room role).
 * `serverAdmin` says whether a server admin may act without that role: `rooms` in public and private rooms,
 * `all` in DMs too. Admins moderate every room, but do not read or post in private rooms and DMs they are not in;
 * in a DM they may remove, ban, mute and delete (acting on a report), but not rename it or hand out roles.
 */
export type RoomAction =
  | 'read'
  | 'post'
  | 'invite'
  | 'update'
  | 'setRole'
  | 'kick'
  | 'ban'
  | 'mute'
  | 'deleteMessage'
  | 'editMessage'
  | 'markRead'
  | 'notify'
  | 'pin'
  | 'react'
  | 'approveJoin'
  | 'viewReports'
  | 'viewAudit'
  | 'manageWebhooks'
  | 'manageAssistant';

export type Who = 'anyone' | 'nobody' | MemberRole;

export type AdminOverride = false | 'rooms' | 'all';

export const ROOM_PERMISSIONS: Record<RoomAction, Record<RoomKind, Who> & { serverAdmin: AdminOverride }> = {
  read: { public: 'anyone', private: 'member', dm: 'member', serverAdmin: false },
  post: { public: 'member', private: 'member', dm: 'member', serverAdmin: false },
  invite: { public: 'member', private: 'admin', dm: 'nobody', serverAdmin: false },
  update: { public: 'admin', private: 'admin', dm: 'nobody', serverAdmin: 'rooms' },
  setRole: { public: 'admin', private: 'admin', dm: 'nobody', serverAdmin: 'rooms' },
  kick: { public: 'moderator', private: 'moderator', dm: 'nobody', serverAdmin: 'all' },
  ban: { public: 'moderator', private: 'moderator', dm: 'nobody', serverAdmin: 'all' },
  mute: { public: 'moderator', private: 'moderator', dm: 'nobody', serverAdmin: 'all' },
  /** Any message; everyone may delete their own. DMs: only server admins (acting on a report). */
  deleteMessage: { public: 'moderator', private: 'moderator', dm: 'nobody', serverAdmin: 'all' },
  /** One's own messages only: nobody rewrites another's (moderators delete). Posting rights apply (mute, read-only). */
  editMessage: { public: 'member', private: 'member', dm: 'member', serverAdmin: false },
  /** One's own read marker and the room's read receipts: any member, muted or not (reading is not posting). */
  markRead: { public: 'member', private: 'member', dm: 'member', serverAdmin: false },
  /** One's own notification level for the room: any member, muted or not. */
  notify: { public: 'member', private: 'member', dm: 'member', serverAdmin: false },
  /** Pin and unpin messages: moderators in rooms, either member in a DM. */
  pin: { public: 'moderator', private: 'moderator', dm: 'member', serverAdmin: 'rooms' },
  /**
   * Reacting to any message: members, as on Slack and Discord. Muted members may not (Discord's timeout), read-only
   * rooms allow it (Slack's announcement channels); server admins who are not members may not.
   */
  react: { public: 'member', private: 'member', dm: 'member', serverAdmin: false },
  approveJoin: { public: 'moderator', private: 'moderator', dm: 'nobody', serverAdmin: 'rooms' },
  viewReports: { public: 'moderator', private: 'moderator', dm: 'nobody', serverAdmin: 'all' },
  viewAudit: { public: 'admin', private: 'admin', dm: 'nobody', serverAdmin: 'all' },
  /**
   * Create, list and revoke the room's incoming and outgoing webhooks, read their delivery log. Not server admins who
   * are not room admins: an outgoing webhook reads the room (they subscribe server-wide, to public rooms, instead).
   */
  manageWebhooks: { public: 'admin', private: 'admin', dm: 'nobody', serverAdmin: false },
  /** Add or remove the built-in assistant (issue 16): room admins; in a DM one opens a DM with it instead. */
  manageAssistant: { public: 'admin', private: 'admin', dm: 'nobody', serverAdmin: 'rooms' },
};

/** Read-only rooms: posting needs this role. Slow mode does not apply from this role up. */
export const READ_ONLY_POSTER: MemberRole = 'moderator';

const RANK: Record<MemberRole, number> = { owner: 4, admin: 3, moderator: 2, member: 1 };

export function rank(role: MemberRole | null): number {
  return role ? RANK[role] : 0;
}

/** Whether `role` (null = not a member) in a room of `kind` may do `action`. */
export function can(action: RoomAction, kind: RoomKind, role: MemberRole | null, serverAdmin: boolean): boolean {
  const rule = ROOM_PERMISSIONS[action];
  if (serverAdmin && (rule.serverAdmin === 'all' || (rule.serverAdmin === 'rooms' && kind !== 'dm'))) return true;
  const who = rule[kind];
  if (who === 'nobody') return false;
  if (who === 'anyone') return true;
  return rank(role) >= RANK[who];
}

/**
 * Whether an actor may act on a member holding `target` (kick, ban, mute, change role): only on members ranked
 * strictly below them. Server admins may act on anyone. Owners are the one exception among room roles: an owner
 * may act on another owner (co-owners can manage each other; the last-owner rule still applies).
 */
export function outranks(actor: MemberRole | null, serverAdmin: boolean, target: MemberRole | null): boolean {
  if (serverAdmin) return true;
  if (actor === 'owner') return true;
  return rank(actor) > rank(target);
}

/** Whether an actor may give `role` to someone: owners give any role, others only roles below their own. */
export function mayGrant(actor: MemberRole | null, serverAdmin: boolean, role: MemberRole): boolean {
  if (serverAdmin || actor === 'owner') return true;
  return rank(actor) > RANK[role];
}

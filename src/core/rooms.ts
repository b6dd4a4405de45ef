import type {
  Invite,
  Member,
  MemberRole,
  MyRoom,
  PublicUser,
  Room,
  RoomEvent,
  RoomSettings,
} from '../protocol/model.js';
import { requireBotRoom } from './bot-scopes.js';
import type { AuthContext } from './accounts.js';
import { toPublicUser } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import { LOBBY_ROOM_ID, SYSTEM_USER_ID, type DomainContext } from './context.js';
import { newId, newTimeId } from './ids.js';
import { can, mayGrant, outranks, rank, type RoomAction } from '../protocol/permissions.js';
import type { MemberRecord, UserRecord } from './store.js';

/**
 * Rooms, DMs, membership and invites. Who may do what is ROOM_PERMISSIONS (src/core/permissions.ts); besides:
 * - see a room: public → any user; private/DM → members and invitees (others get `room_not_found`).
 * - a user banned from a public room may neither read nor join it (`banned`).
 * - join: public rooms (or a join request, when the room needs approval), or any room with a pending invite.
 *   DMs are never joined.
 * - While others remain, the last owner can neither leave nor be demoted (`last_owner`).
 * - DMs: one per member set; a member who left one gets back in by opening it again.
 */
export class RoomService {
  constructor(private readonly ctx: DomainContext) {}

  private async limit(key: string, rule: DomainContext['limits']['rates']['invite']): Promise<void> {
    const r = await this.ctx.limiter.take(key, rule);
    if (!r.ok) throw new ChatError('rate_limited', { retryAfterMs: r.retryAfterMs });
  }

  /**
   * Every join and leave costs a token from the user's and from the room's membership bucket: each one is a
   * durable event on the room's sequence, delivered to every member, so churn must stay bounded. (Coalescing a
   * quick leave+join is not an option: history and resume replay every event exactly.)
   */
  private async membershipChange(userId: string, roomId: string): Promise<void> {
    await this.limit(`membership:${userId}`, this.ctx.limits.rates.membership);
    await this.limit(`room-membership:${roomId}`, this.ctx.limits.rates.roomMembership);
  }

  /** Publishes committed room events in order, on the room's topic. */
  async publish(events: readonly RoomEvent[]): Promise<void> {
    for (const event of events) await this.ctx.bus.publish(topics.room(event.roomId), { kind: 'event', event });
  }

  /**
   * A one-to-one DM is closed to both while either blocked the other (`dm_unavailable`): sends check it in the send
   * pipeline; typing, edits and reactions here. One indexed query, for DMs only.
   */
  async requireDmOpen(room: Room, userId: string): Promise<void> {
    if (room.kind !== 'dm' || room.memberCount > 2) return;
    if (await this.ctx.store.blockWithMember(room.id, userId)) throw new ChatError('dm_unavailable');
  }

  /** Tells every connection of `userId` that it now belongs to `roomId`, with events from `fromSeq`. */
  private async announceAdded(userId: string, roomId: string, fromSeq: number): Promise<void> {
    const room = (await this.ctx.store.listRoomsOf(userId)).find((r) => r.id === roomId);
    if (room) await this.ctx.bus.publish(topics.user(userId), { kind: 'room.added', userId, room, fromSeq });
  }

  async ensureLobby(): Promise<Room> {
    const existing = await this.ctx.store.getRoom(LOBBY_ROOM_ID);
    if (existing) return existing;
    try {
      const { room } = await this.ctx.store.createRoom({
        id: LOBBY_ROOM_ID,
        kind: 'public',
        name: 'Lobby',
        topic: 'Everyone is here. Say hello!',
        createdBy: SYSTEM_USER_ID,
        members: [],
      });
      return room;
    } catch (err) {
      // Cluster nodes starting at once race to create it: the loser finds the winner's lobby.
      const created = await this.ctx.store.getRoom(LOBBY_ROOM_ID);
      if (created) return created;
      throw err;
    }
  }

  /** New users join the lobby; called once after registration. */
  async joinLobby(user: UserRecord): Promise<void> {
    const lobby = await this.ensureLobby();
    const event = await this.ctx.store.addMember(lobby.id, user.id, 'member', user.id);
    if (event) await this.publish([event]);
  }

  /** The room, or `room_not_found`. */
  async roomOr404(roomId: string): Promise<Room> {
    const room = await this.ctx.store.getRoom(roomId);
    if (!room) throw new ChatError('room_not_found');
    return room;
  }

  /**
   * The room if the user may see it; `room_not_found` otherwise, so private rooms do not leak existence.
   * A non-member banned from a public room gets `banned`.
   */
  async requireVisible(
    auth: AuthContext,
    roomId: string,
  ): Promise<{ room: Room; role: MemberRole | null; member: MemberRecord | null }> {
    const [room, member] = await Promise.all([this.roomOr404(roomId), this.ctx.store.getMember(roomId, auth.user.id)]);
    const role = member?.role ?? null;
    if (!role) {
      if (room.kind !== 'public') {
        if (!(await this.ctx.store.hasInvite(roomId, auth.user.id))) throw new ChatError('room_not_found');
      } else if (await this.isBanned(roomId, auth.user.id)) {
        throw new ChatError('banned');
      }
    }
    return { room, role, member };
  }

  /** Whether a room ban on the user is in force now. */
  async isBanned(roomId: string, userId: string): Promise<boolean> {
    const ban = await this.ctx.store.getRoomBan(roomId, userId);
    return ban !== null && ban.until > this.ctx.now();
  }

  async requireReadable(auth: AuthContext, roomId: string): Promise<Room> {
    const { room, role } = await this.requireVisible(auth, roomId);
    if (!can('read', room.kind, role, false)) throw new ChatError('not_member');
    return room;
  }

  async requireMember(
    auth: AuthContext,
    roomId: string,
  ): Promise<{ room: Room; role: MemberRole; member: MemberRecord }> {
    const { room, role, member } = await this.requireVisible(auth, roomId);
    if (!role || !member) throw new ChatError('not_member');
    return { room, role, member };
  }

  /**
   * For actions a server admin may take without being a member (moderation): the room and the caller's role,
   * after checking `action` against the permission table. Private rooms stay hidden from non-member non-admins.
   */
  async requireAllowed(
    auth: AuthContext,
    roomId: string,
    action: RoomAction,
  ): Promise<{ room: Room; role: MemberRole | null; serverAdmin: boolean }> {
    const serverAdmin = auth.user.role === 'admin';
    const room = await this.roomOr404(roomId);
    const role = await this.ctx.store.getRole(roomId, auth.user.id);
    if (!role && !serverAdmin && room.kind !== 'public') throw new ChatError('room_not_found');
    if (!can(action, room.kind, role, serverAdmin)) throw new ChatError(role ? 'forbidden' : 'not_member');
    return { room, role, serverAdmin };
  }

  /** Refuses text the keyword filter blocks; returns it with masked words starred. */
  cleanText(text: string): string {
    const verdict = this.ctx.filter.check(text);
    if (verdict.blocked.length > 0) throw new ChatError('content_blocked');
    return verdict.text;
  }

  private async checkRoomQuota(userId: string): Promise<void> {
    if ((await this.ctx.store.countRoomsOf(userId)) >= this.ctx.limits.maxRoomsPerUser) {
      throw new ChatError('too_many_rooms');
    }
  }

  async create(
    auth: AuthContext,
    input: { name: string; visibility: 'public' | 'private'; topic?: string | undefined },
  ): Promise<Room> {
    const name = this.cleanText(input.name);
    const topic = input.topic ? this.cleanText(input.topic) : '';
    await this.limit(`room-create:${auth.user.id}`, this.ctx.limits.rates.roomCreate);
    await this.checkRoomQuota(auth.user.id);
    const { room, events } = await this.ctx.store.createRoom({
      id: newId('r'),
      kind: input.visibility,
      name,
      topic,
      createdBy: auth.user.id,
      members: [{ userId: auth.user.id, role: 'owner' }],
    });
    await this.publish(events);
    await this.announceAdded(auth.user.id, room.id, 1);
    return room;
  }

  /** Opens (or finds) the DM between the caller and `usernames`: one room per distinct member set. */
  async openDm(auth: AuthContext, usernames: string[]): Promise<{ room: MyRoom; created: boolean }> {
    const others: UserRecord[] = [];
    for (const name of new Set(usernames.map((u) => u.toLowerCase()))) {
      const u = await this.ctx.store.getUserByUsername(name);
      if (!u || u.deactivated) throw new ChatError('user_not_found', { message: `No such user: ${name}` });
      if (u.id !== auth.user.id) others.push(u);
    }
    if (others.length === 0) throw new ChatError('validation_failed', { message: 'A DM needs another user.' });
    if (others.length + 1 > this.ctx.limits.maxDmMembers) {
      throw new ChatError('validation_failed', {
        message: `A DM has at most ${this.ctx.limits.maxDmMembers} members.`,
      });
    }
    const ids = [auth.user.id, ...others.map((o) => o.id)];
    const dmKey = [...ids].sort().join(',');
    // Opening a DM you are in already adds nothing: no creation rate limit, no room quota, no block check (sending
    // in it is checked).
    const existing = await this.ctx.store.getDmByKey(dmKey);
    if (!existing || !(await this.ctx.store.getRole(existing.id, auth.user.id))) {
      // A block either way between the caller and anyone they name keeps the DM from being created or re-entered
      // (one answer whoever blocked whom). A block between two of the others is not the caller's to learn: such a
      // group behaves as a shared room.
      const othersIds = others.map((o) => o.id);
      if (await this.ctx.store.blockBetween(auth.user.id, othersIds)) throw new ChatError('dm_unavailable');
      await this.limit(`room-create:${auth.user.id}`, this.ctx.limits.rates.roomCreate);
      await this.checkRoomQuota(auth.user.id);
    }
    const { room, events, created } = await this.ctx.store.createRoom({
      id: newId('r'),
      kind: 'dm',
      name: '',
      topic: '',
      createdBy: auth.user.id,
      dmKey,
      members: ids.map((userId) => ({ userId, role: 'member' as const })),
    });
    if (created) {
      await this.publish(events);
      for (const id of ids) await this.announceAdded(id, room.id, 1);
    } else if (!(await this.ctx.store.getRole(room.id, auth.user.id))) {
      // The caller had left this DM: opening it again brings them back (with its history, as before) — unless
      // they were banned from it (a server admin acting on a report).
      if (await this.isBanned(room.id, auth.user.id)) throw new ChatError('banned');
      const event = await this.ctx.store.addMember(room.id, auth.user.id, 'member', auth.user.id);
      if (event) {
        await this.publish([event]);
        await this.announceAdded(auth.user.id, room.id, event.seq);
      }
    }
    const mine = (await this.ctx.store.listRoomsOf(auth.user.id)).find((r) => r.id === room.id);
    if (!mine) throw new ChatError('room_not_found');
    return { room: mine, created };
  }

  async get(auth: AuthContext, roomId: string): Promise<Room & { myRole: MemberRole | null }> {
    const { room, role } = await this.requireVisible(auth, roomId);
    return { ...room, myRole: role };
  }

  search(q: string, limit: number, cursor?: string): ReturnType<DomainContext['store']['searchPublicRooms']> {
    return this.ctx.store.searchPublicRooms(q, limit, cursor);
  }

  listMine(auth: AuthContext): Promise<MyRoom[]> {
    return this.ctx.store.listRoomsOf(auth.user.id);
  }

  /**
   * Joins a public room, or a private one with a pending invite (accepting it). Joining twice is a no-op.
   * A public room that needs approval records a join request instead (`pending`), unless the user is invited.
   */
  async join(auth: AuthContext, roomId: string): Promise<{ room: Room; pending: boolean }> {
    requireBotRoom(auth, roomId);
    const { room, role } = await this.requireVisible(auth, roomId);
    if (role) return { room, pending: false };
    if (room.kind === 'dm') throw new ChatError('forbidden', { message: 'DMs cannot be joined.' });
    const invited = await this.ctx.store.hasInvite(roomId, auth.user.id);
    if (room.kind === 'private' && !invited) throw new ChatError('room_not_found');
    if (await this.isBanned(roomId, auth.user.id)) throw new ChatError('banned');
    await this.checkRoomQuota(auth.user.id);
    await this.membershipChange(auth.user.id, roomId);
    if (room.settings.joinApproval && !invited) {
      await this.ctx.store.createJoinRequest(roomId, auth.user.id);
      return { room, pending: true };
    }
    const event = await this.ctx.store.addMember(roomId, auth.user.id, 'member', auth.user.id);
    if (event) {
      await this.publish([event]);
      await this.announceAdded(auth.user.id, roomId, event.seq);
    }
    return { room: (await this.ctx.store.getRoom(roomId)) ?? room, pending: false };
  }

  /** Adds a user whose join request a moderator approved (or who was approved some other way). */
  async admit(roomId: string, userId: string, actorId: string): Promise<boolean> {
    await this.checkRoomQuota(userId);
    const event = await this.ctx.store.addMember(roomId, userId, 'member', actorId);
    if (!event) return false;
    await this.publish([event]);
    await this.announceAdded(userId, roomId, event.seq);
    return true;
  }

  async leave(auth: AuthContext, roomId: string): Promise<void> {
    const { room, role } = await this.requireMember(auth, roomId);
    if (role === 'owner' && room.memberCount > 1 && (await this.ctx.store.countRole(roomId, 'owner')) === 1) {
      throw new ChatError('last_owner');
    }
    await this.membershipChange(auth.user.id, roomId);
    const event = await this.ctx.store.removeMember(roomId, auth.user.id, auth.user.id, 'left');
    if (event) await this.publish([event]);
  }

  async invite(auth: AuthContext, roomId: string, username: string): Promise<void> {
    const { room, role } = await this.requireMember(auth, roomId);
    if (room.kind === 'dm') throw new ChatError('forbidden', { message: 'Open a new DM to add people.' });
    if (!can('invite', room.kind, role, false)) throw new ChatError('forbidden');
    await this.limit(`invite:${auth.user.id}`, this.ctx.limits.rates.invite);
    const invitee = await this.ctx.store.getUserByUsername(username);
    if (!invitee || invitee.deactivated) throw new ChatError('user_not_found');
    if (invitee.botOf?.roomId != null && invitee.botOf.roomId !== roomId) {
      throw new ChatError('forbidden', { message: 'A room bot belongs to its own room only.' });
    }
    if (await this.ctx.store.getRole(roomId, invitee.id)) throw new ChatError('already_member');
    if (await this.isBanned(roomId, invitee.id)) {
      throw new ChatError('banned', { message: 'That user is banned from this room.' });
    }
    // An invite from someone the invitee blocked is dropped, answered like one that went through: telling the
    // inviter would tell them of the block.
    if (await this.ctx.store.hasBlocked(invitee.id, auth.user.id)) return;
    const event = await this.ctx.store.createInvite(roomId, invitee.id, auth.user.id);
    if (!event) return; // already invited: inviting again is a no-op
    await this.publish([event]);
    await this.ctx.bus.publish(topics.user(invitee.id), {
      kind: 'invite',
      userId: invitee.id,
      roomId,
      roomName: room.name,
      inviter: toPublicUser(auth.user),
    });
  }

  async acceptInvite(auth: AuthContext, roomId: string): Promise<Room> {
    if (!(await this.ctx.store.hasInvite(roomId, auth.user.id))) throw new ChatError('invite_not_found');
    return (await this.join(auth, roomId)).room;
  }

  async declineInvite(auth: AuthContext, roomId: string): Promise<void> {
    if (!(await this.ctx.store.deleteInvite(roomId, auth.user.id))) throw new ChatError('invite_not_found');
  }

  listInvites(auth: AuthContext): Promise<Invite[]> {
    return this.ctx.store.listInvites(auth.user.id);
  }

  /**
   * One page of a room's members in join order, with `nextCursor` for the next (null on the last), and how many
   * of all its members are online. Pages keep each answer bounded whatever the room's size.
   */
  async members(
    auth: AuthContext,
    roomId: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ members: Member[]; online: number; nextCursor: string | null }> {
    await this.requireReadable(auth, roomId);
    const after = page.cursor === undefined ? undefined : decodeMemberCursor(page.cursor);
    const rows = await this.ctx.store.listMembers(roomId, { limit: page.limit + 1, ...(after ? { after } : {}) });
    const more = rows.length > page.limit;
    if (more) rows.length = page.limit;
    // The online count is over the whole room: ids only, no profiles.
    const ids = await this.ctx.store.listMemberIds(roomId);
    const status = await this.ctx.presence.statusOf(ids);
    const now = this.ctx.now();
    const members = rows.map((r) => ({
      ...r,
      mutedUntil: r.mutedUntil !== null && r.mutedUntil > now ? new Date(r.mutedUntil).toISOString() : null,
      presence: status.get(r.user.id) ?? 'offline',
    }));
    const last = rows[rows.length - 1];
    return {
      members,
      online: ids.filter((id) => (status.get(id) ?? 'offline') !== 'offline').length,
      nextCursor: more && last ? encodeMemberCursor(Date.parse(last.joinedAt), last.user.id) : null,
    };
  }

  async update(
    auth: AuthContext,
    roomId: string,
    patch: { name?: string | undefined; topic?: string | undefined; settings?: Partial<RoomSettings> | undefined },
  ): Promise<Room> {
    await this.requireAllowed(auth, roomId, 'update');
    const clean: { name?: string; topic?: string; settings?: Partial<RoomSettings> } = {};
    if (patch.name !== undefined) clean.name = this.cleanText(patch.name);
    if (patch.topic !== undefined) clean.topic = patch.topic ? this.cleanText(patch.topic) : '';
    if (patch.settings !== undefined) {
      const settings: Partial<RoomSettings> = {};
      for (const [k, v] of Object.entries(patch.settings)) if (v !== undefined) Object.assign(settings, { [k]: v });
      clean.settings = settings;
    }
    const { room: updated, event } = await this.ctx.store.updateRoom(roomId, clean, auth.user.id);
    await this.publish([event]);
    if (clean.settings) {
      await this.audit(auth, 'room.settings', roomId, null, clean.settings);
    }
    return updated;
  }

  /** Records a moderation action in the audit log. */
  async audit(
    auth: AuthContext,
    action: string,
    roomId: string | null,
    targetUserId: string | null,
    data: Record<string, unknown> | null = null,
  ): Promise<void> {
    await this.ctx.store.appendAudit({
      id: newTimeId('al'),
      actorId: auth.user.id,
      action,
      roomId,
      targetUserId,
      data,
    });
  }

  /**
   * Owners give any role; admins give moderator/member to members below them; server admins act as owners.
   * While others remain, the last owner cannot be demoted.
   */
  async setRole(auth: AuthContext, roomId: string, userId: string, role: MemberRole): Promise<void> {
    const { room, role: mine, serverAdmin } = await this.requireAllowed(auth, roomId, 'setRole');
    const current = await this.ctx.store.getRole(roomId, userId);
    if (!current) throw new ChatError('user_not_found', { message: 'That user is not a member of this room.' });
    if (current === role) return;
    const steppingDown = userId === auth.user.id && rank(role) < rank(current);
    if (!steppingDown && (!mayGrant(mine, serverAdmin, role) || !outranks(mine, serverAdmin, current))) {
      throw new ChatError('forbidden');
    }
    if (current === 'owner' && room.memberCount > 1 && (await this.ctx.store.countRole(roomId, 'owner')) === 1) {
      throw new ChatError('last_owner');
    }
    const event = await this.ctx.store.setMemberRole(roomId, userId, role, auth.user.id);
    if (event) {
      await this.publish([event]);
      await this.audit(auth, 'room.role', roomId, userId, { from: current, to: role });
    }
  }

  async usersById(ids: readonly string[]): Promise<PublicUser[]> {
    return this.ctx.store.getUsers(ids);
  }
}

/** An opaque member-list cursor: the last member of a page, as base64url of `<joinedAt ms>.<userId>`. */
function encodeMemberCursor(joinedAt: number, userId: string): string {
  return Buffer.from(`${joinedAt}.${userId}`).toString('base64url');
}

function decodeMemberCursor(cursor: string): { joinedAt: number; userId: string } {
  const m = /^([0-9]{1,16})\.([A-Za-z0-9_-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new ChatError('validation_failed', { message: 'Invalid cursor.' });
  return { joinedAt: Number(m[1]), userId: m[2]! };
}

import type { Invite, Member, MemberRole, MyRoom, PublicUser, Room, RoomEvent } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { toPublicUser } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import { LOBBY_ROOM_ID, SYSTEM_USER_ID, type DomainContext } from './context.js';
import { newId } from './ids.js';
import type { UserRecord } from './store.js';

/**
 * Rooms, DMs, membership and invites. Who may do what:
 * - see a room: public → any user; private/DM → members and invitees (others get `room_not_found`).
 * - read history: public → any user; private/DM → members.
 * - post, typing: members. Join: public rooms, or any room with a pending invite. DMs are never joined.
 * - invite: public room → any member; private room → owner/admin. Rename/topic: owner/admin.
 * - change roles: owner. While others remain, the last owner can neither leave nor be demoted (`last_owner`).
 * - DMs: one per member set; a member who left one gets back in by opening it again.
 */
export class RoomService {
  constructor(private readonly ctx: DomainContext) {}

  private async limit(key: string, rule: DomainContext['limits']['rates']['invite']): Promise<void> {
    const r = await this.ctx.limiter.take(key, rule);
    if (!r.ok) throw new ChatError('rate_limited', { retryAfterMs: r.retryAfterMs });
  }

  /** Publishes committed room events in order, on the room's topic. */
  async publish(events: readonly RoomEvent[]): Promise<void> {
    for (const event of events) await this.ctx.bus.publish(topics.room(event.roomId), { kind: 'event', event });
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

  private async roomOr404(roomId: string): Promise<Room> {
    const room = await this.ctx.store.getRoom(roomId);
    if (!room) throw new ChatError('room_not_found');
    return room;
  }

  /** The room if the user may see it; `room_not_found` otherwise, so private rooms do not leak existence. */
  async requireVisible(auth: AuthContext, roomId: string): Promise<{ room: Room; role: MemberRole | null }> {
    const room = await this.roomOr404(roomId);
    const role = await this.ctx.store.getRole(roomId, auth.user.id);
    if (room.kind !== 'public' && !role && !(await this.ctx.store.hasInvite(roomId, auth.user.id))) {
      throw new ChatError('room_not_found');
    }
    return { room, role };
  }

  async requireReadable(auth: AuthContext, roomId: string): Promise<Room> {
    const { room, role } = await this.requireVisible(auth, roomId);
    if (room.kind !== 'public' && !role) throw new ChatError('not_member');
    return room;
  }

  async requireMember(auth: AuthContext, roomId: string): Promise<{ room: Room; role: MemberRole }> {
    const { room, role } = await this.requireVisible(auth, roomId);
    if (!role) throw new ChatError('not_member');
    return { room, role };
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
    await this.limit(`room-create:${auth.user.id}`, this.ctx.limits.rates.roomCreate);
    await this.checkRoomQuota(auth.user.id);
    const { room, events } = await this.ctx.store.createRoom({
      id: newId('r'),
      kind: input.visibility,
      name: input.name,
      topic: input.topic ?? '',
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
    await this.limit(`room-create:${auth.user.id}`, this.ctx.limits.rates.roomCreate);
    await this.checkRoomQuota(auth.user.id);
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
      // The caller had left this DM: opening it again brings them back (with its history, as before).
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

  /** Joins a public room, or a private one with a pending invite (accepting it). Joining twice is a no-op. */
  async join(auth: AuthContext, roomId: string): Promise<Room> {
    const { room, role } = await this.requireVisible(auth, roomId);
    if (role) return room;
    if (room.kind === 'dm') throw new ChatError('forbidden', { message: 'DMs cannot be joined.' });
    if (room.kind === 'private' && !(await this.ctx.store.hasInvite(roomId, auth.user.id))) {
      throw new ChatError('room_not_found');
    }
    await this.checkRoomQuota(auth.user.id);
    const event = await this.ctx.store.addMember(roomId, auth.user.id, 'member', auth.user.id);
    if (event) {
      await this.publish([event]);
      await this.announceAdded(auth.user.id, roomId, event.seq);
    }
    return (await this.ctx.store.getRoom(roomId)) ?? room;
  }

  async leave(auth: AuthContext, roomId: string): Promise<void> {
    const { room, role } = await this.requireMember(auth, roomId);
    if (role === 'owner' && room.memberCount > 1 && (await this.ctx.store.countRole(roomId, 'owner')) === 1) {
      throw new ChatError('last_owner');
    }
    const event = await this.ctx.store.removeMember(roomId, auth.user.id, auth.user.id, 'left');
    if (event) await this.publish([event]);
  }

  async invite(auth: AuthContext, roomId: string, username: string): Promise<void> {
    const { room, role } = await this.requireMember(auth, roomId);
    if (room.kind === 'dm') throw new ChatError('forbidden', { message: 'Open a new DM to add people.' });
    if (room.kind === 'private' && role === 'member') throw new ChatError('forbidden');
    await this.limit(`invite:${auth.user.id}`, this.ctx.limits.rates.invite);
    const invitee = await this.ctx.store.getUserByUsername(username);
    if (!invitee || invitee.deactivated) throw new ChatError('user_not_found');
    if (await this.ctx.store.getRole(roomId, invitee.id)) throw new ChatError('already_member');
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
    return this.join(auth, roomId);
  }

  async declineInvite(auth: AuthContext, roomId: string): Promise<void> {
    if (!(await this.ctx.store.deleteInvite(roomId, auth.user.id))) throw new ChatError('invite_not_found');
  }

  listInvites(auth: AuthContext): Promise<Invite[]> {
    return this.ctx.store.listInvites(auth.user.id);
  }

  async members(auth: AuthContext, roomId: string): Promise<{ members: Member[]; online: number }> {
    await this.requireReadable(auth, roomId);
    const rows = await this.ctx.store.listMembers(roomId);
    const status = await this.ctx.presence.statusOf(rows.map((r) => r.user.id));
    const members = rows.map((r) => ({ ...r, presence: status.get(r.user.id) ?? 'offline' }));
    return { members, online: members.filter((m) => m.presence !== 'offline').length };
  }

  async update(auth: AuthContext, roomId: string, patch: { name?: string; topic?: string }): Promise<Room> {
    const { room, role } = await this.requireMember(auth, roomId);
    if (room.kind === 'dm' || role === 'member') throw new ChatError('forbidden');
    const { room: updated, event } = await this.ctx.store.updateRoom(roomId, patch, auth.user.id);
    await this.publish([event]);
    return updated;
  }

  async setRole(auth: AuthContext, roomId: string, userId: string, role: MemberRole): Promise<void> {
    const { room, role: mine } = await this.requireMember(auth, roomId);
    if (room.kind === 'dm' || mine !== 'owner') throw new ChatError('forbidden');
    const current = await this.ctx.store.getRole(roomId, userId);
    if (!current) throw new ChatError('user_not_found', { message: 'That user is not a member of this room.' });
    if (current === role) return;
    if (current === 'owner' && room.memberCount > 1 && (await this.ctx.store.countRole(roomId, 'owner')) === 1) {
      throw new ChatError('last_owner');
    }
    const event = await this.ctx.store.setMemberRole(roomId, userId, role, auth.user.id);
    if (event) await this.publish([event]);
  }

  async usersById(ids: readonly string[]): Promise<PublicUser[]> {
    return this.ctx.store.getUsers(ids);
  }
}

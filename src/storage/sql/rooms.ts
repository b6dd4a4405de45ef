import {
  toProfile,
  type MemberRole,
  type MyRoom,
  type NotifyLevel,
  type Room,
  type RoomEvent,
  type RoomSettings,
} from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import { newId } from '../../core/ids.js';
import type { MemberPage, NewRoom, RoomStore } from '../../core/store.js';
import { insertEvent, nextSeq, slotOf } from './events.js';
import { chainEvent } from '../../core/chain.js';
import { GENESIS_HASH } from '../../protocol/chain.js';
import { query, read, Rollback, transaction, write, type Operations, type Recipe } from './recipe.js';
import { decodeRoomCursor, iso, roomPage, toMember, toPublic, toRoom, type Row } from './rows.js';
import { defined, fold, foldOrNull, likeContains } from './text.js';

/** The named queries of rooms, members and invites. Counts are rows changed. */
export interface RoomQueries {
  roomById(a: { id: string }): Row | undefined;
  roomByDmKey(a: { dmKey: string }): Row | undefined;
  /** Whether another public room has this folded name. */
  roomNameTaken(a: { nameKey: string; roomId: string }): boolean;
  /** The new row, or undefined when a room with this dm_key exists (a concurrent create of the same DM). */
  roomInsert(a: {
    id: string;
    kind: Room['kind'];
    name: string;
    nameKey: string;
    topic: string;
    topicKey: string;
    createdBy: string;
    now: number;
    lastSeq: number;
    memberCount: number;
    dmKey: string | null;
  }): Row | undefined;
  /** Public rooms whose name_key or folded topic matches `like`, after (name_key, id), by (name_key, id). */
  roomsSearch(a: { like: string; afterKey: string; afterId: string; limit: number }): Row[];
  /**
   * The user's rooms, newest activity first, with their `my_role` and `joined_seq`; a DM's row also carries its
   * other members' user rows as `dm_members`.
   */
  roomsOf(a: { userId: string }): Row[];
  roomCountOf(a: { userId: string }): number;
  /**
   * Sets the non-null fields and advances the room's sequence like roomNextSeq; the updated row, or undefined for an
   * unknown room.
   */
  roomUpdate(a: {
    roomId: string;
    now: number;
    name: string | null;
    nameKey: string | null;
    topic: string | null;
    topicKey: string | null;
    readOnly: boolean | null;
    slowModeSeconds: number | null;
    joinApproval: boolean | null;
    mentionAllRole: MemberRole | null;
    linkPreviews: boolean | null;
  }): Row | undefined;

  /** role, muted_until, joined_seq. */
  memberGet(a: { roomId: string; userId: string }): Row | undefined;
  /** User rows with the member's `member_role`, `joined_at`, `muted_until`, by (joined_at, user_id). */
  membersOf(a: { roomId: string }): Row[];
  /** Like membersOf: at most `limit` rows after (`afterJoinedAt`, `afterUserId`). */
  membersPage(a: { roomId: string; afterJoinedAt: number; afterUserId: string; limit: number }): Row[];
  memberIdsOf(a: { roomId: string }): { user_id: string }[];
  memberCountWithRole(a: { roomId: string; role: MemberRole }): number;
  /** Adds a member unless one exists already. */
  memberInsert(a: { roomId: string; userId: string; role: MemberRole; now: number; joinedSeq: number }): number;
  membersInsert(a: {
    roomId: string;
    now: number;
    members: readonly { userId: string; role: MemberRole; joinedSeq: number }[];
  }): void;
  memberDelete(a: { roomId: string; userId: string }): number;
  memberSetRole(a: { roomId: string; userId: string; role: MemberRole }): number;

  /** Records an invite unless one is pending. */
  inviteInsert(a: { roomId: string; userId: string; inviterId: string; now: number }): number;
  inviteExists(a: { roomId: string; userId: string }): boolean;
  /** Room rows of the user's invites, newest first, with `invited_at` and the inviter's user row as `inviter`. */
  invitesOf(a: { userId: string }): Row[];
  inviteDelete(a: { roomId: string; userId: string }): number;
  joinRequestDelete(a: { roomId: string; userId: string }): number;
}

/** Public room names are unique ignoring case (a partial unique index backs this up against races). */
function* assertPublicNameFree(name: string, roomId: string): Recipe<void> {
  if (yield* query('roomNameTaken', { nameKey: fold(name), roomId })) throw new ChatError('room_name_taken');
}

/** A DM that exists already, as createRoom returns it. */
function* existingDm(room: NewRoom): Recipe<{ room: Room; events: RoomEvent[]; created: boolean } | null> {
  const r = room.dmKey ? yield* query('roomByDmKey', { dmKey: room.dmKey }) : undefined;
  return r ? { room: toRoom(r), events: [], created: false } : null;
}

/** RoomStore, written once: each operation's recipe and how it runs. */
export const rooms = {
  createRoom: transaction(function* (now, room: NewRoom) {
    const existing = yield* existingDm(room);
    if (existing) return existing;
    if (room.kind === 'public') yield* assertPublicNameFree(room.name, room.id);
    const n = room.members.length;
    // The room is new and invisible to everyone else until COMMIT: its seqs are simply 1..n+1.
    const row = yield* query('roomInsert', {
      id: room.id,
      kind: room.kind,
      name: room.name,
      nameKey: fold(room.name),
      topic: room.topic,
      topicKey: fold(room.topic),
      createdBy: room.createdBy,
      now,
      lastSeq: n + 1,
      memberCount: n,
      dmKey: room.dmKey ?? null,
    });
    if (!row) {
      // A concurrent create of the same DM committed first (the insert waited for it): return that one.
      const raced = yield* existingDm(room);
      if (raced) return raced;
      throw new Error(`room ${room.id}: dm_key conflict without a visible room`);
    }
    const base = { roomId: room.id, senderId: room.createdBy, body: null, clientMsgId: null, createdAt: iso(now) };
    const events: RoomEvent[] = [
      {
        ...base,
        id: newId('e'),
        seq: 1,
        type: 'room.created',
        data: { name: room.name, kind: room.kind, topic: room.topic },
      },
      ...room.members.map((m, i): RoomEvent => ({
        ...base,
        id: newId('e'),
        seq: i + 2,
        type: 'member.joined',
        data: { userId: m.userId, role: m.role },
      })),
    ];
    if (n > 0) {
      const members = room.members.map((m, i) => ({ userId: m.userId, role: m.role, joinedSeq: i + 2 }));
      yield* query('membersInsert', { roomId: room.id, now, members });
    }
    // A new room's chain starts at its first event (chain_from 1).
    let head = GENESIS_HASH;
    for (const e of events) head = chainEvent(e, head);
    yield* query('eventsInsert', { events, now });
    return { room: { ...toRoom(row), headHash: head }, events, created: true };
  }),

  getRoom: read(function* (_now, id: string) {
    const r = yield* query('roomById', { id });
    return r ? toRoom(r) : null;
  }),

  getDmByKey: read(function* (_now, dmKey: string) {
    const r = yield* query('roomByDmKey', { dmKey });
    return r ? toRoom(r) : null;
  }),

  searchPublicRooms: read(function* (_now, q: string, limit: number, cursor?: string) {
    const [afterKey, afterId] = decodeRoomCursor(cursor);
    const rows = yield* query('roomsSearch', { like: likeContains(q), afterKey, afterId, limit: limit + 1 });
    return roomPage(rows, limit);
  }),

  listRoomsOf: read(function* (_now, userId: string) {
    return (yield* query('roomsOf', { userId })).map((r) => {
      const room: MyRoom = {
        ...toRoom(r),
        myRole: r.my_role as MemberRole,
        joinedSeq: Number(r.joined_seq),
        readSeq: Number(r.read_seq),
        unread: Number(r.unread),
        unreadMentions: Number(r.unread_mentions ?? 0),
        // Rows from before migration 10 (none in practice) read as the default.
        notify: (r.notify as NotifyLevel | null) ?? 'all',
      };
      if (r.kind === 'dm') room.members = ((r.dm_members as Row[] | null) ?? []).map((u) => toProfile(toPublic(u)));
      return room;
    });
  }),

  countRoomsOf: read((_now, userId: string) => query('roomCountOf', { userId })),

  updateRoom: transaction(function* (
    now,
    roomId: string,
    patch: { name?: string; topic?: string; settings?: Partial<RoomSettings> },
    actorId: string,
  ) {
    const settings = patch.settings ?? {};
    if (patch.name !== undefined) {
      const current = yield* query('roomById', { id: roomId });
      if (!current) throw new ChatError('room_not_found');
      if (current.kind === 'public') yield* assertPublicNameFree(patch.name, roomId);
    }
    // The room lock, the new seq and the change in one statement.
    const row = yield* query('roomUpdate', {
      roomId,
      now,
      name: patch.name ?? null,
      nameKey: foldOrNull(patch.name),
      topic: patch.topic ?? null,
      topicKey: foldOrNull(patch.topic),
      readOnly: settings.readOnly ?? null,
      slowModeSeconds: settings.slowModeSeconds ?? null,
      joinApproval: settings.joinApproval ?? null,
      mentionAllRole: settings.mentionAllRole ?? null,
      linkPreviews: settings.linkPreviews ?? null,
    });
    if (!row) throw new ChatError('room_not_found');
    const data = defined({
      name: patch.name,
      topic: patch.topic,
      readOnly: settings.readOnly,
      slowModeSeconds: settings.slowModeSeconds,
      joinApproval: settings.joinApproval,
      mentionAllRole: settings.mentionAllRole,
      linkPreviews: settings.linkPreviews,
    });
    const slot = slotOf({ last_seq: Number(row.last_seq), head_hash: (row.head_hash as string | null) ?? null });
    const event = yield* insertEvent(roomId, slot!, now, 'room.updated', actorId, data);
    return { room: { ...toRoom(row), headHash: event.hash! }, event };
  }),

  getRole: read(function* (_now, roomId: string, userId: string) {
    return ((yield* query('memberGet', { roomId, userId }))?.role as MemberRole | undefined) ?? null;
  }),

  getMember: read(function* (_now, roomId: string, userId: string) {
    const r = yield* query('memberGet', { roomId, userId });
    return r ? toMember(r) : null;
  }),

  listMembers: read(function* (_now, roomId: string, page?: MemberPage) {
    // The first page starts before every member: joined_at is epoch ms, never negative.
    const rows = page
      ? yield* query('membersPage', {
          roomId,
          afterJoinedAt: page.after?.joinedAt ?? -1,
          afterUserId: page.after?.userId ?? '',
          limit: page.limit,
        })
      : yield* query('membersOf', { roomId });
    return rows.map((r) => ({
      user: toPublic(r),
      role: r.member_role as MemberRole,
      joinedAt: iso(r.joined_at),
      mutedUntil: r.muted_until == null ? null : Number(r.muted_until),
    }));
  }),

  listMemberIds: read(function* (_now, roomId: string) {
    return (yield* query('memberIdsOf', { roomId })).map((r) => r.user_id);
  }),

  countRole: read((_now, roomId: string, role: MemberRole) => query('memberCountWithRole', { roomId, role })),

  /*
   * Membership changes take the room's next seq first (the room lock on PostgreSQL), then change members/invites,
   * then append the event. When the change turns out to be a no-op ("already a member"), the transaction rolls
   * back, and the seq with it.
   */

  addMember: transaction(function* (now, roomId: string, userId: string, role: MemberRole, actorId: string) {
    const seq = yield* nextSeq(roomId, now, 1);
    if (seq === null) throw new ChatError('room_not_found');
    if (!(yield* query('memberInsert', { roomId, userId, role, now, joinedSeq: seq.seq }))) throw new Rollback(null);
    yield* query('inviteDelete', { roomId, userId });
    yield* query('joinRequestDelete', { roomId, userId });
    return yield* insertEvent(roomId, seq, now, 'member.joined', actorId, { userId, role });
  }),

  removeMember: transaction(function* (
    now,
    roomId: string,
    userId: string,
    actorId: string,
    reason: 'left' | 'removed',
  ) {
    const seq = yield* nextSeq(roomId, now, -1);
    if (seq === null) return null;
    if (!(yield* query('memberDelete', { roomId, userId }))) throw new Rollback(null);
    return yield* insertEvent(roomId, seq, now, 'member.left', actorId, { userId, reason });
  }),

  setMemberRole: transaction(function* (now, roomId: string, userId: string, role: MemberRole, actorId: string) {
    const seq = yield* nextSeq(roomId, now);
    if (seq === null) return null;
    if (!(yield* query('memberSetRole', { roomId, userId, role }))) throw new Rollback(null);
    return yield* insertEvent(roomId, seq, now, 'member.role', actorId, { userId, role });
  }),

  createInvite: transaction(function* (now, roomId: string, userId: string, inviterId: string) {
    const seq = yield* nextSeq(roomId, now);
    if (seq === null) throw new ChatError('room_not_found');
    if (!(yield* query('inviteInsert', { roomId, userId, inviterId, now }))) throw new Rollback(null);
    return yield* insertEvent(roomId, seq, now, 'member.invited', inviterId, { userId });
  }),

  hasInvite: read((_now, roomId: string, userId: string) => query('inviteExists', { roomId, userId })),

  listInvites: read(function* (_now, userId: string) {
    return (yield* query('invitesOf', { userId })).map((r) => ({
      room: toRoom(r),
      inviter: toPublic(r.inviter as Row),
      createdAt: iso(r.invited_at),
    }));
  }),

  deleteInvite: write(function* (_now, roomId: string, userId: string) {
    return (yield* query('inviteDelete', { roomId, userId })) > 0;
  }),
} satisfies Operations<RoomStore>;

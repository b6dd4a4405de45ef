import { ChatError } from '../../core/chat-error.js';
import type { AvatarStore } from '../../core/store.js';
import { insertEvent, nextSeq } from './events.js';
import { query, read, transaction, type Operations } from './recipe.js';
import { toRoom, toUser, type Row } from './rows.js';

/** The named queries of avatars (pictures of users and rooms). */
export interface AvatarQueries {
  avatarInsert(a: { id: string; bytes: Uint8Array; now: number }): number;
  avatarGet(a: { id: string }): Row | undefined;
  avatarDelete(a: { id: string }): number;
  /** Sets (or clears, null) the user's avatar id; the updated user row. */
  userSetAvatar(a: { id: string; avatarId: string | null }): Row | undefined;
  /** Sets (or clears) the room's avatar id; the updated room row. */
  roomSetAvatar(a: { roomId: string; avatarId: string | null }): Row | undefined;
}

export const avatars = {
  setUserAvatar: transaction(function* (now, userId: string, avatar: { id: string; bytes: Uint8Array } | null) {
    const before = yield* query('userById', { id: userId });
    if (!before) throw new ChatError('user_not_found');
    if (avatar) yield* query('avatarInsert', { id: avatar.id, bytes: avatar.bytes, now });
    const row = yield* query('userSetAvatar', { id: userId, avatarId: avatar?.id ?? null });
    if (!row) throw new ChatError('user_not_found');
    // The old picture goes with the change: nothing points at it any more.
    if (before.avatar_id) yield* query('avatarDelete', { id: before.avatar_id as string });
    return toUser(row);
  }),

  setRoomAvatar: transaction(function* (
    now,
    roomId: string,
    avatar: { id: string; bytes: Uint8Array } | null,
    actorId: string,
  ) {
    const before = yield* query('roomById', { id: roomId });
    if (!before) throw new ChatError('room_not_found');
    if (avatar) yield* query('avatarInsert', { id: avatar.id, bytes: avatar.bytes, now });
    // The room's next seq first: it locks the room, so changes of it are sequenced in commit order.
    const seq = yield* nextSeq(roomId, now);
    const row = seq === null ? undefined : yield* query('roomSetAvatar', { roomId, avatarId: avatar?.id ?? null });
    if (seq === null || !row) throw new ChatError('room_not_found');
    if (before.avatar_id) yield* query('avatarDelete', { id: before.avatar_id as string });
    const room = toRoom(row);
    const event = yield* insertEvent(roomId, seq, now, 'room.updated', actorId, {
      avatarUrl: room.avatarUrl ?? null,
    });
    return { room: { ...room, headHash: event.hash! }, event };
  }),

  getAvatar: read(function* (_now, id: string) {
    const row = yield* query('avatarGet', { id });
    return row ? new Uint8Array(row.bytes as Uint8Array) : null;
  }),
} satisfies Operations<AvatarStore>;

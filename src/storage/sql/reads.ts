import type { NotifyLevel, ReadReceipt, RoomEvent } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import type { ReadStore } from '../../core/store.js';
import { insertEvent, slotOf, type SeqRow } from './events.js';
import { query, read, Rollback, transaction, write, type Operations } from './recipe.js';
import { toUser, type Row } from './rows.js';

/** The named queries of read markers and receipts. Counts are rows changed. */
export interface ReadQueries {
  /** The member's marker in effect (`read_seq`: max of read_seq and joined_seq) and the room's `last_seq`. */
  readMarkerGet(a: { roomId: string; userId: string }): { read_seq: number; last_seq: number } | undefined;
  /** The seq of the room's last message at or before `seq` (deleted ones count: they were there), 0 for none. */
  lastMessageSeqUpTo(a: { roomId: string; seq: number }): number;
  /** Moves the member's marker to `seq` if that is forward; rows changed. */
  readMarkerAdvance(a: { roomId: string; userId: string; seq: number }): number;
  /**
   * Advances the room's sequence by one without touching its activity time (a read receipt is not activity that
   * should lift the room in anyone's list); the new last_seq, null for an unknown room. The room lock, like
   * roomNextSeq.
   */
  roomNextSeqQuiet(a: { roomId: string }): SeqRow | null;
  /** Members who share read receipts, with their marker in effect, by user id. */
  receiptsOf(a: { roomId: string }): { user_id: string; read_seq: number }[];
  /** Sets the given settings (null leaves one as it is; `dndOff` clears dnd_until); the row, none for no user. */
  userSettingsUpdate(a: {
    id: string;
    readReceipts: boolean | null;
    dndUntil: number | null;
    dndOff: boolean;
  }): Row | undefined;
  /** The member's notification level, none for no member. */
  notifyLevelGet(a: { roomId: string; userId: string }): { notify: string } | undefined;
  /** Sets the member's notification level; rows changed. */
  notifyLevelSet(a: { roomId: string; userId: string; level: NotifyLevel }): number;
}

export const reads = {
  markRead: transaction(function* (_now, roomId: string, userId: string, seq: number, announce: boolean) {
    // Announcing appends to the room: the room lock first, like every writer (see nextSeq in events.ts).
    const next = announce ? slotOf(yield* query('roomNextSeqQuiet', { roomId })) : null;
    if (announce && next === null) throw new ChatError('room_not_found');
    const marker = yield* query('readMarkerGet', { roomId, userId });
    if (!marker) throw new ChatError('not_member');
    const head = next === null ? Number(marker.last_seq) : next.seq - 1;
    // The marker names a message: a read of events after it (receipts, joins) does not move it, so two clients
    // that each mark what the other's receipt appended do not trade receipts for ever.
    const target = Number(yield* query('lastMessageSeqUpTo', { roomId, seq: Math.min(seq, head) }));
    const current = Number(marker.read_seq);
    const unchanged = { readSeq: current, moved: false, event: null };
    if (target <= current || !(yield* query('readMarkerAdvance', { roomId, userId, seq: target }))) {
      if (next !== null) throw new Rollback(unchanged);
      return unchanged;
    }
    let event: RoomEvent | null = null;
    if (next !== null)
      event = yield* insertEvent(roomId, next, _now, 'member.read', userId, { userId, readSeq: target });
    return { readSeq: target, moved: true, event };
  }),

  listReadReceipts: read(function* (_now, roomId: string) {
    const rows = yield* query('receiptsOf', { roomId });
    return rows.map((r): ReadReceipt => ({ userId: r.user_id, readSeq: Number(r.read_seq) }));
  }),

  updateUserSettings: write(function* (_now, id: string, patch: { readReceipts?: boolean; dndUntil?: number | null }) {
    if (patch.readReceipts === undefined && patch.dndUntil === undefined) {
      const r = yield* query('userById', { id });
      if (!r) throw new ChatError('user_not_found');
      return toUser(r);
    }
    const r = yield* query('userSettingsUpdate', {
      id,
      readReceipts: patch.readReceipts ?? null,
      dndUntil: patch.dndUntil ?? null,
      dndOff: patch.dndUntil === null,
    });
    if (!r) throw new ChatError('user_not_found');
    return toUser(r);
  }),

  setNotifyLevel: transaction(function* (_now, roomId: string, userId: string, level: NotifyLevel) {
    const current = yield* query('notifyLevelGet', { roomId, userId });
    if (!current) throw new ChatError('not_member');
    if (current.notify === level) return { changed: false };
    yield* query('notifyLevelSet', { roomId, userId, level });
    return { changed: true };
  }),
} satisfies Operations<ReadStore>;

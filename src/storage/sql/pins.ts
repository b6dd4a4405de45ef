import type { Pin, RoomEvent } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import type { PinStore } from '../../core/store.js';
import { insertEvent, nextSeq } from './events.js';
import { query, read, Rollback, transaction, type Operations } from './recipe.js';
import { iso, toEvent, type Row } from './rows.js';

/** The named queries of pinned messages. Counts are rows changed. */
export interface PinQueries {
  /** Pins the message unless it is pinned; rows changed. */
  pinInsert(a: { roomId: string; seq: number; pinnedBy: string; now: number }): number;
  pinDelete(a: { roomId: string; seq: number }): number;
  pinCount(a: { roomId: string }): number;
  /** The room's pins joined with their messages (`p_`-prefixed pin columns), newest pin first. */
  pinsOf(a: { roomId: string }): Row[];
}

export const pins = {
  pinMessage: transaction(function* (now, roomId: string, seq: number, actorId: string, maxPins: number) {
    // The room lock first, like every writer: the message cannot be deleted or pinned by another call meanwhile.
    const next = yield* nextSeq(roomId, now);
    if (next === null) throw new ChatError('room_not_found');
    const row = yield* query('eventBySeq', { roomId, seq });
    const message = row ? toEvent(row) : null;
    if (!message || message.type !== 'message') throw new ChatError('not_found');
    if (message.data?.deleted) throw new ChatError('message_deleted');
    // Pinned already: a no-op (also at the cap). A new pin over the cap is refused, and the throw undoes the insert.
    if (!(yield* query('pinInsert', { roomId, seq, pinnedBy: actorId, now }))) throw new Rollback({ event: null });
    if ((yield* query('pinCount', { roomId })) > maxPins) throw new ChatError('too_many_pins');
    const event: RoomEvent = yield* insertEvent(roomId, next, now, 'message.pinned', actorId, {
      seq,
      messageId: message.id,
    });
    return { event };
  }),

  unpinMessage: transaction(function* (now, roomId: string, seq: number, actorId: string) {
    const next = yield* nextSeq(roomId, now);
    if (next === null) throw new ChatError('room_not_found');
    if (!(yield* query('pinDelete', { roomId, seq }))) throw new Rollback({ event: null });
    const row = yield* query('eventBySeq', { roomId, seq });
    const event: RoomEvent = yield* insertEvent(roomId, next, now, 'message.unpinned', actorId, {
      seq,
      messageId: (row?.id as string | undefined) ?? null,
    });
    return { event };
  }),

  listPins: read(function* (_now, roomId: string) {
    return (yield* query('pinsOf', { roomId })).map((r): Pin => ({
      seq: Number(r.seq),
      pinnedBy: r.p_pinned_by as string,
      pinnedAt: iso(r.p_pinned_at),
      message: toEvent(r),
    }));
  }),
} satisfies Operations<PinStore>;

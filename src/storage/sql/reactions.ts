import type { Reaction, RoomEvent } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import type { ReactionStore } from '../../core/store.js';
import { insertEvent, nextSeq, type Slot } from './events.js';
import { query, read, Rollback, transaction, type Operations, type Recipe } from './recipe.js';
import { toEvent, type Row } from './rows.js';

type ReactionKey = { roomId: string; seq: number; emoji: string; userId: string };

/** The named queries of reactions: one row per (message, emoji, user) in `reactions` (migration 5). */
export interface ReactionQueries {
  reactionExists(a: ReactionKey): boolean;
  /** Whether anyone reacted to the message with `emoji`. */
  reactionEmojiExists(a: { roomId: string; seq: number; emoji: string }): boolean;
  /** How many different emojis the message has. */
  reactionEmojiCount(a: { roomId: string; seq: number }): number;
  /** `eventSeq`: the seq of the reaction.added event, which orders emojis and users. */
  reactionInsert(a: ReactionKey & { eventSeq: number; now: number }): number;
  reactionDelete(a: ReactionKey): number;
  /** Drops every reaction of the message (it was deleted). */
  reactionsDeleteOf(a: { roomId: string; seq: number }): number;
  /** Rows (seq, emoji, user_id) of the messages from `fromSeq` to `toSeq`, by seq then event_seq. */
  reactionsBetween(a: { roomId: string; fromSeq: number; toSeq: number }): Row[];
}

/** Locks the room (nextSeq, like every writer) and finds the message a reaction is for, or throws. */
function* reactionTarget(now: number, roomId: string, seq: number): Recipe<{ next: Slot; message: RoomEvent }> {
  const next = yield* nextSeq(roomId, now);
  if (next === null) throw new ChatError('room_not_found');
  const row = yield* query('eventBySeq', { roomId, seq });
  const message = row ? toEvent(row) : null;
  if (!message || message.type !== 'message') throw new ChatError('not_found');
  if (message.data?.deleted) throw new ChatError('message_deleted');
  return { next, message };
}

export const reactions = {
  addReaction: transaction(function* (
    now,
    roomId: string,
    seq: number,
    userId: string,
    emoji: string,
    maxDistinct: number,
  ) {
    const { next, message } = yield* reactionTarget(now, roomId, seq);
    const key = { roomId, seq, emoji, userId };
    // Idempotent: a repeated PUT (a retry, a second tab) appends nothing.
    if (yield* query('reactionExists', key)) throw new Rollback(null);
    // The cap is on different emojis: joining one already there is always fine.
    if (
      !(yield* query('reactionEmojiExists', { roomId, seq, emoji })) &&
      (yield* query('reactionEmojiCount', { roomId, seq })) >= maxDistinct
    ) {
      throw new ChatError('too_many_reactions', {
        message: `A message may have at most ${maxDistinct} different reactions.`,
      });
    }
    yield* query('reactionInsert', { ...key, eventSeq: next.seq, now });
    return yield* insertEvent(roomId, next, now, 'reaction.added', userId, {
      seq,
      messageId: message.id,
      emoji,
      userId,
    });
  }),

  removeReaction: transaction(function* (now, roomId: string, seq: number, userId: string, emoji: string) {
    const { next, message } = yield* reactionTarget(now, roomId, seq);
    if ((yield* query('reactionDelete', { roomId, seq, emoji, userId })) === 0) throw new Rollback(null);
    return yield* insertEvent(roomId, next, now, 'reaction.removed', userId, {
      seq,
      messageId: message.id,
      emoji,
      userId,
    });
  }),

  listReactions: read(function* (_now, roomId: string, fromSeq: number, toSeq: number) {
    const out = new Map<number, Reaction[]>();
    for (const r of yield* query('reactionsBetween', { roomId, fromSeq, toSeq })) {
      const seq = Number(r.seq);
      let list = out.get(seq);
      if (!list) out.set(seq, (list = []));
      const emoji = r.emoji as string;
      let reaction = list.find((x) => x.emoji === emoji);
      if (!reaction) list.push((reaction = { emoji, count: 0, userIds: [] }));
      reaction.userIds.push(r.user_id as string);
      reaction.count++;
    }
    return out;
  }),
} satisfies Operations<ReactionStore>;

import type { ThreadSummary } from '../../protocol/model.js';
import type { ThreadStore } from '../../core/store.js';
import { query, read, type Operations } from './recipe.js';
import { iso, toEvent, type Row } from './rows.js';

/**
 * The named queries of replies and threads. A reply keeps its fields in the event's `data` (ReplyData); migration 6
 * indexes `data.threadRoot` and `data.replyTo` per room, so these are index range scans, and a plain send writes
 * nothing more than before.
 */
export interface ThreadQueries {
  /** Replies of the thread, ascending, `seq` exclusive. */
  threadAfter(a: { roomId: string; root: number; seq: number; limit: number }): Row[];
  /** Replies of the thread, descending (newest first), `seq` exclusive. */
  threadBefore(a: { roomId: string; root: number; seq: number; limit: number }): Row[];
  /** Per root with replies not deleted: `root`, `n` (how many) and `last_at` (the newest one's created_at). */
  threadSummaries(a: { roomId: string; roots: readonly number[] }): { root: number; n: number; last_at: number }[];
  /** Blanks the quote of every reply to the message at `seq` (its deletion): `quote.body` '' and `quote.deleted`. */
  quotesRedact(a: { roomId: string; seq: number }): number;
}

export const threads = {
  listThread: read(function* (
    _now,
    roomId: string,
    root: number,
    q: { after?: number; before?: number; limit: number },
  ) {
    if (q.after !== undefined) {
      return (yield* query('threadAfter', { roomId, root, seq: q.after, limit: q.limit })).map(toEvent);
    }
    const args = { roomId, root, seq: q.before ?? Number.MAX_SAFE_INTEGER, limit: q.limit };
    return (yield* query('threadBefore', args)).reverse().map(toEvent);
  }),

  threadSummaries: read(function* (_now, roomId: string, roots: readonly number[]) {
    const out = new Map<number, ThreadSummary>();
    if (roots.length === 0) return out;
    for (const r of yield* query('threadSummaries', { roomId, roots })) {
      out.set(Number(r.root), { replyCount: Number(r.n), lastReplyAt: iso(Number(r.last_at)) });
    }
    return out;
  }),
} satisfies Operations<ThreadStore>;

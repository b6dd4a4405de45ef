import type { Block } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import type { BlockStore } from '../../core/store.js';
import { query, read, Rollback, transaction, write, type Operations } from './recipe.js';
import { iso, toPublic, type Row } from './rows.js';

/** The named queries of blocks between users. Counts are rows changed. */
export interface BlockQueries {
  /** Records the block unless it exists; rows changed. */
  blockInsert(a: { userId: string; blockedId: string; now: number }): number;
  blockDelete(a: { userId: string; blockedId: string }): number;
  blockCount(a: { userId: string }): number;
  /** The block row of this pair in this direction (`created_at`), if any. */
  blockGet(a: { userId: string; blockedId: string }): Row | undefined;
  /** The user's blocks joined with the blocked users (`b_`-prefixed block columns), newest first. */
  blocksOf(a: { userId: string }): Row[];
  /** Whether `a` blocked `b` or `b` blocked `a`. */
  blockEither(a: { a: string; b: string }): boolean;
  /** Whether the user blocked, or was blocked by, a member of the room. */
  blockWithMemberOf(a: { roomId: string; userId: string }): boolean;
}

export const blocks = {
  blockUser: transaction(function* (now, userId: string, blockedId: string, max: number) {
    const target = yield* query('userById', { id: blockedId });
    if (!target) throw new ChatError('user_not_found');
    const since = (created: unknown): Block => ({ user: toPublic(target), since: iso(Number(created)) });
    if (!(yield* query('blockInsert', { userId, blockedId, now }))) {
      // Blocked already: a no-op, also at the cap; the answer says since when.
      const row = yield* query('blockGet', { userId, blockedId });
      throw new Rollback({ block: since(row?.created_at ?? now), created: false });
    }
    // A new block over the cap is refused, and the throw undoes the insert.
    if ((yield* query('blockCount', { userId })) > max) throw new ChatError('too_many_blocks');
    return { block: since(now), created: true };
  }),

  unblockUser: write(function* (_now, userId: string, blockedId: string) {
    return (yield* query('blockDelete', { userId, blockedId })) > 0;
  }),

  listBlocks: read(function* (_now, userId: string) {
    return (yield* query('blocksOf', { userId })).map((r): Block => ({
      user: toPublic(r),
      since: iso(Number(r.b_created_at)),
    }));
  }),

  blockBetween: read(function* (_now, userId: string, others: readonly string[]) {
    // Bounded by the caller: a DM's members (MAX_DM_MEMBERS).
    for (const other of others) if (yield* query('blockEither', { a: userId, b: other })) return true;
    return false;
  }),

  hasBlocked: read(function* (_now, userId: string, blockedId: string) {
    return (yield* query('blockGet', { userId, blockedId })) !== undefined;
  }),

  blockWithMember: read(function* (_now, roomId: string, userId: string) {
    return yield* query('blockWithMemberOf', { roomId, userId });
  }),
} satisfies Operations<BlockStore>;

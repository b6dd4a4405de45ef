import type { KeepStore, PasswordResetRecord } from '../../core/store.js';
import { query, read, transaction, write, type Operations } from './recipe.js';
import { toEvent, type Row } from './rows.js';
import { fold } from './text.js';

/** The named queries of account deletion, reset links and export (issue 18). Counts are rows changed. */
export interface KeepQueries {
  /** Sets the deleted account's fields (see KeepStore.markUserDeleted) unless deleted already; rows changed. */
  userMarkDeleted(a: { id: string; username: string; usernameKey: string; now: number }): number;
  /** Deletes every reset link of the user. */
  resetsDeleteOfUser(a: { userId: string }): number;
  /** Messages of the sender not deleted, after (roomId, seq), by (room_id, seq). */
  ownMessagesAfter(a: { userId: string; afterRoom: string; afterSeq: number; limit: number }): Row[];
  resetInsert(a: PasswordResetRecord): number;
  resetByTokenHash(a: { tokenHash: string }): Row | undefined;
  /** Deletes the link if it has not expired; its row, or undefined. */
  resetTake(a: { tokenHash: string; now: number }): Row | undefined;
}

const toReset = (r: Row): PasswordResetRecord => ({
  tokenHash: r.token_hash as string,
  userId: r.user_id as string,
  createdBy: r.created_by as string,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
});

export const keep = {
  markUserDeleted: transaction(function* (now, id: string, placeholder: string) {
    const changed = yield* query('userMarkDeleted', { id, username: placeholder, usernameKey: fold(placeholder), now });
    if (changed === 0) return null;
    yield* query('resetsDeleteOfUser', { userId: id });
    return (yield* query('sessionsDeleteExcept', { userId: id, exceptId: null })).map((r) => r.id);
  }),

  listOwnMessages: read(function* (_now, userId: string, after: { roomId: string; seq: number } | null, limit: number) {
    // '' sorts before every room id, so no keyset means "from the start".
    const rows = yield* query('ownMessagesAfter', {
      userId,
      afterRoom: after?.roomId ?? '',
      afterSeq: after?.seq ?? 0,
      limit,
    });
    return rows.map(toEvent);
  }),

  createPasswordReset: write(function* (_now, reset: PasswordResetRecord) {
    yield* query('resetInsert', reset);
  }),

  getPasswordReset: read(function* (_now, tokenHash: string) {
    const r = yield* query('resetByTokenHash', { tokenHash });
    return r ? toReset(r) : null;
  }),

  consumePasswordReset: transaction(function* (_now, tokenHash: string, now: number, passwordHash: string) {
    const r = yield* query('resetTake', { tokenHash, now });
    if (!r) return null;
    const userId = r.user_id as string;
    yield* query('userSetPasswordHash', { id: userId, hash: passwordHash });
    yield* query('resetsDeleteOfUser', { userId });
    const sessionIds = (yield* query('sessionsDeleteExcept', { userId, exceptId: null })).map((s) => s.id);
    return { userId, sessionIds };
  }),
} satisfies Operations<KeepStore>;

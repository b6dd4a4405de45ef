import type { MentionItem, RoomKind } from '../../protocol/model.js';
import type { MentionStore } from '../../core/store.js';
import { query, read, type Operations, type Recipe } from './recipe.js';
import { toEvent, type Row } from './rows.js';
import { fold } from './text.js';

/** One mention row: `userId` is mentioned by the message at (`roomId`, `seq`). */
export interface MentionRow {
  userId: string;
  roomId: string;
  seq: number;
}

/** The named queries of mentions (migration 9). Counts are rows changed. */
export interface MentionQueries {
  /** The ids of the room's members whose username_key is one of `keys`. */
  memberIdsByUsernameKeys(a: { roomId: string; keys: readonly string[] }): { id: string }[];
  /** Inserts mention rows, skipping any already there. */
  mentionsInsert(a: { rows: readonly MentionRow[]; now: number }): number;
  /** The users the message at `seq` mentions. */
  mentionUsersOf(a: { roomId: string; seq: number }): { user_id: string }[];
  mentionsDeleteOf(a: { roomId: string; seq: number }): number;
  mentionsDeleteUsers(a: { roomId: string; seq: number; userIds: readonly string[] }): number;
  /** The message's `data` replaced (JSON; null for none). */
  messageDataSet(a: { roomId: string; seq: number; data: Record<string, unknown> | null }): number;
  /**
   * The user's mentions in rooms they are a member of, newest (highest id) first, `id < before`, joined with the
   * message (event columns) and the room (`mn_id`, `r_name`, `r_kind`).
   */
  mentionsInbox(a: { userId: string; before: number; limit: number }): Row[];
}

/** Writes the mention rows of `targets` for one message: nothing at all for a message that mentions nobody. */
export function* insertMentions(roomId: string, seq: number, targets: readonly string[], now: number): Recipe<void> {
  if (targets.length === 0) return;
  yield* query('mentionsInsert', { rows: targets.map((userId) => ({ userId, roomId, seq })), now });
}

/**
 * Makes the message's mention rows those of `targets` (keeping the old ones too with `keepExisting`); returns the
 * users newly mentioned.
 */
export function* replaceMentions(
  roomId: string,
  seq: number,
  targets: readonly string[],
  keepExisting: boolean,
  now: number,
): Recipe<string[]> {
  const before = new Set((yield* query('mentionUsersOf', { roomId, seq })).map((r) => r.user_id));
  const wanted = new Set(targets);
  const dropped = keepExisting ? [] : [...before].filter((id) => !wanted.has(id));
  if (dropped.length > 0) yield* query('mentionsDeleteUsers', { roomId, seq, userIds: dropped });
  const added = targets.filter((id) => !before.has(id));
  yield* insertMentions(roomId, seq, added, now);
  return added;
}

export const mentions = {
  findMemberIds: read(function* (_now, roomId: string, usernames: readonly string[]) {
    if (usernames.length === 0) return [];
    const keys = [...new Set(usernames.map(fold))];
    return (yield* query('memberIdsByUsernameKeys', { roomId, keys })).map((r) => r.id);
  }),

  listMentions: read(function* (_now, userId: string, q: { before?: number; limit: number }) {
    const rows = yield* query('mentionsInbox', {
      userId,
      before: q.before ?? Number.MAX_SAFE_INTEGER,
      limit: q.limit,
    });
    return rows.map((r): MentionItem => ({
      id: Number(r.mn_id),
      roomId: r.room_id as string,
      roomName: r.r_name as string,
      roomKind: r.r_kind as RoomKind,
      message: toEvent(r),
    }));
  }),
} satisfies Operations<MentionStore>;

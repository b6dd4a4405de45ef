import type { RoomEvent, RoomKind } from '../../protocol/model.js';
import type { MessageSearch, SearchHit, SearchStore } from '../../core/store.js';
import { hasLink, indexTerms } from '../../core/search-text.js';
import { query, read, type Operations, type Recipe } from './recipe.js';
import { toEvent, type Row } from './rows.js';

/**
 * One message's entry in the search index (migration 12): its terms (indexTerms, in order) and what the filters
 * ask. `createdAt` is epoch ms.
 */
export interface SearchRow {
  roomId: string;
  seq: number;
  senderId: string;
  createdAt: number;
  terms: readonly string[];
  hasLink: boolean;
  /** Whether the message carries attachments: false until messages can carry files (issue 15, files branch). */
  hasFile: boolean;
  threadRoot: number | null;
}

/** The named queries of message search (migration 12). Counts are rows changed. */
export interface SearchQueries {
  searchIndexInsert(a: { rows: readonly SearchRow[] }): number;
  /** Replaces the terms and flags of an indexed message (an edit); its place in the newest-first order stays. */
  searchIndexUpdate(a: { row: SearchRow }): number;
  searchIndexDelete(a: { roomId: string; seq: number }): number;
  /**
   * The search (see SearchStore), as event columns plus `s_docid` (the index entry's id: the newest-first order).
   * Each engine turns `parts` into its own match expression.
   */
  searchMessages(a: MessageSearch & { now: number }): Row[];
}

/** The index entry of a message about to be stored (or re-stored after an edit). */
export function searchRowOf(e: RoomEvent, now: number): SearchRow {
  const body = e.body ?? '';
  const root = e.data?.threadRoot;
  // A new message has its files in `data` (as stored); one read back for an edit has them lifted to `attachments`.
  const files = e.attachments ?? e.data?.attachments;
  return {
    roomId: e.roomId,
    seq: e.seq,
    senderId: e.senderId,
    createdAt: now,
    terms: indexTerms(body),
    hasLink: hasLink(body),
    hasFile: Array.isArray(files) && files.length > 0,
    threadRoot: typeof root === 'number' ? root : null,
  };
}

/** Indexes new messages in their own transaction (appendMessages). */
export function* indexMessages(events: readonly RoomEvent[], now: number): Recipe<void> {
  if (events.length === 0) return;
  yield* query('searchIndexInsert', { rows: events.map((e) => searchRowOf(e, now)) });
}

export const search: Operations<SearchStore> = {
  searchMessages: read(function* (now, s: MessageSearch) {
    if (s.parts.length === 0) return [];
    const rows = yield* query('searchMessages', { ...s, now });
    return rows.map((r): SearchHit => ({
      message: toEvent(r),
      roomName: r.r_name as string,
      roomKind: r.r_kind as RoomKind,
      position: Number(r.s_docid),
    }));
  }),
};

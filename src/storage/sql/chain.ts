import type { ChainRow, ChainStore } from '../../core/store.js';
import { query, read, type Operations } from './recipe.js';
import { iso, type Row } from './rows.js';

/** The named queries of history integrity (issue 18): reads for the verifier. */
export interface ChainQueries {
  chainHead(a: { roomId: string }): { last_seq: number; chain_from: number; head_hash: string | null } | undefined;
  /** Stored events after `seq`, ascending. */
  chainRows(a: { roomId: string; seq: number; limit: number }): Row[];
  roomIdsAfter(a: { afterId: string; limit: number }): { id: string }[];
}

const hex = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function toChainRow(r: Row): ChainRow {
  const data = typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data;
  return {
    seq: Number(r.seq),
    id: r.id as string,
    type: r.type as string,
    senderId: r.sender_id as string,
    body: (r.body as string | null) ?? null,
    clientMsgId: (r.client_msg_id as string | null) ?? null,
    data: (data as Record<string, unknown> | null | undefined) ?? null,
    createdAt: iso(Number(r.created_at)),
    hash: hex(r.hash),
    prevHash: hex(r.prev_hash),
    contentHash: hex(r.content_hash),
    targetHash: hex(r.target_hash),
  };
}

export const chain = {
  getChainHead: read(function* (_now, roomId: string) {
    const r = yield* query('chainHead', { roomId });
    return r
      ? { roomId, lastSeq: Number(r.last_seq), chainFrom: Number(r.chain_from), headHash: hex(r.head_hash) }
      : null;
  }),
  listChainRows: read(function* (_now, roomId: string, afterSeq: number, limit: number) {
    return (yield* query('chainRows', { roomId, seq: afterSeq, limit })).map(toChainRow);
  }),
  listRoomIds: read(function* (_now, afterId: string, limit: number) {
    return (yield* query('roomIdsAfter', { afterId, limit })).map((r) => r.id);
  }),
} satisfies Operations<ChainStore>;

import { createHash } from 'node:crypto';
import {
  canonicalContent,
  canonicalLink,
  GENESIS_HASH,
  MUTATING_EVENT_TYPES,
  type ChainHeader,
} from '../protocol/chain.js';
import type { RoomEvent } from '../protocol/model.js';
import type { ChainRow, ChainStore } from './store.js';

/** History integrity on the server: hashing events as they are appended, and walking a stored room's chain. */

export const sha256hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export const contentHashOf = (type: string, body: string | null, data: Record<string, unknown> | null): string =>
  sha256hex(canonicalContent(type, body, data));

export const linkHashOf = (
  prevHash: string,
  header: ChainHeader,
  contentHash: string,
  targetHash: string | null,
): string => sha256hex(canonicalLink(prevHash, header, contentHash, targetHash));

/**
 * Makes `stored` (the event in its stored form: a message's attachments inside `data`) the next link after
 * `prevHash`: sets hash, prevHash, contentHash and targetHash on it and on `wire` (the same event as answered, if
 * it is another object). Returns the new head hash. Two SHA-256 digests of a few hundred bytes: microseconds.
 */
export function chainEvent(
  stored: RoomEvent,
  prevHash: string,
  targetHash: string | null = null,
  wire: RoomEvent = stored,
): string {
  const contentHash = contentHashOf(stored.type, stored.body, stored.data);
  const hash = linkHashOf(prevHash, stored, contentHash, targetHash);
  for (const e of wire === stored ? [stored] : [stored, wire]) {
    e.hash = hash;
    e.prevHash = prevHash;
    e.contentHash = contentHash;
    if (targetHash !== null) e.targetHash = targetHash;
  }
  return hash;
}

// ---- verification ----

/**
 * What can be wrong at a seq: `missing` (no row: removed), `reordered` (the row was appended at another seq),
 * `altered` (the row's header fields — id, type, sender, time, hashes — do not match its hash), `link` (its prevHash
 * is not the hash of the event before it), `content` (its body or data do not match its contentHash, nor the hash a
 * later edit / delete / preview recorded for it), `unhashed` (no hash where the chain has begun), `head` (the room's
 * head hash is not the hash of its last event).
 */
export type ChainProblemKind = 'missing' | 'reordered' | 'altered' | 'link' | 'content' | 'unhashed' | 'head';

export interface ChainProblem {
  seq: number;
  problem: ChainProblemKind;
  detail: string;
}

export interface ChainReport {
  roomId: string;
  ok: boolean;
  /** The room's last seq and the seq its chain starts at (events before it predate the chain). */
  lastSeq: number;
  chainFrom: number;
  headHash: string | null;
  /** How many hashed events were checked. */
  checked: number;
  /** The first broken link (lowest seq), or null. */
  firstBroken: ChainProblem | null;
  /** Every problem found, by seq, at most VERIFY_PROBLEMS_MAX. */
  problems: ChainProblem[];
}

export const VERIFY_PAGE = 500;
export const VERIFY_PROBLEMS_MAX = 100;

const headerOf = (roomId: string, r: ChainRow): ChainHeader => ({ ...r, roomId });
const targetOf = (r: ChainRow): number | null => (typeof r.data?.seq === 'number' ? r.data.seq : null);

/**
 * Walks a room's stored chain and names what is broken. Two passes over the room, in pages: the first checks every
 * link (seqs contiguous, each row's hash over its own fields, each prevHash the previous row's hash) and collects
 * what the edit / delete / preview events recorded about the messages they changed; the second checks every row's
 * content against its contentHash or, for a changed message, the latest hash recorded for it. Memory: one entry per
 * changed message.
 */
export async function verifyRoomChain(store: ChainStore, roomId: string): Promise<ChainReport | null> {
  const head = await store.getChainHead(roomId);
  if (!head) return null;
  const { lastSeq, chainFrom } = head;
  const problems: ChainProblem[] = [];
  const report = (seq: number, problem: ChainProblemKind, detail: string) => problems.push({ seq, problem, detail });

  /** Rows of the chain in order, page by page. */
  async function* rows(): AsyncGenerator<ChainRow> {
    let after = chainFrom - 1;
    for (;;) {
      const page = await store.listChainRows(roomId, after, VERIFY_PAGE);
      for (const r of page) yield r;
      if (page.length < VERIFY_PAGE) return;
      after = page[page.length - 1]!.seq;
    }
  }

  // The seq a row with a broken own hash was appended at, if only its seq changed (a row moved). A search over the
  // room's seqs, for the first few such rows only.
  let searches = 0;
  const appendedAt = (r: ChainRow): number | null => {
    if (r.prevHash === null || r.contentHash === null || ++searches > 3) return null;
    for (let s = chainFrom; s <= Math.max(lastSeq, r.seq) + 1; s++) {
      if (s === r.seq) continue;
      const h = linkHashOf(r.prevHash, { ...headerOf(roomId, r), seq: s }, r.contentHash, r.targetHash);
      if (h === r.hash) return s;
    }
    return null;
  };

  // Pass 1: links.
  const attested = new Map<number, { hash: string; by: number }>();
  const deleted = new Set<number>();
  let expected = chainFrom;
  let prev = GENESIS_HASH;
  let checked = 0;
  for await (const r of rows()) {
    if (r.seq > expected) {
      report(expected, 'missing', `events ${expected}..${r.seq - 1} are missing (removed)`);
      prev = r.prevHash ?? prev;
    }
    expected = r.seq + 1;
    checked++;
    if (r.hash === null || r.prevHash === null || r.contentHash === null) {
      report(r.seq, 'unhashed', `event ${r.id} has no hash, though the chain starts at ${chainFrom}`);
      prev = r.hash ?? prev;
      continue;
    }
    const own = linkHashOf(r.prevHash, headerOf(roomId, r), r.contentHash, r.targetHash);
    if (own !== r.hash) {
      const at = appendedAt(r);
      if (at !== null) report(r.seq, 'reordered', `event ${r.id} was appended as seq ${at}`);
      else report(r.seq, 'altered', `event ${r.id}: its fields or hashes do not match its hash`);
    } else if (r.prevHash !== prev) {
      report(r.seq, 'link', `prevHash is not the hash of the event before it (an earlier event changed or moved)`);
    }
    prev = r.hash;
    const target = targetOf(r);
    if (MUTATING_EVENT_TYPES.includes(r.type) && target !== null && r.targetHash !== null) {
      attested.set(target, { hash: r.targetHash, by: r.seq });
      if (r.type === 'message.deleted') deleted.add(target);
    }
  }
  if (expected <= lastSeq) report(expected, 'missing', `events ${expected}..${lastSeq} are missing (removed)`);
  if (lastSeq >= chainFrom && head.headHash !== prev) {
    report(lastSeq, 'head', `the room's head hash is not the hash of its last event`);
  }

  // Pass 2: contents.
  for await (const r of rows()) {
    if (r.contentHash === null) continue;
    const current = contentHashOf(r.type, r.body, r.data);
    const latest = r.type === 'message' ? attested.get(r.seq) : undefined;
    if (latest) {
      if (current !== latest.hash) {
        report(r.seq, 'content', `message content does not match the hash recorded by its change at seq ${latest.by}`);
      }
    } else if (current !== r.contentHash) {
      // An edit event of a deleted message has its text erased with the message's (its contentHash stays).
      const target = targetOf(r);
      const erased = r.type === 'message.edited' && r.body === '' && target !== null && deleted.has(target);
      if (!erased) report(r.seq, 'content', `event ${r.id}: its content does not match its contentHash`);
    }
  }

  problems.sort((a, b) => a.seq - b.seq);
  return {
    roomId,
    ok: problems.length === 0,
    lastSeq,
    chainFrom,
    headHash: head.headHash,
    checked,
    firstBroken: problems[0] ?? null,
    problems: problems.slice(0, VERIFY_PROBLEMS_MAX),
  };
}

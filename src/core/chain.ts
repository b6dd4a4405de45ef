import { createHash } from 'node:crypto';
import {
  canonicalContent,
  canonicalLink,
  GENESIS_HASH,
  MUTATING_EVENT_TYPES,
  type ChainHeader,
  type ChainProblem,
  type ChainProblemKind,
  type ChainReport,
  type ChainSummary,
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

export const VERIFY_PAGE = 500;
export const VERIFY_PROBLEMS_MAX = 100;

const headerOf = (roomId: string, r: ChainRow): ChainHeader => ({ ...r, roomId });
const targetOf = (r: ChainRow): number | null => (typeof r.data?.seq === 'number' ? r.data.seq : null);

/**
 * Walks a room's stored chain and names what is broken. Two passes over the room, in pages: the first checks every
 * link (seqs contiguous, each row's hash over its own fields, each prevHash the previous row's hash) and collects
 * what the edit / delete / preview events recorded about the messages they changed; the second checks every row's
 * content against its contentHash or, for a changed message, the latest hash recorded for it. Memory: one entry per
 * changed message. The room may be written meanwhile: events appended after the walk began are read for what they
 * record (a message edited during the walk is not reported), and the head is checked as it was when the walk began.
 */
export async function verifyRoomChain(store: ChainStore, roomId: string): Promise<ChainReport | null> {
  const head = await store.getChainHead(roomId);
  if (!head) return null;
  const { lastSeq, chainFrom } = head;
  const problems: ChainProblem[] = [];
  const report = (seq: number, problem: ChainProblemKind, detail: string) => problems.push({ seq, problem, detail });

  /** Rows after `from` in order (up to `to`, or to the end), page by page. */
  async function* rows(from: number, to = Number.MAX_SAFE_INTEGER): AsyncGenerator<ChainRow> {
    let after = from;
    for (;;) {
      const page = await store.listChainRows(roomId, after, VERIFY_PAGE);
      for (const r of page) {
        if (r.seq > to) return;
        yield r;
      }
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

  const attested = new Map<number, { hash: string; by: number }>();
  const deleted = new Set<number>();
  const collect = (r: ChainRow) => {
    const target = targetOf(r);
    if (MUTATING_EVENT_TYPES.includes(r.type) && target !== null && r.targetHash !== null && r.hash !== null) {
      attested.set(target, { hash: r.targetHash, by: r.seq });
      if (r.type === 'message.deleted') deleted.add(target);
    }
  };

  // Pass 1: links.
  let expected = chainFrom;
  let prev = GENESIS_HASH;
  let headSeen: string | null = null;
  let checked = 0;
  for await (const r of rows(chainFrom - 1)) {
    if (r.seq > expected) {
      report(expected, 'missing', `events ${expected}..${r.seq - 1} are missing (removed)`);
      prev = r.prevHash ?? prev;
    }
    expected = r.seq + 1;
    if (r.seq <= lastSeq) checked++;
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
    if (r.seq === lastSeq) headSeen = r.hash;
    collect(r);
  }
  const end = expected - 1;
  if (expected <= lastSeq) report(expected, 'missing', `events ${expected}..${lastSeq} are missing (removed)`);
  if (lastSeq >= chainFrom && head.headHash !== headSeen) {
    report(lastSeq, 'head', `the room's head hash is not the hash of its last event`);
  }

  // Pass 2: contents.
  const suspects: { r: ChainRow; current: string }[] = [];
  for await (const r of rows(chainFrom - 1, end)) {
    if (r.contentHash === null) continue;
    const current = contentHashOf(r.type, r.body, r.data);
    if (!contentHolds(r, current)) suspects.push({ r, current });
  }
  // A change committed during pass 2 is recorded after `end`: read what was appended since, then judge.
  if (suspects.length > 0) for await (const r of rows(end)) collect(r);
  for (const { r, current } of suspects) {
    if (contentHolds(r, current)) continue;
    const latest = r.type === 'message' ? attested.get(r.seq) : undefined;
    report(
      r.seq,
      'content',
      latest
        ? `message content does not match the hash recorded by its change at seq ${latest.by}`
        : `event ${r.id}: its content does not match its contentHash`,
    );
  }

  function contentHolds(r: ChainRow, current: string): boolean {
    const latest = r.type === 'message' ? attested.get(r.seq) : undefined;
    if (latest) return current === latest.hash;
    if (current === r.contentHash) return true;
    // An edit event of a deleted message has its text erased with the message's (its contentHash stays).
    const target = targetOf(r);
    return r.type === 'message.edited' && r.body === '' && target !== null && deleted.has(target);
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

/** Every room (server admins): how many were walked, and the broken ones. Rooms are walked one at a time. */
export async function verifyAllRooms(store: ChainStore): Promise<ChainSummary> {
  const broken: ChainSummary['broken'] = [];
  let rooms = 0;
  let after = '';
  for (;;) {
    const ids = await store.listRoomIds(after, VERIFY_PAGE);
    for (const roomId of ids) {
      const r = await verifyRoomChain(store, roomId);
      if (!r) continue;
      rooms++;
      if (r.firstBroken) {
        broken.push({ roomId, lastSeq: r.lastSeq, chainFrom: r.chainFrom, firstBroken: r.firstBroken });
      }
    }
    if (ids.length < VERIFY_PAGE) break;
    after = ids[ids.length - 1]!;
  }
  return { ok: broken.length === 0, rooms, broken };
}

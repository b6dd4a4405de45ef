/**
 * History integrity (issue 18): the canonical encoding of a room event, shared by the server (which hashes events as
 * it appends them and verifies stored rooms) and the SDK (which verifies what it receives). docs/protocol.md
 * "History integrity" is the specification; this is its one implementation. Hashing itself is left to the caller
 * (node:crypto on the server, WebCrypto in the SDK), so this module stays free of platform APIs.
 *
 *   contentHash = SHA-256( canonical({ body, data }) )                    the event's content as appended
 *   hash        = SHA-256( prevHash ‖ "\n" ‖ canonical(header) )          the link; header holds contentHash
 */

/** The prevHash of a room's first hashed event: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The version of the encoding, inside every header: a future encoding changes it. */
export const CHAIN_VERSION = 1;

/**
 * Events that change another event's stored content (their `data.seq`): each records, as `targetHash`, the content
 * hash of that event as it stands after the change. A message is the only kind of event changed after it is stored.
 */
export const MUTATING_EVENT_TYPES: readonly string[] = ['message.edited', 'message.deleted', 'message.preview'];

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, strings and numbers as JSON.stringify
 * writes them (RFC 8785 for the values a chat event holds). Keys whose value is undefined are left out and undefined
 * array items are null, exactly like JSON.stringify, so an object hashes the same before it is stored and after it
 * is read back.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return value === undefined ? 'null' : (JSON.stringify(value) ?? 'null');
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined && typeof o[k] !== 'function')
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/**
 * The content of an event as hashed: its body and its stored data. A message's `data.quote` is left out: it is a
 * display copy of the message it replies to (named by `data.replyTo`, which is hashed), blanked when that message is
 * deleted. Attachments are part of the stored data (a client puts `attachments` back into `data` to hash it).
 */
export function canonicalContent(type: string, body: string | null, data: Record<string, unknown> | null): string {
  let d = data;
  if (type === 'message' && d && 'quote' in d) {
    const { quote: _quote, ...rest } = d;
    d = rest;
  }
  return canonicalJson({ body: body ?? null, data: d ?? null });
}

/** The fields of an event that its link hash covers, besides its content (through contentHash). */
export interface ChainHeader {
  roomId: string;
  seq: number;
  id: string;
  type: string;
  senderId: string;
  clientMsgId: string | null;
  /** ISO 8601 with milliseconds, as on the wire. */
  createdAt: string;
}

/** The text whose SHA-256 is an event's `hash`. */
export function canonicalLink(
  prevHash: string,
  header: ChainHeader,
  contentHash: string,
  targetHash: string | null,
): string {
  return `${prevHash}\n${canonicalJson({
    v: CHAIN_VERSION,
    roomId: header.roomId,
    seq: header.seq,
    id: header.id,
    type: header.type,
    senderId: header.senderId,
    clientMsgId: header.clientMsgId ?? null,
    createdAt: header.createdAt,
    contentHash,
    targetHash: targetHash ?? null,
  })}`;
}

/** A lower-case hex SHA-256 digest, as hashes are written everywhere. */
export const HASH_PATTERN = /^[0-9a-f]{64}$/;

// ---- verification reports (GET /api/v1/rooms/:roomId/verify, chat admin verify) ----

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
  /** Every problem found, by seq, at most 100 (VERIFY_PROBLEMS_MAX). */
  problems: ChainProblem[];
}

/** GET /api/v1/admin/verify: how many rooms were walked, and each broken one with its first broken link. */
export interface ChainSummary {
  ok: boolean;
  rooms: number;
  broken: { roomId: string; lastSeq: number; chainFrom: number; firstBroken: ChainProblem }[];
}

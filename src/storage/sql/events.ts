import type { RoomEvent, RoomEventType } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import { chainEvent } from '../../core/chain.js';
import { GENESIS_HASH } from '../../protocol/chain.js';
import { newId } from '../../core/ids.js';
import type { EventKinds, EventStore, NewMessage } from '../../core/store.js';
import { query, read, type Operations, type Recipe } from './recipe.js';
import { fileInfoOf } from './files.js';
import { iso, toEvent, type Row } from './rows.js';
import { indexMessages } from './search.js';

/** The named queries of the room sequence and its events. */
export interface EventQueries {
  /**
   * Advances the room's sequence by one (and its member count by `memberDelta`, its activity time to `now`) and
   * returns the new last_seq, or null for an unknown room. On PostgreSQL this takes the room row's lock until the
   * transaction ends: every writer of a room is serialized from here to its commit.
   */
  roomNextSeq(a: { roomId: string; now: number; memberDelta: number }): SeqRow | null;
  /**
   * Inserts events (with `data` as JSON, and their hashes); returns how many. The room's head hash becomes the hash
   * of its highest-seq event among them (they are the room's newest: their seqs were just taken).
   */
  eventsInsert(a: { events: readonly RoomEvent[]; now: number }): number;
  /** Like eventsInsert, but skips an event whose (sender_id, client_msg_id) is stored already. */
  messagesInsertNew(a: { events: readonly RoomEvent[]; now: number }): number;
  eventBySeq(a: { roomId: string; seq: number }): Row | undefined;
  eventByClientMsgId(a: { senderId: string; clientMsgId: string }): Row | undefined;
  /** The stored events of these (sender, clientMsgId) keys. */
  eventsByClientMsgIds(a: { keys: readonly { senderId: string; clientMsgId: string }[] }): Row[];
  /** Reads (and on PostgreSQL locks, in id order, until the transaction ends) the rooms' last_seq and head hash. */
  roomsLockSeqs(a: { roomIds: readonly string[] }): { id: string; last_seq: number; head_hash: string | null }[];
  /** Advances each room's last_seq by `n` and sets its head hash (activity time to `now`); returns the new last_seqs. */
  roomsAdvanceSeqs(a: { bumps: readonly { id: string; n: number; head: string }[]; now: number }): {
    id: string;
    last_seq: number;
  }[];
  /** Ascending, `seq` exclusive. */
  eventsAfter(a: { roomId: string; seq: number; limit: number }): Row[];
  /** Descending (newest first), `seq` exclusive. */
  eventsBefore(a: { roomId: string; seq: number; limit: number }): Row[];
  messagesAfter(a: { roomId: string; seq: number; limit: number }): Row[];
  messagesBefore(a: { roomId: string; seq: number; limit: number }): Row[];
  membershipAfter(a: { roomId: string; seq: number; limit: number }): Row[];
  membershipBefore(a: { roomId: string; seq: number; limit: number }): Row[];
}

// ---- the append-event step: every event-producing recipe ends with it ----

/** The room row after its seq was taken: the new last_seq and the head hash before it (NULL: none yet). */
export type SeqRow = { last_seq: number; head_hash: string | null };

/** A place in a room's sequence: the seq taken, and the hash of the event before it (the chain's head). */
export interface Slot {
  seq: number;
  prevHash: string;
}

export const slotOf = (r: SeqRow | null): Slot | null =>
  r ? { seq: Number(r.last_seq), prevHash: r.head_hash ?? GENESIS_HASH } : null;

/**
 * Takes the room's next seq (see roomNextSeq: the room lock on PostgreSQL), with the room's head hash read from the
 * same row. Recipes take it before touching members, invites or bans, so every writer locks the room first and
 * writers never deadlock; a no-op found afterwards throws a Rollback, which returns the seq with the rest.
 */
export function* nextSeq(roomId: string, now: number, memberDelta = 0): Recipe<Slot | null> {
  return slotOf(yield* query('roomNextSeq', { roomId, now, memberDelta }));
}

/**
 * Appends a non-message event at `slot` (from nextSeq) and returns it, hashed onto the room's chain. `targetHash`:
 * for an event that changed a message, the message's content hash after the change.
 */
export function* insertEvent(
  roomId: string,
  slot: Slot,
  now: number,
  type: RoomEventType,
  senderId: string,
  data: Record<string, unknown>,
  targetHash: string | null = null,
): Recipe<RoomEvent> {
  const event: RoomEvent = {
    id: newId('e'),
    roomId,
    seq: slot.seq,
    type,
    senderId,
    body: null,
    clientMsgId: null,
    data,
    createdAt: iso(now),
  };
  chainEvent(event, slot.prevHash, targetHash);
  yield* query('eventsInsert', { events: [event], now });
  return event;
}

// ---- message group commit ----

export type AppendResult = { event: RoomEvent; duplicate: boolean };
export type Outcome = { ok: true; value: AppendResult } | { ok: false; error: unknown };

/** An appendMessage call waiting for its batch. */
export interface Pending {
  message: NewMessage;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/** Settles every call of a committed (and, where the engine requires it, synced) batch with its outcome. */
export function settle(batch: readonly Pending[], outcomes: readonly Outcome[]): void {
  batch.forEach((p, i) => {
    const o = outcomes[i];
    if (!o) p.reject(new ChatError('internal'));
    else if (o.ok) p.resolve(o.value);
    else p.reject(o.error);
  });
}

/** Another writer stored one of the batch's idempotency keys after our lookup: redo the batch from scratch. */
export class IdempotencyRace extends Error {
  constructor() {
    super('idempotency key stored concurrently by another writer');
  }
}

/**
 * One group-commit transaction, for any number of messages:
 * 1. look up the batch's idempotency keys (one query);
 * 2. read (on PostgreSQL: lock, in id order) the rooms it writes to, with their last_seq;
 * 3. decide each message in submission order: duplicate, key reused in another room, unknown room, or new
 *    with the room's next seq (keys repeated within the batch resolve to their first occurrence);
 * 4. advance each room's last_seq by its count of new messages;
 * 5. insert the new events in one statement. If another writer committed one of our keys after step 1, the
 *    unique index makes the insert skip that row: the seqs already assigned would then leave a gap, so this throws
 *    IdempotencyRace, the transaction rolls back (seqs included), and the engine runs the batch again, where step 1
 *    sees that key. (SQLite has one writer, so there it cannot happen.)
 */
export function* appendMessages(messages: readonly NewMessage[], now: number): Recipe<Outcome[]> {
  const keyOf = (senderId: string, clientMsgId: string) => `${senderId}\u0000${clientMsgId}`;

  const keys = new Map<string, { senderId: string; clientMsgId: string }>();
  for (const m of messages) keys.set(keyOf(m.senderId, m.clientMsgId), m);
  const stored = new Map<string, RoomEvent>();
  for (const r of yield* query('eventsByClientMsgIds', { keys: [...keys.values()] })) {
    const e = toEvent(r);
    stored.set(keyOf(e.senderId, e.clientMsgId ?? ''), e);
  }

  const roomIds = [
    ...new Set(messages.filter((m) => !stored.has(keyOf(m.senderId, m.clientMsgId))).map((m) => m.roomId)),
  ].sort();
  // Attached files still there (on PostgreSQL locked against deletion until commit): checked before any seq is given.
  const fileIds = [
    ...new Set(
      messages.flatMap((m) =>
        m.attachments && !stored.has(keyOf(m.senderId, m.clientMsgId)) ? m.attachments.map((f) => f.id) : [],
      ),
    ),
  ].sort();
  const filesThere = new Set<string>();
  if (fileIds.length > 0) {
    for (const r of yield* query('filesLockForAttach', { ids: fileIds })) filesThere.add(r.id as string);
  }
  const lastSeq = new Map<string, number>();
  // Each room's chain head, advanced as its new messages are hashed in seq order.
  const heads = new Map<string, string>();
  if (roomIds.length > 0) {
    for (const r of yield* query('roomsLockSeqs', { roomIds })) {
      lastSeq.set(r.id, Number(r.last_seq));
      heads.set(r.id, r.head_hash ?? GENESIS_HASH);
    }
  }

  const next = new Map(lastSeq);
  const fresh = new Map<string, RoomEvent>();
  const created: RoomEvent[] = [];
  const mentionRows: { userId: string; roomId: string; seq: number }[] = [];
  const attachmentRows: { roomId: string; seq: number; fileId: string; position: number }[] = [];
  const outcomes = messages.map((m): Outcome => {
    const key = keyOf(m.senderId, m.clientMsgId);
    const earlier = stored.get(key) ?? fresh.get(key);
    if (earlier) {
      return earlier.roomId === m.roomId
        ? { ok: true, value: { event: earlier, duplicate: true } }
        : { ok: false, error: new ChatError('client_msg_id_reused') };
    }
    const last = next.get(m.roomId);
    if (last === undefined) return { ok: false, error: new ChatError('room_not_found') };
    if (m.attachments?.some((f) => !filesThere.has(f.id))) {
      return { ok: false, error: new ChatError('attachment_not_found') };
    }
    const event: RoomEvent = {
      id: m.id,
      roomId: m.roomId,
      seq: last + 1,
      type: 'message',
      senderId: m.senderId,
      body: m.body,
      clientMsgId: m.clientMsgId,
      data: m.data ?? null,
      createdAt: iso(now),
    };
    next.set(m.roomId, last + 1);
    let asStored = event;
    if (m.attachments && m.attachments.length > 0) {
      // Stored inside data (see liftAttachments), answered beside it; hashed as stored.
      asStored = { ...event, data: { ...m.data, attachments: m.attachments.map(fileInfoOf) } };
    }
    heads.set(m.roomId, chainEvent(asStored, heads.get(m.roomId) ?? GENESIS_HASH, null, event));
    for (const userId of m.mentionTargets ?? []) mentionRows.push({ userId, roomId: m.roomId, seq: event.seq });
    created.push(asStored);
    if (asStored !== event) {
      m.attachments?.forEach((f, position) =>
        attachmentRows.push({ roomId: m.roomId, seq: event.seq, fileId: f.id, position }),
      );
      event.attachments = asStored.data?.attachments as RoomEvent['attachments'];
    }
    fresh.set(key, event);
    return { ok: true, value: { event, duplicate: false } };
  });
  if (created.length === 0) return outcomes;

  const bumps = [...next]
    .filter(([id, seq]) => seq !== lastSeq.get(id))
    .map(([id, seq]) => ({
      id,
      n: seq - (lastSeq.get(id) ?? 0),
      head: heads.get(id) ?? GENESIS_HASH,
    }));
  const updated = yield* query('roomsAdvanceSeqs', { bumps, now });
  // Nothing can have moved the rooms under us; checked anyway, as a gap or reuse would be silent.
  if (updated.length !== bumps.length || updated.some((r) => r.last_seq !== next.get(r.id))) {
    throw new Error('room sequence changed under its lock');
  }
  if ((yield* query('messagesInsertNew', { events: created, now })) !== created.length) throw new IdempotencyRace();
  // Mentions are durable with their message (same transaction); a batch of plain messages issues no query here.
  if (mentionRows.length > 0) yield* query('mentionsInsert', { rows: mentionRows, now });
  if (attachmentRows.length > 0) yield* query('attachmentsInsert', { rows: attachmentRows });
  // Searchable from the moment it is stored: the index entries are in the same transaction.
  yield* indexMessages(created, now);
  return outcomes;
}

// ---- reads ----

/** EventStore's reads, written once (appendMessage is each engine's group commit around appendMessages). */
export const events = {
  findMessageByClientMsgId: read(function* (_now, senderId: string, clientMsgId: string) {
    const r = yield* query('eventByClientMsgId', { senderId, clientMsgId });
    return r ? toEvent(r) : null;
  }),

  listEvents: read(function* (
    _now,
    roomId: string,
    q: { after?: number; before?: number; limit: number; kinds?: EventKinds },
  ) {
    const prefix = q.kinds ?? 'events';
    if (q.after !== undefined) {
      const args = { roomId, seq: q.after, limit: q.limit };
      return (yield* query(`${prefix}After`, args)).map(toEvent);
    }
    const args = { roomId, seq: q.before ?? Number.MAX_SAFE_INTEGER, limit: q.limit };
    return (yield* query(`${prefix}Before`, args)).reverse().map(toEvent);
  }),
} satisfies Operations<Omit<EventStore, 'appendMessage'>>;

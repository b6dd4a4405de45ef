import type { Report, ReportResolution, RoomEvent } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import { newId } from '../../core/ids.js';
import type { MentionUpdate, ModerationStore, NewAuditEntry, NewReport } from '../../core/store.js';
import { insertEvent, nextSeq } from './events.js';
import { chainEvent, contentHashOf } from '../../core/chain.js';
import { replaceMentions } from './mentions.js';
import { query, read, Rollback, transaction, write, type Operations } from './recipe.js';
import { iso, toAudit, toEdit, toEvent, toPublic, toReport, toRoomBan, type Row } from './rows.js';
import { searchRowOf } from './search.js';

export interface ReportQuery {
  status?: Report['status'];
  roomIds?: readonly string[];
  limit: number;
  before?: string;
}

export interface AuditQuery {
  roomId?: string;
  limit: number;
  before?: string;
}

/** The named queries of moderation state. Counts are rows changed. */
export interface ModerationQueries {
  memberMute(a: { roomId: string; userId: string; until: number }): number;
  /** Clears a mute that is set. */
  memberUnmute(a: { roomId: string; userId: string }): number;
  /** Checks the room exists; on PostgreSQL also locks its row (without taking a seq) until the transaction ends. */
  roomLock(a: { roomId: string }): boolean;
  /** Records or replaces a room ban. */
  banUpsert(a: { roomId: string; userId: string; until: number; reason: string; actorId: string; now: number }): number;
  banDelete(a: { roomId: string; userId: string }): number;
  banGet(a: { roomId: string; userId: string }): Row | undefined;
  /** Newest first. */
  bansOf(a: { roomId: string }): Row[];
  /**
   * Redacts the message at `seq` (body '', data `{deleted: true, deletedBy: actorId}`) unless it is not a message
   * or deleted already; the row's `id`, or undefined when nothing was redacted.
   */
  /** Erases a message's text and data (keeping its place in a thread); the row as it is now. */
  messageRedact(a: { roomId: string; seq: number; actorId: string }): Row | undefined;
  /** Blanks the bodies of the `message.edited` events of the message at `seq` (by its recorded edits). */
  editEventsRedact(a: { roomId: string; seq: number }): number;
  /** Drops the message's edit history. */
  editsDelete(a: { roomId: string; seq: number }): number;
  /** Sets the message's body and `data.editedAt` (ISO), keeping its other data. */
  messageRewrite(a: { roomId: string; seq: number; body: string; editedAt: string }): number;
  editInsert(a: {
    roomId: string;
    seq: number;
    editSeq: number;
    editorId: string;
    previousBody: string;
    body: string;
    now: number;
  }): number;
  /** Oldest first. */
  editsOf(a: { roomId: string; seq: number }): Row[];
  /** Records a join request unless one is pending. */
  joinRequestInsert(a: { roomId: string; userId: string; now: number }): number;
  /** User rows with `requested_at`, oldest first. */
  joinRequestsOf(a: { roomId: string }): Row[];
  joinRequestExists(a: { roomId: string; userId: string }): boolean;
  /** Inserts an open report; the new row. */
  reportInsert(a: NewReport & { now: number }): Row;
  reportById(a: { id: string }): Row | undefined;
  /** Newest first by (created_at, id); `before` is the previous page's last id. `roomIds`, if given, is not empty. */
  reportsList(a: ReportQuery): Row[];
  /** Resolves an open report; the updated row, or undefined when none is open with this id. */
  reportResolve(a: { id: string; resolution: ReportResolution; resolvedBy: string; now: number }): Row | undefined;
  /** The new row. */
  auditInsert(a: NewAuditEntry & { now: number }): Row;
  /** Newest first by (created_at, id), like reportsList. */
  auditList(a: AuditQuery): Row[];
}

/**
 * ModerationStore, written once: each operation's recipe and how it runs. Event-producing calls follow the
 * membership pattern of rooms.ts: the room's next seq first (or a plain room lock when whether an event follows is
 * known only later), then members/bans/events, then the event.
 */
export const moderation = {
  muteMember: transaction(function* (now, roomId: string, userId: string, until: number, actorId: string) {
    const seq = yield* nextSeq(roomId, now);
    if (seq === null) return null;
    if (!(yield* query('memberMute', { roomId, userId, until }))) throw new Rollback(null);
    return yield* insertEvent(roomId, seq, now, 'member.muted', actorId, { userId, until: iso(until) });
  }),

  unmuteMember: transaction(function* (now, roomId: string, userId: string, actorId: string) {
    const seq = yield* nextSeq(roomId, now);
    if (seq === null) return null;
    if (!(yield* query('memberUnmute', { roomId, userId }))) throw new Rollback(null);
    return yield* insertEvent(roomId, seq, now, 'member.unmuted', actorId, { userId });
  }),

  banFromRoom: transaction(function* (
    now,
    roomId: string,
    userId: string,
    ban: { until: number; reason: string },
    actorId: string,
  ) {
    // The ban is recorded whether or not an event follows, so the room is locked without taking a seq yet.
    if (!(yield* query('roomLock', { roomId }))) throw new ChatError('room_not_found');
    yield* query('banUpsert', { roomId, userId, until: ban.until, reason: ban.reason, actorId, now });
    yield* query('inviteDelete', { roomId, userId });
    yield* query('joinRequestDelete', { roomId, userId });
    if (!(yield* query('memberDelete', { roomId, userId }))) return null;
    const seq = yield* nextSeq(roomId, now, -1);
    if (seq === null) throw new ChatError('room_not_found');
    return yield* insertEvent(roomId, seq, now, 'member.left', actorId, { userId, reason: 'banned' });
  }),

  unbanFromRoom: write(function* (_now, roomId: string, userId: string) {
    return (yield* query('banDelete', { roomId, userId })) > 0;
  }),

  getRoomBan: read(function* (_now, roomId: string, userId: string) {
    const r = yield* query('banGet', { roomId, userId });
    return r ? toRoomBan(r) : null;
  }),

  listRoomBans: read(function* (_now, roomId: string) {
    return (yield* query('bansOf', { roomId })).map(toRoomBan);
  }),

  getEvent: read(function* (_now, roomId: string, seq: number) {
    const r = yield* query('eventBySeq', { roomId, seq });
    return r ? toEvent(r) : null;
  }),

  deleteMessage: transaction(function* (now, roomId: string, seq: number, actorId: string) {
    const next = yield* nextSeq(roomId, now);
    if (next === null) return null;
    // The row keeps its id and clientMsgId: a retry of the deleted message finds it (redacted), not a new one.
    const redacted = yield* query('messageRedact', { roomId, seq, actorId });
    if (!redacted) throw new Rollback(null);
    // A deleted message's text goes everywhere it was kept: its edit events and its edit history.
    yield* query('editEventsRedact', { roomId, seq });
    yield* query('editsDelete', { roomId, seq });
    // …and the quotes of the replies to it (the replies stay, like Slack's thread under a deleted root).
    yield* query('quotesRedact', { roomId, seq });
    // Nor does a deleted message stay pinned (its message.deleted says so; no message.unpinned follows).
    yield* query('pinDelete', { roomId, seq });
    yield* query('reactionsDeleteOf', { roomId, seq });
    // A deleted message mentions nobody: out of the inbox and the unread-mention counts.
    yield* query('mentionsDeleteOf', { roomId, seq });
    // Its files are no longer readable through it (their uploader keeps them until collected).
    yield* query('attachmentsDeleteOf', { roomId, seq });
    // …nor is it found by search any more.
    yield* query('searchIndexDelete', { roomId, seq });
    // The delete records the erased message's content hash: erasing is part of the chain, the contentHash the
    // message row keeps is the proof of what was there.
    const erased = toEvent(redacted);
    const stored = erased.attachments ? { ...erased.data, attachments: erased.attachments } : erased.data;
    return yield* insertEvent(
      roomId,
      next,
      now,
      'message.deleted',
      actorId,
      { seq, messageId: redacted.id as string },
      contentHashOf('message', erased.body, stored),
    );
  }),

  editMessage: transaction(function* (
    now,
    roomId: string,
    seq: number,
    editorId: string,
    body: string,
    mentions?: MentionUpdate,
  ) {
    // The room lock first, like every writer: the message cannot be deleted or edited by another call meanwhile.
    const next = yield* nextSeq(roomId, now);
    if (next === null) throw new ChatError('room_not_found');
    const row = yield* query('eventBySeq', { roomId, seq });
    const message = row ? toEvent(row) : null;
    if (!message || message.type !== 'message') throw new ChatError('not_found');
    if (message.data?.deleted) throw new ChatError('message_deleted');
    if (message.senderId !== editorId) throw new ChatError('forbidden');
    // Idempotent by content: the retry of an edit that landed finds its body stored and writes nothing.
    if (message.body === body) throw new Rollback({ message, event: null, mentioned: [] as string[] });
    const editedAt = iso(now);
    yield* query('editInsert', {
      roomId,
      seq,
      editSeq: next.seq,
      editorId,
      previousBody: message.body ?? '',
      body,
      now,
    });
    yield* query('messageRewrite', { roomId, seq, body, editedAt });
    // Search finds the new text only, from this commit on.
    yield* query('searchIndexUpdate', { row: searchRowOf({ ...message, body }, now) });
    let data: Record<string, unknown> = { ...message.data, editedAt };
    let mentioned: string[] = [];
    if (mentions) {
      const { mentions: _m, mentionAll: _a, ...rest } = data;
      data = { ...rest, ...mentions.data };
      // The stored data keeps the attachments (toEvent lifted them out of it).
      const stored = message.attachments ? { ...data, attachments: message.attachments } : data;
      yield* query('messageDataSet', { roomId, seq, data: stored });
      mentioned = yield* replaceMentions(roomId, seq, mentions.targets, mentions.keepExisting, now);
    }
    // The edit records the message's content hash as it now stands (read back: each engine writes editedAt itself).
    const after = yield* query('eventBySeq', { roomId, seq });
    if (!after) throw new Error(`message ${roomId}/${seq} vanished during its edit`);
    const afterData = typeof after.data === 'string' ? (JSON.parse(after.data) as Record<string, unknown>) : after.data;
    const targetHash = contentHashOf('message', after.body as string, (afterData as Record<string, unknown>) ?? null);
    const event: RoomEvent = {
      id: newId('e'),
      roomId,
      seq: next.seq,
      type: 'message.edited',
      senderId: editorId,
      body,
      clientMsgId: null,
      data: { seq, messageId: message.id, editedAt, ...mentions?.data },
      createdAt: editedAt,
    };
    chainEvent(event, next.prevHash, targetHash);
    yield* query('eventsInsert', { events: [event], now });
    return { message: { ...message, body, data }, event, mentioned };
  }),

  listMessageEdits: read(function* (_now, roomId: string, seq: number) {
    return (yield* query('editsOf', { roomId, seq })).map(toEdit);
  }),

  createJoinRequest: transaction(function* (now, roomId: string, userId: string) {
    if (!(yield* query('roomById', { id: roomId }))) throw new ChatError('room_not_found');
    if (!(yield* query('userById', { id: userId }))) throw new ChatError('user_not_found');
    return (yield* query('joinRequestInsert', { roomId, userId, now })) > 0;
  }),

  listJoinRequests: read(function* (_now, roomId: string) {
    return (yield* query('joinRequestsOf', { roomId })).map((r) => ({
      user: toPublic(r),
      createdAt: iso(r.requested_at),
    }));
  }),

  hasJoinRequest: read((_now, roomId: string, userId: string) => query('joinRequestExists', { roomId, userId })),

  deleteJoinRequest: write(function* (_now, roomId: string, userId: string) {
    return (yield* query('joinRequestDelete', { roomId, userId })) > 0;
  }),

  createReport: write(function* (now, report: NewReport) {
    return toReport(yield* query('reportInsert', { ...report, now }));
  }),

  getReport: read(function* (_now, id: string) {
    const r = yield* query('reportById', { id });
    return r ? toReport(r) : null;
  }),

  listReports: read(function* (_now, q: ReportQuery) {
    if (q.roomIds?.length === 0) return [];
    return (yield* query('reportsList', q)).map(toReport);
  }),

  // Concurrent resolvers: the first resolves; the others find no open report.
  resolveReport: write(function* (now, id: string, resolution: ReportResolution, resolvedBy: string) {
    const r = yield* query('reportResolve', { id, resolution, resolvedBy, now });
    return r ? toReport(r) : null;
  }),

  appendAudit: write(function* (now, entry: NewAuditEntry) {
    return toAudit(yield* query('auditInsert', { ...entry, now }));
  }),

  listAudit: read(function* (_now, q: AuditQuery) {
    return (yield* query('auditList', q)).map(toAudit);
  }),
} satisfies Operations<ModerationStore>;

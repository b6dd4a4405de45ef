import { CLOSE_CODES } from '../../protocol/close-codes.js';
import type { MyRoom, RoomEvent } from '../../protocol/model.js';
import { topics, type Bus, type BusMessage } from '../bus.js';
import type { Store } from '../store.js';
import type { Connection, RoomCursor } from './connection.js';
import type { WriteScheduler } from './write-scheduler.js';

export interface HubOptions {
  store: Store;
  bus: Bus;
  /** Writes what the hub queues for connections; the hub drains its per-room queues at the start of each flush. */
  writes: WriteScheduler;
  /** Events per store read while catching a connection up. */
  replayPageSize: number;
  /** A catch-up waits while the connection has more than this many bytes queued. */
  replayLowWaterBytes: number;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** The online count a presence frame carries here (PresenceNotifier.countFor); default: the publisher's. */
  presenceCount?: (m: PresenceMessage) => number;
  /**
   * Told, once per live event per flush (not per recipient), how long ago the event was stored (ms from its
   * `createdAt` to the end of the flush that wrote it to this node's connections). Events read from the store
   * to catch a connection up are not measured: their age is the reader's absence, not delivery.
   */
  onDeliveryLatency?: (ms: number) => void;
}

type PresenceMessage = Extract<BusMessage, { kind: 'presence' }>;

const MAX_SYNC_ROUNDS = 10_000;
const DRAIN_POLL_MS = 5;
const DRAIN_MAX_WAIT_MS = 30_000;
/** A failed catch-up read is retried this often, this many times in all, before the connection is closed. */
const SYNC_RETRY_MS = 1000;
const SYNC_RETRIES = 30;

/**
 * Delivers room traffic from the bus to this node's connections, in sequence order, with no gap and no
 * duplicate. Each connection keeps a cursor per room; a live event is sent only if it is the next one.
 * On a gap (a resume, a dropped bus message, a new membership) the connection reads the missing events
 * from the store, then goes live again. The store, not the bus, is the source of truth.
 */
export class Hub {
  private readonly byRoom = new Map<string, Set<Connection>>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly all = new Set<Connection>();
  private readonly onRoom = (m: BusMessage) => this.handleRoomMessage(m);
  private readonly onUser = (m: BusMessage) => this.handleUserMessage(m);
  private readonly onAll = (m: BusMessage) => this.handleAllMessage(m);
  /** Room events written to connections (one per event per recipient), for metrics. */
  readonly stats = { deliveries: 0 };

  constructor(private readonly opts: HubOptions) {
    opts.bus.subscribe(topics.all, this.onAll);
    opts.writes.addProducer(() => this.flushQueued());
    if (opts.onDeliveryLatency) opts.writes.addAfterWrite(() => this.reportLatency(opts.onDeliveryLatency!));
  }

  /** The scheduler every connection of this hub writes through. */
  get writes(): WriteScheduler {
    return this.opts.writes;
  }

  get connectionCount(): number {
    return this.all.size;
  }

  connectionsOf(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  /**
   * Step 1 of a connection's start, before its rooms are read: from now on it hears about rooms added to its
   * user, so a join that lands while `welcome` is being prepared is not missed.
   */
  register(conn: Connection): void {
    this.all.add(conn);
    let mine = this.byUser.get(conn.userId);
    if (!mine) {
      this.byUser.set(conn.userId, (mine = new Set()));
      this.opts.bus.subscribe(topics.user(conn.userId), this.onUser);
    }
    mine.add(conn);
  }

  /**
   * Step 2, right after `welcome` was sent: for each room, replay after the seq the client gave — never before
   * its current membership began, never past the room's last seq; rooms it did not name start live — then
   * `synced`. Rooms added since `register` follow as `room.added`.
   */
  attach(conn: Connection, rooms: MyRoom[], resume: Record<string, number>): void {
    for (const room of rooms) {
      const asked = resume[room.id] ?? room.lastSeq;
      const from = Math.min(Math.max(asked, room.joinedSeq - 1), room.lastSeq);
      this.addRoom(conn, room.id, from, room.joinedSeq, true);
    }
    conn.attached = true;
    for (const { room, fromSeq } of conn.pendingAdded.splice(0)) this.roomAdded(conn, room, fromSeq);
  }

  private roomAdded(conn: Connection, room: MyRoom, fromSeq: number): void {
    const current = conn.rooms.get(room.id);
    if (current) {
      // A new membership while the old one's member.left is still queued: removing the room on that event
      // would drop the new membership too, so it is re-added right after (see removeRoom).
      if (room.joinedSeq > current.joinedSeq && fromSeq > (current.rejoin?.fromSeq ?? 0)) {
        current.rejoin = { room, fromSeq };
      }
      return;
    }
    conn.send({ type: 'room.added', room });
    this.addRoom(conn, room.id, fromSeq - 1, room.joinedSeq, true);
  }

  detach(conn: Connection): void {
    if (!this.all.delete(conn)) return;
    for (const roomId of conn.rooms.keys()) this.unlinkRoom(conn, roomId);
    conn.rooms.clear();
    const mine = this.byUser.get(conn.userId);
    mine?.delete(conn);
    if (mine?.size === 0) {
      this.byUser.delete(conn.userId);
      this.opts.bus.unsubscribe(topics.user(conn.userId), this.onUser);
    }
  }

  roomsOf(conn: Connection): string[] {
    return [...conn.rooms.keys()];
  }

  /**
   * After the bus may have dropped messages (a Redis reconnect), checks every room with local connections
   * against the store and catches up the connections that are behind. One store read per room (`concurrency` at a
   * time); a sync only where a cursor is behind the room's last seq.
   */
  async resyncAll(concurrency = 8): Promise<void> {
    await forEachLimited([...this.byRoom.keys()], concurrency, async (roomId) => {
      const room = await this.opts.store.getRoom(roomId);
      const conns = this.byRoom.get(roomId);
      if (!room || !conns) return;
      for (const conn of conns) {
        const cursor = conn.rooms.get(roomId);
        if (!cursor) continue;
        // A catch-up in progress may have read before the lost events were committed: one more round.
        if (cursor.syncing) cursor.dirty = true;
        else if (cursor.seq < room.lastSeq) void this.sync(conn, roomId, false);
      }
    });
  }

  /**
   * After the bus may have dropped `room.added` notices (a Redis outage): re-reads the room list of every user with
   * connections here and adds each room a connection lacks, from the start of its membership (`room.added`, then
   * catch-up from the store, then `synced`). Rooms the user lost meanwhile need nothing here: their `member.left`
   * rides the room's sequence, so the room's own catch-up (resyncAll) delivers it and the room is removed.
   * One store read per user, `concurrency` at a time.
   */
  async resyncMemberships(concurrency = 8): Promise<void> {
    await forEachLimited([...this.byUser.keys()], concurrency, async (userId) => {
      if (!this.byUser.has(userId)) return;
      const rooms = await this.opts.store.listRoomsOf(userId);
      for (const conn of this.byUser.get(userId) ?? []) {
        for (const room of rooms) {
          if (conn.rooms.has(room.id)) continue;
          // Mid-hello: attach applies it (and skips it if welcome listed the room already).
          if (conn.attached) this.roomAdded(conn, room, room.joinedSeq);
          else conn.pendingAdded.push({ room, fromSeq: room.joinedSeq });
        }
      }
    });
  }

  /** Users with connections here, with the rooms those connections are in (for presence announcements). */
  localUsers(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const [userId, conns] of this.byUser) {
      const rooms = new Set<string>();
      for (const conn of conns) for (const roomId of conn.rooms.keys()) rooms.add(roomId);
      out.set(userId, rooms);
    }
    return out;
  }

  /**
   * The bus confirmed this node's subscription to a room only now (a network bus subscribes asynchronously):
   * events published before that were not heard, so every local connection of the room reads the store once.
   */
  resyncRoom(roomId: string): void {
    for (const conn of this.byRoom.get(roomId) ?? []) {
      const cursor = conn.rooms.get(roomId);
      if (!cursor) continue;
      if (cursor.syncing) cursor.dirty = true;
      else void this.sync(conn, roomId, false);
    }
  }

  /** Closes every connection (graceful shutdown). */
  closeAll(code: number, reason: string): void {
    for (const conn of [...this.all]) conn.close(code, reason);
  }

  private addRoom(conn: Connection, roomId: string, fromSeq: number, joinedSeq: number, announce: boolean): void {
    if (conn.rooms.has(roomId)) return;
    conn.rooms.set(roomId, { seq: fromSeq, syncing: false, dirty: false, joinedSeq });
    let set = this.byRoom.get(roomId);
    if (!set) {
      this.byRoom.set(roomId, (set = new Set()));
      this.opts.bus.subscribe(topics.room(roomId), this.onRoom);
    }
    set.add(conn);
    // Subscribed first, then read: anything committed after this read arrives live and marks the cursor dirty.
    void this.sync(conn, roomId, announce);
  }

  private unlinkRoom(conn: Connection, roomId: string): void {
    const set = this.byRoom.get(roomId);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) {
      this.byRoom.delete(roomId);
      this.opts.bus.unsubscribe(topics.room(roomId), this.onRoom);
    }
  }

  private removeRoom(conn: Connection, roomId: string, reason: 'left' | 'removed' | 'banned'): void {
    const cursor = conn.rooms.get(roomId);
    if (!cursor) return;
    conn.rooms.delete(roomId);
    this.unlinkRoom(conn, roomId);
    conn.send({ type: 'room.removed', roomId, reason });
    if (cursor.rejoin) this.roomAdded(conn, cursor.rejoin.room, cursor.rejoin.fromSeq);
  }

  /** Sends `event` to `conn` as the next in sequence, with the side effects some events carry. */
  private deliver(conn: Connection, cursor: RoomCursor, event: RoomEvent, frame: string): void {
    cursor.seq = event.seq;
    this.stats.deliveries++;
    conn.sendRaw(frame);
    if (event.type === 'member.left' && event.data?.userId === conn.userId && event.seq > cursor.joinedSeq) {
      const reason = event.data.reason;
      this.removeRoom(conn, event.roomId, reason === 'removed' || reason === 'banned' ? reason : 'left');
    }
  }

  private async waitForDrain(conn: Connection): Promise<void> {
    const deadline = Date.now() + DRAIN_MAX_WAIT_MS;
    while (!conn.closed && conn.bufferedAmount > this.opts.replayLowWaterBytes && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
  }

  /**
   * Catches `conn` up on `roomId` from the store, page by page, then lets live delivery take over. A failed read
   * (the store restarting) is retried every SYNC_RETRY_MS with the cursor kept busy, so live events only mark it
   * dirty meanwhile and the connection survives a short store outage; after SYNC_RETRIES failures in a row the
   * connection is closed (1011) and the client resumes later or elsewhere.
   */
  private async sync(conn: Connection, roomId: string, announce: boolean, failures = 0): Promise<void> {
    const cursor = conn.rooms.get(roomId);
    if (!cursor || (cursor.syncing && failures === 0)) return;
    cursor.syncing = true;
    let retrying = false;
    try {
      for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
        cursor.dirty = false;
        await this.waitForDrain(conn);
        if (conn.closed || conn.rooms.get(roomId) !== cursor) return;
        const page = this.opts.replayPageSize;
        const events = await this.opts.store.listEvents(roomId, { after: cursor.seq, limit: page });
        for (const event of events) {
          if (conn.closed || conn.rooms.get(roomId) !== cursor) return;
          if (event.seq === cursor.seq + 1) this.deliver(conn, cursor, event, JSON.stringify({ type: 'event', event }));
        }
        if (conn.rooms.get(roomId) !== cursor) return;
        if (events.length < page && !cursor.dirty) break;
      }
      cursor.syncing = false;
      if (announce) conn.send({ type: 'synced', roomId, seq: cursor.seq });
    } catch (err) {
      if (conn.closed || conn.rooms.get(roomId) !== cursor) return;
      if (failures + 1 < SYNC_RETRIES) {
        retrying = true;
        if (failures === 0) this.opts.log.warn({ err, roomId, connId: conn.id }, 'catch-up read failed; retrying');
        setTimeout(() => {
          if (!conn.closed && conn.rooms.get(roomId) === cursor) void this.sync(conn, roomId, announce, failures + 1);
          else cursor.syncing = false;
        }, SYNC_RETRY_MS).unref();
        return;
      }
      // Without the store we cannot promise order: drop the connection; the client resumes elsewhere/later.
      this.opts.log.error({ err, roomId, connId: conn.id }, 'catch-up read kept failing; closing connection');
      conn.close(CLOSE_CODES.INTERNAL.code, 'storage unavailable');
    } finally {
      if (!retrying) cursor.syncing = false;
    }
  }

  private handleRoomMessage(m: BusMessage): void {
    switch (m.kind) {
      case 'event':
        return this.fanOutEvent(m.event);
      case 'typing': {
        const set = this.byRoom.get(m.roomId);
        if (!set) return;
        const frame = JSON.stringify({ type: 'typing', roomId: m.roomId, userId: m.userId, username: m.username });
        for (const conn of set) if (conn.userId !== m.userId) conn.sendRaw(frame);
        return;
      }
      case 'presence':
        return this.fanOutPresence(m);
      case 'assistant.stream': {
        const set = this.byRoom.get(m.frame.roomId);
        if (!set) return;
        const frame = JSON.stringify(m.frame);
        for (const conn of set) conn.sendRaw(frame);
        return;
      }
      default:
        this.opts.log.warn({ kind: m.kind }, 'unexpected message on a room topic; dropped');
    }
  }

  /**
   * Who came and went goes to every member connection of a small room, but in a big one only to the connections
   * viewing it; the others get the counts now and then (`counts`), a frame of constant size. So a reconnect storm
   * into the lobby costs each member O(1), not O(N).
   */
  private fanOutPresence(m: PresenceMessage): void {
    const set = this.byRoom.get(m.roomId);
    if (!set) return;
    const { roomId, changes, serverOnline } = m;
    const online = this.opts.presenceCount ? this.opts.presenceCount(m) : m.online;
    const full = JSON.stringify({ type: 'presence', roomId, changes, online, serverOnline });
    if (m.to !== 'viewers') {
      for (const conn of set) conn.sendRaw(full);
      return;
    }
    const counts = m.counts ? JSON.stringify({ type: 'presence', roomId, changes: [], online, serverOnline }) : null;
    for (const conn of set) {
      if (conn.viewing.has(roomId)) conn.sendRaw(full);
      else if (counts) conn.sendRaw(counts);
    }
  }

  /**
   * Live events are not written at once: they are queued per room and drained at the next flush of the
   * WriteScheduler (after the current event-loop turn), so when the server is busy a recipient gets one write
   * carrying every event of the turn (a JSON array frame) instead of one write each. When idle, a turn holds one
   * event and the frame is a plain object.
   */
  private fanOutEvent(event: RoomEvent): void {
    if (!this.byRoom.has(event.roomId)) return;
    let queue = this.queued.get(event.roomId);
    if (!queue) this.queued.set(event.roomId, (queue = []));
    queue.push(event);
    this.opts.writes.request();
  }

  private readonly queued = new Map<string, RoomEvent[]>();
  private readonly encoder = new TextEncoder();
  /** `createdAt` of the live events this flush wrote to at least one connection, for onDeliveryLatency. */
  private readonly written: string[] = [];

  private flushQueued(): void {
    if (this.queued.size === 0) return;
    const rooms = [...this.queued];
    this.queued.clear();
    const measure = this.opts.onDeliveryLatency !== undefined;
    for (const [roomId, events] of rooms) {
      const before = this.stats.deliveries;
      this.deliverBatch(roomId, events);
      // One sample per event, whatever the number of recipients; an event nobody needed (a bus duplicate, a
      // re-publish of a retried send) is not a delivery and is not measured.
      if (measure && this.stats.deliveries > before) for (const e of events) this.written.push(e.createdAt);
    }
  }

  /** Runs after the flush wrote its connections: one clock read for every event of the flush. */
  private reportLatency(observe: (ms: number) => void): void {
    if (this.written.length === 0) return;
    const now = Date.now();
    // Events of one group commit share their createdAt: parse each distinct one once.
    let iso = '';
    let at = 0;
    for (const createdAt of this.written) {
      if (createdAt !== iso) at = Date.parse((iso = createdAt));
      // createdAt is another node's clock in a cluster: a small skew must not produce negative latencies.
      observe(Math.max(0, now - at));
    }
    this.written.length = 0;
  }

  /**
   * The hot path. Each event is serialized once, the batch is encoded once, and per recipient the work is a
   * cursor comparison and one write. Anything unusual (a gap, a recipient mid-sync, a leave in the batch) takes
   * the per-event path, which keeps exact ordering with store catch-up.
   */
  private deliverBatch(roomId: string, events: RoomEvent[]): void {
    const set = this.byRoom.get(roomId);
    if (!set) return;
    if (events.length > 1) events.sort((a, b) => a.seq - b.seq);
    const parts = events.map((event) => JSON.stringify({ type: 'event', event }));
    const first = events[0]!.seq;
    const last = events[events.length - 1]!.seq;
    const simple = last - first + 1 === events.length && !events.some((e) => e.type === 'member.left');
    let batch: Uint8Array | undefined;
    // Deleting the current element while iterating a Set is safe; deliver() may remove a leaving member.
    for (const conn of set) {
      const cursor = conn.rooms.get(roomId);
      if (!cursor) continue;
      if (cursor.syncing) {
        cursor.dirty = true;
      } else if (simple && cursor.seq === first - 1) {
        batch ??= this.encoder.encode(parts.length === 1 ? parts[0]! : `[${parts.join(',')}]`);
        cursor.seq = last;
        this.stats.deliveries += events.length;
        conn.sendRaw(batch);
      } else {
        for (let i = 0; i < events.length && conn.rooms.get(roomId) === cursor; i++) {
          const event = events[i]!;
          if (cursor.syncing) {
            cursor.dirty = true;
            break;
          }
          if (event.seq === cursor.seq + 1) this.deliver(conn, cursor, event, parts[i]!);
          else if (event.seq > cursor.seq + 1) void this.sync(conn, roomId, false);
          // event.seq <= cursor.seq: already delivered (a bus duplicate or a catch-up overlap): dropped.
        }
      }
    }
  }

  private handleUserMessage(m: BusMessage): void {
    if (!('userId' in m)) return;
    const conns = this.byUser.get(m.userId);
    if (!conns) return;
    switch (m.kind) {
      case 'room.added':
        for (const conn of conns) {
          if (conn.attached) this.roomAdded(conn, m.room, m.fromSeq);
          else conn.pendingAdded.push({ room: m.room, fromSeq: m.fromSeq });
        }
        return;
      case 'invite': {
        // Before `welcome` an invite is not sent: the client lists pending invites over HTTP anyway.
        const frame = JSON.stringify({ type: 'invite', roomId: m.roomId, roomName: m.roomName, inviter: m.inviter });
        for (const conn of conns) if (conn.attached) conn.sendRaw(frame);
        return;
      }
      case 'read': {
        const frame = JSON.stringify({ type: 'read', roomId: m.roomId, readSeq: m.readSeq });
        for (const conn of conns) if (conn.attached) conn.sendRaw(frame);
        return;
      }
      case 'notify': {
        const frame = JSON.stringify({ type: 'notify', roomId: m.roomId, level: m.level });
        for (const conn of conns) if (conn.attached) conn.sendRaw(frame);
        return;
      }
      case 'settings': {
        const frame = JSON.stringify({ type: 'settings', settings: m.settings });
        for (const conn of conns) if (conn.attached) conn.sendRaw(frame);
        return;
      }
      case 'block': {
        const frame = JSON.stringify({ type: 'block', blocked: m.blocked, user: m.user, since: m.since });
        for (const conn of conns) if (conn.attached) conn.sendRaw(frame);
        return;
      }
      case 'mention': {
        const frame = JSON.stringify(m.notice);
        for (const conn of conns) if (conn.attached) conn.sendRaw(frame);
        return;
      }
      case 'command': {
        const frame = JSON.stringify(m.frame);
        for (const conn of conns) if (conn.attached) conn.sendRaw(frame);
        return;
      }
      case 'revoke': {
        const ids = new Set(m.sessionIds);
        for (const conn of [...conns]) {
          if (m.disabled) conn.close(CLOSE_CODES.ACCOUNT_DISABLED.code, 'account disabled');
          else if (ids.has(conn.sessionId)) conn.close(CLOSE_CODES.SESSION_REVOKED.code, 'session revoked');
        }
        return;
      }
      default:
        this.opts.log.warn({ kind: m.kind }, 'unexpected message on a user topic; dropped');
    }
  }

  private handleAllMessage(m: BusMessage): void {
    let frame: string;
    if (m.kind === 'announcement') frame = JSON.stringify({ type: 'announcement', announcement: m.announcement });
    else if (m.kind === 'profile') frame = JSON.stringify({ type: 'profile', user: m.user });
    else return;
    for (const conn of this.all) conn.sendRaw(frame);
  }

  close(): void {
    this.opts.bus.unsubscribe(topics.all, this.onAll);
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

import { CLOSE_CODES } from '../../protocol/close-codes.js';
import type { MyRoom, RoomEvent } from '../../protocol/model.js';
import { topics, type Bus, type BusMessage } from '../bus.js';
import type { Store } from '../store.js';
import type { Connection, RoomCursor } from './connection.js';

export interface HubOptions {
  store: Store;
  bus: Bus;
  /** Events per store read while catching a connection up. */
  replayPageSize: number;
  /** A catch-up waits while the connection has more than this many bytes queued. */
  replayLowWaterBytes: number;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const MAX_SYNC_ROUNDS = 10_000;
const DRAIN_POLL_MS = 5;
const DRAIN_MAX_WAIT_MS = 30_000;

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

  constructor(private readonly opts: HubOptions) {
    opts.bus.subscribe(topics.all, this.onAll);
  }

  get connectionCount(): number {
    return this.all.size;
  }

  connectionsOf(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  /**
   * Registers a connection that has just been sent its `welcome`. For each room it resumes after the seq the
   * client gave (or, for rooms it did not name, after the room's current last seq) and sends `synced`.
   */
  attach(conn: Connection, rooms: MyRoom[], resume: Record<string, number>): void {
    this.all.add(conn);
    let mine = this.byUser.get(conn.userId);
    if (!mine) {
      this.byUser.set(conn.userId, (mine = new Set()));
      this.opts.bus.subscribe(topics.user(conn.userId), this.onUser);
    }
    mine.add(conn);
    for (const room of rooms) {
      const from = Math.min(resume[room.id] ?? room.lastSeq, room.lastSeq);
      this.addRoom(conn, room.id, from, true);
    }
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

  /** Closes every connection (graceful shutdown). */
  closeAll(code: number, reason: string): void {
    for (const conn of [...this.all]) conn.close(code, reason);
  }

  private addRoom(conn: Connection, roomId: string, fromSeq: number, announce: boolean): void {
    if (conn.rooms.has(roomId)) return;
    conn.rooms.set(roomId, { seq: fromSeq, syncing: false, dirty: false });
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

  private removeRoom(conn: Connection, roomId: string, reason: 'left' | 'removed'): void {
    if (!conn.rooms.delete(roomId)) return;
    this.unlinkRoom(conn, roomId);
    conn.send({ type: 'room.removed', roomId, reason });
  }

  /** Sends `event` to `conn` as the next in sequence, with the side effects some events carry. */
  private deliver(conn: Connection, cursor: RoomCursor, event: RoomEvent, frame: string): void {
    cursor.seq = event.seq;
    conn.sendRaw(frame);
    if (event.type === 'member.left' && event.data?.userId === conn.userId) {
      this.removeRoom(conn, event.roomId, event.data.reason === 'removed' ? 'removed' : 'left');
    }
  }

  private async waitForDrain(conn: Connection): Promise<void> {
    const deadline = Date.now() + DRAIN_MAX_WAIT_MS;
    while (!conn.closed && conn.bufferedAmount > this.opts.replayLowWaterBytes && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
  }

  /** Catches `conn` up on `roomId` from the store, page by page, then lets live delivery take over. */
  private async sync(conn: Connection, roomId: string, announce: boolean): Promise<void> {
    const cursor = conn.rooms.get(roomId);
    if (!cursor || cursor.syncing) return;
    cursor.syncing = true;
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
      // Without the store we cannot promise order: drop the connection; the client resumes elsewhere/later.
      this.opts.log.error({ err, roomId, connId: conn.id }, 'catch-up read failed; closing connection');
      conn.close(CLOSE_CODES.INTERNAL.code, 'storage unavailable');
    } finally {
      cursor.syncing = false;
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
      case 'presence': {
        const set = this.byRoom.get(m.roomId);
        if (!set) return;
        const { kind: _k, ...rest } = m;
        const frame = JSON.stringify({ type: 'presence', ...rest });
        for (const conn of set) conn.sendRaw(frame);
        return;
      }
      default:
        this.opts.log.warn({ kind: m.kind }, 'unexpected message on a room topic; dropped');
    }
  }

  /** The hot path: one serialization per event, one comparison per recipient, no I/O unless there is a gap. */
  private fanOutEvent(event: RoomEvent): void {
    const set = this.byRoom.get(event.roomId);
    if (!set) return;
    let frame: string | undefined;
    // Deleting the current element while iterating a Set is safe; deliver() may remove a leaving member.
    for (const conn of set) {
      const cursor = conn.rooms.get(event.roomId);
      if (!cursor) continue;
      if (cursor.syncing) {
        cursor.dirty = true;
      } else if (event.seq === cursor.seq + 1) {
        frame ??= JSON.stringify({ type: 'event', event });
        this.deliver(conn, cursor, event, frame);
      } else if (event.seq > cursor.seq + 1) {
        void this.sync(conn, event.roomId, false);
      }
      // event.seq <= cursor.seq: already delivered; a duplicate from the bus is dropped here.
    }
  }

  private handleUserMessage(m: BusMessage): void {
    if (!('userId' in m)) return;
    const conns = this.byUser.get(m.userId);
    if (!conns) return;
    switch (m.kind) {
      case 'room.added':
        for (const conn of conns) {
          if (conn.rooms.has(m.room.id)) continue;
          conn.send({ type: 'room.added', room: m.room });
          this.addRoom(conn, m.room.id, m.fromSeq - 1, true);
        }
        return;
      case 'invite': {
        const frame = JSON.stringify({ type: 'invite', roomId: m.roomId, roomName: m.roomName, inviter: m.inviter });
        for (const conn of conns) conn.sendRaw(frame);
        return;
      }
      case 'revoke': {
        const ids = new Set(m.sessionIds);
        for (const conn of [...conns]) {
          if (ids.has(conn.sessionId)) conn.close(CLOSE_CODES.SESSION_REVOKED.code, 'session revoked');
        }
        return;
      }
      default:
        this.opts.log.warn({ kind: m.kind }, 'unexpected message on a user topic; dropped');
    }
  }

  private handleAllMessage(m: BusMessage): void {
    if (m.kind !== 'announcement') return;
    const frame = JSON.stringify({ type: 'announcement', announcement: m.announcement });
    for (const conn of this.all) conn.sendRaw(frame);
  }

  close(): void {
    this.opts.bus.unsubscribe(topics.all, this.onAll);
  }
}

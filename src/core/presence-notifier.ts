import type { PresenceStatus } from '../protocol/model.js';
import { topics, type Bus, type BusMessage } from './bus.js';
import type { Presence, PresenceChange } from './presence.js';
import type { Store } from './store.js';

export interface PresenceNotifierOptions {
  store: Store;
  bus: Bus;
  presence: Presence;
  /** PRESENCE_FLUSH_MS: changes are gathered this long, then published once per room. */
  flushMs: number;
  /** PRESENCE_FANOUT_MAX_MEMBERS: rooms with more members tell who changed only to connections viewing them. */
  fanoutMaxMembers: number;
  /** PRESENCE_COUNT_INTERVAL_MS: how often a big room's non-viewers get its counts at most. */
  countIntervalMs: number;
  /** A big room's member statuses are read afresh (store + Presence) at least this often. */
  recountMs?: number;
  now?: () => number;
}

export type PresenceMessage = Extract<BusMessage, { kind: 'presence' }>;

/** A big room is read in full at least once a minute: what incremental counting missed is healed by then. */
const DEFAULT_RECOUNT_MS = 60_000;

/** A change seen while a big room is being read: re-applied on top of what the read returns. */
type Seen = { status: PresenceStatus; joined: boolean } | 'left';

/**
 * A big room's members and their status as this node knows them, so its online count costs nothing per window.
 * Kept current from presence frames (this node's and every other node's) and `member.joined` / `member.left`
 * events on the room's topic, and read in full again every recount period.
 */
interface BigRoom {
  status: Map<string, PresenceStatus>;
  online: number;
  /** -Infinity until the first read has finished. */
  loadedAt: number;
  usedAt: number;
  loading?: Promise<void>;
  seenWhileLoading?: Map<string, Seen>;
  /** When this node last sent the room's non-viewers its counts, and which count. */
  countsAt: number;
  countsSent: number;
}

/**
 * Tells rooms about presence changes of their members, coalesced: changes are collected and published at
 * most once per room every `flushMs`, so a reconnect storm costs one frame per room per window instead of
 * one per user per member.
 *
 * Rooms up to `fanoutMaxMembers` members (DMs always) are counted exactly each window and every member connection
 * hears every change. In bigger rooms who changed goes only to connections viewing the room, and the online
 * count to the others at most every `countIntervalMs` (a count held back goes out when the interval is over), so
 * a storm of N users into the lobby costs each member a constant, not N changes. Their count comes from a
 * per-node cache of the members' statuses (BigRoom), not from reading every member each window; each node puts
 * its own count into the frames it delivers (`countFor`), so counts converge however the nodes' frames interleave.
 */
export class PresenceNotifier {
  private readonly pending = new Map<string, Map<string, PresenceStatus>>();
  private readonly big = new Map<string, BigRoom>();
  /** Big rooms whose non-viewers are owed a count, and when it is due. */
  private readonly owed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing = Promise.resolve();
  private owedTimer: { at: number; timer: NodeJS.Timeout } | undefined;
  private readonly recountMs: number;
  private readonly now: () => number;
  private readonly onRoom = (m: BusMessage) => this.observe(m);
  private closed = false;

  constructor(
    private readonly deps: PresenceNotifierOptions,
    private readonly onError: (err: unknown) => void,
  ) {
    this.recountMs = deps.recountMs ?? DEFAULT_RECOUNT_MS;
    this.now = deps.now ?? Date.now;
  }

  /** A connection opened: its user's status after it (announce it with `changed` once its rooms are known). */
  connect(userId: string, connId: string): Promise<PresenceChange> {
    return this.deps.presence.connect(userId, connId);
  }

  /** Distinct users online or away, server-wide (what `welcome` carries). */
  onlineCount(): Promise<number> {
    return this.deps.presence.onlineCount();
  }

  /** A connection set its status (online/away); a change of its user's status is told to its rooms then. */
  async setStatus(
    userId: string,
    connId: string,
    status: 'online' | 'away',
    roomIds: () => Iterable<string>,
  ): Promise<void> {
    const change = await this.deps.presence.setStatus(userId, connId, status);
    if (change.changed) this.changed(userId, change.status, roomIds());
  }

  /** A connection closed; a change of its user's status is told to `roomIds`. */
  async disconnect(userId: string, connId: string, roomIds: Iterable<string>): Promise<void> {
    const change = await this.deps.presence.disconnect(userId, connId);
    if (change.changed) this.changed(userId, change.status, roomIds);
  }

  changed(userId: string, status: PresenceStatus, roomIds: Iterable<string>): void {
    if (this.closed) return;
    for (const roomId of roomIds) {
      let changes = this.pending.get(roomId);
      if (!changes) this.pending.set(roomId, (changes = new Map()));
      changes.set(userId, status);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.pending.size === 0 || this.closed) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      // One flush at a time: a slow one (a big room read in full) is not overtaken by the next window's.
      this.flushing = this.flushing.then(() => this.flush()).catch(this.onError);
    }, this.deps.flushMs);
  }

  async flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    if (batch.length === 0) return;
    const { bus, presence, countIntervalMs } = this.deps;
    const serverOnline = await presence.onlineCount();
    const now = this.now();
    this.evictIdle(now);
    for (const [roomId, changes] of batch) {
      const { online, big } = await this.count(roomId, changes, now);
      const list = [...changes].map(([userId, status]) => ({ userId, status }));
      if (!big) {
        if (list.length > 0) {
          await bus.publish(topics.room(roomId), { kind: 'presence', roomId, changes: list, online, serverOnline });
        }
        continue;
      }
      // Counts for non-viewers: at most every countIntervalMs, and only when they changed.
      const counts = online !== big.countsSent && now - big.countsAt >= countIntervalMs;
      if (counts) {
        big.countsAt = now;
        big.countsSent = online;
        this.owed.delete(roomId);
      } else if (online !== big.countsSent) {
        this.owe(roomId, big.countsAt + countIntervalMs);
      }
      if (list.length === 0 && !counts) continue;
      await bus.publish(topics.room(roomId), {
        kind: 'presence',
        roomId,
        changes: list,
        online,
        serverOnline,
        to: 'viewers',
        counts,
      });
    }
  }

  /**
   * The online count a presence frame carries to this node's connections. A small room's is the publisher's
   * (exact). A big room's is this node's own, after applying the frame's changes: every node sees every frame
   * of the room, so the last frame a client gets carries everything its node has seen.
   */
  countFor(m: PresenceMessage): number {
    if (m.to !== 'viewers' || this.closed) return m.online;
    const now = this.now();
    let big = this.big.get(m.roomId);
    if (!big) {
      big = this.track(m.roomId, now);
      void this.load(m.roomId, big, now);
    }
    for (const c of m.changes) this.apply(big, c.userId, c.status);
    big.usedAt = now;
    if (now - big.loadedAt >= this.recountMs) void this.load(m.roomId, big, now);
    return big.loadedAt > -Infinity ? big.online : m.online;
  }

  /**
   * The room's online count now. Small rooms: read exactly (their members, then their status). Big rooms: from
   * the cache with this window's changes applied, read in full when older than recountMs.
   */
  private async count(
    roomId: string,
    changes: Map<string, PresenceStatus>,
    now: number,
  ): Promise<{ online: number; big?: BigRoom }> {
    let big = this.big.get(roomId);
    if (!big) {
      const ids = await this.deps.store.listMemberIds(roomId);
      if (ids.length <= this.deps.fanoutMaxMembers) {
        return { online: countOnline(await this.deps.presence.statusOf(ids)) };
      }
      // Another flush or an arriving frame may have started caching it meanwhile.
      big = this.big.get(roomId) ?? this.track(roomId, now);
    }
    for (const [userId, status] of changes) this.apply(big, userId, status);
    big.usedAt = now;
    if (now - big.loadedAt >= this.recountMs) await this.load(roomId, big, now);
    // The read found it small again: every member hears this window's changes.
    let current = this.big.get(roomId);
    if (current && current !== big && current.loadedAt === -Infinity) {
      await this.load(roomId, current, now);
      current = this.big.get(roomId);
    }
    if (!current) return { online: big.online };
    return { online: current.online, big: current };
  }

  /** Starts caching a big room: subscribed to its topic first, so nothing is missed between a read and it. */
  private track(roomId: string, now: number): BigRoom {
    const big: BigRoom = {
      status: new Map(),
      online: 0,
      loadedAt: -Infinity,
      usedAt: now,
      countsAt: -Infinity,
      countsSent: -1,
    };
    this.big.set(roomId, big);
    this.deps.bus.subscribe(topics.room(roomId), this.onRoom);
    return big;
  }

  /** Reads the room's members and their status in full; changes seen meanwhile are applied on top. */
  private load(roomId: string, big: BigRoom, now: number): Promise<void> {
    if (big.loading) return big.loading;
    const seen = new Map<string, Seen>();
    big.seenWhileLoading = seen;
    big.loading = (async () => {
      const ids = await this.deps.store.listMemberIds(roomId);
      const status = await this.deps.presence.statusOf(ids);
      if (this.big.get(roomId) !== big) return;
      for (const [userId, s] of seen) {
        if (s === 'left') status.delete(userId);
        else if (s.joined || status.has(userId)) status.set(userId, s.status);
      }
      big.status = status;
      big.online = countOnline(status);
      big.loadedAt = now;
      if (status.size <= this.deps.fanoutMaxMembers) this.forget(roomId);
    })()
      .catch((err: unknown) => {
        // Stays unloaded (or as it was): the next frame or window tries again.
        this.onError(err);
      })
      .finally(() => {
        big.loading = undefined;
        big.seenWhileLoading = undefined;
      });
    return big.loading;
  }

  /** Sets a member's status; `joined` adds one not known yet (others are ignored until the next read). */
  private apply(big: BigRoom, userId: string, status: PresenceStatus, joined = false): void {
    const seen = big.seenWhileLoading;
    if (seen) {
      const prior = seen.get(userId);
      seen.set(userId, { status, joined: joined || (typeof prior === 'object' && prior.joined) });
    }
    const before = big.status.get(userId);
    if (before === undefined && !joined) return;
    big.status.set(userId, status);
    big.online += (status !== 'offline' ? 1 : 0) - (before !== undefined && before !== 'offline' ? 1 : 0);
  }

  /** Traffic on a big room's topic: presence frames of every node (this one's too, applied again harmlessly). */
  private observe(m: BusMessage): void {
    if (m.kind === 'presence') {
      const big = this.big.get(m.roomId);
      if (big) for (const c of m.changes) this.apply(big, c.userId, c.status);
      return;
    }
    if (m.kind !== 'event') return;
    const e = m.event;
    const userId = typeof e.data?.userId === 'string' ? e.data.userId : undefined;
    const big = this.big.get(e.roomId);
    if (!big || !userId) return;
    if (e.type === 'member.left') {
      const before = big.status.get(userId);
      big.seenWhileLoading?.set(userId, 'left');
      if (!big.status.delete(userId)) return;
      if (before !== 'offline') big.online--;
      // Small again: the next window counts it exactly and tells every member.
      if (big.loadedAt > -Infinity && big.status.size <= this.deps.fanoutMaxMembers) this.forget(e.roomId);
    } else if (e.type === 'member.joined' && !big.status.has(userId)) {
      this.apply(big, userId, 'offline', true);
      this.deps.presence
        .statusOf([userId])
        .then((s) => {
          if (this.big.get(e.roomId) === big && big.status.has(userId)) {
            this.apply(big, userId, s.get(userId) ?? 'offline');
          }
        })
        .catch(this.onError);
    }
  }

  private forget(roomId: string): void {
    if (!this.big.delete(roomId)) return;
    this.owed.delete(roomId);
    this.deps.bus.unsubscribe(topics.room(roomId), this.onRoom);
  }

  /** Big rooms with no presence traffic for a recount period: their cache would be read afresh anyway. */
  private evictIdle(now: number): void {
    for (const [roomId, big] of this.big) {
      if (now - big.usedAt > this.recountMs && !this.owed.has(roomId) && !big.loading) this.forget(roomId);
    }
  }

  /** A held-back count is sent when its interval is over, even if nothing changes in the room by then. */
  private owe(roomId: string, at: number): void {
    if (!this.owed.has(roomId)) this.owed.set(roomId, at);
    if (this.owedTimer && this.owedTimer.at <= at) return;
    if (this.owedTimer) clearTimeout(this.owedTimer.timer);
    this.owedTimer = { at, timer: setTimeout(() => this.payOwed(), Math.max(0, at - this.now())) };
  }

  private payOwed(): void {
    this.owedTimer = undefined;
    if (this.closed) return;
    const now = this.now();
    let next = Infinity;
    for (const [roomId, at] of this.owed) {
      if (at > now) {
        next = Math.min(next, at);
        continue;
      }
      this.owed.delete(roomId);
      if (!this.pending.has(roomId)) this.pending.set(roomId, new Map());
    }
    this.schedule();
    if (next < Infinity) this.owedTimer = { at: next, timer: setTimeout(() => this.payOwed(), next - now) };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.owedTimer) clearTimeout(this.owedTimer.timer);
    this.owedTimer = undefined;
    this.pending.clear();
    for (const roomId of [...this.big.keys()]) this.forget(roomId);
  }
}

function countOnline(status: Map<string, PresenceStatus>): number {
  let online = 0;
  for (const s of status.values()) if (s !== 'offline') online++;
  return online;
}

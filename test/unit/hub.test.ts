import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { topics, type BusMessage } from '../../src/core/bus.js';
import { Connection } from '../../src/core/delivery/connection.js';
import { Hub } from '../../src/core/delivery/hub.js';
import { WriteScheduler } from '../../src/core/delivery/write-scheduler.js';
import { InProcessBus } from '../../src/core/in-process-bus.js';
import { CLOSE_CODES } from '../../src/protocol/close-codes.js';
import type { RoomEvent } from '../../src/protocol/model.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The Hub and Connection against a real store and the in-process bus, with transports that record what they are
 * given: the delivery contract at the unit level (order, no gap, no duplicate, exact resume, membership ends, who
 * hears what), fast enough to judge every mutant of src/core/delivery (npm run mutation).
 */

type Frame = Record<string, unknown> & { type: string };

/** A transport that keeps every write, decoded into frames, and what closed it. */
class RecordingTransport {
  readonly writes: (string | Uint8Array)[] = [];
  readonly frames: Frame[] = [];
  bufferedAmount = 0;
  closed: { code: number; reason: string; force: boolean } | undefined;
  send(data: string | Uint8Array): void {
    this.writes.push(data);
    const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
    const parsed = JSON.parse(text) as Frame | Frame[];
    this.frames.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  }
  close(code: number, reason: string, force = false): void {
    this.closed = { code, reason, force };
  }
  /** Room events received for `roomId`, in order. */
  events(roomId: string): RoomEvent[] {
    return this.frames
      .filter((f) => f.type === 'event')
      .map((f) => f.event as RoomEvent)
      .filter((e) => e.roomId === roomId);
  }
  seqs(roomId: string): number[] {
    return this.events(roomId).map((e) => e.seq);
  }
  of(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }
}

/**
 * The in-process bus, telling which topics have subscribers (the hub must not leak subscriptions) and keeping
 * what its handlers threw (a hub handler must not throw).
 */
class WatchedBus extends InProcessBus {
  readonly thrown: unknown[];
  constructor() {
    const thrown: unknown[] = [];
    super({ onHandlerError: (err) => thrown.push(err) });
    this.thrown = thrown;
  }
  subscribed(topic: string): boolean {
    return this.handlers.has(topic);
  }
}

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const user = (id: string) => ({ id, username: id, displayName: id, passwordHash: 'x' });

async function setup(opts: { pageSize?: number; lowWater?: number; maxOutbound?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'relaychat-hub-'));
  dirs.push(dir);
  const store = new SqliteStore({ file: join(dir, 'chat.db') });
  const bus = new WatchedBus();
  const errors: string[] = [];
  const warnings: string[] = [];
  const flushErrors: unknown[] = [];
  const hub = new Hub({
    store,
    bus,
    // What a flush throws is reported here (the server logs it): a hub bug must show, not stall delivery.
    writes: new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8, onError: (err) => flushErrors.push(err) }),
    replayPageSize: opts.pageSize ?? 100,
    replayLowWaterBytes: opts.lowWater ?? 1 << 20,
    log: { warn: (_o, msg) => warnings.push(msg), error: (_o, msg) => errors.push(msg) },
  });
  cleanups.push(async () => {
    hub.close();
    await store.close();
    // No test expects the hub to throw anywhere.
    expect(flushErrors).toEqual([]);
    expect(bus.thrown).toEqual([]);
  });
  for (const id of ['u_owner', 'u_bob', 'u_carol']) await store.createUser(user(id), { adminIfFirst: false });
  const { room } = await store.createRoom({
    id: 'r_main',
    kind: 'public',
    name: 'main',
    topic: '',
    createdBy: 'u_owner',
    members: [
      { userId: 'u_owner', role: 'owner' },
      { userId: 'u_bob', role: 'member' },
    ],
  });
  const { room: side } = await store.createRoom({
    id: 'r_side',
    kind: 'public',
    name: 'side',
    topic: '',
    createdBy: 'u_owner',
    members: [
      { userId: 'u_owner', role: 'owner' },
      { userId: 'u_bob', role: 'member' },
    ],
  });
  let connIds = 0;
  let msgIds = 0;

  /** A connection of `userId`, registered and attached with `resume`; waits until every room is synced. */
  async function connect(userId: string, resume: Record<string, number> = {}, session = 's_1') {
    const t = new RecordingTransport();
    const conn = new Connection(`c_${++connIds}`, userId, userId, session, t, opts.maxOutbound ?? 1 << 20, hub.writes);
    hub.register(conn);
    const rooms = await store.listRoomsOf(userId);
    hub.attach(conn, rooms, resume);
    await waitFor(() => t.of('synced').length >= rooms.length, { what: `synced (${userId})` });
    return { conn, t };
  }

  /** Stores a message; `publish: false` leaves it out of the bus (as a lost bus message). */
  async function post(roomId: string, body: string, publish = true): Promise<RoomEvent> {
    const n = ++msgIds;
    const { event } = await store.appendMessage({
      id: `e_${n}`,
      roomId,
      senderId: 'u_owner',
      clientMsgId: `m_${n}`,
      body,
    });
    if (publish) await bus.publish(topics.room(roomId), { kind: 'event', event });
    return event;
  }

  const publish = (topic: string, m: BusMessage) => bus.publish(topic, m);
  return { store, bus, hub, room, side, errors, warnings, flushErrors, connect, post, publish };
}

/** Waits until `t` has the room's events up to `seq`; returns their seqs. */
async function upTo(t: RecordingTransport, roomId: string, seq: number): Promise<number[]> {
  await waitFor(() => t.seqs(roomId).at(-1) === seq, { what: `seq ${seq} in ${roomId}` });
  return t.seqs(roomId);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('Hub: live delivery', () => {
  it('gives each member connection every event once, in order; non-members get nothing', async () => {
    const h = await setup();
    const owner = await h.connect('u_owner');
    const bob1 = await h.connect('u_bob');
    const bob2 = await h.connect('u_bob', {}, 's_2');
    const carol = await h.connect('u_carol');
    const start = h.room.lastSeq;
    for (let i = 0; i < 5; i++) await h.post(h.room.id, `m${i}`);
    // Several in one turn, published out of order: still delivered in seq order.
    const a = await h.post(h.room.id, 'a', false);
    const b = await h.post(h.room.id, 'b', false);
    await h.publish(topics.room(h.room.id), { kind: 'event', event: b });
    await h.publish(topics.room(h.room.id), { kind: 'event', event: a });
    for (const x of [owner, bob1, bob2])
      expect(await upTo(x.t, h.room.id, start + 7)).toEqual(range(start + 1, start + 7));
    expect(carol.t.events(h.room.id)).toEqual([]);
    expect(h.hub.stats.deliveries).toBe(3 * 7);
  });

  it('drops bus duplicates and fills a gap from the store, in order', async () => {
    const h = await setup();
    const bob = await h.connect('u_bob');
    const first = await h.post(h.room.id, 'one');
    await h.publish(topics.room(h.room.id), { kind: 'event', event: first }); // a duplicate
    await upTo(bob.t, h.room.id, first.seq);
    const listEvents = h.store.listEvents.bind(h.store);
    let reads = 0;
    h.store.listEvents = (id, q) => (reads++, listEvents(id, q));
    await h.publish(topics.room(h.room.id), { kind: 'event', event: first }); // an old one, late
    const marker = await h.post(h.side.id, 'marker');
    await upTo(bob.t, h.side.id, marker.seq);
    expect(reads, 'a duplicate costs no store read').toBe(0);
    await h.post(h.room.id, 'lost on the bus', false);
    await h.post(h.room.id, 'lost too', false);
    // Only this event shows the gap: it alone must get the missing ones read.
    const last = await h.post(h.room.id, 'after the gap');
    const seqs = await upTo(bob.t, h.room.id, last.seq);
    expect(seqs).toEqual(range(first.seq, last.seq));
    expect(bob.t.events(h.room.id).map((e) => e.body)).toEqual(['one', 'lost on the bus', 'lost too', 'after the gap']);
    expect(bob.t.of('synced'), 'a gap read announces nothing').toHaveLength(2);
  });

  it('encodes a batch once: every recipient is handed the same bytes, one write each', async () => {
    const h = await setup();
    const owner = await h.connect('u_owner');
    const bob = await h.connect('u_bob');
    const before = [owner.t.writes.length, bob.t.writes.length];
    const a = await h.post(h.room.id, 'a', false);
    const b = await h.post(h.room.id, 'b', false);
    // Published in one turn, out of order (two publishers): one flush carries both, sorted.
    void h.publish(topics.room(h.room.id), { kind: 'event', event: b });
    void h.publish(topics.room(h.room.id), { kind: 'event', event: a });
    await upTo(owner.t, h.room.id, b.seq);
    await upTo(bob.t, h.room.id, b.seq);
    const ownerWrites = owner.t.writes.slice(before[0]);
    const bobWrites = bob.t.writes.slice(before[1]);
    expect(ownerWrites).toHaveLength(1);
    expect(bobWrites).toHaveLength(1);
    expect(ownerWrites[0]).toBe(bobWrites[0]);
    expect(JSON.parse(new TextDecoder().decode(ownerWrites[0] as Uint8Array))).toEqual([
      { type: 'event', event: a },
      { type: 'event', event: b },
    ]);
    // One event alone is written as a plain frame, not an array of one.
    const c = await h.post(h.room.id, 'c');
    await upTo(bob.t, h.room.id, c.seq);
    expect(JSON.parse(new TextDecoder().decode(bob.t.writes.at(-1) as Uint8Array))).toEqual({
      type: 'event',
      event: c,
    });
  });

  it('typing reaches the other members, presence all of them; neither reaches other rooms', async () => {
    const h = await setup();
    const owner = await h.connect('u_owner');
    const bob = await h.connect('u_bob');
    const carol = await h.connect('u_carol');
    await h.publish(topics.room(h.room.id), { kind: 'typing', roomId: h.room.id, userId: 'u_bob', username: 'u_bob' });
    const presence = { userId: 'u_bob', status: 'online' as const };
    await h.publish(topics.room(h.room.id), {
      kind: 'presence',
      roomId: h.room.id,
      changes: [presence],
      online: 2,
      serverOnline: 3,
    });
    const marker = await h.post(h.room.id, 'marker');
    await upTo(owner.t, h.room.id, marker.seq);
    await upTo(bob.t, h.room.id, marker.seq);
    expect(owner.t.of('typing')).toEqual([{ type: 'typing', roomId: h.room.id, userId: 'u_bob', username: 'u_bob' }]);
    expect(bob.t.of('typing'), 'not to the typist').toEqual([]);
    for (const x of [owner, bob]) {
      expect(x.t.of('presence')).toEqual([
        { type: 'presence', roomId: h.room.id, changes: [presence], online: 2, serverOnline: 3 },
      ]);
    }
    // Carol is in the lobby only: a marker there comes after anything that leaked to her.
    expect(carol.t.of('typing')).toEqual([]);
    expect(carol.t.of('presence')).toEqual([]);
  });

  it('announcements reach every connection; invites only attached ones of the invitee', async () => {
    const h = await setup();
    const owner = await h.connect('u_owner');
    const carol = await h.connect('u_carol');
    const inviter = {
      id: 'u_owner',
      username: 'u_owner',
      displayName: 'u_owner',
      statusText: '',
      role: 'user' as const,
      createdAt: new Date(0).toISOString(),
    };
    // A connection of Carol's that is registered but not yet attached (its welcome is being prepared).
    const early = new RecordingTransport();
    const pending = new Connection('c_early', 'u_carol', 'u_carol', 's_9', early, 1 << 20, h.hub.writes);
    h.hub.register(pending);
    await h.publish(topics.user('u_carol'), {
      kind: 'invite',
      userId: 'u_carol',
      roomId: h.room.id,
      roomName: 'main',
      inviter,
    });
    const announcement = { id: 'a_1', body: 'hello all', from: inviter, createdAt: new Date(0).toISOString() };
    await h.publish(topics.all, { kind: 'announcement', announcement });
    await waitFor(() => owner.t.of('announcement').length === 1 && early.of('announcement').length === 1);
    await waitFor(() => carol.t.of('announcement').length === 1);
    expect(carol.t.of('invite')).toEqual([{ type: 'invite', roomId: h.room.id, roomName: 'main', inviter }]);
    // The invite was before the announcement: anything for the others would be there by now.
    expect(owner.t.of('invite')).toEqual([]);
    expect(early.of('invite'), 'not before attach').toEqual([]);
    expect(owner.t.of('announcement')).toEqual([{ type: 'announcement', announcement }]);
  });
});

describe('Hub: resume and catch-up', () => {
  it('replays after the given seq, page by page, then says synced; rooms not named start live', async () => {
    const h = await setup({ pageSize: 2 });
    const base = h.room.lastSeq;
    for (let i = 0; i < 7; i++) await h.post(h.room.id, `while away ${i}`, false);
    const bob = await h.connect('u_bob', { [h.room.id]: base + 1 });
    expect(bob.t.seqs(h.room.id)).toEqual(range(base + 2, base + 7));
    const synced = bob.t.of('synced');
    expect(synced).toContainEqual({ type: 'synced', roomId: h.room.id, seq: base + 7 });
    expect(synced).toContainEqual({ type: 'synced', roomId: h.side.id, seq: h.side.lastSeq });
    expect(bob.t.events(h.side.id), 'not named: live from now').toEqual([]);
    // Synced comes after the replay.
    const at = bob.t.frames.findIndex((f) => f.type === 'synced' && f.roomId === h.room.id);
    expect(bob.t.frames.slice(at + 1).filter((f) => f.type === 'event')).toEqual([]);
    const live = await h.post(h.room.id, 'live');
    expect(await upTo(bob.t, h.room.id, live.seq)).toEqual(range(base + 2, live.seq));
    expect(h.hub.stats.deliveries, 'replayed and live deliveries are counted').toBe(7);
  });

  it('a catch-up over other members’ leaves and the user’s own mute keeps the room', async () => {
    const h = await setup();
    const base = h.room.lastSeq;
    await h.store.addMember(h.room.id, 'u_carol', 'member', 'u_carol');
    await h.store.removeMember(h.room.id, 'u_carol', 'u_carol', 'left');
    await h.store.muteMember(h.room.id, 'u_bob', Date.now() + 60_000, 'u_owner');
    const last = await h.post(h.room.id, 'still here', false);
    const bob = await h.connect('u_bob', { [h.room.id]: base });
    expect(bob.t.events(h.room.id).map((e) => e.type)).toEqual([
      'member.joined',
      'member.left',
      'member.muted',
      'message',
    ]);
    expect(bob.t.seqs(h.room.id).at(-1)).toBe(last.seq);
    expect(bob.t.of('room.removed')).toEqual([]);
    const live = await h.post(h.room.id, 'live');
    expect((await upTo(bob.t, h.room.id, live.seq)).at(-1)).toBe(live.seq);
  });

  it('never replays before the current membership, nor past the last seq', async () => {
    const h = await setup();
    for (let i = 0; i < 3; i++) await h.post(h.room.id, `before carol ${i}`, false);
    const joined = (await h.store.addMember(h.room.id, 'u_carol', 'member', 'u_carol'))!;
    await h.post(h.room.id, 'after carol joined', false);
    const carol = await h.connect('u_carol', { [h.room.id]: 0 });
    expect(carol.t.seqs(h.room.id)).toEqual([joined.seq, joined.seq + 1]);
    const ahead = await h.connect('u_bob', { [h.room.id]: 10_000, [h.side.id]: h.side.lastSeq - 1 });
    const room = (await h.store.getRoom(h.room.id))!;
    expect(ahead.t.of('synced')).toContainEqual({ type: 'synced', roomId: h.room.id, seq: room.lastSeq });
    expect(ahead.t.seqs(h.side.id)).toEqual([h.side.lastSeq]);
    // Live delivery continues from the room's real last seq.
    const next = await h.post(h.room.id, 'next');
    expect(await upTo(ahead.t, h.room.id, next.seq)).toEqual([next.seq]);
  });

  it('reads again when an event arrives during a catch-up read, then goes live', async () => {
    const h = await setup();
    const base = h.room.lastSeq;
    await h.post(h.room.id, 'missed', false);
    // The first catch-up read answers what the store held when it was asked, but only after a new event was
    // published meanwhile: the hub must notice and read again.
    const listEvents = h.store.listEvents.bind(h.store);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reads = 0;
    h.store.listEvents = async (roomId, query) => {
      const result = await listEvents(roomId, query);
      if (roomId === h.room.id && ++reads === 1) await gate;
      return result;
    };
    const t = new RecordingTransport();
    const conn = new Connection('c_x', 'u_bob', 'u_bob', 's_1', t, 1 << 20, h.hub.writes);
    h.hub.register(conn);
    h.hub.attach(conn, await h.store.listRoomsOf('u_bob'), { [h.room.id]: base });
    await waitFor(() => reads === 1);
    const during = await h.post(h.room.id, 'during the read');
    await new Promise((r) => setImmediate(r)); // the hub's flush for it has run
    release();
    expect(await upTo(t, h.room.id, during.seq)).toEqual([base + 1, during.seq]);
    expect(reads).toBeGreaterThanOrEqual(2);
  });

  it('waits for a backed-up socket to drain before reading the next page', async () => {
    const h = await setup({ pageSize: 1, lowWater: 1000 });
    const base = h.room.lastSeq;
    for (let i = 0; i < 3; i++) await h.post(h.room.id, `missed ${i}`, false);
    const slow = new RecordingTransport();
    slow.bufferedAmount = 5000;
    const conn = new Connection('c_slow', 'u_bob', 'u_bob', 's_1', slow, 1 << 20, h.hub.writes);
    h.hub.register(conn);
    h.hub.attach(conn, await h.store.listRoomsOf('u_bob'), { [h.room.id]: base });
    // A connection attached after it, with an empty buffer, is caught up completely meanwhile.
    const fast = await h.connect('u_owner', { [h.room.id]: base });
    expect(fast.t.seqs(h.room.id)).toEqual(range(base + 1, base + 3));
    expect(slow.seqs(h.room.id), 'nothing read while the buffer is full').toEqual([]);
    slow.bufferedAmount = 0;
    expect(await upTo(slow, h.room.id, base + 3)).toEqual(range(base + 1, base + 3));
  });

  it('a socket that stays backed up, under the cut-off, is still caught up: each page waits at most DRAIN_MAX_WAIT_MS', async () => {
    const h = await setup({ pageSize: 1, lowWater: 1000 });
    const base = h.room.lastSeq;
    for (let i = 0; i < 3; i++) await h.post(h.room.id, `missed ${i}`, false);
    // The wait is 30 s a page; fake the clock (and Date, which the deadline reads) so the test does not sit it out.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const stuck = new RecordingTransport();
      stuck.bufferedAmount = 5000; // above the low-water mark for good, far below the 1 MiB cut-off
      const conn = new Connection('c_stuck', 'u_bob', 'u_bob', 's_1', stuck, 1 << 20, h.hub.writes);
      h.hub.register(conn);
      h.hub.attach(conn, await h.store.listRoomsOf('u_bob'), { [h.room.id]: base });
      const synced = () => stuck.of('synced').some((f) => f.roomId === h.room.id);
      await vi.advanceTimersByTimeAsync(20_000);
      expect(stuck.seqs(h.room.id), 'it waits for the buffer first').toEqual([]);
      // Three pages, each after one wait: bounded well above 3 x 30 s.
      for (let i = 0; i < 30 && !synced(); i++) {
        await vi.advanceTimersByTimeAsync(10_000);
        await new Promise((r) => setImmediate(r));
      }
      expect(stuck.seqs(h.room.id)).toEqual(range(base + 1, base + 3));
      expect(synced(), 'then it goes live').toBe(true);
      expect(stuck.closed, 'a slow reader is not a slow consumer').toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a buffer down to the low-water mark counts as drained: no wait', async () => {
    const h = await setup({ pageSize: 1, lowWater: 1000 });
    const base = h.room.lastSeq;
    for (let i = 0; i < 3; i++) await h.post(h.room.id, `missed ${i}`, false);
    // A fake clock: "no wait" is "done before the clock reaches the drain deadline", however loaded the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const t = new RecordingTransport();
      t.bufferedAmount = 1000;
      const conn = new Connection('c_mark', 'u_bob', 'u_bob', 's_1', t, 1 << 20, h.hub.writes);
      h.hub.register(conn);
      h.hub.attach(conn, await h.store.listRoomsOf('u_bob'), { [h.room.id]: base });
      const synced = () => t.of('synced').some((f) => f.roomId === h.room.id);
      // One fake second at most (the deadline is 30), with real turns of the event loop for the writes.
      for (let i = 0; i < 200 && !synced(); i++) {
        await vi.advanceTimersByTimeAsync(5);
        await new Promise((r) => setImmediate(r));
      }
      expect(t.seqs(h.room.id)).toEqual(range(base + 1, base + 3));
      expect(synced()).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('resyncAll catches up connections behind the store; resyncRoom re-reads one room', async () => {
    const h = await setup();
    const bob = await h.connect('u_bob');
    const lost = await h.post(h.room.id, 'lost', false);
    const lostSide = await h.post(h.side.id, 'lost in side', false);
    await h.hub.resyncAll();
    await upTo(bob.t, h.room.id, lost.seq);
    await upTo(bob.t, h.side.id, lostSide.seq);
    const again = await h.post(h.room.id, 'lost again', false);
    h.hub.resyncRoom(h.room.id);
    expect(await upTo(bob.t, h.room.id, again.seq)).toEqual([lost.seq, again.seq]);
    expect(bob.t.of('synced'), 'resyncs announce nothing').toHaveLength(2);
  });

  it('a catch-up read that keeps failing closes the connection (1011) after the retries: the client resumes elsewhere', async () => {
    const h = await setup();
    const base = h.room.lastSeq;
    await h.post(h.room.id, 'missed', false);
    let reads = 0;
    h.store.listEvents = () => {
      reads++;
      return Promise.reject(new Error('disk on fire'));
    };
    // The retries are a second apart for 30 s (a store restart); fake the clock so the test does not wait for them.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const t = new RecordingTransport();
      const conn = new Connection('c_x', 'u_bob', 'u_bob', 's_1', t, 1 << 20, h.hub.writes);
      h.hub.register(conn);
      h.hub.attach(conn, await h.store.listRoomsOf('u_bob'), { [h.room.id]: base });
      await vi.advanceTimersByTimeAsync(5_000);
      expect(t.closed, 'a short outage does not close the connection').toBeUndefined();
      for (let i = 0; i < 60 && !t.closed; i++) await vi.advanceTimersByTimeAsync(1_000);
      expect(t.closed).toEqual({ code: CLOSE_CODES.INTERNAL.code, reason: 'storage unavailable', force: false });
      expect(reads).toBeGreaterThanOrEqual(30);
      expect(h.errors).toContain('catch-up read kept failing; closing connection');
      expect(t.of('synced').filter((f) => f.roomId === h.room.id)).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Hub: membership', () => {
  it('after its own member.left a connection gets room.removed and nothing more from the room', async () => {
    const h = await setup();
    // Bob first: the connection that leaves is served before the one that stays, in the same flush.
    const bob = await h.connect('u_bob');
    const owner = await h.connect('u_owner');
    const left = (await h.store.removeMember(h.room.id, 'u_bob', 'u_owner', 'removed'))!;
    await h.publish(topics.room(h.room.id), { kind: 'event', event: left });
    const first = await h.post(h.side.id, 'first marker in the other room');
    await upTo(owner.t, h.side.id, first.seq);
    expect(owner.t.seqs(h.room.id).at(-1), 'the owner got the leave live').toBe(left.seq);
    const after = await h.post(h.room.id, 'after bob left');
    const marker = await h.post(h.side.id, 'marker in the other room');
    await upTo(bob.t, h.side.id, marker.seq);
    await upTo(owner.t, h.room.id, after.seq);
    expect(bob.t.seqs(h.room.id).at(-1)).toBe(left.seq);
    const i = bob.t.frames.findIndex((f) => f.type === 'event' && (f.event as RoomEvent).seq === left.seq);
    expect(bob.t.frames[i + 1]).toEqual({ type: 'room.removed', roomId: h.room.id, reason: 'removed' });
    expect(bob.t.of('room.removed')).toHaveLength(1);
    expect(owner.t.of('room.removed'), 'another member’s leave removes nothing').toEqual([]);
    expect(h.hub.roomsOf(bob.conn)).toEqual([h.side.id]);
  });

  it('says why: left, removed or banned', async () => {
    const h = await setup();
    const bob = await h.connect('u_bob');
    const banned = (await h.store.banFromRoom(
      h.room.id,
      'u_bob',
      { until: Date.now() + 60_000, reason: 'x' },
      'u_owner',
    ))!;
    await h.publish(topics.room(h.room.id), { kind: 'event', event: banned });
    const left = (await h.store.removeMember(h.side.id, 'u_bob', 'u_bob', 'left'))!;
    await h.publish(topics.room(h.side.id), { kind: 'event', event: left });
    await waitFor(() => bob.t.of('room.removed').length === 2);
    expect(bob.t.of('room.removed')).toEqual([
      { type: 'room.removed', roomId: h.room.id, reason: 'banned' },
      { type: 'room.removed', roomId: h.side.id, reason: 'left' },
    ]);
  });

  it('a room added to the user arrives live from its join seq; before attach it waits for attach', async () => {
    const h = await setup();
    const carol = await h.connect('u_carol');
    // Two more connections of Carol's, registered while their welcome is being prepared: one welcome was read
    // before she joined, the other after.
    const before = await h.store.listRoomsOf('u_carol');
    const early = new RecordingTransport();
    const late = new RecordingTransport();
    const pending = new Connection('c_early', 'u_carol', 'u_carol', 's_2', early, 1 << 20, h.hub.writes);
    const pending2 = new Connection('c_late', 'u_carol', 'u_carol', 's_3', late, 1 << 20, h.hub.writes);
    h.hub.register(pending);
    h.hub.register(pending2);
    const joined = (await h.store.addMember(h.room.id, 'u_carol', 'member', 'u_owner'))!;
    const after = await h.store.listRoomsOf('u_carol');
    const mine = after.find((r) => r.id === h.room.id)!;
    await h.publish(topics.user('u_carol'), { kind: 'room.added', userId: 'u_carol', room: mine, fromSeq: joined.seq });
    await h.publish(topics.room(h.room.id), { kind: 'event', event: joined });
    await waitFor(() => carol.t.of('synced').some((f) => f.roomId === h.room.id));
    expect(carol.t.of('room.added')).toEqual([{ type: 'room.added', room: mine }]);
    expect(carol.t.seqs(h.room.id)).toEqual([joined.seq]);
    expect(early.frames, 'nothing before attach').toEqual([]);
    h.hub.attach(pending, before, {});
    h.hub.attach(pending2, after, {});
    const synced = (t: RecordingTransport) => t.of('synced').some((f) => f.roomId === h.room.id);
    await waitFor(() => synced(early) && synced(late));
    expect(early.of('room.added')).toEqual([{ type: 'room.added', room: mine }]);
    expect(early.seqs(h.room.id)).toEqual([joined.seq]);
    expect(late.of('room.added'), 'its welcome had the room already').toEqual([]);
    // Live from the join on (the late one's welcome had it: live from its lastSeq, like any room not resumed).
    const next = await h.post(h.room.id, 'welcome carol');
    for (const t of [carol.t, early]) expect(await upTo(t, h.room.id, next.seq)).toEqual([joined.seq, next.seq]);
    expect(await upTo(late, h.room.id, next.seq)).toEqual([next.seq]);

    // The late connection heard of the same membership twice (welcome and room.added): when it ends, the room
    // ends for every connection, and nothing brings it back.
    await h.store.addMember(h.side.id, 'u_carol', 'member', 'u_owner');
    const kicked = (await h.store.removeMember(h.room.id, 'u_carol', 'u_owner', 'removed'))!;
    await h.publish(topics.room(h.room.id), { kind: 'event', event: kicked });
    const afterKick = await h.post(h.room.id, 'after carol was kicked');
    // Carol's connections never subscribed to the side room; the hub reads it for them on room.added.
    const sideRoom = (await h.store.listRoomsOf('u_carol')).find((r) => r.id === h.side.id)!;
    await h.publish(topics.user('u_carol'), {
      kind: 'room.added',
      userId: 'u_carol',
      room: sideRoom,
      fromSeq: sideRoom.joinedSeq,
    });
    const marker = await h.post(h.side.id, 'marker');
    for (const t of [carol.t, early, late]) {
      await upTo(t, h.side.id, marker.seq);
      expect(t.of('room.removed')).toEqual([{ type: 'room.removed', roomId: h.room.id, reason: 'removed' }]);
      expect(t.of('room.added').filter((f) => (f.room as { id: string }).id === h.room.id)).toHaveLength(
        t === late ? 0 : 1,
      );
      expect(t.seqs(h.room.id).at(-1)).toBe(kicked.seq);
      expect(t.seqs(h.room.id)).not.toContain(afterKick.seq);
    }
  });

  it('rejoins announced out of order (two nodes) still end with the newest membership', async () => {
    const h = await setup();
    const bob = await h.connect('u_bob');
    const firstJoin = bob.conn.rooms.get(h.room.id)!.joinedSeq;
    // Within one flush: bob leaves, joins, leaves and joins again; the room.added of the last join arrives first.
    const l1 = (await h.store.removeMember(h.room.id, 'u_bob', 'u_bob', 'left'))!;
    const j2 = (await h.store.addMember(h.room.id, 'u_bob', 'member', 'u_bob'))!;
    const room2 = (await h.store.listRoomsOf('u_bob')).find((r) => r.id === h.room.id)!;
    const l2 = (await h.store.removeMember(h.room.id, 'u_bob', 'u_bob', 'left'))!;
    const j3 = (await h.store.addMember(h.room.id, 'u_bob', 'member', 'u_bob'))!;
    const room3 = (await h.store.listRoomsOf('u_bob')).find((r) => r.id === h.room.id)!;
    expect([room2.joinedSeq, room3.joinedSeq]).toEqual([j2.seq, j3.seq]);
    void h.publish(topics.user('u_bob'), { kind: 'room.added', userId: 'u_bob', room: room3, fromSeq: j3.seq });
    void h.publish(topics.user('u_bob'), { kind: 'room.added', userId: 'u_bob', room: room2, fromSeq: j2.seq });
    for (const event of [l1, j2, l2, j3]) void h.publish(topics.room(h.room.id), { kind: 'event', event });
    await waitFor(() => bob.t.of('synced').filter((f) => f.roomId === h.room.id).length === 2);
    const cursor = bob.conn.rooms.get(h.room.id);
    expect(cursor?.joinedSeq, 'still in the room, from the newest join').toBe(j3.seq);
    expect(firstJoin).toBeLessThan(j3.seq);
    expect(bob.t.of('room.removed')).toHaveLength(1);
    expect(bob.t.of('room.added')).toEqual([{ type: 'room.added', room: room3 }]);
    const next = await h.post(h.room.id, 'bob is back');
    expect((await upTo(bob.t, h.room.id, next.seq)).slice(-3)).toEqual([l1.seq, j3.seq, next.seq]);
  });

  it('detach stops delivery and drops the room and user subscriptions with the last connection', async () => {
    const h = await setup();
    const owner = await h.connect('u_owner');
    const bob1 = await h.connect('u_bob');
    const bob2 = await h.connect('u_bob', {}, 's_2');
    h.hub.detach(bob1.conn);
    h.hub.detach(bob1.conn); // twice is harmless
    expect(h.hub.connectionsOf('u_bob')).toBe(1);
    expect(h.bus.subscribed(topics.user('u_bob'))).toBe(true);
    const m = await h.post(h.side.id, 'to bob2 only');
    await upTo(bob2.t, h.side.id, m.seq);
    expect(bob1.t.events(h.side.id)).toEqual([]);
    h.hub.detach(bob2.conn);
    h.hub.detach(owner.conn);
    expect(h.hub.connectionCount).toBe(0);
    for (const topic of [
      topics.user('u_bob'),
      topics.user('u_owner'),
      topics.room(h.room.id),
      topics.room(h.side.id),
    ]) {
      expect(h.bus.subscribed(topic), topic).toBe(false);
    }
    expect(h.bus.subscribed(topics.all)).toBe(true);
    h.hub.close();
    expect(h.bus.subscribed(topics.all)).toBe(false);
  });
});

/** A store whose next read of `roomId` waits for `release()`; `stale` answers what the store held when asked. */
function gateReads(store: SqliteStore, roomId: string, stale: boolean) {
  const listEvents = store.listEvents.bind(store);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let reads = 0;
  let armed = true;
  store.listEvents = async (id, query) => {
    reads++;
    if (id !== roomId || !armed) return listEvents(id, query);
    armed = false;
    if (stale) {
      const result = await listEvents(id, query);
      await gate;
      return result;
    }
    await gate;
    return listEvents(id, query);
  };
  return { release, reads: () => reads, waiting: () => !armed };
}

describe('Hub: catch-up races', () => {
  for (const how of ['resyncAll', 'resyncRoom'] as const) {
    it(`${how} during a catch-up read makes it read again (the read may predate what the bus lost)`, async () => {
      const h = await setup();
      const base = h.room.lastSeq;
      await h.post(h.room.id, 'missed', false);
      const gate = gateReads(h.store, h.room.id, true);
      const t = new RecordingTransport();
      const conn = new Connection('c_x', 'u_bob', 'u_bob', 's_1', t, 1 << 20, h.hub.writes);
      h.hub.register(conn);
      h.hub.attach(conn, await h.store.listRoomsOf('u_bob'), { [h.room.id]: base });
      await waitFor(() => gate.waiting());
      const lost = await h.post(h.room.id, 'lost by the bus', false);
      if (how === 'resyncAll') await h.hub.resyncAll();
      else h.hub.resyncRoom(h.room.id);
      gate.release();
      expect(await upTo(t, h.room.id, lost.seq)).toEqual([base + 1, lost.seq]);
      expect(t.of('synced').filter((f) => f.roomId === h.room.id)).toEqual([
        { type: 'synced', roomId: h.room.id, seq: lost.seq },
      ]);
    });
  }

  it('resyncs read nothing for connections already caught up, and announce nothing', async () => {
    const h = await setup();
    const bob = await h.connect('u_bob');
    const before = bob.t.frames.length;
    const listEvents = h.store.listEvents.bind(h.store);
    let reads = 0;
    h.store.listEvents = (id, q) => (reads++, listEvents(id, q));
    await h.hub.resyncAll();
    h.hub.resyncRoom('r_nobody_here');
    const marker = await h.post(h.side.id, 'marker');
    await upTo(bob.t, h.side.id, marker.seq);
    expect(reads).toBe(0);
    expect(bob.t.frames.slice(before).map((f) => f.type)).toEqual(['event']);
  });

  // The removal mid-page, at the end of a full page, and as the last event there is.
  for (const [pageSize, more] of [
    [100, 3],
    [2, 3],
    [100, 0],
  ] as const) {
    it(`a user removed while being caught up gets nothing after the removal (page ${pageSize}, ${more} after)`, async () => {
      const h = await setup({ pageSize });
      const base = h.room.lastSeq;
      await h.post(h.room.id, 'missed', false);
      // The catch-up read runs after the kick and what follows it were stored (none of it on the bus).
      const gate = gateReads(h.store, h.room.id, false);
      const t = new RecordingTransport();
      const conn = new Connection('c_x', 'u_bob', 'u_bob', 's_1', t, 1 << 20, h.hub.writes);
      h.hub.register(conn);
      h.hub.attach(conn, await h.store.listRoomsOf('u_bob'), { [h.room.id]: base });
      await waitFor(() => gate.waiting());
      const left = (await h.store.removeMember(h.room.id, 'u_bob', 'u_owner', 'removed'))!;
      for (let i = 0; i < more; i++) await h.post(h.room.id, `after the kick ${i}`, false);
      gate.release();
      const marker = await h.post(h.side.id, 'marker');
      await waitFor(() => t.of('room.removed').length === 1 && t.seqs(h.side.id).includes(marker.seq));
      expect(t.seqs(h.room.id)).toEqual([base + 1, left.seq]);
      expect(
        t.of('synced').filter((f) => f.roomId === h.room.id),
        'no synced for a room it left',
      ).toEqual([]);
      expect(h.hub.roomsOf(conn)).toEqual([h.side.id]);
    });
  }
});

describe('Hub: one connection’s path does not hold up the others in the same flush', () => {
  it('an event for a room whose last local connection left just before the flush', async () => {
    const h = await setup();
    const { room: solo } = await h.store.createRoom({
      id: 'r_solo',
      kind: 'public',
      name: 'solo',
      topic: '',
      createdBy: 'u_owner',
      members: [{ userId: 'u_owner', role: 'owner' }],
    });
    const owner = await h.connect('u_owner');
    const bob = await h.connect('u_bob');
    const inSolo = await h.post(solo.id, 'nobody will hear this', false);
    const inSide = await h.post(h.side.id, 'bob hears this', false);
    // One turn: both queued, then the solo room loses its last connection before the flush.
    void h.publish(topics.room(solo.id), { kind: 'event', event: inSolo });
    void h.publish(topics.room(h.side.id), { kind: 'event', event: inSide });
    h.hub.detach(owner.conn);
    expect(await upTo(bob.t, h.side.id, inSide.seq)).toEqual([inSide.seq]);
  });

  it('a connection that finds a gap, served before one that is up to date', async () => {
    const h = await setup();
    const bob = await h.connect('u_bob');
    const lost = await h.post(h.room.id, 'lost', false);
    const owner = await h.connect('u_owner'); // starts live after the lost one
    const next = await h.post(h.room.id, 'next');
    expect(await upTo(owner.t, h.room.id, next.seq)).toEqual([next.seq]);
    expect(await upTo(bob.t, h.room.id, next.seq)).toEqual([lost.seq, next.seq]);
  });
});

describe('Hub: what it ignores', () => {
  it('messages of the wrong kind for a topic are logged and dropped', async () => {
    const h = await setup();
    const bob = await h.connect('u_bob');
    const inviter = {
      id: 'u_owner',
      username: 'u_owner',
      displayName: 'u_owner',
      statusText: '',
      role: 'user' as const,
      createdAt: new Date(0).toISOString(),
    };
    const invite = { kind: 'invite' as const, userId: 'u_bob', roomId: h.room.id, roomName: 'main', inviter };
    await h.publish(topics.room(h.room.id), invite);
    await h.publish(topics.user('u_bob'), { kind: 'typing', roomId: h.room.id, userId: 'u_bob', username: 'u_bob' });
    await h.publish(topics.all, { kind: 'typing', roomId: h.room.id, userId: 'u_owner', username: 'u_owner' });
    const marker = await h.post(h.room.id, 'marker');
    await upTo(bob.t, h.room.id, marker.seq);
    expect(bob.t.frames.filter((f) => f.type !== 'event' && f.type !== 'synced')).toEqual([]);
    expect(h.warnings).toEqual([
      'unexpected message on a room topic; dropped',
      'unexpected message on a user topic; dropped',
    ]);
  });
});

describe('Hub: session end', () => {
  it('a revoke closes the revoked sessions’ connections (4003), a disabled account every connection (4006)', async () => {
    const h = await setup();
    const s1 = await h.connect('u_bob', {}, 's_1');
    const s2 = await h.connect('u_bob', {}, 's_2');
    const owner = await h.connect('u_owner', {}, 's_1');
    await h.publish(topics.user('u_bob'), { kind: 'revoke', userId: 'u_bob', sessionIds: ['s_1'] });
    expect(s1.t.closed).toEqual({ code: CLOSE_CODES.SESSION_REVOKED.code, reason: 'session revoked', force: false });
    expect(s2.t.closed).toBeUndefined();
    expect(owner.t.closed, 'same session id, other user').toBeUndefined();
    await h.publish(topics.user('u_bob'), { kind: 'revoke', userId: 'u_bob', sessionIds: [], disabled: true });
    expect(s2.t.closed).toEqual({ code: CLOSE_CODES.ACCOUNT_DISABLED.code, reason: 'account disabled', force: false });
    expect(owner.t.closed).toBeUndefined();
  });

  it('closeAll closes every connection with the given code', async () => {
    const h = await setup();
    const a = await h.connect('u_bob');
    const b = await h.connect('u_owner');
    h.hub.closeAll(CLOSE_CODES.GOING_AWAY.code, 'bye');
    expect(a.t.closed).toEqual({ code: CLOSE_CODES.GOING_AWAY.code, reason: 'bye', force: false });
    expect(b.t.closed?.code).toBe(CLOSE_CODES.GOING_AWAY.code);
  });
});

describe('Connection', () => {
  it('queues frames and writes them as one message per flush; a closed connection writes nothing', async () => {
    const writes = new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8 });
    const t = new RecordingTransport();
    const conn = new Connection('c', 'u', 'u', 's', t, 1 << 20, writes);
    conn.send({ type: 'pong', time: 'now' });
    expect(t.writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(t.writes).toEqual(['{"type":"pong","time":"now"}']);
    conn.sendRaw('{"a":1}');
    conn.sendRaw(new TextEncoder().encode('[{"b":2},{"c":3}]'));
    await new Promise((r) => setImmediate(r));
    expect(t.writes).toHaveLength(2);
    expect(t.frames.slice(1)).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    // Closing writes what is queued first, then closes; afterwards nothing is written.
    conn.sendRaw('{"last":true}');
    conn.close(CLOSE_CODES.GOING_AWAY.code, 'bye');
    expect(t.frames.at(-1)).toEqual({ last: true });
    expect(t.closed).toEqual({ code: CLOSE_CODES.GOING_AWAY.code, reason: 'bye', force: false });
    expect([conn.closed, conn.closeCode]).toEqual([true, CLOSE_CODES.GOING_AWAY.code]);
    conn.sendRaw('{"after":true}');
    conn.flush();
    conn.close(CLOSE_CODES.INTERNAL.code, 'again');
    expect(t.frames.at(-1)).toEqual({ last: true });
    expect(t.closed?.code).toBe(CLOSE_CODES.GOING_AWAY.code);
  });

  it('closing with nothing queued writes nothing; a close that finds a slow consumer keeps 4008', () => {
    const writes = new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8 });
    const quiet = new RecordingTransport();
    const idle = new Connection('c', 'u', 'u', 's', quiet, 100, writes);
    idle.close(CLOSE_CODES.GOING_AWAY.code, 'bye');
    expect(quiet.writes).toEqual([]);
    const t = new RecordingTransport();
    const conn = new Connection('c2', 'u', 'u', 's', t, 100, writes);
    t.bufferedAmount = 500;
    conn.sendRaw('{"last":1}');
    conn.close(CLOSE_CODES.GOING_AWAY.code, 'bye'); // the flush on the way out finds the buffer over the limit
    expect(t.closed).toEqual({ code: CLOSE_CODES.SLOW_CONSUMER.code, reason: 'slow consumer', force: true });
    expect(conn.closeCode).toBe(CLOSE_CODES.SLOW_CONSUMER.code);
  });

  it('a peer whose buffer passes the limit is cut off (4008, forced) and written nothing more', async () => {
    const writes = new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8 });
    const t = new RecordingTransport();
    const conn = new Connection('c', 'u', 'u', 's', t, 100, writes);
    t.bufferedAmount = 100;
    conn.sendRaw('{"n":1}');
    conn.flush();
    expect(t.closed, 'at the limit is still fine').toBeUndefined();
    t.bufferedAmount = 101;
    conn.sendRaw('{"n":2}');
    conn.sendRaw('{"n":3}');
    conn.flush();
    expect(t.closed).toEqual({ code: CLOSE_CODES.SLOW_CONSUMER.code, reason: 'slow consumer', force: true });
    expect(conn.closeCode).toBe(CLOSE_CODES.SLOW_CONSUMER.code);
    expect(t.frames).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // A forced close drops what is queued instead of writing it.
    const t2 = new RecordingTransport();
    const conn2 = new Connection('c2', 'u', 'u', 's', t2, 100, writes);
    conn2.sendRaw('{"dropped":true}');
    conn2.close(CLOSE_CODES.SLOW_CONSUMER.code, 'slow consumer', true);
    await new Promise((r) => setImmediate(r));
    expect(t2.writes).toEqual([]);
  });
});

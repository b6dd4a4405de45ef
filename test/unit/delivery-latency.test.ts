import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { topics } from '../../src/core/bus.js';
import { Connection } from '../../src/core/delivery/connection.js';
import { Hub } from '../../src/core/delivery/hub.js';
import { WriteScheduler } from '../../src/core/delivery/write-scheduler.js';
import { InProcessBus } from '../../src/core/in-process-bus.js';
import type { RoomEvent } from '../../src/protocol/model.js';
import { bucketQuantile, DELIVERY_LATENCY_BUCKETS } from '../../src/server/node-stats.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { waitFor } from '../helpers/harness.js';

/** A hub on a real SQLite store with `n` members in one room, each with one connection recording its frames. */
async function hubWithMembers(n: number, writeMs = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'relaychat-latency-'));
  const store = new SqliteStore({ file: join(dir, 'chat.db') });
  const bus = new InProcessBus();
  const samples: number[] = [];
  /** Date.now() of each write to a socket, so a sample can be checked against the writes it measured. */
  const writes: number[] = [];
  const hub = new Hub({
    store,
    bus,
    writes: new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.9 }),
    replayPageSize: 100,
    replayLowWaterBytes: 1 << 20,
    log: { warn: () => {}, error: () => {} },
    onDeliveryLatency: (ms) => samples.push(ms),
  });
  onTestFinished(async () => {
    hub.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ids = Array.from({ length: n }, (_, i) => `u_${i}`);
  for (const id of ids) {
    await store.createUser({ id, username: id, displayName: id, passwordHash: 'x' }, { adminIfFirst: false });
  }
  const { room } = await store.createRoom({
    id: 'r_1',
    kind: 'public',
    name: 'one',
    topic: '',
    createdBy: ids[0]!,
    members: ids.map((userId, i) => ({ userId, role: i === 0 ? ('owner' as const) : ('member' as const) })),
  });
  const frames: Record<string, unknown>[][] = [];
  const attach = async (i: number, resume: Record<string, number> = {}) => {
    const mine: Record<string, unknown>[] = [];
    frames.push(mine);
    const transport = {
      send: (data: string | Uint8Array) => {
        // A slow socket write, so "measured after the writes" differs from "before" by more than the clock's 1 ms.
        const until = Date.now() + writeMs;
        while (Date.now() < until);
        writes.push(Date.now());
        const parsed = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data)) as unknown;
        mine.push(...((Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[]));
      },
      close: () => {},
      bufferedAmount: 0,
    };
    const conn = new Connection(`c_${frames.length}`, ids[i]!, ids[i]!, `s_${i}`, transport, 1 << 20, hub.writes);
    hub.register(conn);
    hub.attach(conn, await store.listRoomsOf(ids[i]!), resume);
    await waitFor(() => mine.some((f) => f.type === 'synced'));
    return mine;
  };
  for (let i = 0; i < n; i++) await attach(i);
  const events = (f: Record<string, unknown>[]) =>
    f.filter((x) => x.type === 'event').map((x) => (x.event as RoomEvent).seq);
  const post = async (body: string, age = 0) => {
    const { event } = await store.appendMessage({
      id: `e_${body}`,
      roomId: room.id,
      senderId: ids[0]!,
      clientMsgId: body,
      body,
    });
    // As if the event had been stored `age` ms ago (a slow commit, a stalled bus): that is what is measured.
    const aged = { ...event, createdAt: new Date(Date.parse(event.createdAt) - age).toISOString() };
    await bus.publish(topics.room(room.id), { kind: 'event', event: aged });
    return aged;
  };
  return { store, bus, hub, room, samples, writes, frames, events, post, attach };
}

describe('delivery latency', () => {
  it('is measured once per live event, not per recipient, from the event’s createdAt to after its writes', async () => {
    const h = await hubWithMembers(5, 3);
    const before = Date.now();
    const ev = await h.post('slow', 1500);
    await waitFor(() => h.frames.every((f) => h.events(f).includes(ev.seq)));
    await waitFor(() => h.samples.length === 1);
    const [ms] = h.samples;
    // 1.5 s old when published, plus the time to write it; measured after the last of the five writes.
    expect(ms).toBeGreaterThanOrEqual(1500);
    expect(ms).toBeLessThanOrEqual(Date.now() - Date.parse(ev.createdAt));
    expect(Date.parse(ev.createdAt) + ms!).toBeGreaterThanOrEqual(Math.max(...h.writes.filter((t) => t >= before)));

    const fresh = await h.post('fresh');
    await waitFor(() => h.samples.length === 2);
    expect(h.samples[1]).toBeLessThan(1500);
    expect(h.frames.every((f) => h.events(f).includes(fresh.seq))).toBe(true);
  });

  it('leaves out bus duplicates and catch-up reads', async () => {
    const h = await hubWithMembers(2);
    const first = await h.post('one');
    await waitFor(() => h.samples.length === 1);
    // The same event again (a bus duplicate, or a retried send published again): nobody needs it.
    await h.bus.publish(topics.room(h.room.id), { kind: 'event', event: first });
    // A late reader catches up from the store: its two events are history, not delivery.
    const second = await h.post('two');
    await waitFor(() => h.samples.length === 2);
    const late = await h.attach(1, { [h.room.id]: 0 });
    expect(h.events(late)).toEqual(expect.arrayContaining([first.seq, second.seq]));
    // A marker after all of that: exactly one more sample, for the marker itself.
    const marker = await h.post('marker');
    await waitFor(() => h.events(late).includes(marker.seq));
    await waitFor(() => h.samples.length >= 3);
    expect(h.samples).toHaveLength(3);
  });
});

describe('bucketQuantile', () => {
  const bounds = [1, 2, 4, 8];
  it('interpolates inside the bucket the way histogram_quantile does', () => {
    // 10 samples in (0,1], 10 in (1,2]: the median is the top of the first bucket, p75 half-way through the second.
    expect(bucketQuantile(0.5, bounds, [10, 10, 0, 0, 0])).toBeCloseTo(1);
    expect(bucketQuantile(0.75, bounds, [10, 10, 0, 0, 0])).toBeCloseTo(1.5);
    expect(bucketQuantile(0.99, bounds, [0, 0, 0, 100, 0])).toBeCloseTo(4 + 4 * 0.99);
    // Empty buckets below are skipped, not interpolated into.
    expect(bucketQuantile(0.01, bounds, [0, 0, 1, 0, 0])).toBeCloseTo(2 + 2 * 0.01);
  });
  it('is null without samples and the highest bound for the +Inf bucket', () => {
    expect(bucketQuantile(0.99, bounds, [0, 0, 0, 0, 0])).toBeNull();
    expect(bucketQuantile(0.99, bounds, [1, 0, 0, 0, 99])).toBe(8);
  });
  it('finds the p99 of a known latency spread within its bucket', () => {
    // 990 deliveries at 1.5 ms, 10 at 300 ms: p50 is in (1, 2.5] ms, p99 at the edge of the slow tail.
    const counts = new Array(DELIVERY_LATENCY_BUCKETS.length + 1).fill(0) as number[];
    counts[DELIVERY_LATENCY_BUCKETS.indexOf(0.0025)] = 990;
    counts[DELIVERY_LATENCY_BUCKETS.indexOf(0.5)] = 10;
    const p50 = bucketQuantile(0.5, DELIVERY_LATENCY_BUCKETS, counts)!;
    const p995 = bucketQuantile(0.995, DELIVERY_LATENCY_BUCKETS, counts)!;
    expect(p50).toBeGreaterThan(0.001);
    expect(p50).toBeLessThanOrEqual(0.0025);
    expect(p995).toBeGreaterThan(0.25);
    expect(p995).toBeLessThanOrEqual(0.5);
  });
});

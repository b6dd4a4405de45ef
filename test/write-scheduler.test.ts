import { describe, expect, it } from 'vitest';
import { joinFrames, WriteScheduler } from '../src/core/delivery/write-scheduler.js';

const enc = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as unknown;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps the event loop busy for `ms` (bounded by the clock). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose: the scheduler must see a loaded event loop
  }
}

describe('joinFrames', () => {
  it('joins objects and splices batches into one flat array, in order, without parsing', () => {
    const joined = joinFrames(['{"a":1}', enc('[{"b":2},{"c":"[x]"}]'), '{"d":"é"}', enc('{"e":[5]}')]);
    expect(decode(joined)).toEqual([{ a: 1 }, { b: 2 }, { c: '[x]' }, { d: 'é' }, { e: [5] }]);
  });

  it('drops empty batches', () => {
    expect(decode(joinFrames(['[]', '{"a":1}', enc('[]')]))).toEqual([{ a: 1 }]);
  });
});

describe('WriteScheduler', () => {
  it('runs producers first, then flushes each dirty target once per turn', async () => {
    const writes = new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8 });
    const log: string[] = [];
    const a = { flush: () => log.push('a') };
    const b = { flush: () => log.push('b') };
    writes.addProducer(() => {
      log.push('produce');
      writes.markDirty(b); // a producer queues output: written in this same flush
    });
    writes.markDirty(a);
    writes.markDirty(a);
    await sleep(5);
    expect(log).toEqual(['produce', 'a', 'b']);
    expect(writes.stats).toEqual({ flushes: 1, windowed: 0 });
  });

  it('reports a producer that throws and keeps flushing', async () => {
    const errors: unknown[] = [];
    const writes = new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8, onError: (e) => errors.push(e) });
    let fail = true;
    writes.addProducer(() => {
      if (fail) throw new Error('producer bug');
    });
    let flushed = 0;
    const target = { flush: () => flushed++ };
    writes.markDirty(target);
    await sleep(5);
    expect(errors).toHaveLength(1);
    expect(flushed).toBe(1); // what was queued still went out
    fail = false;
    writes.markDirty(target);
    await sleep(5);
    expect(flushed).toBe(2);
  });

  it('writes a big flush in slices, one per turn, each target once and in the order marked', async () => {
    const writes = new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8, sliceSize: 3 });
    const log: string[] = [];
    const targets = Array.from({ length: 7 }, (_, i) => ({ flush: () => log.push(`t${i}`) }));
    for (const t of targets) writes.markDirty(t);
    // Something else scheduled for the next turn runs between the slices: the loop is not held for the whole flush.
    setImmediate(() => log.push('other'));
    await sleep(20);
    expect(log).toEqual(['t0', 't1', 't2', 'other', 't3', 't4', 't5', 't6']);
    expect(writes.stats.flushes).toBe(3);
  });

  it('spaces flushes by the busy window while the loop is busy, and flushes at once again when idle', async () => {
    const writes = new WriteScheduler({ busyWindowMs: 40, busyUtilization: 0.8 });
    let flushedAt = 0;
    const target = { flush: () => (flushedAt = performance.now()) };

    spin(150); // > the 100 ms sampling interval, fully busy
    let asked = performance.now();
    writes.markDirty(target);
    await sleep(80);
    expect(writes.stats.windowed).toBe(1);
    expect(flushedAt - asked).toBeGreaterThanOrEqual(39);

    await sleep(200); // idle for two sampling intervals
    asked = performance.now();
    writes.markDirty(target);
    await sleep(30);
    expect(writes.stats).toEqual({ flushes: 2, windowed: 1 });
    expect(flushedAt).toBeGreaterThanOrEqual(asked);
    expect(flushedAt - asked).toBeLessThan(25);
  });
});

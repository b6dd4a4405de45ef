import { describe, expect, it } from 'vitest';
import { joinFrames, WriteScheduler } from '../../src/core/delivery/write-scheduler.js';
import { waitFor } from '../helpers/wait.js';

const enc = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as unknown;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Resolves after the callbacks already queued with setImmediate have run: an end-of-turn flush requested before
 * this call has happened by then, however loaded the machine (no clock involved).
 */
const turn = () => new Promise((r) => setImmediate(r));

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
    let produced = false;
    writes.addProducer(() => {
      log.push('produce');
      if (!produced) writes.markDirty(b); // a producer queues output: written in this same flush
      produced = true;
    });
    writes.markDirty(a);
    writes.markDirty(a);
    await turn();
    expect(log).toEqual(['produce', 'a', 'b']);
    expect(writes.stats).toEqual({ flushes: 1, windowed: 0 });
    // A marker flushed after them: had a or b been written twice, it would show before the marker.
    writes.markDirty({ flush: () => log.push('marker') });
    await turn();
    expect(log).toEqual(['produce', 'a', 'b', 'produce', 'marker']);
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
    await turn();
    expect(errors).toHaveLength(1);
    expect(flushed).toBe(1); // what was queued still went out
    fail = false;
    writes.markDirty(target);
    await turn();
    expect(flushed).toBe(2);
    expect(errors).toHaveLength(1);
  });

  it('a producer that throws without an onError to report to still does not stop the flushes', async () => {
    const writes = new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8 });
    writes.addProducer(() => {
      throw new Error('producer bug');
    });
    let flushed = 0;
    const target = { flush: () => flushed++ };
    writes.markDirty(target);
    await turn();
    writes.markDirty(target);
    await turn();
    expect(flushed).toBe(2);
  });

  it('a busy window of 0 turns the window off: a busy loop still flushes at the end of the turn', async () => {
    const writes = new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8 });
    let flushed = 0;
    spin(150);
    writes.markDirty({ flush: () => flushed++ });
    await turn();
    expect(flushed).toBe(1);
    expect(writes.stats.windowed).toBe(0);
  });

  it('writes a big flush in slices, one per turn, each target once and in the order marked', async () => {
    const writes = new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8, sliceSize: 3 });
    const log: string[] = [];
    const targets = Array.from({ length: 7 }, (_, i) => ({ flush: () => log.push(`t${i}`) }));
    for (const t of targets) writes.markDirty(t);
    // Something else scheduled for the next turn runs between the slices: the loop is not held for the whole flush.
    setImmediate(() => log.push('other'));
    await turn(); // the first slice and 'other'
    await turn(); // the second slice (queued by the first)
    await turn(); // the third
    expect(log).toEqual(['t0', 't1', 't2', 'other', 't3', 't4', 't5', 't6']);
    expect(writes.stats.flushes).toBe(3);
    await turn(); // and no fourth
    expect(writes.stats.flushes).toBe(3);
  });

  it('spaces flushes by the busy window while the loop is busy, and flushes at once again when idle', async () => {
    const writes = new WriteScheduler({ busyWindowMs: 40, busyUtilization: 0.8 });
    let flushed = 0;
    let flushedAt = 0;
    const target = {
      flush: () => {
        flushed++;
        flushedAt = performance.now();
      },
    };

    spin(150); // > the 100 ms sampling interval, fully busy
    const asked = performance.now();
    writes.markDirty(target);
    expect(writes.stats.windowed).toBe(1);
    await turn();
    expect(flushed, 'not written at the end of the turn: it waits for the window').toBe(0);
    await waitFor(() => flushed === 1, { timeoutMs: 10_000, what: 'the windowed flush' });
    // Timers never fire early (Node may round by a millisecond), however slow the machine.
    expect(flushedAt - asked).toBeGreaterThanOrEqual(39);

    await sleep(250); // idle for two sampling intervals: the loop waits for a timer, which is not busy
    writes.markDirty(target);
    await turn();
    expect(flushed, 'idle again: written at the end of the same turn, no window').toBe(2);
    expect(writes.stats).toEqual({ flushes: 2, windowed: 1 });
  });
});

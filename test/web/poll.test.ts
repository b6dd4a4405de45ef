import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { poll, pushHistory, sparklineRuns, type Visibility } from '../../web/src/state/poll.js';

/** A page whose visibility the test flips. */
function fakeVisibility(hidden = false) {
  const listeners = new Set<() => void>();
  const v: Visibility & { set(h: boolean): void; listeners: Set<() => void> } = {
    hidden: () => hidden,
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    set(h) {
      hidden = h;
      for (const fn of listeners) fn();
    },
    listeners,
  };
  return v;
}

describe('poll (the dashboard refresh)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('loads at once, then every interval after the previous load finished', async () => {
    let calls = 0;
    const stop = poll(async () => void calls++, 3000, fakeVisibility());
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(2999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(9000);
    expect(calls).toBe(5);
    stop();
  });

  it('never runs two loads at once: a slow load pushes the next one back', async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    const stop = poll(
      async () => {
        calls++;
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5000));
        running--;
      },
      1000,
      fakeVisibility(),
    );
    // Each round is a 5 s load and then a 1 s pause: the third load starts at 12 s, not at 2 s.
    await vi.advanceTimersByTimeAsync(11_999);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(3);
    expect(most).toBe(1);
    stop();
  });

  it('stops while the page is hidden and loads at once when it is shown again', async () => {
    let calls = 0;
    const page = fakeVisibility();
    const stop = poll(async () => void calls++, 3000, page);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    page.set(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1);
    page.set(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(3);
    // Hidden and shown again quickly while a load is in flight: still one loop.
    page.set(true);
    page.set(false);
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(5);
    stop();
  });

  it('a load still in flight when the page is hidden is the last until it is shown', async () => {
    let calls = 0;
    const page = fakeVisibility();
    const stop = poll(
      async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 1000));
      },
      3000,
      page,
    );
    await vi.advanceTimersByTimeAsync(500);
    page.set(true); // mid-load
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1);
    page.set(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    stop();
  });

  it('a visibility event that leaves the page shown does not start a second loop', async () => {
    let calls = 0;
    const page = fakeVisibility();
    const stop = poll(async () => void calls++, 3000, page);
    await vi.advanceTimersByTimeAsync(1000);
    page.set(false); // e.g. a window switch that fires visibilitychange without hiding this tab
    page.set(false);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(3);
    stop();
  });

  it('starts only when shown, and stop() ends it for good, with no listener left behind', async () => {
    let calls = 0;
    const page = fakeVisibility(true);
    const stop = poll(async () => void calls++, 3000, page);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(0);
    page.set(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    stop();
    expect(page.listeners.size).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1);
  });

  it('keeps polling after a failed load', async () => {
    let calls = 0;
    const stop = poll(
      async () => {
        calls++;
        throw new Error('network down');
      },
      1000,
      fakeVisibility(),
    );
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toBe(3);
    stop();
  });
});

describe('sparkline geometry', () => {
  it('spreads points over the width and scales from 0 to the largest value', () => {
    expect(sparklineRuns([0, 5, 10], 100, 20)).toEqual(['0,20 50,10 100,0']);
  });
  it('keeps a flat zero line at the bottom, and a floor keeps small values small', () => {
    expect(sparklineRuns([0, 0], 100, 20)).toEqual(['0,20 100,20']);
    expect(sparklineRuns([1, 1], 100, 20, 10)).toEqual(['0,18 100,18']);
  });
  it('breaks the line at a missing value', () => {
    expect(sparklineRuns([1, null, 1, 1], 30, 10)).toEqual(['0,0', '20,0 30,0']);
    expect(sparklineRuns([], 30, 10)).toEqual([]);
  });
  it('history keeps the newest points', () => {
    expect(pushHistory([1, 2, 3], 4, 3)).toEqual([2, 3, 4]);
    expect(pushHistory([], 1, 3)).toEqual([1]);
  });
});

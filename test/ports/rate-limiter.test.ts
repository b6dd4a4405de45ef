import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { InMemoryRateLimiter } from '../../src/core/rate-limiter.js';
import { rateLimiterContract } from './contract/rate-limiter-contract.js';

rateLimiterContract('InMemoryRateLimiter (injected clock)', () => {
  let now = 1_700_000_000_000;
  const limiter = new InMemoryRateLimiter(() => now);
  return Promise.resolve({
    limiter,
    advance: (ms: number) => {
      now += ms;
    },
    cleanup: () => limiter.close(),
  });
});

// The real-clock path of the suite, as a networked limiter without an injectable clock would run it.
rateLimiterContract('InMemoryRateLimiter (real clock)', () => {
  const limiter = new InMemoryRateLimiter();
  return Promise.resolve({ limiter, cleanup: () => limiter.close() });
});

describe('InMemoryRateLimiter specifics', () => {
  it('takeSync applies the same buckets as take', async () => {
    let now = 0;
    const limiter = new InMemoryRateLimiter(() => now);
    const rule = { burst: 2, perSecond: 1 };
    expect(limiter.takeSync('k', rule)).toEqual({ ok: true });
    expect(await limiter.take('k', rule)).toEqual({ ok: true });
    expect(limiter.takeSync('k', rule)).toEqual({ ok: false, retryAfterMs: 1000 });
    now += 1000;
    expect(limiter.takeSync('k', rule)).toEqual({ ok: true });
    await limiter.close();
  });

  it('sweeping idle full buckets does not change what a key may take', async () => {
    let now = 0;
    const limiter = new InMemoryRateLimiter(() => now, 10);
    const rule = { burst: 2, perSecond: 1 };
    // A sweep has run once a full bucket (a sentinel, taken at no cost) is gone: waited for, not slept on.
    const buckets = (limiter as unknown as { buckets: Map<string, unknown> }).buckets;
    const swept = async () => {
      limiter.takeSync('sentinel', rule, 0);
      await waitFor(() => !buckets.has('sentinel'), { what: 'a sweep' });
    };
    expect(limiter.takeSync('k', rule, 2)).toEqual({ ok: true });
    now += 500;
    // The sweeper runs while the bucket is half full: it must be kept.
    await swept();
    expect(buckets.has('k')).toBe(true);
    expect(limiter.takeSync('k', rule, 1)).toEqual({ ok: false, retryAfterMs: 500 });
    now += 10_000;
    await swept(); // full again: swept, which changes nothing for the key
    expect(buckets.has('k')).toBe(false);
    expect(limiter.takeSync('k', rule, 2)).toEqual({ ok: true });
    await limiter.close();
  });
});

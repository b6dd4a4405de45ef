import { describe, expect, it } from 'vitest';
import { FallbackRateLimiter } from '../../src/core/fallback-rate-limiter.js';
import { InMemoryRateLimiter, type RateLimiter, type RateRule } from '../../src/core/rate-limiter.js';
import { rateLimiterContract } from './contract/rate-limiter-contract.js';

/** A shared limiter that can be made unreachable, counting the calls that reached it. */
class FlakyLimiter implements RateLimiter {
  down = false;
  calls = 0;
  readonly real: InMemoryRateLimiter;
  constructor(now: () => number) {
    this.real = new InMemoryRateLimiter(now);
  }
  private gate(): void {
    this.calls++;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
  }
  async take(key: string, rule: RateRule, cost?: number) {
    this.gate();
    return this.real.take(key, rule, cost);
  }
  async peek(key: string, rule: RateRule) {
    this.gate();
    return this.real.peek(key, rule);
  }
  async reset(key: string) {
    this.gate();
    return this.real.reset(key);
  }
  close() {
    return this.real.close();
  }
}

const quiet = { warn: () => {} };

// While the shared limiter is down for good, the per-node fallback must be a conforming limiter itself.
rateLimiterContract('FallbackRateLimiter, shared limiter unreachable (injected clock)', () => {
  let now = 1_700_000_000_000;
  const inner = new FlakyLimiter(() => now);
  inner.down = true;
  const limiter = new FallbackRateLimiter(inner, quiet, { now: () => now });
  return Promise.resolve({ limiter, advance: (ms: number) => void (now += ms), cleanup: () => limiter.close() });
});

describe('FallbackRateLimiter', () => {
  const rule = { burst: 3, perSecond: 1 };
  const setup = () => {
    const clock = { now: 1_000_000 };
    const inner = new FlakyLimiter(() => clock.now);
    const warnings: string[] = [];
    const limiter = new FallbackRateLimiter(
      inner,
      { warn: (_o, msg) => warnings.push(msg) },
      {
        now: () => clock.now,
        retryMs: 1000,
      },
    );
    return { clock, inner, limiter, warnings };
  };

  it('uses the shared limiter while it answers', async () => {
    const { inner, limiter } = setup();
    for (let i = 0; i < 3; i++) expect(await limiter.take('k', rule)).toEqual({ ok: true });
    expect(await limiter.take('k', rule)).toMatchObject({ ok: false });
    expect(await inner.real.peek('k', rule)).toBe(0); // the shared bucket is the one drained
    expect(limiter.degraded).toBe(false);
  });

  it('when the shared limiter fails, enforces the same rule per node: never unlimited', async () => {
    const { clock, inner, limiter, warnings } = setup();
    inner.down = true;
    for (let i = 0; i < 3; i++) expect(await limiter.take('k', rule)).toEqual({ ok: true });
    expect(await limiter.take('k', rule)).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(await limiter.peek('k', rule)).toBe(0);
    expect(limiter.degraded).toBe(true);
    expect(warnings).toEqual(['shared rate limiter unreachable: enforcing limits per node until it is back']);
    clock.now += 1000;
    expect(await limiter.take('k', rule)).toEqual({ ok: true });
    // Other keys keep their own buckets; reset works on the fallback too.
    expect(await limiter.take('other', rule, 3)).toEqual({ ok: true });
    await limiter.reset('other');
    expect(await limiter.peek('other', rule)).toBe(3);
  });

  it('while down, requests do not wait on the shared limiter: one probe per retry interval, then switches back', async () => {
    const { clock, inner, limiter, warnings } = setup();
    inner.down = true;
    await limiter.take('k', rule); // fails over (one call reached the shared limiter)
    expect(inner.calls).toBe(1);
    for (let i = 0; i < 5; i++) await limiter.peek('k', rule);
    expect(inner.calls).toBe(1); // before retryMs: nobody asks it
    clock.now += 1000;
    await limiter.peek('k', rule); // starts a probe (which fails); the call itself is answered locally
    await limiter.peek('k', rule);
    expect(inner.calls).toBe(2);
    expect(limiter.degraded).toBe(true);
    inner.down = false;
    clock.now += 999;
    await limiter.peek('k', rule);
    expect(inner.calls).toBe(2);
    clock.now += 1;
    await limiter.peek('k', rule); // this probe succeeds
    await new Promise((r) => setImmediate(r));
    expect(limiter.degraded).toBe(false);
    expect(warnings.at(-1)).toBe('shared rate limiter reachable again: limits are cluster-wide again');
    // Back on the shared buckets: the local one (drained above) no longer decides.
    for (let i = 0; i < 3; i++) expect(await limiter.take('k', rule)).toEqual({ ok: true });
    expect(await inner.real.peek('k', rule)).toBe(0);
  });

  it('a login-lockout style peek falls back too, and a RangeError from the shared limiter is the caller’s error, not an outage', async () => {
    const { inner, limiter } = setup();
    inner.down = true;
    expect(await limiter.peek('login-lock:x', { burst: 900, perSecond: 1 })).toBe(900);
    const up = setup();
    up.inner.take = () => Promise.reject(new RangeError('invalid cost'));
    await expect(up.limiter.take('k', rule)).rejects.toThrow(RangeError);
    expect(up.limiter.degraded).toBe(false);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimiter, RateResult, RateRule } from '../../../src/core/rate-limiter.js';
import { sleep, waitFor } from '../../helpers/wait.js';

export interface RateLimiterUnderTest {
  limiter: RateLimiter;
  /**
   * Moves the limiter's clock forward, for implementations whose time can be injected. Without it the suite
   * uses short real waits and bounded polling, so the rules it uses refill within tens of milliseconds.
   */
  advance?: (ms: number) => void;
  cleanup(): Promise<void>;
}

let counter = 0;
const freshKey = (what: string) => `${what}:${++counter}:${Math.random().toString(36).slice(2, 8)}`;

/**
 * The RateLimiter conformance suite (src/core/rate-limiter.ts): buckets start full, `take` beyond the
 * available tokens fails with a positive retryAfterMs and removes nothing, tokens refill at `perSecond` up
 * to `burst`, and keys are independent. `peek` reads the level without taking; `reset` refills a bucket.
 */
export function rateLimiterContract(name: string, makeLimiter: () => Promise<RateLimiterUnderTest>): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let h: RateLimiterUnderTest;
    let limiter: RateLimiter;

    beforeEach(async () => {
      h = await makeLimiter();
      limiter = h.limiter;
    });

    afterEach(async () => {
      await h.cleanup();
    });

    /** Lets `ms` of limiter time pass: exactly with an injected clock, at least with the real one. */
    const pass = async (ms: number) => {
      if (h.advance) h.advance(ms);
      else await sleep(ms);
    };

    /** With an injected clock `take` must succeed now; with the real clock, within a bounded poll. */
    const takeEventually = async (key: string, rule: RateRule, cost = 1): Promise<void> => {
      if (h.advance) {
        expect(await limiter.take(key, rule, cost)).toEqual({ ok: true });
        return;
      }
      await waitFor(async () => (await limiter.take(key, rule, cost)).ok, { timeoutMs: 10_000, what: 'a refill' });
    };

    const expectDenied = (r: RateResult, atMostMs: number): number => {
      expect(r.ok).toBe(false);
      if (r.ok) return 0;
      expect(r.retryAfterMs).toBeGreaterThan(0);
      expect(r.retryAfterMs).toBeLessThanOrEqual(atMostMs);
      return r.retryAfterMs;
    };

    // 4 tokens/s = one per 250 ms: back-to-back takes see no refill even on a busy machine talking to Redis
    // (the real clock), while the tests that wait for refills stay short.
    const TOKEN_MS = 250;
    const rule: RateRule = { burst: 3, perSecond: 1000 / TOKEN_MS };

    it('a bucket starts full: burst takes succeed, the next fails with a positive retryAfterMs', async () => {
      const key = freshKey('start');
      for (let i = 0; i < rule.burst; i++) expect(await limiter.take(key, rule)).toEqual({ ok: true });
      expectDenied(await limiter.take(key, rule), TOKEN_MS);
      expectDenied(await limiter.take(key, rule), TOKEN_MS);
    });

    it('a full bucket allows one take of cost burst', async () => {
      const key = freshKey('cost');
      expect(await limiter.take(key, { burst: 10, perSecond: 1 }, 10)).toEqual({ ok: true });
      expectDenied(await limiter.take(key, { burst: 10, perSecond: 1 }, 1), 1000);
    });

    it('a failed take removes nothing', async () => {
      const key = freshKey('nothing');
      const slow: RateRule = { burst: 3, perSecond: 0.5 };
      expect(await limiter.take(key, slow, 2)).toEqual({ ok: true }); // 1 left
      expectDenied(await limiter.take(key, slow, 2), 2000);
      expectDenied(await limiter.take(key, slow, 2), 2000);
      expect(await limiter.take(key, slow, 1)).toEqual({ ok: true });
      expectDenied(await limiter.take(key, slow, 1), 2000);
    });

    it('tokens refill at perSecond; waiting retryAfterMs is enough', async () => {
      const key = freshKey('refill');
      for (let i = 0; i < rule.burst; i++) await limiter.take(key, rule);
      const wait = expectDenied(await limiter.take(key, rule), TOKEN_MS);
      await pass(wait);
      await takeEventually(key, rule);
      // One token came back, not more (the next is TOKEN_MS away).
      expectDenied(await limiter.take(key, rule), TOKEN_MS);
      await pass(2 * TOKEN_MS);
      await takeEventually(key, rule);
      await takeEventually(key, rule);
    });

    it('retryAfterMs accounts for the cost asked', async () => {
      const key = freshKey('costly');
      const slow: RateRule = { burst: 4, perSecond: 2 }; // 500 ms per token
      expect(await limiter.take(key, slow, 4)).toEqual({ ok: true });
      const forOne = expectDenied(await limiter.take(key, slow, 1), 500);
      const forThree = expectDenied(await limiter.take(key, slow, 3), 1500);
      expect(forThree).toBeGreaterThan(forOne);
      expect(forThree).toBeGreaterThan(1000);
      if (h.advance) {
        h.advance(forThree);
        expect(await limiter.take(key, slow, 3)).toEqual({ ok: true });
      }
    });

    it('refill stops at burst', async () => {
      const key = freshKey('cap');
      for (let i = 0; i < rule.burst; i++) await limiter.take(key, rule);
      await pass(6 * TOKEN_MS); // 6 tokens' worth of time
      for (let i = 0; i < rule.burst; i++) expect(await limiter.take(key, rule)).toEqual({ ok: true });
      expectDenied(await limiter.take(key, rule), TOKEN_MS);
    });

    it('keys are independent', async () => {
      const drained = freshKey('drained');
      const other = freshKey('other');
      const slow: RateRule = { burst: 2, perSecond: 0.1 };
      await limiter.take(drained, slow);
      await limiter.take(drained, slow);
      expectDenied(await limiter.take(drained, slow), 10_000);
      expect(await limiter.take(other, slow)).toEqual({ ok: true });
      expect(await limiter.take(other, slow)).toEqual({ ok: true });
      expectDenied(await limiter.take(other, slow), 10_000);
      expect(await limiter.take(freshKey('third'), slow, 2)).toEqual({ ok: true });
    });

    it('peek reports the tokens without taking any: burst for a fresh key, less after takes', async () => {
      const slow: RateRule = { burst: 5, perSecond: 0.01 }; // refill too slow to show within the test
      const key = freshKey('peek');
      expect(await limiter.peek(key, slow)).toBe(5);
      expect(await limiter.peek(key, slow)).toBe(5);
      expect(await limiter.take(key, slow, 2)).toEqual({ ok: true });
      const left = await limiter.peek(key, slow);
      expect(left).toBeGreaterThanOrEqual(3);
      expect(left).toBeLessThan(3.01);
      // Peeking took nothing: the remaining 3 can still be taken in one go, and not a fourth.
      expect(await limiter.take(key, slow, 3)).toEqual({ ok: true });
      expectDenied(await limiter.take(key, slow, 1), 100_000);
      expect(await limiter.peek(key, slow)).toBeLessThan(0.01);
      // Fractional levels survive (a bucket in seconds, as the login lockout uses it).
      const secs: RateRule = { burst: 900, perSecond: 1 };
      const lock = freshKey('lock');
      expect(await limiter.take(lock, secs, 30.5)).toEqual({ ok: true });
      const level = await limiter.peek(lock, secs);
      expect(level).toBeGreaterThanOrEqual(869.5);
      expect(level).toBeLessThan(871);
    });

    it('peek sees refills and stops at burst', async () => {
      const key = freshKey('peekrefill');
      for (let i = 0; i < rule.burst; i++) await limiter.take(key, rule);
      expect(await limiter.peek(key, rule)).toBeLessThan(1);
      await pass(rule.burst * TOKEN_MS);
      if (h.advance) expect(await limiter.peek(key, rule)).toBe(rule.burst);
      else
        await waitFor(async () => (await limiter.peek(key, rule)) === rule.burst, { timeoutMs: 10_000, what: 'full' });
    });

    it('reset makes a bucket full again, and resolves for an unknown key', async () => {
      const slow: RateRule = { burst: 2, perSecond: 0.01 };
      const key = freshKey('reset');
      await limiter.take(key, slow, 2);
      expectDenied(await limiter.take(key, slow), 200_000);
      await expect(limiter.reset(key)).resolves.toBeUndefined();
      expect(await limiter.peek(key, slow)).toBe(2);
      expect(await limiter.take(key, slow, 2)).toEqual({ ok: true });
      await expect(limiter.reset(freshKey('never'))).resolves.toBeUndefined();
    });

    it('close resolves', async () => {
      await limiter.take(freshKey('close'), rule);
      await expect(limiter.close()).resolves.toBeUndefined();
    });
  });
}

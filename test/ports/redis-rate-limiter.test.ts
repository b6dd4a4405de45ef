import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../../src/storage/redis/redis-rate-limiter.js';
import { rateLimiterContract } from './contract/rate-limiter-contract.js';
import { waitFor } from '../helpers/wait.js';
import { uniquePrefix, useRedisServer } from '../helpers/redis.js';

const redis = useRedisServer();

// Redis's clock cannot be injected: the suite runs its real-clock path.
rateLimiterContract('RedisRateLimiter', () => {
  const limiter = new RedisRateLimiter({ redis: redis.url, prefix: uniquePrefix() });
  return Promise.resolve({ limiter, cleanup: () => limiter.close() });
});

describe('RedisRateLimiter specifics', () => {
  const open: { close(): Promise<void> }[] = [];
  const raw: Redis[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
    raw.splice(0).forEach((r) => r.disconnect());
  });
  const limiter = (prefix: string) => {
    const l = new RedisRateLimiter({ redis: redis.url, prefix });
    open.push(l);
    return l;
  };
  const admin = () => {
    const r = new Redis(redis.url);
    raw.push(r);
    return r;
  };

  it('shares buckets across instances: tokens taken on one node are gone on the other', async () => {
    const prefix = uniquePrefix();
    const a = limiter(prefix);
    const b = limiter(prefix);
    const rule = { burst: 4, perSecond: 0.1 };
    expect(await a.take('msg:u_1', rule, 3)).toEqual({ ok: true });
    expect(await b.take('msg:u_1', rule, 1)).toEqual({ ok: true });
    const deniedOnB = await b.take('msg:u_1', rule);
    const deniedOnA = await a.take('msg:u_1', rule);
    expect(deniedOnB.ok).toBe(false);
    expect(deniedOnA.ok).toBe(false);
    // Concurrent takes from both nodes never hand out more than the bucket holds.
    const key = 'login-ip:10.0.0.1';
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).take(key, { burst: 7, perSecond: 0.01 })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(7);
  });

  it('a different prefix is a different deployment', async () => {
    const a = limiter(uniquePrefix());
    const b = limiter(uniquePrefix());
    const rule = { burst: 1, perSecond: 0.1 };
    expect(await a.take('k', rule)).toEqual({ ok: true });
    expect(await b.take('k', rule)).toEqual({ ok: true });
    expect((await a.take('k', rule)).ok).toBe(false);
  });

  it('keeps buckets under its prefix and lets them expire once they would be full again', async () => {
    const prefix = uniquePrefix();
    const l = limiter(prefix);
    const r = admin();
    await l.take('slow', { burst: 10, perSecond: 1 }, 4); // full again in 4 s
    await l.take('fast', { burst: 2, perSecond: 40 }, 2); // full again in 50 ms
    expect((await r.keys(`${prefix}*`)).sort()).toEqual([`${prefix}rate:fast`, `${prefix}rate:slow`].sort());
    const ttl = await r.pttl(`${prefix}rate:slow`);
    expect(ttl).toBeGreaterThan(3000);
    expect(ttl).toBeLessThanOrEqual(4000);
    await waitFor(async () => (await r.exists(`${prefix}rate:fast`)) === 0, { what: 'the idle bucket to expire' });
    // Gone means full.
    expect(await l.take('fast', { burst: 2, perSecond: 40 }, 2)).toEqual({ ok: true });
  });

  it('reloads its script when Redis has lost it (EVALSHA falls back to EVAL)', async () => {
    const l = limiter(uniquePrefix());
    const rule = { burst: 2, perSecond: 0.1 };
    expect(await l.take('k', rule)).toEqual({ ok: true });
    const r = admin();
    await r.script('FLUSH');
    expect(await l.take('k', rule)).toEqual({ ok: true });
    expect(await r.info('errorstats')).toMatch(/errorstat_NOSCRIPT:count=[1-9]/); // EVALSHA did miss
    expect((await l.take('k', rule)).ok).toBe(false);
  });

  it('rejects rules it cannot honour', async () => {
    const l = limiter(uniquePrefix());
    await expect(l.take('k', { burst: 1, perSecond: 0 })).rejects.toThrow(RangeError);
    await expect(l.take('k', { burst: 0, perSecond: 1 })).rejects.toThrow(RangeError);
    await expect(l.take('k', { burst: 1, perSecond: 1 }, -1)).rejects.toThrow(RangeError);
  });

  it('close twice is fine', async () => {
    const l = limiter(uniquePrefix());
    await l.take('k', { burst: 1, perSecond: 1 });
    await l.close();
    await expect(l.close()).resolves.toBeUndefined();
  });
});

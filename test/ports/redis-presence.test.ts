import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RedisPresence,
  type ExpiredChange,
  type RedisPresenceOptions,
} from '../../src/storage/redis/redis-presence.js';
import { presenceContract } from './contract/presence-contract.js';
import { waitFor } from '../helpers/wait.js';
import { uniquePrefix, useRedisServer } from '../helpers/redis.js';

const redis = useRedisServer();

// Two nodes: two RedisPresence instances with their own connections and the same prefix.
presenceContract('RedisPresence', () => {
  const prefix = uniquePrefix();
  const a = new RedisPresence({ redis: redis.url, prefix });
  const b = new RedisPresence({ redis: redis.url, prefix });
  return Promise.resolve({ a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) });
});

describe('RedisPresence specifics', () => {
  const open: RedisPresence[] = [];
  const raw: Redis[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
    raw.splice(0).forEach((r) => r.disconnect());
  });
  const node = (prefix: string, opts: Partial<RedisPresenceOptions> = {}) => {
    const p = new RedisPresence({ redis: redis.url, prefix, ...opts });
    open.push(p);
    return p;
  };
  const admin = () => {
    const r = new Redis(redis.url);
    raw.push(r);
    return r;
  };
  const statusOn = async (p: RedisPresence, userId: string) => (await p.statusOf([userId])).get(userId);

  it('a node that dies without close has its users shown offline once its TTL runs out, then swept', async () => {
    const prefix = uniquePrefix();
    const expired: ExpiredChange[] = [];
    const onExpired = (changes: ExpiredChange[]) => expired.push(...changes);
    // The living renew often; the dying one never on its own (heartbeatMs 0): it stops like a crashed process.
    const a = node(prefix, { heartbeatMs: 100, ttlMs: 1000 });
    const b = node(prefix, { heartbeatMs: 100, ttlMs: 1000 });
    a.setEventHandler({ expired: onExpired });
    b.setEventHandler({ expired: onExpired });
    const ttlMs = 1500;
    const dying = node(prefix, { heartbeatMs: 0, ttlMs });

    await dying.connect('u_gone', 'c1');
    await dying.connect('u_gone', 'c2');
    await dying.connect('u_split', 'c3'); // online on the dying node ...
    await a.connect('u_split', 'c4');
    await a.setStatus('u_split', 'c4', 'away'); // ... away on a living one
    await b.connect('u_stays', 'c5');
    const lastBeat = Date.now();
    await dying.heartbeat();
    expect(await b.statusOf(['u_gone', 'u_split', 'u_stays'])).toEqual(
      new Map([
        ['u_gone', 'online'],
        ['u_split', 'online'],
        ['u_stays', 'online'],
      ]),
    );

    await waitFor(async () => (await statusOn(b, 'u_gone')) === 'offline', {
      timeoutMs: ttlMs + 10_000,
      intervalMs: 20,
      what: 'the dead node’s user to go offline',
    });
    // Not before the liveness key expired: the TTL, not anything else, decided.
    expect(Date.now() - lastBeat).toBeGreaterThanOrEqual(ttlMs);
    expect(await statusOn(a, 'u_split')).toBe('away');
    expect(await statusOn(a, 'u_stays')).toBe('online');
    expect(await a.onlineCount()).toBe(2);

    // Swept by a living node's heartbeat, reported once, and nothing of the dead node is left in Redis.
    await waitFor(() => expired.length >= 2, { what: 'expired reports' });
    expect(expired.sort((x, y) => x.userId.localeCompare(y.userId))).toEqual([
      { userId: 'u_gone', status: 'offline' },
      { userId: 'u_split', status: 'away' },
    ]);
    const r = admin();
    await waitFor(async () => !(await r.sismember(`${prefix}presence:nodes`, dying.nodeId)), { what: 'the sweep' });
    expect(await r.exists(`${prefix}presence:user:u_gone`)).toBe(0);
    expect(await r.hkeys(`${prefix}presence:user:u_split`)).toEqual([`${a.nodeId}:c4`]);
    expect(await r.exists(`${prefix}presence:node-users:${dying.nodeId}`)).toBe(0);
    expect((await r.smembers(`${prefix}presence:online`)).sort()).toEqual(['u_split', 'u_stays']);
  });

  it('close removes this node’s entries and keys at once', async () => {
    const prefix = uniquePrefix();
    const a = node(prefix);
    const b = node(prefix);
    await a.connect('u_1', 'c1');
    await a.connect('u_2', 'c2');
    await b.connect('u_2', 'c3');
    expect(await b.onlineCount()).toBe(2);
    await a.close();
    expect(await b.statusOf(['u_1', 'u_2'])).toEqual(
      new Map([
        ['u_1', 'offline'],
        ['u_2', 'online'],
      ]),
    );
    expect(await b.onlineCount()).toBe(1);
    const keys = (await admin().keys(`${prefix}*`)).sort();
    expect(keys).toEqual(
      [
        `${prefix}presence:node:${b.nodeId}`,
        `${prefix}presence:node-users:${b.nodeId}`,
        `${prefix}presence:nodes`,
        `${prefix}presence:online`,
        `${prefix}presence:user:u_2`,
      ].sort(),
    );
    await expect(a.close()).resolves.toBeUndefined();
  });

  it('rewrites this node’s connections after Redis lost its data', async () => {
    const prefix = uniquePrefix();
    const a = node(prefix, { heartbeatMs: 100, ttlMs: 1000 });
    const b = node(prefix, { heartbeatMs: 100, ttlMs: 1000 });
    await a.connect('u_1', 'c1');
    await a.setStatus('u_1', 'c1', 'away');
    await b.connect('u_2', 'c2');
    await b.connect('u_3', 'c3');

    await redis.restart(); // no persistence: Redis comes back empty
    const everyone = async () => [...(await a.statusOf(['u_1', 'u_2', 'u_3'])).values()].join();
    await waitFor(async () => (await everyone()) === 'away,online,online', {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: 'presence to be rewritten after the restart',
    });
    expect(await b.onlineCount()).toBe(3);
    expect(await b.disconnect('u_2', 'c2')).toEqual({ status: 'offline', changed: true });
    expect(await a.onlineCount()).toBe(2);
  });

  it('statusOf answers large lists (batched) for exactly the ids asked', async () => {
    const prefix = uniquePrefix();
    const a = node(prefix);
    const ids = Array.from({ length: 2500 }, (_, i) => `u_${i}`);
    await Promise.all(ids.filter((_, i) => i % 3 === 0).map((id) => a.connect(id, 'c')));
    const m = await a.statusOf(ids);
    expect(m.size).toBe(ids.length);
    ids.forEach((id, i) => expect(m.get(id)).toBe(i % 3 === 0 ? 'online' : 'offline'));
    expect(await a.onlineCount()).toBe(834);
  });

  it('rejects a TTL that is not longer than the heartbeat, and node ids with a colon', () => {
    expect(() => new RedisPresence({ redis: redis.url, heartbeatMs: 5000, ttlMs: 5000 })).toThrow(RangeError);
    expect(() => new RedisPresence({ redis: redis.url, nodeId: 'a:b' })).toThrow(RangeError);
  });
});

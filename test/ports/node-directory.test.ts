import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { InMemoryNodeDirectory } from '../../src/core/node-directory.js';
import { RedisNodeDirectory } from '../../src/storage/redis/redis-node-directory.js';
import { nodeDirectoryContract, summary } from './contract/node-directory-contract.js';
import { uniquePrefix, useRedisServer } from '../helpers/redis.js';

const redis = useRedisServer();

nodeDirectoryContract('InMemoryNodeDirectory', () => {
  const a = new InMemoryNodeDirectory();
  return Promise.resolve({ a, cleanup: () => a.close() });
});

// Two nodes: two instances with their own connections and the same prefix.
nodeDirectoryContract('RedisNodeDirectory', () => {
  const prefix = uniquePrefix();
  const a = new RedisNodeDirectory({ redis: redis.url, prefix, nodeId: 'node-a' });
  const b = new RedisNodeDirectory({ redis: redis.url, prefix, nodeId: 'node-b' });
  return Promise.resolve({ a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) });
});

describe('RedisNodeDirectory specifics', () => {
  it('keeps deployments with different prefixes apart, and forgets the names of expired entries', async () => {
    const [p1, p2] = [uniquePrefix(), uniquePrefix()];
    const a = new RedisNodeDirectory({ redis: redis.url, prefix: p1, nodeId: 'node-a' });
    const other = new RedisNodeDirectory({ redis: redis.url, prefix: p2, nodeId: 'node-b' });
    const raw = new Redis(redis.url);
    try {
      await a.post(summary('node-a'), 100);
      await other.post(summary('node-b'), 10_000);
      expect((await a.list()).map((n) => n.id)).toEqual(['node-a']);
      expect((await other.list()).map((n) => n.id)).toEqual(['node-b']);
      // The key expires in Redis; the next list also removes the node's name from the set.
      await new Promise((r) => setTimeout(r, 200));
      expect(await a.list()).toEqual([]);
      expect(await raw.smembers(`${p1}node-stats`)).toEqual([]);
    } finally {
      await Promise.all([a.close(), other.close()]);
      raw.disconnect();
    }
  });

  it('skips an unreadable entry instead of failing the list', async () => {
    const prefix = uniquePrefix();
    const a = new RedisNodeDirectory({ redis: redis.url, prefix, nodeId: 'node-a' });
    const raw = new Redis(redis.url);
    try {
      await raw.multi().set(`${prefix}node-stats:junk`, '{not json').sadd(`${prefix}node-stats`, 'junk').exec();
      await a.post(summary('node-a'), 10_000);
      expect((await a.list()).map((n) => n.id)).toEqual(['node-a']);
    } finally {
      await a.close();
      raw.disconnect();
    }
  });

  it('rejects (does not hang) while Redis is down', async () => {
    const a = new RedisNodeDirectory({
      redis: 'redis://127.0.0.1:1',
      nodeId: 'node-a',
      commandTimeoutMs: 300,
    });
    try {
      await expect(a.list()).rejects.toThrow();
    } finally {
      await a.close();
    }
  });
});

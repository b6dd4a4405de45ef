/**
 * A real Redis for tests: one `redis-server` child process per test file, a unique key prefix per test.
 * The launcher lives in scripts/lib/redis.ts, shared with `npm run cluster`; see there for details.
 *
 * Typical use:
 *
 *   const redis = useRedisServer(); // registers beforeAll/afterAll
 *   it('...', async () => { const prefix = uniquePrefix(); new RedisBus({ redis: redis.url, prefix }); ... });
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisTestServer } from '../../scripts/lib/redis.js';

export { startRedis, type RedisTestServer } from '../../scripts/lib/redis.js';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** One server for the calling test file, started in beforeAll and stopped in afterAll. */
export function useRedisServer(): RedisTestServer {
  let server: RedisTestServer | undefined;
  beforeAll(
    async () => {
      server = await startRedis();
    },
    START_TIMEOUT_MS * 3 + 5000,
  );
  afterAll(async () => {
    await server?.stop();
  }, STOP_TIMEOUT_MS + 5000);
  const get = (): RedisTestServer => {
    if (!server) throw new Error('the redis test server is used outside its test file (before beforeAll)');
    return server;
  };
  return {
    host: HOST,
    get port() {
      return get().port;
    },
    get url() {
      return get().url;
    },
    get running() {
      return server?.running ?? false;
    },
    stop: (opts) => get().stop(opts),
    start: () => get().start(),
    restart: () => get().restart(),
    logTail: () => server?.logTail() ?? '',
  };
}

/** A key/channel prefix no other test uses, e.g. `t_lq3k9x_1f2e3d4c:`. */
export function uniquePrefix(): string {
  return `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}:`;
}

import type { Logger } from 'pino';
import type { Bus } from '../core/bus.js';
import type { Hub } from '../core/delivery/hub.js';
import type { NodeDirectory } from '../core/node-directory.js';
import type { Presence } from '../core/presence.js';
import type { PresenceNotifier } from '../core/presence-notifier.js';
import type { RateLimiter, RateResult, RateRule } from '../core/rate-limiter.js';
import type { Store } from '../core/store.js';
import type { Config } from './config.js';

/**
 * The cluster's ports, chosen by config: `DATABASE_URL` → PostgreSQL store, `REDIS_URL` → Redis bus, presence
 * and rate limiter. The drivers are imported only here and only when configured, so the embedded default never
 * loads `pg` or `ioredis`.
 */
export interface ClusterPorts {
  store?: Store;
  bus?: Bus;
  presence?: Presence;
  limiter?: RateLimiter;
  /** Where the nodes post their figures for the admin dashboard. */
  nodes?: NodeDirectory;
  /** Connects the ports' recovery signals to delivery, once the hub and notifier exist. */
  wire(deps: { hub: Hub; notifier: PresenceNotifier; store: Store }): void;
  /** Closes what was opened here (when server construction fails half-way). */
  close(): Promise<void>;
}

/** Opens the configured cluster ports (none in embedded mode). PostgreSQL migrations run here, under a lock. */
export async function openClusterPorts(
  config: Config,
  nodeId: string,
  log: Logger,
  skip: { store?: boolean; bus?: boolean; presence?: boolean; limiter?: boolean } = {},
): Promise<ClusterPorts> {
  const ports: ClusterPorts = { wire: () => {}, close: async () => {} };
  // Late-bound: the bus and presence are built before the hub and notifier they report to.
  let hooks: {
    busRecovered(): void;
    subscribed(topic: string): void;
    expired(changes: { userId: string; status: 'online' | 'away' | 'offline' }[]): void;
  } = { busRecovered: () => {}, subscribed: () => {}, expired: () => {} };
  const opened: { close(): Promise<void> }[] = [];
  ports.close = async () => {
    for (const p of opened.reverse()) await p.close().catch(() => {});
  };

  try {
    if (config.databaseUrl && !skip.store) {
      const { PgStore } = await import('../storage/postgres/pg-store.js');
      ports.store = await PgStore.open({
        connectionString: config.databaseUrl,
        poolSize: config.databasePoolSize,
        onConnectionError: (err) => log.warn({ err }, 'idle PostgreSQL connection failed; it is replaced'),
      });
      opened.push(ports.store);
    }
    if (config.redisUrl) {
      const [{ RedisBus }, { RedisPresence }, { RedisRateLimiter }, { RedisNodeDirectory }] = await Promise.all([
        import('../storage/redis/redis-bus.js'),
        import('../storage/redis/redis-presence.js'),
        import('../storage/redis/redis-rate-limiter.js'),
        import('../storage/redis/redis-node-directory.js'),
      ]);
      const common = { redis: config.redisUrl, prefix: config.redisPrefix, log };
      if (!skip.bus) {
        ports.bus = new RedisBus({
          ...common,
          nodeId,
          onRecovered: () => hooks.busRecovered(),
          onSubscribed: (topic) => hooks.subscribed(topic),
        });
        opened.push(ports.bus);
      }
      if (!skip.presence) {
        ports.presence = new RedisPresence({
          ...common,
          nodeId,
          heartbeatMs: config.presenceHeartbeatMs,
          ttlMs: config.presenceTtlMs,
          onExpired: (changes) => hooks.expired(changes),
        });
        opened.push(ports.presence);
      }
      if (!skip.limiter) {
        ports.limiter = new FailOpenRateLimiter(new RedisRateLimiter(common), log);
        opened.push(ports.limiter);
      }
      ports.nodes = new RedisNodeDirectory({ ...common, nodeId });
      opened.push(ports.nodes);
    }
  } catch (err) {
    await ports.close();
    throw err;
  }
  if (config.redisUrl && !config.databaseUrl) {
    log.warn('REDIS_URL without DATABASE_URL: each node keeps its own SQLite store, so run one node only');
  }
  if (config.databaseUrl && !config.redisUrl) {
    log.warn('DATABASE_URL without REDIS_URL: live fan-out stays in this process, so run one node only');
  }

  ports.wire = ({ hub, notifier, store }) => {
    hooks = {
      busRecovered() {
        log.warn('bus reconnected: catching local connections up from the store');
        hub.resyncAll().catch((err: unknown) => log.error({ err }, 'resync after bus recovery failed'));
      },
      subscribed(topic) {
        if (topic.startsWith('room:')) hub.resyncRoom(topic.slice('room:'.length));
      },
      expired(changes) {
        // Users of a node that died: tell each of their rooms (one store read per user, a few at a time).
        log.info({ users: changes.length }, 'presence of a dead node expired');
        void forEachLimited(changes, 8, async ({ userId, status }) => {
          const rooms = await store.listRoomsOf(userId);
          notifier.changed(
            userId,
            status,
            rooms.map((r) => r.id),
          );
        }).catch((err: unknown) => log.warn({ err }, 'could not announce expired presence'));
      },
    };
  };
  return ports;
}

/**
 * Rate limits protect the service; they are not worth an outage. While Redis is unreachable a `take` is allowed
 * (logged once per outage) and, for a second after a failure, Redis is not asked at all, so requests do not
 * each wait for a timeout.
 */
export class FailOpenRateLimiter implements RateLimiter {
  private skipUntil = 0;
  private failing = false;

  constructor(
    private readonly inner: RateLimiter,
    private readonly log: Pick<Logger, 'warn'>,
    private readonly pauseMs = 1000,
  ) {}

  async take(key: string, rule: RateRule, cost?: number): Promise<RateResult> {
    if (Date.now() < this.skipUntil) return { ok: true };
    try {
      const r = await this.inner.take(key, rule, cost);
      if (this.failing) {
        this.failing = false;
        this.log.warn('rate limiter reachable again');
      }
      return r;
    } catch (err) {
      if (err instanceof RangeError) throw err;
      if (!this.failing) {
        this.failing = true;
        this.log.warn({ err }, 'rate limiter unreachable: allowing requests until it is back');
      }
      this.skipUntil = Date.now() + this.pauseMs;
      return { ok: true };
    }
  }

  async peek(key: string, rule: RateRule): Promise<number> {
    if (Date.now() < this.skipUntil) return rule.burst;
    try {
      return await this.inner.peek(key, rule);
    } catch (err) {
      if (err instanceof RangeError) throw err;
      this.skipUntil = Date.now() + this.pauseMs;
      return rule.burst;
    }
  }

  async reset(key: string): Promise<void> {
    // Failing open here too: a bucket Redis could not forget refills by itself.
    await this.inner.reset(key).catch(() => {});
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

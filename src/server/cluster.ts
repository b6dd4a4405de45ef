import type { Logger } from 'pino';
import type { Bus } from '../core/bus.js';
import { forEachLimited, type Hub } from '../core/delivery/hub.js';
import { FallbackPresence } from '../core/fallback-presence.js';
import { FallbackRateLimiter } from '../core/fallback-rate-limiter.js';
import type { NodeDirectory } from '../core/node-directory.js';
import type { Presence } from '../core/presence.js';
import type { PresenceNotifier } from '../core/presence-notifier.js';
import type { RateLimiter } from '../core/rate-limiter.js';
import type { Store } from '../core/store.js';
import type { BlobStore } from '../core/blobs.js';
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
  /** File bytes in PostgreSQL (DATABASE_URL), so every node serves every file. */
  blobs?: BlobStore;
  /** Where the nodes post their figures for the admin dashboard. */
  nodes?: NodeDirectory;
  /**
   * Registers the node's one handler for the bus's and presence's events (outage, recovery, confirmed
   * subscriptions, expired presence), once the hub, notifier and sessions exist.
   */
  wire(deps: {
    hub: Hub;
    notifier: PresenceNotifier;
    store: Store;
    bus: Bus;
    presence: Presence;
    sessions: { recheckAll(): Promise<void> };
  }): void;
  /** Stops what `wire` started (the store polling of a bus outage): at shutdown, before the ports close. */
  unwire(): void;
  /** Closes what was opened here (when server construction fails half-way). */
  close(): Promise<void>;
}

/** Opens the configured cluster ports (none in embedded mode). PostgreSQL migrations run here, under a lock. */
export async function openClusterPorts(
  config: Config,
  nodeId: string,
  log: Logger,
  skip: { store?: boolean; bus?: boolean; presence?: boolean; limiter?: boolean; blobs?: boolean } = {},
): Promise<ClusterPorts> {
  const ports: ClusterPorts = { wire: () => {}, unwire: () => {}, close: async () => {} };
  let redisPresence: { heartbeat(): Promise<void> } | undefined;
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
    if (config.databaseUrl && !skip.blobs) {
      // After the store: PgStore.open ran the migrations (13 makes the blob tables).
      const { PgBlobStore } = await import('../storage/blobs/pg-blob-store.js');
      ports.blobs = PgBlobStore.open({ connectionString: config.databaseUrl, poolSize: config.databasePoolSize });
      opened.push(ports.blobs);
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
        });
        opened.push(ports.bus);
      }
      if (!skip.presence) {
        const inner = new RedisPresence({
          ...common,
          nodeId,
          heartbeatMs: config.presenceHeartbeatMs,
          ttlMs: config.presenceTtlMs,
        });
        redisPresence = inner;
        ports.presence = new FallbackPresence(inner, log);
        opened.push(ports.presence);
      }
      if (!skip.limiter) {
        ports.limiter = new FallbackRateLimiter(new RedisRateLimiter(common), log);
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

  ports.wire = ({ hub, notifier, store, bus, presence, sessions }) => {
    const outage = new BusOutage(config.busOutagePollMs, log, {
      poll: () => catchUp(hub),
      recover: async () => {
        await catchUp(hub);
        // Revocations (logout, ban, deactivation) published meanwhile were lost: read every session again.
        await sessions.recheckAll();
        await announcePresence(hub, notifier, presence, redisPresence);
      },
    });
    bus.setEventHandler({
      lost: () => outage.lost(),
      recovered: () => outage.recovered(),
      subscribed(topic) {
        if (topic.kind === 'room') hub.resyncRoom(topic.roomId);
      },
    });
    presence.setEventHandler({
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
    });
    ports.unwire = () => outage.stop();
  };
  return ports;
}

/** What the bus could not carry, read from the store: new events of local rooms, rooms added to local users. */
async function catchUp(hub: Hub): Promise<void> {
  await hub.resyncAll();
  await hub.resyncMemberships();
}

/**
 * After an outage, every node tells the rooms of its own users their status: clients were told wrong ones while
 * presence showed each node's users only (see FallbackPresence). This node's entries go back into Redis first.
 */
async function announcePresence(
  hub: Hub,
  notifier: PresenceNotifier,
  presence: Presence | undefined,
  redisPresence: { heartbeat(): Promise<void> } | undefined,
): Promise<void> {
  if (!(presence instanceof FallbackPresence)) return;
  await redisPresence?.heartbeat();
  await presence.probeNow();
  const statuses = presence.localUsers();
  for (const [userId, rooms] of hub.localUsers()) {
    const status = statuses.get(userId);
    if (status && rooms.size > 0) notifier.changed(userId, status, rooms);
  }
}

/**
 * The degraded mode while the bus is away (Redis down). Messages from other nodes are not heard, so every
 * `pollMs` the node reads the store for what it missed (`poll`); the next read starts `pollMs` after the last one
 * ended, so a slow store is not piled onto. When the bus is back (subscribed again), `recover` runs once: the same
 * reads, then whatever else the bus would have carried.
 */
class BusOutage {
  private timer: NodeJS.Timeout | undefined;
  private down = false;
  private stopped = false;
  /** Bumped by every loss and recovery: a poll of an earlier outage does not schedule the next one. */
  private generation = 0;

  constructor(
    private readonly pollMs: number,
    private readonly log: Logger,
    private readonly work: { poll(): Promise<void>; recover(): Promise<void> },
  ) {}

  lost(): void {
    if (this.down || this.stopped) return;
    this.down = true;
    this.generation++;
    this.log.warn(
      { pollMs: this.pollMs },
      'bus lost: serving clients from this node, reading the store for what other nodes commit',
    );
    this.schedule();
  }

  recovered(): void {
    if (this.stopped) return;
    this.down = false;
    this.generation++;
    clearTimeout(this.timer);
    this.log.warn('bus reconnected: catching local connections up from the store');
    this.work.recover().catch((err: unknown) => this.log.error({ err }, 'resync after bus recovery failed'));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.pollMs <= 0 || !this.down || this.stopped) return;
    const generation = this.generation;
    this.timer = setTimeout(() => {
      this.work
        .poll()
        .catch((err: unknown) => this.log.warn({ err }, 'reading the store during the bus outage failed'))
        .finally(() => generation === this.generation && this.schedule());
    }, this.pollMs);
    this.timer.unref();
  }
}

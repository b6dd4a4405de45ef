import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { parseTopic, type BusEventHandler, type BusMessage } from '../../core/bus.js';
import { InProcessBus } from '../../core/in-process-bus.js';

/**
 * The cluster bus: the in-process bus plus publishing across nodes through Redis pub/sub.
 *
 * Why classic PUBLISH/SUBSCRIBE: the store is the source of truth and the hub heals any gap from it, so the
 * at-most-once delivery of pub/sub is all the Bus contract asks for. It is the cheapest option (no storage,
 * no trimming, no consumer positions), works on every Redis/Valkey version and managed offering, and one
 * channel per topic lets Redis do the filtering: a node receives only the rooms and users it has connections
 * for. Streams would add durability we do not need and make a node read thousands of streams. On a Redis
 * Cluster, classic pub/sub broadcasts every message to every shard; a deployment that outgrows one primary
 * can add a sharded implementation (SPUBLISH/SSUBSCRIBE, Redis 7+) as a new file behind the same interface.
 *
 * How it works:
 * - `publish` delivers to this node's handlers synchronously (the base class), then PUBLISHes the envelope
 *   `{o: nodeId, m: message}` on channel `<prefix>bus:<topic>`. Every node drops envelopes carrying its own
 *   id, so a local handler gets each message exactly once. One publisher connection keeps per-topic order.
 * - A separate subscriber connection SUBSCRIBEs a topic's channel when its first local handler arrives and
 *   UNSUBSCRIBEs when the last one leaves. Commands on one connection run in order, so a quick
 *   subscribe/unsubscribe/subscribe ends subscribed.
 * - Redis down: `publish` still delivers locally, drops the remote copy at once and logs it (once per outage);
 *   it never rejects. ioredis reconnects and re-subscribes every channel by itself; subscription changes made
 *   meanwhile are queued and sent after that. `ping` rejects until both connections are up again.
 * - Healing what an outage lost, in both directions (the store has it all; receivers only need to notice):
 *   - This node missed what others published while its subscriber was away: once the subscriber is back and
 *     every channel re-subscribed, the event handler hears `recovered`; the server runs `Hub.resyncAll()`, which reads the store
 *     for every room with local connections. Anything committed later arrives live.
 *   - Others missed what this node could not publish: for each room topic, the last dropped `event` is kept
 *     (bounded) and published again as soon as publishing works (on reconnect, or after the next successful
 *     publish). A receiver that missed earlier events sees a gap and reads them from the store; one that has it
 *     drops it by seq. Other kinds are not replayed: typing and presence are ephemeral (presence is re-announced
 *     after an outage), and what user notices carried is read from the store (`room.added`: the server re-reads
 *     its users' room lists; `revoke`: it re-checks every open session).
 * - While the subscriber is away, `lost` tells the server, which then reads the store periodically for what the
 *   bus would have brought (see BusOutage in src/server/cluster.ts).
 * - Pub/sub ignores the database number: channels of deployments sharing one Redis are kept apart only by
 *   the prefix.
 */
export class RedisBus extends InProcessBus {
  /** Random per process; what this node stamps on its envelopes. */
  readonly nodeId: string;
  private readonly prefix: string;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly log: RedisLog;
  private readonly pingTimeoutMs: number;
  private droppedInOutage = 0;
  /** Per room topic, the last event this node could not publish: published again once Redis takes them. */
  private readonly unsent = new Map<string, BusMessage>();
  /** The node's handler for lost / recovered / subscribed (setEventHandler); none until registered. */
  private events: BusEventHandler | undefined;
  /** The subscriber is away (lost reported, recovered not yet): told to a handler registered meanwhile. */
  private deaf = false;
  private closed = false;

  constructor(opts: RedisBusOptions) {
    const log = opts.log ?? silentLog;
    super({
      onHandlerError: opts.onHandlerError ?? ((err, topic) => log.error({ err, topic }, 'bus handler failed')),
    });
    this.log = log;
    this.nodeId = opts.nodeId ?? randomBytes(8).toString('hex');
    this.prefix = `${opts.prefix ?? 'relaychat:'}bus:`;
    this.pingTimeoutMs = opts.pingTimeoutMs ?? 2000;
    this.pub = connect(opts.redis, {
      connectionName: `relaychat-bus-pub-${this.nodeId}`,
      // A publish either goes out now or is dropped: queueing would stall callers during an outage.
      enableOfflineQueue: false,
      // Never resend a PUBLISH that Redis may have run already: delivery is at most once.
      autoResendUnfulfilledCommands: false,
      commandTimeout: opts.publishTimeoutMs ?? 2000,
    });
    this.sub = connect(opts.redis, {
      connectionName: `relaychat-bus-sub-${this.nodeId}`,
      // Subscription changes made while Redis is away are queued and must survive any outage.
      maxRetriesPerRequest: null,
    });
    watchConnection(this.pub, 'bus publisher', log, undefined, () => {
      this.reportRecovered();
      this.republish();
    });
    let missed = false;
    const lost = () => {
      missed = true;
      if (this.closed) return;
      this.deaf = true;
      this.report('lost', (h) => h.lost());
    };
    watchConnection(this.sub, 'bus subscriber', log, lost, () => {
      // The first connect, with no failed attempt before it: nothing was missed yet.
      if (!missed) return;
      missed = false;
      // ioredis emits 'ready' just before it re-subscribes; a PING queued after those SUBSCRIBEs answers once
      // they are in place, so nothing published from then on can be missed by the resync that follows.
      setImmediate(() => {
        if (this.closed) return;
        this.sub.ping().then(
          () => !this.closed && this.recovered(),
          (err: unknown) => this.log.warn({ err }, 'bus subscriber ping after reconnect failed'),
        );
      });
    });
    this.sub.on('message', (channel: string, payload: string) => this.receive(channel, payload));
  }

  override publish(topic: string, message: BusMessage): Promise<void> {
    this.deliverLocal(topic, message);
    if (this.closed) return Promise.resolve();
    if (this.pub.status !== 'ready') {
      this.reportDropped(new Error(`redis connection is ${this.pub.status}`), topic, message);
      return Promise.resolve();
    }
    const envelope: Envelope = { o: this.nodeId, m: message };
    return this.pub.publish(this.prefix + topic, JSON.stringify(envelope)).then(
      () => {
        if (this.unsent.size > 0) this.republish();
      },
      (err: unknown) => this.reportDropped(err, topic, message),
    );
  }

  override subscribe(topic: string, handler: (message: BusMessage) => void): void {
    const first = !this.handlers.has(topic);
    super.subscribe(topic, handler);
    if (first && !this.closed) {
      this.sub.subscribe(this.prefix + topic).then(
        () => {
          if (this.closed || !this.handlers.has(topic)) return;
          const ref = parseTopic(topic);
          if (ref) this.report('subscribed', (h) => h.subscribed(ref));
        },
        (err: unknown) => this.log.error({ err, topic }, 'bus subscribe failed'),
      );
    }
  }

  override unsubscribe(topic: string, handler: (message: BusMessage) => void): void {
    const had = this.handlers.has(topic);
    super.unsubscribe(topic, handler);
    if (had && !this.handlers.has(topic) && !this.closed) {
      this.sub
        .unsubscribe(this.prefix + topic)
        .catch((err: unknown) => this.log.error({ err, topic }, 'bus unsubscribe failed'));
    }
  }

  /** Rejects unless both connections are up and Redis answers in time. */
  override async ping(): Promise<void> {
    for (const [name, conn] of [
      ['publisher', this.pub],
      ['subscriber', this.sub],
    ] as const) {
      if (conn.status !== 'ready') throw new Error(`redis bus ${name} connection is ${conn.status}`);
    }
    await withTimeout(Promise.all([this.pub.ping(), this.sub.ping()]), this.pingTimeoutMs, 'redis bus ping');
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await super.close();
    await Promise.all([quit(this.pub), quit(this.sub)]);
  }

  private receive(channel: string, payload: string): void {
    if (!channel.startsWith(this.prefix)) return;
    const topic = channel.slice(this.prefix.length);
    let envelope: unknown;
    try {
      envelope = JSON.parse(payload);
    } catch (err) {
      this.log.warn({ err, topic, payload: payload.slice(0, 200) }, 'bus dropped a malformed message');
      return;
    }
    if (!isEnvelope(envelope)) {
      this.log.warn({ topic, payload: payload.slice(0, 200) }, 'bus dropped a malformed message');
      return;
    }
    // Our own publish: local handlers already had it, directly.
    if (envelope.o === this.nodeId) return;
    this.deliverLocal(topic, envelope.m);
  }

  private reportDropped(err: unknown, topic: string, message: BusMessage): void {
    if (this.droppedInOutage++ === 0) {
      this.log.warn({ err, topic }, 'bus could not publish to redis; delivered on this node only');
    }
    if (message.kind !== 'event') return;
    const last = this.unsent.get(topic);
    if (last?.kind === 'event' && last.event.seq > message.event.seq) return;
    if (last || this.unsent.size < MAX_UNSENT_TOPICS) this.unsent.set(topic, message);
  }

  /** Publishes the last dropped event of each room again, so other nodes notice their gap. */
  private republish(): void {
    if (this.closed || this.unsent.size === 0 || this.pub.status !== 'ready') return;
    const batch = [...this.unsent];
    this.unsent.clear();
    for (const [topic, message] of batch) {
      const envelope: Envelope = { o: this.nodeId, m: message };
      this.pub.publish(this.prefix + topic, JSON.stringify(envelope)).catch((err: unknown) => {
        this.reportDropped(err, topic, message);
      });
    }
  }

  override setEventHandler(handler: BusEventHandler): void {
    this.events = handler;
    if (this.deaf && !this.closed) this.report('lost', (h) => h.lost());
  }

  private recovered(): void {
    this.deaf = false;
    this.report('recovered', (h) => h.recovered());
  }

  private report(name: string, fn: (handler: BusEventHandler) => void): void {
    if (!this.events) return;
    try {
      fn(this.events);
    } catch (err) {
      this.log.error({ err }, `bus ${name} handler failed`);
    }
  }

  private reportRecovered(): void {
    if (this.droppedInOutage > 0) {
      this.log.warn({ dropped: this.droppedInOutage }, 'bus publishing to redis again; messages were dropped');
      this.droppedInOutage = 0;
    }
  }
}

export interface RedisBusOptions {
  /** A `redis://` URL or ioredis options. */
  redis: string | RedisOptions;
  /** Namespaces this deployment's channels and keys in a shared Redis. Default `relaychat:`. */
  prefix?: string;
  /** Default: random per instance. */
  nodeId?: string;
  log?: RedisLog;
  /** Default: `log.error`. */
  onHandlerError?: (err: unknown, topic: string) => void;
  /** Longest a publish waits for Redis before it counts as dropped. Default 2000. */
  publishTimeoutMs?: number;
  /** Longest `ping` waits for Redis. Default 2000. */
  pingTimeoutMs?: number;
}

/** Room topics whose last dropped event is remembered for republishing; beyond that, receivers heal on the next event. */
const MAX_UNSENT_TOPICS = 10_000;

/** The logger the Redis adapters use: a subset of pino's. */
export interface RedisLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silentLog: RedisLog = { warn: () => {}, error: () => {} };

interface Envelope {
  o: string;
  m: BusMessage;
}

const KINDS: ReadonlySet<string> = new Set<BusMessage['kind']>([
  'event',
  'typing',
  'presence',
  'room.added',
  'read',
  'notify',
  'settings',
  'invite',
  'revoke',
  'announcement',
  'profile',
  'command',
]);

/** A shape check, not full validation: the bus is our own infrastructure; this stops corrupt or foreign data. */
function isEnvelope(v: unknown): v is Envelope {
  if (typeof v !== 'object' || v === null) return false;
  const { o, m } = v as { o?: unknown; m?: unknown };
  if (typeof o !== 'string' || typeof m !== 'object' || m === null) return false;
  const kind = (m as { kind?: unknown }).kind;
  return typeof kind === 'string' && KINDS.has(kind);
}

/** Opens an ioredis connection from a URL or options, with `overrides` applied. */
export function connect(redis: string | RedisOptions, overrides: RedisOptions): Redis {
  return typeof redis === 'string' ? new Redis(redis, overrides) : new Redis({ ...redis, ...overrides });
}

/**
 * Logs a connection's outages once each (ioredis emits an error per reconnect attempt) and its recovery.
 * Also keeps ioredis from printing unhandled `error` events.
 */
export function watchConnection(
  conn: Redis,
  name: string,
  log: RedisLog,
  onLost?: () => void,
  onRecovered?: () => void,
): void {
  let down = false;
  let lastErr: unknown;
  conn.on('error', (err: unknown) => {
    lastErr = err;
  });
  // Emitted only when ioredis will try again: a genuine loss, not our own quit.
  conn.on('reconnecting', () => {
    if (down) return;
    down = true;
    log.warn({ err: lastErr, connection: name }, 'redis connection lost; reconnecting');
    onLost?.();
  });
  conn.on('ready', () => {
    if (down) log.warn({ connection: name }, 'redis connection restored');
    down = false;
    lastErr = undefined;
    onRecovered?.();
  });
}

/** QUIT if connected (bounded), else just drop the socket; never rejects. */
export async function quit(conn: Redis, timeoutMs = 2000): Promise<void> {
  if (conn.status === 'end') return;
  if (conn.status !== 'ready') {
    conn.disconnect();
    return;
  }
  try {
    await withTimeout(conn.quit(), timeoutMs, 'redis quit');
  } catch {
    conn.disconnect();
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

import type { Redis, RedisOptions } from 'ioredis';
import type { NodeDirectory } from '../../core/node-directory.js';
import type { NodeSummary } from '../../protocol/model.js';
import { connect, quit, watchConnection, type RedisLog } from './redis-bus.js';

/**
 * The nodes' latest figures in Redis: each entry is its own key `<prefix>node-stats:<nodeId>` (a JSON
 * NodeSummary) with a TTL, so Redis expires a dead node's entry on its own clock; the set `<prefix>node-stats`
 * names the nodes that posted, and `list` drops the names whose key expired. A post is one round trip, a list
 * two, whatever the number of users.
 */
export class RedisNodeDirectory implements NodeDirectory {
  private readonly redis: Redis;
  private readonly setKey: string;
  private closed = false;

  constructor(private readonly opts: RedisNodeDirectoryOptions) {
    if (!/^[\w-]+$/.test(opts.nodeId)) throw new RangeError(`invalid node id ${JSON.stringify(opts.nodeId)}`);
    this.redis = connect(opts.redis, {
      connectionName: `relaychat-node-stats-${opts.nodeId}`,
      // A dashboard read during an outage fails fast instead of waiting for a reconnect.
      maxRetriesPerRequest: 1,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
    });
    watchConnection(this.redis, 'node directory', opts.log ?? { warn: () => {}, error: () => {} });
    this.setKey = `${opts.prefix ?? 'relaychat:'}node-stats`;
  }

  private keyOf(nodeId: string): string {
    return `${this.setKey}:${nodeId}`;
  }

  async post(summary: NodeSummary, ttlMs: number): Promise<void> {
    this.open();
    this.checkConnected();
    await this.redis
      .multi()
      .set(this.keyOf(this.opts.nodeId), JSON.stringify(summary), 'PX', Math.max(1, Math.round(ttlMs)))
      .sadd(this.setKey, this.opts.nodeId)
      .exec();
  }

  async list(): Promise<NodeSummary[]> {
    this.open();
    this.checkConnected();
    const ids = (await this.redis.smembers(this.setKey)).sort();
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.keyOf(id)));
    const gone = ids.filter((_, i) => values[i] === null);
    // A node may post again between the two reads; it re-adds itself at its next post anyway.
    if (gone.length > 0) await this.redis.srem(this.setKey, ...gone);
    const out: NodeSummary[] = [];
    for (const v of values) {
      if (v === null) continue;
      try {
        out.push(JSON.parse(v) as NodeSummary);
      } catch (err) {
        this.opts.log?.warn({ err }, 'unreadable node-stats entry in Redis; skipped');
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.redis.multi().del(this.keyOf(this.opts.nodeId)).srem(this.setKey, this.opts.nodeId).exec();
    } catch {
      // It expires with its TTL.
    }
    await quit(this.redis);
  }

  private open(): void {
    if (this.closed) throw new Error('node directory is closed');
  }

  /** A lost connection fails at once rather than queueing behind the reconnect: the dashboard does not wait. */
  private checkConnected(): void {
    if (this.redis.status === 'reconnecting') throw new Error('node directory connection is reconnecting');
  }
}

export interface RedisNodeDirectoryOptions {
  /** A `redis://` URL or ioredis options. */
  redis: string | RedisOptions;
  /** Namespaces this deployment's keys in a shared Redis. Default `relaychat:`. */
  prefix?: string;
  /** This node's id (letters, digits, `_`, `-`). */
  nodeId: string;
  log?: RedisLog;
  /** Longest one Redis call may take. Default 2000. */
  commandTimeoutMs?: number;
}

import { randomBytes } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import type { Presence, PresenceChange, PresenceEventHandler } from '../../core/presence.js';
import type { PresenceStatus } from '../../protocol/model.js';
import { connect, quit, watchConnection, type RedisLog } from './redis-bus.js';

/**
 * Cluster-wide presence in Redis, with per-node expiry. Every change is one Lua script, so the status
 * before and after (and so `changed`) are computed atomically across nodes.
 *
 * Keys, under `<prefix>presence:`:
 * - `user:<userId>` hash, `<nodeId>:<connId>` → `online` | `away`: the user's connections on every node.
 * - `node:<nodeId>` liveness key, renewed every `heartbeatMs` (default 5 s) with a TTL of `ttlMs` (default
 *   15 s). Entries of a node whose key is gone are ignored by every read and write at once: a node that dies
 *   without `close` has its users shown offline at most `ttlMs` after its last heartbeat, so within 15 s of
 *   dying by default.
 * - `node-users:<nodeId>` set of users with connections on that node, and `nodes`, the set of node ids:
 *   how the living find a dead node's entries. Each node's heartbeat (and `onlineCount`) sweeps dead nodes,
 *   500 users per script call, and reports users whose status that changed to the event handler (`expired`) (exactly one node
 *   reports each), so rooms can be told; by default within `ttlMs + heartbeatMs` of the death.
 * - `online` set of users with any entry: `onlineCount` is its SCARD after the sweep — O(1) plus one EXISTS
 *   per node, however many users are online.
 *
 * While the connection to Redis is down every call rejects at once instead of queueing (the server's
 * FallbackPresence then answers from this node's view), and a change marks this node's entries for a rewrite.
 *
 * This node keeps its own connections in memory too. When Redis lost them (a restart without persistence,
 * a stall longer than the TTL that let others sweep us) or a write failed, the next heartbeat rewrites this
 * node's entries from memory, so presence heals without reconnecting clients.
 *
 * The scripts build key names from the prefix, so they need a single Redis (or one hash slot: put `{…}` in
 * the prefix on a Redis Cluster). Redis 5 or newer.
 */
export class RedisPresence implements Presence {
  readonly nodeId: string;
  private readonly redis: Redis & Scripts;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly log: RedisLog;
  /** The node's handler for expiries (setEventHandler); none until registered. */
  private events: PresenceEventHandler | undefined;
  /** This node's connections: user → connection → status. */
  private readonly local = new Map<string, Map<string, 'online' | 'away'>>();
  private readonly timer: NodeJS.Timeout | undefined;
  /** Operations wait for this: the first registration, then any rewrite of this node's entries. */
  private gate: Promise<void>;
  private beating: Promise<void> | undefined;
  /** A write may not have reached Redis: rewrite this node's entries at the next heartbeat. */
  private dirty = false;
  private closed = false;

  constructor(opts: RedisPresenceOptions) {
    const heartbeatMs = opts.heartbeatMs ?? 5000;
    this.ttlMs = opts.ttlMs ?? 15_000;
    if (heartbeatMs < 0 || (heartbeatMs > 0 && this.ttlMs <= heartbeatMs)) {
      throw new RangeError(`presence ttlMs (${this.ttlMs}) must be longer than heartbeatMs (${heartbeatMs})`);
    }
    this.nodeId = opts.nodeId ?? randomBytes(8).toString('hex');
    if (!/^[\w-]+$/.test(this.nodeId)) throw new RangeError(`invalid node id ${JSON.stringify(this.nodeId)}`);
    this.prefix = `${opts.prefix ?? 'relaychat:'}presence:`;
    this.log = opts.log ?? { warn: () => {}, error: () => {} };
    const redis = connect(opts.redis, {
      connectionName: `relaychat-presence-${this.nodeId}`,
      // Fail fast during an outage; a failed write marks this node's entries for a rewrite.
      maxRetriesPerRequest: 1,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
    });
    for (const [name, body] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 0, lua: body });
    watchConnection(redis, 'presence', this.log);
    this.redis = redis as Redis & Scripts;
    this.gate = this.heartbeat();
    if (heartbeatMs > 0) {
      this.timer = setInterval(() => void this.heartbeat(), heartbeatMs);
      this.timer.unref();
    }
  }

  connect(userId: string, connId: string): Promise<PresenceChange> {
    return this.apply(userId, connId, 'connect');
  }

  setStatus(userId: string, connId: string, status: 'online' | 'away'): Promise<PresenceChange> {
    return this.apply(userId, connId, status);
  }

  disconnect(userId: string, connId: string): Promise<PresenceChange> {
    return this.apply(userId, connId, 'disconnect');
  }

  async statusOf(userIds: readonly string[]): Promise<Map<string, PresenceStatus>> {
    await this.gate;
    if (this.redis.status !== 'ready') throw this.unavailable();
    const result = new Map<string, PresenceStatus>();
    const batches: Promise<void>[] = [];
    for (let i = 0; i < userIds.length; i += STATUS_BATCH) {
      const ids = userIds.slice(i, i + STATUS_BATCH);
      batches.push(
        this.redis.relaychatPresenceStatus(this.prefix, this.nodeId, ...ids).then((statuses) => {
          ids.forEach((id, j) => result.set(id, statuses[j] ?? 'offline'));
        }),
      );
    }
    await Promise.all(batches);
    return result;
  }

  async onlineCount(): Promise<number> {
    await this.gate;
    if (this.redis.status !== 'ready') throw this.unavailable();
    for (let round = 0; ; round++) {
      const { more, online } = await this.sweep(true);
      if (!more) return online;
      // A huge dead node: count what is left rather than stall this caller.
      if (round >= MAX_SWEEP_ROUNDS) return this.redis.scard(`${this.prefix}online`);
    }
  }

  /**
   * Renews this node's liveness key, rewrites its entries if Redis lost them, and sweeps dead nodes.
   * Runs every `heartbeatMs`; never rejects (failures are logged).
   */
  setEventHandler(handler: PresenceEventHandler): void {
    this.events = handler;
  }

  heartbeat(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.beating ??= this.beat().finally(() => (this.beating = undefined));
    return this.beating;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.beating;
    this.local.clear();
    try {
      while ((await this.redis.relaychatPresenceSweep(this.prefix, this.nodeId, SWEEP_BATCH, 'self', 0))[0] === 1);
      await this.redis.relaychatPresenceLeave(this.prefix, this.nodeId);
    } catch (err) {
      this.log.warn({ err }, 'presence could not remove this node’s entries; they expire with it');
    }
    await quit(this.redis);
  }

  private async apply(
    userId: string,
    connId: string,
    op: 'connect' | 'disconnect' | 'online' | 'away',
  ): Promise<PresenceChange> {
    await this.gate;
    // Memory first, in the same tick as the write is queued: a rewrite sees every change in order.
    let conns = this.local.get(userId);
    if (op === 'connect') {
      if (!conns) this.local.set(userId, (conns = new Map()));
      conns.set(connId, 'online');
    } else if (op === 'disconnect') {
      conns?.delete(connId);
      if (conns?.size === 0) this.local.delete(userId);
    } else if (conns?.has(connId)) {
      conns.set(connId, op);
    }
    if (this.redis.status !== 'ready') {
      // Fail fast instead of queueing behind a reconnect; the rewrite after the outage brings Redis up to date.
      this.dirty = true;
      throw this.unavailable();
    }
    try {
      const [status, changed] = await this.redis.relaychatPresenceApply(this.prefix, this.nodeId, op, userId, connId);
      return { status, changed: changed === 1 };
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  private unavailable(): Error {
    return new Error(`redis presence connection is ${this.redis.status}`);
  }

  private async beat(): Promise<void> {
    try {
      const known = await this.redis.relaychatPresenceBeat(this.prefix, this.nodeId, this.ttlMs);
      if (known === 0 || this.dirty) await this.rewrite();
      for (let round = 0; round < MAX_SWEEP_ROUNDS; round++) if (!(await this.sweep(false)).more) break;
    } catch (err) {
      this.log.warn({ err }, 'presence heartbeat failed');
    }
  }

  /** Replaces this node's entries in Redis with what it has in memory; operations wait meanwhile. */
  private async rewrite(): Promise<void> {
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    this.dirty = false;
    try {
      while ((await this.redis.relaychatPresenceSweep(this.prefix, this.nodeId, SWEEP_BATCH, 'self', 0))[0] === 1);
      const entries: string[] = [];
      for (const [userId, conns] of this.local) {
        for (const [connId, status] of conns) entries.push(userId, connId, status);
      }
      // Queued in one tick, so no later operation can slip between the batches.
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < entries.length; i += 3 * REWRITE_BATCH) {
        writes.push(
          this.redis.relaychatPresenceRegister(this.prefix, this.nodeId, ...entries.slice(i, i + 3 * REWRITE_BATCH)),
        );
      }
      await Promise.all(writes);
    } catch (err) {
      this.dirty = true;
      throw err;
    } finally {
      open();
    }
  }

  /** One sweep step over dead nodes; with `count`, also the online count once nothing is left. */
  private async sweep(count: boolean): Promise<{ more: boolean; online: number }> {
    const [more, online, flat] = await this.redis.relaychatPresenceSweep(
      this.prefix,
      this.nodeId,
      SWEEP_BATCH,
      'dead',
      count ? 1 : 0,
    );
    if (flat.length > 0) {
      const changes: ExpiredChange[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        changes.push({ userId: flat[i]!, status: flat[i + 1] as PresenceStatus });
      }
      try {
        this.events?.expired(changes);
      } catch (err) {
        this.log.error({ err }, 'presence expired handler failed');
      }
    }
    return { more: more === 1, online };
  }
}

export interface RedisPresenceOptions {
  /** A `redis://` URL or ioredis options. */
  redis: string | RedisOptions;
  /** Namespaces this deployment's keys in a shared Redis. Default `relaychat:`. */
  prefix?: string;
  /** Letters, digits, `_` and `-`. Default: random per instance. */
  nodeId?: string;
  /** How often this node renews its liveness key and sweeps dead nodes. Default 5000; 0 = no timer. */
  heartbeatMs?: number;
  /** How long a node that stopped renewing counts as alive. Default 15000; must exceed `heartbeatMs`. */
  ttlMs?: number;
  log?: RedisLog;
  /** Longest one Redis call may take. Default 2000. */
  commandTimeoutMs?: number;
}

export interface ExpiredChange {
  userId: string;
  status: PresenceStatus;
}

const STATUS_BATCH = 1000;
const REWRITE_BATCH = 500;
const SWEEP_BATCH = 500;
const MAX_SWEEP_ROUNDS = 100;

interface Scripts {
  relaychatPresenceApply(
    prefix: string,
    self: string,
    op: string,
    userId: string,
    connId: string,
  ): Promise<[PresenceStatus, 0 | 1]>;
  relaychatPresenceStatus(prefix: string, self: string, ...userIds: string[]): Promise<PresenceStatus[]>;
  relaychatPresenceRegister(prefix: string, self: string, ...triples: string[]): Promise<number>;
  relaychatPresenceBeat(prefix: string, self: string, ttlMs: number): Promise<0 | 1>;
  relaychatPresenceSweep(
    prefix: string,
    self: string,
    budget: number,
    mode: 'dead' | 'self',
    count: 0 | 1,
  ): Promise<[0 | 1, number, string[]]>;
  relaychatPresenceLeave(prefix: string, self: string): Promise<number>;
}

/** Shared by every script: ARGV[1] is the key prefix, ARGV[2] this node's id. */
const PRELUDE = `
local p, self = ARGV[1], ARGV[2]
local live = {}
-- A node is alive while its liveness key exists; the caller always is.
local function isAlive(node)
  if node == self then return true end
  local a = live[node]
  if a == nil then
    a = redis.call('EXISTS', p .. 'node:' .. node) == 1
    live[node] = a
  end
  return a
end
local function nodeOf(field)
  local i = string.find(field, ':', 1, true)
  if i then return string.sub(field, 1, i - 1) end
  return field
end
-- Folds one connection's status into a user's: online if any is online, else away.
local function fold(acc, s)
  if acc == 'online' or s == 'online' then return 'online' end
  return 'away'
end
local function statusOf(user)
  local flat = redis.call('HGETALL', p .. 'user:' .. user)
  local st = 'offline'
  for i = 1, #flat, 2 do
    if isAlive(nodeOf(flat[i])) then
      st = fold(st, flat[i + 1])
      if st == 'online' then return st end
    end
  end
  return st
end
`;

const SCRIPTS: Record<keyof Scripts, string> = {
  // ARGV[3] op: connect | disconnect | online | away; ARGV[4] user; ARGV[5] connection.
  relaychatPresenceApply: `${PRELUDE}
local op, user = ARGV[3], ARGV[4]
local hkey = p .. 'user:' .. user
local field = self .. ':' .. ARGV[5]
local before = statusOf(user)
if op == 'connect' then
  redis.call('HSET', hkey, field, 'online')
  redis.call('SADD', p .. 'node-users:' .. self, user)
  redis.call('SADD', p .. 'online', user)
  redis.call('SADD', p .. 'nodes', self)
elseif op == 'disconnect' then
  if redis.call('HDEL', hkey, field) == 1 then
    local fields = redis.call('HKEYS', hkey)
    if #fields == 0 then redis.call('SREM', p .. 'online', user) end
    local here = false
    for _, f in ipairs(fields) do
      if nodeOf(f) == self then here = true break end
    end
    if not here then redis.call('SREM', p .. 'node-users:' .. self, user) end
  end
elseif redis.call('HEXISTS', hkey, field) == 1 then
  redis.call('HSET', hkey, field, op)
end
local after = statusOf(user)
local changed = 0
if before ~= after then changed = 1 end
return {after, changed}
`,
  // ARGV[3..] user ids.
  relaychatPresenceStatus: `${PRELUDE}
local out = {}
for i = 3, #ARGV do out[#out + 1] = statusOf(ARGV[i]) end
return out
`,
  // ARGV[3..] (user, connection, status) triples of this node.
  relaychatPresenceRegister: `${PRELUDE}
for i = 3, #ARGV, 3 do
  local user = ARGV[i]
  redis.call('HSET', p .. 'user:' .. user, self .. ':' .. ARGV[i + 1], ARGV[i + 2])
  redis.call('SADD', p .. 'node-users:' .. self, user)
  redis.call('SADD', p .. 'online', user)
end
return 1
`,
  // ARGV[3] TTL in ms. Returns 1 if the liveness key was still there, 0 if it had to be created.
  relaychatPresenceBeat: `${PRELUDE}
local key = p .. 'node:' .. self
redis.call('SADD', p .. 'nodes', self)
if redis.call('PEXPIRE', key, ARGV[3]) == 1 then return 1 end
redis.call('SET', key, '1', 'PX', ARGV[3])
return 0
`,
  // ARGV[3] budget (users), ARGV[4] mode: dead (sweep dead nodes) | self (remove this node's entries),
  // ARGV[5] 1 = also count. Returns {more, count or -1, {user, status after, ...} whose status changed}.
  relaychatPresenceSweep: `${PRELUDE}
local budget = tonumber(ARGV[3])
local changes = {}
local more = 0
local function drop(node, user)
  local hkey = p .. 'user:' .. user
  local flat = redis.call('HGETALL', hkey)
  local before, after = 'offline', 'offline'
  local gone = {}
  for i = 1, #flat, 2 do
    local n, s = nodeOf(flat[i]), flat[i + 1]
    if n == node then
      gone[#gone + 1] = flat[i]
      before = fold(before, s)
    elseif isAlive(n) then
      before = fold(before, s)
      after = fold(after, s)
    end
  end
  if #gone > 0 then redis.call('HDEL', hkey, unpack(gone)) end
  if redis.call('EXISTS', hkey) == 0 then redis.call('SREM', p .. 'online', user) end
  if before ~= after then
    changes[#changes + 1] = user
    changes[#changes + 1] = after
  end
end
-- Removes up to budget users' entries of node; true when none are left.
local function purge(node)
  if budget <= 0 then return false end
  local usersKey = p .. 'node-users:' .. node
  local users = redis.call('SPOP', usersKey, budget)
  budget = budget - #users
  for _, user in ipairs(users) do drop(node, user) end
  return redis.call('EXISTS', usersKey) == 0
end
if ARGV[4] == 'self' then
  if not purge(self) then more = 1 end
  changes = {}
else
  for _, node in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
    if not isAlive(node) then
      if purge(node) then redis.call('SREM', p .. 'nodes', node) else more = 1 end
    end
  end
end
local count = -1
if ARGV[5] == '1' and more == 0 then count = redis.call('SCARD', p .. 'online') end
return {more, count, changes}
`,
  relaychatPresenceLeave: `${PRELUDE}
redis.call('DEL', p .. 'node:' .. self, p .. 'node-users:' .. self)
redis.call('SREM', p .. 'nodes', self)
return 1
`,
};

import type { Redis, RedisOptions } from 'ioredis';
import type { RateLimiter, RateResult, RateRule } from '../../core/rate-limiter.js';
import { connect, quit, watchConnection, type RedisLog } from './redis-bus.js';

/**
 * One token bucket per key, checked and updated atomically by a Lua script, so every node shares it.
 * The clock is Redis's (`TIME` inside the script), not the nodes': nodes with skewed clocks still agree.
 * Each bucket is a hash `<prefix>rate:<key>` of tokens and the time they were counted; it expires when it
 * would have refilled to full, because a missing bucket starts full — idle keys cost nothing.
 *
 * ioredis runs the script by EVALSHA and falls back to EVAL when Redis does not have it (after a restart or
 * SCRIPT FLUSH). Same rounding as the in-process limiter: waiting `retryAfterMs` is always enough.
 * A Redis error rejects `take` (after at most `commandTimeoutMs`); whether to fail open is the caller's call.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis & TakeCommand;
  private readonly prefix: string;
  private closed = false;

  constructor(opts: RedisRateLimiterOptions) {
    const redis = connect(opts.redis, {
      connectionName: 'relaychat-rate-limiter',
      // Fail fast during an outage instead of queueing requests behind a reconnect.
      maxRetriesPerRequest: 1,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
    });
    redis.defineCommand('relaychatTake', { numberOfKeys: 1, lua: TAKE });
    redis.defineCommand('relaychatPeek', { numberOfKeys: 1, lua: PEEK });
    watchConnection(redis, 'rate limiter', opts.log ?? { warn: () => {}, error: () => {} });
    this.redis = redis as Redis & TakeCommand;
    this.prefix = `${opts.prefix ?? 'relaychat:'}rate:`;
  }

  async take(key: string, rule: RateRule, cost = 1): Promise<RateResult> {
    checkRule(rule);
    if (!(cost >= 0 && Number.isFinite(cost))) throw new RangeError(`invalid cost ${cost}`);
    this.checkConnected();
    const [ok, retryAfterMs] = await this.redis.relaychatTake(this.prefix + key, rule.burst, rule.perSecond, cost);
    return ok === 1 ? { ok: true } : { ok: false, retryAfterMs };
  }

  async peek(key: string, rule: RateRule): Promise<number> {
    checkRule(rule);
    this.checkConnected();
    return Number(await this.redis.relaychatPeek(this.prefix + key, rule.burst, rule.perSecond));
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  /** A lost connection fails at once rather than queueing behind the reconnect (the caller falls back). */
  private checkConnected(): void {
    if (this.redis.status === 'reconnecting') throw new Error('redis rate limiter connection is reconnecting');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await quit(this.redis);
  }
}

function checkRule(rule: RateRule): void {
  if (!(rule.burst > 0 && rule.perSecond > 0 && Number.isFinite(rule.burst) && Number.isFinite(rule.perSecond))) {
    throw new RangeError(`invalid rate rule ${JSON.stringify(rule)}`);
  }
}

export interface RedisRateLimiterOptions {
  /** A `redis://` URL or ioredis options. */
  redis: string | RedisOptions;
  /** Namespaces this deployment's keys in a shared Redis. Default `relaychat:`. */
  prefix?: string;
  log?: RedisLog;
  /** Longest `take` waits for Redis. Default 2000. */
  commandTimeoutMs?: number;
}

interface TakeCommand {
  relaychatTake(key: string, burst: number, perSecond: number, cost: number): Promise<[0 | 1, number]>;
  /** The token count as a string (Lua numbers would be truncated to integers in the reply). */
  relaychatPeek(key: string, burst: number, perSecond: number): Promise<string>;
}

/**
 * KEYS[1] bucket; ARGV burst, perSecond, cost. Returns {1, 0} when taken, {0, retryAfterMs} when not.
 * Fields: t = tokens, s/u = seconds/microseconds of Redis TIME when t was counted (kept apart so the
 * arithmetic stays exact in Lua's doubles).
 */
const TAKE = `
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = redis.call('TIME')
local s, u = tonumber(now[1]), tonumber(now[2])
local b = redis.call('HMGET', KEYS[1], 't', 's', 'u')
local tokens = burst
if b[1] then
  local elapsedMs = (s - tonumber(b[2])) * 1000 + (u - tonumber(b[3])) / 1000
  if elapsedMs < 0 then elapsedMs = 0 end
  tokens = math.min(burst, tonumber(b[1]) + elapsedMs / 1000 * rate)
end
local ok = tokens + 1e-9 >= cost
if ok then tokens = tokens - cost end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 's', now[1], 'u', now[2])
-- Gone once it would be full again: a missing bucket starts full.
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((burst - tokens) / rate * 1000)))
if ok then return {1, 0} end
return {0, math.ceil((cost - tokens) / rate * 1000)}
`;

/** KEYS[1] bucket; ARGV burst, perSecond. Returns the tokens now (as a string), writing nothing. */
const PEEK = `
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 't', 's', 'u')
if not b[1] then return tostring(burst) end
local now = redis.call('TIME')
local elapsedMs = (tonumber(now[1]) - tonumber(b[2])) * 1000 + (tonumber(now[2]) - tonumber(b[3])) / 1000
if elapsedMs < 0 then elapsedMs = 0 end
return string.format('%.17g', math.min(burst, tonumber(b[1]) + elapsedMs / 1000 * rate))
`;

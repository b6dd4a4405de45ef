import pg from 'pg';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { ChatError } from '../../core/chat-error.js';
import type { NewMessage } from '../../core/store.js';
import {
  appendMessages,
  IdempotencyRace,
  settle,
  type AppendResult,
  type Outcome,
  type Pending,
} from '../sql/events.js';
import { oneStatement, Rollback, runAsync, type Op, type RecipeFn } from '../sql/recipe.js';
import { SqlStore } from '../sql/sql-store.js';
import { migrate, type MigrateResult } from './migrate.js';
import { pgQueries, type Queryable } from './queries.js';

/**
 * bigint (int8) columns as JS numbers: times in ms, seqs and counts are all far below 2^53. Scoped to this
 * store's pool (not pg's global parsers), so other users of `pg` in the process are unaffected.
 */
const INT8_OID = 20;
const parseInt8 = (v: string) => Number(v);
const types: PoolConfig['types'] = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

// SQLSTATE classes and codes that mean "the database cannot serve right now; retry": connection exceptions (08),
// insufficient resources (53), operator intervention incl. shutdown and cancel (57), system/IO errors (58),
// transaction rollbacks (40: serialization failure, deadlock), lock timeouts, read-only after a failover.
const TRANSIENT_CLASSES = new Set(['08', '53', '57', '58', '40']);
const TRANSIENT_CODES = new Set(['55P03', '25006', '25P03']);

const unavailable = (err: unknown, what = 'Storage unavailable') =>
  new ChatError('unavailable', { message: `${what}: ${err instanceof Error ? err.message : String(err)}` });

/**
 * Maps a driver error to the domain: constraint violations to their codes, anything that means the database is
 * unreachable or unable to serve (network errors, pool timeouts, shutdown, deadlock, ...) to `unavailable`
 * (retryable). Programming errors (unexpected SQL errors, TypeErrors) are passed through: they are bugs.
 */
export function toStoreError(err: unknown): unknown {
  if (err instanceof ChatError) return err;
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? '';
    if (code === '23505' && err.constraint === 'users_username_key_unique') return new ChatError('username_taken');
    if (code === '23505' && err.constraint === 'rooms_public_name_unique') return new ChatError('room_name_taken');
    if (code === '23503' && err.constraint?.endsWith('_user_id_fkey')) return new ChatError('user_not_found');
    if (code === '23503' && err.constraint?.endsWith('_room_id_fkey')) return new ChatError('room_not_found');
    if (TRANSIENT_CLASSES.has(code.slice(0, 2)) || TRANSIENT_CODES.has(code)) return unavailable(err);
    return err;
  }
  if (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError
  ) {
    return err;
  }
  // Socket errors (ECONNREFUSED, ECONNRESET, ...), "Connection terminated", connect timeouts, a pool that ended.
  return unavailable(err);
}

const rethrowAsStoreError = (err: unknown): never => {
  throw toStoreError(err);
};

const closedError = () => new ChatError('unavailable', { message: 'Store is closed.' });

/** Attempts at one group-commit batch when it loses an idempotency race or a deadlock (both roll back fully). */
const MAX_BATCH_ATTEMPTS = 5;

export interface PgStoreOptions {
  /** `postgresql://user:pass@host:port/db`. Either this or `pool` (or both: this wins for what it sets). */
  connectionString?: string;
  /** Further node-postgres pool settings (ssl, host, ...). */
  pool?: PoolConfig;
  /** Connections in this node's pool. Default 10. */
  poolSize?: number;
  /** How long a call waits for a connection before failing with `unavailable`. Default 5000 ms. */
  connectionTimeoutMs?: number;
  now?: () => number;
  /** Upper bound on messages committed in one transaction by group commit. Default 1000. */
  maxBatch?: number;
  /** Called with errors of idle pooled connections (server restart, network); they are discarded and replaced. */
  onConnectionError?: (err: Error) => void;
}

/**
 * The clustered store: PostgreSQL, shared by every node. Same contract as the embedded SqliteStore; see
 * src/core/store.ts.
 *
 * Sequences. A room's seq is its `rooms.last_seq`, advanced inside the writing transaction with
 * `UPDATE rooms SET last_seq = last_seq + n, ... WHERE id = $room RETURNING last_seq`. The UPDATE takes the room
 * row's lock, held until COMMIT/ROLLBACK, so every writer of one room — on any node — is serialized from that
 * UPDATE to its commit: the next writer's UPDATE waits, then reads the committed last_seq. Hence seqs are assigned
 * without duplicates, commit in seq order (an event never becomes visible after a later one of its room), and a
 * rollback returns its seqs with the row (no gaps). A PostgreSQL SEQUENCE would leave gaps on rollback, so none is
 * used. Transactions that lock several rooms (a group-commit batch) lock them in room-id order first, so two
 * batches never deadlock on each other's rooms; every other write locks its one room before touching members or
 * invites, so writers take locks in one order.
 *
 * Durability: every promise resolves after COMMIT returned, i.e. after the WAL is flushed per the server's
 * `synchronous_commit` (keep it `on` — or `remote_apply` with replicas). A failed call rejects: connection errors
 * as ChatError `unavailable` (retryable; a lost COMMIT may still have applied, which the idempotent retry of a
 * message resolves), constraint violations as their domain codes.
 */
export class PgStore extends SqlStore {
  private readonly pool: Pool;
  private readonly now: () => number;
  private readonly maxBatch: number;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private draining: Promise<void> | null = null;
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Counters for tests and metrics. */
  readonly stats = { batches: 0, batchRetries: 0, idleConnectionErrors: 0 };

  constructor(opts: PgStoreOptions) {
    super();
    this.now = opts.now ?? Date.now;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 1000);
    this.pool = new pg.Pool({
      ...opts.pool,
      ...(opts.connectionString !== undefined ? { connectionString: opts.connectionString } : {}),
      max: opts.poolSize ?? opts.pool?.max ?? 10,
      connectionTimeoutMillis: opts.connectionTimeoutMs ?? opts.pool?.connectionTimeoutMillis ?? 5000,
      keepAlive: opts.pool?.keepAlive ?? true,
      types,
    });
    // An idle pooled connection that breaks (server restart, network) emits 'error': without a listener that
    // would crash the process. The pool discards the connection and opens a new one on demand.
    this.pool.on('error', (err) => {
      this.stats.idleConnectionErrors++;
      opts.onConnectionError?.(err);
    });
  }

  /** Creates a store and brings the schema up to date (unless `migrate: false`). */
  static async open(opts: PgStoreOptions & { migrate?: boolean }): Promise<PgStore> {
    const store = new PgStore(opts);
    if (opts.migrate !== false) {
      try {
        await store.migrate();
      } catch (err) {
        await store.close();
        throw toStoreError(err);
      }
    }
    return store;
  }

  /** Applies missing migrations (see migrate.ts: safe when several nodes do it at once). */
  async migrate(): Promise<MigrateResult> {
    if (this.closed) throw closedError();
    const client = await this.pool.connect();
    const onError = () => {};
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      return await migrate(client);
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.removeListener('error', onError);
      // A failed migration may leave the session in any state (and holding the advisory lock): discard it.
      client.release(broken);
    }
  }

  // ---- plumbing ----

  /** Runs one store call: rejects once closed, maps errors, and lets close() wait for it. */
  private op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return this.track(fn());
  }

  /** Maps a call's errors and lets close() wait for it. */
  private track<T>(work: Promise<T>): Promise<T> {
    const p = work.catch(rethrowAsStoreError);
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Runs `fn` in a transaction on one pooled connection (READ COMMITTED). Commits when `fn` resolves; rolls back
   * when it throws (rethrowing) or throws a Rollback (returning its value). A connection that failed is discarded.
   */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // While checked out, a connection that breaks between queries emits 'error'; the failure also surfaces
    // through the next query, so the listener only records it (and keeps the event from crashing the process).
    let broken: Error | undefined;
    const markBroken = (err: unknown) => {
      broken ??= err instanceof Error ? err : new Error(String(err));
    };
    client.on('error', markBroken);
    try {
      try {
        await client.query('BEGIN');
      } catch (err) {
        markBroken(err);
        throw err;
      }
      let result: T;
      try {
        result = await fn(client);
      } catch (err) {
        // A statement failed (or `fn` decided to roll back): the connection itself is fine if ROLLBACK works.
        await client.query('ROLLBACK').catch(markBroken);
        if (err instanceof Rollback) return err.value as T;
        throw err;
      }
      try {
        await client.query('COMMIT');
      } catch (err) {
        // The transaction is over either way; whether it committed is unknown if the connection was lost.
        markBroken(err);
        throw err;
      }
      return result;
    } finally {
      client.removeListener('error', markBroken);
      // A connection that failed is destroyed rather than returned to the pool.
      client.release(broken);
    }
  }

  // ---- the unit of work: reads and one-statement writes on the pool, transactions on one connection ----

  /** Runs one named query of a recipe on `c`. */
  private static exec(c: Queryable, op: Op): Promise<unknown> {
    return (pgQueries[op.name] as (c: Queryable, args: object) => Promise<unknown>)(c, op.args);
  }

  /** Runs one named query on the pool. */
  private readonly onPool = (op: Op) => PgStore.exec(this.pool, op);

  protected read<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return this.track(runAsync(recipe(this.now(), ...args), this.onPool));
  }

  protected write<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return this.track(runAsync(recipe(this.now(), ...args), oneStatement(this.onPool)));
  }

  protected transaction<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return this.track(this.tx((c) => runAsync(recipe(this.now(), ...args), (op) => PgStore.exec(c, op))));
  }

  // ---- message group commit ----

  appendMessage(message: NewMessage): Promise<AppendResult> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (!this.flushScheduled && !this.draining) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          void this.drain();
        });
      }
    });
  }

  /**
   * Group commit. Appends queued in one event-loop turn, plus any that arrive while a batch is being written,
   * are committed together. One batch is in flight per store at a time, so this node's appends are stored in
   * the order they were made.
   */
  private drain(): Promise<void> {
    if (this.draining) return this.draining;
    if (this.pending.length === 0) return Promise.resolve();
    const run = async () => {
      try {
        while (this.pending.length > 0) await this.commitBatch(this.pending.splice(0, this.maxBatch));
      } finally {
        // Same synchronous step as the loop's last check: an append made after it sees `draining` null and
        // schedules a new drain; one made before it was taken by the loop.
        this.draining = null;
      }
    };
    // `run` awaits before it can finish (pending is not empty), so this assignment precedes its `finally`.
    this.draining = run();
    return this.draining;
  }

  /** Writes one batch and settles every promise in it. Never throws. */
  private async commitBatch(batch: Pending[]): Promise<void> {
    this.stats.batches++;
    let outcomes: Outcome[];
    try {
      outcomes = await this.writeBatch(batch.map((p) => p.message));
    } catch (err) {
      // The transaction did not commit (or its COMMIT was lost): every sender gets a retryable error, never a
      // false ack. Retrying with the same clientMsgId is safe either way.
      const mapped = toStoreError(err);
      const error =
        mapped instanceof ChatError && mapped.code === 'unavailable'
          ? mapped
          : unavailable(err, 'Storage write failed');
      for (const p of batch) p.reject(error);
      return;
    }
    settle(batch, outcomes);
  }

  private async writeBatch(messages: readonly NewMessage[]): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tx((c) => runAsync(appendMessages(messages, this.now()), (op) => PgStore.exec(c, op)));
      } catch (err) {
        // Both roll back everything, so the batch can simply run again: the next attempt's lookup sees what the
        // other writer committed. Deadlocks are possible only between batches racing on one idempotency key in
        // different rooms (a client reusing a key across rooms, on two nodes at once).
        const retryable = err instanceof IdempotencyRace || (err instanceof pg.DatabaseError && err.code === '40P01');
        if (!retryable || attempt >= MAX_BATCH_ATTEMPTS) throw err;
        this.stats.batchRetries++;
      }
    }
  }

  ping(): Promise<void> {
    return this.op(async () => {
      await this.pool.query('SELECT 1');
    });
  }

  /** Waits for queued appends to commit and for calls in progress to finish, then closes the pool. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.drain();
      await Promise.allSettled([...this.inflight]);
      await this.pool.end().catch(() => {});
    })();
    return this.closing;
  }
}

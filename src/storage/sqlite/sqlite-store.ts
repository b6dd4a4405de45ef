import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ChatError } from '../../core/chat-error.js';
import type { NewMessage } from '../../core/store.js';
import { appendMessages, settle, type AppendResult, type Outcome, type Pending } from '../sql/events.js';
import type { Queries } from '../sql/queries.js';
import { oneStatement, Rollback, runSync, type Op, type RecipeFn } from '../sql/recipe.js';
import { SqlStore } from '../sql/sql-store.js';
import { migrations } from './migrations.js';
import { hasLink, indexTerms } from '../../core/search-text.js';
import { sqliteQueries } from './queries.js';

export interface SqliteStoreOptions {
  /** Path of the database file; ':memory:' is allowed for throwaway use. */
  file: string;
  now?: () => number;
  /** Upper bound on messages committed in one transaction by group commit. */
  maxBatch?: number;
}

const closedError = () => new ChatError('unavailable', { message: 'Store is closed.' });

/**
 * The embedded store: one SQLite file in WAL mode. Durability without blocking the event loop: SQLite commits
 * with synchronous=NORMAL (the WAL is written, not fsynced), then the WAL file is fdatasync'ed on libuv's thread
 * pool, and a write's promise resolves only after an fdatasync that started after its commit finished — as
 * durable as synchronous=FULL, but a 1–2 ms disk flush no longer stalls every socket. fsyncs run back to back
 * and each covers every commit before it (group commit). Message appends arriving in the same event-loop turn
 * also share one transaction.
 */
export class SqliteStore extends SqlStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly maxBatch: number;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly file: string;
  private readonly queries: Queries;
  /** Runs one named query of a recipe. */
  private readonly exec = (op: Op) => (this.queries[op.name] as (args: object) => unknown)(op.args);
  /** Runs a recipe inside a transaction: see run(). */
  private readonly inTransaction: Database.Transaction<
    (recipe: RecipeFn<unknown[], unknown>, args: unknown[], exec: (op: Op) => unknown) => unknown
  >;
  /** Runs a group-commit batch (the shared appendMessages recipe) inside a transaction: see flush(). */
  private readonly appendTransaction: Database.Transaction<(messages: readonly NewMessage[]) => Outcome[]>;

  constructor(opts: SqliteStoreOptions) {
    super();
    if (opts.file !== ':memory:') mkdirSync(dirname(opts.file), { recursive: true });
    this.file = opts.file;
    this.db = new Database(opts.file);
    this.now = opts.now ?? Date.now;
    this.maxBatch = opts.maxBatch ?? 1000;
    this.db.pragma('journal_mode = WAL');
    // NORMAL: commits write the WAL but do not fsync it; durable() does that off the event loop.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // SQLite's lower() and LIKE fold ASCII only; search must fold "Élodie" like "elodie".
    this.db.function('fold', { deterministic: true }, (v: unknown) => (v == null ? null : String(v).toLowerCase()));
    // Migration 12 indexes the messages stored before it with these (search-text.ts: the same terms as a write).
    this.db.function('search_terms', { deterministic: true }, (v: unknown) => indexTerms(String(v ?? '')).join(' '));
    this.db.function('search_has_link', { deterministic: true }, (v: unknown) => (hasLink(String(v ?? '')) ? 1 : 0));
    this.migrate();
    this.queries = sqliteQueries(this.db);
    // better-sqlite3 transaction functions, made once rather than per call.
    this.inTransaction = this.db.transaction(
      (recipe: RecipeFn<unknown[], unknown>, args: unknown[], exec: (op: Op) => unknown) =>
        runSync(recipe(this.now(), ...args), exec),
    );
    this.appendTransaction = this.db.transaction((messages: readonly NewMessage[]) =>
      runSync(appendMessages(messages, this.now()), this.exec),
    );
  }

  private migrate(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const done = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
    );
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, Date.now());
      })();
    }
  }

  // ---- the unit of work: recipes run synchronously, so nothing interleaves on the one connection ----

  protected read<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    try {
      return Promise.resolve(runSync(recipe(this.now(), ...args), this.exec));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** On SQLite a write is a transaction too: that is what waits for its fsync. */
  protected write<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T> {
    return this.run(recipe, args, oneStatement(this.exec));
  }

  protected transaction<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T> {
    return this.run(recipe, args, this.exec);
  }

  /**
   * Runs a recipe in an IMMEDIATE transaction (it takes the write lock at BEGIN, so it never fails half-way for a
   * lock) and resolves once the commit is on disk. A Rollback undoes the transaction and resolves with its value.
   */
  private async run<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A, exec: (op: Op) => unknown): Promise<T> {
    if (this.closed) throw closedError();
    let result: T;
    try {
      result = this.inTransaction.immediate(recipe as RecipeFn<unknown[], unknown>, args, exec) as T;
    } catch (err) {
      if (!(err instanceof Rollback)) throw err;
      result = err.value as T;
    }
    await this.durable();
    return result;
  }

  /** Counters for tests and diagnostics. */
  readonly stats = { fsyncs: 0, commits: 0 };
  private walFd: number | undefined;
  /** The fdatasync running now, and the callers waiting for the one after it. */
  private syncing = false;
  private waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  /**
   * Resolves once everything committed before this call is on disk: waits for an fdatasync of the WAL that
   * starts after the call. Concurrent callers share fsyncs.
   */
  private durable(): Promise<void> {
    this.stats.commits++;
    if (this.file === ':memory:') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.syncing) this.syncNext();
    });
  }

  private syncNext(): void {
    const group = this.waiting;
    if (group.length === 0) return;
    this.waiting = [];
    this.syncing = true;
    const done = (err: NodeJS.ErrnoException | null) => {
      this.syncing = false;
      this.stats.fsyncs++;
      if (err) {
        const error = new ChatError('unavailable', { message: `Storage sync failed: ${err.message}` });
        for (const w of group) w.reject(error);
      } else for (const w of group) w.resolve();
      this.syncNext();
    };
    try {
      this.walFd ??= openSync(`${this.file}-wal`, 'r+');
    } catch (err) {
      return done(err as NodeJS.ErrnoException);
    }
    fdatasync(this.walFd, done);
  }

  // ---- message group commit ----

  appendMessage(message: NewMessage): Promise<AppendResult> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Group commit: every append queued since the last flush, in one transaction (the shared appendMessages recipe). */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const messages = batch.map((p) => p.message);
    let outcomes: Outcome[];
    try {
      outcomes = this.appendTransaction.immediate(messages);
    } catch (err) {
      // Nothing in the batch was committed: every sender gets a retryable error, never a false ack.
      const error = new ChatError('unavailable', { message: `Storage write failed: ${(err as Error).message}` });
      for (const p of batch) p.reject(error);
      return;
    }
    this.durable().then(
      () => settle(batch, outcomes),
      (err: unknown) => {
        // The commit may or may not have reached the disk: never ack it. A retry with the same clientMsgId
        // finds the message if it was kept.
        for (const p of batch) p.reject(err);
      },
    );
  }

  private readonly selectOne = () => this.db.prepare('SELECT 1').get();

  ping(): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    try {
      this.selectOne();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    // Let the last commits reach the disk (and their promises settle) before the file goes away.
    if (this.file !== ':memory:')
      await new Promise<void>((resolve) => {
        this.waiting.push({ resolve, reject: () => resolve() });
        if (!this.syncing) this.syncNext();
      });
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.db.close();
  }
}

import pg from 'pg';
import type { Pool, PoolClient, PoolConfig, QueryResultRow } from 'pg';
import type {
  AuditEntry,
  Invite,
  MemberRole,
  MyRoom,
  PublicUser,
  Report,
  ReportResolution,
  Room,
  RoomEvent,
  RoomEventType,
  RoomSettings,
  ServerRole,
} from '../../protocol/model.js';
import { toProfile } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import { newId } from '../../core/ids.js';
import type {
  MemberPage,
  MemberRecord,
  MemberRow,
  NewAuditEntry,
  NewMessage,
  NewReport,
  NewRoom,
  NewUser,
  RoomBan,
  RoomPage,
  SessionRecord,
  Store,
  UserRecord,
} from '../../core/store.js';
import { migrate, type MigrateResult } from './migrate.js';
import {
  decodeRoomCursor,
  decodeUserCursor,
  encodeUserCursor,
  iso,
  roomPage,
  toAudit,
  toEvent,
  toMember,
  toPublic,
  toReport,
  toRoom,
  toRoomBan,
  toSession,
  toUser,
  type Row,
} from '../rows.js';

/**
 * Case folding for uniqueness and search, done here rather than with SQL lower(): JavaScript's toLowerCase() is
 * Unicode-aware whatever the database's locale (lower() folds only ASCII under the C locale), and it is exactly
 * what the embedded store uses, so both stores match and order the same strings the same way.
 */
const fold = (s: string) => s.toLowerCase();

/** LIKE patterns use '!' as the escape character: no backslash, so no dependence on standard_conforming_strings. */
const likeEscape = (s: string) => s.replace(/[!%_]/g, (c) => `!${c}`);

/** `{...patch}` without undefined members: what is returned is then exactly what JSON storage gives back. */
function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

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

const closedError = () => new ChatError('unavailable', { message: 'Store is closed.' });

/** Thrown inside tx() to roll back and return `value` (a no-op: "already a member" and the like). */
class Rollback<T> {
  constructor(readonly value: T) {}
}

/** Another node stored one of the batch's idempotency keys after our lookup: redo the batch from scratch. */
class IdempotencyRace extends Error {
  constructor() {
    super('idempotency key stored concurrently by another writer');
  }
}

interface Pending {
  message: NewMessage;
  resolve: (r: { event: RoomEvent; duplicate: boolean }) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; value: { event: RoomEvent; duplicate: boolean } } | { ok: false; error: unknown };

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
export class PgStore implements Store {
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
    const p = fn().catch((err: unknown) => {
      throw toStoreError(err);
    });
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private async query<R extends QueryResultRow = Row>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
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

  /**
   * Takes the room row's lock and the next seq: `last_seq + 1`, with the room's activity time and member count.
   * Null when the room does not exist. Held until the transaction ends (see the class comment).
   */
  private async bumpSeq(c: PoolClient, roomId: string, now: number, memberDelta = 0): Promise<number | null> {
    const r = await c.query<{ last_seq: number }>(
      `UPDATE rooms SET last_seq = last_seq + 1, last_event_at = GREATEST(last_event_at, $1),
         member_count = member_count + $3
       WHERE id = $2 RETURNING last_seq`,
      [now, roomId, memberDelta],
    );
    return r.rows[0]?.last_seq ?? null;
  }

  /** Inserts events (one statement for any number); returns how many were inserted. */
  private async insertEvents(
    c: PoolClient,
    events: readonly RoomEvent[],
    now: number,
    opts: { skipIdempotencyConflicts?: boolean } = {},
  ): Promise<number> {
    const r = await c.query(
      `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
       SELECT room_id, seq, id, type, sender_id, body, client_msg_id, data::jsonb, $9
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
         AS x(room_id, seq, id, type, sender_id, body, client_msg_id, data)
       ${opts.skipIdempotencyConflicts ? 'ON CONFLICT (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING' : ''}`,
      [
        events.map((e) => e.roomId),
        events.map((e) => e.seq),
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => e.senderId),
        events.map((e) => e.body),
        events.map((e) => e.clientMsgId),
        events.map((e) => (e.data ? JSON.stringify(e.data) : null)),
        now,
      ],
    );
    return r.rowCount ?? 0;
  }

  /** Appends one non-message event inside the caller's transaction, after bumpSeq gave it `seq`. */
  private async appendTx(
    c: PoolClient,
    roomId: string,
    seq: number,
    now: number,
    type: RoomEventType,
    senderId: string,
    data: Record<string, unknown>,
  ): Promise<RoomEvent> {
    const event: RoomEvent = {
      id: newId('e'),
      roomId,
      seq,
      type,
      senderId,
      body: null,
      clientMsgId: null,
      data,
      createdAt: iso(now),
    };
    await this.insertEvents(c, [event], now);
    return event;
  }

  // ---- accounts ----

  createUser(user: NewUser, opts: { adminIfFirst: boolean; role?: ServerRole }): Promise<UserRecord> {
    return this.op(async () => {
      const insert = async (c: PoolClient | Pool, role: ServerRole) => {
        const r = await c.query(
          `INSERT INTO users (id, username, username_key, display_name, display_name_key, role, password_hash, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (username_key) DO NOTHING RETURNING *`,
          [
            user.id,
            user.username,
            fold(user.username),
            user.displayName,
            fold(user.displayName),
            role,
            user.passwordHash,
            this.now(),
          ],
        );
        const row = r.rows[0] as Row | undefined;
        if (!row) throw new ChatError('username_taken');
        return toUser(row);
      };
      if (opts.role || !opts.adminIfFirst) return insert(this.pool, opts.role ?? 'user');
      return this.tx(async (c) => {
        // "First user" must be decided atomically across nodes. Once any user exists it is settled for good
        // (users are never deleted), so only registrations into an empty table take the lock.
        const exists = async () => (await c.query('SELECT EXISTS (SELECT 1 FROM users) AS e')).rows[0]?.e === true;
        if (await exists()) return insert(c, 'user');
        // Transaction-scoped advisory lock: concurrent first registrations queue here; each re-checks after
        // the previous one committed (READ COMMITTED: the next statement sees it).
        await c.query("SELECT pg_advisory_xact_lock(hashtext('relaychat:first-user'))");
        return insert(c, (await exists()) ? 'user' : 'admin');
      });
    });
  }

  getUser(id: string): Promise<UserRecord | null> {
    return this.op(async () => {
      const [r] = await this.query('SELECT * FROM users WHERE id = $1', [id]);
      return r ? toUser(r) : null;
    });
  }

  getUserByUsername(username: string): Promise<UserRecord | null> {
    return this.op(async () => {
      const [r] = await this.query('SELECT * FROM users WHERE username_key = $1', [fold(username)]);
      return r ? toUser(r) : null;
    });
  }

  getUsers(ids: readonly string[]): Promise<PublicUser[]> {
    return this.op(async () => {
      if (ids.length === 0) return [];
      return (await this.query('SELECT * FROM users WHERE id = ANY($1::text[])', [[...ids]])).map(toPublic);
    });
  }

  searchUsers(q: string, limit: number): Promise<PublicUser[]> {
    return this.op(async () => {
      const like = `${likeEscape(fold(q))}%`;
      const rows = await this.query(
        `SELECT * FROM users WHERE deactivated_at IS NULL
           AND (username_key LIKE $1 ESCAPE '!' OR display_name_key LIKE $1 ESCAPE '!')
         ORDER BY username_key LIMIT $2`,
        [like, limit],
      );
      return rows.map(toPublic);
    });
  }

  updateProfile(id: string, patch: { displayName?: string; statusText?: string }): Promise<UserRecord> {
    return this.op(async () => {
      const [r] = await this.query(
        `UPDATE users SET display_name = COALESCE($2, display_name), display_name_key = COALESCE($3, display_name_key),
           status_text = COALESCE($4, status_text)
         WHERE id = $1 RETURNING *`,
        [
          id,
          patch.displayName ?? null,
          patch.displayName === undefined ? null : fold(patch.displayName),
          patch.statusText ?? null,
        ],
      );
      if (!r) throw new ChatError('user_not_found');
      return toUser(r);
    });
  }

  setPasswordHash(id: string, hash: string): Promise<void> {
    return this.op(async () => {
      await this.query('UPDATE users SET password_hash = $2 WHERE id = $1', [id, hash]);
    });
  }

  setServerRole(id: string, role: ServerRole): Promise<void> {
    return this.op(async () => {
      await this.query('UPDATE users SET role = $2 WHERE id = $1', [id, role]);
    });
  }

  listUsers(q: string, limit: number, cursor?: string): Promise<{ users: UserRecord[]; nextCursor: string | null }> {
    return this.op(async () => {
      const after = decodeUserCursor(cursor);
      const like = `${likeEscape(fold(q))}%`;
      // username_key is unique, so it alone orders the directory; the id in the cursor only keeps its shape.
      const rows = await this.query(
        `SELECT * FROM users
         WHERE (username_key LIKE $1 ESCAPE '!' OR display_name_key LIKE $1 ESCAPE '!')
           AND (username_key, id) > ($2, $3)
         ORDER BY username_key, id LIMIT $4`,
        [like, after[0], after[1], limit + 1],
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > limit && last ? encodeUserCursor(last.username_key as string, last.id as string) : null;
      return { users: page.map(toUser), nextCursor };
    });
  }

  setDeactivated(id: string, deactivated: boolean): Promise<void> {
    return this.op(async () => {
      // Deactivating twice keeps the first time.
      await this.query(
        'UPDATE users SET deactivated_at = CASE WHEN $2 THEN COALESCE(deactivated_at, $3) END WHERE id = $1',
        [id, deactivated, this.now()],
      );
    });
  }

  setBannedUntil(id: string, until: number | null): Promise<void> {
    return this.op(async () => {
      await this.query('UPDATE users SET banned_until = $2 WHERE id = $1', [id, until]);
    });
  }

  createSession(s: SessionRecord): Promise<void> {
    return this.op(async () => {
      await this.query(
        `INSERT INTO sessions (id, user_id, token_hash, label, created_at, expires_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [s.id, s.userId, s.tokenHash, s.label, s.createdAt, s.expiresAt, s.lastUsedAt],
      );
    });
  }

  getSessionByTokenHash(tokenHash: string): Promise<{ session: SessionRecord; user: UserRecord } | null> {
    return this.op(async () => {
      const [r] = await this.query(
        'SELECT s.*, to_json(u) AS u FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1',
        [tokenHash],
      );
      return r ? { session: toSession(r), user: toUser(r.u as Row) } : null;
    });
  }

  touchSession(id: string, lastUsedAt: number, expiresAt: number): Promise<void> {
    return this.op(async () => {
      await this.query('UPDATE sessions SET last_used_at = $2, expires_at = $3 WHERE id = $1', [
        id,
        lastUsedAt,
        expiresAt,
      ]);
    });
  }

  listSessions(userId: string): Promise<SessionRecord[]> {
    return this.op(async () =>
      (await this.query('SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_at, id', [userId])).map(toSession),
    );
  }

  deleteSession(userId: string, sessionId: string): Promise<boolean> {
    return this.op(async () => {
      const r = await this.pool.query('DELETE FROM sessions WHERE id = $1 AND user_id = $2', [sessionId, userId]);
      return (r.rowCount ?? 0) > 0;
    });
  }

  deleteSessions(userId: string, exceptId?: string): Promise<string[]> {
    return this.op(async () => {
      const rows = await this.query<{ id: string }>(
        'DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2 RETURNING id',
        [userId, exceptId ?? null],
      );
      return rows.map((r) => r.id);
    });
  }

  // ---- rooms ----

  createRoom(room: NewRoom): Promise<{ room: Room; events: RoomEvent[]; created: boolean }> {
    return this.op(() =>
      this.tx(async (c) => {
        const existingDm = async () => {
          const [r] = (await c.query('SELECT * FROM rooms WHERE dm_key = $1', [room.dmKey])).rows as Row[];
          return r ? { room: toRoom(r), events: [] as RoomEvent[], created: false } : null;
        };
        if (room.dmKey) {
          const existing = await existingDm();
          if (existing) return existing;
        }
        const now = this.now();
        const n = room.members.length;
        // The room is new and invisible to everyone else until COMMIT: its seqs are simply 1..n+1.
        const inserted = await c.query(
          `INSERT INTO rooms (id, kind, name, name_key, topic, topic_key, created_by, created_at, last_seq,
             last_event_at, member_count, dm_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $10, $11)
           ON CONFLICT (dm_key) DO NOTHING RETURNING *`,
          [
            room.id,
            room.kind,
            room.name,
            fold(room.name),
            room.topic,
            fold(room.topic),
            room.createdBy,
            now,
            n + 1,
            n,
            room.dmKey ?? null,
          ],
        );
        const row = inserted.rows[0] as Row | undefined;
        if (!row) {
          // A concurrent create of the same DM committed first (the insert waited for it): return that one.
          const existing = await existingDm();
          if (existing) return existing;
          throw new Error(`room ${room.id}: dm_key conflict without a visible room`);
        }
        const base = { roomId: room.id, senderId: room.createdBy, body: null, clientMsgId: null, createdAt: iso(now) };
        const events: RoomEvent[] = [
          {
            ...base,
            id: newId('e'),
            seq: 1,
            type: 'room.created',
            data: { name: room.name, kind: room.kind, topic: room.topic },
          },
          ...room.members.map((m, i): RoomEvent => ({
            ...base,
            id: newId('e'),
            seq: i + 2,
            type: 'member.joined',
            data: { userId: m.userId, role: m.role },
          })),
        ];
        if (n > 0) {
          await c.query(
            `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq)
             SELECT $1, user_id, role, $2, joined_seq FROM unnest($3::text[], $4::text[], $5::bigint[])
               AS x(user_id, role, joined_seq)
             ON CONFLICT DO NOTHING`,
            [
              room.id,
              now,
              room.members.map((m) => m.userId),
              room.members.map((m) => m.role),
              events.slice(1).map((e) => e.seq),
            ],
          );
        }
        await this.insertEvents(c, events, now);
        return { room: toRoom(row), events, created: true };
      }),
    );
  }

  getRoom(id: string): Promise<Room | null> {
    return this.op(async () => {
      const [r] = await this.query('SELECT * FROM rooms WHERE id = $1', [id]);
      return r ? toRoom(r) : null;
    });
  }

  getDmByKey(dmKey: string): Promise<Room | null> {
    return this.op(async () => {
      const [r] = await this.query('SELECT * FROM rooms WHERE dm_key = $1', [dmKey]);
      return r ? toRoom(r) : null;
    });
  }

  searchPublicRooms(q: string, limit: number, cursor?: string): Promise<RoomPage> {
    return this.op(async () => {
      const after = decodeRoomCursor(cursor);
      const like = `%${likeEscape(fold(q))}%`;
      // name_key and id are COLLATE "C": the row comparison and ORDER BY use byte order, like SQLite's.
      const rows = await this.query(
        `SELECT * FROM rooms WHERE kind = 'public'
           AND (name_key LIKE $1 ESCAPE '!' OR topic_key LIKE $1 ESCAPE '!')
           AND (name_key, id) > ($2, $3)
         ORDER BY name_key, id LIMIT $4`,
        [like, after[0], after[1], limit + 1],
      );
      return roomPage(rows, limit);
    });
  }

  listRoomsOf(userId: string): Promise<MyRoom[]> {
    return this.op(async () => {
      // One statement, one snapshot: the DMs' other members come along as JSON.
      const rows = await this.query(
        `SELECT r.*, m.role AS my_role, m.joined_seq,
           CASE WHEN r.kind = 'dm' THEN (
             SELECT coalesce(json_agg(to_json(u) ORDER BY om.joined_seq, om.user_id), '[]'::json)
             FROM members om JOIN users u ON u.id = om.user_id
             WHERE om.room_id = r.id AND om.user_id <> $1
           ) END AS dm_members
         FROM members m JOIN rooms r ON r.id = m.room_id
         WHERE m.user_id = $1
         ORDER BY r.last_event_at DESC, r.id`,
        [userId],
      );
      return rows.map((r) => {
        const room: MyRoom = { ...toRoom(r), myRole: r.my_role as MemberRole, joinedSeq: r.joined_seq as number };
        if (r.kind === 'dm') room.members = ((r.dm_members as Row[] | null) ?? []).map((u) => toProfile(toPublic(u)));
        return room;
      });
    });
  }

  countRoomsOf(userId: string): Promise<number> {
    return this.op(async () => {
      const [r] = await this.query<{ n: number }>('SELECT count(*) AS n FROM members WHERE user_id = $1', [userId]);
      return r?.n ?? 0;
    });
  }

  updateRoom(
    roomId: string,
    patch: { name?: string; topic?: string; settings?: Partial<RoomSettings> },
    actorId: string,
  ): Promise<{ room: Room; event: RoomEvent }> {
    return this.op(() =>
      this.tx(async (c) => {
        const now = this.now();
        const settings = patch.settings ?? {};
        // The room lock, the new seq and the change in one statement.
        const [row] = (
          await c.query(
            `UPDATE rooms SET last_seq = last_seq + 1, last_event_at = GREATEST(last_event_at, $2),
               name = COALESCE($3, name), name_key = COALESCE($4, name_key),
               topic = COALESCE($5, topic), topic_key = COALESCE($6, topic_key),
               read_only = COALESCE($7, read_only), slow_mode_s = COALESCE($8, slow_mode_s),
               join_approval = COALESCE($9, join_approval)
             WHERE id = $1 RETURNING *`,
            [
              roomId,
              now,
              patch.name ?? null,
              patch.name === undefined ? null : fold(patch.name),
              patch.topic ?? null,
              patch.topic === undefined ? null : fold(patch.topic),
              settings.readOnly ?? null,
              settings.slowModeSeconds ?? null,
              settings.joinApproval ?? null,
            ],
          )
        ).rows as Row[];
        if (!row) throw new ChatError('room_not_found');
        const event = await this.appendTx(
          c,
          roomId,
          row.last_seq as number,
          now,
          'room.updated',
          actorId,
          defined({
            name: patch.name,
            topic: patch.topic,
            readOnly: settings.readOnly,
            slowModeSeconds: settings.slowModeSeconds,
            joinApproval: settings.joinApproval,
          }),
        );
        return { room: toRoom(row), event };
      }),
    );
  }

  getRole(roomId: string, userId: string): Promise<MemberRole | null> {
    return this.op(async () => {
      const [r] = await this.query<{ role: MemberRole }>(
        'SELECT role FROM members WHERE room_id = $1 AND user_id = $2',
        [roomId, userId],
      );
      return r?.role ?? null;
    });
  }

  getMember(roomId: string, userId: string): Promise<MemberRecord | null> {
    return this.op(async () => {
      const [r] = await this.query(
        'SELECT role, muted_until, joined_seq FROM members WHERE room_id = $1 AND user_id = $2',
        [roomId, userId],
      );
      return r ? toMember(r) : null;
    });
  }

  listMembers(roomId: string, page?: MemberPage): Promise<MemberRow[]> {
    return this.op(async () => {
      const after = page?.after;
      const params: unknown[] = [roomId];
      let where = 'm.room_id = $1';
      if (after) {
        params.push(after.joinedAt, after.userId);
        where += ' AND (m.joined_at, m.user_id) > ($2, $3)';
      }
      let limit = '';
      if (page) {
        params.push(page.limit);
        limit = ` LIMIT $${params.length}`;
      }
      const rows = await this.query(
        `SELECT u.*, m.role AS member_role, m.joined_at, m.muted_until FROM members m JOIN users u ON u.id = m.user_id
         WHERE ${where} ORDER BY m.joined_at, m.user_id${limit}`,
        params,
      );
      return rows.map((r) => ({
        user: toPublic(r),
        role: r.member_role as MemberRole,
        joinedAt: iso(r.joined_at),
        mutedUntil: (r.muted_until as number | null) ?? null,
      }));
    });
  }

  listMemberIds(roomId: string): Promise<string[]> {
    return this.op(async () =>
      (await this.query<{ user_id: string }>('SELECT user_id FROM members WHERE room_id = $1', [roomId])).map(
        (r) => r.user_id,
      ),
    );
  }

  countRole(roomId: string, role: MemberRole): Promise<number> {
    return this.op(async () => {
      const [r] = await this.query<{ n: number }>(
        'SELECT count(*) AS n FROM members WHERE room_id = $1 AND role = $2',
        [roomId, role],
      );
      return r?.n ?? 0;
    });
  }

  /*
   * Membership changes lock the room first (bumpSeq), then change members/invites, then append the event. When
   * the change turns out to be a no-op ("already a member"), the transaction rolls back, and the bump with it.
   * Locking the room before member rows in every transaction keeps lock order uniform (no deadlocks).
   */

  addMember(roomId: string, userId: string, role: MemberRole, actorId: string): Promise<RoomEvent | null> {
    return this.op(() =>
      this.tx(async (c) => {
        const now = this.now();
        const seq = await this.bumpSeq(c, roomId, now, 1);
        if (seq === null) throw new ChatError('room_not_found');
        const added = await c.query(
          `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING`,
          [roomId, userId, role, now, seq],
        );
        if (added.rowCount === 0) throw new Rollback(null);
        await c.query('DELETE FROM invites WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
        await c.query('DELETE FROM join_requests WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
        return this.appendTx(c, roomId, seq, now, 'member.joined', actorId, { userId, role });
      }),
    );
  }

  removeMember(roomId: string, userId: string, actorId: string, reason: 'left' | 'removed'): Promise<RoomEvent | null> {
    return this.op(() =>
      this.tx(async (c) => {
        const now = this.now();
        const seq = await this.bumpSeq(c, roomId, now, -1);
        if (seq === null) return null;
        const removed = await c.query('DELETE FROM members WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
        if (removed.rowCount === 0) throw new Rollback(null);
        return this.appendTx(c, roomId, seq, now, 'member.left', actorId, { userId, reason });
      }),
    );
  }

  setMemberRole(roomId: string, userId: string, role: MemberRole, actorId: string): Promise<RoomEvent | null> {
    return this.op(() =>
      this.tx(async (c) => {
        const now = this.now();
        const seq = await this.bumpSeq(c, roomId, now);
        if (seq === null) return null;
        const changed = await c.query('UPDATE members SET role = $3 WHERE room_id = $1 AND user_id = $2', [
          roomId,
          userId,
          role,
        ]);
        if (changed.rowCount === 0) throw new Rollback(null);
        return this.appendTx(c, roomId, seq, now, 'member.role', actorId, { userId, role });
      }),
    );
  }

  createInvite(roomId: string, userId: string, inviterId: string): Promise<RoomEvent | null> {
    return this.op(() =>
      this.tx(async (c) => {
        const now = this.now();
        const seq = await this.bumpSeq(c, roomId, now);
        if (seq === null) throw new ChatError('room_not_found');
        const invited = await c.query(
          `INSERT INTO invites (room_id, user_id, inviter_id, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [roomId, userId, inviterId, now],
        );
        if (invited.rowCount === 0) throw new Rollback(null);
        return this.appendTx(c, roomId, seq, now, 'member.invited', inviterId, { userId });
      }),
    );
  }

  hasInvite(roomId: string, userId: string): Promise<boolean> {
    return this.op(
      async () =>
        (await this.query('SELECT 1 FROM invites WHERE room_id = $1 AND user_id = $2', [roomId, userId])).length > 0,
    );
  }

  listInvites(userId: string): Promise<Invite[]> {
    return this.op(async () => {
      const rows = await this.query(
        `SELECT r.*, i.created_at AS invited_at, to_json(u) AS inviter
         FROM invites i JOIN rooms r ON r.id = i.room_id JOIN users u ON u.id = i.inviter_id
         WHERE i.user_id = $1 ORDER BY i.created_at DESC, i.room_id`,
        [userId],
      );
      return rows.map((r) => ({ room: toRoom(r), inviter: toPublic(r.inviter as Row), createdAt: iso(r.invited_at) }));
    });
  }

  deleteInvite(roomId: string, userId: string): Promise<boolean> {
    return this.op(async () => {
      const r = await this.pool.query('DELETE FROM invites WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
      return (r.rowCount ?? 0) > 0;
    });
  }

  // ---- moderation ----

  /*
   * Event-producing moderation calls follow the membership pattern above: the room's lock first (bumpSeq, or a
   * plain row lock when whether an event follows is known only later), then members/bans/events, then the event.
   */

  muteMember(roomId: string, userId: string, until: number, actorId: string): Promise<RoomEvent | null> {
    return this.op(() =>
      this.tx(async (c) => {
        const now = this.now();
        const seq = await this.bumpSeq(c, roomId, now);
        if (seq === null) return null;
        const muted = await c.query('UPDATE members SET muted_until = $3 WHERE room_id = $1 AND user_id = $2', [
          roomId,
          userId,
          until,
        ]);
        if (muted.rowCount === 0) throw new Rollback(null);
        return this.appendTx(c, roomId, seq, now, 'member.muted', actorId, { userId, until: iso(until) });
      }),
    );
  }

  unmuteMember(roomId: string, userId: string, actorId: string): Promise<RoomEvent | null> {
    return this.op(() =>
      this.tx(async (c) => {
        const now = this.now();
        const seq = await this.bumpSeq(c, roomId, now);
        if (seq === null) return null;
        const unmuted = await c.query(
          'UPDATE members SET muted_until = NULL WHERE room_id = $1 AND user_id = $2 AND muted_until IS NOT NULL',
          [roomId, userId],
        );
        if (unmuted.rowCount === 0) throw new Rollback(null);
        return this.appendTx(c, roomId, seq, now, 'member.unmuted', actorId, { userId });
      }),
    );
  }

  banFromRoom(
    roomId: string,
    userId: string,
    ban: { until: number; reason: string },
    actorId: string,
  ): Promise<RoomEvent | null> {
    return this.op(() =>
      this.tx(async (c) => {
        const now = this.now();
        // The ban is recorded whether or not an event follows, so the room is locked without taking a seq yet.
        const locked = await c.query('SELECT 1 FROM rooms WHERE id = $1 FOR NO KEY UPDATE', [roomId]);
        if (locked.rowCount === 0) throw new ChatError('room_not_found');
        await c.query(
          `INSERT INTO room_bans (room_id, user_id, until, reason, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (room_id, user_id) DO UPDATE SET until = excluded.until, reason = excluded.reason,
             actor_id = excluded.actor_id, created_at = excluded.created_at`,
          [roomId, userId, ban.until, ban.reason, actorId, now],
        );
        await c.query('DELETE FROM invites WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
        await c.query('DELETE FROM join_requests WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
        const removed = await c.query('DELETE FROM members WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
        if (removed.rowCount === 0) return null;
        const seq = await this.bumpSeq(c, roomId, now, -1);
        if (seq === null) throw new ChatError('room_not_found');
        return this.appendTx(c, roomId, seq, now, 'member.left', actorId, { userId, reason: 'banned' });
      }),
    );
  }

  unbanFromRoom(roomId: string, userId: string): Promise<boolean> {
    return this.op(async () => {
      const r = await this.pool.query('DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
      return (r.rowCount ?? 0) > 0;
    });
  }

  getRoomBan(roomId: string, userId: string): Promise<RoomBan | null> {
    return this.op(async () => {
      const [r] = await this.query('SELECT * FROM room_bans WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
      return r ? toRoomBan(r) : null;
    });
  }

  listRoomBans(roomId: string): Promise<RoomBan[]> {
    return this.op(async () =>
      (await this.query('SELECT * FROM room_bans WHERE room_id = $1 ORDER BY created_at DESC, user_id', [roomId])).map(
        toRoomBan,
      ),
    );
  }

  getEvent(roomId: string, seq: number): Promise<RoomEvent | null> {
    return this.op(async () => {
      const [r] = await this.query('SELECT * FROM events WHERE room_id = $1 AND seq = $2', [roomId, seq]);
      return r ? toEvent(r) : null;
    });
  }

  deleteMessage(roomId: string, seq: number, actorId: string): Promise<RoomEvent | null> {
    return this.op(() =>
      this.tx(async (c) => {
        const now = this.now();
        const next = await this.bumpSeq(c, roomId, now);
        if (next === null) return null;
        const [redacted] = (
          await c.query<{ id: string }>(
            `UPDATE events SET body = '', data = jsonb_build_object('deleted', true, 'deletedBy', $3::text)
             WHERE room_id = $1 AND seq = $2 AND type = 'message'
               AND (data IS NULL OR data->'deleted' IS DISTINCT FROM 'true'::jsonb)
             RETURNING id`,
            [roomId, seq, actorId],
          )
        ).rows;
        if (!redacted) throw new Rollback(null);
        return this.appendTx(c, roomId, next, now, 'message.deleted', actorId, { seq, messageId: redacted.id });
      }),
    );
  }

  createJoinRequest(roomId: string, userId: string): Promise<boolean> {
    return this.op(async () => {
      const r = await this.pool.query(
        'INSERT INTO join_requests (room_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [roomId, userId, this.now()],
      );
      return (r.rowCount ?? 0) > 0;
    });
  }

  listJoinRequests(roomId: string): Promise<{ user: PublicUser; createdAt: string }[]> {
    return this.op(async () => {
      const rows = await this.query(
        `SELECT u.*, j.created_at AS requested_at FROM join_requests j JOIN users u ON u.id = j.user_id
         WHERE j.room_id = $1 ORDER BY j.created_at, u.username_key`,
        [roomId],
      );
      return rows.map((r) => ({ user: toPublic(r), createdAt: iso(r.requested_at) }));
    });
  }

  hasJoinRequest(roomId: string, userId: string): Promise<boolean> {
    return this.op(
      async () =>
        (await this.query('SELECT 1 FROM join_requests WHERE room_id = $1 AND user_id = $2', [roomId, userId])).length >
        0,
    );
  }

  deleteJoinRequest(roomId: string, userId: string): Promise<boolean> {
    return this.op(async () => {
      const r = await this.pool.query('DELETE FROM join_requests WHERE room_id = $1 AND user_id = $2', [
        roomId,
        userId,
      ]);
      return (r.rowCount ?? 0) > 0;
    });
  }

  createReport(report: NewReport): Promise<Report> {
    return this.op(async () => {
      const [r] = await this.query(
        `INSERT INTO reports (id, reporter_id, room_id, seq, target_user_id, reason, excerpt, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [
          report.id,
          report.reporterId,
          report.roomId,
          report.seq,
          report.targetUserId,
          report.reason,
          report.excerpt,
          this.now(),
        ],
      );
      return toReport(r as Row);
    });
  }

  getReport(id: string): Promise<Report | null> {
    return this.op(async () => {
      const [r] = await this.query('SELECT * FROM reports WHERE id = $1', [id]);
      return r ? toReport(r) : null;
    });
  }

  /*
   * Reports and audit entries: newest first by (created_at, id); `before` names the previous page's last row,
   * whose position is looked up in the same statement (an unknown id yields an empty page).
   */

  listReports(query: {
    status?: Report['status'];
    roomIds?: readonly string[];
    limit: number;
    before?: string;
  }): Promise<Report[]> {
    return this.op(async () => {
      const params: unknown[] = [];
      const where: string[] = [];
      const param = (v: unknown) => `$${params.push(v)}`;
      if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
      if (query.roomIds !== undefined) where.push(`room_id = ANY(${param([...query.roomIds])}::text[])`);
      if (query.before !== undefined) {
        where.push(`(created_at, id) < (SELECT created_at, id FROM reports WHERE id = ${param(query.before)})`);
      }
      const rows = await this.query(
        `SELECT * FROM reports ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, id DESC LIMIT ${param(query.limit)}`,
        params,
      );
      return rows.map(toReport);
    });
  }

  resolveReport(id: string, resolution: ReportResolution, resolvedBy: string): Promise<Report | null> {
    return this.op(async () => {
      // Concurrent resolvers: the row lock makes the second UPDATE wait, re-check status, and match nothing.
      const [r] = await this.query(
        `UPDATE reports SET status = 'resolved', resolution = $2, resolved_by = $3, resolved_at = $4
         WHERE id = $1 AND status = 'open' RETURNING *`,
        [id, resolution, resolvedBy, this.now()],
      );
      return r ? toReport(r) : null;
    });
  }

  appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.op(async () => {
      const [r] = await this.query(
        `INSERT INTO audit_log (id, actor_id, action, room_id, target_user_id, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING *`,
        [
          entry.id,
          entry.actorId,
          entry.action,
          entry.roomId,
          entry.targetUserId,
          entry.data ? JSON.stringify(entry.data) : null,
          this.now(),
        ],
      );
      return toAudit(r as Row);
    });
  }

  listAudit(query: { roomId?: string; limit: number; before?: string }): Promise<AuditEntry[]> {
    return this.op(async () => {
      const params: unknown[] = [];
      const where: string[] = [];
      const param = (v: unknown) => `$${params.push(v)}`;
      if (query.roomId !== undefined) where.push(`room_id = ${param(query.roomId)}`);
      if (query.before !== undefined) {
        where.push(`(created_at, id) < (SELECT created_at, id FROM audit_log WHERE id = ${param(query.before)})`);
      }
      const rows = await this.query(
        `SELECT * FROM audit_log ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, id DESC LIMIT ${param(query.limit)}`,
        params,
      );
      return rows.map(toAudit);
    });
  }

  // ---- events ----

  appendMessage(message: NewMessage): Promise<{ event: RoomEvent; duplicate: boolean }> {
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
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (!o) p.reject(new ChatError('internal'));
      else if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }

  private async writeBatch(messages: readonly NewMessage[]): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tx((c) => this.batchTx(c, messages));
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

  /**
   * One group-commit transaction:
   * 1. look up the batch's idempotency keys (one query);
   * 2. lock the rooms it writes to, in id order (`SELECT … ORDER BY id FOR NO KEY UPDATE`), reading last_seq;
   * 3. decide each message in submission order: duplicate, key reused in another room, unknown room, or new
   *    with the room's next seq (keys repeated within the batch resolve to their first occurrence);
   * 4. advance each room's last_seq by its count of new messages (under the lock taken in 2);
   * 5. insert the new events in one statement. If another writer committed one of our keys after step 1, the
   *    unique index makes the insert skip that row: then the seqs already assigned would leave a gap, so the
   *    whole transaction rolls back (seqs included) and the batch runs again, where step 1 sees that key.
   */
  private async batchTx(c: PoolClient, messages: readonly NewMessage[]): Promise<Outcome[]> {
    const now = this.now();
    const keyOf = (senderId: string, clientMsgId: string) => `${senderId}\u0000${clientMsgId}`;

    const pairs = new Map<string, NewMessage>();
    for (const m of messages) pairs.set(keyOf(m.senderId, m.clientMsgId), m);
    const found = await c.query(
      `SELECT e.* FROM unnest($1::text[], $2::text[]) AS k(sender_id, client_msg_id)
       JOIN events e ON e.sender_id = k.sender_id AND e.client_msg_id = k.client_msg_id
       WHERE e.client_msg_id IS NOT NULL`,
      [[...pairs.values()].map((m) => m.senderId), [...pairs.values()].map((m) => m.clientMsgId)],
    );
    const stored = new Map<string, RoomEvent>();
    for (const r of found.rows as Row[]) {
      const e = toEvent(r);
      stored.set(keyOf(e.senderId, e.clientMsgId ?? ''), e);
    }

    const roomIds = [
      ...new Set(messages.filter((m) => !stored.has(keyOf(m.senderId, m.clientMsgId))).map((m) => m.roomId)),
    ].sort();
    const lastSeq = new Map<string, number>();
    if (roomIds.length > 0) {
      const locked = await c.query<{ id: string; last_seq: number }>(
        'SELECT id, last_seq FROM rooms WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE',
        [roomIds],
      );
      for (const r of locked.rows) lastSeq.set(r.id, r.last_seq);
    }

    const next = new Map(lastSeq);
    const fresh = new Map<string, RoomEvent>();
    const created: RoomEvent[] = [];
    const outcomes: Outcome[] = messages.map((m): Outcome => {
      const key = keyOf(m.senderId, m.clientMsgId);
      const earlier = stored.get(key) ?? fresh.get(key);
      if (earlier) {
        return earlier.roomId === m.roomId
          ? { ok: true, value: { event: earlier, duplicate: true } }
          : { ok: false, error: new ChatError('client_msg_id_reused') };
      }
      const last = next.get(m.roomId);
      if (last === undefined) return { ok: false, error: new ChatError('room_not_found') };
      const event: RoomEvent = {
        id: m.id,
        roomId: m.roomId,
        seq: last + 1,
        type: 'message',
        senderId: m.senderId,
        body: m.body,
        clientMsgId: m.clientMsgId,
        data: null,
        createdAt: iso(now),
      };
      next.set(m.roomId, last + 1);
      fresh.set(key, event);
      created.push(event);
      return { ok: true, value: { event, duplicate: false } };
    });
    if (created.length === 0) return outcomes;

    const bumped = [...next].filter(([id, seq]) => seq !== lastSeq.get(id));
    const updated = await c.query<{ id: string; last_seq: number }>(
      `UPDATE rooms AS r SET last_seq = r.last_seq + b.n, last_event_at = GREATEST(r.last_event_at, $3)
       FROM unnest($1::text[], $2::bigint[]) AS b(id, n)
       WHERE r.id = b.id RETURNING r.id, r.last_seq`,
      [bumped.map(([id]) => id), bumped.map(([id, seq]) => seq - (lastSeq.get(id) ?? 0)), now],
    );
    // We hold the rooms' locks, so nothing can have moved; checked anyway, as a gap or reuse would be silent.
    if (updated.rowCount !== bumped.length || updated.rows.some((r) => r.last_seq !== next.get(r.id))) {
      throw new Error('room sequence changed under its lock');
    }
    const inserted = await this.insertEvents(c, created, now, { skipIdempotencyConflicts: true });
    if (inserted !== created.length) throw new IdempotencyRace();
    return outcomes;
  }

  findMessageByClientMsgId(senderId: string, clientMsgId: string): Promise<RoomEvent | null> {
    return this.op(async () => {
      const [r] = await this.query('SELECT * FROM events WHERE sender_id = $1 AND client_msg_id = $2', [
        senderId,
        clientMsgId,
      ]);
      return r ? toEvent(r) : null;
    });
  }

  listEvents(
    roomId: string,
    query: { after?: number; before?: number; limit: number; messagesOnly?: boolean },
  ): Promise<RoomEvent[]> {
    return this.op(async () => {
      const onlyMessages = query.messagesOnly ? "AND type = 'message'" : '';
      if (query.after !== undefined) {
        const rows = await this.query(
          `SELECT * FROM events WHERE room_id = $1 AND seq > $2 ${onlyMessages} ORDER BY seq LIMIT $3`,
          [roomId, query.after, query.limit],
        );
        return rows.map(toEvent);
      }
      const rows = await this.query(
        `SELECT * FROM events WHERE room_id = $1 AND seq < $2 ${onlyMessages} ORDER BY seq DESC LIMIT $3`,
        [roomId, query.before ?? Number.MAX_SAFE_INTEGER, query.limit],
      );
      return rows.reverse().map(toEvent);
    });
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

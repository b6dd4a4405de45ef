import { closeSync, fdatasync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
import { migrations } from './migrations.js';
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

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

interface Pending {
  message: NewMessage;
  resolve: (r: { event: RoomEvent; duplicate: boolean }) => void;
  reject: (e: unknown) => void;
}

export interface SqliteStoreOptions {
  /** Path of the database file; ':memory:' is allowed for throwaway use. */
  file: string;
  now?: () => number;
  /** Upper bound on messages committed in one transaction by group commit. */
  maxBatch?: number;
}

/**
 * The embedded store: one SQLite file in WAL mode. Durability without blocking the event loop: SQLite commits
 * with synchronous=NORMAL (the WAL is written, not fsynced), then the WAL file is fdatasync'ed on libuv's thread
 * pool, and a write's promise resolves only after an fdatasync that started after its commit finished — as
 * durable as synchronous=FULL, but a 1–2 ms disk flush no longer stalls every socket. fsyncs run back to back
 * and each covers every commit before it (group commit). Message appends arriving in the same event-loop turn
 * also share one transaction.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly maxBatch: number;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly file: string;
  private readonly stmt;

  constructor(opts: SqliteStoreOptions) {
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
    this.migrate();
    const db = this.db;
    this.stmt = {
      userById: db.prepare('SELECT * FROM users WHERE id = ?'),
      userByKey: db.prepare('SELECT * FROM users WHERE username_key = ?'),
      countUsers: db.prepare('SELECT count(*) AS n FROM users'),
      insertUser: db.prepare(
        `INSERT INTO users (id, username, username_key, display_name, role, password_hash, created_at)
         VALUES (@id, @username, @usernameKey, @displayName, @role, @passwordHash, @createdAt)`,
      ),
      roomById: db.prepare('SELECT * FROM rooms WHERE id = ?'),
      roomByDmKey: db.prepare('SELECT * FROM rooms WHERE dm_key = ?'),
      role: db.prepare('SELECT role FROM members WHERE room_id = ? AND user_id = ?'),
      bumpSeq: db.prepare(
        'UPDATE rooms SET last_seq = last_seq + 1, last_event_at = ? WHERE id = ? RETURNING last_seq',
      ),
      insertEvent: db.prepare(
        `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
         VALUES (@roomId, @seq, @id, @type, @senderId, @body, @clientMsgId, @data, @createdAt)`,
      ),
      eventByIdem: db.prepare('SELECT * FROM events WHERE sender_id = ? AND client_msg_id = ?'),
      insertMember: db.prepare('INSERT OR IGNORE INTO members (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)'),
      deleteMember: db.prepare('DELETE FROM members WHERE room_id = ? AND user_id = ?'),
      setJoinedSeq: db.prepare('UPDATE members SET joined_seq = ? WHERE room_id = ? AND user_id = ?'),
      bumpMembers: db.prepare('UPDATE rooms SET member_count = member_count + ? WHERE id = ?'),
      deleteInvite: db.prepare('DELETE FROM invites WHERE room_id = ? AND user_id = ?'),
      deleteJoinRequest: db.prepare('DELETE FROM join_requests WHERE room_id = ? AND user_id = ?'),
      member: db.prepare('SELECT role, muted_until, joined_seq FROM members WHERE room_id = ? AND user_id = ?'),
      eventBySeq: db.prepare('SELECT * FROM events WHERE room_id = ? AND seq = ?'),
      reportById: db.prepare('SELECT * FROM reports WHERE id = ?'),
      eventsAfter: db.prepare('SELECT * FROM events WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      eventsBefore: db.prepare('SELECT * FROM events WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?'),
      messagesAfter: db.prepare(
        "SELECT * FROM events WHERE room_id = ? AND seq > ? AND type = 'message' ORDER BY seq LIMIT ?",
      ),
      messagesBefore: db.prepare(
        "SELECT * FROM events WHERE room_id = ? AND seq < ? AND type = 'message' ORDER BY seq DESC LIMIT ?",
      ),
    };
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

  /** Public room names are unique ignoring case (the partial unique index backs this up). Inside a transaction. */
  private assertPublicNameFree(name: string, roomId: string): void {
    const clash = this.q("SELECT 1 FROM rooms WHERE kind = 'public' AND name_key = ? AND id <> ?").get(
      name.toLowerCase(),
      roomId,
    );
    if (clash) throw new ChatError('room_name_taken');
  }

  private readonly statements = new Map<string, Database.Statement>();
  /** A prepared statement for `sql`, compiled once. Bounded: IN-lists of many lengths must not grow it forever. */
  private q(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= 500) this.statements.clear();
      this.statements.set(sql, (stmt = this.db.prepare(sql)));
    }
    return stmt;
  }

  /** Appends one event inside the caller's transaction; returns it. */
  private appendTx(
    roomId: string,
    type: RoomEventType,
    senderId: string,
    fields: { body?: string; clientMsgId?: string; data?: Record<string, unknown>; id?: string },
  ): RoomEvent {
    const now = this.now();
    const row = this.stmt.bumpSeq.get(now, roomId) as { last_seq: number } | undefined;
    if (!row) throw new ChatError('room_not_found');
    const event: RoomEvent = {
      id: fields.id ?? newId('e'),
      roomId,
      seq: row.last_seq,
      type,
      senderId,
      body: fields.body ?? null,
      clientMsgId: fields.clientMsgId ?? null,
      data: fields.data ?? null,
      createdAt: iso(now),
    };
    this.stmt.insertEvent.run({
      ...event,
      data: event.data ? JSON.stringify(event.data) : null,
      createdAt: now,
    });
    return event;
  }

  private async tx<T>(fn: () => T): Promise<T> {
    if (this.closed) throw new ChatError('unavailable', { message: 'Store is closed.' });
    const result = this.db.transaction(fn).immediate();
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

  private read<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new ChatError('unavailable', { message: 'Store is closed.' }));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  // ---- accounts ----

  createUser(user: NewUser, opts: { adminIfFirst: boolean; role?: ServerRole }): Promise<UserRecord> {
    return this.tx(() => {
      const key = user.username.toLowerCase();
      if (this.stmt.userByKey.get(key)) throw new ChatError('username_taken');
      const first = (this.stmt.countUsers.get() as { n: number }).n === 0;
      const role: ServerRole = opts.role ?? (opts.adminIfFirst && first ? 'admin' : 'user');
      this.stmt.insertUser.run({ ...user, usernameKey: key, role, createdAt: this.now() });
      return toUser(this.stmt.userById.get(user.id) as Row);
    });
  }

  getUser(id: string): Promise<UserRecord | null> {
    return this.read(() => {
      const r = this.stmt.userById.get(id) as Row | undefined;
      return r ? toUser(r) : null;
    });
  }

  getUserByUsername(username: string): Promise<UserRecord | null> {
    return this.read(() => {
      const r = this.stmt.userByKey.get(username.toLowerCase()) as Row | undefined;
      return r ? toUser(r) : null;
    });
  }

  getUsers(ids: readonly string[]): Promise<PublicUser[]> {
    return this.read(() => {
      const out: PublicUser[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const rows = this.db
          .prepare(`SELECT * FROM users WHERE id IN (${chunk.map(() => '?').join(',')})`)
          .all(...chunk) as Row[];
        out.push(...rows.map(toPublic));
      }
      return out;
    });
  }

  searchUsers(q: string, limit: number): Promise<PublicUser[]> {
    return this.read(() => {
      const like = `${likeEscape(q.toLowerCase())}%`;
      const rows = this.db
        .prepare(
          `SELECT * FROM users WHERE deactivated_at IS NULL
             AND (username_key LIKE ? ESCAPE '\\' OR fold(display_name) LIKE ? ESCAPE '\\')
           ORDER BY username_key LIMIT ?`,
        )
        .all(like, like, limit) as Row[];
      return rows.map(toPublic);
    });
  }

  updateProfile(id: string, patch: { displayName?: string; statusText?: string }): Promise<UserRecord> {
    return this.tx(() => {
      if (patch.displayName !== undefined)
        this.q('UPDATE users SET display_name = ? WHERE id = ?').run(patch.displayName, id);
      if (patch.statusText !== undefined)
        this.q('UPDATE users SET status_text = ? WHERE id = ?').run(patch.statusText, id);
      const r = this.stmt.userById.get(id) as Row | undefined;
      if (!r) throw new ChatError('user_not_found');
      return toUser(r);
    });
  }

  setPasswordHash(id: string, hash: string): Promise<void> {
    return this.tx(() => {
      this.q('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, id);
    });
  }

  setServerRole(id: string, role: ServerRole): Promise<void> {
    return this.tx(() => {
      this.q('UPDATE users SET role = ? WHERE id = ?').run(role, id);
    });
  }

  listUsers(q: string, limit: number, cursor?: string): Promise<{ users: UserRecord[]; nextCursor: string | null }> {
    return this.read(() => {
      const after = decodeUserCursor(cursor);
      const like = `${likeEscape(q.toLowerCase())}%`;
      const rows = this.q(
        `SELECT * FROM users
         WHERE (username_key LIKE ? ESCAPE '\\' OR fold(display_name) LIKE ? ESCAPE '\\')
           AND (username_key, id) > (?, ?)
         ORDER BY username_key, id LIMIT ?`,
      ).all(like, like, after[0], after[1], limit + 1) as Row[];
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        users: page.map(toUser),
        nextCursor:
          rows.length > limit && last ? encodeUserCursor(last.username_key as string, last.id as string) : null,
      };
    });
  }

  setDeactivated(id: string, deactivated: boolean): Promise<void> {
    return this.tx(() => {
      // Keeps the original time when deactivated twice.
      if (deactivated)
        this.q('UPDATE users SET deactivated_at = coalesce(deactivated_at, ?) WHERE id = ?').run(this.now(), id);
      else this.q('UPDATE users SET deactivated_at = NULL WHERE id = ?').run(id);
    });
  }

  setBannedUntil(id: string, until: number | null): Promise<void> {
    return this.tx(() => {
      this.q('UPDATE users SET banned_until = ? WHERE id = ?').run(until, id);
    });
  }

  createSession(s: SessionRecord): Promise<void> {
    return this.tx(() => {
      this.db
        .prepare(
          `INSERT INTO sessions (id, user_id, token_hash, label, created_at, expires_at, last_used_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(s.id, s.userId, s.tokenHash, s.label, s.createdAt, s.expiresAt, s.lastUsedAt);
    });
  }

  getSessionByTokenHash(tokenHash: string): Promise<{ session: SessionRecord; user: UserRecord } | null> {
    return this.read(() => {
      const s = this.q('SELECT * FROM sessions WHERE token_hash = ?').get(tokenHash) as Row | undefined;
      if (!s) return null;
      const u = this.stmt.userById.get(s.user_id) as Row | undefined;
      return u ? { session: toSession(s), user: toUser(u) } : null;
    });
  }

  touchSession(id: string, lastUsedAt: number, expiresAt: number): Promise<void> {
    return this.tx(() => {
      this.db
        .prepare('UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ?')
        .run(lastUsedAt, expiresAt, id);
    });
  }

  listSessions(userId: string): Promise<SessionRecord[]> {
    return this.read(() =>
      (this.q('SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at').all(userId) as Row[]).map(toSession),
    );
  }

  deleteSession(userId: string, sessionId: string): Promise<boolean> {
    return this.tx(
      () => this.q('DELETE FROM sessions WHERE id = ? AND user_id = ?').run(sessionId, userId).changes > 0,
    );
  }

  deleteSessions(userId: string, exceptId?: string): Promise<string[]> {
    return this.tx(() => {
      const rows = this.db
        .prepare('DELETE FROM sessions WHERE user_id = ? AND id IS NOT ? RETURNING id')
        .all(userId, exceptId ?? null) as { id: string }[];
      return rows.map((r) => r.id);
    });
  }

  // ---- rooms ----

  createRoom(room: NewRoom): Promise<{ room: Room; events: RoomEvent[]; created: boolean }> {
    return this.tx(() => {
      if (room.dmKey) {
        const existing = this.stmt.roomByDmKey.get(room.dmKey) as Row | undefined;
        if (existing) return { room: toRoom(existing), events: [], created: false };
      }
      if (room.kind === 'public') this.assertPublicNameFree(room.name, room.id);
      const now = this.now();
      this.db
        .prepare(
          `INSERT INTO rooms (id, kind, name, name_key, topic, created_by, created_at, last_event_at, dm_key)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          room.id,
          room.kind,
          room.name,
          room.name.toLowerCase(),
          room.topic,
          room.createdBy,
          now,
          now,
          room.dmKey ?? null,
        );
      const events = [
        this.appendTx(room.id, 'room.created', room.createdBy, {
          data: { name: room.name, kind: room.kind, topic: room.topic },
        }),
      ];
      for (const m of room.members) {
        this.stmt.insertMember.run(room.id, m.userId, m.role, now);
        const joined = this.appendTx(room.id, 'member.joined', room.createdBy, {
          data: { userId: m.userId, role: m.role },
        });
        this.stmt.setJoinedSeq.run(joined.seq, room.id, m.userId);
        events.push(joined);
      }
      this.stmt.bumpMembers.run(room.members.length, room.id);
      return { room: toRoom(this.stmt.roomById.get(room.id) as Row), events, created: true };
    });
  }

  getRoom(id: string): Promise<Room | null> {
    return this.read(() => {
      const r = this.stmt.roomById.get(id) as Row | undefined;
      return r ? toRoom(r) : null;
    });
  }

  getDmByKey(dmKey: string): Promise<Room | null> {
    return this.read(() => {
      const r = this.stmt.roomByDmKey.get(dmKey) as Row | undefined;
      return r ? toRoom(r) : null;
    });
  }

  searchPublicRooms(q: string, limit: number, cursor?: string): Promise<RoomPage> {
    return this.read(() => {
      const after = decodeRoomCursor(cursor);
      const like = `%${likeEscape(q.toLowerCase())}%`;
      const rows = this.db
        .prepare(
          `SELECT * FROM rooms WHERE kind = 'public'
             AND (name_key LIKE ? ESCAPE '\\' OR fold(topic) LIKE ? ESCAPE '\\')
             AND (name_key, id) > (?, ?)
           ORDER BY name_key, id LIMIT ?`,
        )
        .all(like, like, after[0], after[1], limit + 1) as Row[];
      return roomPage(rows, limit);
    });
  }

  listRoomsOf(userId: string): Promise<MyRoom[]> {
    return this.read(() => {
      const rows = this.db
        .prepare(
          `SELECT r.*, m.role AS my_role, m.joined_seq FROM members m JOIN rooms r ON r.id = m.room_id
           WHERE m.user_id = ? ORDER BY r.last_event_at DESC, r.id`,
        )
        .all(userId) as Row[];
      const rooms: MyRoom[] = rows.map((r) => ({
        ...toRoom(r),
        myRole: r.my_role as MemberRole,
        joinedSeq: r.joined_seq as number,
      }));
      const dms = rooms.filter((r) => r.kind === 'dm');
      if (dms.length > 0) {
        const memberRows = this.db
          .prepare(
            `SELECT m.room_id AS member_room, u.* FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.room_id IN (${dms.map(() => '?').join(',')}) AND m.user_id != ?`,
          )
          .all(...dms.map((d) => d.id), userId) as Row[];
        for (const dm of dms) {
          dm.members = memberRows.filter((m) => m.member_room === dm.id).map((m) => toProfile(toPublic(m)));
        }
      }
      return rooms;
    });
  }

  countRoomsOf(userId: string): Promise<number> {
    return this.read(
      () => (this.q('SELECT count(*) AS n FROM members WHERE user_id = ?').get(userId) as { n: number }).n,
    );
  }

  updateRoom(
    roomId: string,
    patch: { name?: string; topic?: string; settings?: Partial<RoomSettings> },
    actorId: string,
  ): Promise<{ room: Room; event: RoomEvent }> {
    return this.tx(() => {
      const current = this.stmt.roomById.get(roomId) as Row | undefined;
      if (!current) throw new ChatError('room_not_found');
      const { settings, ...fields } = patch;
      const data: Record<string, unknown> = {};
      if (fields.name !== undefined) {
        if (current.kind === 'public') this.assertPublicNameFree(fields.name, roomId);
        this.q('UPDATE rooms SET name = ?, name_key = ? WHERE id = ?').run(
          fields.name,
          fields.name.toLowerCase(),
          roomId,
        );
        data.name = fields.name;
      }
      if (fields.topic !== undefined) {
        this.q('UPDATE rooms SET topic = ? WHERE id = ?').run(fields.topic, roomId);
        data.topic = fields.topic;
      }
      if (settings?.readOnly !== undefined) {
        this.q('UPDATE rooms SET read_only = ? WHERE id = ?').run(settings.readOnly ? 1 : 0, roomId);
        data.readOnly = settings.readOnly;
      }
      if (settings?.slowModeSeconds !== undefined) {
        this.q('UPDATE rooms SET slow_mode_s = ? WHERE id = ?').run(settings.slowModeSeconds, roomId);
        data.slowModeSeconds = settings.slowModeSeconds;
      }
      if (settings?.joinApproval !== undefined) {
        this.q('UPDATE rooms SET join_approval = ? WHERE id = ?').run(settings.joinApproval ? 1 : 0, roomId);
        data.joinApproval = settings.joinApproval;
      }
      const event = this.appendTx(roomId, 'room.updated', actorId, { data });
      return { room: toRoom(this.stmt.roomById.get(roomId) as Row), event };
    });
  }

  getRole(roomId: string, userId: string): Promise<MemberRole | null> {
    return this.read(() => (this.stmt.role.get(roomId, userId) as { role: MemberRole } | undefined)?.role ?? null);
  }

  getMember(roomId: string, userId: string): Promise<MemberRecord | null> {
    return this.read(() => {
      const r = this.stmt.member.get(roomId, userId) as Row | undefined;
      return r ? toMember(r) : null;
    });
  }

  listMembers(roomId: string, page?: MemberPage): Promise<MemberRow[]> {
    return this.read(() => {
      const after = page?.after;
      const rows = this.db
        .prepare(
          `SELECT u.*, m.role AS member_role, m.joined_at, m.muted_until FROM members m JOIN users u ON u.id = m.user_id
           WHERE m.room_id = ?${after ? ' AND (m.joined_at > ? OR (m.joined_at = ? AND m.user_id > ?))' : ''}
           ORDER BY m.joined_at, m.user_id${page ? ' LIMIT ?' : ''}`,
        )
        .all(
          roomId,
          ...(after ? [after.joinedAt, after.joinedAt, after.userId] : []),
          ...(page ? [page.limit] : []),
        ) as Row[];
      return rows.map((r) => ({
        user: toPublic(r),
        role: r.member_role as MemberRole,
        joinedAt: iso(r.joined_at),
        mutedUntil: r.muted_until == null ? null : Number(r.muted_until),
      }));
    });
  }

  listMemberIds(roomId: string): Promise<string[]> {
    return this.read(() =>
      (this.q('SELECT user_id FROM members WHERE room_id = ?').all(roomId) as { user_id: string }[]).map(
        (r) => r.user_id,
      ),
    );
  }

  countRole(roomId: string, role: MemberRole): Promise<number> {
    return this.read(
      () =>
        (
          this.q('SELECT count(*) AS n FROM members WHERE room_id = ? AND role = ?').get(roomId, role) as {
            n: number;
          }
        ).n,
    );
  }

  addMember(roomId: string, userId: string, role: MemberRole, actorId: string): Promise<RoomEvent | null> {
    return this.tx(() => {
      if (!this.stmt.roomById.get(roomId)) throw new ChatError('room_not_found');
      if (this.stmt.insertMember.run(roomId, userId, role, this.now()).changes === 0) return null;
      this.stmt.bumpMembers.run(1, roomId);
      this.stmt.deleteInvite.run(roomId, userId);
      this.stmt.deleteJoinRequest.run(roomId, userId);
      const joined = this.appendTx(roomId, 'member.joined', actorId, { data: { userId, role } });
      this.stmt.setJoinedSeq.run(joined.seq, roomId, userId);
      return joined;
    });
  }

  removeMember(roomId: string, userId: string, actorId: string, reason: 'left' | 'removed'): Promise<RoomEvent | null> {
    return this.tx(() => {
      if (this.stmt.deleteMember.run(roomId, userId).changes === 0) return null;
      this.stmt.bumpMembers.run(-1, roomId);
      return this.appendTx(roomId, 'member.left', actorId, { data: { userId, reason } });
    });
  }

  setMemberRole(roomId: string, userId: string, role: MemberRole, actorId: string): Promise<RoomEvent | null> {
    return this.tx(() => {
      const r = this.db
        .prepare('UPDATE members SET role = ? WHERE room_id = ? AND user_id = ?')
        .run(role, roomId, userId);
      if (r.changes === 0) return null;
      return this.appendTx(roomId, 'member.role', actorId, { data: { userId, role } });
    });
  }

  createInvite(roomId: string, userId: string, inviterId: string): Promise<RoomEvent | null> {
    return this.tx(() => {
      const r = this.db
        .prepare('INSERT OR IGNORE INTO invites (room_id, user_id, inviter_id, created_at) VALUES (?, ?, ?, ?)')
        .run(roomId, userId, inviterId, this.now());
      if (r.changes === 0) return null;
      return this.appendTx(roomId, 'member.invited', inviterId, { data: { userId } });
    });
  }

  hasInvite(roomId: string, userId: string): Promise<boolean> {
    return this.read(() => !!this.q('SELECT 1 FROM invites WHERE room_id = ? AND user_id = ?').get(roomId, userId));
  }

  listInvites(userId: string): Promise<Invite[]> {
    return this.read(() => {
      const rows = this.db
        .prepare(
          `SELECT i.created_at AS invited_at, i.inviter_id, r.* FROM invites i JOIN rooms r ON r.id = i.room_id
           WHERE i.user_id = ? ORDER BY i.created_at DESC`,
        )
        .all(userId) as Row[];
      return rows.flatMap((r) => {
        const inviter = this.stmt.userById.get(r.inviter_id) as Row | undefined;
        return inviter ? [{ room: toRoom(r), inviter: toPublic(inviter), createdAt: iso(r.invited_at) }] : [];
      });
    });
  }

  deleteInvite(roomId: string, userId: string): Promise<boolean> {
    return this.tx(() => this.stmt.deleteInvite.run(roomId, userId).changes > 0);
  }

  // ---- moderation ----

  muteMember(roomId: string, userId: string, until: number, actorId: string): Promise<RoomEvent | null> {
    return this.tx(() => {
      const r = this.q('UPDATE members SET muted_until = ? WHERE room_id = ? AND user_id = ?').run(
        until,
        roomId,
        userId,
      );
      if (r.changes === 0) return null;
      return this.appendTx(roomId, 'member.muted', actorId, { data: { userId, until: iso(until) } });
    });
  }

  unmuteMember(roomId: string, userId: string, actorId: string): Promise<RoomEvent | null> {
    return this.tx(() => {
      const r = this.q(
        'UPDATE members SET muted_until = NULL WHERE room_id = ? AND user_id = ? AND muted_until IS NOT NULL',
      ).run(roomId, userId);
      if (r.changes === 0) return null;
      return this.appendTx(roomId, 'member.unmuted', actorId, { data: { userId } });
    });
  }

  banFromRoom(
    roomId: string,
    userId: string,
    ban: { until: number; reason: string },
    actorId: string,
  ): Promise<RoomEvent | null> {
    return this.tx(() => {
      if (!this.stmt.roomById.get(roomId)) throw new ChatError('room_not_found');
      this.q(
        `INSERT INTO room_bans (room_id, user_id, until, reason, actor_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (room_id, user_id) DO UPDATE SET
           until = excluded.until, reason = excluded.reason, actor_id = excluded.actor_id, created_at = excluded.created_at`,
      ).run(roomId, userId, ban.until, ban.reason, actorId, this.now());
      this.stmt.deleteInvite.run(roomId, userId);
      this.stmt.deleteJoinRequest.run(roomId, userId);
      if (this.stmt.deleteMember.run(roomId, userId).changes === 0) return null;
      this.stmt.bumpMembers.run(-1, roomId);
      return this.appendTx(roomId, 'member.left', actorId, { data: { userId, reason: 'banned' } });
    });
  }

  unbanFromRoom(roomId: string, userId: string): Promise<boolean> {
    return this.tx(
      () => this.q('DELETE FROM room_bans WHERE room_id = ? AND user_id = ?').run(roomId, userId).changes > 0,
    );
  }

  getRoomBan(roomId: string, userId: string): Promise<RoomBan | null> {
    return this.read(() => {
      const r = this.q('SELECT * FROM room_bans WHERE room_id = ? AND user_id = ?').get(roomId, userId) as
        Row | undefined;
      return r ? toRoomBan(r) : null;
    });
  }

  listRoomBans(roomId: string): Promise<RoomBan[]> {
    return this.read(() =>
      (this.q('SELECT * FROM room_bans WHERE room_id = ? ORDER BY created_at DESC, user_id').all(roomId) as Row[]).map(
        toRoomBan,
      ),
    );
  }

  getEvent(roomId: string, seq: number): Promise<RoomEvent | null> {
    return this.read(() => {
      const r = this.stmt.eventBySeq.get(roomId, seq) as Row | undefined;
      return r ? toEvent(r) : null;
    });
  }

  deleteMessage(roomId: string, seq: number, actorId: string): Promise<RoomEvent | null> {
    return this.tx(() => {
      const r = this.stmt.eventBySeq.get(roomId, seq) as Row | undefined;
      if (!r || r.type !== 'message' || toEvent(r).data?.deleted) return null;
      // The row keeps its id and clientMsgId: a retry of the deleted message finds it (redacted), not a new one.
      this.q('UPDATE events SET body = ?, data = ? WHERE room_id = ? AND seq = ?').run(
        '',
        JSON.stringify({ deleted: true, deletedBy: actorId }),
        roomId,
        seq,
      );
      return this.appendTx(roomId, 'message.deleted', actorId, { data: { seq, messageId: r.id as string } });
    });
  }

  createJoinRequest(roomId: string, userId: string): Promise<boolean> {
    return this.tx(() => {
      if (!this.stmt.roomById.get(roomId)) throw new ChatError('room_not_found');
      if (!this.stmt.userById.get(userId)) throw new ChatError('user_not_found');
      return (
        this.q('INSERT OR IGNORE INTO join_requests (room_id, user_id, created_at) VALUES (?, ?, ?)').run(
          roomId,
          userId,
          this.now(),
        ).changes > 0
      );
    });
  }

  listJoinRequests(roomId: string): Promise<{ user: PublicUser; createdAt: string }[]> {
    return this.read(() => {
      const rows = this.q(
        `SELECT u.*, j.created_at AS requested_at FROM join_requests j JOIN users u ON u.id = j.user_id
         WHERE j.room_id = ? ORDER BY j.created_at, u.username_key`,
      ).all(roomId) as Row[];
      return rows.map((r) => ({ user: toPublic(r), createdAt: iso(r.requested_at) }));
    });
  }

  hasJoinRequest(roomId: string, userId: string): Promise<boolean> {
    return this.read(
      () => !!this.q('SELECT 1 FROM join_requests WHERE room_id = ? AND user_id = ?').get(roomId, userId),
    );
  }

  deleteJoinRequest(roomId: string, userId: string): Promise<boolean> {
    return this.tx(() => this.stmt.deleteJoinRequest.run(roomId, userId).changes > 0);
  }

  createReport(report: NewReport): Promise<Report> {
    return this.tx(() => {
      this.q(
        `INSERT INTO reports (id, reporter_id, room_id, seq, target_user_id, reason, excerpt, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)`,
      ).run(
        report.id,
        report.reporterId,
        report.roomId,
        report.seq,
        report.targetUserId,
        report.reason,
        report.excerpt,
        this.now(),
      );
      return toReport(this.stmt.reportById.get(report.id) as Row);
    });
  }

  getReport(id: string): Promise<Report | null> {
    return this.read(() => {
      const r = this.stmt.reportById.get(id) as Row | undefined;
      return r ? toReport(r) : null;
    });
  }

  listReports(query: {
    status?: Report['status'];
    roomIds?: readonly string[];
    limit: number;
    before?: string;
  }): Promise<Report[]> {
    return this.read(() => {
      if (query.roomIds?.length === 0) return [];
      const where: string[] = [];
      const args: unknown[] = [];
      if (query.status !== undefined) {
        where.push('status = ?');
        args.push(query.status);
      }
      if (query.roomIds) {
        where.push(`room_id IN (${query.roomIds.map(() => '?').join(',')})`);
        args.push(...query.roomIds);
      }
      if (query.before !== undefined) {
        // Ids are random: the page continues below the (created_at, id) of the given report.
        where.push('(created_at, id) < (SELECT created_at, id FROM reports WHERE id = ?)');
        args.push(query.before);
      }
      const rows = this.q(
        `SELECT * FROM reports ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      ).all(...args, query.limit) as Row[];
      return rows.map(toReport);
    });
  }

  resolveReport(id: string, resolution: ReportResolution, resolvedBy: string): Promise<Report | null> {
    return this.tx(() => {
      const r = this.q(
        `UPDATE reports SET status = 'resolved', resolution = ?, resolved_by = ?, resolved_at = ?
         WHERE id = ? AND status = 'open' RETURNING *`,
      ).get(resolution, resolvedBy, this.now(), id) as Row | undefined;
      return r ? toReport(r) : null;
    });
  }

  appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.tx(() => {
      const r = this.q(
        `INSERT INTO audit_log (id, actor_id, action, room_id, target_user_id, data, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      ).get(
        entry.id,
        entry.actorId,
        entry.action,
        entry.roomId,
        entry.targetUserId,
        entry.data ? JSON.stringify(entry.data) : null,
        this.now(),
      ) as Row;
      return toAudit(r);
    });
  }

  listAudit(query: { roomId?: string; limit: number; before?: string }): Promise<AuditEntry[]> {
    return this.read(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (query.roomId !== undefined) {
        where.push('room_id = ?');
        args.push(query.roomId);
      }
      if (query.before !== undefined) {
        where.push('(created_at, id) < (SELECT created_at, id FROM audit_log WHERE id = ?)');
        args.push(query.before);
      }
      const rows = this.q(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      ).all(...args, query.limit) as Row[];
      return rows.map(toAudit);
    });
  }

  // ---- events ----

  appendMessage(message: NewMessage): Promise<{ event: RoomEvent; duplicate: boolean }> {
    if (this.closed) return Promise.reject(new ChatError('unavailable', { message: 'Store is closed.' }));
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Group commit: every append queued since the last flush, in one transaction. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const outcomes: ({ ok: true; value: { event: RoomEvent; duplicate: boolean } } | { ok: false; error: unknown })[] =
      [];
    try {
      this.db
        .transaction(() => {
          for (const { message: m } of batch) {
            const existing = this.stmt.eventByIdem.get(m.senderId, m.clientMsgId) as Row | undefined;
            if (existing) {
              outcomes.push(
                existing.room_id === m.roomId
                  ? { ok: true, value: { event: toEvent(existing), duplicate: true } }
                  : { ok: false, error: new ChatError('client_msg_id_reused') },
              );
              continue;
            }
            if (!this.stmt.roomById.get(m.roomId)) {
              outcomes.push({ ok: false, error: new ChatError('room_not_found') });
              continue;
            }
            const event = this.appendTx(m.roomId, 'message', m.senderId, {
              id: m.id,
              body: m.body,
              clientMsgId: m.clientMsgId,
            });
            outcomes.push({ ok: true, value: { event, duplicate: false } });
          }
        })
        .immediate();
    } catch (err) {
      // Nothing in the batch was committed: every sender gets a retryable error, never a false ack.
      const error = new ChatError('unavailable', { message: `Storage write failed: ${(err as Error).message}` });
      for (const p of batch) p.reject(error);
      return;
    }
    this.durable().then(
      () =>
        batch.forEach((p, i) => {
          const o = outcomes[i]!;
          if (o.ok) p.resolve(o.value);
          else p.reject(o.error);
        }),
      (err: unknown) => {
        // The commit may or may not have reached the disk: never ack it. A retry with the same clientMsgId
        // finds the message if it was kept.
        for (const p of batch) p.reject(err);
      },
    );
  }

  findMessageByClientMsgId(senderId: string, clientMsgId: string): Promise<RoomEvent | null> {
    return this.read(() => {
      const r = this.stmt.eventByIdem.get(senderId, clientMsgId) as Row | undefined;
      return r ? toEvent(r) : null;
    });
  }

  listEvents(
    roomId: string,
    query: { after?: number; before?: number; limit: number; messagesOnly?: boolean },
  ): Promise<RoomEvent[]> {
    return this.read(() => {
      const s = this.stmt;
      let rows: Row[];
      if (query.after !== undefined) {
        rows = (query.messagesOnly ? s.messagesAfter : s.eventsAfter).all(roomId, query.after, query.limit) as Row[];
      } else {
        const before = query.before ?? Number.MAX_SAFE_INTEGER;
        rows = (query.messagesOnly ? s.messagesBefore : s.eventsBefore).all(roomId, before, query.limit) as Row[];
        rows.reverse();
      }
      return rows.map(toEvent);
    });
  }

  ping(): Promise<void> {
    return this.read(() => {
      this.q('SELECT 1').get();
    });
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

import type { ServerRole } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import type { AccountStore, NewUser, SessionRecord } from '../../core/store.js';
import { query, read, transaction, write, type Operations } from './recipe.js';
import { decodeUserCursor, encodeUserCursor, toPublic, toSession, toUser, type Row } from './rows.js';
import { fold, foldOrNull, likePrefix } from './text.js';

/** The named queries of accounts and sessions; each engine supplies their SQL. Counts are rows changed. */
export interface AccountQueries {
  userById(a: { id: string }): Row | undefined;
  userByUsernameKey(a: { usernameKey: string }): Row | undefined;
  usersByIds(a: { ids: readonly string[] }): Row[];
  /** Active users whose username_key or folded display name matches `like`, by username_key. */
  usersSearch(a: { like: string; limit: number }): Row[];
  /** All users matching like usersSearch, after (username_key, id), by (username_key, id). */
  usersDirectory(a: { like: string; afterKey: string; afterId: string; limit: number }): Row[];
  usersExist(a: Record<string, never>): boolean;
  /** Serializes "is this the first user?" across writers until the transaction ends. */
  firstUserLock(a: Record<string, never>): void;
  /** The new row, or undefined when the username_key is taken. */
  userInsert(a: {
    id: string;
    username: string;
    usernameKey: string;
    displayName: string;
    displayNameKey: string;
    role: ServerRole;
    passwordHash: string;
    now: number;
  }): Row | undefined;
  /** Sets the non-null fields; the updated row, or undefined for an unknown user. */
  userUpdateProfile(a: {
    id: string;
    displayName: string | null;
    displayNameKey: string | null;
    statusText: string | null;
  }): Row | undefined;
  userSetPasswordHash(a: { id: string; hash: string }): number;
  userSetRole(a: { id: string; role: ServerRole }): number;
  /** Sets deactivated_at to `now` unless already set. */
  userDeactivate(a: { id: string; now: number }): number;
  userReactivate(a: { id: string }): number;
  userSetBannedUntil(a: { id: string; until: number | null }): number;

  sessionInsert(a: SessionRecord): number;
  sessionByTokenHash(a: { tokenHash: string }): { session: Row; user: Row } | undefined;
  sessionTouch(a: { id: string; lastUsedAt: number; expiresAt: number }): number;
  sessionsOf(a: { userId: string }): Row[];
  sessionDelete(a: { id: string; userId: string }): number;
  /** Deletes the user's sessions but `exceptId`; rows of the deleted ids. */
  sessionsDeleteExcept(a: { userId: string; exceptId: string | null }): { id: string }[];
}

/** AccountStore, written once: each operation's recipe and how it runs. */
export const accounts = {
  // "First user" must be decided atomically across writers. Once any person exists it is settled for good (user rows
  // are never deleted), so only registrations while there is none take the lock and re-check. Bots do not count.
  createUser: transaction(function* (now, user: NewUser, opts: { adminIfFirst: boolean; role?: ServerRole }) {
    let role: ServerRole = opts.role ?? 'user';
    if (!opts.role && opts.adminIfFirst && !(yield* query('usersExist', {}))) {
      yield* query('firstUserLock', {});
      if (!(yield* query('usersExist', {}))) role = 'admin';
    }
    const row = yield* query('userInsert', {
      ...user,
      usernameKey: fold(user.username),
      displayNameKey: fold(user.displayName),
      role,
      now,
    });
    if (!row) throw new ChatError('username_taken');
    return toUser(row);
  }),

  getUser: read(function* (_now, id: string) {
    const r = yield* query('userById', { id });
    return r ? toUser(r) : null;
  }),

  getUserByUsername: read(function* (_now, username: string) {
    const r = yield* query('userByUsernameKey', { usernameKey: fold(username) });
    return r ? toUser(r) : null;
  }),

  getUsers: read(function* (_now, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return (yield* query('usersByIds', { ids })).map(toPublic);
  }),

  searchUsers: read(function* (_now, q: string, limit: number) {
    return (yield* query('usersSearch', { like: likePrefix(q), limit })).map(toPublic);
  }),

  updateProfile: write(function* (_now, id: string, patch: { displayName?: string; statusText?: string }) {
    const r = yield* query('userUpdateProfile', {
      id,
      displayName: patch.displayName ?? null,
      displayNameKey: foldOrNull(patch.displayName),
      statusText: patch.statusText ?? null,
    });
    if (!r) throw new ChatError('user_not_found');
    return toUser(r);
  }),

  setPasswordHash: write(function* (_now, id: string, hash: string) {
    yield* query('userSetPasswordHash', { id, hash });
  }),

  setServerRole: write(function* (_now, id: string, role: ServerRole) {
    yield* query('userSetRole', { id, role });
  }),

  listUsers: read(function* (_now, q: string, limit: number, cursor?: string) {
    const [afterKey, afterId] = decodeUserCursor(cursor);
    // username_key is unique, so it alone orders the directory; the id in the cursor only keeps its shape.
    const rows = yield* query('usersDirectory', { like: likePrefix(q), afterKey, afterId, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      users: page.map(toUser),
      nextCursor: rows.length > limit && last ? encodeUserCursor(last.username_key as string, last.id as string) : null,
    };
  }),

  setDeactivated: write(function* (now, id: string, deactivated: boolean) {
    // Deactivating twice keeps the first time.
    if (deactivated) yield* query('userDeactivate', { id, now });
    else yield* query('userReactivate', { id });
  }),

  setBannedUntil: write(function* (_now, id: string, until: number | null) {
    yield* query('userSetBannedUntil', { id, until });
  }),

  createSession: write(function* (_now, session: SessionRecord) {
    yield* query('sessionInsert', session);
  }),

  getSessionByTokenHash: read(function* (_now, tokenHash: string) {
    const r = yield* query('sessionByTokenHash', { tokenHash });
    return r ? { session: toSession(r.session), user: toUser(r.user) } : null;
  }),

  touchSession: write(function* (_now, id: string, lastUsedAt: number, expiresAt: number) {
    yield* query('sessionTouch', { id, lastUsedAt, expiresAt });
  }),

  listSessions: read(function* (_now, userId: string) {
    return (yield* query('sessionsOf', { userId })).map(toSession);
  }),

  deleteSession: write(function* (_now, userId: string, sessionId: string) {
    return (yield* query('sessionDelete', { id: sessionId, userId })) > 0;
  }),

  deleteSessions: write(function* (_now, userId: string, exceptId?: string) {
    return (yield* query('sessionsDeleteExcept', { userId, exceptId: exceptId ?? null })).map((r) => r.id);
  }),
} satisfies Operations<AccountStore>;

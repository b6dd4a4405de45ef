import type { PublicUser, SessionInfo } from '../protocol/model.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import { topics } from './bus.js';
import { newId } from './ids.js';
import { hashToken, newToken } from './tokens.js';
import type { SessionRecord, UserRecord } from './store.js';

export interface AuthContext {
  user: UserRecord;
  session: SessionRecord;
}

/** Sliding expiry is written at most this often per session, so authentication is a read, not a write. */
const TOUCH_EVERY_MS = 60 * 60 * 1000;

export function toPublicUser(u: UserRecord): PublicUser {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    statusText: u.statusText,
    role: u.role,
    createdAt: u.createdAt,
  };
}

/** Accounts and sessions: register, log in and out, tokens, passwords, profiles. */
export class AccountService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly hooks: { onRegistered?: (user: UserRecord) => Promise<void> } = {},
  ) {}

  private async limit(key: string, rule: DomainContext['limits']['rates']['login']): Promise<void> {
    const r = await this.ctx.limiter.take(key, rule);
    if (!r.ok) throw new ChatError('rate_limited', { retryAfterMs: r.retryAfterMs });
  }

  async register(
    input: { username: string; password: string; displayName?: string | undefined },
    meta: { ip: string; label?: string | undefined },
  ): Promise<{ token: string; user: PublicUser; sessionId: string }> {
    await this.limit(`register-ip:${meta.ip}`, this.ctx.limits.rates.register);
    const existing = await this.ctx.store.getUserByUsername(input.username);
    if (existing) throw new ChatError('username_taken');
    const user = await this.ctx.store.createUser(
      {
        id: newId('u'),
        username: input.username,
        displayName: input.displayName ?? input.username,
        passwordHash: await this.ctx.hasher.hash(input.password),
      },
      { adminIfFirst: this.ctx.limits.firstUserIsAdmin },
    );
    await this.hooks.onRegistered?.(user);
    const { token, session } = await this.openSession(user, meta.label ?? '');
    return { token, user: toPublicUser(user), sessionId: session.id };
  }

  /** Creates a server admin, or promotes an existing user (for the `chat admin create` command). */
  async createAdmin(username: string, password: string): Promise<{ user: PublicUser; created: boolean }> {
    const existing = await this.ctx.store.getUserByUsername(username);
    if (existing) {
      await this.ctx.store.setServerRole(existing.id, 'admin');
      await this.ctx.store.setPasswordHash(existing.id, await this.ctx.hasher.hash(password));
      return { user: { ...toPublicUser(existing), role: 'admin' }, created: false };
    }
    const user = await this.ctx.store.createUser(
      { id: newId('u'), username, displayName: username, passwordHash: await this.ctx.hasher.hash(password) },
      { adminIfFirst: false, role: 'admin' },
    );
    await this.hooks.onRegistered?.(user);
    return { user: toPublicUser(user), created: true };
  }

  /**
   * Wrong password, unknown user and deactivated user all answer `invalid_credentials` after the same work,
   * so the response never tells whether an account exists.
   */
  async login(
    input: { username: string; password: string; label?: string | undefined },
    meta: { ip: string },
  ): Promise<{ token: string; user: PublicUser; sessionId: string }> {
    await this.limit(`login-ip:${meta.ip}`, this.ctx.limits.rates.login);
    await this.limit(`login-user:${input.username.toLowerCase()}`, this.ctx.limits.rates.login);
    const user = await this.ctx.store.getUserByUsername(input.username);
    if (!user) {
      await this.ctx.hasher.burn(input.password);
      throw new ChatError('invalid_credentials');
    }
    const ok = await this.ctx.hasher.verify(input.password, user.passwordHash);
    if (!ok || user.deactivated) throw new ChatError('invalid_credentials');
    const { token, session } = await this.openSession(user, input.label ?? '');
    return { token, user: toPublicUser(user), sessionId: session.id };
  }

  private async openSession(user: UserRecord, label: string): Promise<{ token: string; session: SessionRecord }> {
    const token = newToken();
    const now = this.ctx.now();
    const session: SessionRecord = {
      id: newId('s'),
      userId: user.id,
      tokenHash: hashToken(token),
      label: label.slice(0, 64),
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + this.ctx.limits.sessionTtlMs,
    };
    await this.ctx.store.createSession(session);
    return { token, session };
  }

  /** Resolves a bearer token to its user and session, or throws `unauthorized`. Extends the expiry (sliding). */
  async authenticate(token: string | undefined): Promise<AuthContext> {
    if (!token || token.length > 200) throw new ChatError('unauthorized');
    const found = await this.ctx.store.getSessionByTokenHash(hashToken(token));
    const now = this.ctx.now();
    if (!found || found.session.expiresAt <= now || found.user.deactivated) throw new ChatError('unauthorized');
    if (now - found.session.lastUsedAt > TOUCH_EVERY_MS) {
      const expiresAt = now + this.ctx.limits.sessionTtlMs;
      await this.ctx.store.touchSession(found.session.id, now, expiresAt);
      found.session.lastUsedAt = now;
      found.session.expiresAt = expiresAt;
    }
    return found;
  }

  private async revoked(userId: string, sessionIds: string[]): Promise<void> {
    if (sessionIds.length > 0) await this.ctx.bus.publish(topics.user(userId), { kind: 'revoke', userId, sessionIds });
  }

  async logout(auth: AuthContext): Promise<void> {
    await this.ctx.store.deleteSession(auth.user.id, auth.session.id);
    await this.revoked(auth.user.id, [auth.session.id]);
  }

  async logoutEverywhere(auth: AuthContext): Promise<number> {
    const ids = await this.ctx.store.deleteSessions(auth.user.id);
    await this.revoked(auth.user.id, ids);
    return ids.length;
  }

  async listSessions(auth: AuthContext): Promise<SessionInfo[]> {
    const sessions = await this.ctx.store.listSessions(auth.user.id);
    return sessions.map((s) => ({
      id: s.id,
      label: s.label,
      createdAt: new Date(s.createdAt).toISOString(),
      expiresAt: new Date(s.expiresAt).toISOString(),
      lastUsedAt: new Date(s.lastUsedAt).toISOString(),
      current: s.id === auth.session.id,
    }));
  }

  async revokeSession(auth: AuthContext, sessionId: string): Promise<void> {
    if (!(await this.ctx.store.deleteSession(auth.user.id, sessionId))) throw new ChatError('not_found');
    await this.revoked(auth.user.id, [sessionId]);
  }

  /** Changes the password and ends every other session of the user (their sockets close with 4003). */
  async changePassword(auth: AuthContext, currentPassword: string, newPassword: string): Promise<void> {
    await this.limit(`login-user:${auth.user.username.toLowerCase()}`, this.ctx.limits.rates.login);
    if (!(await this.ctx.hasher.verify(currentPassword, auth.user.passwordHash))) {
      throw new ChatError('invalid_credentials');
    }
    await this.ctx.store.setPasswordHash(auth.user.id, await this.ctx.hasher.hash(newPassword));
    const ids = await this.ctx.store.deleteSessions(auth.user.id, auth.session.id);
    await this.revoked(auth.user.id, ids);
  }

  async updateProfile(auth: AuthContext, patch: { displayName?: string; statusText?: string }): Promise<PublicUser> {
    return toPublicUser(await this.ctx.store.updateProfile(auth.user.id, patch));
  }

  async getUser(id: string): Promise<PublicUser> {
    const user = await this.ctx.store.getUser(id);
    if (!user || user.deactivated) throw new ChatError('user_not_found');
    return toPublicUser(user);
  }

  searchUsers(q: string, limit: number): Promise<PublicUser[]> {
    return this.ctx.store.searchUsers(q, limit);
  }
}

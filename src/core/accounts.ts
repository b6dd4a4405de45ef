import { cleanSessionLabel, type PublicUser, type SessionInfo } from '../protocol/model.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import type { RateRule } from './rate-limiter.js';
import { topics } from './bus.js';
import { newId } from './ids.js';
import { hashToken, newToken } from './tokens.js';
import type { SessionRecord, UserRecord } from './store.js';

export interface AuthContext {
  user: UserRecord;
  session: SessionRecord;
}

/** What re-reading an open session found: the fresh user and session, or why the session ended. */
export type SessionCheck = { auth: AuthContext; ended?: undefined } | { ended: 'revoked' | 'disabled' | 'expired' };

/** Sliding expiry is written at most this often per session, so authentication is a read, not a write. */
const TOUCH_EVERY_MS = 60 * 60 * 1000;

/** Neither deactivated nor under a server ban. */
export function isActive(u: UserRecord, now: number): boolean {
  return !u.deactivated && !(u.bannedUntil !== null && u.bannedUntil > now);
}

export function toPublicUser(u: UserRecord): PublicUser {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    statusText: u.statusText,
    role: u.role,
    createdAt: u.createdAt,
    ...(u.avatarUrl ? { avatarUrl: u.avatarUrl } : {}),
    ...(u.botOf ? { bot: true as const } : {}),
    ...(u.deleted ? { deleted: true as const } : {}),
  };
}

/** Accounts and sessions: register, log in and out, tokens, passwords, profiles. */
export class AccountService {
  private readonly lockout: LoginLockout;

  constructor(
    private readonly ctx: DomainContext,
    private readonly hooks: { onRegistered?: (user: UserRecord) => Promise<void> } = {},
  ) {
    this.lockout = new LoginLockout(ctx);
  }

  /** A display name or status text as it may be stored: refused when it holds a blocked word, else masked. */
  private filtered(text: string): string {
    const verdict = this.ctx.filter.check(text);
    if (verdict.blocked.length > 0) throw new ChatError('content_blocked');
    return verdict.text;
  }

  private async limit(key: string, rule: DomainContext['limits']['rates']['login']): Promise<void> {
    const r = await this.ctx.limiter.take(key, rule);
    if (!r.ok) throw new ChatError('rate_limited', { retryAfterMs: r.retryAfterMs });
  }

  async register(
    input: { username: string; password: string; displayName?: string | undefined },
    meta: { ip: string; label?: string | undefined },
  ): Promise<{ token: string; user: PublicUser; sessionId: string }> {
    await this.limit(`register-ip:${meta.ip}`, this.ctx.limits.rates.register);
    // The username cannot be masked (it is the handle): a blocked word in it refuses the registration.
    this.filtered(input.username);
    const displayName = this.filtered(input.displayName ?? input.username);
    const existing = await this.ctx.store.getUserByUsername(input.username);
    if (existing) throw new ChatError('username_taken');
    const user = await this.ctx.store.createUser(
      {
        id: newId('u'),
        username: input.username,
        displayName,
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
   * Wrong password and unknown user both answer `invalid_credentials` after the same work, so the response never
   * tells whether an account exists. A deactivated or banned account answers `account_disabled`, but only to
   * the right password.
   */
  async login(
    input: { username: string; password: string; label?: string | undefined },
    meta: { ip: string },
  ): Promise<{ token: string; user: PublicUser; sessionId: string }> {
    const name = input.username.toLowerCase();
    await this.limit(`login-ip:${meta.ip}`, this.ctx.limits.rates.login);
    await this.limit(`login-user:${name}`, this.ctx.limits.rates.login);
    await this.lockout.check(name);
    const user = await this.ctx.store.getUserByUsername(input.username);
    // Known or not, the check goes through the same bounded hashing queue (a full one refuses both alike).
    let ok = false;
    // A bot has no password (its tokens are made by whoever manages it): it is answered like an unknown user.
    if (user && !user.botOf) ok = await this.ctx.hasher.verify(input.password, user.passwordHash);
    else await this.ctx.hasher.burn(input.password);
    if (!user || !ok) {
      await this.lockout.failed(name);
      throw new ChatError('invalid_credentials');
    }
    await this.lockout.succeeded(name);
    // Only someone who knows the password learns the account is disabled.
    if (!isActive(user, this.ctx.now())) throw new ChatError('account_disabled');
    await this.rehashIfStale(user, input.password);
    const { token, session } = await this.openSession(user, input.label ?? '');
    return { token, user: toPublicUser(user), sessionId: session.id };
  }

  /**
   * A hash made with older parameters (a lower SCRYPT_LOG2N) is replaced by a current one while the password is
   * at hand. Best effort: a busy hashing queue skips it, and the next login tries again.
   */
  private async rehashIfStale(user: UserRecord, password: string): Promise<void> {
    if (!this.ctx.hasher.needsRehash(user.passwordHash)) return;
    try {
      await this.ctx.store.setPasswordHash(user.id, await this.ctx.hasher.hash(password));
    } catch (err) {
      if (!(err instanceof ChatError && err.code === 'rate_limited')) throw err;
    }
  }

  private async openSession(user: UserRecord, label: string): Promise<{ token: string; session: SessionRecord }> {
    const token = newToken();
    const now = this.ctx.now();
    const session: SessionRecord = {
      id: newId('s'),
      userId: user.id,
      tokenHash: hashToken(token),
      label: cleanSessionLabel(label),
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
    if (!found || found.session.expiresAt <= now || !isActive(found.user, now)) throw new ChatError('unauthorized');
    await this.slide(found.session, now);
    return found;
  }

  /**
   * Reads an open connection's session again (at its expiry, every SESSION_RECHECK_MS, after a bus outage): the
   * fresh user and session, or why it ended. Staying connected is use, so the expiry slides as in `authenticate`.
   */
  async recheck(session: SessionRecord): Promise<SessionCheck> {
    const found = await this.ctx.store.getSessionByTokenHash(session.tokenHash);
    const now = this.ctx.now();
    if (!found || found.session.id !== session.id) return { ended: 'revoked' };
    if (!isActive(found.user, now)) return { ended: 'disabled' };
    if (found.session.expiresAt <= now) return { ended: 'expired' };
    await this.slide(found.session, now);
    return { auth: found };
  }

  /** The sliding expiry: a session in use lives SESSION_TTL_DAYS past its last use, written at most hourly. */
  private async slide(session: SessionRecord, now: number): Promise<void> {
    // A bot token (scopes set) does not expire by disuse: it lives until rotated or its bot is deleted.
    if (session.scopes != null) return;
    if (now - session.lastUsedAt <= TOUCH_EVERY_MS) return;
    const expiresAt = now + this.ctx.limits.sessionTtlMs;
    await this.ctx.store.touchSession(session.id, now, expiresAt);
    session.lastUsedAt = now;
    session.expiresAt = expiresAt;
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

  /**
   * Changes the password and ends every other session of the user (their sockets close with 4003). A wrong
   * `currentPassword` counts into the same per-username lockout as a failed login, so a stolen token is no faster
   * way to guess the password.
   */
  async changePassword(auth: AuthContext, currentPassword: string, newPassword: string): Promise<void> {
    const name = auth.user.username.toLowerCase();
    await this.limit(`login-user:${name}`, this.ctx.limits.rates.login);
    await this.lockout.check(name);
    if (!(await this.ctx.hasher.verify(currentPassword, auth.user.passwordHash))) {
      await this.lockout.failed(name);
      throw new ChatError('invalid_credentials');
    }
    await this.lockout.succeeded(name);
    await this.ctx.store.setPasswordHash(auth.user.id, await this.ctx.hasher.hash(newPassword));
    const ids = await this.ctx.store.deleteSessions(auth.user.id, auth.session.id);
    await this.revoked(auth.user.id, ids);
  }

  /**
   * Checks the user's own password before a grave step (deleting the account, issue 18), counted into the same
   * per-username lockout as a failed login; `invalid_credentials` when wrong.
   */
  async checkPassword(auth: AuthContext, password: string): Promise<void> {
    const name = auth.user.username.toLowerCase();
    await this.limit(`login-user:${name}`, this.ctx.limits.rates.login);
    await this.lockout.check(name);
    if (!(await this.ctx.hasher.verify(password, auth.user.passwordHash))) {
      await this.lockout.failed(name);
      throw new ChatError('invalid_credentials');
    }
    await this.lockout.succeeded(name);
  }

  async updateProfile(auth: AuthContext, patch: { displayName?: string; statusText?: string }): Promise<PublicUser> {
    const clean: { displayName?: string; statusText?: string } = {};
    if (patch.displayName !== undefined) clean.displayName = this.filtered(patch.displayName);
    if (patch.statusText !== undefined) clean.statusText = this.filtered(patch.statusText);
    await this.limit(`profile:${auth.user.id}`, this.ctx.limits.rates.profile);
    const user = toPublicUser(await this.ctx.store.updateProfile(auth.user.id, clean));
    // Names show wherever the user wrote; other users learn of the change live (clients re-read after welcome).
    const before = auth.user;
    if (user.displayName !== before.displayName || user.statusText !== before.statusText) {
      await this.ctx.bus.publish(topics.all, { kind: 'profile', user });
    }
    return user;
  }

  async getUser(id: string): Promise<PublicUser> {
    const user = await this.ctx.store.getUser(id);
    // A deleted account (issue 18) still answers, as "Deleted user": its kept messages name it.
    if (!user || (user.deactivated && !user.deleted)) throw new ChatError('user_not_found');
    return toPublicUser(user);
  }

  searchUsers(q: string, limit: number): Promise<PublicUser[]> {
    return this.ctx.store.searchUsers(q, limit);
  }
}

/**
 * Brute-force lockout per username (lower-cased, whether or not the account exists, so it reveals nothing).
 * After `failures` consecutive wrong passwords, the next attempt must wait `baseMs`, doubling with each further
 * failure up to `maxMs`; a locked attempt is answered `rate_limited` before any lookup or hashing.
 *
 * On top, a server-wide budget of wrong passwords (`rates.loginFailures`, LOGIN_FAILURES_PER_MINUTE): while it is
 * spent, every login waits, so guessing spread over many addresses and usernames stays bounded too.
 *
 * State lives in rate-limiter buckets, so it is shared by every node in a cluster (Redis):
 * - `login-fail:<name>` counts failures as tokens taken; it refills one token per `maxMs`, so an idle username's
 *   failures are forgotten one per `maxMs` (and the key disappears), and a correct password resets it;
 * - `login-lock:<name>` measures the lock in seconds: a full bucket (`maxMs`/1000 tokens, 1 token/s) is unlocked,
 *   and locking for D ms takes D/1000 tokens, so the bucket is full again exactly when the lock ends.
 */
const GLOBAL_FAILURES_KEY = 'login-fail-global';

class LoginLockout {
  constructor(private readonly ctx: DomainContext) {}

  private get cfg() {
    return this.ctx.limits.loginLockout;
  }

  private get failRule(): RateRule {
    // Headroom above `failures` for the doubling steps; past ~32 doublings the lock is at maxMs anyway.
    return { burst: this.cfg.failures + 32, perSecond: 1000 / this.cfg.maxMs };
  }

  private get lockRule(): RateRule {
    return { burst: this.cfg.maxMs / 1000, perSecond: 1 };
  }

  /** Throws `rate_limited` while `name` is locked out, or while the server-wide failure budget is spent. */
  async check(name: string): Promise<void> {
    const rule = this.lockRule;
    const level = await this.ctx.limiter.peek(`login-lock:${name}`, rule);
    const waitMs = Math.ceil((rule.burst - level) * 1000 - 1e-6);
    if (waitMs > 0) throw new ChatError('rate_limited', { retryAfterMs: waitMs });
    const global = this.ctx.limits.rates.loginFailures;
    const left = await this.ctx.limiter.peek(GLOBAL_FAILURES_KEY, global);
    if (left < 1 - 1e-9) {
      throw new ChatError('rate_limited', { retryAfterMs: Math.ceil(((1 - left) / global.perSecond) * 1000) });
    }
  }

  async failed(name: string): Promise<void> {
    await this.ctx.limiter.take(GLOBAL_FAILURES_KEY, this.ctx.limits.rates.loginFailures);
    const rule = this.failRule;
    await this.ctx.limiter.take(`login-fail:${name}`, rule);
    // Failures not yet forgotten; a partly refilled token still counts as a failure.
    const count = Math.ceil(rule.burst - (await this.ctx.limiter.peek(`login-fail:${name}`, rule)) - 1e-6);
    if (count < this.cfg.failures) return;
    const lockMs = Math.min(this.cfg.maxMs, this.cfg.baseMs * 2 ** (count - this.cfg.failures));
    // Fails only when a concurrent attempt just locked the name: that lock stands.
    await this.ctx.limiter.take(`login-lock:${name}`, this.lockRule, lockMs / 1000);
  }

  async succeeded(name: string): Promise<void> {
    await this.ctx.limiter.reset(`login-fail:${name}`);
  }
}

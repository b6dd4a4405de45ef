import type { AuthContext } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import type { AdminService } from './admin.js';
import { newTimeId } from './ids.js';
import { hashToken, newToken } from './tokens.js';

/**
 * Admin-issued one-time password reset links (issue 18; no mail needed: the admin hands the link over). The link
 * carries a random token in its fragment (`/reset#<token>`), so it reaches neither server logs nor Referer headers;
 * only its hash is stored. It works once, until PASSWORD_RESET_TTL_SECONDS pass; using it sets the new password,
 * voids the user's other links and ends all their sessions (sockets close with 4003).
 */
export class PasswordResets {
  constructor(
    private readonly ctx: DomainContext,
    private readonly admin: AdminService,
    private readonly ttlMs: number,
  ) {}

  async issue(auth: AuthContext, userId: string): Promise<{ token: string; path: string; expiresAt: string }> {
    this.admin.requireAdmin(auth);
    const user = await this.ctx.store.getUser(userId);
    if (!user || user.deleted) throw new ChatError('user_not_found');
    // A bot has no password to reset (its tokens are rotated by whoever manages it).
    if (user.botOf) throw new ChatError('forbidden', { message: 'A bot account has no password.' });
    const token = newToken();
    const now = this.ctx.now();
    const expiresAt = now + this.ttlMs;
    await this.ctx.store.createPasswordReset({
      tokenHash: hashToken(token),
      userId,
      createdBy: auth.user.id,
      createdAt: now,
      expiresAt,
    });
    await this.ctx.store.appendAudit({
      id: newTimeId('al'),
      actorId: auth.user.id,
      action: 'user.reset-link',
      roomId: null,
      targetUserId: userId,
      data: { expiresAt: new Date(expiresAt).toISOString() },
    });
    return { token, path: `/reset#${token}`, expiresAt: new Date(expiresAt).toISOString() };
  }

  private async limit(ip: string): Promise<void> {
    const r = await this.ctx.limiter.take(`reset-ip:${ip}`, this.ctx.limits.rates.login);
    if (!r.ok) throw new ChatError('rate_limited', { retryAfterMs: r.retryAfterMs });
  }

  /** Whose link this is, for the reset page; `reset_link_invalid` when unknown, used or expired. */
  async inspect(token: string, meta: { ip: string }): Promise<{ username: string; expiresAt: string }> {
    await this.limit(meta.ip);
    const reset = await this.ctx.store.getPasswordReset(hashToken(token));
    if (!reset || reset.expiresAt <= this.ctx.now()) throw new ChatError('reset_link_invalid');
    const user = await this.ctx.store.getUser(reset.userId);
    if (!user || user.deleted) throw new ChatError('reset_link_invalid');
    return { username: user.username, expiresAt: new Date(reset.expiresAt).toISOString() };
  }

  async use(token: string, newPassword: string, meta: { ip: string }): Promise<void> {
    await this.limit(meta.ip);
    const tokenHash = hashToken(token);
    // Hash first (slow, bounded queue), then take the link atomically: a link that fails here stays usable.
    const reset = await this.ctx.store.getPasswordReset(tokenHash);
    if (!reset || reset.expiresAt <= this.ctx.now()) throw new ChatError('reset_link_invalid');
    const hash = await this.ctx.hasher.hash(newPassword);
    const done = await this.ctx.store.consumePasswordReset(tokenHash, this.ctx.now(), hash);
    if (!done) throw new ChatError('reset_link_invalid');
    if (done.sessionIds.length > 0) {
      await this.ctx.bus.publish(topics.user(done.userId), {
        kind: 'revoke',
        userId: done.userId,
        sessionIds: done.sessionIds,
      });
    }
  }
}

import type { AdminUser, AuditEntry, ServerRole } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { toPublicUser } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import { newTimeId } from './ids.js';
import { sanctionEnd } from './moderation/room-moderation.js';
import type { UserRecord } from './store.js';

export function toAdminUser(u: UserRecord, now: number): AdminUser {
  return {
    ...toPublicUser(u),
    deactivated: u.deactivated,
    bannedUntil: u.bannedUntil !== null && u.bannedUntil > now ? new Date(u.bannedUntil).toISOString() : null,
  };
}

/**
 * Server administration: the user directory, deactivation, server-wide bans, forced logout, admin rights, the
 * audit log. Only server admins; every action is audited. Ending an account's access deletes its sessions and
 * closes its sockets (4006) on every node within the bus's latency.
 */
export class AdminService {
  constructor(private readonly ctx: DomainContext) {}

  /** Throws `forbidden` unless `auth` is a server admin. */
  requireAdmin(auth: AuthContext): void {
    // A bot token never administers, whatever its account's role (issue 16).
    if (auth.user.role !== 'admin' || auth.session.scopes != null) throw new ChatError('forbidden');
  }

  private async target(auth: AuthContext, userId: string, selfOk = false): Promise<UserRecord> {
    this.requireAdmin(auth);
    if (!selfOk && userId === auth.user.id) {
      throw new ChatError('forbidden', { message: 'You cannot do that to your own account.' });
    }
    const user = await this.ctx.store.getUser(userId);
    if (!user) throw new ChatError('user_not_found');
    return user;
  }

  private async audit(auth: AuthContext, action: string, targetUserId: string, data: Record<string, unknown> | null) {
    await this.ctx.store.appendAudit({
      id: newTimeId('al'),
      actorId: auth.user.id,
      action,
      roomId: null,
      targetUserId,
      data,
    });
  }

  /** Deletes every session and closes every socket of the user. */
  private async endAccess(userId: string, disabled: boolean): Promise<number> {
    const ids = await this.ctx.store.deleteSessions(userId);
    await this.ctx.bus.publish(topics.user(userId), { kind: 'revoke', userId, sessionIds: ids, disabled });
    return ids.length;
  }

  async listUsers(
    auth: AuthContext,
    q: string,
    limit: number,
    cursor?: string,
  ): Promise<{ users: AdminUser[]; nextCursor: string | null }> {
    this.requireAdmin(auth);
    const page = await this.ctx.store.listUsers(q, limit, cursor);
    const now = this.ctx.now();
    return { users: page.users.map((u) => toAdminUser(u, now)), nextCursor: page.nextCursor };
  }

  async deactivate(auth: AuthContext, userId: string): Promise<void> {
    await this.target(auth, userId);
    await this.ctx.store.setDeactivated(userId, true);
    await this.endAccess(userId, true);
    await this.audit(auth, 'user.deactivate', userId, null);
  }

  async reactivate(auth: AuthContext, userId: string): Promise<void> {
    await this.target(auth, userId);
    await this.ctx.store.setDeactivated(userId, false);
    await this.audit(auth, 'user.reactivate', userId, null);
  }

  async forceLogout(auth: AuthContext, userId: string): Promise<number> {
    await this.target(auth, userId, true);
    const n = await this.endAccess(userId, false);
    await this.audit(auth, 'user.logout', userId, { sessions: n });
    return n;
  }

  async setRole(auth: AuthContext, userId: string, role: ServerRole): Promise<void> {
    const user = await this.target(auth, userId);
    if (user.role === role) return;
    await this.ctx.store.setServerRole(userId, role);
    await this.audit(auth, 'user.role', userId, { from: user.role, to: role });
  }

  async ban(auth: AuthContext, userId: string, opts: { durationSec?: number; reason?: string }): Promise<void> {
    await this.target(auth, userId);
    const until = sanctionEnd(this.ctx.now(), opts.durationSec);
    await this.ctx.store.setBannedUntil(userId, until);
    await this.endAccess(userId, true);
    await this.audit(auth, 'user.ban', userId, {
      until: new Date(until).toISOString(),
      ...(opts.reason ? { reason: opts.reason } : {}),
    });
  }

  async unban(auth: AuthContext, userId: string): Promise<void> {
    await this.target(auth, userId);
    await this.ctx.store.setBannedUntil(userId, null);
    await this.audit(auth, 'user.unban', userId, null);
  }

  async listAudit(
    auth: AuthContext,
    query: { roomId?: string | undefined; limit: number; before?: string | undefined },
  ): Promise<AuditEntry[]> {
    this.requireAdmin(auth);
    return this.ctx.store.listAudit({
      limit: query.limit,
      ...(query.roomId ? { roomId: query.roomId } : {}),
      ...(query.before ? { before: query.before } : {}),
    });
  }
}

import { FOREVER_MS, type PublicUser } from '../../protocol/model.js';
import type { AuthContext } from '../accounts.js';
import { ChatError } from '../chat-error.js';
import type { DomainContext } from '../context.js';
import { can, outranks } from '../../protocol/permissions.js';
import type { RoomService } from '../rooms.js';

/** End time of a sanction `durationSec` from now; none = indefinitely. */
export function sanctionEnd(now: number, durationSec: number | undefined): number {
  return durationSec === undefined ? FOREVER_MS : Math.min(FOREVER_MS, now + durationSec * 1000);
}

const isoOrNull = (ms: number) => new Date(ms).toISOString();

/**
 * A room's moderators' tools: kick, ban, mute, delete messages, join requests. Every action checks the
 * permission table and the rank rule (only on members ranked below you), appends its room event (so every
 * client, and every resume, sees it) and writes the audit log.
 */
export class RoomModeration {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {}

  /** The actor may `action` on `targetId` in `roomId`: permission table, then rank. Returns the target's role. */
  private async requireOver(auth: AuthContext, roomId: string, action: 'kick' | 'ban' | 'mute', targetId: string) {
    const { role, serverAdmin } = await this.rooms.requireAllowed(auth, roomId, action);
    if (targetId === auth.user.id) throw new ChatError('forbidden', { message: 'You cannot do that to yourself.' });
    const target = await this.ctx.store.getUser(targetId);
    if (!target) throw new ChatError('user_not_found');
    const targetRole = await this.ctx.store.getRole(roomId, targetId);
    // A server admin is out of reach of room moderators (they would just lift it).
    if (target.role === 'admin' && !serverAdmin) throw new ChatError('forbidden');
    if (!outranks(role, serverAdmin, targetRole)) throw new ChatError('forbidden');
    return targetRole;
  }

  async kick(auth: AuthContext, roomId: string, userId: string, reason = ''): Promise<void> {
    const targetRole = await this.requireOver(auth, roomId, 'kick', userId);
    if (!targetRole) throw new ChatError('user_not_found', { message: 'That user is not a member of this room.' });
    await this.requireNotLastOwner(roomId, targetRole);
    const event = await this.ctx.store.removeMember(roomId, userId, auth.user.id, 'removed');
    if (event) await this.rooms.publish([event]);
    await this.rooms.audit(auth, 'room.kick', roomId, userId, reason ? { reason } : null);
  }

  async ban(auth: AuthContext, roomId: string, userId: string, opts: { durationSec?: number; reason?: string }) {
    const targetRole = await this.requireOver(auth, roomId, 'ban', userId);
    await this.requireNotLastOwner(roomId, targetRole);
    const until = sanctionEnd(this.ctx.now(), opts.durationSec);
    const event = await this.ctx.store.banFromRoom(roomId, userId, { until, reason: opts.reason ?? '' }, auth.user.id);
    if (event) await this.rooms.publish([event]);
    await this.rooms.audit(auth, 'room.ban', roomId, userId, {
      until: isoOrNull(until),
      ...(opts.reason ? { reason: opts.reason } : {}),
    });
  }

  async unban(auth: AuthContext, roomId: string, userId: string): Promise<void> {
    await this.rooms.requireAllowed(auth, roomId, 'ban');
    if (!(await this.ctx.store.unbanFromRoom(roomId, userId))) throw new ChatError('not_found');
    await this.rooms.audit(auth, 'room.unban', roomId, userId);
  }

  async listBans(auth: AuthContext, roomId: string) {
    await this.rooms.requireAllowed(auth, roomId, 'ban');
    const now = this.ctx.now();
    const bans = (await this.ctx.store.listRoomBans(roomId)).filter((b) => b.until > now);
    const users = new Map((await this.ctx.store.getUsers(bans.map((b) => b.userId))).map((u) => [u.id, u]));
    return bans.flatMap((b) => {
      const user = users.get(b.userId);
      if (!user) return [];
      return [
        {
          user,
          until: isoOrNull(b.until),
          reason: b.reason,
          actorId: b.actorId,
          createdAt: isoOrNull(b.createdAt),
        },
      ];
    });
  }

  async mute(auth: AuthContext, roomId: string, userId: string, opts: { durationSec?: number; reason?: string }) {
    const targetRole = await this.requireOver(auth, roomId, 'mute', userId);
    if (!targetRole) throw new ChatError('user_not_found', { message: 'That user is not a member of this room.' });
    const until = sanctionEnd(this.ctx.now(), opts.durationSec);
    const event = await this.ctx.store.muteMember(roomId, userId, until, auth.user.id);
    if (event) await this.rooms.publish([event]);
    await this.rooms.audit(auth, 'room.mute', roomId, userId, {
      until: isoOrNull(until),
      ...(opts.reason ? { reason: opts.reason } : {}),
    });
  }

  async unmute(auth: AuthContext, roomId: string, userId: string): Promise<void> {
    await this.requireOver(auth, roomId, 'mute', userId);
    const event = await this.ctx.store.unmuteMember(roomId, userId, auth.user.id);
    if (!event) throw new ChatError('not_found', { message: 'That member is not muted.' });
    await this.rooms.publish([event]);
    await this.rooms.audit(auth, 'room.unmute', roomId, userId);
  }

  /**
   * Deletes (redacts) a message: its author may, and moderators of the room and server admins. In a DM only
   * the author or a server admin. Deleting twice answers `not_found`.
   */
  async deleteMessage(auth: AuthContext, roomId: string, seq: number): Promise<void> {
    const serverAdmin = auth.user.role === 'admin';
    const { room, role } = serverAdmin
      ? { room: await this.rooms.roomOr404(roomId), role: await this.ctx.store.getRole(roomId, auth.user.id) }
      : await this.rooms.requireVisible(auth, roomId);
    const message = await this.ctx.store.getEvent(roomId, seq);
    if (!message || message.type !== 'message' || message.data?.deleted) throw new ChatError('not_found');
    const own = message.senderId === auth.user.id && role !== null;
    if (!own && !can('deleteMessage', room.kind, role, serverAdmin)) throw new ChatError('forbidden');
    const event = await this.ctx.store.deleteMessage(roomId, seq, auth.user.id);
    if (!event) throw new ChatError('not_found');
    await this.rooms.publish([event]);
    if (!own) await this.rooms.audit(auth, 'message.delete', roomId, message.senderId, { seq });
  }

  private async requireNotLastOwner(roomId: string, targetRole: string | null): Promise<void> {
    if (targetRole === 'owner' && (await this.ctx.store.countRole(roomId, 'owner')) === 1) {
      throw new ChatError('last_owner');
    }
  }

  async listJoinRequests(auth: AuthContext, roomId: string): Promise<{ user: PublicUser; createdAt: string }[]> {
    await this.rooms.requireAllowed(auth, roomId, 'approveJoin');
    return this.ctx.store.listJoinRequests(roomId);
  }

  async approveJoin(auth: AuthContext, roomId: string, userId: string): Promise<void> {
    await this.rooms.requireAllowed(auth, roomId, 'approveJoin');
    if (!(await this.ctx.store.hasJoinRequest(roomId, userId))) throw new ChatError('not_found');
    if (await this.rooms.isBanned(roomId, userId)) throw new ChatError('banned');
    await this.rooms.admit(roomId, userId, auth.user.id);
    await this.rooms.audit(auth, 'join.approve', roomId, userId);
  }

  async rejectJoin(auth: AuthContext, roomId: string, userId: string): Promise<void> {
    await this.rooms.requireAllowed(auth, roomId, 'approveJoin');
    if (!(await this.ctx.store.deleteJoinRequest(roomId, userId))) throw new ChatError('not_found');
    await this.rooms.audit(auth, 'join.reject', roomId, userId);
  }

  async roomAudit(auth: AuthContext, roomId: string, query: { limit: number; before?: string | undefined }) {
    await this.rooms.requireAllowed(auth, roomId, 'viewAudit');
    return this.ctx.store.listAudit({ roomId, limit: query.limit, ...(query.before ? { before: query.before } : {}) });
  }
}

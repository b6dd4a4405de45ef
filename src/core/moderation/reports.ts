import type { PublicUser, Report, ReportResolution } from '../../protocol/model.js';
import type { AuthContext } from '../accounts.js';
import type { AdminService } from '../admin.js';
import { ChatError } from '../chat-error.js';
import type { DomainContext } from '../context.js';
import { newTimeId } from '../ids.js';
import { can, rank } from '../../protocol/permissions.js';
import type { RoomService } from '../rooms.js';
import type { RoomModeration } from './room-moderation.js';

export type ReportAction = 'dismiss' | 'delete' | 'mute' | 'ban';

const RESOLUTION: Record<ReportAction, ReportResolution> = {
  dismiss: 'dismissed',
  delete: 'deleted',
  mute: 'muted',
  ban: 'banned',
};

/**
 * Reports and the moderation queue. Any user who can read a message may report it; anyone may report a user.
 * Server admins see every report; room moderators see the reports about their rooms. Resolving applies the
 * chosen action with the resolver's own rights (a moderator cannot ban an admin through a report).
 */
export class ReportService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
    private readonly moderation: RoomModeration,
    private readonly admin: AdminService,
  ) {}

  async create(
    auth: AuthContext,
    input: { roomId?: string | undefined; seq?: number | undefined; userId?: string | undefined; reason: string },
  ): Promise<Report> {
    const rate = await this.ctx.limiter.take(`report:${auth.user.id}`, this.ctx.limits.rates.report);
    if (!rate.ok) throw new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
    let roomId: string | null = null;
    let seq: number | null = null;
    let excerpt: string | null = null;
    let targetUserId: string;
    if (input.roomId !== undefined && input.seq !== undefined) {
      await this.rooms.requireReadable(auth, input.roomId);
      const event = await this.ctx.store.getEvent(input.roomId, input.seq);
      if (!event || event.type !== 'message') throw new ChatError('not_found', { message: 'No such message.' });
      roomId = input.roomId;
      seq = input.seq;
      excerpt = event.body;
      targetUserId = event.senderId;
    } else if (input.userId !== undefined) {
      const user = await this.ctx.store.getUser(input.userId);
      if (!user) throw new ChatError('user_not_found');
      targetUserId = user.id;
      if (input.roomId !== undefined) {
        await this.rooms.requireReadable(auth, input.roomId);
        roomId = input.roomId;
      }
    } else {
      throw new ChatError('validation_failed', { message: 'Report a message (roomId and seq) or a user (userId).' });
    }
    if (targetUserId === auth.user.id) {
      throw new ChatError('validation_failed', { message: 'You cannot report yourself.' });
    }
    return this.ctx.store.createReport({
      id: newTimeId('rp'),
      reporterId: auth.user.id,
      roomId,
      seq,
      targetUserId,
      reason: input.reason,
      excerpt,
    });
  }

  /** Room ids whose reports the caller moderates; undefined = all (a server admin). */
  private async scope(auth: AuthContext): Promise<string[] | undefined> {
    if (auth.user.role === 'admin') return undefined;
    const mine = await this.ctx.store.listRoomsOf(auth.user.id);
    return mine.filter((r) => can('viewReports', r.kind, r.myRole, false)).map((r) => r.id);
  }

  async list(
    auth: AuthContext,
    query: { status?: Report['status'] | undefined; limit: number; before?: string | undefined },
  ): Promise<{ reports: Report[]; users: PublicUser[] }> {
    const roomIds = await this.scope(auth);
    if (roomIds && roomIds.length === 0) return { reports: [], users: [] };
    const reports = await this.ctx.store.listReports({
      limit: query.limit,
      ...(query.status ? { status: query.status } : {}),
      ...(query.before ? { before: query.before } : {}),
      ...(roomIds ? { roomIds } : {}),
    });
    const ids = new Set<string>();
    for (const r of reports) {
      ids.add(r.reporterId);
      ids.add(r.targetUserId);
      if (r.resolvedBy) ids.add(r.resolvedBy);
    }
    return { reports, users: await this.ctx.store.getUsers([...ids]) };
  }

  async resolve(
    auth: AuthContext,
    reportId: string,
    input: { action: ReportAction; durationSec?: number | undefined },
  ): Promise<Report> {
    const report = await this.ctx.store.getReport(reportId);
    const roomIds = await this.scope(auth);
    // Reports outside your queue do not exist for you.
    if (!report || (roomIds && (!report.roomId || !roomIds.includes(report.roomId)))) throw new ChatError('not_found');
    if (report.status !== 'open') throw new ChatError('already_resolved');
    await this.checkFeasible(auth, report, input.action);
    const resolved = await this.ctx.store.resolveReport(reportId, RESOLUTION[input.action], auth.user.id);
    if (!resolved) throw new ChatError('already_resolved');
    const opts = input.durationSec !== undefined ? { durationSec: input.durationSec } : {};
    const reason = `report ${report.id}`;
    switch (input.action) {
      case 'dismiss':
        break;
      case 'delete':
        await this.moderation.deleteMessage(auth, report.roomId!, report.seq!).catch((err: unknown) => {
          // Deleted meanwhile (by its author or another moderator): the report is still resolved.
          if (!(err instanceof ChatError && err.code === 'not_found')) throw err;
        });
        break;
      case 'mute':
        await this.moderation.mute(auth, report.roomId!, report.targetUserId, { ...opts, reason });
        break;
      case 'ban':
        if (report.roomId) await this.moderation.ban(auth, report.roomId, report.targetUserId, { ...opts, reason });
        else await this.admin.ban(auth, report.targetUserId, { ...opts, reason });
        break;
    }
    await this.rooms.audit(auth, 'report.resolve', report.roomId, report.targetUserId, {
      report: report.id,
      action: input.action,
    });
    return resolved;
  }

  /** Refuses, before the report is claimed, an action that does not fit the report or the resolver's rights. */
  private async checkFeasible(auth: AuthContext, report: Report, action: ReportAction): Promise<void> {
    if (action === 'dismiss') return;
    if (action === 'delete' && report.seq === null) {
      throw new ChatError('validation_failed', { message: 'This report is not about a message.' });
    }
    if (action === 'mute' && report.roomId === null) {
      throw new ChatError('validation_failed', { message: 'A mute needs a room; this report has none.' });
    }
    if (report.roomId === null) {
      if (auth.user.role !== 'admin') throw new ChatError('forbidden');
      return;
    }
    if (action === 'delete') return; // deleteMessage checks its own rights (moderators of the room, admins)
    const serverAdmin = auth.user.role === 'admin';
    const [mine, theirs, target] = await Promise.all([
      this.ctx.store.getRole(report.roomId, auth.user.id),
      this.ctx.store.getRole(report.roomId, report.targetUserId),
      this.ctx.store.getUser(report.targetUserId),
    ]);
    if (!serverAdmin && (target?.role === 'admin' || (mine !== 'owner' && rank(mine) <= rank(theirs)))) {
      throw new ChatError('forbidden');
    }
    if (action === 'mute' && !theirs) {
      throw new ChatError('user_not_found', { message: 'That user is no longer a member of this room.' });
    }
  }
}

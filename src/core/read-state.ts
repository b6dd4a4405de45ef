import type { ReadReceipt } from '../protocol/model.js';
import { can } from '../protocol/permissions.js';
import type { AuthContext } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import type { RoomService } from './rooms.js';

/**
 * Read state: each member's read marker per room (shared by all their devices), the unread counts that follow from
 * it (computed by the store with the room list), and read receipts — the markers of the members of DMs and small
 * rooms, for those who share them.
 */
export class ReadStateService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {}

  /**
   * Moves the caller's marker forward to the last message at or before `seq`. Every device of the caller hears of
   * the move (`read` frame); where receipts are shared (the caller's switch on, the room within
   * READ_RECEIPTS_MAX_MEMBERS) it is also a `member.read` event on the room sequence, so members see it and a
   * client that was away replays it like any other event.
   */
  async markRead(auth: AuthContext, roomId: string, seq: number): Promise<{ readSeq: number; moved: boolean }> {
    const { room, role } = await this.rooms.requireMember(auth, roomId);
    if (!can('markRead', room.kind, role, false)) throw new ChatError('forbidden');
    const rate = await this.ctx.limiter.take(`read:${auth.user.id}`, this.ctx.limits.rates.readMark);
    if (!rate.ok) throw new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
    const r = await this.ctx.store.markRead(roomId, auth.user.id, seq, this.sharesReceipts(auth, room.memberCount));
    if (!r.moved) return { readSeq: r.readSeq, moved: false };
    if (r.event) await this.rooms.publish([r.event]);
    await this.ctx.bus.publish(topics.user(auth.user.id), {
      kind: 'read',
      userId: auth.user.id,
      roomId,
      readSeq: r.readSeq,
    });
    return { readSeq: r.readSeq, moved: true };
  }

  /**
   * The room's read receipts: members' markers, for those who share them. Reciprocal: with your own switch off, or in
   * a room above READ_RECEIPTS_MAX_MEMBERS, there are none to see (`shared: false`).
   */
  async receipts(auth: AuthContext, roomId: string): Promise<{ shared: boolean; receipts: ReadReceipt[] }> {
    const { room, role } = await this.rooms.requireMember(auth, roomId);
    if (!can('markRead', room.kind, role, false)) throw new ChatError('forbidden');
    if (!this.sharesReceipts(auth, room.memberCount)) return { shared: false, receipts: [] };
    return { shared: true, receipts: await this.ctx.store.listReadReceipts(roomId) };
  }

  private sharesReceipts(auth: AuthContext, memberCount: number): boolean {
    return auth.user.readReceipts && memberCount <= this.ctx.limits.readReceiptsMaxMembers;
  }
}

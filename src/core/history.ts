import type { ChainReport, ChainSummary } from '../protocol/chain.js';
import type { AuthContext } from './accounts.js';
import { verifyAllRooms, verifyRoomChain } from './chain.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import type { RoomService } from './rooms.js';

/** History integrity (issue 18): who may walk a room's hash chain, and the walk. */
export class HistoryService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {}

  /** A room's chain: room admins and owners, and server admins (like the room's audit log: `viewAudit`). */
  async verifyRoom(auth: AuthContext, roomId: string): Promise<ChainReport> {
    await this.rooms.requireAllowed(auth, roomId, 'viewAudit');
    const report = await verifyRoomChain(this.ctx.store, roomId);
    if (!report) throw new ChatError('room_not_found');
    return report;
  }

  /** Every room's chain: server admins. */
  async verifyAll(auth: AuthContext): Promise<ChainSummary> {
    if (auth.user.role !== 'admin') throw new ChatError('forbidden');
    return verifyAllRooms(this.ctx.store);
  }
}

import type { Pin } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import type { DomainContext } from './context.js';
import type { RoomService } from './rooms.js';

/**
 * Pinned messages: moderators pin in rooms, either member in a DM. A pin and an unpin are events on the room's
 * sequence (`message.pinned`, `message.unpinned`), so every member's pinned panel stays right across reconnects.
 */
export class PinService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {}

  /** Pins the message at `seq`; `pinned: false` when it was pinned already (a retry). */
  async pin(auth: AuthContext, roomId: string, seq: number): Promise<{ pinned: boolean }> {
    await this.rooms.requireAllowed(auth, roomId, 'pin');
    const { event } = await this.ctx.store.pinMessage(roomId, seq, auth.user.id, this.ctx.limits.maxPinsPerRoom);
    if (event) await this.rooms.publish([event]);
    return { pinned: event !== null };
  }

  /** Unpins it; `unpinned: false` when it was not pinned. */
  async unpin(auth: AuthContext, roomId: string, seq: number): Promise<{ unpinned: boolean }> {
    await this.rooms.requireAllowed(auth, roomId, 'pin');
    const { event } = await this.ctx.store.unpinMessage(roomId, seq, auth.user.id);
    if (event) await this.rooms.publish([event]);
    return { unpinned: event !== null };
  }

  /** The room's pins, newest first, for anyone who may read the room. */
  async list(auth: AuthContext, roomId: string): Promise<Pin[]> {
    await this.rooms.requireReadable(auth, roomId);
    return this.ctx.store.listPins(roomId);
  }
}

/**
 * Pinned messages per room: loaded when the room is opened (`GET …/pins`), kept right by `message.pinned`,
 * `message.unpinned` and `message.deleted` events, which ride the room's sequence and so survive reconnects.
 */
import type { Pin, RoomEvent } from '../../../src/protocol/model.js';
import { omit, Slice, type StateContext } from './slice.js';
import type { Timeline } from './timeline.js';
import type { Ui } from './ui.js';

export class Pins extends Slice {
  constructor(
    ctx: StateContext,
    private readonly timeline: Timeline,
    private readonly ui: Ui,
  ) {
    super(ctx);
  }

  async load(roomId: string, force = false): Promise<void> {
    if (this.s.pins[roomId] && !force) return;
    const live = this.live();
    try {
      const pins = await this.ctx.api.pins(roomId);
      if (live()) this.set((s) => ({ pins: { ...s.pins, [roomId]: pins } }));
    } catch {
      /* the pinned list is a nicety: the room works without it */
    }
  }

  /** `message.pinned`, `message.unpinned`, `message.deleted`: the list of a room that has one loaded. */
  onEvent(e: RoomEvent): void {
    const list = this.s.pins[e.roomId];
    const seq = e.data?.seq;
    if (!list || typeof seq !== 'number') return;
    if (e.type === 'message.pinned') {
      if (list.some((p) => p.seq === seq)) return;
      const shown = this.timeline.view(e.roomId).messages.find((m) => m.seq === seq);
      // The message is usually on screen; when it is not, the list is read again.
      if (!shown) return void this.load(e.roomId, true);
      const message: RoomEvent = {
        id: shown.id ?? '',
        roomId: e.roomId,
        seq,
        type: 'message',
        senderId: shown.senderId,
        body: shown.body,
        clientMsgId: shown.clientMsgId,
        data: shown.editedAt ? { editedAt: shown.editedAt } : null,
        createdAt: shown.createdAt,
      };
      const pin: Pin = { seq, pinnedBy: e.senderId, pinnedAt: e.createdAt, message };
      this.set((s) => ({ pins: { ...s.pins, [e.roomId]: [pin, ...list] } }));
    } else {
      this.set((s) => ({ pins: { ...s.pins, [e.roomId]: list.filter((p) => p.seq !== seq) } }));
    }
  }

  forget(roomId: string): void {
    if (this.s.pins[roomId]) this.set((s) => ({ pins: omit(s.pins, roomId) }));
  }

  /** Pins or unpins; the event that follows updates every member's list, this one's included. */
  async toggle(roomId: string, seq: number, pin: boolean): Promise<void> {
    try {
      if (pin) await this.ctx.api.pin(roomId, seq);
      else await this.ctx.api.unpin(roomId, seq);
    } catch (err) {
      this.ui.fail(err);
    }
  }
}

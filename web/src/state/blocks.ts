/**
 * The users this user blocked: read after every `welcome` (`GET /api/v1/me/blocks`; the `block` frames that keep it
 * live are not replayed), changed here or on another device (`block` frame). Blocking is private: only this user's
 * view changes — a blocked user's messages in shared rooms are collapsed, their typing is not shown, and a DM with
 * them cannot be written in (the server refuses it anyway).
 */
import type { BlockNotice } from '../../../src/protocol/frames.js';
import type { Block, MyRoom } from '../../../src/protocol/model.js';
import { omit, Slice, type StateContext } from './slice.js';
import type { Ui } from './ui.js';

export class Blocks extends Slice {
  constructor(
    ctx: StateContext,
    private readonly ui: Ui,
  ) {
    super(ctx);
  }

  async load(): Promise<void> {
    const live = this.live();
    try {
      const list = await this.ctx.api.blocks();
      if (live()) this.set({ blocked: Object.fromEntries(list.map((b) => [b.user.id, b])) });
    } catch {
      /* kept as it was: the next welcome reads it again */
    }
  }

  isBlocked(userId: string): boolean {
    return this.s.blocked[userId] !== undefined;
  }

  /** Blocks or unblocks; the answer (and the frame every device gets) updates the list. */
  async toggle(userId: string, block: boolean): Promise<boolean> {
    try {
      if (block) this.apply((await this.ctx.api.block(userId)).block);
      else {
        await this.ctx.api.unblock(userId);
        this.remove(userId);
      }
      return true;
    } catch (err) {
      this.ui.fail(err);
      return false;
    }
  }

  /** A `block` frame: a change made on this device or another. */
  onNotice(f: BlockNotice): void {
    if (f.blocked && f.since) this.apply({ user: f.user, since: f.since });
    else this.remove(f.user.id);
  }

  /** Shows one collapsed message (by its key in the timeline) after all. */
  show(key: string): void {
    this.set((s) => ({ shownBlocked: { ...s.shownBlocked, [key]: true } }));
  }

  private apply(b: Block): void {
    this.set((s) => ({ blocked: { ...s.blocked, [b.user.id]: b } }));
  }

  private remove(userId: string): void {
    if (this.s.blocked[userId]) this.set((s) => ({ blocked: omit(s.blocked, userId) }));
  }
}

/** The other member of a one-to-one DM, when this user blocked them: its composer is closed. */
export function blockedDmPeer(room: MyRoom | undefined, blocked: Record<string, Block>): string | null {
  if (!room || room.kind !== 'dm') return null;
  const peers = room.members ?? [];
  return peers.length === 1 && peers[0] && blocked[peers[0].id] ? peers[0].id : null;
}

/**
 * Read receipts: who in a DM or small room has read up to where (`GET …/receipts`, then `member.read` events), and
 * the user's own switch for them (`/me/settings`). Reciprocal, as the server is: with the switch off the user is
 * shown none.
 */
import type { RoomEvent, UserSettings } from '../../../src/protocol/model.js';
import type { People } from './people.js';
import { omit, Slice, type StateContext } from './slice.js';

export class Receipts extends Slice {
  constructor(
    ctx: StateContext,
    private readonly people: People,
  ) {
    super(ctx);
  }

  /** After welcome: the user's settings (receipts on or off). */
  async loadSettings(): Promise<void> {
    const live = this.live();
    try {
      const settings = await this.ctx.api.settings();
      if (live()) this.set({ settings });
    } catch {
      /* an older server without settings: receipts stay hidden */
    }
  }

  /** A room opened: its receipts, when the server shares them (not on a big room, not with the switch off). */
  async load(roomId: string): Promise<void> {
    if (!this.s.settings?.readReceipts || this.s.receipts[roomId]) return;
    const live = this.live();
    try {
      const r = await this.ctx.api.readReceipts(roomId);
      if (!live() || !r.shared) return;
      for (const x of r.receipts) this.people.ensureUser(x.userId);
      const loaded = Object.fromEntries(r.receipts.map((x) => [x.userId, x.readSeq]));
      // Events that came while the answer was on its way are newer: markers only move forward.
      this.set((s) => ({ receipts: { ...s.receipts, [roomId]: merge(loaded, s.receipts[roomId] ?? {}) } }));
    } catch {
      /* receipts are a nicety: a room without them still works */
    }
  }

  /** A `member.read` event: a member's marker moved (kept for rooms whose receipts are shown). */
  onEvent(e: RoomEvent): void {
    const userId = e.data?.userId;
    const readSeq = e.data?.readSeq;
    if (typeof userId !== 'string' || typeof readSeq !== 'number') return;
    if (!this.s.settings?.readReceipts) return;
    this.people.ensureUser(userId);
    this.set((s) => ({
      receipts: { ...s.receipts, [e.roomId]: merge(s.receipts[e.roomId] ?? {}, { [userId]: readSeq }) },
    }));
  }

  /** A room left or removed: its receipts go. */
  forget(roomId: string): void {
    if (this.s.receipts[roomId]) this.set((s) => ({ receipts: omit(s.receipts, roomId) }));
  }

  /** Changes a setting; a refusal rejects (the settings dialog shows it). */
  async update(patch: Partial<UserSettings>): Promise<void> {
    const settings = await this.ctx.api.updateSettings(patch);
    // Off hides every receipt at once; on loads them again as rooms are opened.
    this.set({ settings, receipts: {} });
    const active = this.s.active;
    if (settings.readReceipts && active) void this.load(active);
  }
}

function merge(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(v, out[k] ?? 0);
  return out;
}

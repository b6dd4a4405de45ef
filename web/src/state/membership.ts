/**
 * The conversation's "joined" / "left" lines: per room opened, its `member.joined` and `member.left` events
 * (`GET …/events?kinds=membership`), newest first from the server and older ones as history scrolls back, plus
 * the live ones. They ride the room's sequence, so a line sits between the two messages it happened between.
 */
import type { RoomEvent } from '../../../src/protocol/model.js';
import type { MemberLine } from './app-state.js';
import type { People } from './people.js';
import { omit, Slice, type StateContext } from './slice.js';

/** Lines fetched per request, and requests per scroll-back (so a room of endless churn cannot run away). */
const PAGE = 100;
const MAX_PAGES_PER_CALL = 5;

export function toLine(e: RoomEvent): MemberLine | null {
  if (e.type !== 'member.joined' && e.type !== 'member.left') return null;
  const userId = typeof e.data?.userId === 'string' ? e.data.userId : e.senderId;
  const byOther = e.senderId !== userId;
  const kind =
    e.type === 'member.joined'
      ? byOther
        ? 'added'
        : 'joined'
      : e.data?.reason === 'removed' || byOther
        ? 'removed'
        : 'left';
  return { seq: e.seq, kind, userId, actorId: e.senderId, createdAt: e.createdAt };
}

export class Membership extends Slice {
  /** Per room: every line with seq ≥ this is here (0 once the room's whole history of them is). */
  private from = new Map<string, number>();
  private loading = new Map<string, Promise<void>>();

  constructor(
    ctx: StateContext,
    private readonly people: People,
  ) {
    super(ctx);
  }

  /** Makes sure the lines after `seq` are here (seq 0: all of them), fetching older pages as needed. */
  cover(roomId: string, seq: number): Promise<void> {
    const running = this.loading.get(roomId);
    if (running) return running;
    const known = this.from.get(roomId);
    if (known !== undefined && known <= seq + 1) return Promise.resolve();
    const live = this.live();
    const work = (async () => {
      for (let i = 0; i < MAX_PAGES_PER_CALL; i++) {
        const before = this.from.get(roomId);
        if (before !== undefined && before <= seq + 1) return;
        const page = await this.ctx.api.events(roomId, {
          limit: PAGE,
          kinds: 'membership',
          ...(before !== undefined ? { before } : {}),
        });
        if (!live()) return;
        const lines = page.map(toLine).filter((l): l is MemberLine => l !== null);
        for (const l of lines) {
          this.people.ensureUser(l.userId);
          this.people.ensureUser(l.actorId);
        }
        this.from.set(roomId, page.length < PAGE ? 0 : (page[0]?.seq ?? 0));
        this.add(roomId, lines);
      }
    })()
      .catch(() => {
        /* the lines are a nicety: the conversation works without them */
      })
      .finally(() => this.loading.delete(roomId));
    this.loading.set(roomId, work);
    return work;
  }

  /** `member.joined`, `member.left`: a line, in a room whose lines are kept here. */
  onEvent(e: RoomEvent): void {
    // Kept for rooms whose lines are here or on their way (an event may land while the first page is fetched).
    if (!this.s.memberLines[e.roomId] && !this.loading.has(e.roomId)) return;
    const line = toLine(e);
    if (!line) return;
    this.people.ensureUser(line.userId);
    this.people.ensureUser(line.actorId);
    this.add(e.roomId, [line]);
  }

  forget(roomId: string): void {
    this.from.delete(roomId);
    if (this.s.memberLines[roomId]) this.set((s) => ({ memberLines: omit(s.memberLines, roomId) }));
  }

  /** Sign-out: nothing of this session's rooms is kept. */
  reset(): void {
    this.from.clear();
    this.loading.clear();
  }

  /** Merges lines by seq (a replayed event or an overlapping page adds nothing twice). */
  private add(roomId: string, lines: MemberLine[]): void {
    this.set((s) => {
      const bySeq = new Map((s.memberLines[roomId] ?? []).map((l) => [l.seq, l]));
      for (const l of lines) bySeq.set(l.seq, l);
      const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
      return { memberLines: { ...s.memberLines, [roomId]: merged } };
    });
  }
}

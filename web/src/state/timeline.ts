/**
 * The timeline: per room, the messages this page has seen — from history pages, the live socket and acks alike —
 * merged by seq (one entry per seq, in order, this user's unsent ones after), with deletions applied; and the
 * read position per room with the unread count it gives.
 */
import type { RoomEvent } from '../../../src/protocol/model.js';
import type { RoomView } from './app-state.js';
import { markDeleted, markEdited, mergeMessages, toUi, type UiMessage } from './messages.js';
import type { People } from './people.js';
import { debounced, load, save } from './persist.js';
import { Slice, type StateContext } from './slice.js';
import type { Ui } from './ui.js';

export const PAGE_SIZE = 50;

const EMPTY_VIEW: RoomView = { messages: [], hasMore: true, loading: false, loaded: false };

export class Timeline extends Slice {
  /** Last read seq per room, and the seqs of others' messages after it that we know of (the unread count). */
  private read: Record<string, number> = {};
  private unseen = new Map<string, Set<number>>();
  /** Seqs deleted while this page runs, per room: a history page fetched just before a delete is shown redacted. */
  private deletedSeqs = new Map<string, Set<number>>();
  /** Edits seen while this page runs, per room and seq: a page fetched just before an edit shows it anyway. */
  private edits = new Map<string, Map<number, { body: string; editedAt: string }>>();
  private readOwner: string | null = null;
  private saveRead = debounced(400, () => this.readOwner && save(`read.${this.readOwner}`, this.read));
  /** Set by the message list: whether the active room is scrolled to its newest message. */
  atBottom = true;

  constructor(
    ctx: StateContext,
    private readonly people: People,
    private readonly ui: Ui,
  ) {
    super(ctx);
  }

  /** A session starts: this user's read positions, as this browser last saved them. */
  begin(userId: string): void {
    this.readOwner = userId;
    this.read = load<Record<string, number>>(`read.${userId}`) ?? {};
    this.unseen.clear();
    this.deletedSeqs.clear();
    this.edits.clear();
    this.atBottom = true;
  }

  /** Writes what is still waiting to be saved; at sign-out, also forgets the session. */
  flush(end = false): void {
    this.saveRead.flush();
    if (!end) return;
    this.readOwner = null;
    this.read = {};
    this.unseen.clear();
    this.deletedSeqs.clear();
    this.edits.clear();
  }

  // ───────────────────────────── history ─────────────────────────────

  view(roomId: string): RoomView {
    return this.s.views[roomId] ?? EMPTY_VIEW;
  }

  setView(roomId: string, fn: (v: RoomView) => Partial<RoomView>): void {
    this.set((s) => {
      const v = s.views[roomId] ?? EMPTY_VIEW;
      return { views: { ...s.views, [roomId]: { ...v, ...fn(v) } } };
    });
  }

  /**
   * Told of what arrives (threads.ts counts replies on their roots): `page`, history pages (their roots' counts
   * include them already); `stored`, messages new to this page (live events and acks), before they are merged.
   */
  listener: { page(roomId: string, msgs: UiMessage[]): void; stored(roomId: string, msgs: UiMessage[]): void } | null =
    null;

  /** Stored messages (history, live, acks): merged by seq, replacing this user's local copy of the same send. */
  addStored(roomId: string, msgs: UiMessage[]): void {
    this.listener?.stored(roomId, msgs);
    this.setView(roomId, (v) => ({ messages: mergeMessages(v.messages, this.redact(roomId, msgs)) }));
  }

  /** This user's message not stored yet (pending or failed), after the stored ones. */
  addLocal(m: UiMessage): void {
    this.setView(m.roomId, (v) => ({ messages: [...v.messages.filter((x) => x.key !== m.key), m] }));
  }

  /** Deletions and edits this page saw, applied to messages that may have been read from the server before them. */
  private redact(roomId: string, msgs: UiMessage[]): UiMessage[] {
    const gone = this.deletedSeqs.get(roomId);
    const edits = this.edits.get(roomId);
    if (!gone?.size && !edits?.size) return msgs;
    return msgs.map((m) => {
      if (m.seq === null) return m;
      if (gone?.has(m.seq)) return { ...m, body: '', deleted: true };
      const e = edits?.get(m.seq);
      return e && (m.editedAt === undefined || m.editedAt < e.editedAt) ? { ...m, ...e } : m;
    });
  }

  async loadLatest(roomId: string): Promise<void> {
    const v = this.view(roomId);
    if (v.loaded || v.loading) return;
    this.setView(roomId, () => ({ loading: true }));
    const live = this.live();
    try {
      const page = await this.ctx.api.messages(roomId, { limit: PAGE_SIZE });
      if (!live()) return;
      for (const m of page) this.people.ensureUser(m.senderId);
      const ui = page.map(toUi);
      this.listener?.page(roomId, ui);
      this.setView(roomId, (cur) => ({
        messages: mergeMessages(cur.messages, this.redact(roomId, ui)),
        hasMore: page.length === PAGE_SIZE,
        loaded: true,
        loading: false,
      }));
      if (this.isReading(roomId)) this.markReadLatest(roomId);
    } catch (err) {
      if (!live()) return;
      this.setView(roomId, () => ({ loading: false }));
      this.ui.fail(err);
    }
  }

  /**
   * Loads older pages until the message at `seq` is in the room's list (a quote's original, far back): true when it
   * is. Bounded: at most 25 pages of 200.
   */
  async loadUntil(roomId: string, seq: number): Promise<boolean> {
    const has = () => this.view(roomId).messages.some((m) => m.seq === seq);
    if (!this.view(roomId).loaded) await this.loadLatest(roomId);
    for (let i = 0; i < 25 && !has(); i++) {
      const v = this.view(roomId);
      const oldest = v.messages.find((m) => m.seq !== null)?.seq;
      if (!v.hasMore || oldest === undefined || oldest === null || oldest <= seq) break;
      await this.loadOlder(roomId, 200);
      if (this.view(roomId).messages.find((m) => m.seq !== null)?.seq === oldest) break; // no progress
    }
    return has();
  }

  async loadOlder(roomId: string, limit = PAGE_SIZE): Promise<void> {
    const v = this.view(roomId);
    if (!v.loaded || v.loading || !v.hasMore) return;
    const oldest = v.messages.find((m) => m.seq !== null)?.seq;
    if (oldest === undefined || oldest === null || oldest <= 1) return this.setView(roomId, () => ({ hasMore: false }));
    this.setView(roomId, () => ({ loading: true }));
    const live = this.live();
    try {
      const page = await this.ctx.api.messages(roomId, { before: oldest, limit });
      if (!live()) return;
      for (const m of page) this.people.ensureUser(m.senderId);
      const ui = page.map(toUi);
      this.listener?.page(roomId, ui);
      this.setView(roomId, (cur) => ({
        messages: mergeMessages(cur.messages, this.redact(roomId, ui)),
        hasMore: page.length === limit,
        loading: false,
      }));
    } catch (err) {
      if (!live()) return;
      this.setView(roomId, () => ({ loading: false }));
      this.ui.fail(err);
    }
  }

  /** A `message` event: into the room's list, and read or unread. */
  message(e: RoomEvent): void {
    const m = toUi(e);
    this.addStored(e.roomId, [m]);
    if (e.senderId === this.s.me?.id || this.isReading(e.roomId)) this.markRead(e.roomId, e.seq);
    // A thread-only reply is news of its thread (threads.ts), not of the room.
    else if (!m.reply?.threadOnly) this.countUnread(e.roomId, [e.seq]);
  }

  /** A `message.deleted` event: shown as deleted, now and in any page fetched later; no longer unread. */
  deleted(roomId: string, seq: number): void {
    let gone = this.deletedSeqs.get(roomId);
    if (!gone) this.deletedSeqs.set(roomId, (gone = new Set()));
    gone.add(seq);
    this.setView(roomId, (v) => ({ messages: markDeleted(v.messages, seq) }));
    const set = this.unseen.get(roomId);
    if (set?.delete(seq)) this.countUnread(roomId, []);
  }

  /** A `message.edited` event (or this user's edit answered): the new text, now and in any page fetched later. */
  edited(roomId: string, seq: number, body: string, editedAt: string): void {
    let edits = this.edits.get(roomId);
    if (!edits) this.edits.set(roomId, (edits = new Map()));
    const known = edits.get(seq);
    if (!known || known.editedAt < editedAt) edits.set(seq, { body, editedAt });
    this.setView(roomId, (v) => ({ messages: markEdited(v.messages, seq, body, editedAt) }));
  }

  /** The seq of this user's newest stored, undeleted message in the room (what Up in the composer edits), or null. */
  lastOwn(roomId: string): number | null {
    const msgs = this.view(roomId).messages;
    const me = this.s.me?.id;
    for (let i = msgs.length - 1; i >= 0; i--) {
      const m = msgs[i]!;
      if (m.senderId === me && m.seq !== null && !m.deleted) return m.seq;
    }
    return null;
  }

  /**
   * Edits this user's message; true once the server stored it (the `message.edited` event follows on the socket).
   * A failure shows as a toast and leaves the message as it was. Retrying is safe: the same text is a no-op.
   */
  async edit(roomId: string, seq: number, body: string): Promise<boolean> {
    const live = this.live();
    try {
      const { message } = await this.ctx.api.editMessage(roomId, seq, body);
      if (!live()) return false;
      const editedAt = message.data?.editedAt;
      if (typeof editedAt === 'string') this.edited(roomId, seq, message.body, editedAt);
      return true;
    } catch (err) {
      if (live()) this.ui.fail(err);
      return false;
    }
  }

  // ───────────────────────────── read positions ─────────────────────────────

  readOf(roomId: string): number | undefined {
    return this.read[roomId];
  }

  /** Where reading starts in a room joined or created now (`force`), or one first seen on this device. */
  setReadStart(roomId: string, seq: number, force = false): void {
    if (force) this.read[roomId] = seq;
    else this.read[roomId] ??= seq;
    this.saveRead();
  }

  isReading(roomId: string): boolean {
    return this.s.active === roomId && this.atBottom && document.visibilityState === 'visible';
  }

  countUnread(roomId: string, seqs: number[]): void {
    const read = this.read[roomId] ?? 0;
    let set = this.unseen.get(roomId);
    if (!set) this.unseen.set(roomId, (set = new Set()));
    for (const seq of seqs) if (seq > read) set.add(seq);
    const n = set.size;
    if ((this.s.unread[roomId] ?? 0) !== n) this.set((s) => ({ unread: { ...s.unread, [roomId]: n } }));
  }

  markRead(roomId: string, seq: number): void {
    if (seq > (this.read[roomId] ?? 0)) {
      this.read[roomId] = seq;
      this.saveRead();
    }
    const set = this.unseen.get(roomId);
    if (set) for (const s of set) if (s <= seq) set.delete(s);
    const n = set?.size ?? 0;
    if ((this.s.unread[roomId] ?? 0) !== n) this.set((s) => ({ unread: { ...s.unread, [roomId]: n } }));
  }

  /** The message list reached the bottom of the active room: everything in it is read. */
  markReadLatest(roomId: string): void {
    const msgs = this.view(roomId).messages;
    for (let i = msgs.length - 1; i >= 0; i--) {
      const seq = msgs[i]?.seq;
      if (seq != null) return this.markRead(roomId, Math.max(seq, this.s.rooms[roomId]?.lastSeq ?? 0));
    }
    const last = this.s.rooms[roomId]?.lastSeq;
    if (last) this.markRead(roomId, last);
  }
}

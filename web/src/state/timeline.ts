/**
 * The timeline: per room, the messages this page has seen — from history pages, the live socket and acks alike —
 * merged by seq (one entry per seq, in order, this user's unsent ones after), with deletions applied; and the
 * read marker per room with the unread count it gives. The server keeps the marker for all the user's devices
 * (`readSeq` and `unread` in welcome, `read` frames); reading here moves it there, at most once a second.
 */
import type { LinkPreview, RoomEvent } from '../../../src/protocol/model.js';
import type { RoomView } from './app-state.js';
import {
  applyReaction,
  markDeleted,
  markEdited,
  markPreview,
  markReaction,
  mergeMessages,
  toUi,
  type UiMessage,
} from './messages.js';
import type { People } from './people.js';
import { debounced, remove } from './persist.js';
import { Slice, type StateContext } from './slice.js';
import type { Ui } from './ui.js';

export const PAGE_SIZE = 50;
/** A message this many or fewer messages before the oldest loaded is reached by loading older pages; further back, a
 * window around it replaces the view (a detached view). */
const LOAD_BACK_MAX = 600;
/** Messages of a jump's window (`GET …/messages?around=`), and of each newer page after it. */
const AROUND_SIZE = 100;
const NEWER_SIZE = 200;
/** Live messages held for a detached view at most; beyond, going back to the newest reloads it instead. */
const HELD_MAX = 1000;

const EMPTY_VIEW: RoomView = { messages: [], hasMore: true, loading: false, loaded: false };

export class Timeline extends Slice {
  /** The read marker per room, as the server last told it or reading here moved it. */
  private read: Record<string, number> = {};
  /**
   * The unread count per room: what the server counted up to `seq` (welcome, room.added), plus the others'
   * messages after that seq which arrived since and lie beyond the marker (`unseen`).
   */
  private base = new Map<string, { seq: number; count: number }>();
  private unseen = new Map<string, Set<number>>();
  /** The same for unread mentions: the server's count up to `seq`, plus `mention` frames since, beyond the marker. */
  private mentionBase = new Map<string, { seq: number; count: number }>();
  private mentionUnseen = new Map<string, Set<number>>();
  /** Where "new messages" begins in a room opened with unread messages: the marker when it was opened. */
  private dividers: Record<string, number> = {};
  /** Markers moved here and not yet sent to the server, per room; sent at most once a second. */
  private outgoing = new Map<string, number>();
  private sendMarks = debounced(1000, () => void this.flushMarks());
  /** Seqs deleted while this page runs, per room: a history page fetched just before a delete is shown redacted. */
  private deletedSeqs = new Map<string, Set<number>>();
  /** Edits seen while this page runs, per room and seq: a page fetched just before an edit shows it anyway. */
  private edits = new Map<string, Map<number, { body: string; editedAt: string }>>();
  /**
   * Reaction changes seen while this page runs, per room, in sequence order: re-applied (as sets, so harmlessly when
   * already counted) to a history page that may have been read before them.
   */
  private reactionOps = new Map<string, { seq: number; emoji: string; userId: string; added: boolean }[]>();
  /** Link previews seen while this page runs, per room and seq: a page fetched just before one shows it anyway. */
  private previews = new Map<string, Map<number, LinkPreview>>();
  /**
   * Live messages that arrived for a detached view, per room, newest last: merged when newer pages meet them; `null`
   * once more than HELD_MAX came (the view then reloads its newest page instead).
   */
  private held = new Map<string, UiMessage[] | null>();
  /** Bumped when a detached view is left: a window or newer page still on its way is then dropped. */
  private windowGen = new Map<string, number>();
  /** Set by the message list: whether the active room is scrolled to its newest message. */
  atBottom = true;

  constructor(
    ctx: StateContext,
    private readonly people: People,
    private readonly ui: Ui,
  ) {
    super(ctx);
  }

  /** A session starts: read markers come from the server (welcome). */
  begin(userId: string): void {
    // Read positions used to be kept per browser; the server keeps them now.
    remove(`read.${userId}`);
    this.read = {};
    this.base.clear();
    this.dividers = {};
    this.outgoing.clear();
    this.unseen.clear();
    this.deletedSeqs.clear();
    this.edits.clear();
    this.reactionOps.clear();
    this.previews.clear();
    this.held.clear();
    this.atBottom = true;
  }

  /** Sends the read markers still waiting; at sign-out, also forgets the session. */
  flush(end = false): void {
    this.sendMarks.flush();
    if (!end) return;
    this.read = {};
    this.base.clear();
    this.dividers = {};
    this.outgoing.clear();
    this.unseen.clear();
    this.deletedSeqs.clear();
    this.edits.clear();
    this.reactionOps.clear();
    this.previews.clear();
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
    const v = this.view(roomId);
    if (v.detached) {
      // Beyond the window's newest: not joined to it yet, so held until newer pages reach them.
      const newest = newestSeq(v.messages);
      const later = msgs.filter((m) => m.seq !== null && m.seq > newest);
      if (later.length > 0) {
        const held = this.held.get(roomId);
        if (held !== null) {
          const next = [...(held ?? []), ...later];
          this.held.set(roomId, next.length > HELD_MAX ? null : next);
        }
        msgs = msgs.filter((m) => !later.includes(m));
      }
    }
    this.setView(roomId, (cur) => ({ messages: mergeMessages(cur.messages, this.redact(roomId, msgs)) }));
  }

  /** This user's message not stored yet (pending or failed), after the stored ones. */
  addLocal(m: UiMessage): void {
    this.setView(m.roomId, (v) => ({ messages: [...v.messages.filter((x) => x.key !== m.key), m] }));
  }

  /** Deletions and edits this page saw, applied to messages that may have been read from the server before them. */
  private redact(roomId: string, msgs: UiMessage[]): UiMessage[] {
    const gone = this.deletedSeqs.get(roomId);
    const edits = this.edits.get(roomId);
    const ops = this.reactionOps.get(roomId);
    const previews = this.previews.get(roomId);
    if (!gone?.size && !edits?.size && !ops?.length && !previews?.size) return msgs;
    return msgs.map((m) => {
      if (m.seq === null) return m;
      if (gone?.has(m.seq)) {
        const { reactions: _gone, ...rest } = m;
        return { ...rest, body: '', deleted: true };
      }
      const e = edits?.get(m.seq);
      let out = e && (m.editedAt === undefined || m.editedAt < e.editedAt) ? { ...m, ...e } : m;
      const preview = previews?.get(m.seq);
      if (preview && !out.preview) out = { ...out, preview };
      let reactions = out.reactions;
      for (const op of ops ?? []) {
        if (op.seq === m.seq) reactions = applyReaction(reactions, op.emoji, op.userId, op.added);
      }
      if (reactions !== out.reactions) {
        const { reactions: _old, ...rest } = out;
        out = reactions ? { ...rest, reactions } : rest;
      }
      return out;
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
    // A page already on its way (the room just opened, a scroll to the top) comes first: a load asked for meanwhile
    // would return at once, and the loop below would stop for want of progress.
    await this.loadsDone(roomId);
    if (!this.view(roomId).loaded) await this.loadLatest(roomId);
    for (let i = 0; i < 25 && !has(); i++) {
      await this.loadsDone(roomId);
      const v = this.view(roomId);
      const oldest = v.messages.find((m) => m.seq !== null)?.seq;
      if (!v.hasMore || oldest === undefined || oldest === null || oldest <= seq) break;
      await this.loadOlder(roomId, 200);
      if (this.view(roomId).messages.find((m) => m.seq !== null)?.seq === oldest) break; // no progress
    }
    return has();
  }

  /**
   * Brings the message at `seq` into the room's view: older pages when it is near (LOAD_BACK_MAX), otherwise one
   * page around it that replaces the view, detached from the newest until the reader scrolls down to it. True when
   * the message is in the view.
   */
  async bringInto(roomId: string, seq: number): Promise<boolean> {
    await this.loadsDone(roomId);
    if (!this.view(roomId).loaded) await this.loadLatest(roomId);
    const v = this.view(roomId);
    if (v.messages.some((m) => m.seq === seq)) return true;
    const oldest = v.messages.find((m) => m.seq !== null)?.seq;
    if (!v.detached && oldest != null && oldest - seq <= LOAD_BACK_MAX) return this.loadUntil(roomId, seq);
    this.setView(roomId, () => ({ loading: true }));
    const live = this.windowLive(roomId);
    try {
      const page = await this.ctx.api.messagesAround(roomId, seq, AROUND_SIZE);
      if (!live()) return false;
      for (const m of page) this.people.ensureUser(m.senderId);
      const ui = page.map(toUi);
      this.listener?.page(roomId, ui);
      const cur = this.view(roomId);
      const curOldest = cur.messages.find((m) => m.seq !== null)?.seq ?? null;
      // The window reaches what is loaded (new messages came meanwhile, or the room is short): one list again.
      if (!cur.detached && curOldest !== null && newestSeq(ui) >= curOldest - 1) {
        this.setView(roomId, (c) => ({ messages: mergeMessages(c.messages, this.redact(roomId, ui)), loading: false }));
      } else {
        if (!cur.detached) this.held.set(roomId, []);
        const local = cur.messages.filter((m) => m.seq === null);
        this.setView(roomId, () => ({
          messages: [...this.redact(roomId, ui), ...local],
          hasMore: (ui[0]?.seq ?? 1) > 1,
          loading: false,
          loaded: true,
          detached: true,
        }));
      }
      return this.view(roomId).messages.some((m) => m.seq === seq);
    } catch (err) {
      if (!live()) return false;
      this.setView(roomId, () => ({ loading: false }));
      this.ui.fail(err);
      return false;
    }
  }

  /** A detached view scrolled to its end: the next newer page; joined to the live messages once it reaches them. */
  async loadNewer(roomId: string): Promise<void> {
    const v = this.view(roomId);
    if (!v.detached || v.loading) return;
    const held = this.held.get(roomId);
    if (held === null) return this.returnToLatest(roomId);
    this.setView(roomId, () => ({ loading: true }));
    const live = this.windowLive(roomId);
    try {
      const page = await this.ctx.api.messages(roomId, { after: newestSeq(v.messages), limit: NEWER_SIZE });
      if (!live()) return;
      for (const m of page) this.people.ensureUser(m.senderId);
      const ui = page.map(toUi);
      this.listener?.page(roomId, ui);
      const joined = page.length < NEWER_SIZE;
      const rest = this.held.get(roomId);
      if (joined && rest === null) return this.returnToLatest(roomId);
      // Held live messages are merged only on joining: before, they lie beyond a gap.
      const add = joined ? [...ui, ...(rest ?? [])] : ui;
      if (joined) this.held.delete(roomId);
      this.setView(roomId, (c) => ({
        messages: mergeMessages(c.messages, this.redact(roomId, add)),
        loading: false,
        detached: !joined,
      }));
    } catch (err) {
      if (!live()) return;
      this.setView(roomId, () => ({ loading: false }));
      this.ui.fail(err);
    }
  }

  /** Leaves a detached view for the room's newest page (the "jump to latest" button, sending a message). */
  async returnToLatest(roomId: string): Promise<void> {
    const v = this.view(roomId);
    if (!v.detached) return;
    this.windowGen.set(roomId, (this.windowGen.get(roomId) ?? 0) + 1);
    this.held.delete(roomId);
    // This user's unsent messages stay; the stored ones come back with the newest page.
    this.setView(roomId, (c) => ({ ...EMPTY_VIEW, messages: c.messages.filter((m) => m.seq === null) }));
    this.atBottom = true;
    await this.loadLatest(roomId);
  }

  /** Like `live()`, and also false once the room's detached view was left. */
  private windowLive(roomId: string): () => boolean {
    const live = this.live();
    const gen = this.windowGen.get(roomId) ?? 0;
    return () => live() && gen === (this.windowGen.get(roomId) ?? 0);
  }

  /** Resolves once the room has no page load in flight (bounded: 10 s). */
  private async loadsDone(roomId: string): Promise<void> {
    for (let i = 0; i < 200 && this.view(roomId).loading; i++) await new Promise((r) => setTimeout(r, 50));
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
    // Your own message: read here, but not worth a receipt of its own (the server never counts it unread anyway).
    if (e.senderId === this.s.me?.id) this.markRead(e.roomId, e.seq, false);
    else if (this.isReading(e.roomId)) this.markRead(e.roomId, e.seq);
    // A thread-only reply is news of its thread (threads.ts), not of the room (nor does the server count it).
    else if (!m.reply?.threadOnly) this.countUnread(e.roomId, [e.seq]);
  }

  /** A `message.deleted` event: shown as deleted, now and in any page fetched later; no longer unread. */
  deleted(roomId: string, seq: number): void {
    let gone = this.deletedSeqs.get(roomId);
    if (!gone) this.deletedSeqs.set(roomId, (gone = new Set()));
    gone.add(seq);
    this.setView(roomId, (v) => ({ messages: markDeleted(v.messages, seq) }));
    const set = this.unseen.get(roomId);
    const mention = this.mentionUnseen.get(roomId);
    if (set?.delete(seq) || mention?.delete(seq)) this.countUnread(roomId, []);
  }

  /** A `message.edited` event (or this user's edit answered): the new text, now and in any page fetched later. */
  edited(roomId: string, seq: number, body: string, editedAt: string): void {
    let edits = this.edits.get(roomId);
    if (!edits) this.edits.set(roomId, (edits = new Map()));
    const known = edits.get(seq);
    if (!known || known.editedAt < editedAt) edits.set(seq, { body, editedAt });
    this.setView(roomId, (v) => ({ messages: markEdited(v.messages, seq, body, editedAt) }));
  }

  /** A `message.preview` event: the message's link preview card, now and in any page fetched later. */
  previewed(roomId: string, seq: number, preview: LinkPreview): void {
    let previews = this.previews.get(roomId);
    if (!previews) this.previews.set(roomId, (previews = new Map()));
    previews.set(seq, preview);
    // Bounded like reactionOps: only pages fetched in the next moments need these.
    if (previews.size > 500) previews.delete(previews.keys().next().value!);
    this.setView(roomId, (v) => ({ messages: markPreview(v.messages, seq, preview) }));
  }

  /** A `reaction.added` / `reaction.removed` event: the message's chips now, and in any page fetched later. */
  reacted(roomId: string, seq: number, emoji: string, userId: string, added: boolean): void {
    let ops = this.reactionOps.get(roomId);
    if (!ops) this.reactionOps.set(roomId, (ops = []));
    ops.push({ seq, emoji, userId, added });
    // Bounded: only pages fetched in the next moments need these; old ones are in any page read since.
    if (ops.length > 500) ops.splice(0, ops.length - 500);
    this.setView(roomId, (v) => ({ messages: markReaction(v.messages, seq, emoji, userId, added) }));
  }

  /**
   * Adds or removes this user's reaction (the server's answer is applied at once; its event follows on the socket and
   * changes nothing more). A refusal shows as a toast. Returns the canonical emoji, or null when refused.
   */
  async react(roomId: string, seq: number, emoji: string, add: boolean): Promise<string | null> {
    const live = this.live();
    const me = this.s.me?.id;
    try {
      const r = add ? await this.ctx.api.react(roomId, seq, emoji) : await this.ctx.api.unreact(roomId, seq, emoji);
      if (!live()) return null;
      if (me) this.reacted(roomId, seq, r.emoji, me, add);
      return r.emoji;
    } catch (err) {
      if (live()) this.ui.fail(err);
      return null;
    }
  }

  /** The seq of this user's newest stored, undeleted message in the room (what Up in the composer edits), or null. */
  lastOwn(roomId: string): number | null {
    const msgs = this.view(roomId).messages;
    const me = this.s.me?.id;
    for (let i = msgs.length - 1; i >= 0; i--) {
      const m = msgs[i]!;
      // A webhook's post is not the user's own message, though it is sent as them (issue 16).
      if (m.senderId === me && m.seq !== null && !m.deleted && !m.integration) return m.seq;
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

  // ───────────────────────────── read markers ─────────────────────────────

  readOf(roomId: string): number | undefined {
    return this.read[roomId];
  }

  /**
   * The server's word on a room (welcome, room.added, a room joined or created here): its marker and the unread
   * count up to `lastSeq`. A marker moved here and not yet sent is kept: markers only move forward.
   */
  fromServer(room: { id: string; readSeq: number; unread: number; unreadMentions?: number; lastSeq: number }): void {
    const mine = this.read[room.id] ?? 0;
    this.read[room.id] = Math.max(mine, room.readSeq);
    this.base.set(room.id, { seq: room.lastSeq, count: mine >= room.lastSeq ? 0 : room.unread });
    this.mentionBase.set(room.id, {
      seq: room.lastSeq,
      count: mine >= room.lastSeq ? 0 : (room.unreadMentions ?? 0),
    });
    for (const set of [this.unseen.get(room.id), this.mentionUnseen.get(room.id)]) {
      if (set) for (const seq of set) if (seq <= room.lastSeq) set.delete(seq);
    }
    this.publishCount(room.id);
  }

  /** A `mention` frame: the message at `seq` mentions the user; unread unless it is read already. */
  mentioned(roomId: string, seq: number): void {
    if (seq <= (this.read[roomId] ?? 0) || seq <= (this.mentionBase.get(roomId)?.seq ?? 0)) return;
    let set = this.mentionUnseen.get(roomId);
    if (!set) this.mentionUnseen.set(roomId, (set = new Set()));
    set.add(seq);
    this.publishCount(roomId);
  }

  /** A `read` frame: the marker moved on another device (or this one, echoed). */
  readElsewhere(roomId: string, readSeq: number): void {
    this.markRead(roomId, readSeq, false);
  }

  isReading(roomId: string): boolean {
    // At the end of a detached view, the newest messages are not on screen.
    return (
      this.s.active === roomId && this.atBottom && !this.view(roomId).detached && document.visibilityState === 'visible'
    );
  }

  countUnread(roomId: string, seqs: number[]): void {
    const read = this.read[roomId] ?? 0;
    const after = this.base.get(roomId)?.seq ?? 0;
    let set = this.unseen.get(roomId);
    if (!set) this.unseen.set(roomId, (set = new Set()));
    for (const seq of seqs) if (seq > read && seq > after) set.add(seq);
    this.publishCount(roomId);
  }

  /** Moves the marker forward here; `send` (reading here) also moves it on the server, for every device. */
  markRead(roomId: string, seq: number, send = true): void {
    if (seq > (this.read[roomId] ?? 0)) {
      this.read[roomId] = seq;
      if (send) {
        this.outgoing.set(roomId, Math.max(seq, this.outgoing.get(roomId) ?? 0));
        this.sendMarks();
      }
    }
    for (const set of [this.unseen.get(roomId), this.mentionUnseen.get(roomId)]) {
      if (set) for (const s of set) if (s <= seq) set.delete(s);
    }
    // Read past what the server counted: none of that is unread. (Read partway: the count waits for the next welcome.)
    for (const counts of [this.base, this.mentionBase]) {
      const base = counts.get(roomId);
      if (base && seq >= base.seq && base.count > 0) counts.set(roomId, { ...base, count: 0 });
    }
    this.publishCount(roomId);
  }

  /** The message list reached the bottom of the active room: everything in it is read. */
  markReadLatest(roomId: string): void {
    const v = this.view(roomId);
    // A detached view's end is not the room's: read up to what is shown.
    if (v.detached) return this.markRead(roomId, newestSeq(v.messages));
    const msgs = v.messages;
    for (let i = msgs.length - 1; i >= 0; i--) {
      const seq = msgs[i]?.seq;
      if (seq != null) return this.markRead(roomId, Math.max(seq, this.s.rooms[roomId]?.lastSeq ?? 0));
    }
    const last = this.s.rooms[roomId]?.lastSeq;
    if (last) this.markRead(roomId, last);
  }

  /** Puts the "new messages" divider after the marker, if anything is unread (a room opened, a tab come back to). */
  openDivider(roomId: string): void {
    if ((this.s.unread[roomId] ?? 0) > 0) this.dividers[roomId] = this.read[roomId] ?? 0;
  }

  /** The seq after which "new messages" begins in this room, or undefined for no divider. */
  dividerOf(roomId: string): number | undefined {
    return this.dividers[roomId];
  }

  /** The divider goes once the user has replied (they have clearly seen what was new). */
  clearDivider(roomId: string): void {
    delete this.dividers[roomId];
  }

  /** Sends the waiting markers, one request per room; a refusal (rate limit, gone) is not worth a word. */
  async flushMarks(): Promise<void> {
    const marks = [...this.outgoing];
    this.outgoing.clear();
    await Promise.all(marks.map(([roomId, seq]) => this.ctx.api.markRead(roomId, seq).catch(() => undefined)));
  }

  private publishCount(roomId: string): void {
    const n = (this.base.get(roomId)?.count ?? 0) + (this.unseen.get(roomId)?.size ?? 0);
    if ((this.s.unread[roomId] ?? 0) !== n) this.set((s) => ({ unread: { ...s.unread, [roomId]: n } }));
    const at = (this.mentionBase.get(roomId)?.count ?? 0) + (this.mentionUnseen.get(roomId)?.size ?? 0);
    if ((this.s.unreadMentions[roomId] ?? 0) !== at) {
      this.set((s) => ({ unreadMentions: { ...s.unreadMentions, [roomId]: at } }));
    }
  }
}

/** The newest stored message's seq in a list (0 when none). */
function newestSeq(msgs: readonly UiMessage[]): number {
  for (let i = msgs.length - 1; i >= 0; i--) {
    const seq = msgs[i]!.seq;
    if (seq !== null) return seq;
  }
  return 0;
}

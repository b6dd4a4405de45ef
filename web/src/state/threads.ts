/**
 * Replies and threads: the message the composer replies to, the thread side panel, jumping to a quoted message,
 * reply counts kept live, and each followed thread's unread state (in localStorage for now: server read markers
 * come later). A reply is an ordinary message of the room (docs/protocol.md, "Replies and threads"): it arrives in
 * the room's view like any other, and the panel shows the ones of its thread from there.
 */
import type { FileInfo } from '../../../src/protocol/model.js';
import { PROTOCOL_LIMITS } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import type { ThreadPanel } from './app-state.js';
import {
  countReply,
  markDeleted,
  markQuotesDeleted,
  mergeMessages,
  toUi,
  type UiMessage,
  type UiReply,
} from './messages.js';
import type { Outbox } from './outbox.js';
import type { People } from './people.js';
import { debounced, load, save } from './persist.js';
import { Slice, type StateContext } from './slice.js';
import type { Timeline } from './timeline.js';
import type { Ui } from './ui.js';

/** How long a jumped-to message stays highlighted. */
const HIGHLIGHT_MS = 2500;
const THREAD_PAGE = 100;

export const threadKey = (roomId: string, rootSeq: number) => `${roomId}:${rootSeq}`;

export class Threads extends Slice {
  private owner: string | null = null;
  /** Replies already counted on their root, per room: an ack, the live event and a page fetch count once. */
  private counted = new Map<string, Set<number>>();
  private highlightTimer: ReturnType<typeof setTimeout> | undefined;
  private saveSeen = debounced(400, () => this.owner && save(`threadSeen.${this.owner}`, this.s.threadSeen));

  constructor(
    ctx: StateContext,
    private readonly timeline: Timeline,
    private readonly outbox: Outbox,
    private readonly people: People,
    private readonly ui: Ui,
  ) {
    super(ctx);
    timeline.listener = this;
  }

  /** A new session: this user's followed threads (set into the state by the caller's reset, then here). */
  begin(userId: string): void {
    this.owner = userId;
    this.counted.clear();
    this.set({ threadSeen: load<Record<string, string>>(`threadSeen.${userId}`) ?? {} });
  }

  end(): void {
    this.saveSeen.flush();
    this.owner = null;
    this.counted.clear();
    clearTimeout(this.highlightTimer);
  }

  // ───────────────────────────── replying ─────────────────────────────

  startReply(roomId: string, seq: number): void {
    this.set({ replying: { roomId, seq } });
  }

  cancelReply(): void {
    if (this.s.replying) this.set({ replying: null });
  }

  /** The reply fields of a send answering the message at `seq`, with the quote the server will store. */
  replyTo(roomId: string, seq: number, threadOnly: boolean): UiReply | undefined {
    const target = this.find(roomId, seq);
    if (!target || target.seq === null) return undefined;
    return {
      replyTo: seq,
      threadRoot: target.reply?.threadRoot ?? seq,
      threadOnly,
      quote: { senderId: target.senderId, body: [...target.body].slice(0, PROTOCOL_LIMITS.quoteChars).join('') },
    };
  }

  /** Sends the composer's text as a reply to the message it is replying to (or plainly, if that is gone). */
  sendReply(roomId: string, text: string, attachments: FileInfo[] = []): void {
    const r = this.s.replying;
    const reply = r && r.roomId === roomId ? this.replyTo(roomId, r.seq, false) : undefined;
    this.outbox.send(roomId, text, reply, attachments);
    this.cancelReply();
  }

  /** Sends from the thread panel: a reply to the root, shown in the room too when `alsoToRoom`. */
  sendInThread(text: string, alsoToRoom: boolean): void {
    const p = this.s.thread;
    if (!p) return;
    const reply = this.replyTo(p.roomId, p.rootSeq, !alsoToRoom);
    if (!reply) return;
    this.outbox.send(p.roomId, text, reply);
    this.follow(p.roomId, p.rootSeq, new Date().toISOString());
  }

  // ───────────────────────────── the panel ─────────────────────────────

  /** Opens the thread of the message at `seq` (its root's, for a reply) and loads it. */
  async open(roomId: string, seq: number): Promise<void> {
    const known = this.find(roomId, seq);
    const rootSeq = known?.reply?.threadRoot ?? seq;
    const root = this.find(roomId, rootSeq) ?? null;
    this.set({ thread: { roomId, rootSeq, root, replies: [], loading: true, hasMore: false } });
    this.markSeen(roomId, rootSeq, root?.lastReplyAt);
    const live = this.live();
    try {
      const r = await this.ctx.api.thread(roomId, rootSeq, { limit: THREAD_PAGE });
      if (!live() || !this.isOpen(roomId, rootSeq)) return;
      for (const m of [r.root, ...r.messages]) {
        this.people.ensureUser(m.senderId);
        const q = (m.data?.quote as { senderId?: unknown } | undefined)?.senderId;
        if (typeof q === 'string') this.people.ensureUser(q);
      }
      const replies = r.messages.map(toUi);
      for (const m of replies) if (m.seq !== null) this.countedIn(roomId).add(m.seq);
      const rootUi = toUi(r.root);
      this.setPanel(() => ({
        root: rootUi,
        replies: mergeMessages([], replies),
        loading: false,
        hasMore: r.messages.length === THREAD_PAGE,
      }));
      this.markSeen(roomId, rootUi.seq ?? rootSeq, rootUi.lastReplyAt);
    } catch (err) {
      if (!live()) return;
      this.setPanel(() => ({ loading: false }));
      this.ui.fail(err);
    }
  }

  /** The open thread's older replies: the page before the first one loaded. */
  async loadOlder(): Promise<void> {
    const p = this.s.thread;
    const first = p?.replies.find((m) => m.seq !== null)?.seq;
    if (!p || p.loading || !p.hasMore || first === undefined || first === null) return;
    const { roomId, rootSeq } = p;
    this.setPanel(() => ({ loading: true }));
    const live = this.live();
    try {
      const r = await this.ctx.api.thread(roomId, rootSeq, { before: first, limit: THREAD_PAGE });
      if (!live() || !this.isOpen(roomId, rootSeq)) return;
      for (const m of r.messages) this.people.ensureUser(m.senderId);
      const older = r.messages.map(toUi);
      for (const m of older) if (m.seq !== null) this.countedIn(roomId).add(m.seq);
      this.setPanel((cur) => ({
        replies: mergeMessages(cur.replies, older),
        loading: false,
        hasMore: r.messages.length === THREAD_PAGE,
      }));
    } catch (err) {
      if (!live()) return;
      this.setPanel(() => ({ loading: false }));
      this.ui.fail(err);
    }
  }

  close(): void {
    this.set({ thread: null });
  }

  /** The panel's replies: those it loaded and those the room's view holds (live, and this user's pending ones). */
  replies(panel: ThreadPanel, roomMessages: UiMessage[]): UiMessage[] {
    const mine = roomMessages.filter((m) => m.reply?.threadRoot === panel.rootSeq);
    const stored = mergeMessages(
      panel.replies,
      mine.filter((m) => m.seq !== null),
    );
    const local = mine.filter((m) => m.seq === null && !stored.some((s) => s.key === m.key));
    return [...stored.filter((m) => m.seq !== null), ...local];
  }

  // ───────────────────────────── live ─────────────────────────────

  /** Replies in a history page: their roots' counts (from the same server) include them already. */
  page(roomId: string, msgs: UiMessage[]): void {
    const counted = this.countedIn(roomId);
    for (const m of msgs) {
      if (!m.reply || m.seq === null) continue;
      counted.add(m.seq);
      this.people.ensureUser(m.reply.quote.senderId);
    }
  }

  /** Messages new to this page (live, acks): a reply counts once on its root, and may make its thread unread. */
  stored(roomId: string, msgs: UiMessage[]): void {
    const counted = this.countedIn(roomId);
    for (const m of msgs) {
      const reply = m.reply;
      if (!reply || m.seq === null || counted.has(m.seq)) continue;
      counted.add(m.seq);
      this.people.ensureUser(reply.quote.senderId);
      this.timeline.setView(roomId, (v) => ({ messages: countReply(v.messages, reply.threadRoot, 1, m.createdAt) }));
      if (this.isOpen(roomId, reply.threadRoot)) {
        this.setPanel((p) => ({
          root: p.root ? (countReply([p.root], reply.threadRoot, 1, m.createdAt)[0] ?? null) : null,
        }));
        if (this.isVisible()) this.markSeen(roomId, reply.threadRoot, m.createdAt);
      }
      if (m.senderId === this.s.me?.id) this.follow(roomId, reply.threadRoot, m.createdAt);
    }
  }

  /** A `message.deleted` event: quotes of it blank; a deleted reply no longer counts on its root. */
  deleted(roomId: string, seq: number, before: UiMessage | undefined): void {
    this.timeline.setView(roomId, (v) => ({ messages: markQuotesDeleted(v.messages, seq) }));
    const root = before?.reply?.threadRoot;
    if (root !== undefined && this.countedIn(roomId).has(seq)) {
      this.timeline.setView(roomId, (v) => ({ messages: countReply(v.messages, root, -1) }));
    }
    if (this.s.thread?.roomId === roomId) {
      this.setPanel((p) => ({
        replies: markQuotesDeleted(markDeleted(p.replies, seq), seq),
        root:
          p.root && p.rootSeq === seq
            ? { ...p.root, body: '', deleted: true }
            : p.root && root === p.rootSeq
              ? (countReply([p.root], p.rootSeq, -1)[0] ?? p.root)
              : p.root,
      }));
    }
  }

  // ───────────────────────────── jumping to a quoted message ─────────────────────────────

  /**
   * Shows the message at `seq`: scrolled to and highlighted in the room, loaded first when it is not (older pages, or
   * a window around it far back: timeline.bringInto); a thread-only reply opens its thread instead.
   */
  async jumpTo(roomId: string, seq: number): Promise<void> {
    const found = (await this.timeline.bringInto(roomId, seq)) ? this.find(roomId, seq) : undefined;
    if (!found) {
      this.ui.toast(t('message.notLoaded'), 'info');
      return;
    }
    if (found.reply?.threadOnly) {
      await this.open(roomId, found.reply.threadRoot);
      return;
    }
    this.timeline.atBottom = false;
    clearTimeout(this.highlightTimer);
    this.set({ highlight: { roomId, seq } });
    this.highlightTimer = setTimeout(() => this.set({ highlight: null }), HIGHLIGHT_MS);
  }

  // ───────────────────────────── unread threads ─────────────────────────────

  /** Whether a root's thread has replies this user has not seen: a thread they follow (opened, replied, started). */
  unread(roomId: string, root: UiMessage): boolean {
    if (root.seq === null || !root.lastReplyAt) return false;
    const seen = this.s.threadSeen[threadKey(roomId, root.seq)];
    if (seen === undefined) return root.senderId === this.s.me?.id && !this.isOpen(roomId, root.seq);
    return root.lastReplyAt > seen;
  }

  private follow(roomId: string, rootSeq: number, at: string): void {
    this.markSeen(roomId, rootSeq, at);
  }

  private markSeen(roomId: string, rootSeq: number, at: string | undefined): void {
    const key = threadKey(roomId, rootSeq);
    const stamp = at ?? new Date(0).toISOString();
    const cur = this.s.threadSeen[key];
    if (cur !== undefined && cur >= stamp) return;
    this.set((s) => ({ threadSeen: { ...s.threadSeen, [key]: stamp } }));
    this.saveSeen();
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private isOpen(roomId: string, rootSeq: number): boolean {
    const p = this.s.thread;
    return !!p && p.roomId === roomId && p.rootSeq === rootSeq;
  }

  private isVisible(): boolean {
    return typeof document === 'undefined' || document.visibilityState === 'visible';
  }

  private setPanel(fn: (p: ThreadPanel) => Partial<ThreadPanel>): void {
    this.set((s) => (s.thread ? { thread: { ...s.thread, ...fn(s.thread) } } : {}));
  }

  private countedIn(roomId: string): Set<number> {
    let set = this.counted.get(roomId);
    if (!set) this.counted.set(roomId, (set = new Set()));
    return set;
  }

  /** The message at `seq` wherever this page holds it: the room's view or the open thread. */
  find(roomId: string, seq: number): UiMessage | undefined {
    const inRoom = this.timeline.view(roomId).messages.find((m) => m.seq === seq);
    if (inRoom) return inRoom;
    const p = this.s.thread;
    if (!p || p.roomId !== roomId) return undefined;
    if (p.root?.seq === seq) return p.root;
    return p.replies.find((m) => m.seq === seq);
  }
}

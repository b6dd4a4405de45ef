/**
 * The outbox: what this user sends. A message shows at once (pending) and goes out through the SDK with a fresh
 * clientMsgId; the ack turns it into the stored message, a refusal marks it failed (retry resends the same
 * clientMsgId, so nothing doubles). Unacknowledged sends are saved, so a reload sends them again. Also slow mode's
 * wait, and the typing notices this user sends.
 */
import { SendError, type ClientEvents } from '../../../src/client/chat-client.js';
import type { FileInfo } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { errorText } from './errors.js';
import { load, save } from './persist.js';
import { slowModeFor } from './permissions.js';
import { Slice, type StateContext } from './slice.js';
import type { Timeline } from './timeline.js';
import type { Ui } from './ui.js';
import type { UiReply } from './messages.js';

/** Typing notices are sent at most this often while the user types (the server also drops extras). */
const TYPING_SEND_EVERY_MS = 3000;

/** Send refusals that are about this user or this room (moderation), worth a toast besides the failed message. */
const MODERATION_CODES = new Set(['muted', 'read_only', 'banned', 'content_blocked', 'too_many_mentions', 'flood']);

interface SavedSend {
  roomId: string;
  clientMsgId: string;
  body: string;
  createdAt: string;
  /** A reply: resent as one, with the same quote. */
  reply?: UiReply;
  /** Uploaded files it carries: resent with it. */
  attachments?: FileInfo[];
}

/** The send fields of a reply (none for a plain message). */
const replyOptions = (reply: UiReply | undefined) =>
  reply ? { replyTo: reply.replyTo, threadOnly: reply.threadOnly } : undefined;

function randomId(): string {
  // getRandomValues works on plain http too (randomUUID needs a secure context).
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return 'w' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Outbox extends Slice {
  private lastTypingSent = new Map<string, number>();

  constructor(
    ctx: StateContext,
    private readonly timeline: Timeline,
    private readonly ui: Ui,
  ) {
    super(ctx);
  }

  reset(): void {
    this.lastTypingSent.clear();
  }

  /** Sends that were still unacknowledged when the page last closed: the same clientMsgId makes them safe. */
  resend(userId: string): void {
    for (const p of load<SavedSend[]>(`outbox.${userId}`) ?? []) {
      this.timeline.addLocal({
        key: p.clientMsgId,
        id: null,
        seq: null,
        roomId: p.roomId,
        senderId: userId,
        body: p.body,
        clientMsgId: p.clientMsgId,
        createdAt: p.createdAt,
        status: 'pending',
        ...(p.reply ? { reply: p.reply } : {}),
        ...(p.attachments?.length ? { attachments: p.attachments } : {}),
      });
      this.transmit(p.roomId, p.clientMsgId, p.body, p.reply, p.attachments);
    }
  }

  /**
   * Sends `text`; `reply` makes it a reply (its quote shows at once, as the server will store it); `attachments`
   * are uploaded files it carries (then the text may be empty).
   */
  send(roomId: string, text: string, reply?: UiReply, attachments: FileInfo[] = []): void {
    const me = this.s.me;
    const body = text.replace(/\s+$/, '');
    if (!me || (!body.trim() && !attachments.length)) return;
    const clientMsgId = randomId();
    // Sent from a window far back (a search result): the room goes back to its newest, where the message will be.
    void this.timeline.returnToLatest(roomId);
    this.timeline.atBottom = true;
    this.timeline.clearDivider(roomId);
    this.timeline.addLocal({
      key: clientMsgId,
      id: null,
      seq: null,
      roomId,
      senderId: me.id,
      body,
      clientMsgId,
      createdAt: new Date().toISOString(),
      status: 'pending',
      ...(reply ? { reply } : {}),
      ...(attachments.length ? { attachments } : {}),
    });
    this.lastTypingSent.delete(roomId);
    this.persist();
    this.transmit(roomId, clientMsgId, body, reply, attachments);
  }

  /** Resends a failed message with its original clientMsgId: if the first try was stored, nothing doubles. */
  retry(roomId: string, key: string): void {
    const m = this.timeline.view(roomId).messages.find((x) => x.key === key);
    if (!m || m.status !== 'failed') return;
    this.timeline.addLocal({ ...m, status: 'pending', error: undefined });
    this.persist();
    this.transmit(roomId, m.clientMsgId, m.body, m.reply, m.attachments);
  }

  discard(roomId: string, key: string): void {
    this.timeline.setView(roomId, (v) => ({
      messages: v.messages.filter((m) => m.key !== key || m.status !== 'failed'),
    }));
    this.persist();
  }

  private transmit(
    roomId: string,
    clientMsgId: string,
    body: string,
    reply?: UiReply,
    attachments: FileInfo[] = [],
  ): void {
    const client = this.ctx.client;
    if (!client) return;
    const ids = attachments.map((a) => a.id);
    client.send(roomId, body, clientMsgId, replyOptions(reply), ids).then(
      (ack) => {
        if (this.ctx.client !== client) return;
        this.timeline.addStored(roomId, [
          {
            key: clientMsgId,
            id: ack.id,
            seq: ack.seq,
            roomId,
            senderId: this.s.me?.id ?? '',
            body,
            clientMsgId,
            createdAt: ack.createdAt,
            status: 'sent',
            ...(reply ? { reply } : {}),
            ...(attachments.length ? { attachments } : {}),
          },
        ]);
        this.timeline.markRead(roomId, ack.seq);
        this.persist();
        const room = this.s.rooms[roomId];
        const slow = room ? slowModeFor(room) : 0;
        if (slow > 0) this.set((s) => ({ slowUntil: { ...s.slowUntil, [roomId]: Date.now() + slow * 1000 } }));
      },
      (err: unknown) => {
        if (this.ctx.client !== client) return;
        const code = err instanceof SendError ? err.code : 'internal';
        if (code === 'closed' || code === 'unauthorized') return;
        if (MODERATION_CODES.has(code)) this.ui.toast(errorText(err), 'error');
        this.timeline.setView(roomId, (v) => ({
          messages: v.messages.map((m) =>
            m.key === clientMsgId && m.seq === null ? { ...m, status: 'failed', error: errorText(err) } : m,
          ),
        }));
        this.persist();
      },
    );
  }

  /** The server holds a send back for slow mode: say how long, once per wait. */
  delayed(d: ClientEvents['send.delayed']): void {
    if (d.code !== 'slow_mode') return;
    const until = Date.now() + d.retryAfterMs;
    if ((this.s.slowUntil[d.roomId] ?? 0) < Date.now()) {
      this.ui.toast(t('errors.slowModeWait', { seconds: Math.ceil(d.retryAfterMs / 1000) }), 'info');
    }
    this.set((s) => ({ slowUntil: { ...s.slowUntil, [d.roomId]: Math.max(until, s.slowUntil[d.roomId] ?? 0) } }));
  }

  private persist(): void {
    const me = this.s.me;
    if (!me) return;
    const pending: SavedSend[] = [];
    for (const view of Object.values(this.s.views)) {
      for (const m of view.messages) {
        if (m.status === 'pending')
          pending.push({
            roomId: m.roomId,
            clientMsgId: m.clientMsgId,
            body: m.body,
            createdAt: m.createdAt,
            ...(m.reply ? { reply: m.reply } : {}),
            ...(m.attachments?.length ? { attachments: m.attachments } : {}),
          });
      }
    }
    save(`outbox.${me.id}`, pending.length ? pending : undefined);
  }

  typing(roomId: string): void {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(roomId) ?? 0) < TYPING_SEND_EVERY_MS) return;
    this.lastTypingSent.set(roomId, now);
    this.ctx.client?.typing(roomId);
  }
}

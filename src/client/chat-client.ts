import { shouldReconnect, CLOSE_CODES } from '../protocol/close-codes.js';
import type { ErrorCode } from '../protocol/errors.js';
import type {
  AckFrame,
  BotCommandFrame,
  AnnouncementFrame,
  ProfileNotice,
  MentionNotice,
  ReadNotice,
  BlockNotice,
  NotifyNotice,
  SettingsNotice,
  ErrorFrame,
  InviteFrame,
  PresenceNotice,
  RoomAddedFrame,
  RoomRemovedFrame,
  ServerFrame,
  SyncedFrame,
  TypingNotice,
  WelcomeFrame,
  AssistantStreamFrame,
} from '../protocol/frames.js';
import type { Message, RoomEvent } from '../protocol/model.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { Emitter } from './emitter.js';
import { replyFields, type ReplyOptions } from './api.js';
import { ChainChecker, type ChainBreak } from './chain-check.js';

/** The subset of the WebSocket API the client uses: the browser's global and the `ws` package both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', l: () => void): void;
  addEventListener(type: 'message', l: (e: { data: unknown }) => void): void;
  addEventListener(type: 'close', l: (e: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', l: (e: unknown) => void): void;
}
/** Handshake options for non-browser implementations (`ws`, Node's undici); browsers get none. */
export interface WebSocketOptions {
  headers: Record<string, string>;
}
export type WebSocketCtor = new (url: string, options?: WebSocketOptions) => WebSocketLike;

/** Node (or another runtime with `process.versions.node`): nothing sets Origin there unless we do. */
const IN_NODE =
  typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ClientEvents extends Record<string, unknown> {
  welcome: WelcomeFrame;
  /** Every room event, exactly once, in per-room sequence order (across reconnects too). */
  event: RoomEvent;
  /** The `message` subset of `event`. */
  message: Message;
  synced: SyncedFrame;
  typing: TypingNotice;
  /** The built-in assistant writing an answer (not stored; the answer arrives as a message). */
  'assistant.stream': AssistantStreamFrame;
  presence: PresenceNotice;
  'room.added': RoomAddedFrame;
  'room.removed': RoomRemovedFrame;
  invite: InviteFrame;
  announcement: AnnouncementFrame;
  /** A user's profile changed (live only: re-read the profiles shown after `welcome`). */
  profile: ProfileNotice;
  /** Your read marker moved in a room (on any of your devices). */
  read: ReadNotice;
  /** You blocked or unblocked someone (on any of your devices). */
  block: BlockNotice;
  /** A message that mentions you (live only; welcome's unreadMentions covers the time away). */
  mention: MentionNotice;
  /** Your notification level for a room changed (on any of your devices). */
  notify: NotifyNotice;
  /** Your private settings changed (on any of your devices): all of them. */
  settings: SettingsNotice;
  /** Error frames not tied to a pending send. */
  error: ErrorFrame;
  /** (Bots) a slash command for this bot, typed by someone in one of its rooms (issue 16). */
  command: BotCommandFrame;
  /**
   * A send the server asked to wait for (`slow_mode`, `rate_limited`, ...): it stays pending and is re-sent with
   * the same clientMsgId after `retryAfterMs`. For showing a countdown; nothing to do.
   */
  'send.delayed': { roomId: string; clientMsgId: string; code: ErrorCode; retryAfterMs: number };
  state: ConnectionState;
  /** The server closed the connection; `willReconnect` says whether the client retries. */
  disconnect: { code: number; reason: string; willReconnect: boolean };
  /**
   * History integrity (issue 18): an event received does not fit the room's hash chain (see ChainChecker). Checked
   * off the delivery path: it follows the `event` it is about.
   */
  'chain.broken': ChainBreak;
}

export interface ChatClientOptions {
  /** Base URL of the server (http(s)://host:port); the socket goes to /ws on it. */
  url: string;
  token: string;
  /**
   * The logged-in user's id (from `login`/`register`): sent as `/ws?u=<userId>` on the upgrade, so a load balancer
   * that hashes by user keeps all of a user's connections on one node (docs/protocol.md, 4.1). Not a credential:
   * the server ignores it and authenticates the token in `hello`. Without it the first connection goes without
   * `u`, and reconnects carry the id from `welcome`.
   */
  userId?: string;
  /** WebSocket implementation; defaults to the global one (browsers). In Node 20 pass `ws`'s WebSocket. */
  WebSocket?: WebSocketCtor;
  /** Last seen seq per room from a previous run, to resume exactly after it. */
  resume?: Record<string, number>;
  /** Reconnect backoff: exponential from minMs to maxMs, each wait drawn between half the cap and the cap. */
  backoff?: { minMs?: number; maxMs?: number };
  /** A send not acknowledged after this long is rejected (it stays safe to retry with the same id). */
  sendTimeoutMs?: number;
  /**
   * `Origin` of the WebSocket handshake outside browsers: the server refuses upgrades without an allowed one.
   * Default: the origin of `url` (the server's own). Browsers send the page's origin themselves; this is ignored there.
   */
  origin?: string;
  /**
   * Verify each room's hash chain as events arrive and report breaks as `chain.broken` (docs/protocol.md "History
   * integrity"). Default: on where WebCrypto is available (Node 20; browsers on https or localhost).
   */
  verifyHistory?: boolean;
  /** With `resume`: the `historyHeads` of that run, so the first event replayed is checked against them too. */
  resumeHeads?: Record<string, { seq: number; hash: string }>;
}

/** Longest wait before re-sending after a retryable error that named no `retryAfterMs`. */
const SEND_RETRY_MAX_MS = 5000;

export class SendError extends Error {
  constructor(
    readonly code: ErrorCode | 'timeout' | 'closed',
    message: string,
    /** With `flood`: how long until the same text may be sent again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

interface Pending {
  roomId: string;
  clientMsgId: string;
  body: string;
  reply?: ReplyOptions | undefined;
  attachments?: string[] | undefined;
  resolve: (ack: AckFrame) => void;
  reject: (err: SendError) => void;
  timer: ReturnType<typeof setTimeout>;
  retryTimer?: ReturnType<typeof setTimeout>;
  attempts: number;
}

const OPEN = 1;

function randomId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A real-time connection with the protocol's guarantees on the client side:
 * - reconnects with backoff and jitter, obeying close codes (no retry after 4001/4003/4005/4006/4007);
 * - resumes every room from the last seq it delivered, so `event` fires exactly once per event, in order;
 * - keeps an outbox: sends wait for their ack and are re-sent with the same clientMsgId after a reconnect,
 *   which the server deduplicates.
 */
export class ChatClient extends Emitter<ClientEvents> {
  private ws: WebSocketLike | undefined;
  private readonly Ws: WebSocketCtor;
  private readonly cursors = new Map<string, number>();
  private readonly outbox = new Map<string, Pending>();
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private lastHeard = 0;
  private stopped = false;
  private firstWelcome: { resolve: (w: WelcomeFrame) => void; reject: (e: Error) => void } | undefined;
  private viewing: string[] = [];
  state: ConnectionState = 'idle';
  welcome: WelcomeFrame | undefined;
  /** Diagnostics: events skipped as duplicates, and sequence gaps seen (the server promises none). */
  readonly stats = { duplicatesDropped: 0, gaps: 0, reconnects: 0 };
  private readonly chain: ChainChecker | undefined;

  constructor(private readonly opts: ChatClientOptions) {
    super();
    const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
    if (subtle && opts.verifyHistory !== false) {
      this.chain = new ChainChecker(subtle, (b) => this.emit('chain.broken', b));
      for (const [room, h] of Object.entries(opts.resumeHeads ?? {})) this.chain.anchor(room, h.seq, h.hash);
    } else if (opts.verifyHistory === true) {
      throw new Error('verifyHistory: WebCrypto (crypto.subtle) is not available here.');
    }
    const Ws = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!Ws) throw new Error('No WebSocket implementation: pass options.WebSocket (e.g. from the "ws" package).');
    this.Ws = Ws;
    for (const [room, seq] of Object.entries(opts.resume ?? {})) this.cursors.set(room, seq);
  }

  /** Resolves when every event received so far has been checked against its room's hash chain. */
  historyChecked(): Promise<void> {
    return this.chain?.idle() ?? Promise.resolve();
  }

  /** The last hash checked per room (after historyChecked()): persist it with `positions` (`resumeHeads`). */
  get historyHeads(): Record<string, { seq: number; hash: string }> {
    return this.chain?.snapshot() ?? {};
  }

  /** Last delivered seq per room: persist it to resume a later run exactly. */
  get positions(): Record<string, number> {
    return Object.fromEntries(this.cursors);
  }

  /** Connects; resolves with the first `welcome`, rejects if the server refuses the token. */
  connect(): Promise<WelcomeFrame> {
    this.stopped = false;
    return new Promise((resolve, reject) => {
      this.firstWelcome = { resolve, reject };
      this.open();
    });
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  private wsUrl(): string {
    const base = `${this.opts.url.replace(/^http/, 'ws').replace(/\/+$/, '')}/ws`;
    // Only the user id: the token stays out of the URL (and so out of proxy logs); it goes in `hello`.
    const userId = this.welcome?.user.id ?? this.opts.userId;
    return userId ? `${base}?u=${encodeURIComponent(userId)}` : base;
  }

  private open(): void {
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = IN_NODE
      ? new this.Ws(this.wsUrl(), { headers: { origin: this.opts.origin ?? new URL(this.opts.url).origin } })
      : new this.Ws(this.wsUrl());
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token: this.opts.token, resume: this.positions }));
    });
    ws.addEventListener('message', (e) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      let parsed: ServerFrame | ServerFrame[];
      try {
        parsed = JSON.parse(String(e.data)) as ServerFrame | ServerFrame[];
      } catch {
        return;
      }
      for (const frame of Array.isArray(parsed) ? parsed : [parsed]) this.onFrame(frame);
    });
    ws.addEventListener('close', (e) => {
      if (this.ws !== ws) return;
      this.onClose(e.code, e.reason);
    });
    ws.addEventListener('error', () => {
      /* a close event follows */
    });
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome': {
        this.welcome = frame;
        this.attempt = 0;
        const current = new Set(frame.rooms.map((r) => r.id));
        // Rooms we had but no longer belong to (removed while we were away): forget them and say so.
        const gone = [...this.cursors.keys()].filter((id) => !current.has(id));
        for (const roomId of gone) this.cursors.delete(roomId);
        for (const room of frame.rooms) {
          if (!this.cursors.has(room.id)) this.cursors.set(room.id, room.lastSeq);
          // Nothing to replay: the next event links to the room's head as stated here.
          if (this.cursors.get(room.id) === room.lastSeq) this.chain?.anchor(room.id, room.lastSeq, room.headHash);
        }
        for (const roomId of gone) this.chain?.forget(roomId);
        this.setState('open');
        this.startHeartbeat(frame.heartbeatMs);
        // Before 'welcome' listeners run: one that re-reads member lists then misses no change after its read.
        if (this.viewing.length > 0) this.sendView();
        this.emit('welcome', frame);
        for (const roomId of gone) this.emit('room.removed', { type: 'room.removed', roomId, reason: 'removed' });
        this.firstWelcome?.resolve(frame);
        this.firstWelcome = undefined;
        for (const p of this.outbox.values()) this.transmit(p);
        return;
      }
      case 'event':
        return this.onEvent(frame.event);
      case 'ack': {
        const p = this.outbox.get(frame.clientMsgId);
        if (!p) return;
        this.settle(p);
        p.resolve(frame);
        return;
      }
      case 'error': {
        const p = frame.clientMsgId ? this.outbox.get(frame.clientMsgId) : undefined;
        if (!p) return this.emit('error', frame);
        // A repeated text (`flood`) is not re-sent by itself: the sender decides whether it was meant.
        if (frame.retryable && frame.code !== 'flood') {
          // Same clientMsgId on retry: the server stores it at most once.
          // Without a hint it is mostly a store restart: retrying at least every 5 s (jittered, so a crowd of
          // clients does not retry in step) gets the send through within seconds of the store's return.
          const cap = Math.min(SEND_RETRY_MAX_MS, 250 * 2 ** Math.min(p.attempts, 7));
          const wait = frame.retryAfterMs ?? Math.round(cap / 2 + (Math.random() * cap) / 2);
          clearTimeout(p.retryTimer);
          p.retryTimer = setTimeout(() => this.transmit(p), wait);
          this.emit('send.delayed', {
            roomId: p.roomId,
            clientMsgId: p.clientMsgId,
            code: frame.code,
            retryAfterMs: wait,
          });
          return;
        }
        this.settle(p);
        p.reject(new SendError(frame.code, frame.message, frame.retryAfterMs));
        return;
      }
      case 'room.added':
        // Events follow from the join on; a reconnect before the first of them resumes from there too.
        if (!this.cursors.has(frame.room.id)) this.cursors.set(frame.room.id, frame.room.joinedSeq - 1);
        return this.emit('room.added', frame);
      case 'room.removed':
        this.cursors.delete(frame.roomId);
        this.chain?.forget(frame.roomId);
        return this.emit('room.removed', frame);
      case 'synced':
        return this.emit('synced', frame);
      case 'typing':
        return this.emit('typing', frame);
      case 'assistant.stream':
        return this.emit('assistant.stream', frame);
      case 'presence':
        return this.emit('presence', frame);
      case 'invite':
        return this.emit('invite', frame);
      case 'announcement':
        return this.emit('announcement', frame);
      case 'profile':
        return this.emit('profile', frame);
      case 'read':
        return this.emit('read', frame);
      case 'block':
        return this.emit('block', frame);
      case 'mention':
        return this.emit('mention', frame);
      case 'notify':
        return this.emit('notify', frame);
      case 'settings':
        return this.emit('settings', frame);
      case 'command':
        return this.emit('command', frame);
      case 'pong':
        return;
    }
  }

  private onEvent(event: RoomEvent): void {
    const last = this.cursors.get(event.roomId) ?? 0;
    if (event.seq <= last) {
      this.stats.duplicatesDropped++;
      return;
    }
    if (event.seq !== last + 1 && last !== 0) this.stats.gaps++;
    this.cursors.set(event.roomId, event.seq);
    this.chain?.check(event);
    this.emit('event', event);
    if (event.type === 'message') this.emit('message', event as Message);
  }

  private startHeartbeat(intervalMs: number): void {
    clearInterval(this.heartbeatTimer);
    // Browsers answer protocol pings invisibly, so the client checks liveness itself with app-level pings.
    this.heartbeatTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== OPEN) return;
      if (Date.now() - this.lastHeard > intervalMs * 2) {
        ws.close(4000, 'heartbeat timeout');
        this.onClose(CLOSE_CODES.HEARTBEAT_TIMEOUT.code, 'no traffic from server');
        return;
      }
      ws.send(JSON.stringify({ type: 'ping' }));
    }, intervalMs);
  }

  private onClose(code: number, reason: string): void {
    clearInterval(this.heartbeatTimer);
    this.ws = undefined;
    const retry = !this.stopped && shouldReconnect(code);
    this.emit('disconnect', { code, reason, willReconnect: retry });
    if (!retry) {
      this.setState('closed');
      this.failOutbox(
        code === CLOSE_CODES.UNAUTHORIZED.code ? 'unauthorized' : 'closed',
        `connection closed (${code})`,
      );
      this.firstWelcome?.reject(new Error(`connection refused: ${code} ${reason}`));
      this.firstWelcome = undefined;
      return;
    }
    this.stats.reconnects++;
    const { minMs = 250, maxMs = 15_000 } = this.opts.backoff ?? {};
    const cap = Math.min(maxMs, minMs * 2 ** this.attempt);
    const delay = cap / 2 + Math.random() * (cap / 2);
    this.attempt++;
    this.setState('reconnecting');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  private transmit(p: Pending): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN || this.state !== 'open') return; // sent on the next welcome
    p.attempts++;
    ws.send(
      JSON.stringify({
        type: 'send',
        roomId: p.roomId,
        clientMsgId: p.clientMsgId,
        body: p.body,
        ...replyFields(p.reply),
        ...(p.attachments && p.attachments.length > 0 ? { attachments: p.attachments } : {}),
      }),
    );
  }

  private settle(p: Pending): void {
    clearTimeout(p.timer);
    clearTimeout(p.retryTimer);
    this.outbox.delete(p.clientMsgId);
  }

  private failOutbox(code: SendError['code'], message: string): void {
    for (const p of [...this.outbox.values()]) {
      this.settle(p);
      p.reject(new SendError(code, message));
    }
  }

  /**
   * Sends a message; resolves with the server's ack once it is durably stored. Survives reconnects: an
   * unacknowledged send is re-sent with the same clientMsgId (and the same `reply`). Pass your own id to retry
   * across app restarts. `reply` makes it a reply (see ReplyOptions). `attachments`: ids of files you uploaded
   * (`ChatApi.upload`); with them the body may be empty.
   */
  send(
    roomId: string,
    body: string,
    clientMsgId: string = randomId(),
    reply?: ReplyOptions,
    /** Ids of files you uploaded (`ChatApi.upload`); with them `body` may be ''. */
    attachments?: string[],
  ): Promise<AckFrame> {
    const existing = this.outbox.get(clientMsgId);
    if (existing) return Promise.reject(new SendError('validation_failed', 'that clientMsgId is already pending'));
    return new Promise((resolve, reject) => {
      const timeout = this.opts.sendTimeoutMs ?? 120_000;
      const p: Pending = {
        roomId,
        clientMsgId,
        body,
        reply,
        attachments,
        resolve,
        reject,
        attempts: 0,
        timer: setTimeout(() => {
          this.settle(p);
          reject(new SendError('timeout', `no ack within ${timeout} ms`));
        }, timeout),
      };
      this.outbox.set(clientMsgId, p);
      this.transmit(p);
    });
  }

  /** Messages sent but not yet acknowledged, oldest first. */
  get pending(): { roomId: string; clientMsgId: string; body: string }[] {
    return [...this.outbox.values()].map(({ roomId, clientMsgId, body }) => ({ roomId, clientMsgId, body }));
  }

  typing(roomId: string): void {
    if (this.ws?.readyState === OPEN && this.state === 'open') this.ws.send(JSON.stringify({ type: 'typing', roomId }));
  }

  /**
   * The rooms this client shows (an open conversation, its member list). In rooms bigger than the server's
   * PRESENCE_FANOUT_MAX_MEMBERS only viewers get `presence` changes (others get counts, with `changes: []`);
   * small rooms and DMs tell every member anyway. Replaces the previous set, `[]` views nothing; kept and sent
   * again after every reconnect. Load the member list after calling this, so no change falls in between.
   */
  view(roomIds: readonly string[]): void {
    this.viewing = [...new Set(roomIds)];
    if (this.ws?.readyState === OPEN && this.state === 'open') this.sendView();
  }

  /** The rooms last given to `view`. */
  get viewed(): readonly string[] {
    return this.viewing;
  }

  private sendView(): void {
    this.ws?.send(JSON.stringify({ type: 'view', roomIds: this.viewing }));
  }

  setPresence(status: 'online' | 'away'): void {
    if (this.ws?.readyState === OPEN && this.state === 'open')
      this.ws.send(JSON.stringify({ type: 'presence', status }));
  }

  /** Drops the socket as a network failure would; the client reconnects and resumes (for tests and demos). */
  dropConnection(): void {
    const ws = this.ws;
    if (!ws) return;
    this.onClose(1006, 'dropped by client');
    ws.close(4000, 'dropped');
  }

  /** Closes for good: no reconnect; pending sends are rejected with `closed`. */
  close(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, 'client closed');
    this.failOutbox('closed', 'client closed');
    this.setState('closed');
  }
}

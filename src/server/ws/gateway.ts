import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE_CODES } from '../../protocol/close-codes.js';
import { type HelloFrame, type SendFrame } from '../../protocol/frames.js';
import { compactRooms } from '../../protocol/welcome.js';
import { isWellFormed } from '../../protocol/well-formed.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import type { AuthContext } from '../../core/accounts.js';
import { isActive, toPublicUser } from '../../core/accounts.js';
import { ChatError } from '../../core/chat-error.js';
import { Connection } from '../../core/delivery/connection.js';
import { forEachLimited, type Hub } from '../../core/delivery/hub.js';
import { newId } from '../../core/ids.js';
import { topics } from '../../core/bus.js';
import type { PresenceNotifier } from '../../core/presence-notifier.js';
import { InMemoryRateLimiter } from '../../core/rate-limiter.js';
import type { Config } from '../config.js';
import { parseClientFrame } from './decode.js';
import {
  clientAddress,
  compileProxyTrust,
  originAllowed,
  parseAllowedOrigins,
  type ProxyTrust,
} from '../transport-security.js';
import type { Services } from '../services.js';
import type { Logger } from 'pino';

/** Frames above this are refused by `ws` itself with close 1009; between maxFrameBytes and this, an error frame. */
const HARD_FRAME_CAP = 1 << 20;
/** How many slices a heartbeat interval is cut into (see the constructor). */
const HEARTBEAT_SLICES = 10;
/** Pre-encoded bytes go out as text frames; one shared options object, as this runs per recipient. */
const AS_TEXT = { binary: false } as const;

interface SocketState {
  alive: boolean;
  conn?: Connection;
  auth?: AuthContext;
  helloTimer?: NodeJS.Timeout;
  helloPending: boolean;
  /** Settles when a pending hello finishes; frames pipelined behind hello wait for it. */
  helloDone?: Promise<void>;
  gone?: boolean;
  /** Which heartbeat slice pings this socket. */
  slice: number;
  /** Sends on one connection are checked and queued for storage one after another: sequenced in the order sent. */
  sends: Promise<void>;
  /** Next re-check of the session (expiry, revocation missed on the bus, account disabled). */
  recheck?: NodeJS.Timeout;
}

/** An open socket slides its session's expiry at most this often (as HTTP use does, see AccountService). */
const SESSION_TOUCH_MS = 60 * 60 * 1000;
/** setTimeout's ceiling (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Answers an upgrade request with a plain HTTP error instead of a WebSocket, then closes the TCP connection. */
function refuse(socket: Duplex, status: number, reason: string, body = reason, extraHeader?: string): void {
  socket.on('error', () => {}); // the peer may be gone already; nothing to do about it
  socket.once('finish', () => socket.destroy());
  const head = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8'];
  if (extraHeader) head.push(extraHeader);
  head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * The WebSocket transport: upgrade, hello/auth, frame decoding and validation, heartbeats, dispatch to the
 * domain. Delivery ordering lives in the Hub; this file only adapts sockets to it.
 */
export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Map<WebSocket, SocketState>();
  /** Per-connection limits are local by nature (a socket lives on one node). */
  private readonly local = new InMemoryRateLimiter();
  private readonly heartbeat: NodeJS.Timeout;
  private closing = false;
  /** Connections the server closed, by close code: how many slow consumers, revoked sessions, and so on. */
  readonly closedByServer = new Map<number, number>();

  constructor(
    private readonly config: Config,
    private readonly services: Services,
    private readonly hub: Hub,
    private readonly notifier: PresenceNotifier,
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_CAP, perMessageDeflate: false });
    // The interval is cut into slices and each socket is pinged in its own slice: pinging thousands of sockets
    // in one loop stalled delivery for ~150 ms every interval (seen in the bench). Each socket is still checked
    // once per HEARTBEAT_MS.
    this.heartbeat = setInterval(() => this.beat(), Math.max(1, Math.floor(config.heartbeatMs / HEARTBEAT_SLICES)));
    this.heartbeat.unref();
  }

  /** TRUST_PROXY and ALLOWED_ORIGINS, compiled on first use (see transport-security.ts). */
  private upgradePolicy?: { trust: ProxyTrust; origins: ReadonlySet<string> | undefined };
  /** Open sockets per client IP, for MAX_CONNECTIONS_PER_IP. */
  private readonly perIp = new Map<string, number>();
  /** Upgrades refused before the handshake, by HTTP status (403 origin not allowed, 429 per-IP cap). */
  readonly refusedUpgrades = new Map<number, number>();

  /**
   * Hooked to the HTTP server's `upgrade` event. Everything here is decided before the handshake, so a refused
   * client never gets a socket: the path, the Origin (cross-site WebSocket hijacking), the per-IP cap.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws' || this.closing) {
      return this.closing ? refuse(socket, 503, 'Service Unavailable') : refuse(socket, 404, 'Not Found');
    }
    const policy = (this.upgradePolicy ??= {
      trust: compileProxyTrust(this.config.trustProxy),
      origins: parseAllowedOrigins(this.config.allowedOrigins),
    });
    const ip = clientAddress(req, policy.trust);
    if (!originAllowed(req, policy.origins, policy.trust)) {
      const origin = typeof req.headers.origin === 'string' ? req.headers.origin.slice(0, 200) : undefined;
      this.log.info({ origin, host: req.headers.host?.slice(0, 200), ip }, 'websocket refused: origin not allowed');
      this.countRefused(403);
      return refuse(socket, 403, 'Forbidden', 'Origin not allowed');
    }
    const cap = this.config.maxConnectionsPerIp;
    if (cap > 0 && (this.perIp.get(ip) ?? 0) >= cap) {
      this.countRefused(429);
      return refuse(socket, 429, 'Too Many Requests', 'Too many connections from this address', 'Retry-After: 5');
    }
    // ws completes the handshake and calls back synchronously, so the count cannot be overtaken in between.
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
      ws.once('close', () => {
        const left = (this.perIp.get(ip) ?? 1) - 1;
        if (left > 0) this.perIp.set(ip, left);
        else this.perIp.delete(ip);
      });
      this.onConnection(ws);
    });
  }

  private countRefused(status: number): void {
    this.refusedUpgrades.set(status, (this.refusedUpgrades.get(status) ?? 0) + 1);
  }

  get size(): number {
    return this.sockets.size;
  }

  private onConnection(ws: WebSocket): void {
    const state: SocketState = {
      alive: true,
      helloPending: false,
      sends: Promise.resolve(),
      slice: Math.floor(Math.random() * HEARTBEAT_SLICES),
    };
    this.sockets.set(ws, state);
    state.helloTimer = setTimeout(() => {
      if (!state.conn) ws.close(CLOSE_CODES.AUTH_TIMEOUT.code, 'hello timeout');
    }, this.config.helloTimeoutMs);
    ws.on('pong', () => (state.alive = true));
    ws.on('message', (data, isBinary) => {
      state.alive = true;
      this.onMessage(ws, state, data, isBinary).catch((err: unknown) => {
        this.log.error({ err }, 'frame handler failed');
        this.sendError(ws, new ChatError('internal'));
      });
    });
    ws.on('error', (err) => this.log.debug({ err }, 'socket error'));
    ws.on('close', () => this.onClose(ws, state));
  }

  private onClose(ws: WebSocket, state: SocketState): void {
    if (state.gone) return;
    state.gone = true;
    clearTimeout(state.helloTimer);
    clearTimeout(state.recheck);
    this.sockets.delete(ws);
    const conn = state.conn;
    if (!conn) return;
    if (conn.closeCode !== undefined) {
      this.closedByServer.set(conn.closeCode, (this.closedByServer.get(conn.closeCode) ?? 0) + 1);
      if (conn.closeCode === CLOSE_CODES.SLOW_CONSUMER.code) {
        this.log.warn({ connId: conn.id, userId: conn.userId }, 'slow consumer disconnected');
      }
    }
    conn.closed = true;
    const rooms = this.hub.roomsOf(conn);
    this.hub.detach(conn);
    this.services.ctx.presence
      .disconnect(conn.userId, conn.id)
      .then((change) => change.changed && this.notifier.changed(conn.userId, change.status, rooms))
      .catch((err: unknown) => this.log.warn({ err }, 'presence disconnect failed'));
  }

  private sendError(ws: WebSocket, err: ChatError, extra: Record<string, string | undefined> = {}): void {
    if (ws.readyState !== ws.OPEN) return;
    const frame: Record<string, unknown> = { type: 'error', ...err.toBody() };
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) frame[k] = v;
    ws.send(JSON.stringify(frame));
  }

  /** Malformed input earns an error frame; too much of it within a minute earns close 1008. */
  private frameError(ws: WebSocket, err: ChatError, ref?: string): void {
    this.sendError(ws, err, { ref });
    const ok = this.local.takeSync(`frame-errors:${this.connKey(ws)}`, {
      burst: this.config.frameErrorsPerMinute,
      perSecond: this.config.frameErrorsPerMinute / 60,
    });
    if (!ok.ok) ws.close(CLOSE_CODES.POLICY.code, 'too many bad frames');
  }

  private readonly keys = new WeakMap<WebSocket, string>();
  private connKey(ws: WebSocket): string {
    let key = this.keys.get(ws);
    if (!key) this.keys.set(ws, (key = newId('c')));
    return key;
  }

  private async onMessage(ws: WebSocket, state: SocketState, data: RawData, isBinary: boolean): Promise<void> {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (buf.length > this.config.maxFrameBytes) {
      return this.frameError(
        ws,
        new ChatError('payload_too_large', { message: `Frames are at most ${this.config.maxFrameBytes} bytes.` }),
      );
    }
    if (isBinary) return this.frameError(ws, new ChatError('bad_json', { message: 'Send text frames of JSON.' }));
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return this.frameError(ws, new ChatError('bad_json'));
    }
    const parsed = parseClientFrame(json);
    if (!parsed.success) {
      const ref = (json as { ref?: unknown })?.ref;
      return this.frameError(
        ws,
        parsed.error,
        typeof ref === 'string' && isWellFormed(ref) ? ref.slice(0, 64) : undefined,
      );
    }
    const frame = parsed.data;
    if (frame.type === 'hello') {
      if (state.conn || state.helloPending) return this.onHello(ws, state, frame);
      state.helloDone = this.onHello(ws, state, frame);
      return state.helloDone;
    }
    if (state.helloDone && !state.conn?.attached) await state.helloDone.catch(() => {});
    const conn = state.conn;
    const auth = state.auth;
    if (!conn || !auth) {
      const err = new ChatError('unauthorized', { message: 'Send hello first.' });
      this.sendError(ws, err, { ref: frame.ref, clientMsgId: frame.type === 'send' ? frame.clientMsgId : undefined });
      return;
    }
    switch (frame.type) {
      case 'send':
        state.sends = state.sends.then(() => this.onSend(conn, auth, frame));
        return state.sends;
      case 'typing': {
        if (!conn.rooms.has(frame.roomId)) {
          return conn.send({
            type: 'error',
            ...new ChatError('not_member').toBody(),
            ref: frame.ref,
            roomId: frame.roomId,
          });
        }
        const r = this.local.takeSync(`typing:${conn.id}:${frame.roomId}`, this.services.ctx.limits.rates.typing);
        if (!r.ok) return; // typing is a hint: extra ones are dropped silently
        try {
          // Checked against the store each time: a muted member or one in a read-only room does not type.
          await this.services.messages.requirePoster(auth, frame.roomId);
        } catch (err) {
          const chat = err instanceof ChatError ? err : new ChatError('internal');
          return conn.send({ type: 'error', ...chat.toBody(), ref: frame.ref, roomId: frame.roomId });
        }
        await this.services.ctx.bus.publish(topics.room(frame.roomId), {
          kind: 'typing',
          roomId: frame.roomId,
          userId: conn.userId,
          username: conn.username,
        });
        return;
      }
      case 'presence': {
        conn.status = frame.status;
        const change = await this.services.ctx.presence.setStatus(conn.userId, conn.id, frame.status);
        if (change.changed) this.notifier.changed(conn.userId, change.status, this.hub.roomsOf(conn));
        return;
      }
      case 'view': {
        // No ack and no membership check: a room not (or not yet) joined simply has nothing to tell this socket.
        const ids = new Set(frame.roomIds);
        if (ids.size > this.config.maxViewedRooms) {
          const message = `A connection may view at most ${this.config.maxViewedRooms} rooms.`;
          return conn.send({
            type: 'error',
            ...new ChatError('validation_failed', { message }).toBody(),
            ref: frame.ref,
          });
        }
        conn.viewing = ids;
        return;
      }
      case 'ping':
        // `ref` is echoed whenever given, even empty, as in acks and errors.
        return conn.send({
          type: 'pong',
          ...(frame.ref !== undefined ? { ref: frame.ref } : {}),
          time: new Date().toISOString(),
        });
    }
  }

  private async onHello(ws: WebSocket, state: SocketState, hello: HelloFrame): Promise<void> {
    if (state.conn || state.helloPending) {
      return this.frameError(ws, new ChatError('validation_failed', { message: 'Already said hello.' }), hello.ref);
    }
    if (hello.v !== PROTOCOL_VERSION) {
      const err = new ChatError('unsupported_version', { message: `This server speaks protocol ${PROTOCOL_VERSION}.` });
      this.sendError(ws, err, { ref: hello.ref });
      return ws.close(CLOSE_CODES.UNSUPPORTED_VERSION.code, 'unsupported protocol version');
    }
    state.helloPending = true;
    try {
      await this.startSession(ws, state, hello);
    } catch (err) {
      if (err instanceof ChatError && err.code === 'unauthorized') {
        this.sendError(ws, err, { ref: hello.ref });
        return ws.close(CLOSE_CODES.UNAUTHORIZED.code, 'unauthorized');
      }
      // Storage down or a bug: say so and let the client retry (here or on another node).
      this.log.error({ err }, 'hello failed');
      this.sendError(ws, new ChatError('unavailable'), { ref: hello.ref });
      ws.close(CLOSE_CODES.INTERNAL.code, 'could not start session');
    }
  }

  /** Authenticates, registers the connection, sends `welcome`, then hands the rooms to the hub for replay. */
  private async startSession(ws: WebSocket, state: SocketState, hello: HelloFrame): Promise<void> {
    const auth = await this.services.accounts.authenticate(hello.token);
    if (ws.readyState !== ws.OPEN) return;
    if (this.hub.connectionsOf(auth.user.id) >= this.config.maxConnectionsPerUser) {
      this.sendError(ws, new ChatError('too_many_connections', { retryAfterMs: 5000 }), { ref: hello.ref });
      return ws.close(CLOSE_CODES.TOO_MANY_CONNECTIONS.code, 'too many connections');
    }
    const connId = newId('c');
    const transport = {
      send: (data: string | Uint8Array) => {
        if (ws.readyState === ws.OPEN) ws.send(data, AS_TEXT);
      },
      close: (code: number, reason: string, force?: boolean) => {
        ws.close(code, reason);
        // The peer is not reading (or is gone), so the closing handshake would never finish: cut it shortly.
        if (force) setTimeout(() => ws.terminate(), 1000).unref();
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
    };
    const conn = new Connection(
      connId,
      auth.user.id,
      auth.user.username,
      auth.session.id,
      transport,
      this.config.maxOutboundBytes,
      this.hub.writes,
    );
    // Register before reading rooms, so a room joined meanwhile reaches this connection (hub.attach applies it).
    state.conn = conn;
    state.auth = auth;
    this.hub.register(conn);
    const ctx = this.services.ctx;
    const [rooms, change] = await Promise.all([
      ctx.store.listRoomsOf(auth.user.id),
      ctx.presence.connect(auth.user.id, connId),
    ]);
    const online = await ctx.presence.onlineCount();
    if (ws.readyState !== ws.OPEN || conn.closed) return; // onClose has cleaned up (and will see presence below)
    clearTimeout(state.helloTimer);
    conn.send({
      type: 'welcome',
      v: PROTOCOL_VERSION,
      connId,
      sessionId: auth.session.id,
      user: toPublicUser(auth.user),
      // Kept small for a user in many rooms: no member lists, DM peers by id with one profile each.
      ...compactRooms(rooms),
      heartbeatMs: this.config.heartbeatMs,
      limits: { maxFrameBytes: this.config.maxFrameBytes, maxMessageChars: this.config.maxMessageChars },
      online,
    });
    this.hub.attach(conn, rooms, hello.resume ?? {});
    if (change.changed) this.notifier.changed(auth.user.id, change.status, this.hub.roomsOf(conn));
    this.scheduleRecheck(state, conn);
  }

  /**
   * Revocation reaches sockets through the bus at once; this timer is the safety net and the clock: at the
   * session's expiry (or every SESSION_RECHECK_MS, whichever is sooner) the socket re-reads its session and
   * account, picks up role changes, and closes if either ended.
   */
  private scheduleRecheck(state: SocketState, conn: Connection): void {
    const auth = state.auth;
    if (!auth || conn.closed) return;
    const now = this.services.ctx.now();
    const wait = Math.max(0, Math.min(auth.session.expiresAt - now, this.config.sessionRecheckMs, MAX_TIMER_MS));
    clearTimeout(state.recheck);
    state.recheck = setTimeout(() => {
      this.recheck(state, conn).catch((err: unknown) => {
        // Storage unreachable: keep the socket (revocation still arrives over the bus) and try again later.
        this.log.warn({ err, connId: conn.id }, 'session re-check failed');
        this.scheduleRecheck(state, conn);
      });
    }, wait);
    state.recheck.unref();
  }

  /**
   * Re-checks every open socket's session now, `concurrency` at a time: after a bus outage, whose revocations
   * (logout, ban, deactivation) were lost, instead of waiting up to SESSION_RECHECK_MS.
   */
  async recheckAll(concurrency = 8): Promise<void> {
    const open = [...this.sockets.values()].filter((s) => s.auth && s.conn && !s.conn.closed);
    await forEachLimited(open, concurrency, async (state) => {
      const conn = state.conn!;
      await this.recheck(state, conn).catch((err: unknown) => {
        this.log.warn({ err, connId: conn.id }, 'session re-check failed');
        this.scheduleRecheck(state, conn);
      });
    });
  }

  private async recheck(state: SocketState, conn: Connection): Promise<void> {
    const auth = state.auth;
    if (!auth || conn.closed) return;
    const found = await this.services.ctx.store.getSessionByTokenHash(auth.session.tokenHash);
    const now = this.services.ctx.now();
    if (conn.closed) return;
    if (!found || found.session.id !== auth.session.id) {
      return conn.close(CLOSE_CODES.SESSION_REVOKED.code, 'session revoked');
    }
    if (!isActive(found.user, now)) return conn.close(CLOSE_CODES.ACCOUNT_DISABLED.code, 'account disabled');
    if (found.session.expiresAt <= now) return conn.close(CLOSE_CODES.SESSION_EXPIRED.code, 'session expired');
    // An open socket is use: slide the expiry as an HTTP request would (written at most hourly per session).
    if (now - found.session.lastUsedAt > SESSION_TOUCH_MS) {
      const expiresAt = now + this.services.ctx.limits.sessionTtlMs;
      await this.services.ctx.store.touchSession(found.session.id, now, expiresAt);
      found.session.lastUsedAt = now;
      found.session.expiresAt = expiresAt;
    }
    // Fresh user record (server role, name) and session (a sliding expiry extended by HTTP use).
    state.auth = { user: found.user, session: found.session };
    this.scheduleRecheck(state, conn);
  }

  /**
   * Checks and queues one send; resolves when it is queued, so the connection's next send can start (see
   * MessageService.submit). The ack or error follows when the store has answered.
   */
  private async onSend(conn: Connection, auth: AuthContext, frame: SendFrame): Promise<void> {
    const fail = (err: unknown) => {
      const chat = err instanceof ChatError ? err : new ChatError('internal');
      if (!(err instanceof ChatError)) this.log.error({ err }, 'send failed');
      conn.send({
        type: 'error',
        ...chat.toBody(),
        ref: frame.ref,
        clientMsgId: frame.clientMsgId,
        roomId: frame.roomId,
      });
    };
    let stored;
    try {
      ({ stored } = await this.services.messages.submit(auth, frame));
    } catch (err) {
      return fail(err);
    }
    stored.then(({ event, duplicate }) => {
      conn.send({
        type: 'ack',
        ...(frame.ref !== undefined ? { ref: frame.ref } : {}),
        clientMsgId: frame.clientMsgId,
        roomId: event.roomId,
        id: event.id,
        seq: event.seq,
        createdAt: event.createdAt,
        duplicate,
      });
    }, fail);
  }

  /** Pings every socket; one that did not answer the previous ping is dropped. */
  private slice = 0;

  private beat(): void {
    const slice = this.slice;
    this.slice = (this.slice + 1) % HEARTBEAT_SLICES;
    for (const [ws, state] of this.sockets) {
      if (state.slice !== slice) continue;
      if (!state.alive) {
        // The peer is gone or stuck: say why, then drop it without waiting for a closing handshake.
        if (state.conn) state.conn.close(CLOSE_CODES.HEARTBEAT_TIMEOUT.code, 'heartbeat timeout', true);
        else ws.terminate();
        this.onClose(ws, state);
        continue;
      }
      state.alive = false;
      ws.ping();
    }
  }

  /** Graceful shutdown: refuse new upgrades, ask every client to reconnect elsewhere (1001), wait, cut the rest. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    this.hub.closeAll(CLOSE_CODES.GOING_AWAY.code, 'server shutting down');
    for (const ws of this.sockets.keys()) ws.close(CLOSE_CODES.GOING_AWAY.code, 'server shutting down');
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of this.sockets.keys()) ws.terminate();
    this.wss.close();
    await this.local.close();
  }
}

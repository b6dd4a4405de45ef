import { CLOSE_CODES } from '../../protocol/close-codes.js';
import type { HelloFrame } from '../../protocol/frames.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { compactRooms } from '../../protocol/welcome.js';
import { toPublicUser, type AuthContext } from '../accounts.js';
import { ChatError } from '../chat-error.js';
import { Connection } from '../delivery/connection.js';
import { newId } from '../ids.js';
import { isOrdered, runCommand, type CommandFrame } from './commands.js';
import { decodeFrame } from './decode.js';
import type { SessionHost } from './sessions.js';
import type { SessionTransport } from './transport.js';

/** setTimeout's ceiling (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why a re-read session ends its connection, and with which close code. */
const ENDED = {
  revoked: [CLOSE_CODES.SESSION_REVOKED.code, 'session revoked'],
  disabled: [CLOSE_CODES.ACCOUNT_DISABLED.code, 'account disabled'],
  expired: [CLOSE_CODES.SESSION_EXPIRED.code, 'session expired'],
} as const;

/**
 * One client's session over one transport, from the first frame to the close: hello and authentication, command
 * dispatch (the command table in `commands.ts`), the session re-check and the heartbeat verdict. It knows nothing
 * of the transport beyond `SessionTransport`; delivery of room traffic is the Hub's, through the `Connection`
 * this session registers after hello.
 */
export class ClientSession {
  /** Set by any frame or pong; a heartbeat that finds it still clear from the previous one drops the session. */
  private isAlive = true;
  private conn: Connection | undefined;
  private auth: AuthContext | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private helloPending = false;
  /** Settles when a pending hello finishes; frames pipelined behind hello wait for it. */
  private helloDone: Promise<void> | undefined;
  private gone = false;
  /** Ordered commands (sends) run one after another: their effects are sequenced in the order sent. */
  private ordered: Promise<void> = Promise.resolve();
  /** Next re-check of the session (expiry, revocation missed on the bus, account disabled). */
  private recheckTimer: NodeJS.Timeout | undefined;
  private errorKey: string | undefined;

  constructor(
    private readonly transport: SessionTransport,
    private readonly host: SessionHost,
    /** Which heartbeat slice checks this session. */
    readonly slice: number,
  ) {
    this.helloTimer = setTimeout(() => {
      if (!this.conn) transport.close(CLOSE_CODES.AUTH_TIMEOUT.code, 'hello timeout');
    }, host.limits.helloTimeoutMs);
  }

  /** Authenticated and registered with the Hub, and not closed. */
  get active(): boolean {
    return this.auth !== undefined && this.conn !== undefined && !this.conn.closed;
  }

  /** The transport heard from the peer (a pong, or any frame). */
  alive(): void {
    this.isAlive = true;
  }

  /** One inbound frame (its bytes as received). Never throws: failures answer with an error frame. */
  receive(data: Uint8Array, binary: boolean): void {
    this.isAlive = true;
    this.handle(data, binary).catch((err: unknown) => {
      this.host.log.error({ err }, 'frame handler failed');
      this.sendError(new ChatError('internal'));
    });
  }

  /** One heartbeat: drops a session that showed no sign of life since the previous one, else pings it. */
  heartbeat(): void {
    if (!this.isAlive) {
      // The peer is gone or stuck: say why, then drop it without waiting for a closing handshake.
      if (this.conn) this.conn.close(CLOSE_CODES.HEARTBEAT_TIMEOUT.code, 'heartbeat timeout', true);
      else this.transport.terminate();
      this.ended();
      return;
    }
    this.isAlive = false;
    this.transport.ping();
  }

  /** Closes the transport (server shutdown); `force` drops it at once. The transport then reports `ended`. */
  disconnect(code: number, reason: string, force = false): void {
    if (force) this.transport.terminate();
    else this.transport.close(code, reason);
  }

  /** The transport closed (or the heartbeat dropped it): leave the Hub and presence. Idempotent. */
  ended(): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.helloTimer);
    clearTimeout(this.recheckTimer);
    this.host.forget(this);
    const conn = this.conn;
    if (!conn) return;
    if (conn.closeCode !== undefined) {
      this.host.countClose(conn.closeCode);
      if (conn.closeCode === CLOSE_CODES.SLOW_CONSUMER.code) {
        this.host.log.warn({ connId: conn.id, userId: conn.userId }, 'slow consumer disconnected');
      }
    }
    conn.closed = true;
    const { hub, presence } = this.host.deps;
    const rooms = hub.roomsOf(conn);
    hub.detach(conn);
    presence
      .disconnect(conn.userId, conn.id, rooms)
      .catch((err: unknown) => this.host.log.warn({ err }, 'presence disconnect failed'));
  }

  /**
   * Re-reads the session now. Revocation reaches connections through the bus at once; this is the safety net and
   * the clock: at the session's expiry (or every SESSION_RECHECK_MS, whichever is sooner, and after a bus outage)
   * the session picks up role changes, and closes if the session or account ended.
   */
  async recheck(): Promise<void> {
    try {
      await this.recheckOnce();
    } catch (err) {
      // Storage unreachable: keep the connection (revocation still arrives over the bus) and try again later.
      this.host.log.warn({ err, connId: this.conn?.id }, 'session re-check failed');
      this.scheduleRecheck();
    }
  }

  private async handle(data: Uint8Array, binary: boolean): Promise<void> {
    const decoded = decodeFrame(data, binary, this.host.limits.maxFrameBytes);
    if ('error' in decoded) return this.frameError(decoded.error, decoded.ref);
    const frame = decoded.frame;
    if (frame.type === 'hello') {
      if (this.conn || this.helloPending) return this.onHello(frame);
      this.helloDone = this.onHello(frame);
      return this.helloDone;
    }
    if (this.helloDone && !this.conn?.attached) await this.helloDone.catch(() => {});
    const conn = this.conn;
    const auth = this.auth;
    if (!conn || !auth) {
      const err = new ChatError('unauthorized', { message: 'Send hello first.' });
      this.sendError(err, { ref: frame.ref, clientMsgId: frame.type === 'send' ? frame.clientMsgId : undefined });
      return;
    }
    return this.dispatch(conn, auth, frame);
  }

  /** Every command of an authenticated session, through the command table; ordered ones one after another. */
  private dispatch(conn: Connection, auth: AuthContext, frame: CommandFrame): Promise<void> | void {
    const cx = { conn, auth, host: this.host };
    if (!isOrdered(frame)) return runCommand(cx, frame);
    this.ordered = this.ordered.then(() => runCommand(cx, frame));
    return this.ordered;
  }

  /** An error frame written at once (not queued behind delivery), as before hello there is no Connection. */
  private sendError(err: ChatError, extra: Record<string, string | undefined> = {}): void {
    if (!this.transport.open) return;
    const frame: Record<string, unknown> = { type: 'error', ...err.toBody() };
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) frame[k] = v;
    this.transport.send(JSON.stringify(frame));
  }

  /** Malformed input earns an error frame; too much of it within a minute earns close 1008. */
  private frameError(err: ChatError, ref?: string): void {
    this.sendError(err, { ref });
    const perMinute = this.host.limits.frameErrorsPerMinute;
    const ok = this.host.local.takeSync(`frame-errors:${(this.errorKey ??= newId('c'))}`, {
      burst: perMinute,
      perSecond: perMinute / 60,
    });
    if (!ok.ok) this.transport.close(CLOSE_CODES.POLICY.code, 'too many bad frames');
  }

  private async onHello(hello: HelloFrame): Promise<void> {
    if (this.conn || this.helloPending) {
      return this.frameError(new ChatError('validation_failed', { message: 'Already said hello.' }), hello.ref);
    }
    if (hello.v !== PROTOCOL_VERSION) {
      const err = new ChatError('unsupported_version', { message: `This server speaks protocol ${PROTOCOL_VERSION}.` });
      this.sendError(err, { ref: hello.ref });
      return this.transport.close(CLOSE_CODES.UNSUPPORTED_VERSION.code, 'unsupported protocol version');
    }
    this.helloPending = true;
    try {
      await this.start(hello);
    } catch (err) {
      if (err instanceof ChatError && err.code === 'unauthorized') {
        this.sendError(err, { ref: hello.ref });
        return this.transport.close(CLOSE_CODES.UNAUTHORIZED.code, 'unauthorized');
      }
      // Storage down or a bug: say so and let the client retry (here or on another node).
      this.host.log.error({ err }, 'hello failed');
      this.sendError(new ChatError('unavailable'), { ref: hello.ref });
      this.transport.close(CLOSE_CODES.INTERNAL.code, 'could not start session');
    }
  }

  /** Authenticates, registers the connection, sends `welcome`, then hands the rooms to the hub for replay. */
  private async start(hello: HelloFrame): Promise<void> {
    const { accounts, rooms: roomService, presence, hub } = this.host.deps;
    const limits = this.host.limits;
    const auth = await accounts.authenticate(hello.token);
    if (!this.transport.open) return;
    // A socket delivers the bot's rooms' events: a bot token without the "read" scope may not open one (issue 16).
    if (auth.session.scopes != null && !auth.session.scopes.includes('read')) {
      this.sendError(new ChatError('forbidden', { message: 'This bot token lacks the "read" scope.' }), {
        ref: hello.ref,
      });
      return this.transport.close(CLOSE_CODES.UNAUTHORIZED.code, 'bot token lacks the read scope');
    }
    if (hub.connectionsOf(auth.user.id) >= limits.maxConnectionsPerUser) {
      this.sendError(new ChatError('too_many_connections', { retryAfterMs: 5000 }), { ref: hello.ref });
      return this.transport.close(CLOSE_CODES.TOO_MANY_CONNECTIONS.code, 'too many connections');
    }
    const connId = newId('c');
    const conn = new Connection(
      connId,
      auth.user.id,
      auth.user.username,
      auth.session.id,
      this.transport,
      limits.maxOutboundBytes,
      hub.writes,
    );
    // Register before reading rooms, so a room joined meanwhile reaches this connection (hub.attach applies it).
    this.conn = conn;
    this.auth = auth;
    hub.register(conn);
    const [rooms, change] = await Promise.all([roomService.listMine(auth), presence.connect(auth.user.id, connId)]);
    const online = await presence.onlineCount();
    if (!this.transport.open || conn.closed) return; // ended() has cleaned up (and will see presence below)
    clearTimeout(this.helloTimer);
    conn.send({
      type: 'welcome',
      v: PROTOCOL_VERSION,
      connId,
      sessionId: auth.session.id,
      user: toPublicUser(auth.user),
      // Kept small for a user in many rooms: no member lists, DM peers by id with one profile each.
      ...compactRooms(rooms),
      heartbeatMs: limits.heartbeatMs,
      limits: {
        maxFrameBytes: limits.maxFrameBytes,
        maxMessageChars: limits.maxMessageChars,
        maxUploadBytes: limits.maxUploadBytes,
        maxAttachmentsPerMessage: limits.maxAttachmentsPerMessage,
      },
      features: limits.features,
      online,
    });
    hub.attach(conn, rooms, hello.resume ?? {});
    if (change.changed) presence.changed(auth.user.id, change.status, hub.roomsOf(conn));
    this.scheduleRecheck();
  }

  private scheduleRecheck(): void {
    const auth = this.auth;
    if (!auth || !this.conn || this.conn.closed) return;
    const left = auth.session.expiresAt - this.host.deps.now();
    const wait = Math.max(0, Math.min(left, this.host.limits.sessionRecheckMs, MAX_TIMER_MS));
    clearTimeout(this.recheckTimer);
    this.recheckTimer = setTimeout(() => void this.recheck(), wait);
    this.recheckTimer.unref();
  }

  private async recheckOnce(): Promise<void> {
    const auth = this.auth;
    const conn = this.conn;
    if (!auth || !conn || conn.closed) return;
    const check = await this.host.deps.accounts.recheck(auth.session);
    if (conn.closed) return;
    if (check.ended) {
      const [code, reason] = ENDED[check.ended];
      return conn.close(code, reason);
    }
    // Fresh user record (server role, name) and session (a sliding expiry extended by HTTP use).
    this.auth = check.auth;
    this.scheduleRecheck();
  }
}

import { CLOSE_CODES } from '../../protocol/close-codes.js';
import type { AccountService } from '../accounts.js';
import { forEachLimited, type Hub } from '../delivery/hub.js';
import type { MessageService } from '../messages.js';
import type { PresenceNotifier } from '../presence-notifier.js';
import { InMemoryRateLimiter, type RateRule } from '../rate-limiter.js';
import type { RoomService } from '../rooms.js';
import { ClientSession } from './client-session.js';
import type { SessionTransport } from './transport.js';

/** How many slices a heartbeat interval is cut into (see the constructor). */
const HEARTBEAT_SLICES = 10;

/** The session rules, from config (HELLO_TIMEOUT_MS, HEARTBEAT_MS, MAX_FRAME_BYTES, …). */
export interface SessionLimits {
  helloTimeoutMs: number;
  heartbeatMs: number;
  sessionRecheckMs: number;
  maxFrameBytes: number;
  maxMessageChars: number;
  /** Told to clients in `welcome` (files are uploaded over HTTP, not through a session). */
  maxUploadBytes: number;
  maxAttachmentsPerMessage: number;
  /** Told to clients in `welcome.features`. */
  features: { assistant: boolean };
  maxOutboundBytes: number;
  maxConnectionsPerUser: number;
  maxViewedRooms: number;
  frameErrorsPerMinute: number;
  /** Typing hints per connection and room; extra ones are dropped. */
  typing: RateRule;
}

/** What sessions act through: domain services and delivery, never the ports themselves. */
export interface SessionDeps {
  accounts: Pick<AccountService, 'authenticate' | 'recheck'>;
  rooms: Pick<RoomService, 'listMine'>;
  messages: Pick<MessageService, 'submit' | 'typing'>;
  presence: Pick<PresenceNotifier, 'connect' | 'onlineCount' | 'setStatus' | 'disconnect' | 'changed'>;
  hub: Hub;
  now: () => number;
}

export interface SessionLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a ClientSession uses of the registry that opened it. */
export interface SessionHost {
  readonly deps: SessionDeps;
  readonly limits: SessionLimits;
  readonly log: SessionLog;
  /** Per-connection limits (typing, bad frames) are local by nature: a connection lives on one node. */
  readonly local: InMemoryRateLimiter;
  forget(session: ClientSession): void;
  countClose(code: number): void;
}

/**
 * This node's client sessions, whatever transport carries them: opens one per connection, runs the heartbeat,
 * re-checks every session after a bus outage, and closes them all at shutdown.
 */
export class Sessions implements SessionHost {
  private readonly sessions = new Set<ClientSession>();
  readonly local = new InMemoryRateLimiter();
  private readonly heartbeat: NodeJS.Timeout;
  private slice = 0;
  /** Connections the server closed, by close code: how many slow consumers, revoked sessions, and so on. */
  readonly closedByServer = new Map<number, number>();

  constructor(
    readonly deps: SessionDeps,
    readonly limits: SessionLimits,
    readonly log: SessionLog,
  ) {
    // The interval is cut into slices and each session is pinged in its own slice: pinging thousands of sockets
    // in one loop stalled delivery for ~150 ms every interval (seen in the bench). Each session is still checked
    // once per HEARTBEAT_MS.
    this.heartbeat = setInterval(() => this.beat(), Math.max(1, Math.floor(limits.heartbeatMs / HEARTBEAT_SLICES)));
    this.heartbeat.unref();
  }

  /** Open sessions (authenticated or still waiting for hello). */
  get size(): number {
    return this.sessions.size;
  }

  /** A new connection: its session, which waits for `hello`. The transport reports frames and its end to it. */
  accept(transport: SessionTransport): ClientSession {
    const session = new ClientSession(transport, this, Math.floor(Math.random() * HEARTBEAT_SLICES));
    this.sessions.add(session);
    return session;
  }

  forget(session: ClientSession): void {
    this.sessions.delete(session);
  }

  countClose(code: number): void {
    this.closedByServer.set(code, (this.closedByServer.get(code) ?? 0) + 1);
  }

  /**
   * Re-checks every open session now, `concurrency` at a time: after a bus outage, whose revocations (logout,
   * ban, deactivation) were lost, instead of waiting up to SESSION_RECHECK_MS.
   */
  async recheckAll(concurrency = 8): Promise<void> {
    const open = [...this.sessions].filter((s) => s.active);
    await forEachLimited(open, concurrency, (s) => s.recheck());
  }

  /** Shutdown: ask every client to reconnect elsewhere (1001), wait up to `graceMs`, then cut the rest. */
  async close(graceMs: number): Promise<void> {
    clearInterval(this.heartbeat);
    this.deps.hub.closeAll(CLOSE_CODES.GOING_AWAY.code, 'server shutting down');
    for (const s of this.sessions) s.disconnect(CLOSE_CODES.GOING_AWAY.code, 'server shutting down');
    const deadline = Date.now() + graceMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sessions) s.disconnect(CLOSE_CODES.GOING_AWAY.code, 'server shutting down', true);
    await this.local.close();
  }

  private beat(): void {
    const slice = this.slice;
    this.slice = (this.slice + 1) % HEARTBEAT_SLICES;
    for (const session of this.sessions) if (session.slice === slice) session.heartbeat();
  }
}

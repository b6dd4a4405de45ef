import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Sessions } from '../../core/session/sessions.js';
import type { SessionTransport } from '../../core/session/transport.js';
import type { Config } from '../config.js';
import {
  clientAddress,
  compileProxyTrust,
  originAllowed,
  parseAllowedOrigins,
  type ProxyTrust,
} from '../transport-security.js';
import type { Logger } from 'pino';

/** Frames above this are refused by `ws` itself with close 1009; between maxFrameBytes and this, an error frame. */
const HARD_FRAME_CAP = 1 << 20;
/** Pre-encoded bytes go out as text frames; one shared options object, as this runs per recipient. */
const AS_TEXT = { binary: false } as const;

/** Answers an upgrade request with a plain HTTP error instead of a WebSocket, then closes the TCP connection. */
function refuse(socket: Duplex, status: number, reason: string, body = reason, extraHeader?: string): void {
  socket.on('error', () => {}); // the peer may be gone already; nothing to do about it
  socket.once('finish', () => socket.destroy());
  const head = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8'];
  if (extraHeader) head.push(extraHeader);
  head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/** A `ws` socket as a session transport: the only place that knows `ws`'s API. */
function wsTransport(ws: WebSocket): SessionTransport {
  return {
    send(data: string | Uint8Array) {
      if (ws.readyState === ws.OPEN) ws.send(data, AS_TEXT);
    },
    close(code: number, reason: string, force?: boolean) {
      ws.close(code, reason);
      // The peer is not reading (or is gone), so the closing handshake would never finish: cut it shortly.
      if (force) setTimeout(() => ws.terminate(), 1000).unref();
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    get open() {
      return ws.readyState === ws.OPEN;
    },
    ping() {
      ws.ping();
    },
    terminate() {
      ws.terminate();
    },
  };
}

/**
 * The WebSocket transport: upgrade policy (path, Origin, per-IP caps), then frames in and out. Everything a
 * client says is handled by its ClientSession (src/core/session/), which this file only feeds.
 */
export class Gateway {
  private readonly wss: WebSocketServer;
  private closing = false;

  constructor(
    private readonly config: Config,
    private readonly sessions: Sessions,
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_CAP, perMessageDeflate: false });
  }

  /** Connections the server closed, by close code: how many slow consumers, revoked sessions, and so on. */
  get closedByServer(): ReadonlyMap<number, number> {
    return this.sessions.closedByServer;
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

  /** Open sockets (authenticated or still waiting for hello). */
  get size(): number {
    return this.sessions.size;
  }

  private onConnection(ws: WebSocket): void {
    const session = this.sessions.accept(wsTransport(ws));
    ws.on('pong', () => session.alive());
    ws.on('message', (data, isBinary) => session.receive(toBytes(data), isBinary));
    ws.on('error', (err) => this.log.debug({ err }, 'socket error'));
    ws.on('close', () => session.ended());
  }

  /** Graceful shutdown: refuse new upgrades, ask every client to reconnect elsewhere (1001), wait, cut the rest. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    await this.sessions.close(graceMs);
    this.wss.close();
  }
}

function toBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

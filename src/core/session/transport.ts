import type { Transport } from '../delivery/transport.js';

/**
 * What a client session needs from its connection, whatever carries it (a WebSocket, a TCP line protocol, an IRC
 * gateway). The delivery part (`send`, `close`, `bufferedAmount`) is what the Hub's Connection writes through; the
 * rest lets the session run its heartbeat. The transport reports inbound frames, liveness and its end to the
 * session (`ClientSession.receive`, `alive`, `ended`).
 */
export interface SessionTransport extends Transport {
  /** False once the connection is closing or closed: nothing more can be sent. */
  readonly open: boolean;
  /** Asks the peer for a sign of life (a WebSocket ping); any answer or frame is reported with `alive()`. */
  ping(): void;
  /** Drops the connection at once, without a closing handshake. */
  terminate(): void;
}

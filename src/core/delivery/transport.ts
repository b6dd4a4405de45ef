/**
 * What the delivery layer needs from a client connection. The WebSocket gateway adapts `ws` to this; the
 * domain never imports `ws`.
 */
export interface Transport {
  /**
   * Queues one text message (bytes are UTF-8 text, pre-encoded so one encoding serves many recipients).
   * Never throws; sending on a closed transport is a no-op.
   */
  send(data: string | Uint8Array): void;
  /** Closes with a code from CLOSE_CODES; `force` drops the socket without waiting for the peer. */
  close(code: number, reason: string, force?: boolean): void;
  /** Bytes accepted by `send` and not yet handed to the kernel. */
  readonly bufferedAmount: number;
}

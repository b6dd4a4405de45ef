import { CLOSE_CODES } from '../../protocol/close-codes.js';
import type { ServerFrame } from '../../protocol/frames.js';
import type { MyRoom } from '../../protocol/model.js';
import type { Transport } from './transport.js';

/**
 * Where a connection stands in one room's sequence. `seq` is the last event delivered to it; events are
 * delivered strictly in order, so everything up to `seq` has been sent and nothing after it.
 */
export interface RoomCursor {
  seq: number;
  /** A catch-up read from the store is running; live events only mark the cursor dirty meanwhile. */
  syncing: boolean;
  /** A live event arrived during the sync: read again before going live. */
  dirty: boolean;
  /** Seq of the join that began the current membership; events before it belong to an earlier membership. */
  joinedSeq: number;
}

/** One authenticated client connection. */
export class Connection {
  readonly rooms = new Map<string, RoomCursor>();
  /** False between register and attach (while `welcome` is being prepared): room additions wait. */
  attached = false;
  /** Rooms added between register and attach, applied at attach. */
  readonly pendingAdded: { room: MyRoom; fromSeq: number }[] = [];
  closed = false;
  /** The code this side closed with, if it did (for metrics and logs). */
  closeCode: number | undefined;
  status: 'online' | 'away' = 'online';

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly username: string,
    readonly sessionId: string,
    private readonly transport: Transport,
    private readonly maxOutboundBytes: number,
  ) {}

  get bufferedAmount(): number {
    return this.transport.bufferedAmount;
  }

  /** Sends a pre-serialized frame. A peer too slow to drain its buffer is cut off instead of growing memory. */
  sendRaw(data: string | Uint8Array): void {
    if (this.closed) return;
    this.transport.send(data);
    if (this.transport.bufferedAmount > this.maxOutboundBytes) {
      this.close(CLOSE_CODES.SLOW_CONSUMER.code, 'slow consumer', true);
    }
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  close(code: number, reason: string, force = false): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.transport.close(code, reason, force);
  }
}

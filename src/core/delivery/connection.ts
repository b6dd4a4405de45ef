import { CLOSE_CODES } from '../../protocol/close-codes.js';
import type { ServerFrame } from '../../protocol/frames.js';
import type { MyRoom } from '../../protocol/model.js';
import type { Transport } from './transport.js';
import { joinFrames, type Flushable, type WriteScheduler } from './write-scheduler.js';

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
  /**
   * The user joined again while this membership's end (its `member.left`) was still on its way: once that is
   * delivered, the room is added back from here.
   */
  rejoin?: { room: MyRoom; fromSeq: number };
}

/** One authenticated client connection. Output is queued and written once per flush (see WriteScheduler). */
export class Connection implements Flushable {
  readonly rooms = new Map<string, RoomCursor>();
  /** False between register and attach (while `welcome` is being prepared): room additions wait. */
  attached = false;
  /** Rooms added between register and attach, applied at attach. */
  readonly pendingAdded: { room: MyRoom; fromSeq: number }[] = [];
  closed = false;
  /** The code this side closed with, if it did (for metrics and logs). */
  closeCode: number | undefined;
  status: 'online' | 'away' = 'online';
  /** Rooms the client shows (its `view` frame): in big rooms only these hear who came and went. */
  viewing: ReadonlySet<string> = new Set();
  private readonly outbox: (string | Uint8Array)[] = [];

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly username: string,
    readonly sessionId: string,
    private readonly transport: Transport,
    private readonly maxOutboundBytes: number,
    private readonly writes: WriteScheduler,
  ) {}

  get bufferedAmount(): number {
    return this.transport.bufferedAmount;
  }

  /** Queues a pre-serialized frame (or array of frames) for the next flush. */
  sendRaw(data: string | Uint8Array): void {
    if (this.closed) return;
    if (this.outbox.push(data) === 1) this.writes.markDirty(this);
  }

  /** Writes what is queued as one message. A peer too slow to drain its buffer is cut off instead of growing memory. */
  flush(): void {
    const items = this.outbox;
    if (items.length === 0 || this.closed) return;
    const data = items.length === 1 ? items[0]! : joinFrames(items);
    items.length = 0;
    this.transport.send(data);
    if (this.transport.bufferedAmount > this.maxOutboundBytes) {
      this.close(CLOSE_CODES.SLOW_CONSUMER.code, 'slow consumer', true);
    }
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /** Closes after writing what is queued (a `room.removed`, an error), unless `force`d. */
  close(code: number, reason: string, force = false): void {
    if (this.closed) return;
    if (!force) this.flush();
    if (this.closed) return; // the flush found a slow consumer and closed it
    this.outbox.length = 0;
    this.closed = true;
    this.closeCode = code;
    this.transport.close(code, reason, force);
  }
}

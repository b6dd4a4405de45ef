import { performance } from 'node:perf_hooks';

/** Something with queued output to write once per flush (a Connection). */
export interface Flushable {
  flush(): void;
}

export interface WriteSchedulerOptions {
  /**
   * When the event loop is busy, flushes are spaced this far apart (ms), so each recipient gets more frames per
   * write; 0 always flushes at the end of the turn.
   */
  busyWindowMs: number;
  /** Event-loop utilisation (0–1) above which the loop counts as busy; it stops counting as busy 10 points below. */
  busyUtilization: number;
  /** Called with what a producer threw (logged by the server); the flush goes on. */
  onError?: (err: unknown) => void;
  /**
   * Connections written per event-loop turn (default FLUSH_SLICE); the rest follow on the next turns, so one
   * flush to thousands of sockets does not hold off reading for its whole length.
   */
  sliceSize?: number;
}

/** Default connections written per turn: a few ms of writes at ~10 µs each. */
export const FLUSH_SLICE = 256;

/** Once busy, the loop counts as busy until its utilisation falls this far below the threshold (no flapping). */
const HYSTERESIS = 0.1;

/** How often the event-loop utilisation is re-measured (ms). */
const SAMPLE_MS = 100;

/**
 * Decides when queued output is written. Everything sent to one connection between two flushes leaves as one
 * WebSocket message (a JSON array when there is more than one frame), because on loopback and LANs the cost of
 * a delivery is the write syscall, not the bytes. An idle server flushes at the end of the current event-loop
 * turn (`setImmediate`), adding no delay; a busy one (event-loop utilisation above `busyUtilization`) flushes
 * every `busyWindowMs`, trading that much latency for fewer writes when writes are what it is short of. The
 * hub's per-room queues are drained first (`addProducer`), so a sender's ack and its own event share a write.
 */
export class WriteScheduler {
  private readonly dirty = new Set<Flushable>();
  private readonly producers: (() => void)[] = [];
  private readonly afterWrites: (() => void)[] = [];
  private scheduled = false;
  private busy = false;
  private sampledAt = performance.now();
  private elu = performance.eventLoopUtilization();
  /** Flushes so far, and how many of them waited for the busy window (for metrics and tests). */
  readonly stats = { flushes: 0, windowed: 0 };
  private readonly sliceSize: number;

  constructor(private readonly opts: WriteSchedulerOptions) {
    this.sliceSize = opts.sliceSize ?? FLUSH_SLICE;
  }

  /** `fn` runs at the start of every flush, before any connection is written. */
  addProducer(fn: () => void): void {
    this.producers.push(fn);
  }

  /** `fn` runs at the end of every flush, right after this turn's connections were written (for measurements). */
  addAfterWrite(fn: () => void): void {
    this.afterWrites.push(fn);
  }

  /** Asks for a flush (a producer has something queued). */
  request(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.opts.busyWindowMs > 0 && this.isBusy()) {
      this.stats.windowed++;
      setTimeout(this.run, this.opts.busyWindowMs);
    } else {
      setImmediate(this.run);
    }
  }

  /** `target` has output queued: write it at the next flush. */
  markDirty(target: Flushable): void {
    this.dirty.add(target);
    this.request();
  }

  /** Re-measured at most every SAMPLE_MS, with hysteresis so the window does not flap at the threshold. */
  private isBusy(): boolean {
    const now = performance.now();
    if (now - this.sampledAt >= SAMPLE_MS) {
      const { utilization } = performance.eventLoopUtilization(this.elu);
      this.elu = performance.eventLoopUtilization();
      this.sampledAt = now;
      const threshold = this.busy ? this.opts.busyUtilization - HYSTERESIS : this.opts.busyUtilization;
      this.busy = utilization > threshold;
    }
    return this.busy;
  }

  private readonly run = (): void => {
    this.stats.flushes++;
    for (const produce of this.producers) {
      try {
        produce();
      } catch (err) {
        // A bug in one producer must not silence every connection: report it and write what is queued.
        this.opts.onError?.(err);
      }
    }
    // Cleared after the producers: what they queue is written below, not in another flush.
    this.scheduled = false;
    // A flush may close a slow consumer, which must not disturb this loop: take a slice out first.
    const slice: Flushable[] = [];
    for (const t of this.dirty) {
      if (slice.length === this.sliceSize) break;
      this.dirty.delete(t); // safe while iterating a Set: entries not yet visited are unaffected
      slice.push(t);
    }
    // The rest go out on the next turn, after the loop has read what arrived meanwhile; no window for them, they
    // already waited.
    if (this.dirty.size > 0) {
      this.scheduled = true;
      setImmediate(this.run);
    }
    for (const t of slice) t.flush();
    for (const after of this.afterWrites) {
      try {
        after();
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
  };
}

const OPEN = 0x5b; // '['
const COMMA = new Uint8Array([0x2c]);
const encoder = new TextEncoder();

/**
 * Joins serialized frames into one JSON array frame without parsing them: objects become elements, and an
 * array (a batch of events) is spliced in element by element, so the result is a flat array in order.
 */
export function joinFrames(items: readonly (string | Uint8Array)[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 1;
  for (const item of items) {
    const bytes = typeof item === 'string' ? encoder.encode(item) : item;
    const inner = bytes[0] === OPEN ? bytes.subarray(1, bytes.length - 1) : bytes;
    if (inner.length === 0) continue;
    if (parts.length > 0) {
      parts.push(COMMA);
      length += 1;
    }
    parts.push(inner);
    length += inner.length;
  }
  const out = new Uint8Array(length + 1);
  out[0] = OPEN;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out[at] = 0x5d; // ']'
  return out;
}

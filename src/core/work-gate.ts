import { ChatError } from './chat-error.js';

/**
 * Bounds expensive work (password hashing): at most `concurrency` jobs run at once, at most `queue` more wait for a
 * slot, in arrival order, and anything beyond that is refused at once with `rate_limited` and an estimate of when
 * a slot frees up. So a flood costs a fixed amount of memory (each running scrypt holds 128·N·r bytes) and a
 * request that is let in waits behind at most `queue` jobs — it never sits behind an unbounded backlog.
 */
export class WorkGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Moving average of a job's duration, for `retryAfterMs`. */
  private avgMs = 250;
  /** Most jobs ever running at once (for tests and metrics). */
  peakRunning = 0;
  /** Jobs refused because the queue was full. */
  refused = 0;

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        this.refused++;
        const ahead = this.waiting.length + this.running;
        throw new ChatError('rate_limited', {
          message: 'The server is busy checking passwords; retry after retryAfterMs.',
          retryAfterMs: Math.max(1000, Math.ceil((this.avgMs * ahead) / this.concurrency)),
        });
      }
      // The finishing job hands its slot over directly (see below), so `running` already counts this one.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    this.peakRunning = Math.max(this.peakRunning, this.running);
    const started = performance.now();
    try {
      return await job();
    } finally {
      this.avgMs = 0.8 * this.avgMs + 0.2 * (performance.now() - started);
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/**
 * Whether a shared backend (Redis) is down, for a port that answers from a per-node fallback meanwhile. The first
 * failure switches to the fallback at once. While down, callers never wait for the backend: at most one probe is in
 * flight, at most one every `retryMs`, and the first that answers switches back.
 */
export class OutageSwitch {
  private isDown = false;
  private nextProbeAt = 0;
  private probing = false;

  constructor(
    private readonly opts: {
      /** A cheap request to the backend; resolving means it is back. */
      probe: () => Promise<unknown>;
      onDown: (err: unknown) => void;
      onUp: () => void;
      retryMs?: number;
      now?: () => number;
    },
  ) {}

  get down(): boolean {
    return this.isDown;
  }

  /**
   * `shared()` unless the backend is down; `fallback()` while it is, or when `shared()` fails with an outage (an
   * error `isOutage` accepts; anything else is rethrown as the caller's bug).
   */
  async call<T>(
    shared: () => Promise<T>,
    fallback: () => Promise<T>,
    isOutage: (err: unknown) => boolean = () => true,
  ): Promise<T> {
    if (this.isDown) {
      this.probeIfDue();
      return fallback();
    }
    try {
      return await shared();
    } catch (err) {
      if (!isOutage(err)) throw err;
      this.failed(err);
      return fallback();
    }
  }

  /** A request to the backend failed: switch to the fallback (once per outage). */
  failed(err: unknown): void {
    if (this.isDown) return;
    this.isDown = true;
    this.nextProbeAt = this.now() + this.retryMs;
    this.opts.onDown(err);
  }

  /** A request to the backend succeeded: switch back (once per outage). */
  up(): void {
    if (!this.isDown) return;
    this.isDown = false;
    this.opts.onUp();
  }

  /** Asks the backend now whether it is back; resolves to whether it answered. */
  async probeNow(): Promise<boolean> {
    try {
      await this.opts.probe();
      this.up();
      return true;
    } catch {
      this.nextProbeAt = this.now() + this.retryMs;
      return false;
    }
  }

  /** Starts a probe if none is in flight and one is due; never delays the caller. */
  private probeIfDue(): void {
    if (this.probing || this.now() < this.nextProbeAt) return;
    this.probing = true;
    void this.probeNow().finally(() => (this.probing = false));
  }

  private get retryMs(): number {
    return this.opts.retryMs ?? 1000;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

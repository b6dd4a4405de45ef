import { OutageSwitch } from './outage-switch.js';
import { InMemoryRateLimiter, type RateLimiter, type RateResult, type RateRule } from './rate-limiter.js';

/**
 * A shared limiter (Redis) with a per-node fallback: rate limits protect the service, so an outage of the shared
 * store must neither stop requests nor lift the limits. While `inner` fails, every call goes to an in-process
 * limiter with the same rules, so each node enforces them on its own: a client spread over N nodes gets at most
 * N times its allowance, never unlimited.
 *
 * - The first failure switches to the fallback at once (that call is answered by it). Meanwhile `inner` is not
 *   asked by requests, so none waits for a timeout; instead one probe (`peek` of a dummy key) goes to it at most
 *   every `retryMs`, and the first that succeeds switches back.
 * - State does not cross over: the fallback's buckets start full when an outage begins, and the shared buckets
 *   are what they were (or full, if Redis lost its data) when it ends.
 * - A `RangeError` (an invalid rule or cost) is the caller's bug, not an outage: it is rethrown.
 */
export class FallbackRateLimiter implements RateLimiter {
  private readonly local: InMemoryRateLimiter;
  private readonly outage: OutageSwitch;

  constructor(
    private readonly inner: RateLimiter,
    log: { warn(obj: object, msg: string): void },
    opts: { retryMs?: number; now?: () => number } = {},
  ) {
    this.local = new InMemoryRateLimiter(opts.now);
    this.outage = new OutageSwitch({
      ...opts,
      probe: () => inner.peek(PROBE_KEY, PROBE_RULE),
      onDown: (err) => log.warn({ err }, 'shared rate limiter unreachable: enforcing limits per node until it is back'),
      onUp: () => log.warn({}, 'shared rate limiter reachable again: limits are cluster-wide again'),
    });
  }

  /** True while limits are enforced per node (for readiness and metrics). */
  get degraded(): boolean {
    return this.outage.down;
  }

  take(key: string, rule: RateRule, cost?: number): Promise<RateResult> {
    return this.call(
      () => this.inner.take(key, rule, cost),
      () => this.local.take(key, rule, cost),
    );
  }

  peek(key: string, rule: RateRule): Promise<number> {
    return this.call(
      () => this.inner.peek(key, rule),
      () => this.local.peek(key, rule),
    );
  }

  async reset(key: string): Promise<void> {
    await this.local.reset(key);
    // A shared bucket Redis could not forget refills by itself; the fallback's is gone either way.
    if (!this.outage.down) await this.inner.reset(key).catch((err: unknown) => this.outage.failed(err));
  }

  async close(): Promise<void> {
    await Promise.all([this.local.close(), this.inner.close()]);
  }

  /** A `RangeError` (an invalid rule or cost) is the caller's bug, not an outage. */
  private call<T>(shared: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    return this.outage.call(shared, fallback, (err) => !(err instanceof RangeError));
  }
}

const PROBE_KEY = 'fallback-probe';
const PROBE_RULE: RateRule = { burst: 1, perSecond: 1 };

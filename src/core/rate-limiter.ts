/**
 * Token buckets keyed by a string (e.g. `msg:u_123`, `login-ip:127.0.0.1`). Contract: `take` removes `cost`
 * tokens if available and returns `{ok: true}`; otherwise removes nothing and says how long until enough
 * tokens refill. A bucket starts full. The cluster implementation shares buckets across nodes.
 */
export interface RateLimiter {
  take(key: string, rule: RateRule, cost?: number): Promise<RateResult>;
  /** The tokens `key` holds now under `rule` (`burst` for a bucket never used or refilled), taking none. */
  peek(key: string, rule: RateRule): Promise<number>;
  /** Forgets the bucket: it is full again. Resolves also for a key never used. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

/** `burst` tokens at most; refills `perSecond` tokens each second. */
export interface RateRule {
  burst: number;
  perSecond: number;
}

export type RateResult = { ok: true } | { ok: false; retryAfterMs: number };

/** In-process token buckets. Idle full buckets are swept so memory tracks active keys only. */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number; rule: RateRule }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly now: () => number = Date.now,
    sweepEveryMs = 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs);
    this.sweeper.unref();
  }

  take(key: string, rule: RateRule, cost = 1): Promise<RateResult> {
    return Promise.resolve(this.takeSync(key, rule, cost));
  }

  /** The synchronous core, for hot paths that must not yield (per-frame checks). */
  takeSync(key: string, rule: RateRule, cost = 1): RateResult {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: rule.burst, at: now, rule }));
    b.tokens = Math.min(rule.burst, b.tokens + ((now - b.at) / 1000) * rule.perSecond);
    b.at = now;
    // The epsilon absorbs float error, so waiting exactly retryAfterMs always succeeds.
    if (b.tokens + 1e-9 >= cost) {
      b.tokens -= cost;
      return { ok: true };
    }
    const retryAfterMs = Math.ceil(((cost - b.tokens) / rule.perSecond) * 1000);
    return { ok: false, retryAfterMs };
  }

  peek(key: string, rule: RateRule): Promise<number> {
    const b = this.buckets.get(key);
    if (!b) return Promise.resolve(rule.burst);
    return Promise.resolve(Math.min(rule.burst, b.tokens + ((this.now() - b.at) / 1000) * rule.perSecond));
  }

  reset(key: string): Promise<void> {
    this.buckets.delete(key);
    return Promise.resolve();
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * b.rule.perSecond >= b.rule.burst) this.buckets.delete(key);
    }
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.buckets.clear();
    return Promise.resolve();
  }
}

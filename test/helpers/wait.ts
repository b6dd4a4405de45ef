/** Bounded polling helpers for the conformance suites: networked implementations are asynchronous. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value (returned) or `timeoutMs` passes (throws). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const { timeoutMs = 5000, intervalMs = 5, what = 'condition' } = opts;
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

/** Resolves once the wall clock has moved on by at least `ms`, so the next write gets a later timestamp. */
export async function clockTick(ms = 2): Promise<void> {
  const start = Date.now();
  await waitFor(() => Date.now() >= start + ms, { intervalMs: 1, timeoutMs: 1000, what: 'the clock to advance' });
}

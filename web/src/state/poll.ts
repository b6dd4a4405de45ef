/** Whether the page is shown, and a way to hear when that changes (the document's, or a test's). */
export interface Visibility {
  hidden(): boolean;
  /** Calls `fn` on every change; returns the unsubscribe. */
  onChange(fn: () => void): () => void;
}

export const documentVisibility: Visibility = {
  hidden: () => document.hidden,
  onChange(fn) {
    document.addEventListener('visibilitychange', fn);
    return () => document.removeEventListener('visibilitychange', fn);
  },
};

/**
 * Runs `load` at once and then `intervalMs` after each run finished (never two at a time), only while the page
 * is visible: hidden, the next run is not scheduled; shown again, it runs at once. The returned function stops it
 * for good (a run in flight finishes, nothing follows).
 */
export function poll(load: () => Promise<void>, intervalMs: number, visibility: Visibility = documentVisibility) {
  let state: 'idle' | 'running' | 'waiting' = 'idle';
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = async () => {
    state = 'running';
    try {
      await load();
    } catch {
      // `load` reports its own errors; polling goes on.
    }
    if (stopped) return;
    if (visibility.hidden()) {
      state = 'idle';
      return;
    }
    state = 'waiting';
    timer = setTimeout(() => void run(), intervalMs);
  };
  const unsubscribe = visibility.onChange(() => {
    if (visibility.hidden()) {
      if (state === 'waiting') {
        clearTimeout(timer);
        state = 'idle';
      }
    } else if (state === 'idle') {
      void run();
    }
  });
  if (!visibility.hidden()) void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
    unsubscribe();
  };
}

/** The newest `max` values of a series after appending `value`. */
export function pushHistory<T>(series: readonly T[], value: T, max: number): T[] {
  const next = [...series, value];
  return next.length > max ? next.slice(next.length - max) : next;
}

/**
 * An SVG polyline path for a sparkline `width`×`height` over `values` (oldest first, spread over the full width);
 * a null is a gap. The vertical scale runs from 0 to the largest value (at least `floor`), so a flat line at
 * zero sits at the bottom. Returns one `points` string per unbroken run.
 */
export function sparklineRuns(values: readonly (number | null)[], width: number, height: number, floor = 0): string[] {
  if (values.length === 0) return [];
  let top = floor;
  for (const v of values) if (v !== null && v > top) top = v;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const runs: string[] = [];
  let run: string[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (run.length) runs.push(run.join(' '));
      run = [];
      return;
    }
    const y = top > 0 ? height - (v / top) * height : height;
    run.push(`${round(i * step)},${round(y)}`);
  });
  if (run.length) runs.push(run.join(' '));
  return runs;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** localStorage, tolerant of private modes and full quotas: a failed read is "nothing saved". */
const PREFIX = 'relaychat.';

export function load<T>(key: string): T | undefined {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  } catch {
    return undefined;
  }
}

export function save(key: string, value: unknown): void {
  try {
    if (value === undefined) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: the app still works, it just forgets on reload */
  }
}

export function remove(key: string): void {
  save(key, undefined);
}

/** Coalesces frequent saves (positions move with every event) into one write per `ms`. */
export function debounced(ms: number, fn: () => void): { (): void; flush(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    timer = undefined;
    fn();
  };
  const call = () => {
    if (timer === undefined) timer = setTimeout(run, ms);
  };
  call.flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      run();
    }
  };
  return call;
}

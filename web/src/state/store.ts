import { useEffect, useReducer, useRef } from 'preact/hooks';

type Listener = () => void;

/** A minimal observable store of immutable state: `update` swaps in a new object and notifies subscribers. */
export class Store<S extends object> {
  private readonly listeners = new Set<Listener>();
  private queued = false;

  constructor(public state: S) {}

  update(patch: Partial<S> | ((s: S) => Partial<S>)): void {
    const p = typeof patch === 'function' ? patch(this.state) : patch;
    this.state = { ...this.state, ...p };
    // Many socket events can land in one task (a resume replays in batches): notify once per microtask.
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      for (const l of [...this.listeners]) l();
    });
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** Subscribes a component to `select(state)`; it re-renders only when that value changes (Object.is). */
export function useSelector<S extends object, T>(store: Store<S>, select: (s: S) => T): T {
  const [, force] = useReducer((n: number) => n + 1, 0);
  const value = select(store.state);
  const latest = useRef({ select, value });
  latest.current = { select, value };
  useEffect(() => {
    const check = () => {
      const { select: sel, value: prev } = latest.current;
      if (!Object.is(sel(store.state), prev)) force(0);
    };
    const off = store.subscribe(check);
    check(); // a change between render and subscribing would otherwise be missed
    return off;
  }, [store]);
  return value;
}

/** A minimal typed event emitter with no platform dependencies (works in browsers and Node). */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => this.off(type, listener);
  }

  off<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): void {
    this.listeners.get(type)?.delete(listener as (payload: never) => void);
  }

  once<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): () => void {
    const off = this.on(type, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  protected emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as (p: Events[K]) => void)(payload);
      } catch (err) {
        // A throwing listener must not break delivery to the others or the connection.
        console.error('relaychat listener failed', err);
      }
    }
  }
}

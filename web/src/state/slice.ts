/** What every part of the state shares: the one store, the SDK, and which session is current. */
import type { ChatApi } from '../../../src/client/api.js';
import type { ChatClient } from '../../../src/client/chat-client.js';
import type { AppState } from './app-state.js';
import type { Store } from './store.js';

export interface StateContext {
  readonly store: Store<AppState>;
  readonly api: ChatApi;
  /** The signed-in session's socket; null when signed out. */
  client: ChatClient | null;
  /** Counts sessions (sign-in and sign-out each bump it): work started in an older one must not land in this one. */
  epoch: number;
}

/** A part of the state: reads the whole store, writes its own fields. */
export abstract class Slice {
  constructor(protected readonly ctx: StateContext) {}

  protected get s(): AppState {
    return this.ctx.store.state;
  }

  protected set(patch: Partial<AppState> | ((s: AppState) => Partial<AppState>)): void {
    this.ctx.store.update(patch);
  }

  /** A check that the session current now is still the current one (for answers that arrive later). */
  protected live(): () => boolean {
    const epoch = this.ctx.epoch;
    return () => epoch === this.ctx.epoch;
  }
}

export function omit<T extends Record<string, unknown>>(obj: T, key: string): T {
  const { [key]: _drop, ...rest } = obj;
  return rest as T;
}

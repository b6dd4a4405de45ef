import type { Bus } from './bus.js';
import type { PasswordHasher } from './password.js';
import type { Presence } from './presence.js';
import type { RateLimiter, RateRule } from './rate-limiter.js';
import type { Store } from './store.js';

/** The limits the domain enforces. Defaults and their config names live in src/server/config.ts. */
export interface DomainLimits {
  maxMessageChars: number;
  maxRoomsPerUser: number;
  maxDmMembers: number;
  sessionTtlMs: number;
  firstUserIsAdmin: boolean;
  rates: {
    message: RateRule;
    roomCreate: RateRule;
    invite: RateRule;
    register: RateRule;
    login: RateRule;
    typing: RateRule;
  };
}

/** What every domain service is built from: the ports (store, bus, presence, limiter) and the rules. */
export interface DomainContext {
  store: Store;
  bus: Bus;
  presence: Presence;
  limiter: RateLimiter;
  hasher: PasswordHasher;
  limits: DomainLimits;
  now: () => number;
}

/** The fixed id of the room every new user joins. */
export const LOBBY_ROOM_ID = 'lobby';
/** The sender id of events the server itself causes. */
export const SYSTEM_USER_ID = 'system';

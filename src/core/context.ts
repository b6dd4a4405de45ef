import type { Bus } from './bus.js';
import type { PasswordHasher } from './password.js';
import type { Presence } from './presence.js';
import type { RateLimiter, RateRule } from './rate-limiter.js';
import type { Store } from './store.js';

/** The limits the domain enforces. Defaults and their config names live in src/server/config.ts. */
export interface DomainLimits {
  maxMessageChars: number;
  /** How long after sending a message its author may edit it, in seconds; 0 = no limit. */
  editWindowSeconds: number;
  /** Rooms up to this many members share read markers as receipts; 0 = none. */
  readReceiptsMaxMembers: number;
  /** Most pinned messages per room. */
  maxPinsPerRoom: number;
  /** Most users one user may block. */
  maxBlocksPerUser: number;
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
    /** Wrong passwords (logins and password changes) server-wide; while spent, logins are refused. */
    loginFailures: RateRule;
    /** Joins and leaves per user, and per room. */
    membership: RateRule;
    roomMembership: RateRule;
    typing: RateRule;
    report: RateRule;
    /** Profile changes per user: each one is a `profile` notice to every connection of the server. */
    profile: RateRule;
    /** Read-marker moves per user (each may append a receipt to a room). */
    readMark: RateRule;
    /** Reactions added or removed per user. */
    reaction: RateRule;
    /** Blocks and unblocks per user. */
    block: RateRule;
    /** Changes of notification levels and private settings per user (each is pushed to all their devices). */
    settings: RateRule;
    /** Message searches per user. */
    search: RateRule;
  };
  /** Different emojis one message may carry as reactions. */
  maxReactionsPerMessage: number;
  /** Message search (SEARCH_* settings). */
  search: { queryMaxChars: number; maxTerms: number; pageMax: number; relevanceMax: number; snippetChars: number };
  /** Most `@username` mentions one message may carry. */
  maxMentions: number;
  /** The same body from the same user in the same room more than `repeats` times within `windowMs` is refused. */
  flood: { repeats: number; windowMs: number };
  /** After `failures` wrong passwords for one username, logins for it wait baseMs, doubling per failure up to maxMs. */
  loginLockout: { failures: number; baseMs: number; maxMs: number };
}

/** What the keyword filter says about a text (message, room name, display name). */
export interface ContentVerdict {
  /** Blocked words found: the text must be refused (`content_blocked`). */
  blocked: string[];
  /** The text with masked words replaced by asterisks (equal to the input when nothing was masked). */
  text: string;
  /** Flagged words found: the text passes, and a report is filed for moderators. */
  flagged: string[];
}

export interface ContentFilter {
  check(text: string): ContentVerdict;
}

/** What every domain service is built from: the ports (store, bus, presence, limiter) and the rules. */
export interface DomainContext {
  store: Store;
  bus: Bus;
  presence: Presence;
  limiter: RateLimiter;
  hasher: PasswordHasher;
  limits: DomainLimits;
  /** The keyword filter (src/core/moderation/keyword-filter.ts), configured from FILTER_* settings. */
  filter: ContentFilter;
  now: () => number;
}

/** The fixed id of the room every new user joins. */
export const LOBBY_ROOM_ID = 'lobby';
/** The sender id of events the server itself causes. */
export const SYSTEM_USER_ID = 'system';

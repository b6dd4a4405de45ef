import { createHash } from 'node:crypto';
import { ChatError } from '../chat-error.js';
import { fold } from './keyword-filter.js';

export interface FloodGuardOptions {
  /** The same body may be sent this many times per (user, room) within `windowMs`; the next is `flood`. */
  repeats: number;
  windowMs: number;
  /** Most distinct `@username` mentions per message; more is `too_many_mentions`. */
  maxMentions: number;
  /** Most (user, room) pairs tracked at once; the least recently active are forgotten first. Default 100 000. */
  maxKeys?: number;
}

/** Distinct bodies remembered per (user, room): a spammer cycling through more than this is not caught. */
const BODIES_PER_KEY = 8;

// `@name` where name is a username (letters, digits, `_`, `.`, `-`), not inside an e-mail address (so not right
// after an ASCII word character); right after CJK text, which has no spaces, it is a mention.
const MENTION = /(?<![A-Za-z0-9_.@-])@([A-Za-z0-9][A-Za-z0-9_.-]*)/gu;

/** The distinct usernames (lower-cased) a body mentions with `@username`. */
export function mentionsOf(body: string): Set<string> {
  const names = new Set<string>();
  for (const m of body.matchAll(MENTION)) names.add(m[1]!.replace(/[.-]+$/, '').toLowerCase());
  return names;
}

/**
 * Refuses repeated identical messages and mass mentions. Bodies are compared after normalising (see
 * `normalizeBody`: what looks the same is the same), by hash (memory does not grow with message size).
 *
 * Per node: counts live in this process, so behind a load balancer a user spreading repeats over N nodes may send
 * up to N × `repeats`. That is fine for what it is for — stopping a client that pastes the same line in a loop —
 * and the shared per-user message rate limit still bounds the total. Memory is bounded: at most `maxKeys`
 * (user, room) pairs, each with at most 8 bodies × (`repeats` + 1) timestamps; pairs idle for `windowMs`
 * are swept.
 */
export class FloodGuard {
  /** (user, room) → body hash → when it was sent, and with which clientMsgId. */
  private readonly keys = new Map<string, Map<string, Sent[]>>();
  private readonly maxKeys: number;
  private lastSweep: number;

  constructor(
    private readonly opts: FloodGuardOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.lastSweep = now();
  }

  /**
   * Checks a message about to be sent and, when it passes, counts it. Returns the error to answer, or null.
   * Call it after the other checks (membership, rate limit), right before the message is stored.
   * A retry of a send it already let through (same `clientMsgId`) passes uncounted: the store answers it as a
   * duplicate, and refusing it would report a stored message as failed.
   */
  check(userId: string, roomId: string, body: string, clientMsgId?: string): ChatError | null {
    if (mentionsOf(body).size > this.opts.maxMentions) return new ChatError('too_many_mentions');
    const now = this.now();
    if (now - this.lastSweep >= this.opts.windowMs) this.sweep(now);

    const key = `${userId}\u0000${roomId}`;
    let bodies = this.keys.get(key);
    if (bodies) {
      this.keys.delete(key); // re-inserted below: Map order is least recently active first
    } else {
      bodies = new Map();
      if (this.keys.size >= this.maxKeys) this.evict(now);
    }
    this.keys.set(key, bodies);

    const hash = createHash('sha256').update(normalizeBody(body)).digest('base64');
    const since = now - this.opts.windowMs;
    const times = (bodies.get(hash) ?? []).filter((s) => s.at > since);
    if (clientMsgId !== undefined && times.some((s) => s.id === clientMsgId)) return null;
    if (times.length >= this.opts.repeats) {
      bodies.set(hash, times);
      return new ChatError('flood', { retryAfterMs: Math.max(1, times[0]!.at + this.opts.windowMs - now) });
    }
    times.push({ at: now, id: clientMsgId });
    bodies.delete(hash);
    bodies.set(hash, times);
    if (bodies.size > BODIES_PER_KEY) bodies.delete(bodies.keys().next().value!);
    return null;
  }

  /** Pairs tracked now (for tests and metrics). */
  get size(): number {
    return this.keys.size;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    const since = now - this.opts.windowMs;
    for (const [key, bodies] of this.keys) {
      for (const [hash, times] of bodies) if (times[times.length - 1]!.at <= since) bodies.delete(hash);
      if (bodies.size === 0) this.keys.delete(key);
    }
  }

  private evict(now: number): void {
    this.sweep(now);
    // Still full: forget the least recently active pairs.
    for (const key of this.keys.keys()) {
      if (this.keys.size < this.maxKeys) break;
      this.keys.delete(key);
    }
  }
}

interface Sent {
  at: number;
  id: string | undefined;
}

/**
 * What two bodies must share to count as "the same message": the keyword filter's folding (NFKC, case, invisible
 * and default-ignorable characters dropped, combining marks stripped, confusables skeleton), whitespace collapsed.
 * Appending a zero-width space or swapping a letter for a look-alike no longer makes a "new" message.
 */
function normalizeBody(body: string): string {
  return fold(body).trim().replace(/\s+/gu, ' ');
}

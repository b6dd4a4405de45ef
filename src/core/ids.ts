import { randomBytes, randomFillSync } from 'node:crypto';

/** Random bytes are drawn from the CSPRNG in blocks: one call per 341 ids instead of one each (ids are per message). */
const pool = Buffer.alloc(12 * 341);
let poolAt = pool.length;

/** A random, URL-safe id with a readable prefix (`u_` user, `r_` room, `e_` event, `s_` session, `f_` file, `i_` bot command invocation, `as_` assistant answer). 96 bits. */
export function newId(prefix: 'u' | 'r' | 'e' | 's' | 'c' | 'a' | 'f' | 'i' | 'as' | 'wh' | 'ws'): string {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 12;
  return `${prefix}_${pool.toString('base64url', poolAt - 12, poolAt)}`;
}

/**
 * An id that sorts by creation time (`rp_` report, `al_` audit entry): fixed-width base-36 milliseconds (nudged
 * forward when several are made in one millisecond), then 64 random bits. Newest first = id descending.
 */
export function newTimeId(prefix: 'rp' | 'al', now = Date.now()): string {
  // Strictly increasing within this process, so two ids made in the same millisecond still sort in creation order.
  lastTime = Math.max(now, lastTime + 1);
  return `${prefix}_${lastTime.toString(36).padStart(10, '0')}${randomBytes(8).toString('hex')}`;
}

let lastTime = 0;

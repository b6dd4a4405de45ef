import { randomBytes } from 'node:crypto';

/** A random, URL-safe id with a readable prefix (`u_` user, `r_` room, `e_` event, `s_` session). 96 bits. */
export function newId(prefix: 'u' | 'r' | 'e' | 's' | 'c' | 'a'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

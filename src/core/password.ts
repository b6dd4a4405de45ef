import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { WorkGate } from './work-gate.js';

/**
 * scrypt password hashing. Stored as `scrypt$<log2N>$<r>$<p>$<salt b64>$<hash b64>` so the cost can be raised
 * later without invalidating old hashes: a hash made with other parameters still verifies, and `needsRehash`
 * tells the caller to store a new one (login does, transparently). Default N=2^17, r=8, p=1: OWASP's
 * recommendation for scrypt.
 *
 * Every hash and check runs through one WorkGate: `concurrency` at once (each holds 128·N·r bytes — 128 MiB at
 * the default cost — while it runs), `queue` waiting, the rest refused with `rate_limited` at once.
 */
export interface PasswordHasherOptions {
  log2N: number;
  r?: number;
  p?: number;
  /** Hashes computed at once (PASSWORD_HASH_CONCURRENCY). Default 2. */
  concurrency?: number;
  /** Hash requests that may wait for a slot (PASSWORD_HASH_QUEUE). Default 8. */
  queue?: number;
}

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const KEYLEN = 32;

interface Parsed {
  log2N: number;
  r: number;
  p: number;
  salt: Buffer;
  expected: Buffer;
}

function parseStored(stored: string): Parsed | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every((n) => Number.isInteger(n) && n > 0) || log2N > 24) return null;
  return { log2N, r, p, salt: Buffer.from(parts[4]!, 'base64'), expected: Buffer.from(parts[5]!, 'base64') };
}

export class PasswordHasher {
  private readonly log2N: number;
  private readonly r: number;
  private readonly p: number;
  /** The bound on hashing work; its counters are read by tests and metrics. */
  readonly gate: WorkGate;

  constructor(opts: PasswordHasherOptions) {
    this.log2N = opts.log2N;
    this.r = opts.r ?? 8;
    this.p = opts.p ?? 1;
    this.gate = new WorkGate(opts.concurrency ?? 2, opts.queue ?? 8);
  }

  private static params(log2N: number, r: number, p: number): ScryptOptions {
    const N = 2 ** log2N;
    // scrypt needs 128*N*r bytes; Node's default maxmem (32 MiB) is too small for N=2^17.
    return { N, r, p, maxmem: 256 * N * r };
  }

  /** A new hash of `password`. Throws `rate_limited` when the hashing queue is full. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.gate.run(() =>
      scrypt(password, salt, KEYLEN, PasswordHasher.params(this.log2N, this.r, this.p)),
    );
    return ['scrypt', this.log2N, this.r, this.p, salt.toString('base64'), key.toString('base64')].join('$');
  }

  /** Whether `password` matches `stored`. Throws `rate_limited` when the hashing queue is full. */
  async verify(password: string, stored: string): Promise<boolean> {
    const parsed = parseStored(stored);
    if (!parsed) return false;
    const key = await this.gate.run(() =>
      scrypt(password, parsed.salt, parsed.expected.length, PasswordHasher.params(parsed.log2N, parsed.r, parsed.p)),
    );
    return timingSafeEqual(key, parsed.expected);
  }

  /** True when `stored` was made with other parameters than the current ones: store a new hash after a login. */
  needsRehash(stored: string): boolean {
    const parsed = parseStored(stored);
    return !parsed || parsed.log2N !== this.log2N || parsed.r !== this.r || parsed.p !== this.p;
  }

  /**
   * Spends the same work as a real check, through the same gate, so "no such user" takes as long as "wrong
   * password" and is refused the same way when the queue is full. The stored value checked against is random:
   * only the cost matters.
   */
  async burn(password: string): Promise<void> {
    const fake = ['scrypt', this.log2N, this.r, this.p, randomBytes(16).toString('base64')];
    await this.verify(password, [...fake, randomBytes(KEYLEN).toString('base64')].join('$'));
  }
}

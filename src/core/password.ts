import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt password hashing. Stored as `scrypt$<log2N>$<r>$<p>$<salt b64>$<hash b64>` so the cost can be raised
 * later without invalidating old hashes. Default N=2^17, r=8, p=1: OWASP's current recommendation.
 */
export interface PasswordHasherOptions {
  log2N: number;
  r?: number;
  p?: number;
}

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const KEYLEN = 32;

export class PasswordHasher {
  private readonly log2N: number;
  private readonly r: number;
  private readonly p: number;
  private dummy: Promise<string> | undefined;

  constructor(opts: PasswordHasherOptions) {
    this.log2N = opts.log2N;
    this.r = opts.r ?? 8;
    this.p = opts.p ?? 1;
  }

  private static params(log2N: number, r: number, p: number): ScryptOptions {
    const N = 2 ** log2N;
    // scrypt needs 128*N*r bytes; Node's default maxmem (32 MiB) is too small for N=2^17.
    return { N, r, p, maxmem: 256 * N * r };
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await scrypt(password, salt, KEYLEN, PasswordHasher.params(this.log2N, this.r, this.p));
    return ['scrypt', this.log2N, this.r, this.p, salt.toString('base64'), key.toString('base64')].join('$');
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
    const salt = Buffer.from(parts[4]!, 'base64');
    const expected = Buffer.from(parts[5]!, 'base64');
    const key = await scrypt(password, salt, expected.length, PasswordHasher.params(log2N, r, p));
    return timingSafeEqual(key, expected);
  }

  /** Spends the same work as a real check, so "no such user" takes as long as "wrong password". */
  async burn(password: string): Promise<void> {
    this.dummy ??= this.hash('not-a-real-password');
    await this.verify(password, await this.dummy);
  }
}

import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { registerUser, startServer } from '../helpers/harness.js';

/**
 * Issue 21, findings 1 and 2: a login flood must not starve password hashing, and wrong current passwords in
 * `POST /auth/password` count into the login lockout.
 *
 * Hashing work is observed at the bottom, on node:crypto's scrypt itself (the server's hasher imports it as a live
 * binding), so the test measures what runs, not what the server says it runs: how many scrypt computations are
 * in flight at once, and how many finish between a request and its answer — no wall-clock assertions.
 */
const realScrypt = crypto.scrypt;
const work = { inFlight: 0, peak: 0, finished: 0 };

function instrumentScrypt(): void {
  const counted = ((...args: unknown[]) => {
    const cb = args.pop() as (err: Error | null, key: Buffer) => void;
    work.inFlight++;
    work.peak = Math.max(work.peak, work.inFlight);
    (realScrypt as (...a: unknown[]) => void)(...args, (err: Error | null, key: Buffer) => {
      work.inFlight--;
      work.finished++;
      cb(err, key);
    });
  }) as typeof crypto.scrypt;
  crypto.scrypt = counted;
  syncBuiltinESMExports();
  Object.assign(work, { inFlight: 0, peak: 0, finished: 0 });
}

afterEach(() => {
  crypto.scrypt = realScrypt;
  syncBuiltinESMExports();
});

interface Answer {
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  retryAfterMs: number | undefined;
  token: string | undefined;
}

async function login(url: string, username: string, password: string, ip: string): Promise<Answer> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify({ username, password }),
  });
  const body = (await res.json()) as { token?: string; error?: { code: string; retryAfterMs?: number } };
  return {
    status: res.status,
    code: body.error?.code,
    retryAfter: res.headers.get('retry-after'),
    retryAfterMs: body.error?.retryAfterMs,
    token: body.token,
  };
}

const CONCURRENCY = 2;
const QUEUE = 4;

describe('a login flood does not starve password hashing', () => {
  it('200 logins for unknown users from 40 addresses: bounded hashes in flight, a prompt answer for a real user', async () => {
    const srv = await startServer({
      trustProxy: 'true',
      loginsPerMinute: 10, // the default: 5 attempts per address stay under it
      loginFailuresPerMinute: 100_000, // this test is about the hashing queue, not the failure budget
      scryptLog2N: 14, // 16 MiB per hash: real work, a short test
      passwordHashConcurrency: CONCURRENCY,
      passwordHashQueue: QUEUE,
    });
    const alice = await registerUser(srv.url, 'alice');
    instrumentScrypt();

    const flood: Promise<Answer>[] = [];
    for (let i = 0; i < 200; i++) flood.push(login(srv.url, `ghost${i}`, 'wrong password', `10.0.${i % 40}.1`));
    // The real user arrives in the middle of the flood, from an address of their own.
    await new Promise((r) => setTimeout(r, 20));
    const finishedBefore = work.finished;
    let legit = await login(srv.url, 'alice', alice.password, '192.0.2.7');
    const hashedMeanwhile = work.finished - finishedBefore;
    const answers = await Promise.all(flood);

    // Never more hashes at once than the bound: hashing memory is CONCURRENCY × 128·N·r bytes.
    expect(work.peak).toBeGreaterThan(0);
    expect(work.peak).toBeLessThanOrEqual(CONCURRENCY);
    // The real login was answered after at most the queue ahead of it plus its own hash — never behind the flood.
    expect(hashedMeanwhile).toBeLessThanOrEqual(QUEUE + CONCURRENCY + 1);
    expect([200, 429]).toContain(legit.status);
    if (legit.status === 429) {
      expect(legit.code).toBe('rate_limited');
      expect(Number(legit.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // The flood got wrong-password answers for what was hashed, and prompt refusals with Retry-After for the rest.
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.code).toBe('rate_limited');
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(a.retryAfterMs).toBeGreaterThan(0);
    }
    expect(work.finished).toBeLessThan(200); // refused logins were not hashed at all

    // Once the flood is answered, the real user gets in.
    if (legit.status !== 200) legit = await login(srv.url, 'alice', alice.password, '192.0.2.7');
    expect(legit.status).toBe(200);
    expect(legit.token).toBeTruthy();
  });

  it('a server-wide budget of wrong passwords: spent, every login is refused before any hashing', async () => {
    const srv = await startServer({ trustProxy: 'true', loginFailuresPerMinute: 20, loginLockoutFailures: 1000 });
    const alice = await registerUser(srv.url, 'alice');
    for (let i = 0; i < 20; i++) {
      expect((await login(srv.url, `ghost${i}`, 'wrong password', `10.1.${i}.1`)).status).toBe(401);
    }
    instrumentScrypt();
    const refused = await login(srv.url, 'alice', alice.password, '192.0.2.8');
    expect([refused.status, refused.code]).toEqual([429, 'rate_limited']);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(3000); // 20 per minute: one failure is forgotten every 3 s
    expect(work.finished).toBe(0);
    await new Promise((r) => setTimeout(r, refused.retryAfterMs! + 50));
    expect((await login(srv.url, 'alice', alice.password, '192.0.2.8')).status).toBe(200);
  });

  it('a hash made with an older cost is replaced at login; the old one kept working', async () => {
    const srv = await startServer({ scryptLog2N: 10 });
    const alice = await registerUser(srv.url, 'alice');
    const stored = async () => (await srv.server.ports.store.getUserByUsername('alice'))!.passwordHash;
    expect(await stored()).toMatch(/^scrypt\$10\$/);
    Object.assign(srv.config, { scryptLog2N: 11 }); // the restart below reads this config
    await srv.restart();
    expect((await login(srv.url, 'alice', alice.password, '127.0.0.1')).status).toBe(200);
    expect(await stored()).toMatch(/^scrypt\$11\$8\$1\$/);
    expect((await login(srv.url, 'alice', alice.password, '127.0.0.1')).status).toBe(200);
    expect((await login(srv.url, 'alice', 'wrong password', '127.0.0.1')).status).toBe(401);
  });
});

describe('password change and the login lockout', () => {
  it('wrong current passwords count into the same lockout as logins', async () => {
    const srv = await startServer({ loginLockoutFailures: 3, loginLockoutBaseMs: 60_000, loginLockoutMaxMs: 120_000 });
    const alice = await registerUser(srv.url, 'alice');
    const change = (currentPassword: string) =>
      fetch(`${srv.url}/api/v1/auth/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
        body: JSON.stringify({ currentPassword, newPassword: 'a brand new password' }),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json().catch(() => ({}))) as { error?: { code: string } },
      }));
    for (let i = 0; i < 3; i++) expect((await change(`guess ${i}`)).body.error?.code).toBe('invalid_credentials');
    // Locked: neither a further guess, nor the right password, nor a login is checked.
    instrumentScrypt();
    for (const guess of ['guess 4', alice.password]) {
      const r = await change(guess);
      expect([r.status, r.body.error?.code]).toEqual([429, 'rate_limited']);
    }
    const l = await login(srv.url, 'alice', alice.password, '127.0.0.1');
    expect([l.status, l.code]).toEqual([429, 'rate_limited']);
    expect(work.finished).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { backend, registerUser, startServer } from './helpers/harness.js';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; retryable: boolean; retryAfterMs?: number } } & Record<
    string,
    unknown
  >;
  headers: Record<string, string>;
  ms: number;
}

async function call(url: string, method: string, path: string, body: unknown, token?: string): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Answer['body'];
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (!['date', 'content-length', 'retry-after', 'connection', 'keep-alive'].includes(k)) headers[k] = v;
  });
  return { status: res.status, body: json, headers, ms: performance.now() - started };
}

const login = (url: string, username: string, password: string) =>
  call(url, 'POST', '/api/v1/auth/login', { username, password });

const WRONG = 'not the password';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The answer without the part that depends on when it was asked (retryAfterMs counts down). */
const shape = (a: Answer) => ({
  status: a.status,
  headers: a.headers,
  body: a.body.error ? { error: { ...a.body.error, retryAfterMs: a.body.error.retryAfterMs !== undefined } } : a.body,
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('login brute-force lockout', () => {
  const lockout = { loginLockoutFailures: 3, loginLockoutBaseMs: 400, loginLockoutMaxMs: 1600 };

  it('locks a username after N wrong passwords, with a doubling delay; the right password works once it expires', async () => {
    const srv = await startServer(lockout);
    const victim = await registerUser(srv.url, 'victim');

    for (let i = 0; i < 3; i++) {
      const r = await login(srv.url, 'victim', WRONG);
      expect([r.status, r.body.error?.code]).toEqual([401, 'invalid_credentials']);
    }
    // Locked: even the right password is refused, before any password check.
    for (const password of [WRONG, victim.password]) {
      const r = await login(srv.url, 'victim', password);
      expect([r.status, r.body.error?.code, r.body.error?.retryable]).toEqual([429, 'rate_limited', true]);
      expect(r.body.error?.retryAfterMs).toBeGreaterThan(0);
      expect(r.body.error?.retryAfterMs).toBeLessThanOrEqual(400);
    }
    // Keyed by the lower-cased username.
    expect((await login(srv.url, 'VICTIM', victim.password)).status).toBe(429);

    // Each further failure doubles the lock: 800 ms, then 1600 ms, then capped at 1600 ms.
    for (const expected of [800, 1600, 1600]) {
      const locked = await login(srv.url, 'victim', WRONG);
      expect(locked.status).toBe(429);
      await sleep(locked.body.error!.retryAfterMs! + 20);
      expect((await login(srv.url, 'Victim', WRONG)).status).toBe(401);
      const next = await login(srv.url, 'victim', WRONG);
      expect(next.body.error?.code).toBe('rate_limited');
      expect(next.body.error?.retryAfterMs).toBeGreaterThan(expected / 2);
      expect(next.body.error?.retryAfterMs).toBeLessThanOrEqual(expected);
    }

    // After the lock, the right password logs in, and that success forgets the failures.
    const wait = (await login(srv.url, 'victim', victim.password)).body.error!.retryAfterMs!;
    await sleep(wait + 20);
    const ok = await login(srv.url, 'victim', victim.password);
    expect(ok.status).toBe(200);
    expect(typeof ok.body.token).toBe('string');
    for (let i = 0; i < 3; i++) expect((await login(srv.url, 'victim', WRONG)).status).toBe(401);
    const again = await login(srv.url, 'victim', WRONG);
    expect(again.body.error?.code).toBe('rate_limited');
    expect(again.body.error?.retryAfterMs).toBeLessThanOrEqual(400); // back to the base delay
    // Other usernames are not affected.
    const other = await registerUser(srv.url, 'bystander');
    expect((await login(srv.url, 'bystander', other.password)).status).toBe(200);
  });

  it('an unknown username and a wrong password for a real one get the same answers, after the same work', async () => {
    // Real password hashing cost (2^14 scrypt), so skipped work would show in the timing.
    const srv = await startServer({ ...lockout, loginLockoutFailures: 4, scryptLog2N: 14 });
    await registerUser(srv.url, 'realuser');
    const known: Answer[] = [];
    const unknown: Answer[] = [];
    for (let i = 0; i < 6; i++) {
      known.push(await login(srv.url, 'realuser', WRONG));
      unknown.push(await login(srv.url, 'ghostuser', WRONG));
    }
    expect(known.map((a) => a.status)).toEqual([401, 401, 401, 401, 429, 429]);
    expect(known.map(shape)).toEqual(unknown.map(shape));
    for (let i = 0; i < 6; i++) {
      // Byte-identical bodies but for the countdown, which agrees to within the time between the two requests.
      const { retryAfterMs: a, ...restA } = known[i]!.body.error!;
      const { retryAfterMs: b, ...restB } = unknown[i]!.body.error!;
      expect(restA).toEqual(restB);
      if (a !== undefined) expect(Math.abs(a - b!)).toBeLessThan(300);
    }
    expect(known[0]!.body).toEqual({
      error: { code: 'invalid_credentials', message: known[0]!.body.error!.message, retryable: false },
    });

    // Timing: both hash (verify vs burn), so they take the same order of time; a locked answer hashes nothing.
    const timing = await startServer({ loginLockoutFailures: 1000, scryptLog2N: 14 });
    await registerUser(timing.url, 'realuser');
    const knownMs: number[] = [];
    const unknownMs: number[] = [];
    for (let i = 0; i < 8; i++) {
      knownMs.push((await login(timing.url, 'realuser', WRONG)).ms);
      unknownMs.push((await login(timing.url, 'ghostuser', WRONG)).ms);
    }
    const ratio = median(knownMs) / median(unknownMs);
    expect(ratio, `known ${median(knownMs)} ms vs unknown ${median(unknownMs)} ms`).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });

  it('keeps the per-IP and per-username attempt limits', async () => {
    const srv = await startServer({ loginsPerMinute: 3, loginLockoutFailures: 100 });
    await registerUser(srv.url, 'limited');
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) codes.push((await login(srv.url, 'limited', WRONG)).body.error!.code);
    expect(codes).toEqual(['invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'rate_limited']);
    // The IP's bucket is empty too (3 taken): another username from the same address is refused.
    expect((await login(srv.url, 'someoneelse', WRONG)).body.error?.code).toBe('rate_limited');
  });

  it.runIf(backend === 'cluster')('the lockout is shared by every node of a cluster', async () => {
    const a = await startServer(lockout);
    const b = await startServer({
      ...lockout,
      databaseUrl: a.config.databaseUrl,
      redisUrl: a.config.redisUrl,
      redisPrefix: a.config.redisPrefix,
    });
    const user = await registerUser(a.url, 'clustered');
    for (let i = 0; i < 3; i++) expect((await login(i % 2 ? a.url : b.url, 'clustered', WRONG)).status).toBe(401);
    const locked = await login(b.url, 'clustered', user.password);
    expect(locked.body.error?.code).toBe('rate_limited');
    expect((await login(a.url, 'clustered', user.password)).body.error?.code).toBe('rate_limited');
    await sleep(locked.body.error!.retryAfterMs! + 20);
    expect((await login(b.url, 'clustered', user.password)).status).toBe(200);
  });
});

describe('display names and the keyword filter', () => {
  it('refuses a blocked word and masks a masked one, in register and profile updates', async () => {
    const srv = await startServer({ filterBlock: 'badword,坏蛋', filterMask: 'darn' });
    const register = (username: string, displayName?: string) =>
      call(srv.url, 'POST', '/api/v1/auth/register', { username, password: 'long enough pw', displayName });

    for (const displayName of ['badword', 'I am B.A.D.W.O.R.D', 'ｂａｄｗｏｒｄ', '大坏蛋']) {
      const r = await register('newcomer', displayName);
      expect([displayName, r.status, r.body.error?.code]).toEqual([displayName, 422, 'content_blocked']);
    }
    // The username is shown too: a blocked word there refuses the registration.
    expect((await register('BadWord')).body.error?.code).toBe('content_blocked');
    expect((await register('the-badword')).body.error?.code).toBe('content_blocked');

    const ok = await register('newcomer', 'oh darn');
    expect(ok.status).toBe(201);
    expect((ok.body.user as { displayName: string }).displayName).toBe('oh ****');
    const token = ok.body.token as string;

    const refused = await call(srv.url, 'PATCH', '/api/v1/me', { displayName: 'b a d w o r d' }, token);
    expect([refused.status, refused.body.error?.code]).toEqual([422, 'content_blocked']);
    const status = await call(srv.url, 'PATCH', '/api/v1/me', { statusText: 'badword' }, token);
    expect(status.body.error?.code).toBe('content_blocked');
    const patched = await call(srv.url, 'PATCH', '/api/v1/me', { displayName: 'DARN it', statusText: 'darn' }, token);
    expect(patched.status).toBe(200);
    expect(patched.body.user).toMatchObject({ displayName: '**** it', statusText: '****' });
    const me = await call(srv.url, 'PATCH', '/api/v1/me', { displayName: 'fine name' }, token);
    expect(me.body.user).toMatchObject({ displayName: 'fine name', statusText: '****' });
  });
});

import { describe, expect, it } from 'vitest';
import { backend, registerUser, startServer } from '../helpers/harness.js';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; retryable: boolean; retryAfterMs?: number } } & Record<
    string,
    unknown
  >;
  headers: Record<string, string>;
  /** When the request was sent and when its answer was read (performance.now()). */
  sentAt: number;
  doneAt: number;
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
  return { status: res.status, body: json, headers, sentAt: started, doneAt: performance.now() };
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

describe('login brute-force lockout', () => {
  const BASE = 500;
  const lockout = { loginLockoutFailures: 3, loginLockoutBaseMs: BASE, loginLockoutMaxMs: 1600 };

  it('locks a username after N wrong passwords, with a doubling delay; the right password works once it expires', async () => {
    // One failure is forgotten per LOGIN_LOCKOUT_MAX_MS: a minute here, so however long the requests take on a
    // busy machine, the count (and so each doubling) is exact.
    const srv = await startServer({ ...lockout, loginLockoutMaxMs: 60_000 });
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
      expect(r.body.error?.retryAfterMs).toBeLessThanOrEqual(BASE);
    }
    // Keyed by the lower-cased username.
    expect((await login(srv.url, 'VICTIM', victim.password)).status).toBe(429);

    // Each further failure doubles the lock.
    for (const expected of [2 * BASE, 4 * BASE, 8 * BASE]) {
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
    expect(again.body.error?.retryAfterMs).toBeLessThanOrEqual(BASE); // back to the base delay
    // Other usernames are not affected.
    const other = await registerUser(srv.url, 'bystander');
    expect((await login(srv.url, 'bystander', other.password)).status).toBe(200);
  });

  it('an unknown username and a wrong password for a real one get the same answers, after the same work', async () => {
    // Locks long enough that the comparison below runs while they hold.
    const srv = await startServer({
      ...lockout,
      loginLockoutFailures: 4,
      loginLockoutBaseMs: 60_000,
      loginLockoutMaxMs: 60_000,
    });
    await registerUser(srv.url, 'realuser');
    // The work is counted, not timed (timing on a shared machine is noise): every scrypt verification the server
    // runs, with the cost it runs at.
    const hasher = srv.server.ports.hasher;
    const verify = hasher.verify.bind(hasher);
    const costs: string[] = [];
    hasher.verify = (password, stored) => {
      costs.push(stored.split('$')[1]!);
      return verify(password, stored);
    };
    const known: Answer[] = [];
    const unknown: Answer[] = [];
    const knownWork: string[][] = [];
    const unknownWork: string[][] = [];
    const worked = async (answers: Answer[], work: string[][], username: string) => {
      const from = costs.length;
      answers.push(await login(srv.url, username, WRONG));
      work.push(costs.slice(from));
    };
    for (let i = 0; i < 6; i++) {
      await worked(known, knownWork, 'realuser');
      await worked(unknown, unknownWork, 'ghostuser');
    }
    expect(known.map((a) => a.status)).toEqual([401, 401, 401, 401, 429, 429]);
    expect(known.map(shape)).toEqual(unknown.map(shape));
    for (let i = 0; i < 6; i++) {
      // Byte-identical bodies but for the countdown, which agrees to within the time between the two requests.
      const { retryAfterMs: a, ...restA } = known[i]!.body.error!;
      const { retryAfterMs: b, ...restB } = unknown[i]!.body.error!;
      expect(restA).toEqual(restB);
      // Each countdown is its lock's length minus its age; the two differ by at most the longer of the times
      // between the two requests that set the locks (the 4th pair) and the two that read them (this pair).
      const span = (j: number) => unknown[j]!.doneAt - known[j]!.sentAt;
      if (a !== undefined) expect(Math.abs(a - b!)).toBeLessThanOrEqual(Math.ceil(Math.max(span(i), span(3))) + 1);
    }
    // The same work: one verification at the server's cost per wrong password, account or not; none once locked.
    const cost = String(srv.config.scryptLog2N);
    expect(knownWork).toEqual([[cost], [cost], [cost], [cost], [], []]);
    expect(unknownWork).toEqual(knownWork);
    expect(known[0]!.body).toEqual({
      error: { code: 'invalid_credentials', message: known[0]!.body.error!.message, retryable: false },
    });
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

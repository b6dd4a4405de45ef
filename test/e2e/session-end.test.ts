import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { CLOSE_CODES } from '../../src/protocol/close-codes.js';
import type { SessionInfo } from '../../src/protocol/model.js';
import { registerUser, startServer, waitFor, type TestUser } from '../helpers/harness.js';
import {
  call,
  closedWithin,
  expectHelloRefused,
  expectStatus,
  live,
  wsSend,
  type Live,
} from '../helpers/moderation-kit.js';

/**
 * Issue #5: "Session end: logout-everywhere, password change, deactivation and ban each close that user's live
 * sockets and kill tokens" at once, and session expiry closes with 4007. "At once" is tested as "pushed": the
 * servers here re-check sessions only hourly, so a socket that closes at all was closed by the push.
 */
const NO_RECHECK = { sessionRecheckMs: 3_600_000 };

/** A second session for the same user (the first is the registration's). */
async function secondSession(url: string, u: TestUser): Promise<string> {
  return (await new ChatApi(url).login(u.username, u.password, 'second device')).token;
}

/**
 * Asserts the socket closes with `code`. Under NO_RECHECK only the push can close it; the bound only keeps a
 * broken push from hanging the test.
 */
async function expectClosedByPush(l: Live, code: number): Promise<void> {
  const closed = await closedWithin(l, 20_000);
  expect(closed.code).toBe(code);
}

async function expectTokenDead(url: string, token: string): Promise<void> {
  await expectStatus(url, token, 'GET', '/api/v1/me', undefined, 401, 'unauthorized');
  await expectHelloRefused(url, token);
}

describe('session end closes live sockets at once and kills tokens', () => {
  it('logout everywhere: every socket of every session closes with 4003; the tokens are dead', async () => {
    const srv = await startServer(NO_RECHECK);
    const alice = await registerUser(srv.url, 'alice');
    const other = await secondSession(srv.url, alice);
    const a1 = await live(srv.url, alice.token);
    const a1b = await live(srv.url, alice.token);
    const a2 = await live(srv.url, other);
    // Someone else's socket is untouched.
    const bob = await registerUser(srv.url, 'bob');
    const b = await live(srv.url, bob.token);

    const r = await call<{ revoked: number }>(srv.url, other, 'POST', '/api/v1/auth/logout-all');
    expect([r.status, r.body.revoked]).toEqual([200, 2]);
    for (const l of [a1, a1b, a2]) await expectClosedByPush(l, CLOSE_CODES.SESSION_REVOKED.code);
    for (const t of [alice.token, other]) await expectTokenDead(srv.url, t);

    expect(b.closeInfo).toBeUndefined();
    expect((await wsSend(b, 'lobby', 'still here')).type).toBe('ack');
  });

  it('password change: the other sessions close with 4003 and die; the changing session survives', async () => {
    const srv = await startServer(NO_RECHECK);
    const alice = await registerUser(srv.url, 'alice');
    const other = await secondSession(srv.url, alice);
    const mine = await live(srv.url, alice.token);
    const theirs = await live(srv.url, other);

    const r = await call(srv.url, alice.token, 'POST', '/api/v1/auth/password', {
      currentPassword: alice.password,
      newPassword: 'a brand new password',
    });
    expect(r.status).toBe(204);
    await expectClosedByPush(theirs, CLOSE_CODES.SESSION_REVOKED.code);
    await expectTokenDead(srv.url, other);

    // The session that changed the password keeps its token and its socket.
    expect(mine.closeInfo).toBeUndefined();
    expect((await wsSend(mine, 'lobby', 'still connected')).type).toBe('ack');
    await expectStatus(srv.url, alice.token, 'GET', '/api/v1/me', undefined, 200);
    const sessions = await call<{ sessions: SessionInfo[] }>(srv.url, alice.token, 'GET', '/api/v1/auth/sessions');
    expect(sessions.body.sessions.map((s) => s.current)).toEqual([true]);
    // Only the new password logs in.
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/login',
      {
        username: 'alice',
        password: alice.password,
      },
      401,
      'invalid_credentials',
    );
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/login',
      {
        username: 'alice',
        password: 'a brand new password',
      },
      200,
    );
  });

  it('revoking one session closes only that session’s sockets (4003)', async () => {
    const srv = await startServer(NO_RECHECK);
    const alice = await registerUser(srv.url, 'alice');
    const other = await secondSession(srv.url, alice);
    const mine = await live(srv.url, alice.token);
    const theirs = await live(srv.url, other);
    const sessionId = theirs.welcome.sessionId as string;

    const r = await call(srv.url, alice.token, 'DELETE', `/api/v1/auth/sessions/${sessionId}`);
    expect(r.status).toBe(204);
    await expectClosedByPush(theirs, CLOSE_CODES.SESSION_REVOKED.code);
    await expectTokenDead(srv.url, other);
    expect(mine.closeInfo).toBeUndefined();
    expect((await wsSend(mine, 'lobby', 'unaffected')).type).toBe('ack');
  });

  it('deactivation by an admin: every socket closes with 4006, tokens die, login is refused until reactivated', async () => {
    const srv = await startServer(NO_RECHECK);
    const admin = await registerUser(srv.url, 'admin');
    const alice = await registerUser(srv.url, 'alice');
    const other = await secondSession(srv.url, alice);
    const socks = [await live(srv.url, alice.token), await live(srv.url, other)];
    const watcher = await live(srv.url, admin.token);

    const r = await call(srv.url, admin.token, 'POST', `/api/v1/admin/users/${alice.user.id}/deactivate`);
    expect(r.status).toBe(204);
    for (const l of socks) await expectClosedByPush(l, CLOSE_CODES.ACCOUNT_DISABLED.code);
    for (const t of [alice.token, other]) await expectTokenDead(srv.url, t);
    const login = { username: 'alice', password: alice.password };
    await expectStatus(srv.url, undefined, 'POST', '/api/v1/auth/login', login, 403, 'account_disabled');
    // A wrong password does not learn that the account is disabled.
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/login',
      {
        username: 'alice',
        password: 'wrong password',
      },
      401,
      'invalid_credentials',
    );
    // The admin's socket is unaffected; the admin sees the account as deactivated.
    expect(watcher.closeInfo).toBeUndefined();
    const users = await call<{ users: { id: string; deactivated: boolean }[] }>(
      srv.url,
      admin.token,
      'GET',
      '/api/v1/admin/users?q=alice',
    );
    expect(users.body.users.find((u) => u.id === alice.user.id)?.deactivated).toBe(true);

    await expectStatus(srv.url, admin.token, 'POST', `/api/v1/admin/users/${alice.user.id}/reactivate`, undefined, 204);
    const back = await call<{ token: string }>(srv.url, undefined, 'POST', '/api/v1/auth/login', login);
    expect(back.status).toBe(200);
    const again = await live(srv.url, back.body.token);
    expect((await wsSend(again, 'lobby', 'back again')).type).toBe('ack');
  });

  it('a server ban closes every socket with 4006 and kills tokens; a timed ban ends by itself', async () => {
    const srv = await startServer(NO_RECHECK);
    const admin = await registerUser(srv.url, 'admin');
    const alice = await registerUser(srv.url, 'alice');
    const other = await secondSession(srv.url, alice);
    const socks = [await live(srv.url, alice.token), await live(srv.url, other)];

    // Long enough for every check below to run while it holds, however slow the machine; then it lapses.
    const before = Date.now();
    const r = await call(srv.url, admin.token, 'PUT', `/api/v1/admin/users/${alice.user.id}/ban`, {
      durationSec: 5,
      reason: 'cool off',
    });
    expect(r.status).toBe(204);
    const login = { username: 'alice', password: alice.password };
    await expectStatus(srv.url, undefined, 'POST', '/api/v1/auth/login', login, 403, 'account_disabled');
    for (const l of socks) await expectClosedByPush(l, CLOSE_CODES.ACCOUNT_DISABLED.code);
    for (const t of [alice.token, other]) await expectTokenDead(srv.url, t);
    const listed = await call<{ users: { id: string; bannedUntil: string | null }[] }>(
      srv.url,
      admin.token,
      'GET',
      '/api/v1/admin/users?q=alice',
    );
    const until = Date.parse(listed.body.users.find((u) => u.id === alice.user.id)!.bannedUntil!);
    expect(until).toBeGreaterThanOrEqual(before + 5000);
    expect(until).toBeLessThanOrEqual(r.at + 5000);

    // The ban lapses: logging in works again (polled, bounded).
    const token = await waitFor(
      async () => {
        const res = await call<{ token: string }>(srv.url, undefined, 'POST', '/api/v1/auth/login', login);
        return res.status === 200 ? res.body.token : undefined;
      },
      20_000,
      'login after the ban expired',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    const l = await live(srv.url, token!);
    expect((await wsSend(l, 'lobby', 'served my time')).type).toBe('ack');
  });

  it('an indefinite server ban lasts until an admin lifts it', async () => {
    const srv = await startServer(NO_RECHECK);
    const admin = await registerUser(srv.url, 'admin');
    const alice = await registerUser(srv.url, 'alice');
    const sock = await live(srv.url, alice.token);
    const r = await call(srv.url, admin.token, 'PUT', `/api/v1/admin/users/${alice.user.id}/ban`, {});
    expect(r.status).toBe(204);
    await expectClosedByPush(sock, CLOSE_CODES.ACCOUNT_DISABLED.code);
    const login = { username: 'alice', password: alice.password };
    await expectStatus(srv.url, undefined, 'POST', '/api/v1/auth/login', login, 403, 'account_disabled');
    // Only admins ban; an admin cannot ban themselves.
    await expectStatus(
      srv.url,
      alice.token,
      'PUT',
      `/api/v1/admin/users/${admin.user.id}/ban`,
      {},
      401,
      'unauthorized',
    );
    await expectStatus(srv.url, admin.token, 'PUT', `/api/v1/admin/users/${admin.user.id}/ban`, {}, 403, 'forbidden');
    await expectStatus(srv.url, admin.token, 'DELETE', `/api/v1/admin/users/${alice.user.id}/ban`, undefined, 204);
    await expectStatus(srv.url, undefined, 'POST', '/api/v1/auth/login', login, 200);
  });

  it('admin forced logout closes every socket with 4003 but leaves the account usable', async () => {
    const srv = await startServer(NO_RECHECK);
    const admin = await registerUser(srv.url, 'admin');
    const alice = await registerUser(srv.url, 'alice');
    const sock = await live(srv.url, alice.token);
    const r = await call<{ revoked: number }>(
      srv.url,
      admin.token,
      'POST',
      `/api/v1/admin/users/${alice.user.id}/logout`,
    );
    expect([r.status, r.body.revoked]).toEqual([200, 1]);
    await expectClosedByPush(sock, CLOSE_CODES.SESSION_REVOKED.code);
    await expectTokenDead(srv.url, alice.token);
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/login',
      {
        username: 'alice',
        password: alice.password,
      },
      200,
    );
  });

  it('a non-admin can neither deactivate, ban nor log out others', async () => {
    const srv = await startServer(NO_RECHECK);
    await registerUser(srv.url, 'admin');
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const sock = await live(srv.url, bob.token);
    for (const [method, path] of [
      ['POST', `/api/v1/admin/users/${bob.user.id}/deactivate`],
      ['POST', `/api/v1/admin/users/${bob.user.id}/logout`],
      ['PUT', `/api/v1/admin/users/${bob.user.id}/ban`],
    ] as const) {
      await expectStatus(srv.url, alice.token, method, path, method === 'PUT' ? {} : undefined, 403, 'forbidden');
    }
    // Had any of them revoked Bob, his socket would close before it could answer this send.
    expect((await wsSend(sock, 'lobby', 'still here')).type).toBe('ack');
    expect(sock.closeInfo).toBeUndefined();
    await expectStatus(srv.url, bob.token, 'GET', '/api/v1/me', undefined, 200);
  });
});

describe('session expiry', () => {
  // SESSION_TTL_DAYS is whole days in production; the harness passes config unvalidated, so a test can ask
  // for a session that lives two seconds.
  const TTL_MS = 2000;

  it('an open socket closes with 4007 when its session expires, and the token stops working', async () => {
    const srv = await startServer({ sessionTtlDays: TTL_MS / 86_400_000, ...NO_RECHECK });
    const alice = await registerUser(srv.url, 'alice');
    const sock = await live(srv.url, alice.token);
    const sessions = await call<{ sessions: SessionInfo[] }>(srv.url, alice.token, 'GET', '/api/v1/auth/sessions');
    const expiresAt = Date.parse(sessions.body.sessions[0]!.expiresAt);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(TTL_MS);

    // Closed at expiry, not at the next periodic re-check (an hour away here); the bound only stops a hang.
    const closed = await closedWithin(sock, TTL_MS + 20_000);
    expect(closed.code).toBe(CLOSE_CODES.SESSION_EXPIRED.code);
    expect(closed.at).toBeGreaterThanOrEqual(expiresAt - 50);
    await expectTokenDead(srv.url, alice.token);
  });

  it('a session revoked behind the bus’s back is still caught by the periodic re-check', async () => {
    // Deleting the session in the store directly publishes no revoke (like a bus message lost on the way), so
    // only the re-check every SESSION_RECHECK_MS can notice.
    const srv = await startServer({ sessionRecheckMs: 1000 });
    const alice = await registerUser(srv.url, 'alice');
    const sock = await live(srv.url, alice.token);
    const store = srv.server.ports.store;
    await store.deleteSessions(alice.user.id);
    const closed = await closedWithin(sock, 20_000);
    expect(closed.code).toBe(CLOSE_CODES.SESSION_REVOKED.code);
  });
});

import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { CLOSE_CODES } from '../../src/protocol/close-codes.js';
import { connect, registerUser, startServer, waitFor } from '../helpers/harness.js';

async function post(url: string, path: string, body: unknown, token?: string) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { error?: { code: string } } & Record<string, unknown> };
}

describe('accounts and sessions', () => {
  it('validates usernames and passwords, and usernames are unique ignoring case', async () => {
    const srv = await startServer();
    for (const username of ['ab', 'a'.repeat(33), 'has space', '-leading', 'émile', '<script>']) {
      const r = await post(srv.url, '/api/v1/auth/register', { username, password: 'long enough pw' });
      expect([username, r.status, r.json.error?.code]).toEqual([username, 400, 'validation_failed']);
    }
    expect((await post(srv.url, '/api/v1/auth/register', { username: 'okname', password: 'short' })).status).toBe(400);
    expect(
      (await post(srv.url, '/api/v1/auth/register', { username: 'Alice', password: 'long enough pw' })).status,
    ).toBe(201);
    const dup = await post(srv.url, '/api/v1/auth/register', { username: 'aLICE', password: 'long enough pw' });
    expect([dup.status, dup.json.error?.code]).toEqual([409, 'username_taken']);
    const wrongType = await post(srv.url, '/api/v1/auth/register', { username: ['x'], password: { $gt: '' } });
    expect(wrongType.status).toBe(400);
    const badJson = await post(srv.url, '/api/v1/auth/register', '{"username": ');
    expect([badJson.status, badJson.json.error?.code]).toEqual([400, 'bad_json']);
  });

  it('logs in case-insensitively; wrong password and unknown user answer identically', async () => {
    const srv = await startServer();
    await registerUser(srv.url, 'Carol');
    const api = new ChatApi(srv.url);
    const me = await api.login('carol', 'correct horse battery');
    expect(me.user.username).toBe('Carol');
    const wrong = await post(srv.url, '/api/v1/auth/login', { username: 'carol', password: 'nope nope' });
    const unknown = await post(srv.url, '/api/v1/auth/login', { username: 'nobody', password: 'nope nope' });
    expect(wrong).toEqual(unknown);
    expect(wrong.status).toBe(401);
    expect(wrong.json.error?.code).toBe('invalid_credentials');
  });

  it('rate-limits login attempts per account', async () => {
    const srv = await startServer({ loginsPerMinute: 3 });
    await registerUser(srv.url, 'dave');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await post(srv.url, '/api/v1/auth/login', { username: 'dave', password: 'x'.repeat(9) })).status);
    expect(codes).toEqual([401, 401, 401, 429, 429]);
  });

  it('the first user is server admin; later ones are not', async () => {
    const srv = await startServer();
    const first = await registerUser(srv.url);
    const second = await registerUser(srv.url);
    expect(first.user.role).toBe('admin');
    expect(second.user.role).toBe('user');
  });

  it('tokens are opaque, long, and sessions are listed, revocable, and multi-device', async () => {
    const srv = await startServer();
    const u = await registerUser(srv.url, 'erin');
    expect(u.token.length).toBeGreaterThanOrEqual(43); // 256 bits in base64url
    const laptop = new ChatApi(srv.url);
    await laptop.login('erin', u.password, 'laptop');
    const sessions = await laptop.sessions();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const other = sessions.find((s) => !s.current)!;
    await laptop.revokeSession(other.id);
    await expect(u.api.me()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect((await laptop.me()).username).toBe('erin');
    await laptop.logout();
    await expect(laptop.me()).rejects.toMatchObject({ status: 401 });
  });

  it('logout everywhere kills every token and closes every socket with 4003', async () => {
    const srv = await startServer();
    const u = await registerUser(srv.url, 'frank');
    const other = new ChatApi(srv.url);
    await other.login('frank', u.password);
    const c1 = await connect(srv.url, u.token);
    const c2 = await connect(srv.url, other.token!);
    const codes: number[] = [];
    c1.on('disconnect', (d) => codes.push(d.code));
    c2.on('disconnect', (d) => codes.push(d.code));
    expect(await u.api.logoutEverywhere()).toEqual({ revoked: 2 });
    await waitFor(() => codes.length === 2, 1000, 'both sockets closed within 1 s');
    expect(codes).toEqual([CLOSE_CODES.SESSION_REVOKED.code, CLOSE_CODES.SESSION_REVOKED.code]);
    expect(c1.state).toBe('closed'); // 4003 means: do not reconnect
    await expect(other.me()).rejects.toMatchObject({ status: 401 });
  });

  it('changing the password revokes the other sessions but keeps this one', async () => {
    const srv = await startServer();
    const u = await registerUser(srv.url, 'gina');
    const phone = new ChatApi(srv.url);
    await phone.login('gina', u.password);
    const phoneSocket = await connect(srv.url, phone.token!);
    const closed = new Promise<number>((r) => phoneSocket.on('disconnect', (d) => r(d.code)));
    await expect(u.api.changePassword('wrong current', 'brand new password')).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    await u.api.changePassword(u.password, 'brand new password');
    expect(await closed).toBe(CLOSE_CODES.SESSION_REVOKED.code);
    await expect(phone.me()).rejects.toMatchObject({ status: 401 });
    expect((await u.api.me()).username).toBe('gina');
    await expect(new ChatApi(srv.url).login('gina', u.password)).rejects.toMatchObject({ code: 'invalid_credentials' });
    await new ChatApi(srv.url).login('gina', 'brand new password');
  });

  it('profiles: display name and status text, validated', async () => {
    const srv = await startServer();
    const u = await registerUser(srv.url);
    const updated = await u.api.updateProfile({ displayName: 'Hana 🌸', statusText: 'in a meeting' });
    expect(updated).toMatchObject({ displayName: 'Hana 🌸', statusText: 'in a meeting' });
    await expect(u.api.updateProfile({ displayName: 'bad\u0007name' })).rejects.toMatchObject({ status: 400 });
    await expect(u.api.updateProfile({ displayName: 'x'.repeat(65) })).rejects.toMatchObject({ status: 400 });
    const other = await registerUser(srv.url);
    const seen = await other.api.request<{ user: { displayName: string }; presence: string }>(
      'GET',
      `/api/v1/users/${u.user.id}`,
    );
    expect(seen.user.displayName).toBe('Hana 🌸');
    expect((await other.api.searchUsers(u.username.slice(0, 6))).map((x) => x.id)).toContain(u.user.id);
  });

  it('a profile change reaches every other connection live, once per change, and is rate-limited', async () => {
    const srv = await startServer({ profileChangesPerMinute: 3 });
    const u = await registerUser(srv.url);
    const other = await registerUser(srv.url); // shares no room with u but the lobby: names show anywhere
    const client = await connect(srv.url, other.token);
    const seen: { id: string; displayName: string; statusText: string }[] = [];
    client.on('profile', (f) =>
      seen.push({ id: f.user.id, displayName: f.user.displayName, statusText: f.user.statusText }),
    );
    await u.api.updateProfile({ displayName: u.user.displayName }); // nothing changed: nothing to tell
    await u.api.updateProfile({ displayName: 'Hana 🌸' });
    await waitFor(() => seen.length > 0, 5000, 'the profile frame');
    await u.api.updateProfile({ statusText: 'in a meeting' });
    await waitFor(() => seen.length > 1, 5000, 'the second profile frame');
    expect(seen).toEqual([
      { id: u.user.id, displayName: 'Hana 🌸', statusText: '' },
      { id: u.user.id, displayName: 'Hana 🌸', statusText: 'in a meeting' },
    ]);
    // Three changes a minute (the no-op counted): each is a frame to every connection of the server.
    await expect(u.api.updateProfile({ displayName: 'Hana' })).rejects.toMatchObject({
      status: 429,
      code: 'rate_limited',
    });
    expect((await u.api.me()).displayName).toBe('Hana 🌸');
  });

  it('API answers are never cached and need a bearer token', async () => {
    const srv = await startServer();
    const res = await fetch(`${srv.url}/api/v1/me`);
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const u = await registerUser(srv.url);
    const viaQuery = await fetch(`${srv.url}/api/v1/me?token=${u.token}`);
    expect(viaQuery.status).toBe(401);
  });

  it('an admin announcement reaches every online user; others may not announce', async () => {
    const srv = await startServer();
    const admin = await registerUser(srv.url);
    const users = await Promise.all([registerUser(srv.url), registerUser(srv.url)]);
    const clients = await Promise.all(users.map((u) => connect(srv.url, u.token)));
    const got: string[] = [];
    for (const c of clients) c.on('announcement', (a) => got.push(a.announcement.body));
    await expect(users[0]!.api.announce('not allowed')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await admin.api.announce('maintenance at 22:00');
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['maintenance at 22:00', 'maintenance at 22:00']);
  });
});

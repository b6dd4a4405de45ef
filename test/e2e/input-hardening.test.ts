import { describe, expect, it } from 'vitest';
import { rawSocket, registerUser, startServer, waitFor } from '../helpers/harness.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';

/** Findings 6, 7, 9 and 11 of issue 21: ill-formed text, session labels, loose numbers, oversized error bodies. */

interface Answer {
  status: number;
  text: string;
  body: { error?: { code: string; issues?: { path: string; message: string }[] } } & Record<string, unknown>;
}

async function call(url: string, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

const LONE = 'M\ud800B';

describe('ill-formed UTF-16 (lone surrogates) is refused everywhere', () => {
  it('HTTP: every string field, and object keys, answer 400 validation_failed; nothing is stored', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const room = (await call(srv.url, 'POST', '/rooms', { name: 'surrogates' }, alice.token)).body.room as {
      id: string;
    };
    const cases: [string, string, unknown][] = [
      ['POST', `/rooms/${room.id}/messages`, { body: LONE, clientMsgId: 'c1' }],
      ['POST', `/rooms/${room.id}/messages`, { body: 'ok', clientMsgId: 'c2', [LONE]: 1 }],
      ['PATCH', '/me', { displayName: LONE }],
      ['PATCH', '/me', { statusText: LONE }],
      ['POST', '/rooms', { name: LONE }],
      ['POST', '/rooms', { name: 'fine', topic: LONE }],
      ['PATCH', `/rooms/${room.id}`, { topic: LONE }],
      ['PATCH', `/rooms/${room.id}`, { name: LONE }],
      ['POST', '/auth/register', { username: 'newbie', password: 'long enough pw', displayName: LONE }],
      ['POST', '/auth/login', { username: alice.username, password: alice.password, label: LONE }],
      ['POST', '/announcements', { body: LONE }],
      ['POST', '/reports', { userId: alice.user.id, reason: LONE }],
    ];
    for (const [method, path, body] of cases) {
      const r = await call(srv.url, method, path, body, alice.token);
      expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, 400, 'validation_failed']);
      expect(r.body.error?.issues?.[0]?.message).toMatch(/well-formed/);
    }
    const history = await call(srv.url, 'GET', `/rooms/${room.id}/messages`, undefined, alice.token);
    expect(history.text).not.toContain('\ufffd');
    expect((history.body.messages as unknown[]).length).toBe(0);
    const me = await call(srv.url, 'GET', '/me', undefined, alice.token);
    expect(me.text).not.toContain('\ufffd');
  });

  it('WebSocket: a send with a lone surrogate gets an error frame, and is neither delivered nor stored', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const sock = await rawSocket(srv.url);
    sock.send({ type: 'hello', v: PROTOCOL_VERSION, token: alice.token });
    await waitFor(() => sock.frames.find((f) => f.type === 'welcome'));
    sock.send({ type: 'send', roomId: 'lobby', clientMsgId: 'bad-1', body: LONE, ref: 'r1' });
    sock.send({ type: 'send', roomId: 'lobby', clientMsgId: 'good-1', body: 'marker', ref: 'r2' });
    const err = await waitFor(() => sock.frames.find((f) => f.type === 'error' && f.ref === 'r1'));
    expect(err?.code).toBe('validation_failed');
    await waitFor(() => sock.frames.find((f) => f.type === 'ack' && f.clientMsgId === 'good-1'));
    const bodies = sock.frames.filter((f) => f.type === 'event').map((f) => (f.event as { body: string }).body);
    expect(bodies).not.toContain(LONE);
    const history = await call(srv.url, 'GET', '/rooms/lobby/messages', undefined, alice.token);
    expect((history.body.messages as { body: string }[]).map((m) => m.body)).toEqual(['marker']);
  });
});

describe('session labels follow the rules of other names', () => {
  it('refuses NUL, other control characters and bidi controls in a login label', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    for (const label of ['lap\u0000top', 'evil\u202egnp.exe', 'tab\there', 'x\u2066y']) {
      const r = await call(srv.url, 'POST', '/auth/login', {
        username: alice.username,
        password: alice.password,
        label,
      });
      expect([label, r.status, r.body.error?.code]).toEqual([label, 400, 'validation_failed']);
    }
    const ok = await call(srv.url, 'POST', '/auth/login', {
      username: alice.username,
      password: alice.password,
      label: 'laptop 💻',
    });
    expect(ok.status).toBe(200);
    const sessions = (await call(srv.url, 'GET', '/auth/sessions', undefined, alice.token)).body.sessions as {
      label: string;
    }[];
    expect(sessions.map((s) => s.label)).toContain('laptop 💻');
  });
});

describe('path and query integers are plain decimal', () => {
  it('refuses hex, signs, exponents and spaces in after/before/limit and in a :seq path parameter', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    for (let i = 1; i <= 5; i++) {
      const r = await call(
        srv.url,
        'POST',
        '/rooms/lobby/messages',
        { body: `m${i}`, clientMsgId: `m${i}` },
        alice.token,
      );
      expect(r.status).toBe(201);
    }
    for (const q of [
      'after=0x10',
      'limit=+5',
      'after=1e3',
      'before=%205',
      'limit=0b1',
      'after=1.0',
      'limit=-1',
      'after=',
    ]) {
      const r = await call(srv.url, 'GET', `/rooms/lobby/messages?${q}`, undefined, alice.token);
      expect([q, r.status, r.body.error?.code]).toEqual([q, 400, 'validation_failed']);
    }
    const del = await call(srv.url, 'DELETE', '/rooms/lobby/messages/0x4', undefined, alice.token);
    expect([del.status, del.body.error?.code]).toEqual([400, 'validation_failed']);
    const reports = await call(srv.url, 'GET', '/reports?limit=1e1', undefined, alice.token);
    expect(reports.status).toBe(400);
    // Nothing was deleted, and plain decimals still work.
    const all = (await call(srv.url, 'GET', '/rooms/lobby/messages', undefined, alice.token)).body.messages as {
      body: string;
      seq: number;
    }[];
    expect(all.map((m) => m.body)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    const after = all[1]!.seq;
    const page = await call(srv.url, 'GET', `/rooms/lobby/messages?after=${after}&limit=2`, undefined, alice.token);
    expect((page.body.messages as { body: string }[]).map((m) => m.body)).toEqual(['m3', 'm4']);
    const ok = await call(srv.url, 'DELETE', `/rooms/lobby/messages/${all[3]!.seq}`, undefined, alice.token);
    expect(ok.status).toBe(204);
  });
});

describe('validation errors stay small', () => {
  it('a body with thousands of unknown keys gets a short 400, not one that lists them all', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const body: Record<string, unknown> = { body: 'x', clientMsgId: 'c1' };
    for (let i = 0; i < 6000; i++) body[`k${i.toString(36)}`] = 0;
    const r = await call(srv.url, 'POST', '/rooms/lobby/messages', body, alice.token);
    expect([r.status, r.body.error?.code]).toEqual([400, 'validation_failed']);
    expect(r.text.length).toBeLessThan(4096);
    expect(r.body.error?.issues?.[0]?.message).toMatch(/"k0"/);
  });

  it('many failing fields: at most 20 issues, each message and path cut to a bounded length', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const items = Array.from({ length: 500 }, () => 'not a username!');
    const r = await call(srv.url, 'POST', '/dms', { usernames: items }, alice.token);
    expect(r.status).toBe(400);
    const longKey = await call(srv.url, 'POST', '/dms', { usernames: ['bob'], ['k'.repeat(5000)]: 1 }, alice.token);
    expect(longKey.status).toBe(400);
    const longPath = await call(srv.url, 'POST', '/dms', { [`${LONE}${'k'.repeat(5000)}`]: 1 }, alice.token);
    expect(longPath.status).toBe(400);
    for (const a of [r, longKey, longPath]) {
      expect(a.body.error?.issues?.length).toBeLessThanOrEqual(20);
      for (const i of a.body.error?.issues ?? []) {
        expect(i.message.length).toBeLessThanOrEqual(200);
        expect(i.path.length).toBeLessThanOrEqual(200);
      }
    }
  });

  it('a frame failing in 100 places gets an error listing 20 of them; the socket stays usable', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const sock = await rawSocket(srv.url);
    const resume = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`r_${i}`, -1]));
    sock.send({ type: 'hello', v: PROTOCOL_VERSION, token: alice.token, resume, ref: 'h1' });
    const err = await waitFor(() => sock.frames.find((f) => f.type === 'error' && f.ref === 'h1'));
    expect(err?.code).toBe('validation_failed');
    const issues = (err as { issues?: { path: string }[] }).issues ?? [];
    expect(issues).toHaveLength(20);
    expect(issues[0]?.path).toBe('resume.r_0');
    sock.send({ type: 'hello', v: PROTOCOL_VERSION, token: alice.token });
    await waitFor(() => sock.frames.find((f) => f.type === 'welcome'));
  });
});

describe('search text and the lobby (doc drift)', () => {
  it('a control character in a search query is refused instead of matching every room or user', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    await call(srv.url, 'POST', '/rooms', { name: 'alpha' }, alice.token);
    for (const path of ['/rooms?q=%00', '/rooms?q=a%00', '/users?q=%00', '/admin/users?q=%01', '/rooms?q=%7F']) {
      const r = await call(srv.url, 'GET', path, undefined, alice.token);
      expect([path, r.status, r.body.error?.code]).toEqual([path, 400, 'validation_failed']);
    }
    const none = await call(srv.url, 'GET', '/rooms?q=zzz', undefined, alice.token);
    expect(none.body.rooms).toEqual([]);
  });

  it('in the lobby, which has no owner, only a server admin can give roles or rename it', async () => {
    const srv = await startServer();
    const admin = await registerUser(srv.url); // the first account is a server admin
    const bob = await registerUser(srv.url);
    const carol = await registerUser(srv.url);
    expect(admin.user.role).toBe('admin');
    const byBob = await call(
      srv.url,
      'PUT',
      `/rooms/lobby/members/${carol.user.id}/role`,
      { role: 'moderator' },
      bob.token,
    );
    expect([byBob.status, byBob.body.error?.code]).toEqual([403, 'forbidden']);
    expect((await call(srv.url, 'PATCH', '/rooms/lobby', { topic: 'mine now' }, bob.token)).status).toBe(403);
    const byAdmin = await call(
      srv.url,
      'PUT',
      `/rooms/lobby/members/${bob.user.id}/role`,
      { role: 'moderator' },
      admin.token,
    );
    expect(byAdmin.status).toBe(204);
    expect((await call(srv.url, 'PATCH', '/rooms/lobby', { topic: 'Welcome!' }, admin.token)).status).toBe(200);
  });
});

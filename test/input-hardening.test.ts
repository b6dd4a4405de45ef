import { describe, expect, it } from 'vitest';
import { rawSocket, registerUser, startServer, waitFor } from './helpers/harness.js';
import { PROTOCOL_VERSION } from '../src/protocol/version.js';

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

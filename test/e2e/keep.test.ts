import { describe, expect, it } from 'vitest';
import { ChatApi, type AccountExport } from '../../src/client/api.js';
import { LOBBY_ROOM_ID } from '../../src/core/context.js';
import { CLOSE_CODES } from '../../src/protocol/close-codes.js';
import type { AuditEntry, RoomEvent } from '../../src/protocol/model.js';
import { registerUser, startServer, type TestServer } from '../helpers/harness.js';
import {
  call,
  closedWithin,
  expectHelloRefused,
  expectStatus,
  history,
  httpSend,
  live,
  wsSend,
} from '../helpers/moderation-kit.js';

/**
 * Issue 18, keeping and leaving: deleting one's account (keep or erase the messages), admin-issued one-time password
 * reset links, one's own data export. Sessions are re-checked only hourly here, so a socket that closes at all was
 * closed by the push.
 */
const NO_RECHECK = { sessionRecheckMs: 3_600_000 };

async function expectTokenDead(url: string, token: string): Promise<void> {
  await expectStatus(url, token, 'GET', '/api/v1/me', undefined, 401, 'unauthorized');
  await expectHelloRefused(url, token);
}

/** A private room of `owner` with `others` in it. */
async function roomWith(srv: TestServer, owner: { api: ChatApi }, others: { username: string; api: ChatApi }[]) {
  const room = await owner.api.createRoom(`keep${process.pid}${Math.random().toString(36).slice(2, 8)}`, 'private');
  for (const o of others) {
    await owner.api.invite(room.id, o.username);
    await o.api.join(room.id);
  }
  return room;
}

describe('account deletion (DELETE /api/v1/me)', () => {
  it('keep: messages stay under "Deleted user"; sockets close 4006 at once; the name is free; audited', async () => {
    const srv = await startServer(NO_RECHECK);
    const admin = await registerUser(srv.url, 'admin');
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const room = await roomWith(srv, alice, [bob]);
    await httpSend(srv.url, alice.token, room.id, 'kept words');
    await httpSend(srv.url, alice.token, LOBBY_ROOM_ID, 'lobby words');
    const other = (await new ChatApi(srv.url).login('alice', alice.password, 'second device')).token;
    const socks = [await live(srv.url, alice.token), await live(srv.url, other)];
    const watcher = await live(srv.url, bob.token);

    // A wrong password changes nothing.
    await expectStatus(
      srv.url,
      alice.token,
      'DELETE',
      '/api/v1/me',
      { password: 'not my password', messages: 'keep' },
      401,
      'invalid_credentials',
    );
    await expectStatus(
      srv.url,
      alice.token,
      'DELETE',
      '/api/v1/me',
      { password: alice.password },
      400,
      'validation_failed',
    );
    expect(socks.every((s) => s.closeInfo === undefined)).toBe(true);

    const from = watcher.frames.length;
    const r = await call<{ erased: number; roomsLeft: number }>(srv.url, alice.token, 'DELETE', '/api/v1/me', {
      password: alice.password,
      messages: 'keep',
    });
    expect([r.status, r.body]).toEqual([200, { erased: 0, roomsLeft: 2 }]);
    for (const s of socks) expect((await closedWithin(s, 20_000)).code).toBe(CLOSE_CODES.ACCOUNT_DISABLED.code);
    for (const t of [alice.token, other]) await expectTokenDead(srv.url, t);
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/login',
      { username: 'alice', password: alice.password },
      401,
      'invalid_credentials',
    );

    // Bob sees alice leave the room, and her words stay, her id on them.
    const left = await watcher.next(
      (f) =>
        f.type === 'event' &&
        (f.event as RoomEvent).type === 'member.left' &&
        (f.event as RoomEvent).roomId === room.id,
      'member.left',
      from,
    );
    expect((left.event as RoomEvent).data).toMatchObject({ userId: alice.user.id, reason: 'left' });
    const msgs = (await history(srv.url, bob.token, room.id)).filter((e) => e.type === 'message');
    expect(msgs.map((m) => [m.senderId, m.body])).toEqual([[alice.user.id, 'kept words']]);
    // The account reads as a deleted user; its members' lists no longer hold it.
    const members = await call<{ members: { user: { id: string } }[] }>(
      srv.url,
      bob.token,
      'GET',
      `/api/v1/rooms/${room.id}/members`,
    );
    expect(members.body.members.map((m) => m.user.id)).not.toContain(alice.user.id);
    const directory = await call<{ users: { id: string; username: string; displayName: string; deleted?: true }[] }>(
      srv.url,
      admin.token,
      'GET',
      '/api/v1/admin/users?q=deleted',
    );
    expect(directory.body.users.find((u) => u.id === alice.user.id)).toMatchObject({
      username: `deleted~${alice.user.id}`,
      displayName: 'Deleted user',
      deleted: true,
    });

    // Her messages' sender still answers, as a deleted user.
    const sender = await call<{ user: { displayName: string; deleted?: true } }>(
      srv.url,
      bob.token,
      'GET',
      `/api/v1/users/${alice.user.id}`,
    );
    expect([sender.status, sender.body.user]).toEqual([
      200,
      expect.objectContaining({ displayName: 'Deleted user', deleted: true }),
    ]);
    // The name is free: someone new may take it, as a different account.
    const newAlice = await registerUser(srv.url, 'alice');
    expect(newAlice.user.id).not.toBe(alice.user.id);
    expect(msgs[0]!.senderId).not.toBe(newAlice.user.id);

    const audit = await call<{ entries: AuditEntry[] }>(srv.url, admin.token, 'GET', '/api/v1/admin/audit?limit=20');
    expect(audit.body.entries.find((e) => e.action === 'user.delete')).toMatchObject({
      targetUserId: alice.user.id,
      data: { messages: 'keep', erased: 0 },
    });
  });

  it('erase: every message of theirs goes as a message.deleted on its room sequence, live to the others', async () => {
    const srv = await startServer(NO_RECHECK);
    await registerUser(srv.url, 'admin');
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const room = await roomWith(srv, bob, [alice]);
    const mine: number[] = [];
    for (const body of ['one', 'two', 'three']) {
      mine.push((await httpSend(srv.url, alice.token, room.id, body)).body.message.seq);
    }
    const bobs = (await httpSend(srv.url, bob.token, room.id, 'bob stays')).body.message.seq;
    mine.push((await httpSend(srv.url, alice.token, LOBBY_ROOM_ID, 'lobby too')).body.message.seq);
    // One already deleted by its author is not deleted twice.
    await expectStatus(srv.url, alice.token, 'DELETE', `/api/v1/rooms/${room.id}/messages/${mine[0]}`, undefined, 204);
    const watcher = await live(srv.url, bob.token);
    const from = watcher.frames.length;

    const r = await call<{ erased: number; roomsLeft: number }>(srv.url, alice.token, 'DELETE', '/api/v1/me', {
      password: alice.password,
      messages: 'erase',
    });
    expect([r.status, r.body]).toEqual([200, { erased: 3, roomsLeft: 2 }]);

    // Live: bob's socket gets the deletes (and then alice's leaving) in sequence order, gap-free.
    const left = await watcher.next(
      (f) =>
        f.type === 'event' &&
        (f.event as RoomEvent).type === 'member.left' &&
        (f.event as RoomEvent).roomId === room.id,
      'member.left',
      from,
    );
    const got = watcher
      .aboutRoom(room.id, from)
      .filter((f) => f.type === 'event')
      .map((f) => f.event as RoomEvent);
    expect(got.map((e) => [e.type, e.type === 'message.deleted' ? e.data?.seq : e.data?.userId])).toEqual([
      ['message.deleted', mine[1]],
      ['message.deleted', mine[2]],
      ['member.left', alice.user.id],
    ]);
    expect(got.map((e) => e.seq)).toEqual([got[0]!.seq, got[0]!.seq + 1, got[0]!.seq + 2]);
    expect(left.event).toEqual(got[2]);

    // History: her bodies are gone (in the lobby too), bob's stays.
    const msgs = (await history(srv.url, bob.token, room.id)).filter((e) => e.type === 'message');
    expect(msgs.map((m) => [m.seq, m.body, Boolean(m.data?.deleted)])).toEqual([
      [mine[0], '', true],
      [mine[1], '', true],
      [mine[2], '', true],
      [bobs, 'bob stays', false],
    ]);
    const lobby = await history(srv.url, bob.token, LOBBY_ROOM_ID);
    expect(lobby.find((m) => m.seq === mine[3])).toMatchObject({ body: '', data: { deleted: true } });
  });

  it('a bot token may not delete its account, and a deleted account cannot be deleted twice', async () => {
    const srv = await startServer(NO_RECHECK);
    const admin = await registerUser(srv.url, 'admin');
    const bot = await admin.api.createBot({ username: `keepbot${process.pid}`, scopes: ['read', 'post'] });
    await expectStatus(
      srv.url,
      bot.token,
      'DELETE',
      '/api/v1/me',
      { password: 'x', messages: 'keep' },
      403,
      'forbidden',
    );
    const alice = await registerUser(srv.url, 'alice');
    const [a, b] = await Promise.all(
      [1, 2].map(() =>
        call(srv.url, alice.token, 'DELETE', '/api/v1/me', { password: alice.password, messages: 'keep' }),
      ),
    );
    // One deletes it; the other finds its session gone (or the account deleted) by then.
    expect([a!.status, b!.status].sort()).toEqual([200, 401]);
  });
});

describe('password reset links (admin-issued, one-time)', () => {
  it('admin issues; the link names the user; using it sets the password and ends every session; single use', async () => {
    const srv = await startServer(NO_RECHECK);
    const admin = await registerUser(srv.url, 'admin');
    const carol = await registerUser(srv.url, 'carol');
    const mallory = await registerUser(srv.url, 'mallory');
    await expectStatus(
      srv.url,
      mallory.token,
      'POST',
      `/api/v1/admin/users/${carol.user.id}/reset-link`,
      {},
      403,
      'forbidden',
    );

    const link = await admin.api.createResetLink(carol.user.id);
    expect(link.path).toBe(`/reset#${link.token}`);
    expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const anon = new ChatApi(srv.url);
    expect(await anon.checkResetLink(link.token)).toEqual({ username: 'carol', expiresAt: link.expiresAt });
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/reset/check',
      { token: 'nope' },
      400,
      'reset_link_invalid',
    );

    const sock = await live(srv.url, carol.token);
    // Too short a password: refused, and the link still works.
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/reset',
      { token: link.token, newPassword: 'x' },
      400,
      'validation_failed',
    );
    await anon.resetPassword(link.token, 'a brand new password');
    expect((await closedWithin(sock, 20_000)).code).toBe(CLOSE_CODES.SESSION_REVOKED.code);
    await expectTokenDead(srv.url, carol.token);
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/login',
      { username: 'carol', password: carol.password },
      401,
      'invalid_credentials',
    );
    const back = await anon.login('carol', 'a brand new password');
    expect(back.user.id).toBe(carol.user.id);

    // Used: gone, for checking and for using.
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/reset/check',
      { token: link.token },
      400,
      'reset_link_invalid',
    );
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/reset',
      { token: link.token, newPassword: 'another new password' },
      400,
      'reset_link_invalid',
    );
    // A newer link voids nothing but itself; using one voids the others.
    const l1 = await admin.api.createResetLink(carol.user.id);
    const l2 = await admin.api.createResetLink(carol.user.id);
    await anon.resetPassword(l2.token, 'third password here');
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/reset/check',
      { token: l1.token },
      400,
      'reset_link_invalid',
    );

    const audit = await call<{ entries: AuditEntry[] }>(srv.url, admin.token, 'GET', '/api/v1/admin/audit?limit=20');
    expect(audit.body.entries.filter((e) => e.action === 'user.reset-link').length).toBe(3);
  });

  it('an expired link is refused', async () => {
    const srv = await startServer({ ...NO_RECHECK, passwordResetTtlSeconds: 60 });
    const admin = await registerUser(srv.url, 'admin');
    const dave = await registerUser(srv.url, 'dave');
    const link = await admin.api.createResetLink(dave.user.id);
    expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    // The clock moves past the expiry (the domain reads time through its context).
    const ports = srv.server.ports;
    const realNow = ports.now;
    ports.now = () => realNow() + 61_000;
    try {
      await expectStatus(
        srv.url,
        undefined,
        'POST',
        '/api/v1/auth/reset/check',
        { token: link.token },
        400,
        'reset_link_invalid',
      );
      await expectStatus(
        srv.url,
        undefined,
        'POST',
        '/api/v1/auth/reset',
        { token: link.token, newPassword: 'too late password' },
        400,
        'reset_link_invalid',
      );
    } finally {
      ports.now = realNow;
    }
    const login = await new ChatApi(srv.url).login('dave', dave.password);
    expect(login.user.id).toBe(dave.user.id);
  });
});

describe('own data export (GET /api/v1/me/export)', () => {
  it('holds the profile, rooms, every own message not deleted (no one else’s) and attached files', async () => {
    const srv = await startServer(NO_RECHECK);
    await registerUser(srv.url, 'admin');
    const erin = await registerUser(srv.url, 'erin');
    const frank = await registerUser(srv.url, 'frank');
    const room = await roomWith(srv, erin, [frank]);
    const sock = await live(srv.url, erin.token);
    const file = await erin.api.upload(new Blob(['hello file']), 'note.txt');
    await erin.api.sendMessage(room.id, 'with a file', 'exp-1', undefined, [file.id]);
    await wsSend(sock, room.id, 'second');
    const gone = (await httpSend(srv.url, erin.token, room.id, 'deleted later')).body.message.seq;
    await expectStatus(srv.url, erin.token, 'DELETE', `/api/v1/rooms/${room.id}/messages/${gone}`, undefined, 204);
    await httpSend(srv.url, frank.token, room.id, 'not erin');
    await httpSend(srv.url, erin.token, LOBBY_ROOM_ID, 'in the lobby');

    const res = await fetch(`${srv.url}/api/v1/me/export`, { headers: { authorization: `Bearer ${erin.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="relaychat-erin-\d{4}-\d\d-\d\d\.json"$/,
    );
    const doc = (await res.json()) as AccountExport;
    expect(doc.format).toBe('relaychat-export/1');
    expect(doc.profile).toMatchObject({ id: erin.user.id, username: 'erin' });
    expect(doc.rooms.map((r) => r.id).sort()).toEqual([LOBBY_ROOM_ID, room.id].sort());
    const bodies = doc.messages.map((m) => [m.roomId, m.body]);
    expect(bodies.sort()).toEqual(
      [
        [room.id, 'with a file'],
        [room.id, 'second'],
        [LOBBY_ROOM_ID, 'in the lobby'],
      ].sort(),
    );
    expect(doc.messages.find((m) => m.body === 'with a file')?.attachments).toEqual([file.id]);
    expect(doc.files).toEqual([
      expect.objectContaining({ id: file.id, name: 'note.txt', path: `/api/v1/files/${file.id}` }),
    ]);
    // The API client reads the same document.
    expect((await erin.api.exportMine()).messages.length).toBe(3);
  });
});

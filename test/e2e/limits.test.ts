import { describe, expect, it } from 'vitest';
import { registerUser, startServer, type TestServer } from '../helpers/harness.js';
import { call, expectStatus, live, wsSend, type Live } from '../helpers/moderation-kit.js';

/**
 * Every documented limit, end to end: the setting is lowered through the server's config, the request past it is
 * refused with the documented status and code, nothing of it is stored, and both the server and the caller's open
 * connection keep working. (Message rate, frame size, connections, login and registration limits have their own
 * tests in protocol.test.ts, brute-force.test.ts and accounts.test.ts.)
 */

/** The caller's socket still answers and still sends; the server still serves. */
async function expectStillUp(srv: TestServer, sock: Live, roomId: string): Promise<void> {
  expect((await wsSend(sock, roomId, 'still here')).type).toBe('ack');
  expect(sock.closeInfo).toBeUndefined();
  const health = await fetch(`${srv.url}/healthz`);
  expect(health.status).toBe(200);
}

const retryAfter = (body: { error?: { retryAfterMs?: number } }) => body.error?.retryAfterMs ?? 0;

describe('documented limits, end to end', () => {
  it('ROOMS_PER_MINUTE: the next room (or new DM) gets 429 rate_limited with retryAfterMs; others unaffected', async () => {
    const srv = await startServer({ roomsPerMinute: 3 });
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const sock = await live(srv.url, alice.token);
    const create = (token: string, name: string) =>
      call(srv.url, token, 'POST', '/api/v1/rooms', { name, visibility: 'public' });
    for (let i = 0; i < 3; i++) expect((await create(alice.token, `quota-${i}`)).status).toBe(201);
    const refused = await create(alice.token, 'quota-3');
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'rate_limited']);
    expect(retryAfter(refused.body)).toBeGreaterThan(0);
    // A new DM is a new room: the same budget.
    const dm = await call(srv.url, alice.token, 'POST', '/api/v1/dms', { usernames: [bob.username] });
    expect([dm.status, dm.body.error?.code]).toEqual([429, 'rate_limited']);
    // Nothing was created by the refused calls.
    const mine = (await alice.api.myRooms()).map((r) => r.name);
    expect(mine.filter((n) => n.startsWith('quota-')).sort()).toEqual(['quota-0', 'quota-1', 'quota-2']);
    expect((await alice.api.myRooms()).some((r) => r.kind === 'dm')).toBe(false);
    // Per user: bob still creates rooms.
    expect((await create(bob.token, 'bobs-room')).status).toBe(201);
    await expectStillUp(srv, sock, 'lobby');
  });

  it('INVITES_PER_MINUTE: the next invite gets 429 rate_limited and is not delivered', async () => {
    const srv = await startServer({ invitesPerMinute: 2 });
    const owner = await registerUser(srv.url);
    const guests = await Promise.all([1, 2, 3].map(() => registerUser(srv.url)));
    const room = await owner.api.createRoom('invites-capped', 'private');
    const sock = await live(srv.url, owner.token);
    const base = `/api/v1/rooms/${room.id}/invites`;
    await expectStatus(srv.url, owner.token, 'POST', base, { username: guests[0]!.username }, 204);
    await expectStatus(srv.url, owner.token, 'POST', base, { username: guests[1]!.username }, 204);
    const refused = await call(srv.url, owner.token, 'POST', base, { username: guests[2]!.username });
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'rate_limited']);
    expect(retryAfter(refused.body)).toBeGreaterThan(0);
    expect((await guests[1]!.api.invites()).map((i) => i.room.id)).toEqual([room.id]);
    expect(await guests[2]!.api.invites()).toEqual([]);
    // Without an invite the private room stays closed to the third guest.
    await expectStatus(
      srv.url,
      guests[2]!.token,
      'POST',
      `/api/v1/rooms/${room.id}/join`,
      undefined,
      404,
      'room_not_found',
    );
    await expectStillUp(srv, sock, room.id);
  });

  it('REPORTS_PER_HOUR: the next report gets 429 rate_limited and files nothing', async () => {
    const srv = await startServer({ reportsPerHour: 2 });
    const admin = await registerUser(srv.url); // first account: server admin, sees every report
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const sock = await live(srv.url, alice.token);
    const seqs = [];
    for (let i = 0; i < 3; i++)
      seqs.push((await bob.api.sendMessage('lobby', `report me ${i}`, `rep-${i}`)).message.seq);
    const report = (seq: number) =>
      call(srv.url, alice.token, 'POST', '/api/v1/reports', { roomId: 'lobby', seq, reason: 'spam' });
    expect((await report(seqs[0]!)).status).toBe(201);
    expect((await report(seqs[1]!)).status).toBe(201);
    const refused = await report(seqs[2]!);
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'rate_limited']);
    expect(retryAfter(refused.body)).toBeGreaterThan(0);
    const { reports } = await admin.api.reports({ status: 'open' });
    expect(reports.map((r) => r.seq).sort()).toEqual([seqs[0], seqs[1]].sort());
    // Per user: bob may still report.
    expect(
      (await call(srv.url, bob.token, 'POST', '/api/v1/reports', { userId: alice.user.id, reason: 'x' })).status,
    ).toBe(201);
    await expectStillUp(srv, sock, 'lobby');
  });

  it('MAX_MESSAGE_CHARS: one character over gets message_too_long (WS error frame, HTTP 413); at the limit it is stored', async () => {
    const srv = await startServer({ maxMessageChars: 50 });
    const alice = await registerUser(srv.url);
    const sock = await live(srv.url, alice.token);
    expect((sock.welcome.limits as { maxMessageChars: number }).maxMessageChars).toBe(50);
    const tooLong = await wsSend(sock, 'lobby', 'x'.repeat(51), 'too-long-ws');
    expect([tooLong.type, tooLong.code]).toEqual(['error', 'message_too_long']);
    const http = await call(srv.url, alice.token, 'POST', '/api/v1/rooms/lobby/messages', {
      body: 'y'.repeat(51),
      clientMsgId: 'too-long-http',
    });
    expect([http.status, http.body.error?.code]).toEqual([413, 'message_too_long']);
    const atLimit = await wsSend(sock, 'lobby', 'z'.repeat(50), 'at-limit');
    expect(atLimit.type).toBe('ack');
    const history = await alice.api.messages('lobby');
    expect(history.map((m) => m.clientMsgId)).toEqual(['at-limit']);
    await expectStillUp(srv, sock, 'lobby');
  });

  it('MAX_HTTP_BODY_BYTES: a bigger body gets 413 payload_too_large before anything runs; smaller ones pass', async () => {
    const srv = await startServer({ maxHttpBodyBytes: 1024 });
    const alice = await registerUser(srv.url);
    const sock = await live(srv.url, alice.token);
    // 1500 characters is within MAX_MESSAGE_CHARS (4000): only the body limit refuses it.
    const big = await call(srv.url, alice.token, 'POST', '/api/v1/rooms/lobby/messages', {
      body: 'b'.repeat(1500),
      clientMsgId: 'big-body',
    });
    expect([big.status, big.body.error?.code]).toEqual([413, 'payload_too_large']);
    // Unauthenticated routes too.
    const reg = await call(srv.url, undefined, 'POST', '/api/v1/auth/register', {
      username: 'padded',
      password: 'correct horse battery',
      displayName: 'p'.repeat(2000),
    });
    expect([reg.status, reg.body.error?.code]).toEqual([413, 'payload_too_large']);
    const small = await call(srv.url, alice.token, 'POST', '/api/v1/rooms/lobby/messages', {
      body: 's'.repeat(500),
      clientMsgId: 'small-body',
    });
    expect(small.status).toBe(201);
    expect((await alice.api.messages('lobby')).map((m) => m.clientMsgId)).toEqual(['small-body']);
    await expectStillUp(srv, sock, 'lobby');
  });

  it('MAX_DM_MEMBERS: a DM with one member too many gets 400 validation_failed; at the limit it opens', async () => {
    const srv = await startServer({ maxDmMembers: 3 });
    const alice = await registerUser(srv.url);
    const others = await Promise.all([1, 2, 3].map(() => registerUser(srv.url)));
    const sock = await live(srv.url, alice.token);
    const open = (n: number) =>
      call<{ room: { id: string; memberCount: number } }>(srv.url, alice.token, 'POST', '/api/v1/dms', {
        usernames: others.slice(0, n).map((u) => u.username),
      });
    const refused = await open(3); // alice + 3 = 4 members
    expect([refused.status, refused.body.error?.code]).toEqual([400, 'validation_failed']);
    expect((await alice.api.myRooms()).some((r) => r.kind === 'dm')).toBe(false);
    const ok = await open(2); // alice + 2 = 3 members: the limit
    expect(ok.status).toBe(201);
    expect(ok.body.room.memberCount).toBe(3);
    await expectStillUp(srv, sock, ok.body.room.id);
  });
});

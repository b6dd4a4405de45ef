import { describe, expect, it } from 'vitest';
import type { MyRoom, ReadReceipt, RoomEvent, UserSettings } from '../../src/protocol/model.js';
import { registerUser, startServer } from '../helpers/harness.js';
import { call, expectStatus, httpSend, live, type Live } from '../helpers/moderation-kit.js';

/**
 * Issue #14, read state end to end: `PUT /api/v1/rooms/:roomId/read`, the `read` frame to the user's other devices,
 * `readSeq`/`unread` in `welcome` and `GET /me/rooms`, read receipts (`member.read` on the room sequence, `GET
 * …/receipts`) and their privacy switch (`PATCH /me/settings`), the room-size cap and the rate limit.
 */

const markRead = (url: string, token: string, roomId: string, seq: unknown) =>
  call<{ readSeq: number; moved: boolean }>(url, token, 'PUT', `/api/v1/rooms/${roomId}/read`, { seq });

async function send(url: string, token: string, roomId: string, body: string): Promise<RoomEvent> {
  const r = await httpSend(url, token, roomId, body);
  expect(r.status).toBe(201);
  return r.body.message;
}

const myRoom = async (url: string, token: string, roomId: string) => {
  const r = await expectStatus<{ rooms: MyRoom[] }>(url, token, 'GET', '/api/v1/me/rooms', undefined, 200);
  return r.rooms.find((x) => x.id === roomId);
};
const welcomeRoom = (l: Live, roomId: string) =>
  (l.welcome.rooms as MyRoom[]).find((r) => r.id === roomId) as MyRoom | undefined;
const receiptEvents = (l: Live, roomId: string) => l.events(roomId).filter((e) => e.type === 'member.read');

describe('read state', () => {
  it('a marker moved on one device reaches the others, members see the receipt, unread follows', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const room = await alice.api.createRoom('reading');
    await bob.api.join(room.id);
    const m1 = await send(srv.url, alice.token, room.id, 'one');
    const m2 = await send(srv.url, alice.token, room.id, 'two');
    await send(srv.url, bob.token, room.id, 'mine');

    // Bob's two devices and Alice, online; welcome carries the marker and the count.
    const phone = await live(srv.url, bob.token);
    const laptop = await live(srv.url, bob.token);
    const a = await live(srv.url, alice.token);
    expect(welcomeRoom(phone, room.id)).toMatchObject({ readSeq: room.lastSeq + 1, unread: 2 });
    expect(await myRoom(srv.url, bob.token, room.id)).toMatchObject({ unread: 2 });

    const from = laptop.frames.length;
    const r = await markRead(srv.url, bob.token, room.id, m1.seq);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ readSeq: m1.seq, moved: true });
    // The other device hears of it (and so does this one: every connection of the user).
    const frame = await laptop.next((f) => f.type === 'read', 'read frame on the laptop', from);
    expect(frame).toEqual({ type: 'read', roomId: room.id, readSeq: m1.seq });
    await phone.next((f) => f.type === 'read', 'read frame on the phone');
    // Alice sees the receipt, on the room sequence.
    const receipt = await a.next(
      (f) => f.type === 'event' && (f.event as RoomEvent).type === 'member.read',
      'member.read on alice',
    );
    expect(receipt.event).toMatchObject({
      roomId: room.id,
      type: 'member.read',
      senderId: bob.user.id,
      data: { userId: bob.user.id, readSeq: m1.seq },
    });
    expect(await myRoom(srv.url, bob.token, room.id)).toMatchObject({ readSeq: m1.seq, unread: 1 });

    // Back, or the same again: no move, no frame, no event.
    expect((await markRead(srv.url, bob.token, room.id, 1)).body).toEqual({ readSeq: m1.seq, moved: false });
    // Forward past the end: to the last message.
    expect((await markRead(srv.url, bob.token, room.id, 10_000)).body).toMatchObject({ moved: true });
    expect(await myRoom(srv.url, bob.token, room.id)).toMatchObject({ unread: 0 });

    // A marker sent after all of it: only one receipt per move reached Alice, and only two moves happened.
    const marker = await send(srv.url, alice.token, room.id, 'marker');
    await a.next((f) => f.type === 'event' && (f.event as RoomEvent).seq === marker.seq, 'marker');
    expect(receiptEvents(a, room.id).map((e) => e.data?.readSeq)).toEqual([m1.seq, m2.seq + 1]);
    expect(laptop.frames.filter((f) => f.type === 'read').map((f) => f.readSeq)).toEqual([m1.seq, m2.seq + 1]);

    const receipts = await expectStatus<{ shared: boolean; receipts: ReadReceipt[] }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${room.id}/receipts`,
      undefined,
      200,
    );
    expect(receipts.shared).toBe(true);
    expect(receipts.receipts).toContainEqual({ userId: bob.user.id, readSeq: m2.seq + 1 });
    for (const l of [phone, laptop, a]) l.close();
  });

  it('receipts off: the marker still syncs to your devices, but nobody sees it, and you see no one else', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const room = await alice.api.createRoom('private reading');
    await bob.api.join(room.id);
    const s = await expectStatus<{ settings: UserSettings }>(
      srv.url,
      bob.token,
      'GET',
      '/api/v1/me/settings',
      undefined,
      200,
    );
    expect(s.settings).toEqual({ readReceipts: true, dndUntil: null });
    const off = await expectStatus<{ settings: UserSettings }>(
      srv.url,
      bob.token,
      'PATCH',
      '/api/v1/me/settings',
      { readReceipts: false },
      200,
    );
    expect(off.settings).toEqual({ readReceipts: false, dndUntil: null });
    await expectStatus(srv.url, bob.token, 'PATCH', '/api/v1/me/settings', {}, 400, 'validation_failed');
    await expectStatus(
      srv.url,
      bob.token,
      'PATCH',
      '/api/v1/me/settings',
      { readReceipts: 'no' },
      400,
      'validation_failed',
    );

    const a = await live(srv.url, alice.token);
    const phone = await live(srv.url, bob.token);
    const m = await send(srv.url, alice.token, room.id, 'hello');
    expect((await markRead(srv.url, bob.token, room.id, m.seq)).body).toEqual({ readSeq: m.seq, moved: true });
    await phone.next((f) => f.type === 'read' && f.readSeq === m.seq, 'read frame');
    // Alice marks too (she shares): Bob, with his switch off, is shown no receipts.
    const m2 = await send(srv.url, bob.token, room.id, 'hi');
    expect((await markRead(srv.url, alice.token, room.id, m2.seq)).status).toBe(200);
    const marker = await send(srv.url, alice.token, room.id, 'marker');
    await a.next((f) => f.type === 'event' && (f.event as RoomEvent).seq === marker.seq, 'marker');
    // Bob's move appended nothing: the only receipt in the room is Alice's.
    expect(receiptEvents(a, room.id).map((e) => e.data?.userId)).toEqual([alice.user.id]);
    const hers = await expectStatus<{ shared: boolean; receipts: ReadReceipt[] }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${room.id}/receipts`,
      undefined,
      200,
    );
    expect(hers.receipts.map((r) => r.userId)).not.toContain(bob.user.id);
    const his = await expectStatus<{ shared: boolean; receipts: ReadReceipt[] }>(
      srv.url,
      bob.token,
      'GET',
      `/api/v1/rooms/${room.id}/receipts`,
      undefined,
      200,
    );
    expect(his).toEqual({ shared: false, receipts: [] });
    a.close();
    phone.close();
  });

  it('rooms above READ_RECEIPTS_MAX_MEMBERS keep markers private; bad input and the rate limit', async () => {
    const srv = await startServer({ readReceiptsMaxMembers: 2, readMarksPerMinute: 4 });
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const carol = await registerUser(srv.url, 'carol');
    const room = await alice.api.createRoom('big');
    await bob.api.join(room.id);
    await carol.api.join(room.id);
    const a = await live(srv.url, alice.token);
    const m = await send(srv.url, alice.token, room.id, 'hello');
    expect((await markRead(srv.url, bob.token, room.id, m.seq)).body).toEqual({ readSeq: m.seq, moved: true });
    const marker = await send(srv.url, alice.token, room.id, 'marker');
    await a.next((f) => f.type === 'event' && (f.event as RoomEvent).seq === marker.seq, 'marker');
    expect(receiptEvents(a, room.id)).toEqual([]);
    const r = await expectStatus<{ shared: boolean }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${room.id}/receipts`,
      undefined,
      200,
    );
    expect(r.shared).toBe(false);
    // Still counted for unread and kept per user.
    expect(await myRoom(srv.url, bob.token, room.id)).toMatchObject({ readSeq: m.seq, unread: 1 });

    for (const bad of [-1, 1.5, '3', null]) {
      const res = await markRead(srv.url, bob.token, room.id, bad);
      expect([bad, res.status, res.body.error?.code]).toEqual([bad, 400, 'validation_failed']);
    }
    const dave = await registerUser(srv.url, 'dave');
    await expectStatus(srv.url, dave.token, 'PUT', `/api/v1/rooms/${room.id}/read`, { seq: 1 }, 403, 'not_member');
    await expectStatus(srv.url, dave.token, 'PUT', '/api/v1/rooms/r_nowhere/read', { seq: 1 }, 404, 'room_not_found');

    // READ_MARKS_PER_MINUTE = 4: Bob has spent 1 (and the refused inputs none); three more pass, the fifth waits.
    for (let i = 0; i < 3; i++) expect((await markRead(srv.url, bob.token, room.id, m.seq)).status).toBe(200);
    const limited = await markRead(srv.url, bob.token, room.id, m.seq);
    expect([limited.status, limited.body.error?.code]).toEqual([429, 'rate_limited']);
    a.close();
  });
});

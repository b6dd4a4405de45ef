import { describe, expect, it } from 'vitest';
import type { Pin, RoomEvent } from '../../src/protocol/model.js';
import { startServer } from '../helpers/harness.js';
import { call, cast, expectStatus, httpSend, live } from '../helpers/moderation-kit.js';

/**
 * Issue #14, pinned messages end to end: `PUT`/`DELETE /api/v1/rooms/:roomId/messages/:seq/pin` (moderators in rooms,
 * either member in a DM), `GET …/pins`, the `message.pinned` / `message.unpinned` events live, the cap, and a delete
 * taking the pin with it.
 */

const pin = (url: string, token: string, roomId: string, seq: number, method: 'PUT' | 'DELETE' = 'PUT') =>
  call<{ pinned?: boolean; unpinned?: boolean }>(url, token, method, `/api/v1/rooms/${roomId}/messages/${seq}/pin`);
const pinsOf = async (url: string, token: string, roomId: string) =>
  (await expectStatus<{ pins: Pin[] }>(url, token, 'GET', `/api/v1/rooms/${roomId}/pins`, undefined, 200)).pins;

async function send(url: string, token: string, roomId: string, body: string): Promise<RoomEvent> {
  const r = await httpSend(url, token, roomId, body);
  expect(r.status).toBe(201);
  return r.body.message;
}

describe('pinned messages', () => {
  it('a moderator pins: members see message.pinned live and the pin listed; unpin reverses it; retries are no-ops', async () => {
    const srv = await startServer();
    const { mod, alice, bob, roomId } = await cast(srv.url);
    const b = await live(srv.url, bob.token);
    const m = await send(srv.url, alice.token, roomId, 'the meeting moved to 3pm');

    // A member may not pin in a room; a moderator may.
    await expectStatus(
      srv.url,
      alice.token,
      'PUT',
      `/api/v1/rooms/${roomId}/messages/${m.seq}/pin`,
      undefined,
      403,
      'forbidden',
    );
    const r = await pin(srv.url, mod.token, roomId, m.seq);
    expect([r.status, r.body]).toEqual([200, { pinned: true }]);
    const ev = await b.next(
      (f) => f.type === 'event' && (f.event as RoomEvent).type === 'message.pinned',
      'message.pinned at bob',
    );
    expect(ev.event).toMatchObject({
      roomId,
      seq: m.seq + 1,
      senderId: mod.user.id,
      data: { seq: m.seq, messageId: m.id },
    });
    expect((await pin(srv.url, mod.token, roomId, m.seq)).body).toEqual({ pinned: false });
    const pins = await pinsOf(srv.url, bob.token, roomId);
    expect(pins).toHaveLength(1);
    expect(pins[0]).toMatchObject({ seq: m.seq, pinnedBy: mod.user.id, message: { id: m.id, body: m.body } });

    expect((await pin(srv.url, mod.token, roomId, m.seq, 'DELETE')).body).toEqual({ unpinned: true });
    await b.next((f) => f.type === 'event' && (f.event as RoomEvent).type === 'message.unpinned', 'unpinned at bob');
    expect((await pin(srv.url, mod.token, roomId, m.seq, 'DELETE')).body).toEqual({ unpinned: false });
    expect(await pinsOf(srv.url, bob.token, roomId)).toEqual([]);
    // Exactly one event per change reached Bob.
    const marker = await send(srv.url, alice.token, roomId, 'marker');
    await b.next((f) => f.type === 'event' && (f.event as RoomEvent).seq === marker.seq, 'marker');
    expect(
      b
        .events(roomId)
        .filter((e) => e.type.startsWith('message.') && e.type !== 'message')
        .map((e) => e.type),
    ).toEqual(['message.pinned', 'message.unpinned']);
    b.close();
  });

  it('in a DM either member pins; bad targets, the cap and a delete', async () => {
    const srv = await startServer({ maxPinsPerRoom: 2 });
    const { owner, alice, bob, roomId } = await cast(srv.url);
    const dm = await alice.api.openDm('bob');
    const d = await send(srv.url, alice.token, dm.id, 'address: 1 Main St');
    expect((await pin(srv.url, bob.token, dm.id, d.seq)).body).toEqual({ pinned: true });
    expect((await pinsOf(srv.url, alice.token, dm.id)).map((p) => p.seq)).toEqual([d.seq]);

    await expectStatus(
      srv.url,
      owner.token,
      'PUT',
      `/api/v1/rooms/${roomId}/messages/999/pin`,
      undefined,
      404,
      'not_found',
    );
    await expectStatus(
      srv.url,
      owner.token,
      'PUT',
      `/api/v1/rooms/${roomId}/messages/1/pin`,
      undefined,
      404,
      'not_found',
    );
    await expectStatus(
      srv.url,
      owner.token,
      'PUT',
      `/api/v1/rooms/${roomId}/messages/x/pin`,
      undefined,
      400,
      'validation_failed',
    );
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) seqs.push((await send(srv.url, alice.token, roomId, `note ${i}`)).seq);
    expect((await pin(srv.url, owner.token, roomId, seqs[0]!)).status).toBe(200);
    expect((await pin(srv.url, owner.token, roomId, seqs[1]!)).status).toBe(200);
    await expectStatus(
      srv.url,
      owner.token,
      'PUT',
      `/api/v1/rooms/${roomId}/messages/${seqs[2]}/pin`,
      undefined,
      409,
      'too_many_pins',
    );
    // A delete takes its pin with it, which makes room under the cap.
    await expectStatus(srv.url, owner.token, 'DELETE', `/api/v1/rooms/${roomId}/messages/${seqs[0]}`, undefined, 204);
    expect((await pinsOf(srv.url, bob.token, roomId)).map((p) => p.seq)).toEqual([seqs[1]]);
    await expectStatus(
      srv.url,
      owner.token,
      'PUT',
      `/api/v1/rooms/${roomId}/messages/${seqs[0]}/pin`,
      undefined,
      409,
      'message_deleted',
    );
    expect((await pin(srv.url, owner.token, roomId, seqs[2]!)).body).toEqual({ pinned: true });
  });
});

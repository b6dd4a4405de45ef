import { describe, expect, it } from 'vitest';
import { FOREVER_MS, type MyRoom, type UserSettings } from '../../src/protocol/model.js';
import { registerUser, startServer } from '../helpers/harness.js';
import { call, expectStatus, httpSend, live } from '../helpers/moderation-kit.js';

/**
 * Issue #14, notification preferences end to end: `PUT /api/v1/rooms/:roomId/notifications` (your level per room,
 * members only), `notify` in `welcome.rooms` and `GET /me/rooms`, do-not-disturb in `/me/settings`, both synced live
 * to your other devices (`notify` / `settings` frames), bad input, and SETTINGS_CHANGES_PER_MINUTE.
 */

const setLevel = (url: string, token: string, roomId: string, level: unknown) =>
  call<{ level?: string; error?: { code: string } }>(url, token, 'PUT', `/api/v1/rooms/${roomId}/notifications`, {
    level,
  });
const myRooms = async (url: string, token: string) =>
  (await expectStatus<{ rooms: MyRoom[] }>(url, token, 'GET', '/api/v1/me/rooms', undefined, 200)).rooms;

describe('notification levels and do not disturb', () => {
  it("a level set on one device reaches the others and the room lists; 'all' by default; not another member's", async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const room = await alice.api.createRoom('general');
    await bob.api.join(room.id);
    const dm = await alice.api.openDm('bob');

    const phone = await live(srv.url, bob.token);
    const laptop = await live(srv.url, bob.token);
    const a = await live(srv.url, alice.token);
    const inWelcome = (l: typeof phone, id: string) => (l.welcome.rooms as MyRoom[]).find((r) => r.id === id);
    expect(inWelcome(phone, room.id)?.notify).toBe('all');
    expect(inWelcome(phone, dm.id)?.notify).toBe('all');

    const from = laptop.frames.length;
    const r = await setLevel(srv.url, bob.token, room.id, 'mentions');
    expect([r.status, r.body]).toEqual([200, { level: 'mentions' }]);
    for (const l of [phone, laptop]) {
      expect(await l.next((f) => f.type === 'notify', 'notify frame', from)).toEqual({
        type: 'notify',
        roomId: room.id,
        level: 'mentions',
      });
    }
    expect((await myRooms(srv.url, bob.token)).find((x) => x.id === room.id)?.notify).toBe('mentions');
    // Bob's level is his: Alice's list and her sockets are untouched.
    expect((await myRooms(srv.url, alice.token)).find((x) => x.id === room.id)?.notify).toBe('all');

    // Setting the same level again answers the same and pushes nothing; a marker after it shows the quiet.
    const mark = laptop.frames.length;
    expect((await setLevel(srv.url, bob.token, room.id, 'mentions')).body).toEqual({ level: 'mentions' });
    expect((await setLevel(srv.url, bob.token, dm.id, 'none')).body).toEqual({ level: 'none' });
    await laptop.next((f) => f.type === 'notify' && f.roomId === dm.id, 'dm notify frame', mark);
    expect(laptop.frames.slice(mark).filter((f) => f.type === 'notify')).toHaveLength(1);
    expect(a.frames.some((f) => f.type === 'notify')).toBe(false);

    // A new connection's welcome carries the levels.
    const later = await live(srv.url, bob.token);
    expect(inWelcome(later, room.id)?.notify).toBe('mentions');
    expect(inWelcome(later, dm.id)?.notify).toBe('none');

    // The server still delivers every message to a room muted to 'none': the level is the client's policy.
    const sent = await httpSend(srv.url, alice.token, dm.id, 'still delivered');
    expect(sent.status).toBe(201);
    await later.next(
      (f) => f.type === 'event' && (f.event as { seq: number; roomId: string }).roomId === dm.id,
      'the DM message at bob',
      0,
    );
    for (const l of [phone, laptop, a, later]) l.close();
  });

  it('members only; bad levels and unknown rooms are refused', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url, 'alice');
    const carol = await registerUser(srv.url, 'carol');
    const pub = await alice.api.createRoom('open');
    const priv = await alice.api.createRoom('secret', 'private');
    expect(await setLevel(srv.url, carol.token, pub.id, 'none')).toMatchObject({
      status: 403,
      body: { error: { code: 'not_member' } },
    });
    expect(await setLevel(srv.url, carol.token, priv.id, 'none')).toMatchObject({
      status: 404,
      body: { error: { code: 'room_not_found' } },
    });
    for (const level of ['loud', '', null, 1]) {
      expect(await setLevel(srv.url, alice.token, pub.id, level)).toMatchObject({
        status: 400,
        body: { error: { code: 'validation_failed' } },
      });
    }
    await expectStatus(
      srv.url,
      alice.token,
      'PUT',
      `/api/v1/rooms/${pub.id}/notifications`,
      { level: 'none', extra: 1 },
      400,
      'validation_failed',
    );
    expect((await setLevel(srv.url, '', pub.id, 'none')).status).toBe(401);
    // Nothing refused was stored.
    expect((await myRooms(srv.url, alice.token)).find((x) => x.id === pub.id)?.notify).toBe('all');
  });

  it('do not disturb: set, read back, synced live to your devices, off with null; a past time reads as off', async () => {
    const srv = await startServer();
    const bob = await registerUser(srv.url, 'bob');
    const other = await registerUser(srv.url, 'other');
    const phone = await live(srv.url, bob.token);
    const stranger = await live(srv.url, other.token);
    const patch = (body: unknown) =>
      call<{ settings?: UserSettings; error?: { code: string } }>(
        srv.url,
        bob.token,
        'PATCH',
        '/api/v1/me/settings',
        body,
      );
    const get = async () =>
      (await expectStatus<{ settings: UserSettings }>(srv.url, bob.token, 'GET', '/api/v1/me/settings', undefined, 200))
        .settings;

    expect(await get()).toEqual({ readReceipts: true, dndUntil: null });
    const until = Date.now() + 3_600_000;
    const first = phone.frames.length;
    expect((await patch({ dndUntil: until })).body).toEqual({ settings: { readReceipts: true, dndUntil: until } });
    expect(await phone.next((f) => f.type === 'settings', 'settings frame', first)).toEqual({
      type: 'settings',
      settings: { readReceipts: true, dndUntil: until },
    });
    expect(await get()).toEqual({ readReceipts: true, dndUntil: until });

    // Until turned off: FOREVER_MS. Read receipts change alone and keep it.
    const from = phone.frames.length;
    expect((await patch({ dndUntil: FOREVER_MS })).body).toEqual({
      settings: { readReceipts: true, dndUntil: FOREVER_MS },
    });
    expect((await patch({ readReceipts: false })).body).toEqual({
      settings: { readReceipts: false, dndUntil: FOREVER_MS },
    });
    // Every settings change is pushed, read receipts too.
    // Frames arrive in the order of the changes: wait for this one by its content.
    const settingsIs = (v: UserSettings) => (f: { type: string; settings?: unknown }) =>
      f.type === 'settings' && JSON.stringify(f.settings) === JSON.stringify(v);
    await phone.next(settingsIs({ readReceipts: false, dndUntil: FOREVER_MS }), 'settings frame (receipts)', from);
    expect((await patch({ dndUntil: null })).body).toEqual({ settings: { readReceipts: false, dndUntil: null } });
    await phone.next(settingsIs({ readReceipts: false, dndUntil: null }), 'settings frame (off)', from);
    // In order: until, forever, receipts off, dnd off.
    expect(
      phone.frames
        .slice(from)
        .filter((f) => f.type === 'settings')
        .map((f) => f.settings),
    ).toEqual([
      { readReceipts: true, dndUntil: FOREVER_MS },
      { readReceipts: false, dndUntil: FOREVER_MS },
      { readReceipts: false, dndUntil: null },
    ]);
    // A time already past is off.
    expect((await patch({ dndUntil: 1000 })).body).toEqual({ settings: { readReceipts: false, dndUntil: null } });

    for (const bad of [{ dndUntil: -1 }, { dndUntil: 1.5 }, { dndUntil: FOREVER_MS + 1 }, { dndUntil: 'soon' }, {}]) {
      expect(await patch(bad)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    }
    expect(stranger.frames.some((f) => f.type === 'settings')).toBe(false);
    phone.close();
    stranger.close();
  });

  it('SETTINGS_CHANGES_PER_MINUTE bounds level and settings changes together', async () => {
    const srv = await startServer({ settingsChangesPerMinute: 3 });
    const alice = await registerUser(srv.url, 'alice');
    const room = await alice.api.createRoom('general');
    expect((await setLevel(srv.url, alice.token, room.id, 'none')).status).toBe(200);
    expect((await setLevel(srv.url, alice.token, room.id, 'all')).status).toBe(200);
    await expectStatus(srv.url, alice.token, 'PATCH', '/api/v1/me/settings', { dndUntil: null }, 200);
    const r = await setLevel(srv.url, alice.token, room.id, 'mentions');
    expect(r).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    await expectStatus(srv.url, alice.token, 'PATCH', '/api/v1/me/settings', { dndUntil: null }, 429, 'rate_limited');
    expect((await myRooms(srv.url, alice.token)).find((x) => x.id === room.id)?.notify).toBe('all');
  });
});

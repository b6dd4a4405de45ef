import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { MyRoom, PublicUser, Room } from '../../src/protocol/model.js';
import { registerUser, startServer } from '../helpers/harness.js';
import { expectStatus, live } from '../helpers/moderation-kit.js';

/**
 * Issue 15, avatars: `PUT`/`DELETE /api/v1/me/avatar` and `/api/v1/rooms/:roomId/avatar` (multipart, field
 * `file`), served at `GET /api/v1/avatars/:id` without a token; cropped square and resized by the server; the
 * `avatarUrl` field wherever users and rooms are returned; live to others (a `profile` notice, `room.updated`).
 * Runs on both backends (`--project cluster` for PostgreSQL + Redis).
 */

/** A wide PNG: left half red, right half blue (so a centre crop is visibly a crop). */
async function widePng(width = 600, height = 300): Promise<Buffer> {
  const half = Math.floor(width / 2);
  return sharp({ create: { width, height, channels: 3, background: '#ff0000' } })
    .composite([
      {
        input: await sharp({ create: { width: width - half, height, channels: 3, background: '#0000ff' } })
          .png()
          .toBuffer(),
        left: half,
        top: 0,
      },
    ])
    .png()
    .toBuffer();
}

/** A multipart PUT (or any method) with one `file` part; never throws on an error status. */
async function putPicture(
  url: string,
  token: string | undefined,
  path: string,
  bytes: Buffer,
  opts: { field?: string; type?: string } = {},
) {
  const form = new FormData();
  form.append(opts.field ?? 'file', new Blob([new Uint8Array(bytes)], { type: opts.type ?? 'image/png' }), 'me.png');
  const res = await fetch(`${url}${path}`, {
    method: 'PUT',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> & { error?: { code: string } } };
}

async function fetchAvatar(url: string, avatarUrl: string) {
  const res = await fetch(`${url}${avatarUrl}`);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('avatars', () => {
  it('a user sets, replaces and clears their picture; it is square, served without a token, and others see it live', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const b = await live(srv.url, bob.token);
    expect(alice.user.avatarUrl).toBeUndefined();

    const set = await putPicture(srv.url, alice.token, '/api/v1/me/avatar', await widePng());
    expect(set.status).toBe(200);
    const user = set.body.user as PublicUser;
    expect(user).toMatchObject({ id: alice.user.id, username: 'alice' });
    expect(user.avatarUrl).toMatch(/^\/api\/v1\/avatars\/av_[A-Za-z0-9_-]{22}$/);

    // Served to anyone who has the URL, no token: a 256×256 WebP, cropped from the middle (red left, blue right).
    const { res, bytes } = await fetchAvatar(srv.url, user.avatarUrl as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 256]);
    const { data } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => [...data.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3)];
    expect(px(20, 128)[0]).toBeGreaterThan(200); // red on the left
    expect(px(235, 128)[2]).toBeGreaterThan(200); // blue on the right

    // Others learn of it live, and every way of reading the user carries it.
    const notice = await b.next(
      (f) => f.type === 'profile' && (f.user as PublicUser).avatarUrl === user.avatarUrl,
      'profile notice with the picture',
    );
    expect((notice.user as PublicUser).id).toBe(alice.user.id);
    expect((await bob.api.user(alice.user.id)).user.avatarUrl).toBe(user.avatarUrl);
    expect((await alice.api.me()).avatarUrl).toBe(user.avatarUrl);
    expect((await bob.api.searchUsers('ali')).find((u) => u.id === alice.user.id)?.avatarUrl).toBe(user.avatarUrl);
    const dm = await bob.api.openDm('alice');
    expect(dm.members?.find((m) => m.id === alice.user.id)?.avatarUrl).toBe(user.avatarUrl);
    const { members } = await bob.api.members('lobby');
    expect(members.find((m) => m.user.id === alice.user.id)?.user.avatarUrl).toBe(user.avatarUrl);

    // A new picture gets a new URL; the old one is gone (nothing keeps it).
    const again = await putPicture(srv.url, alice.token, '/api/v1/me/avatar', await widePng(300, 300));
    const second = (again.body.user as PublicUser).avatarUrl as string;
    expect(second).not.toBe(user.avatarUrl);
    expect((await fetchAvatar(srv.url, user.avatarUrl as string)).res.status).toBe(404);
    expect((await fetchAvatar(srv.url, second)).res.status).toBe(200);

    // Cleared: the field goes, the picture too, and others hear it.
    const mark = b.frames.length;
    const cleared = await expectStatus<{ user: PublicUser }>(
      srv.url,
      alice.token,
      'DELETE',
      '/api/v1/me/avatar',
      undefined,
      200,
    );
    expect(cleared.user.avatarUrl).toBeUndefined();
    expect((await fetchAvatar(srv.url, second)).res.status).toBe(404);
    const gone = await b.next((f) => f.type === 'profile', 'profile notice without the picture', mark);
    expect((gone.user as PublicUser).avatarUrl).toBeUndefined();
    b.close();
  });

  it('refuses what is not a picture, too big, not multipart, without a token, and unknown or malformed ids', async () => {
    const srv = await startServer({ maxAvatarBytes: 20_000 });
    const alice = await registerUser(srv.url, 'alice');
    const path = '/api/v1/me/avatar';

    const text = await putPicture(srv.url, alice.token, path, Buffer.from('just some text, not a picture at all'));
    expect([text.status, text.body.error?.code]).toEqual([422, 'image_rejected']);
    // A lying Content-Type changes nothing: the bytes decide.
    const lying = await putPicture(srv.url, alice.token, path, Buffer.from('%PDF-1.7 nope'), { type: 'image/png' });
    expect([lying.status, lying.body.error?.code]).toEqual([422, 'image_rejected']);
    const noise = await sharp(Buffer.from(Array.from({ length: 300 * 300 * 3 }, (_, i) => (i * 7919) % 256)), {
      raw: { width: 300, height: 300, channels: 3 },
    })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(noise.byteLength).toBeGreaterThan(20_000);
    const big = await putPicture(srv.url, alice.token, path, noise);
    expect([big.status, big.body.error?.code]).toEqual([413, 'file_too_large']);
    const field = await putPicture(srv.url, alice.token, path, await widePng(), { field: 'picture' });
    expect([field.status, field.body.error?.code]).toEqual([400, 'validation_failed']);
    await expectStatus(srv.url, alice.token, 'PUT', path, { file: 'x' }, 415, 'unsupported_media_type');
    const anon = await putPicture(srv.url, undefined, path, await widePng());
    expect([anon.status, anon.body.error?.code]).toEqual([401, 'unauthorized']);
    await expectStatus(srv.url, undefined, 'DELETE', path, undefined, 401, 'unauthorized');

    // Nothing was stored by any of those.
    expect((await alice.api.me()).avatarUrl).toBeUndefined();
    await expectStatus(
      srv.url,
      undefined,
      'GET',
      '/api/v1/avatars/av_AAAAAAAAAAAAAAAAAAAAAA',
      undefined,
      404,
      'not_found',
    );
    await expectStatus(srv.url, undefined, 'GET', '/api/v1/avatars/u_notanavatar', undefined, 404, 'not_found');
    await expectStatus(srv.url, undefined, 'GET', '/api/v1/avatars/..%2Fetc', undefined, 400, 'validation_failed');
  });

  it('a room’s picture: owners and admins set and clear it, members see room.updated on the sequence, others may not', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url, 'owner');
    const member = await registerUser(srv.url, 'member');
    const outsider = await registerUser(srv.url, 'outsider');
    const room = await owner.api.createRoom('design', 'private');
    await owner.api.invite(room.id, 'member');
    await member.api.acceptInvite(room.id);
    const m = await live(srv.url, member.token);
    const path = `/api/v1/rooms/${room.id}/avatar`;

    const refused = await putPicture(srv.url, member.token, path, await widePng());
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'forbidden']);
    // A private room stays hidden from someone outside it.
    const hidden = await putPicture(srv.url, outsider.token, path, await widePng());
    expect([hidden.status, hidden.body.error?.code]).toEqual([404, 'room_not_found']);
    await expectStatus(srv.url, member.token, 'DELETE', path, undefined, 403, 'forbidden');

    const set = await putPicture(srv.url, owner.token, path, await widePng());
    expect(set.status).toBe(200);
    const url = (set.body.room as Room).avatarUrl as string;
    expect(url).toMatch(/^\/api\/v1\/avatars\/av_/);
    const event = await m.next(
      (f) => f.type === 'event' && (f.event as { type: string }).type === 'room.updated',
      'room.updated with the picture',
    );
    const ev = event.event as { seq: number; data: Record<string, unknown>; senderId: string };
    expect(ev.data).toEqual({ avatarUrl: url });
    expect(ev.senderId).toBe(owner.user.id);
    // On the room's sequence: history has it at that seq, and the room says so.
    const events = await member.api.events(room.id, { after: ev.seq - 1, limit: 1 });
    expect(events[0]).toMatchObject({ seq: ev.seq, type: 'room.updated', data: { avatarUrl: url } });
    expect((await member.api.room(room.id)).avatarUrl).toBe(url);
    const mine: MyRoom[] = await member.api.myRooms();
    expect(mine.find((r) => r.id === room.id)?.avatarUrl).toBe(url);
    expect((await fetchAvatar(srv.url, url)).res.status).toBe(200);

    const cleared = await expectStatus<{ room: Room }>(srv.url, owner.token, 'DELETE', path, undefined, 200);
    expect(cleared.room.avatarUrl).toBeUndefined();
    const ev2 = await m.next(
      (f) => f.type === 'event' && (f.event as { seq: number }).seq === ev.seq + 1,
      'room.updated clearing the picture',
    );
    expect((ev2.event as { data: unknown }).data).toEqual({ avatarUrl: null });
    expect((await fetchAvatar(srv.url, url)).res.status).toBe(404);
    expect((await member.api.room(room.id)).avatarUrl).toBeUndefined();
    m.close();
  });
});

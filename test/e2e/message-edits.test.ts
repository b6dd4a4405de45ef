import { describe, expect, it } from 'vitest';
import type { MessageEdit, Report, RoomEvent } from '../../src/protocol/model.js';
import { startServer, waitFor } from '../helpers/harness.js';
import { call, cast, expectStatus, history, httpSend, live } from '../helpers/moderation-kit.js';

/**
 * Issue #14, message edits end to end: `PATCH /api/v1/rooms/:roomId/messages/:seq` and `GET …/:seq/edits`, the
 * `message.edited` event live, history's current body, retries, and every send rule applied to the new text.
 */

const edit = (url: string, token: string, roomId: string, seq: number, body: unknown) =>
  call<{ message: RoomEvent; edited: boolean }>(url, token, 'PATCH', `/api/v1/rooms/${roomId}/messages/${seq}`, {
    body,
  });

async function sent(url: string, token: string, roomId: string, body: string): Promise<RoomEvent> {
  const r = await httpSend(url, token, roomId, body);
  expect(r.status).toBe(201);
  return r.body.message;
}

describe('message edits', () => {
  it('the author edits: message.edited live, history has the new body and editedAt, the edit history lists it', async () => {
    const srv = await startServer();
    const { owner, alice, bob, roomId } = await cast(srv.url);
    const o = await live(srv.url, owner.token);
    const m = await sent(srv.url, alice.token, roomId, 'helo wrold');

    const r = await edit(srv.url, alice.token, roomId, m.seq, 'hello world');
    expect(r.status).toBe(200);
    expect(r.body.edited).toBe(true);
    const editedAt = r.body.message.data?.editedAt as string;
    expect(new Date(editedAt).toISOString()).toBe(editedAt);
    expect(r.body.message).toEqual({ ...m, body: 'hello world', data: { editedAt } });

    const ev = await o.next(
      (f) => f.type === 'event' && (f.event as RoomEvent).type === 'message.edited',
      'message.edited on the owner socket',
    );
    expect(ev.event).toMatchObject({
      roomId,
      seq: m.seq + 1,
      type: 'message.edited',
      senderId: alice.user.id,
      body: 'hello world',
      clientMsgId: null,
      data: { seq: m.seq, messageId: m.id, editedAt },
    });
    expect((await history(srv.url, bob.token, roomId)).find((e) => e.seq === m.seq)).toEqual(r.body.message);

    const edits = await expectStatus<{ edits: MessageEdit[] }>(
      srv.url,
      bob.token,
      'GET',
      `/api/v1/rooms/${roomId}/messages/${m.seq}/edits`,
      undefined,
      200,
    );
    expect(edits.edits).toEqual([
      { editSeq: m.seq + 1, editorId: alice.user.id, previousBody: 'helo wrold', body: 'hello world', editedAt },
    ]);
    // A message never edited has an empty history; a non-message seq or an unknown one is not_found.
    const other = await sent(srv.url, bob.token, roomId, 'plain');
    const none = await expectStatus<{ edits: MessageEdit[] }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${roomId}/messages/${other.seq}/edits`,
      undefined,
      200,
    );
    expect(none.edits).toEqual([]);
    await expectStatus(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${roomId}/messages/1/edits`,
      undefined,
      404,
      'not_found',
    );
  });

  it('a retried PATCH with the same body appends nothing and answers the message as it stands (edited: false)', async () => {
    const srv = await startServer();
    const { owner, alice, roomId } = await cast(srv.url);
    const o = await live(srv.url, owner.token);
    const m = await sent(srv.url, alice.token, roomId, 'draft');
    const first = await edit(srv.url, alice.token, roomId, m.seq, 'final');
    const retries = await Promise.all([1, 2, 3].map(() => edit(srv.url, alice.token, roomId, m.seq, 'final')));
    for (const r of retries) {
      expect([r.status, r.body.edited]).toEqual([200, false]);
      expect(r.body.message).toEqual(first.body.message);
    }
    // Positive marker: a message sent after the retries. Everything before it on the socket is all there is.
    const marker = await sent(srv.url, alice.token, roomId, 'marker');
    await o.next((f) => f.type === 'event' && (f.event as RoomEvent).seq === marker.seq, 'the marker');
    const evs = o.events(roomId).filter((e) => e.seq > m.seq);
    expect(evs.map((e) => e.type)).toEqual(['message.edited', 'message']);
    expect(evs.map((e) => e.seq)).toEqual([m.seq + 1, m.seq + 2]);
    const edits = await call<{ edits: MessageEdit[] }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${roomId}/messages/${m.seq}/edits`,
    );
    expect(edits.body.edits).toHaveLength(1);
  });

  it('author only: other members, moderators, owners and server admins are refused; nothing changes', async () => {
    const srv = await startServer();
    const { admin, owner, mod, alice, bob, roomId } = await cast(srv.url);
    const m = await sent(srv.url, alice.token, roomId, 'mine');
    for (const who of [bob, mod, owner]) {
      await expectStatus(
        srv.url,
        who.token,
        'PATCH',
        `/api/v1/rooms/${roomId}/messages/${m.seq}`,
        { body: 'x' },
        403,
        'forbidden',
      );
    }
    // The server admin is not in the room: refused as a non-member; as a member, as anyone else's editor.
    const path = `/api/v1/rooms/${roomId}/messages/${m.seq}`;
    await expectStatus(srv.url, admin.token, 'PATCH', path, { body: 'x' }, 403, 'not_member');
    await admin.api.join(roomId);
    await expectStatus(srv.url, admin.token, 'PATCH', path, { body: 'x' }, 403, 'forbidden');
    await expectStatus(srv.url, undefined, 'PATCH', path, { body: 'x' }, 401, 'unauthorized');
    expect((await history(srv.url, alice.token, roomId)).find((e) => e.seq === m.seq)).toEqual(m);
  });

  it('bad requests: validation, unknown seq, a non-message event', async () => {
    const srv = await startServer();
    const { alice, roomId } = await cast(srv.url);
    const m = await sent(srv.url, alice.token, roomId, 'x');
    const path = `/api/v1/rooms/${roomId}/messages`;
    await expectStatus(srv.url, alice.token, 'PATCH', `${path}/${m.seq}`, { body: '   ' }, 400, 'validation_failed');
    await expectStatus(
      srv.url,
      alice.token,
      'PATCH',
      `${path}/${m.seq}`,
      { body: 'a', extra: 1 },
      400,
      'validation_failed',
    );
    await expectStatus(srv.url, alice.token, 'PATCH', `${path}/abc`, { body: 'a' }, 400, 'validation_failed');
    await expectStatus(srv.url, alice.token, 'PATCH', `${path}/99999`, { body: 'a' }, 404, 'not_found');
    await expectStatus(srv.url, alice.token, 'PATCH', `${path}/1`, { body: 'a' }, 404, 'not_found');
    await expectStatus(
      srv.url,
      alice.token,
      'PATCH',
      `/api/v1/rooms/r_nope/messages/1`,
      { body: 'a' },
      404,
      'room_not_found',
    );
  });

  it('a deleted message cannot be edited (message_deleted) and its history is gone', async () => {
    const srv = await startServer();
    const { mod, alice, roomId } = await cast(srv.url);
    const m = await sent(srv.url, alice.token, roomId, 'v1 secret');
    expect((await edit(srv.url, alice.token, roomId, m.seq, 'v2 secret')).status).toBe(200);
    await expectStatus(srv.url, mod.token, 'DELETE', `/api/v1/rooms/${roomId}/messages/${m.seq}`, undefined, 204);
    const path = `/api/v1/rooms/${roomId}/messages/${m.seq}`;
    await expectStatus(srv.url, alice.token, 'PATCH', path, { body: 'v3' }, 409, 'message_deleted');
    await expectStatus(srv.url, alice.token, 'GET', `${path}/edits`, undefined, 409, 'message_deleted');
    const events = await call<{ events: RoomEvent[] }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${roomId}/events?after=${m.seq - 1}`,
    );
    expect(events.body.events.map((e) => [e.type, e.body])).toEqual([
      ['message', ''],
      ['message.edited', ''],
      ['message.deleted', null],
    ]);
    expect(JSON.stringify(events.body)).not.toContain('secret');
  });

  it('MAX_MESSAGE_CHARS and the keyword filter apply to the new text (block, mask, flag)', async () => {
    const srv = await startServer({
      maxMessageChars: 30,
      filterBlock: 'badword',
      filterMask: 'darn',
      filterFlag: 'suspicious',
    });
    const { owner, alice, roomId } = await cast(srv.url);
    const m = await sent(srv.url, alice.token, roomId, 'fine');
    const path = `/api/v1/rooms/${roomId}/messages/${m.seq}`;
    await expectStatus(srv.url, alice.token, 'PATCH', path, { body: 'x'.repeat(31) }, 413, 'message_too_long');
    await expectStatus(srv.url, alice.token, 'PATCH', path, { body: 'a ＢＡＤＷＯＲＤ' }, 422, 'content_blocked');
    expect((await history(srv.url, alice.token, roomId)).find((e) => e.seq === m.seq)?.body).toBe('fine');
    expect((await edit(srv.url, alice.token, roomId, m.seq, 'x'.repeat(30))).status).toBe(200);

    const masked = await edit(srv.url, alice.token, roomId, m.seq, 'oh darn');
    expect([masked.status, masked.body.message.body]).toEqual([200, 'oh ****']);
    // The same text again masks to the stored body: a retry, not a new edit.
    expect((await edit(srv.url, alice.token, roomId, m.seq, 'oh DARN')).body.edited).toBe(false);

    expect((await edit(srv.url, alice.token, roomId, m.seq, 'looks suspicious')).status).toBe(200);
    const q = await expectStatus<{ reports: Report[] }>(srv.url, owner.token, 'GET', '/api/v1/reports', undefined, 200);
    expect(q.reports).toHaveLength(1);
    expect(q.reports[0]).toMatchObject({
      reporterId: 'system',
      roomId,
      seq: m.seq,
      targetUserId: alice.user.id,
      excerpt: 'looks suspicious',
    });
  });

  it('mute, read-only rooms and bans refuse edits as they refuse sends', async () => {
    const srv = await startServer();
    const { owner, mod, alice, bob, roomId } = await cast(srv.url);
    const a = await sent(srv.url, alice.token, roomId, 'alice');
    const b = await sent(srv.url, bob.token, roomId, 'bob');
    const md = await sent(srv.url, mod.token, roomId, 'mod');
    const p = (seq: number) => `/api/v1/rooms/${roomId}/messages/${seq}`;

    await expectStatus(srv.url, mod.token, 'PUT', `/api/v1/rooms/${roomId}/mutes/${alice.user.id}`, {}, 204);
    await expectStatus(srv.url, alice.token, 'PATCH', p(a.seq), { body: 'muted edit' }, 403, 'muted');
    await expectStatus(srv.url, mod.token, 'DELETE', `/api/v1/rooms/${roomId}/mutes/${alice.user.id}`, undefined, 204);
    expect((await edit(srv.url, alice.token, roomId, a.seq, 'unmuted edit')).status).toBe(200);

    await expectStatus(srv.url, owner.token, 'PATCH', `/api/v1/rooms/${roomId}`, { settings: { readOnly: true } }, 200);
    await expectStatus(srv.url, alice.token, 'PATCH', p(a.seq), { body: 'read-only edit' }, 403, 'read_only');
    expect((await edit(srv.url, mod.token, roomId, md.seq, 'moderators still post and edit')).status).toBe(200);
    await expectStatus(
      srv.url,
      owner.token,
      'PATCH',
      `/api/v1/rooms/${roomId}`,
      { settings: { readOnly: false } },
      200,
    );

    await expectStatus(srv.url, mod.token, 'PUT', `/api/v1/rooms/${roomId}/bans/${bob.user.id}`, {}, 204);
    await expectStatus(srv.url, bob.token, 'PATCH', p(b.seq), { body: 'banned edit' }, 403, 'banned');
    const bodies = (await history(srv.url, owner.token, roomId)).map((e) => e.body);
    expect(bodies).toEqual(['unmuted edit', 'bob', 'moderators still post and edit']);
  });

  it('EDIT_WINDOW_SECONDS: edits pass inside the window, then edit_window_closed', async () => {
    const srv = await startServer({ editWindowSeconds: 2 });
    const { alice, roomId } = await cast(srv.url);
    const m = await sent(srv.url, alice.token, roomId, 'quick');
    const r = await edit(srv.url, alice.token, roomId, m.seq, 'quick fix');
    expect(r.status).toBe(200);
    // Polled with the stored body (a no-op inside the window) until the window closes.
    const closed = await waitFor(
      async () => {
        const x = await edit(srv.url, alice.token, roomId, m.seq, 'quick fix');
        if (x.status === 200) return null;
        return x;
      },
      10_000,
      'the edit window to close',
    );
    expect([closed!.status, closed!.body.error?.code]).toEqual([403, 'edit_window_closed']);
    expect(Date.now() - Date.parse(m.createdAt)).toBeGreaterThanOrEqual(2000);
    await expectStatus(
      srv.url,
      alice.token,
      'PATCH',
      `/api/v1/rooms/${roomId}/messages/${m.seq}`,
      { body: 'late' },
      403,
      'edit_window_closed',
    );
  });
});

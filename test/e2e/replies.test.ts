import { describe, expect, it } from 'vitest';
import { PROTOCOL_LIMITS, type RoomEvent } from '../../src/protocol/model.js';
import { registerUser, startServer } from '../helpers/harness.js';
import { call, cast, expectStatus, history, live, type Live } from '../helpers/moderation-kit.js';

/**
 * Issue #14, replies and threads end to end: `replyTo` / `threadOnly` on a send (HTTP and WebSocket), the stored
 * quote, thread summaries on roots in history, `GET …/messages/:seq/thread`, the refusals, retries, and a deleted
 * target's quote blanked.
 */

let n = 0;
const reply = (url: string, token: string, roomId: string, body: string, extra: Record<string, unknown>, id?: string) =>
  call<{ message: RoomEvent; duplicate: boolean }>(url, token, 'POST', `/api/v1/rooms/${roomId}/messages`, {
    body,
    clientMsgId: id ?? `r${process.pid}-${++n}`,
    ...extra,
  });

async function sent(url: string, token: string, roomId: string, body: string, extra: Record<string, unknown> = {}) {
  const r = await reply(url, token, roomId, body, extra);
  expect(r.status).toBe(201);
  return r.body.message;
}

const thread = (url: string, token: string, roomId: string, seq: number, query = '') =>
  call<{ root: RoomEvent; messages: RoomEvent[] }>(
    url,
    token,
    'GET',
    `/api/v1/rooms/${roomId}/messages/${seq}/thread${query}`,
  );

async function wsSendFrame(l: Live, frame: Record<string, unknown>) {
  const from = l.frames.length;
  const clientMsgId = `w${process.pid}-${++n}`;
  // Matched by ref: a frame that fails the schema is answered with its ref only.
  l.send({ type: 'send', clientMsgId, ref: clientMsgId, ...frame });
  return l.next(
    (f) => (f.type === 'ack' || f.type === 'error') && f.ref === clientMsgId,
    `ack or error for ${clientMsgId}`,
    from,
  );
}

describe('replies and threads', () => {
  it('a reply stores replyTo, threadRoot, threadOnly and the quote; threads are flat; roots count their replies', async () => {
    const srv = await startServer();
    const { owner, alice, bob, roomId } = await cast(srv.url);
    const o = await live(srv.url, owner.token);
    const long = 'x'.repeat(PROTOCOL_LIMITS.quoteChars) + 'TAIL';
    const root = await sent(srv.url, alice.token, roomId, long);

    const r1 = await sent(srv.url, bob.token, roomId, 'quote reply', { replyTo: root.seq });
    expect(r1.data).toEqual({
      replyTo: root.seq,
      threadRoot: root.seq,
      threadOnly: false,
      quote: { senderId: alice.user.id, body: 'x'.repeat(PROTOCOL_LIMITS.quoteChars) },
    });
    // A reply to a reply joins the root's thread, quoting the reply it answers.
    const b = await live(srv.url, bob.token);
    const ack = await wsSendFrame(b, { roomId, body: 'in thread only', replyTo: r1.seq, threadOnly: true });
    expect(ack).toMatchObject({ type: 'ack', duplicate: false });
    const ev = await o.next(
      (f) => f.type === 'event' && (f.event as RoomEvent).seq === ack.seq,
      'the thread-only reply, live on the owner socket',
    );
    expect((ev.event as RoomEvent).data).toEqual({
      replyTo: r1.seq,
      threadRoot: root.seq,
      threadOnly: true,
      quote: { senderId: bob.user.id, body: 'quote reply' },
    });

    // History: the root carries replyCount and lastReplyAt; the replies carry their fields as delivered live.
    const h = await history(srv.url, owner.token, roomId);
    const hRoot = h.find((e) => e.seq === root.seq)!;
    expect(hRoot.data).toEqual({ replyCount: 2, lastReplyAt: (ev.event as RoomEvent).createdAt });
    expect(h.find((e) => e.seq === ack.seq)).toEqual(ev.event);
    // A plain message with no replies has no summary.
    expect(h.find((e) => e.seq === r1.seq)!.data).toEqual(r1.data);

    // The thread: the root (with its summary) and the replies in seq order; a reply's seq answers its root's thread.
    for (const seq of [root.seq, r1.seq]) {
      const t = await thread(srv.url, alice.token, roomId, seq);
      expect(t.status).toBe(200);
      expect(t.body.root).toEqual(hRoot);
      expect(t.body.messages.map((m) => m.seq)).toEqual([r1.seq, ack.seq]);
    }
    // Paged like history: newest `limit` by default, `before` / `after` exclusive.
    const newest = await thread(srv.url, alice.token, roomId, root.seq, '?limit=1');
    expect(newest.body.messages.map((m) => m.seq)).toEqual([ack.seq]);
    const older = await thread(srv.url, alice.token, roomId, root.seq, `?limit=1&before=${ack.seq as number}`);
    expect(older.body.messages.map((m) => m.seq)).toEqual([r1.seq]);
    const later = await thread(srv.url, alice.token, roomId, root.seq, `?after=${r1.seq}`);
    expect(later.body.messages.map((m) => m.seq)).toEqual([ack.seq]);
    // A message that is no root has an empty thread; a non-message or unknown seq is not_found.
    const lone = await sent(srv.url, alice.token, roomId, 'lonely');
    const empty = await thread(srv.url, bob.token, roomId, lone.seq);
    expect(empty.body).toEqual({ root: lone, messages: [] });
    await expectStatus(
      srv.url,
      bob.token,
      'GET',
      `/api/v1/rooms/${roomId}/messages/1/thread`,
      undefined,
      404,
      'not_found',
    );
    await expectStatus(
      srv.url,
      bob.token,
      'GET',
      `/api/v1/rooms/${roomId}/messages/999/thread`,
      undefined,
      404,
      'not_found',
    );
    b.close();
    o.close();
  });

  it('refuses a bad target with a clear code over HTTP and WebSocket, appending nothing', async () => {
    const srv = await startServer();
    const { mod, alice, bob, roomId } = await cast(srv.url);
    const doomed = await sent(srv.url, bob.token, roomId, 'doomed');
    await expectStatus(srv.url, mod.token, 'DELETE', `/api/v1/rooms/${roomId}/messages/${doomed.seq}`, undefined, 204);
    const other = await alice.api.createRoom('elsewhere');
    const there = await sent(srv.url, alice.token, other.id, 'in another room');
    const before = await sent(srv.url, alice.token, roomId, 'marker before');

    const refusals: [Record<string, unknown>, number, string][] = [
      [{ replyTo: 9999 }, 422, 'reply_target_not_found'],
      [{ replyTo: 1 }, 422, 'reply_target_not_found'], // room.created: not a message
      [{ replyTo: there.seq + 50 }, 422, 'reply_target_not_found'],
      [{ replyTo: doomed.seq }, 409, 'message_deleted'],
      [{ threadOnly: true }, 400, 'validation_failed'],
      [{ replyTo: 0 }, 400, 'validation_failed'],
      [{ replyTo: 'x' }, 400, 'validation_failed'],
    ];
    for (const [extra, status, code] of refusals) {
      const r = await reply(srv.url, alice.token, roomId, 'nope', extra);
      expect({ extra, status: r.status, code: r.body.error?.code }).toEqual({ extra, status, code });
    }
    const l = await live(srv.url, alice.token);
    for (const [extra, , code] of refusals) {
      const f = await wsSendFrame(l, { roomId, body: 'nope', ...extra });
      expect({ extra, type: f.type, code: f.code }).toEqual({ extra, type: 'error', code });
    }
    // The socket stays up, and nothing was appended: the next message follows the marker directly.
    const after = await wsSendFrame(l, { roomId, body: 'marker after' });
    expect(after).toMatchObject({ type: 'ack', seq: before.seq + 1 });
    // Not a member: the room rules come first, whatever the target.
    const stranger = await registerUser(srv.url, 'stranger');
    const r = await reply(srv.url, stranger.token, roomId, 'hi', { replyTo: before.seq });
    expect([r.status, r.body.error?.code]).toEqual([403, 'not_member']);
    l.close();
  });

  it('a retried reply returns the same seq, even after its target was deleted; a deleted target blanks quotes', async () => {
    const srv = await startServer();
    const { mod, alice, bob, roomId } = await cast(srv.url);
    const root = await sent(srv.url, alice.token, roomId, 'secret plans');
    const first = await reply(srv.url, bob.token, roomId, 're', { replyTo: root.seq }, 'retry-1');
    expect(first.status).toBe(201);
    const again = await reply(srv.url, bob.token, roomId, 're', { replyTo: root.seq }, 'retry-1');
    expect([again.status, again.body.duplicate, again.body.message]).toEqual([200, true, first.body.message]);
    const second = await sent(srv.url, alice.token, roomId, 'second reply', { replyTo: root.seq, threadOnly: true });

    await expectStatus(srv.url, mod.token, 'DELETE', `/api/v1/rooms/${roomId}/messages/${root.seq}`, undefined, 204);
    // The lost-ack retry still gets its ack, not message_deleted; the quote it returns is blanked.
    const late = await reply(srv.url, bob.token, roomId, 're', { replyTo: root.seq }, 'retry-1');
    expect([late.status, late.body.duplicate, late.body.message.seq]).toEqual([200, true, first.body.message.seq]);
    const quote = { senderId: alice.user.id, body: '', deleted: true };
    expect(late.body.message.data).toMatchObject({ quote });

    // History and the thread: the deleted root keeps its thread and count; every quote of it is blanked.
    const h = await history(srv.url, bob.token, roomId);
    expect(h.find((e) => e.seq === root.seq)!.data).toMatchObject({ deleted: true, replyCount: 2 });
    for (const seq of [first.body.message.seq, second.seq]) {
      expect(h.find((e) => e.seq === seq)!.data).toMatchObject({ replyTo: root.seq, quote });
    }
    expect(JSON.stringify(h)).not.toContain('secret plans');
    const t = await thread(srv.url, bob.token, roomId, root.seq);
    expect(t.body.messages.map((m) => m.seq)).toEqual([first.body.message.seq, second.seq]);

    // A deleted reply no longer counts; lastReplyAt is the newest reply left.
    await expectStatus(srv.url, mod.token, 'DELETE', `/api/v1/rooms/${roomId}/messages/${second.seq}`, undefined, 204);
    const t2 = await thread(srv.url, bob.token, roomId, root.seq);
    expect(t2.body.root.data).toMatchObject({ replyCount: 1, lastReplyAt: first.body.message.createdAt });
  });

  it('only those who may read the room read its threads', async () => {
    const srv = await startServer();
    const { alice, bob } = await cast(srv.url);
    const priv = await alice.api.createRoom('secret', 'private');
    const root = await sent(srv.url, alice.token, priv.id, 'private root');
    await sent(srv.url, alice.token, priv.id, 'private reply', { replyTo: root.seq });
    const path = `/api/v1/rooms/${priv.id}/messages/${root.seq}/thread`;
    // Private: a non-member does not even learn the room exists.
    await expectStatus(srv.url, bob.token, 'GET', path, undefined, 404, 'room_not_found');
    await expectStatus(srv.url, undefined, 'GET', path, undefined, 401, 'unauthorized');
  });
});

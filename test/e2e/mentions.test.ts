import { describe, expect, it } from 'vitest';
import type { MentionItem, MyRoom, RoomEvent } from '../../src/protocol/model.js';
import { startServer } from '../helpers/harness.js';
import { call, cast, expectStatus, history, httpSend, live, type Frame, type Live } from '../helpers/moderation-kit.js';

/**
 * Issue #14, mentions end to end: `@username` parsed into `data.mentions` (members only, not the sender, folded,
 * deduplicated), `@room` / `@here` for the roles the room allows, the live `mention` frame, `unreadMentions` in
 * the room list, the inbox `GET /api/v1/me/mentions`, and edits and deletes keeping all of it right.
 */

async function send(url: string, token: string, roomId: string, body: string): Promise<RoomEvent> {
  const r = await httpSend(url, token, roomId, body);
  expect(r.status).toBe(201);
  return r.body.message;
}
const inbox = async (url: string, token: string, query = '') =>
  (await expectStatus<{ mentions: MentionItem[] }>(url, token, 'GET', `/api/v1/me/mentions${query}`, undefined, 200))
    .mentions;
const myRoom = async (url: string, token: string, roomId: string) =>
  (await expectStatus<{ rooms: MyRoom[] }>(url, token, 'GET', '/api/v1/me/rooms', undefined, 200)).rooms.find(
    (r) => r.id === roomId,
  )!;
const markRead = (url: string, token: string, roomId: string, seq: number) =>
  expectStatus(url, token, 'PUT', `/api/v1/rooms/${roomId}/read`, { seq }, 200);
const mentionFrames = (l: Live) => l.frames.filter((f) => f.type === 'mention');
/** Waits until `l` has the event at `seq` of the room: a positive marker that what came before it has arrived. */
const sawSeq = (l: Live, roomId: string, seq: number) =>
  l.next(
    (f) => f.type === 'event' && (f.event as RoomEvent).roomId === roomId && (f.event as RoomEvent).seq === seq,
    `seq ${seq}`,
  );

describe('mentions', () => {
  it('@username: members only, folded and deduplicated, not the sender; live frame, unread count, inbox', async () => {
    const srv = await startServer();
    const { owner, mod, alice, bob, roomId } = await cast(srv.url);
    const b = await live(srv.url, bob.token);
    const m = await live(srv.url, mod.token);

    const plain = await send(srv.url, alice.token, roomId, 'no one in particular, mail me at bob@example.com');
    expect(plain.data).toBeNull();
    const msg = await send(srv.url, alice.token, roomId, 'hey @BOB and @bob, @alice, @nobody @admin: 开会@mod。');
    // admin is not a member of the room; alice is the sender; bob twice is once.
    expect(msg.data).toEqual({ mentions: [bob.user.id, mod.user.id].sort() });

    const frame = await b.next((f) => f.type === 'mention', 'mention frame at bob');
    expect(frame).toEqual({
      type: 'mention',
      roomId,
      seq: msg.seq,
      from: { id: alice.user.id, username: 'alice', displayName: alice.user.displayName },
      roomName: 'general',
      via: 'user',
      snippet: msg.body,
    });
    await m.next((f) => f.type === 'mention' && f.seq === msg.seq, 'mention frame at mod');
    // Exactly one frame each (a positive marker first), and none for the plain message.
    const marker = await send(srv.url, owner.token, roomId, 'marker');
    await sawSeq(b, roomId, marker.seq);
    expect(mentionFrames(b).map((f) => f.seq)).toEqual([msg.seq]);
    // The live event carries the mentions too.
    const ev = b.events(roomId).find((e) => e.seq === msg.seq)!;
    expect(ev.data).toEqual({ mentions: [bob.user.id, mod.user.id].sort() });

    expect(await myRoom(srv.url, bob.token, roomId)).toMatchObject({ unread: 3, unreadMentions: 1 });
    expect(await myRoom(srv.url, alice.token, roomId)).toMatchObject({ unreadMentions: 0 });
    const items = await inbox(srv.url, bob.token);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      roomId,
      roomName: 'general',
      roomKind: 'public',
      message: { seq: msg.seq, body: msg.body },
    });
    expect(await inbox(srv.url, owner.token)).toEqual([]);

    // Reading lowers the count: up to the mention, then it is 0 even with later messages unread.
    await markRead(srv.url, bob.token, roomId, msg.seq);
    expect(await myRoom(srv.url, bob.token, roomId)).toMatchObject({ unread: 1, unreadMentions: 0 });
    // The inbox keeps read mentions (it is a history, not a to-do list).
    expect((await inbox(srv.url, bob.token)).map((i) => i.message.seq)).toEqual([msg.seq]);
    b.close();
    m.close();
  });

  it('@room and @here: moderators by default, configurable per room; from others the text stays and mentions nobody', async () => {
    const srv = await startServer();
    const { owner, mod, alice, bob, roomId } = await cast(srv.url);
    const b = await live(srv.url, bob.token);

    // A member: no mentionAll, no frames, nothing counted.
    const fromAlice = await send(srv.url, alice.token, roomId, '@room lunch?');
    expect(fromAlice.body).toBe('@room lunch?');
    expect(fromAlice.data).toBeNull();
    const marker = await send(srv.url, owner.token, roomId, 'marker');
    await sawSeq(b, roomId, marker.seq);
    expect(mentionFrames(b)).toEqual([]);

    // A moderator: everyone but the sender, online or not.
    const all = await send(srv.url, mod.token, roomId, 'heads up @room');
    expect(all.data).toEqual({ mentionAll: 'room' });
    const f = await b.next((x) => x.type === 'mention', 'mention via @room');
    expect(f).toMatchObject({ seq: all.seq, via: 'room', from: { id: mod.user.id } });
    for (const u of [owner, alice, bob]) {
      expect((await inbox(srv.url, u.token)).map((i) => i.message.seq)).toEqual([all.seq]);
      expect(await myRoom(srv.url, u.token, roomId)).toMatchObject({ unreadMentions: 1 });
    }
    expect(await inbox(srv.url, mod.token)).toEqual([]);

    // @here: only members online now (bob has a socket; owner and alice do not). A name beats @here.
    const here = await send(srv.url, mod.token, roomId, '@here quick poll, and @alice too');
    expect(here.data).toEqual({ mentions: [alice.user.id], mentionAll: 'here' });
    await b.next((x) => x.type === 'mention' && x.seq === here.seq && x.via === 'here', 'mention via @here');
    expect((await inbox(srv.url, bob.token)).map((i) => i.message.seq)).toEqual([here.seq, all.seq]);
    expect((await inbox(srv.url, alice.token)).map((i) => i.message.seq)).toEqual([here.seq, all.seq]);
    expect((await inbox(srv.url, owner.token)).map((i) => i.message.seq)).toEqual([all.seq]);
    expect(await myRoom(srv.url, owner.token, roomId)).toMatchObject({ unreadMentions: 1 });

    // The owner lets every member use them; the setting is on the room and in room.updated.
    const patched = await expectStatus<{ room: { settings: Record<string, unknown> } }>(
      srv.url,
      owner.token,
      'PATCH',
      `/api/v1/rooms/${roomId}`,
      { settings: { mentionAllRole: 'member' } },
      200,
    );
    expect(patched.room.settings.mentionAllRole).toBe('member');
    await b.next(
      (x) => x.type === 'event' && (x.event as RoomEvent).type === 'room.updated',
      'room.updated with mentionAllRole',
    );
    expect(b.events(roomId).find((e) => e.type === 'room.updated')?.data).toEqual({ mentionAllRole: 'member' });
    expect((await send(srv.url, alice.token, roomId, '@room now I may')).data).toEqual({ mentionAll: 'room' });
    await expectStatus(
      srv.url,
      owner.token,
      'PATCH',
      `/api/v1/rooms/${roomId}`,
      { settings: { mentionAllRole: 'everyone' } },
      400,
      'validation_failed',
    );
    // Only owners and admins change it.
    await expectStatus(
      srv.url,
      mod.token,
      'PATCH',
      `/api/v1/rooms/${roomId}`,
      { settings: { mentionAllRole: 'owner' } },
      403,
      'forbidden',
    );
    b.close();
  });

  it('an edit re-reads the mentions; a delete takes them away; the inbox pages and leaves rooms I left out', async () => {
    const srv = await startServer();
    const { owner, mod, alice, bob, roomId } = await cast(srv.url);
    const m = await live(srv.url, mod.token);

    const msg = await send(srv.url, alice.token, roomId, 'ping @bob');
    // The edit names mod instead: message.edited carries the new list, history the current one.
    const edited = await expectStatus<{ message: RoomEvent }>(
      srv.url,
      alice.token,
      'PATCH',
      `/api/v1/rooms/${roomId}/messages/${msg.seq}`,
      { body: 'ping @mod' },
      200,
    );
    expect(edited.message.data).toMatchObject({ mentions: [mod.user.id] });
    const ev = await m.next(
      (f) => f.type === 'event' && (f.event as RoomEvent).type === 'message.edited',
      'message.edited at mod',
    );
    expect((ev.event as RoomEvent).data).toMatchObject({ seq: msg.seq, mentions: [mod.user.id] });
    // Mod is newly mentioned: a frame; Bob no longer is: out of his inbox and count.
    await m.next((f) => f.type === 'mention' && f.seq === msg.seq, 'mention after the edit');
    expect((await history(srv.url, bob.token, roomId)).find((e) => e.seq === msg.seq)?.data).toMatchObject({
      mentions: [mod.user.id],
    });
    expect(await inbox(srv.url, bob.token)).toEqual([]);
    expect(await myRoom(srv.url, bob.token, roomId)).toMatchObject({ unreadMentions: 0 });
    expect((await inbox(srv.url, mod.token)).map((i) => i.message.seq)).toEqual([msg.seq]);
    // An edit to plain text drops the fields.
    const plain = await expectStatus<{ message: RoomEvent }>(
      srv.url,
      alice.token,
      'PATCH',
      `/api/v1/rooms/${roomId}/messages/${msg.seq}`,
      { body: 'ping nobody' },
      200,
    );
    expect(plain.message.data?.mentions).toBeUndefined();
    expect(await inbox(srv.url, mod.token)).toEqual([]);
    // An edit may not add more names than a send (MAX_MENTIONS, 10 by default).
    const many = Array.from({ length: 11 }, (_, i) => `@u${i}`).join(' ');
    await expectStatus(
      srv.url,
      alice.token,
      'PATCH',
      `/api/v1/rooms/${roomId}/messages/${msg.seq}`,
      { body: many },
      422,
      'too_many_mentions',
    );

    // Paging: five mentions of Bob, newest first, two at a time; a deleted one is gone.
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await send(srv.url, owner.token, roomId, `@bob item ${i}`)).seq);
    await expectStatus(srv.url, owner.token, 'DELETE', `/api/v1/rooms/${roomId}/messages/${seqs[2]}`, undefined, 204);
    const p1 = await inbox(srv.url, bob.token, '?limit=2');
    expect(p1.map((i) => i.message.seq)).toEqual([seqs[4], seqs[3]]);
    const p2 = await inbox(srv.url, bob.token, `?limit=2&before=${p1[1]!.id}`);
    expect(p2.map((i) => i.message.seq)).toEqual([seqs[1], seqs[0]]);
    expect(await inbox(srv.url, bob.token, `?limit=2&before=${p2[1]!.id}`)).toEqual([]);
    expect(await myRoom(srv.url, bob.token, roomId)).toMatchObject({ unreadMentions: 4 });
    await expectStatus(srv.url, bob.token, 'GET', '/api/v1/me/mentions?limit=0', undefined, 400, 'validation_failed');
    await expectStatus(srv.url, bob.token, 'GET', '/api/v1/me/mentions?before=x', undefined, 400, 'validation_failed');
    await expectStatus(srv.url, undefined, 'GET', '/api/v1/me/mentions', undefined, 401, 'unauthorized');

    // Left the room: its mentions leave the inbox.
    await expectStatus(srv.url, bob.token, 'POST', `/api/v1/rooms/${roomId}/leave`, undefined, 204);
    expect(await inbox(srv.url, bob.token)).toEqual([]);
    m.close();
  });

  it('thread-only replies count as mentions; a DM mention; a send retry is one mention', async () => {
    const srv = await startServer();
    const { alice, bob, roomId } = await cast(srv.url);
    const root = await send(srv.url, alice.token, roomId, 'root');
    const r = await call<{ message: RoomEvent }>(srv.url, alice.token, 'POST', `/api/v1/rooms/${roomId}/messages`, {
      body: 'in the thread, @bob',
      clientMsgId: 'thread-1',
      replyTo: root.seq,
      threadOnly: true,
    });
    expect(r.status).toBe(201);
    expect(r.body.message.data).toMatchObject({ threadOnly: true, mentions: [bob.user.id] });
    const again = await call<{ message: RoomEvent; duplicate: boolean }>(
      srv.url,
      alice.token,
      'POST',
      `/api/v1/rooms/${roomId}/messages`,
      { body: 'in the thread, @bob', clientMsgId: 'thread-1', replyTo: root.seq, threadOnly: true },
    );
    expect(again.body.message.seq).toBe(r.body.message.seq);
    // Unread counts leave thread-only replies out; unread mentions keep them (they were addressed to Bob).
    expect(await myRoom(srv.url, bob.token, roomId)).toMatchObject({ unread: 1, unreadMentions: 1 });
    expect((await inbox(srv.url, bob.token)).map((i) => i.message.seq)).toEqual([r.body.message.seq]);

    const dm = await alice.api.openDm('bob');
    const d = await send(srv.url, alice.token, dm.id, '@bob see above');
    expect(d.data).toEqual({ mentions: [bob.user.id] });
    const items = await inbox(srv.url, bob.token);
    expect(items[0]).toMatchObject({ roomId: dm.id, roomKind: 'dm', message: { seq: d.seq } });
    expect(await myRoom(srv.url, bob.token, dm.id)).toMatchObject({ unreadMentions: 1 });
  });
});

export type { Frame };

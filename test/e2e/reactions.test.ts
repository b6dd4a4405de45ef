import { describe, expect, it } from 'vitest';
import type { Reaction, RoomEvent } from '../../src/protocol/model.js';
import { startServer } from '../helpers/harness.js';
import { call, cast, expectStatus, history, httpSend, live } from '../helpers/moderation-kit.js';

/**
 * Issue #14, reactions end to end: `PUT` / `DELETE /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji`, the
 * `reaction.added` / `reaction.removed` events live, history's aggregated reactions, emoji normalisation, the cap on
 * different emojis per message, who may react, and a deleted message's reactions.
 */

type ReactAnswer = { emoji: string; added?: boolean; removed?: boolean; seq?: number };

const path = (roomId: string, seq: number, emoji: string) =>
  `/api/v1/rooms/${roomId}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`;
const react = (url: string, token: string, roomId: string, seq: number, emoji: string) =>
  call<ReactAnswer>(url, token, 'PUT', path(roomId, seq, emoji));
const unreact = (url: string, token: string, roomId: string, seq: number, emoji: string) =>
  call<ReactAnswer>(url, token, 'DELETE', path(roomId, seq, emoji));

async function sent(url: string, token: string, roomId: string, body: string): Promise<RoomEvent> {
  const r = await httpSend(url, token, roomId, body);
  expect(r.status).toBe(201);
  return r.body.message;
}

async function reactionsOf(url: string, token: string, roomId: string, seq: number): Promise<Reaction[] | undefined> {
  return (await history(url, token, roomId)).find((e) => e.seq === seq)?.reactions;
}

const THUMBS = '👍️'; // emojibase's form of U+1F44D: the canonical one
const HEART = '❤️';

describe('reactions', () => {
  it('add and remove: events live on the room sequence, history aggregates them first-reacted first', async () => {
    const srv = await startServer();
    const { owner, alice, bob, roomId } = await cast(srv.url);
    const o = await live(srv.url, owner.token);
    const m = await sent(srv.url, alice.token, roomId, 'ship it?');

    const a = await react(srv.url, bob.token, roomId, m.seq, '🎉');
    expect([a.status, a.body]).toEqual([200, { emoji: '🎉', added: true, seq: m.seq + 1 }]);
    const ev = await o.next(
      (f) => f.type === 'event' && (f.event as RoomEvent).type === 'reaction.added',
      'reaction.added on the owner socket',
    );
    expect(ev.event).toMatchObject({
      roomId,
      seq: m.seq + 1,
      type: 'reaction.added',
      senderId: bob.user.id,
      body: null,
      clientMsgId: null,
      data: { seq: m.seq, messageId: m.id, emoji: '🎉', userId: bob.user.id },
    });
    expect((await react(srv.url, alice.token, roomId, m.seq, 'thumbsup')).body.emoji).toBe(THUMBS);
    expect((await react(srv.url, owner.token, roomId, m.seq, '🎉')).body.added).toBe(true);
    expect((await react(srv.url, bob.token, roomId, m.seq, '👍')).body.added).toBe(true);

    expect(await reactionsOf(srv.url, alice.token, roomId, m.seq)).toEqual([
      { emoji: '🎉', count: 2, userIds: [bob.user.id, owner.user.id] },
      { emoji: THUMBS, count: 2, userIds: [alice.user.id, bob.user.id] },
    ]);

    // Removing bob's 🎉 leaves owner's, and an emoji's place is its earliest reaction left: 🎉 now comes after 👍.
    const r = await unreact(srv.url, bob.token, roomId, m.seq, '🎉');
    expect([r.status, r.body]).toEqual([200, { emoji: '🎉', removed: true, seq: m.seq + 5 }]);
    expect(await reactionsOf(srv.url, alice.token, roomId, m.seq)).toEqual([
      { emoji: THUMBS, count: 2, userIds: [alice.user.id, bob.user.id] },
      { emoji: '🎉', count: 1, userIds: [owner.user.id] },
    ]);
    await unreact(srv.url, owner.token, roomId, m.seq, ':tada:');
    expect(await reactionsOf(srv.url, alice.token, roomId, m.seq)).toEqual([
      { emoji: THUMBS, count: 2, userIds: [alice.user.id, bob.user.id] },
    ]);
    // A message nobody reacted to carries no `reactions` at all.
    const plain = await sent(srv.url, bob.token, roomId, 'plain');
    expect((await history(srv.url, alice.token, roomId)).find((e) => e.seq === plain.seq)).toEqual(plain);

    await o.next((f) => f.type === 'event' && (f.event as RoomEvent).seq === plain.seq, 'the marker');
    const evs = o.events(roomId).filter((e) => e.seq > m.seq);
    expect(evs.map((e) => [e.seq, e.type, e.data?.emoji])).toEqual([
      [m.seq + 1, 'reaction.added', '🎉'],
      [m.seq + 2, 'reaction.added', THUMBS],
      [m.seq + 3, 'reaction.added', '🎉'],
      [m.seq + 4, 'reaction.added', THUMBS],
      [m.seq + 5, 'reaction.removed', '🎉'],
      [m.seq + 6, 'reaction.removed', '🎉'],
      [plain.seq, 'message', undefined],
    ]);
    expect(plain.seq).toBe(m.seq + 7);
  });

  it('one reaction per form: emoji with and without U+FE0F, shortcodes with and without colons; retries append nothing', async () => {
    const srv = await startServer();
    const { owner, alice, roomId } = await cast(srv.url);
    const o = await live(srv.url, owner.token);
    const m = await sent(srv.url, owner.token, roomId, 'forms');
    const forms = ['👍', '👍\uFE0F', ':thumbsup:', 'thumbsup', '+1', ':+1:', 'THUMBSUP'];
    const answers = [];
    for (const f of forms) answers.push(await react(srv.url, alice.token, roomId, m.seq, f));
    expect(answers.map((a) => [a.status, a.body.emoji, a.body.added])).toEqual(
      forms.map((_, i) => [200, THUMBS, i === 0]),
    );
    // ❤ (U+2764, text by default) and ❤️ are one reaction too.
    expect((await react(srv.url, alice.token, roomId, m.seq, '\u2764')).body).toMatchObject({
      emoji: HEART,
      added: true,
    });
    expect((await react(srv.url, alice.token, roomId, m.seq, 'heart')).body.added).toBe(false);
    // Skin tones are reactions of their own, as in every client.
    expect((await react(srv.url, alice.token, roomId, m.seq, '👍🏽')).body).toMatchObject({ emoji: '👍🏽', added: true });
    // Removing what is not there appends nothing either, in any form.
    for (const f of ['🎉', '🎉', 'tada']) {
      expect((await unreact(srv.url, alice.token, roomId, m.seq, f)).body).toEqual({ emoji: '🎉', removed: false });
    }
    expect((await unreact(srv.url, alice.token, roomId, m.seq, '👍')).body.removed).toBe(true);
    expect((await unreact(srv.url, alice.token, roomId, m.seq, '+1')).body.removed).toBe(false);

    const marker = await sent(srv.url, owner.token, roomId, 'marker');
    await o.next((f) => f.type === 'event' && (f.event as RoomEvent).seq === marker.seq, 'the marker');
    expect(
      o
        .events(roomId)
        .filter((e) => e.seq > m.seq)
        .map((e) => [e.type, e.data?.emoji ?? null]),
    ).toEqual([
      ['reaction.added', THUMBS],
      ['reaction.added', HEART],
      ['reaction.added', '👍🏽'],
      ['reaction.removed', THUMBS],
      ['message', null],
    ]);
    expect(await reactionsOf(srv.url, owner.token, roomId, m.seq)).toEqual([
      { emoji: HEART, count: 1, userIds: [alice.user.id] },
      { emoji: '👍🏽', count: 1, userIds: [alice.user.id] },
    ]);
  });

  it('not an emoji: 400 invalid_emoji; bad seq, unknown message, non-message event, unknown room', async () => {
    const srv = await startServer();
    const { alice, roomId } = await cast(srv.url);
    const m = await sent(srv.url, alice.token, roomId, 'x');
    for (const bad of ['hi', 'no_such_shortcode', '👍👍', 'a b', '1', '<script>', '\u200D', '👍x']) {
      await expectStatus(srv.url, alice.token, 'PUT', path(roomId, m.seq, bad), undefined, 400, 'invalid_emoji');
      await expectStatus(srv.url, alice.token, 'DELETE', path(roomId, m.seq, bad), undefined, 400, 'invalid_emoji');
    }
    await expectStatus(
      srv.url,
      alice.token,
      'PUT',
      path(roomId, m.seq, 'x'.repeat(65)),
      undefined,
      400,
      'validation_failed',
    );
    await expectStatus(
      srv.url,
      alice.token,
      'PUT',
      `/api/v1/rooms/${roomId}/messages/abc/reactions/%F0%9F%8E%89`,
      undefined,
      400,
      'validation_failed',
    );
    await expectStatus(srv.url, alice.token, 'PUT', path(roomId, 99999, '🎉'), undefined, 404, 'not_found');
    await expectStatus(srv.url, alice.token, 'PUT', path(roomId, 1, '🎉'), undefined, 404, 'not_found');
    await expectStatus(srv.url, alice.token, 'DELETE', path(roomId, 1, '🎉'), undefined, 404, 'not_found');
    await expectStatus(srv.url, alice.token, 'PUT', path('r_nope', 1, '🎉'), undefined, 404, 'room_not_found');
    await expectStatus(srv.url, undefined, 'PUT', path(roomId, m.seq, '🎉'), undefined, 401, 'unauthorized');
    expect(await reactionsOf(srv.url, alice.token, roomId, m.seq)).toBeUndefined();
  });

  it('MAX_REACTIONS_PER_MESSAGE caps different emojis: a new one is refused, joining one there is fine', async () => {
    const srv = await startServer({ maxReactionsPerMessage: 3 });
    const { alice, bob, roomId } = await cast(srv.url);
    const m = await sent(srv.url, alice.token, roomId, 'cap');
    for (const e of ['🎉', '🔥', '👀']) expect((await react(srv.url, alice.token, roomId, m.seq, e)).status).toBe(200);
    const refused = await expectStatus(
      srv.url,
      bob.token,
      'PUT',
      path(roomId, m.seq, '🚀'),
      undefined,
      422,
      'too_many_reactions',
    );
    expect(JSON.stringify(refused)).toBeDefined();
    expect((await react(srv.url, bob.token, roomId, m.seq, '🔥')).body.added).toBe(true);
    // A removal frees a place.
    await unreact(srv.url, alice.token, roomId, m.seq, '👀');
    expect((await react(srv.url, bob.token, roomId, m.seq, '🚀')).body.added).toBe(true);
    expect((await reactionsOf(srv.url, bob.token, roomId, m.seq))?.map((r) => [r.emoji, r.count])).toEqual([
      ['🎉', 1],
      ['🔥', 2],
      ['🚀', 1],
    ]);
  });

  it('a deleted message: reactions refused (message_deleted) and dropped from history; their events stay', async () => {
    const srv = await startServer();
    const { mod, alice, bob, roomId } = await cast(srv.url);
    const m = await sent(srv.url, alice.token, roomId, 'soon gone');
    await react(srv.url, bob.token, roomId, m.seq, '🎉');
    await expectStatus(srv.url, mod.token, 'DELETE', `/api/v1/rooms/${roomId}/messages/${m.seq}`, undefined, 204);
    await expectStatus(srv.url, bob.token, 'PUT', path(roomId, m.seq, '🔥'), undefined, 409, 'message_deleted');
    await expectStatus(srv.url, bob.token, 'DELETE', path(roomId, m.seq, '🎉'), undefined, 409, 'message_deleted');
    expect(await reactionsOf(srv.url, alice.token, roomId, m.seq)).toBeUndefined();
    const events = await call<{ events: RoomEvent[] }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${roomId}/events?after=${m.seq - 1}`,
    );
    expect(events.body.events.map((e) => [e.type, e.body])).toEqual([
      ['message', ''],
      ['reaction.added', null],
      ['message.deleted', null],
    ]);
  });

  it('who reacts: members, also in read-only rooms; not muted members, banned users, non-members or admins outside', async () => {
    const srv = await startServer();
    const { admin, owner, mod, alice, bob, roomId } = await cast(srv.url);
    const m = await sent(srv.url, owner.token, roomId, 'react to me');

    await expectStatus(srv.url, mod.token, 'PUT', `/api/v1/rooms/${roomId}/mutes/${alice.user.id}`, {}, 204);
    await expectStatus(srv.url, alice.token, 'PUT', path(roomId, m.seq, '🎉'), undefined, 403, 'muted');
    await expectStatus(srv.url, mod.token, 'DELETE', `/api/v1/rooms/${roomId}/mutes/${alice.user.id}`, undefined, 204);
    expect((await react(srv.url, alice.token, roomId, m.seq, '🎉')).body.added).toBe(true);

    await expectStatus(srv.url, owner.token, 'PATCH', `/api/v1/rooms/${roomId}`, { settings: { readOnly: true } }, 200);
    expect((await react(srv.url, bob.token, roomId, m.seq, '🎉')).body.added).toBe(true);

    await expectStatus(srv.url, admin.token, 'PUT', path(roomId, m.seq, '🔥'), undefined, 403, 'not_member');
    await expectStatus(srv.url, mod.token, 'PUT', `/api/v1/rooms/${roomId}/bans/${bob.user.id}`, {}, 204);
    await expectStatus(srv.url, bob.token, 'PUT', path(roomId, m.seq, '🔥'), undefined, 403, 'banned');
    expect((await reactionsOf(srv.url, owner.token, roomId, m.seq))?.map((r) => [r.emoji, r.userIds])).toEqual([
      ['🎉', [alice.user.id, bob.user.id]],
    ]);
  });

  it('REACTIONS_PER_MINUTE: beyond the burst, rate_limited with retryAfterMs; nothing appended', async () => {
    const srv = await startServer({ reactionsPerMinute: 3 });
    const { alice, roomId } = await cast(srv.url);
    const m = await sent(srv.url, alice.token, roomId, 'rate');
    for (const e of ['🎉', '🔥', '👀']) expect((await react(srv.url, alice.token, roomId, m.seq, e)).status).toBe(200);
    const r = await react(srv.url, alice.token, roomId, m.seq, '🚀');
    expect([r.status, r.body.error?.code]).toEqual([429, 'rate_limited']);
    expect(r.body.error?.retryAfterMs).toBeGreaterThan(0);
    expect((await reactionsOf(srv.url, alice.token, roomId, m.seq))?.map((x) => x.emoji)).toEqual(['🎉', '🔥', '👀']);
  });
});

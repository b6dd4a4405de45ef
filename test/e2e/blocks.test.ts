import { describe, expect, it } from 'vitest';
import type { Block, RoomEvent } from '../../src/protocol/model.js';
import { registerUser, startServer } from '../helpers/harness.js';
import { call, expectStatus, httpSend, live, wsSend, wsTypingRefused } from '../helpers/moderation-kit.js';

/**
 * Issue #14, blocking end to end: `PUT`/`DELETE`/`GET /api/v1/me/blocks`, the `block` frame on the blocker's other
 * devices (and nobody else's), and what a block does: no DM either way (creating, re-entering, sending over HTTP and
 * WebSocket: `dm_unavailable` for both sides), invites from the blocked user dropped, shared rooms untouched.
 */

const blockPath = (userId: string) => `/api/v1/me/blocks/${userId}`;
const blocksOf = async (url: string, token: string) =>
  (await expectStatus<{ blocks: Block[] }>(url, token, 'GET', '/api/v1/me/blocks', undefined, 200)).blocks;

describe('blocking', () => {
  it('block, list with names and since when, unblock; idempotent; self and unknown refused; private; live to my other devices', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    await bob.api.updateProfile({ displayName: 'Bobby Tables' });
    const aliceOther = await live(srv.url, alice.token);
    const b = await live(srv.url, bob.token);

    const first = await call<{ block: Block; created: boolean }>(srv.url, alice.token, 'PUT', blockPath(bob.user.id));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      created: true,
      block: { user: { id: bob.user.id, displayName: 'Bobby Tables' } },
    });
    expect(Date.parse(first.body.block.since)).toBeGreaterThan(0);
    const frame = await aliceOther.next((f) => f.type === 'block', 'block frame on alice’s other device');
    expect(frame).toEqual({ type: 'block', blocked: true, user: first.body.block.user, since: first.body.block.since });

    // A repeat is a no-op with the original time, and no second frame.
    const again = await call<{ block: Block; created: boolean }>(srv.url, alice.token, 'PUT', blockPath(bob.user.id));
    expect([again.status, again.body]).toEqual([200, { block: first.body.block, created: false }]);
    expect(await blocksOf(srv.url, alice.token)).toEqual([first.body.block]);
    // Private: bob's list is his own, and bob's sockets hear nothing of it.
    expect(await blocksOf(srv.url, bob.token)).toEqual([]);

    await expectStatus(srv.url, alice.token, 'PUT', blockPath(alice.user.id), undefined, 422, 'cannot_block_self');
    await expectStatus(srv.url, alice.token, 'DELETE', blockPath(alice.user.id), undefined, 422, 'cannot_block_self');
    await expectStatus(srv.url, alice.token, 'PUT', blockPath('u_nobody'), undefined, 404, 'user_not_found');
    await expectStatus(srv.url, alice.token, 'PUT', blockPath('not an id!'), undefined, 400, 'validation_failed');
    await expectStatus(srv.url, undefined, 'GET', '/api/v1/me/blocks', undefined, 401, 'unauthorized');

    const un = await call(srv.url, alice.token, 'DELETE', blockPath(bob.user.id));
    expect([un.status, un.body]).toEqual([200, { unblocked: true }]);
    const unFrame = await aliceOther.next((f) => f.type === 'block' && f.blocked === false, 'unblock frame');
    expect(unFrame).toMatchObject({ user: { id: bob.user.id }, since: null });
    expect((await call(srv.url, alice.token, 'DELETE', blockPath(bob.user.id))).body).toEqual({ unblocked: false });
    expect(await blocksOf(srv.url, alice.token)).toEqual([]);

    // Nothing reached bob: a marker sent after everything above is the first thing he gets past his welcome.
    const { room } = await call<{ room: { id: string } }>(srv.url, alice.token, 'POST', '/api/v1/dms', {
      usernames: ['bob'],
    }).then((r) => r.body);
    await b.next((f) => f.type === 'room.added' && (f.room as { id: string }).id === room.id, 'marker at bob');
    expect(b.frames.filter((f) => f.type === 'block')).toEqual([]);
    expect(aliceOther.frames.filter((f) => f.type === 'block')).toHaveLength(2);
    aliceOther.close();
    b.close();
  });

  it('a block either way closes the DM to both, over HTTP and WebSocket; group DMs with both refused; unblock reopens it', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const carol = await registerUser(srv.url, 'carol');
    const dm = await bob.api.openDm('alice');
    const stored = await httpSend(srv.url, bob.token, dm.id, 'hi alice');
    expect(stored.status).toBe(201);

    await expectStatus(srv.url, alice.token, 'PUT', blockPath(bob.user.id), undefined, 200);
    const bobWs = await live(srv.url, bob.token);
    const aliceWs = await live(srv.url, alice.token);

    // Bob (blocked) and alice (blocker) get the same answer: it does not say who blocked whom.
    for (const [who, ws, token] of [
      ['bob', bobWs, bob.token],
      ['alice', aliceWs, alice.token],
    ] as const) {
      const r = await httpSend(srv.url, token, dm.id, `from ${who}`);
      expect([r.status, r.body.error?.code]).toEqual([403, 'dm_unavailable']);
      const f = await wsSend(ws, dm.id, `ws from ${who}`);
      expect([f.type, f.code]).toEqual(['error', 'dm_unavailable']);
    }
    // Nor typing, editing or reacting there: the DM is closed, not only to new messages.
    const seq = stored.body.message.seq;
    expect((await wsTypingRefused(bobWs, dm.id)).code).toBe('dm_unavailable');
    await expectStatus(
      srv.url,
      bob.token,
      'PATCH',
      `/api/v1/rooms/${dm.id}/messages/${seq}`,
      { body: 'edited' },
      403,
      'dm_unavailable',
    );
    await expectStatus(
      srv.url,
      alice.token,
      'PUT',
      `/api/v1/rooms/${dm.id}/messages/${seq}/reactions/thumbsup`,
      undefined,
      403,
      'dm_unavailable',
    );
    // The retry of a message stored before the block still gets its ack (the delivery contract).
    const retry = await call<{ message: RoomEvent; duplicate?: boolean }>(
      srv.url,
      bob.token,
      'POST',
      `/api/v1/rooms/${dm.id}/messages`,
      { body: 'hi alice', clientMsgId: (stored.body.message as RoomEvent & { clientMsgId: string }).clientMsgId },
    );
    expect(retry.status).toBeLessThan(300);
    expect(retry.body.message.seq).toBe(stored.body.message.seq);

    // No new DM or group DM with both, whichever of them opens it.
    await expectStatus(
      srv.url,
      bob.token,
      'POST',
      '/api/v1/dms',
      { usernames: ['alice', 'carol'] },
      403,
      'dm_unavailable',
    );
    await expectStatus(
      srv.url,
      alice.token,
      'POST',
      '/api/v1/dms',
      { usernames: ['carol', 'bob'] },
      403,
      'dm_unavailable',
    );
    // Bob left the DM: he cannot get back in while the block stands.
    await expectStatus(srv.url, bob.token, 'POST', `/api/v1/rooms/${dm.id}/leave`, undefined, 204);
    await expectStatus(srv.url, bob.token, 'POST', '/api/v1/dms', { usernames: ['alice'] }, 403, 'dm_unavailable');
    // Alice, still in it, may open it (it is in her list anyway); sending stays closed.
    await expectStatus(srv.url, alice.token, 'POST', '/api/v1/dms', { usernames: ['bob'] }, 200);
    // Carol is not told of a block between two others: her group with both opens, and is a shared room.
    const group = await carol.api.openDm('alice', 'bob');
    expect((await httpSend(srv.url, bob.token, group.id, 'in the group')).status).toBe(201);
    expect((await httpSend(srv.url, alice.token, group.id, 'me too')).status).toBe(201);
    // Others' DMs are untouched.
    const ac = await carol.api.openDm('alice');
    expect((await httpSend(srv.url, carol.token, ac.id, 'hey')).status).toBe(201);

    await expectStatus(srv.url, alice.token, 'DELETE', blockPath(bob.user.id), undefined, 200);
    await expectStatus(srv.url, bob.token, 'POST', '/api/v1/dms', { usernames: ['alice'] }, 200);
    expect((await httpSend(srv.url, bob.token, dm.id, 'back again')).status).toBe(201);
    const f = await wsSend(aliceWs, dm.id, 'welcome back');
    expect(f.type).toBe('ack');
    bobWs.close();
    aliceWs.close();
  });

  it('the blocked user’s invites to the blocker are dropped unseen; shared rooms deliver as before', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const carol = await registerUser(srv.url, 'carol');
    await expectStatus(srv.url, alice.token, 'PUT', blockPath(bob.user.id), undefined, 200);
    const a = await live(srv.url, alice.token);

    const bobs = await bob.api.createRoom('bobs place', 'private');
    // Answered like any invite, so bob learns nothing; alice gets no invite, no frame, no member.invited event.
    await expectStatus(srv.url, bob.token, 'POST', `/api/v1/rooms/${bobs.id}/invites`, { username: 'alice' }, 204);
    expect(await alice.api.invites()).toEqual([]);
    expect((await bob.api.events(bobs.id, { limit: 50 })).some((e) => e.type === 'member.invited')).toBe(false);
    // Alice blocked bob, not the other way round: she may still invite him.
    const hers = await alice.api.createRoom('alices place', 'private');
    await expectStatus(srv.url, alice.token, 'POST', `/api/v1/rooms/${hers.id}/invites`, { username: 'bob' }, 204);
    expect((await bob.api.invites()).map((i) => i.room.id)).toEqual([hers.id]);

    // Carol's invite is the marker: it arrives, bob's never did.
    const carols = await carol.api.createRoom('carols place', 'private');
    await expectStatus(srv.url, carol.token, 'POST', `/api/v1/rooms/${carols.id}/invites`, { username: 'alice' }, 204);
    await a.next((f) => f.type === 'invite' && f.roomId === carols.id, 'carol’s invite at alice');
    expect(a.frames.filter((f) => f.type === 'invite').map((f) => f.roomId)).toEqual([carols.id]);

    // A shared public room: bob's messages reach alice as before (her clients collapse them).
    const pub = await carol.api.createRoom('town square');
    await alice.api.join(pub.id);
    await bob.api.join(pub.id);
    const from = a.frames.length;
    const m = await httpSend(srv.url, bob.token, pub.id, 'hello everyone');
    expect(m.status).toBe(201);
    await a.next(
      (f) => f.type === 'event' && (f.event as RoomEvent).seq === m.body.message.seq && f.event !== undefined,
      'bob’s message at alice',
      from,
    );
    a.close();
  });

  it('MAX_BLOCKS_PER_USER caps the list and BLOCK_CHANGES_PER_MINUTE the changes', async () => {
    const srv = await startServer({ maxBlocksPerUser: 1, blockChangesPerMinute: 3 });
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const carol = await registerUser(srv.url, 'carol');
    await expectStatus(srv.url, alice.token, 'PUT', blockPath(bob.user.id), undefined, 200);
    await expectStatus(srv.url, alice.token, 'PUT', blockPath(carol.user.id), undefined, 409, 'too_many_blocks');
    expect((await blocksOf(srv.url, alice.token)).map((b) => b.user.id)).toEqual([bob.user.id]);
    await expectStatus(srv.url, alice.token, 'DELETE', blockPath(bob.user.id), undefined, 200);
    const limited = await call(srv.url, alice.token, 'PUT', blockPath(carol.user.id));
    expect([limited.status, limited.body.error?.code]).toEqual([429, 'rate_limited']);
    expect(limited.body.error?.retryAfterMs).toBeGreaterThan(0);
    // Another user's bucket is their own.
    await expectStatus(srv.url, bob.token, 'PUT', blockPath(carol.user.id), undefined, 200);
  });
});

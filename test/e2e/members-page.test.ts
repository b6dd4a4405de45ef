import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/client/api.js';
import { welcomeRooms } from '../../src/protocol/welcome.js';
import { connect, registerUser, startServer, waitFor } from '../helpers/harness.js';

/** Issue 21, finding 10: `GET /rooms/:id/members` answers in bounded pages. */
describe('member list pages', () => {
  it('pages with a cursor in join order, each page bounded; online counts the whole room', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const room = await owner.api.createRoom('big', 'public');
    const joined = [owner.user.id];
    for (let i = 0; i < 6; i++) {
      const u = await registerUser(srv.url);
      await u.api.join(room.id);
      joined.push(u.user.id);
    }
    await connect(srv.url, owner.token); // one member online
    await waitFor(async () => (await owner.api.members(room.id, { limit: 3 })).online === 1, 5000, 'presence');

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await owner.api.members(room.id, { limit: 3, ...(cursor ? { cursor } : {}) });
      sizes.push(r.members.length);
      seen.push(...r.members.map((m) => m.user.id));
      expect(r.online).toBe(1);
      if (page === 0) {
        // A member joining mid-way lands at the end, and paging neither repeats nor skips anyone.
        const late = await registerUser(srv.url);
        await late.api.join(room.id);
        joined.push(late.user.id);
      }
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect(sizes).toEqual([3, 3, 2]);
    // Join order; members who joined in the same millisecond are ordered by id, so compare as sets too.
    expect(seen.length).toBe(joined.length);
    expect([...seen].sort()).toEqual([...joined].sort());
    expect(seen[0]).toBe(owner.user.id);

    // Default page size is 100; more than 200 is refused; a forged cursor is refused.
    expect((await owner.api.members(room.id)).members.length).toBe(8);
    for (const page of [{ limit: 201 }, { limit: 0 }, { cursor: 'bm90LWEtY3Vyc29y' }]) {
      await expect(owner.api.members(room.id, page)).rejects.toMatchObject({ code: 'validation_failed' });
    }
    await expect(owner.api.members(room.id, { cursor: '!!' })).rejects.toBeInstanceOf(ApiError);
  });

  it('allMembers pages through a room bigger than one page', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const room = await owner.api.createRoom('huge', 'public');
    const others = await Promise.all(Array.from({ length: 205 }, () => registerUser(srv.url)));
    for (const u of others) await u.api.join(room.id);
    const first = await owner.api.members(room.id, { limit: 200 });
    expect(first.members.length).toBe(200);
    expect(first.nextCursor).not.toBeNull();
    const all = await owner.api.allMembers(room.id);
    expect(all.members.length).toBe(206);
    expect(new Set(all.members.map((m) => m.user.id)).size).toBe(206);
    expect(all.nextCursor).toBeNull();
  });
});

/** Issue 21, finding 10 (second half): `welcome` stays small for a user in many rooms and DMs. */
describe('welcome', () => {
  it('embeds no member lists: DMs name their peers by id, each peer once in a compact profile map', async () => {
    const srv = await startServer();
    const me = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const carol = await registerUser(srv.url);
    await bob.api.updateProfile({ displayName: 'Bob B', statusText: 'a long status that welcome need not carry' });
    const room = await me.api.createRoom('plain', 'public');
    await bob.api.join(room.id);
    const dmBob = await me.api.openDm(bob.username);
    const group = await me.api.openDm(bob.username, carol.username);

    const welcome = (await connect(srv.url, me.token)).welcome!;
    for (const r of welcome.rooms) expect(r).not.toHaveProperty('members');
    const byId = new Map(welcome.rooms.map((r) => [r.id, r]));
    expect(byId.get(room.id)).not.toHaveProperty('memberIds');
    expect(byId.get(dmBob.id)?.memberIds).toEqual([bob.user.id]);
    expect([...(byId.get(group.id)?.memberIds ?? [])].sort()).toEqual([bob.user.id, carol.user.id].sort());
    // Bob is in two DMs and appears once; names only (no status text, role or dates), keyed by id.
    expect(welcome.profiles).toEqual({
      [bob.user.id]: { username: bob.username, displayName: 'Bob B' },
      [carol.user.id]: { username: carol.username, displayName: carol.username },
    });

    // The SDK rebuilds each DM's member names for a client that titles conversations.
    const rooms = welcomeRooms(welcome);
    expect(rooms.find((r) => r.id === dmBob.id)?.members).toEqual([
      { id: bob.user.id, username: bob.username, displayName: 'Bob B' },
    ]);
    expect(rooms.find((r) => r.id === room.id)?.members).toBeUndefined();
    // GET /me/rooms and POST /dms carry the same names-only members.
    const listed = (await me.api.myRooms()).find((r) => r.id === dmBob.id);
    expect(listed?.members).toEqual([{ id: bob.user.id, username: bob.username, displayName: 'Bob B' }]);
  });
});

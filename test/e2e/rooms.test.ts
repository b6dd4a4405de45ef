import { describe, expect, it } from 'vitest';
import { connect, rawSocket, recordEvents, registerUser, startServer, waitFor } from '../helpers/harness.js';

describe('rooms', () => {
  it('new users are in the lobby; rooms are created with the creator as owner', async () => {
    const srv = await startServer();
    const u = await registerUser(srv.url);
    expect((await u.api.myRooms()).map((r) => r.id)).toEqual(['lobby']);
    const room = await u.api.createRoom('design', 'public', 'pixels and pain');
    expect(room).toMatchObject({ name: 'design', kind: 'public', topic: 'pixels and pain', memberCount: 1 });
    const mine = await u.api.myRooms();
    expect(mine[0]).toMatchObject({ id: room.id, myRole: 'owner' });
  });

  it('directory search matches name or topic and pages with a cursor', async () => {
    const srv = await startServer();
    const u = await registerUser(srv.url);
    for (let i = 0; i < 7; i++) await u.api.createRoom(`game-${i}`, 'public');
    await u.api.createRoom('quiet', 'public', 'board GAMES only');
    await u.api.createRoom('game-secret', 'private');
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await u.api.searchRooms('game', { limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...r.rooms.map((x) => x.name));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect(seen).toEqual([...Array.from({ length: 7 }, (_, i) => `game-${i}`), 'quiet']);
  });

  it('join, leave, member list with roles, rename and topic all ride the room sequence', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await owner.api.createRoom('team');
    const o = await connect(srv.url, owner.token);
    const log = recordEvents(o);
    await bob.api.join(room.id);
    await bob.api.join(room.id); // joining twice is a no-op
    await owner.api.setRole(room.id, bob.user.id, 'admin');
    await bob.api.updateRoom(room.id, { name: 'team-renamed', topic: 'new topic' });
    const members = await owner.api.members(room.id);
    expect(members.members.map((m) => [m.user.id, m.role])).toEqual([
      [owner.user.id, 'owner'],
      [bob.user.id, 'admin'],
    ]);
    await bob.api.leave(room.id);
    await waitFor(() => (log.byRoom.get(room.id) ?? []).length === 4);
    expect(log.byRoom.get(room.id)!.map((e) => e.type)).toEqual([
      'member.joined',
      'member.role',
      'room.updated',
      'member.left',
    ]);
    const events = await owner.api.events(room.id, { after: 0 });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await owner.api.room(room.id)).name).toBe('team-renamed');
  });

  it('events?kinds=membership pages the joins and leaves between messages (the conversation\'s "joined" lines)', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const carol = await registerUser(srv.url);
    const room = await owner.api.createRoom('lines'); // 1 created, 2 owner joined
    await bob.api.join(room.id); // 3
    await owner.api.sendMessage(room.id, 'hello', 'c1'); // 4
    await carol.api.join(room.id); // 5
    await bob.api.leave(room.id); // 6
    await owner.api.sendMessage(room.id, 'bye bob', 'c2'); // 7
    await owner.api.kick(room.id, carol.user.id); // 8
    const lines = await owner.api.events(room.id, { after: 0, kinds: 'membership' });
    expect(lines.map((e) => [e.seq, e.type, e.data?.userId])).toEqual([
      [2, 'member.joined', owner.user.id],
      [3, 'member.joined', bob.user.id],
      [5, 'member.joined', carol.user.id],
      [6, 'member.left', bob.user.id],
      [8, 'member.left', carol.user.id],
    ]);
    expect(lines.at(-1)).toMatchObject({ senderId: owner.user.id, data: { reason: 'removed' } });
    const older = await owner.api.events(room.id, { before: 6, limit: 2, kinds: 'membership' });
    expect(older.map((e) => e.seq)).toEqual([3, 5]);
    // Only the one filter exists; anything else is refused, not ignored.
    const bad = await fetch(`${srv.url}/api/v1/rooms/${room.id}/events?kinds=messages`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'validation_failed' } });
  });

  it('the last owner cannot leave a room others are still in; plain members cannot rename', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await owner.api.createRoom('keep');
    await bob.api.join(room.id);
    await expect(owner.api.leave(room.id)).rejects.toMatchObject({ status: 409, code: 'last_owner' });
    await expect(owner.api.setRole(room.id, owner.user.id, 'member')).rejects.toMatchObject({ code: 'last_owner' });
    await expect(bob.api.updateRoom(room.id, { name: 'mine now' })).rejects.toMatchObject({ status: 403 });
    await expect(bob.api.setRole(room.id, bob.user.id, 'owner')).rejects.toMatchObject({ status: 403 });
  });

  it('public room names are trimmed and unique ignoring case; private rooms may repeat them', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const first = await alice.api.createRoom('  design-reviews  ', 'public');
    expect(first.name).toBe('design-reviews');
    await expect(bob.api.createRoom('Design-Reviews ', 'public')).rejects.toMatchObject({
      status: 409,
      code: 'room_name_taken',
    });
    await expect(bob.api.createRoom('LOBBY', 'public')).rejects.toMatchObject({ code: 'room_name_taken' });
    const found = await bob.api.searchRooms('design-reviews');
    expect(found.rooms.map((r) => r.id)).toEqual([first.id]);
    // Only members see a private room's name, so it may repeat a public one.
    const secret = await bob.api.createRoom('Design-Reviews', 'private');
    expect(secret.name).toBe('Design-Reviews');
    const other = await bob.api.createRoom('reviews', 'public');
    await expect(bob.api.updateRoom(other.id, { name: ' DESIGN-REVIEWS' })).rejects.toMatchObject({
      status: 409,
      code: 'room_name_taken',
    });
    expect((await bob.api.room(other.id)).name).toBe('reviews');
  });

  it('limits how many rooms a user belongs to', async () => {
    const srv = await startServer({ maxRoomsPerUser: 3 });
    const u = await registerUser(srv.url);
    await u.api.createRoom('one');
    await u.api.createRoom('two');
    await expect(u.api.createRoom('three')).rejects.toMatchObject({ status: 409, code: 'too_many_rooms' });
  });

  it('opening a DM you are already in is not held to the room quota; a new one is', async () => {
    const srv = await startServer({ maxRoomsPerUser: 3 });
    const [u, v, w] = await Promise.all([registerUser(srv.url), registerUser(srv.url), registerUser(srv.url)]);
    const dm = await u.api.openDm(v.user.username); // lobby + this DM
    await u.api.createRoom('full'); // at the quota now
    expect((await u.api.openDm(v.user.username)).id).toBe(dm.id);
    await expect(u.api.openDm(w.user.username)).rejects.toMatchObject({ status: 409, code: 'too_many_rooms' });
  });

  it('a room joined on one device appears live on the user’s other connections', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await owner.api.createRoom('late');
    await owner.api.sendMessage(room.id, 'before bob', 'b1');
    const b = await connect(srv.url, bob.token);
    const log = recordEvents(b);
    const added: string[] = [];
    b.on('room.added', (f) => added.push(f.room.id));
    await bob.api.join(room.id);
    await owner.api.sendMessage(room.id, 'after bob', 'b2');
    await waitFor(() => log.bodies(room.id).length === 1);
    expect(added).toEqual([room.id]);
    expect(log.byRoom.get(room.id)!.map((e) => e.type)).toEqual(['member.joined', 'message']);
    expect(b.stats.duplicatesDropped).toBe(0);
    expect(log.bodies(room.id)).toEqual(['after bob']);
  });

  it('leaving and re-joining while offline: resume from before the leave keeps the room live', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await owner.api.createRoom('revolving');
    await bob.api.join(room.id);
    const b1 = await connect(srv.url, bob.token);
    const positions = b1.positions;
    b1.close();
    await bob.api.leave(room.id);
    await owner.api.sendMessage(room.id, 'while bob was out', 'o1');
    await bob.api.join(room.id);
    let log!: ReturnType<typeof recordEvents>;
    const removed: string[] = [];
    const b2 = await connect(srv.url, bob.token, { resume: positions }, (c) => {
      log = recordEvents(c);
      c.on('room.removed', (f) => removed.push(f.roomId));
    });
    await owner.api.sendMessage(room.id, 'welcome back', 'o2');
    await waitFor(() => log.bodies(room.id).includes('welcome back'), 5000, 'live message after rejoin');
    expect(removed).toEqual([]);
    // Replay starts at the new membership: the old leave and what was said while away are not replayed.
    expect(log.byRoom.get(room.id)!.map((e) => e.type)).toEqual(['member.joined', 'message']);
    expect(b2.stats.duplicatesDropped).toBe(0);
    b2.typing(room.id);
  });

  it('typing indicators reach other members only; presence and online counts follow connections', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const b = await connect(srv.url, bob.token);
    const typing: string[] = [];
    b.on('typing', (t) => typing.push(t.userId));
    const presence: { online: number; changes: { userId: string; status: string }[] }[] = [];
    b.on('presence', (p) => presence.push(p));
    const a = await connect(srv.url, alice.token);
    await waitFor(() =>
      presence.some((p) => p.changes.some((c) => c.userId === alice.user.id && c.status === 'online')),
    );
    expect(presence.at(-1)!.online).toBe(2);
    expect(await bob.api.online()).toBe(2);
    a.typing('lobby');
    await waitFor(() => typing.length === 1);
    expect(typing).toEqual([alice.user.id]);
    a.setPresence('away');
    await waitFor(() => presence.some((p) => p.changes.some((c) => c.userId === alice.user.id && c.status === 'away')));
    const members = await bob.api.members('lobby');
    expect(members.members.find((m) => m.user.id === alice.user.id)!.presence).toBe('away');
    a.close();
    await waitFor(() =>
      presence.some((p) => p.changes.some((c) => c.userId === alice.user.id && c.status === 'offline')),
    );
    expect(presence.at(-1)!.online).toBe(1);
  });

  it('typing in a room you are not in is refused', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const outsider = await registerUser(srv.url);
    const room = await owner.api.createRoom('closed', 'private');
    const sock = await rawSocket(srv.url);
    sock.send({ type: 'hello', v: 1, token: outsider.token });
    await waitFor(() => sock.frames.some((f) => f.type === 'welcome'));
    sock.send({ type: 'typing', roomId: room.id });
    await waitFor(() => sock.frames.some((f) => f.type === 'error' && f.code === 'not_member'));
  });
});

describe('privacy of private rooms and DMs', () => {
  it('a non-member can neither see, read, receive nor post in a private room', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const outsider = await registerUser(srv.url);
    const room = await owner.api.createRoom('secret', 'private');
    await owner.api.sendMessage(room.id, 'classified', 's1');
    const spy = await connect(srv.url, outsider.token);
    const spyLog = recordEvents(spy);
    const o = await connect(srv.url, owner.token);
    await o.send(room.id, 'still classified');
    await expect(outsider.api.room(room.id)).rejects.toMatchObject({ status: 404, code: 'room_not_found' });
    await expect(outsider.api.messages(room.id)).rejects.toMatchObject({ status: 404 });
    await expect(outsider.api.events(room.id, { after: 0 })).rejects.toMatchObject({ status: 404 });
    await expect(outsider.api.sendMessage(room.id, 'let me in', 'x1')).rejects.toMatchObject({ status: 404 });
    await expect(outsider.api.join(room.id)).rejects.toMatchObject({ status: 404 });
    await expect(outsider.api.members(room.id)).rejects.toMatchObject({ status: 404 });
    expect((await outsider.api.searchRooms('secret')).rooms).toEqual([]);
    // Resume cursors naming the room do not open it either.
    const sock = await rawSocket(srv.url);
    sock.send({ type: 'hello', v: 1, token: outsider.token, resume: { [room.id]: 0 } });
    sock.send({ type: 'send', roomId: room.id, clientMsgId: 'ws1', body: 'sneaky' });
    await waitFor(() => sock.frames.some((f) => f.type === 'error' && f.clientMsgId === 'ws1'));
    await o.send('lobby', 'marker');
    await waitFor(() => spyLog.bodies('lobby').includes('marker'));
    expect(spyLog.byRoom.has(room.id)).toBe(false);
    expect(sock.frames.some((f) => f.type === 'event' && (f.event as { roomId: string }).roomId === room.id)).toBe(
      false,
    );
    expect((await owner.api.messages(room.id)).map((m) => m.body)).toEqual(['classified', 'still classified']);
  });

  it('invites: the invitee is notified, may accept (and then reads) or decline', async () => {
    const srv = await startServer();
    const owner = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const carol = await registerUser(srv.url);
    const room = await owner.api.createRoom('club', 'private');
    const b = await connect(srv.url, bob.token);
    const invites: string[] = [];
    b.on('invite', (i) => invites.push(i.roomId));
    await owner.api.invite(room.id, bob.username);
    await owner.api.invite(room.id, carol.username);
    await waitFor(() => invites.length === 1);
    expect((await bob.api.invites()).map((i) => i.room.id)).toEqual([room.id]);
    await expect(bob.api.messages(room.id)).rejects.toMatchObject({ status: 403, code: 'not_member' });
    await bob.api.acceptInvite(room.id);
    await owner.api.sendMessage(room.id, 'welcome bob', 'w1');
    expect((await bob.api.messages(room.id)).map((m) => m.body)).toEqual(['welcome bob']);
    await carol.api.declineInvite(room.id);
    await expect(carol.api.acceptInvite(room.id)).rejects.toMatchObject({ status: 404, code: 'invite_not_found' });
    await expect(carol.api.room(room.id)).rejects.toMatchObject({ status: 404 });
    // Plain members of a private room cannot invite.
    await expect(bob.api.invite(room.id, carol.username)).rejects.toMatchObject({ status: 403 });
  });

  it('DMs: one room per member set, private to its members, live to both', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const eve = await registerUser(srv.url);
    const b = await connect(srv.url, bob.token);
    const log = recordEvents(b);
    const dm = await alice.api.openDm(bob.username);
    expect(dm.kind).toBe('dm');
    expect(dm.members!.map((m) => m.id)).toEqual([bob.user.id]);
    expect((await bob.api.openDm(alice.username.toUpperCase())).id).toBe(dm.id);
    await alice.api.sendMessage(dm.id, 'psst', 'd1');
    await waitFor(() => log.bodies(dm.id).length === 1);
    await expect(eve.api.messages(dm.id)).rejects.toMatchObject({ status: 404 });
    await expect(eve.api.sendMessage(dm.id, 'hi', 'e1')).rejects.toMatchObject({ status: 404 });
    await expect(eve.api.join(dm.id)).rejects.toMatchObject({ status: 404 });
    const group = await alice.api.openDm(bob.username, eve.username);
    expect(group.id).not.toBe(dm.id);
    expect(group.memberCount).toBe(3);
    await expect(alice.api.openDm(alice.username)).rejects.toMatchObject({ status: 400 });
    // Leaving a DM and opening it again brings you back into the same conversation.
    await bob.api.leave(dm.id);
    await expect(bob.api.messages(dm.id)).rejects.toMatchObject({ status: 404 });
    const reopened = await bob.api.openDm(alice.username);
    expect(reopened.id).toBe(dm.id);
    expect((await bob.api.messages(dm.id)).map((m) => m.body)).toEqual(['psst']);
    await expect(alice.api.invite(dm.id, eve.username)).rejects.toMatchObject({ status: 403 });
  });
});

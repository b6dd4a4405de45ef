import { describe, expect, it } from 'vitest';
import type { ChatClient } from '../../src/client/chat-client.js';
import type { PresenceNotice } from '../../src/protocol/frames.js';
import {
  backend,
  connect,
  rawSocket,
  registerUser,
  startServer,
  waitFor,
  type TestServer,
  type TestUser,
} from '../helpers/harness.js';

/**
 * Presence in big rooms: who came and went reaches only the connections viewing the room (`view`), everyone
 * else in it gets the online count now and then, so a connect storm of N users into the lobby costs each member
 * a constant instead of N changes. Small rooms and DMs tell every member, as before.
 */

type Users = [TestUser, TestUser, TestUser, ...TestUser[]];

async function registerMany(url: string, n: number, prefix: string): Promise<Users> {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i += 20) {
    const batch = Array.from({ length: Math.min(20, n - i) }, (_, k) => registerUser(url, `${prefix}${i + k}`));
    out.push(...(await Promise.all(batch)));
  }
  return out as Users;
}

/** The presence frames a client gets, with their encoded size (the server sends exactly this JSON). */
interface Tap {
  frames: PresenceNotice[];
  bytes: number;
  of(roomId: string): PresenceNotice[];
  /** Every change of `userId` in `roomId`'s frames, in order. */
  changesOf(roomId: string, userId: string): string[];
  lastOnline(roomId: string): number | undefined;
}

function tapPresence(client: ChatClient): Tap {
  const tap: Tap = {
    frames: [],
    bytes: 0,
    of: (roomId) => tap.frames.filter((f) => f.roomId === roomId),
    changesOf: (roomId, userId) =>
      tap.of(roomId).flatMap((f) => f.changes.filter((c) => c.userId === userId).map((c) => c.status)),
    lastOnline: (roomId) => tap.of(roomId).at(-1)?.online,
  };
  client.on('presence', (f) => {
    tap.frames.push(f);
    tap.bytes += Buffer.byteLength(JSON.stringify(f));
  });
  return tap;
}

async function connectTapped(
  srv: TestServer | string,
  user: TestUser,
  view: string[] = [],
): Promise<{ client: ChatClient; tap: Tap }> {
  let tap!: Tap;
  const client = await connect(typeof srv === 'string' ? srv : srv.url, user.token, {}, (c) => {
    tap = tapPresence(c);
    if (view.length) c.view(view);
  });
  return { client, tap };
}

/** The exact online count of a room, as its member list says. */
const onlineOf = async (user: TestUser, roomId: string) => (await user.api.members(roomId)).online;

describe('presence in big rooms', () => {
  it('a viewer of a big room hears who came and went; a non-viewer gets only counts; small rooms and DMs tell everyone', async () => {
    // PRESENCE_FANOUT_MAX_MEMBERS may not go below MAX_DM_MEMBERS (9): 12 lobby members make it big.
    const srv = await startServer({ presenceFanoutMaxMembers: 10, presenceCountIntervalMs: 2000 });
    const [viewer, other, mover, ...rest] = await registerMany(srv.url, 12, 'big');
    expect(rest.length).toBe(9);
    const group = await viewer.api.createRoom('small-group');
    await other.api.join(group.id);
    await mover.api.join(group.id);
    const dm = await other.api.openDm(mover.username);

    const v = await connectTapped(srv, viewer, ['lobby']);
    const o = await connectTapped(srv, other);
    const m = await connectTapped(srv, mover);

    // The viewer hears the mover come online in the lobby; the other member hears it in the small room and the
    // DM, and gets the lobby's count (the first count of a window goes out at once).
    await waitFor(() => v.tap.changesOf('lobby', mover.user.id).includes('online'), 5000, 'viewer: mover online');
    await waitFor(() => o.tap.changesOf(group.id, mover.user.id).includes('online'), 5000, 'group: mover online');
    await waitFor(() => o.tap.changesOf(dm.id, mover.user.id).includes('online'), 5000, 'dm: mover online');
    await waitFor(() => o.tap.lastOnline('lobby') === 3, 5000, 'other: lobby count 3');
    expect(v.tap.lastOnline('lobby')).toBe(3);
    expect(await onlineOf(viewer, 'lobby')).toBe(3);

    // away/online changes no count: the viewer hears it, the non-viewer gets nothing for the lobby.
    m.client.setPresence('away');
    await waitFor(() => v.tap.changesOf('lobby', mover.user.id).includes('away'), 5000, 'viewer: mover away');
    await waitFor(() => o.tap.changesOf(group.id, mover.user.id).includes('away'), 5000, 'group: mover away');
    // A lobby message published after that presence: what the lobby had for `other` before it has arrived.
    const seen = new Set<string>();
    o.client.on('message', (msg) => seen.add(msg.clientMsgId ?? ''));
    await viewer.api.sendMessage('lobby', 'marker', 'marker-1');
    await waitFor(() => seen.has('marker-1'), 5000, 'marker in the lobby');
    expect(o.tap.of('lobby').every((f) => f.changes.length === 0)).toBe(true);
    expect(o.tap.of('lobby').length).toBeGreaterThan(0);

    // The others come online: the viewer hears each; the non-viewer's counts reach the exact total (a count held
    // back by PRESENCE_COUNT_INTERVAL_MS follows when the interval is over).
    await Promise.all(rest.map((u) => connectTapped(srv, u)));
    await waitFor(() => rest.every((u) => v.tap.changesOf('lobby', u.user.id).includes('online')), 5000, 'all seen');
    await waitFor(() => o.tap.lastOnline('lobby') === 12, 8000, 'other: lobby count 12');
    await waitFor(() => v.tap.lastOnline('lobby') === 12, 5000, 'viewer: lobby count 12');
    expect(await onlineOf(viewer, 'lobby')).toBe(12);
    expect(o.tap.of('lobby').every((f) => f.changes.length === 0)).toBe(true);
    // Each non-viewer count frame is small: a constant, whatever the room's size.
    for (const f of o.tap.of('lobby')) expect(Buffer.byteLength(JSON.stringify(f))).toBeLessThan(150);
  });

  it('a connect storm of N users into the lobby: only the viewer hears who came, the others get counts', async () => {
    const N = 200;
    const intervalMs = 1000;
    const srv = await startServer({ presenceCountIntervalMs: intervalMs });
    const [viewer, ...storm] = await registerMany(srv.url, N + 1, 'storm');
    expect(storm.length).toBe(N);
    const v = await connectTapped(srv, viewer, ['lobby']);
    const started = Date.now();
    const members = await Promise.all(storm.map((u) => connectTapped(srv, u)));
    await waitFor(
      () => storm.every((u) => v.tap.changesOf('lobby', u.user.id).includes('online')),
      20_000,
      'the viewer heard everyone come online',
    );
    await waitFor(() => v.tap.lastOnline('lobby') === N + 1, 5000, 'the viewer counts everyone');
    expect(await onlineOf(viewer, 'lobby')).toBe(N + 1);
    // A count held back by the interval follows when it is over: every member ends with the exact count.
    await waitFor(
      () => members.every((m) => m.tap.lastOnline('lobby') === N + 1),
      3 * intervalMs + 5000,
      'every member got the final count',
    );
    // A lobby message after the last presence frame: once every member has it, every frame before it arrived.
    const marked = new Set<number>();
    members.forEach((m, i) => m.client.on('message', (msg) => msg.clientMsgId === 'storm-marker' && marked.add(i)));
    await viewer.api.sendMessage('lobby', 'marker', 'storm-marker');
    await waitFor(() => marked.size === N, 10_000, 'the marker reached every member');
    const elapsedMs = Date.now() - started;

    const lobby = members.map((m) => m.tap.of('lobby'));
    // Nobody but the viewer heard who came online ...
    expect(lobby.flat().reduce((n, f) => n + f.changes.length, 0)).toBe(0);
    // ... the others got count frames of constant size, one per PRESENCE_COUNT_INTERVAL_MS at most (plus the
    // first), however many came: O(N) bytes for the storm in all. Telling each of them about everyone would be
    // about N²/2 changes of ~50 bytes: ~1 MB here.
    for (const f of lobby.flat()) expect(Buffer.byteLength(JSON.stringify(f))).toBeLessThan(150);
    const perMember = 2 + Math.floor(elapsedMs / intervalMs);
    expect(Math.max(...lobby.map((fs) => fs.length))).toBeLessThanOrEqual(perMember);
    expect(members.reduce((sum, m) => sum + m.tap.bytes, 0)).toBeLessThanOrEqual(N * 150 * perMember);
    // The one viewer heard each arrival once or so: O(N) too.
    expect(v.tap.of('lobby').reduce((n, f) => n + f.changes.length, 0)).toBeLessThanOrEqual(N + 1);
    expect(v.tap.bytes).toBeLessThanOrEqual(N * 250);
  });

  it('big-room counts follow joins and leaves of online members, and shrinking back makes the room small', async () => {
    const srv = await startServer({ presenceFanoutMaxMembers: 10, presenceCountIntervalMs: 100 });
    const [viewer, leaver, ...rest] = await registerMany(srv.url, 13, 'member');
    const v = await connectTapped(srv, viewer, ['lobby']);
    const l = await connectTapped(srv, leaver);
    await waitFor(() => v.tap.lastOnline('lobby') === 2, 5000, 'two online');

    // An online member leaves: not a presence change, but the next count has it gone.
    await leaver.api.leave('lobby');
    await connectTapped(srv, rest[0]!);
    await waitFor(() => v.tap.changesOf('lobby', rest[0]!.user.id).includes('online'), 5000, 'rest[0] online');
    expect(v.tap.lastOnline('lobby')).toBe(2);
    expect(await onlineOf(viewer, 'lobby')).toBe(2);

    // An online user joins: counted from the next frame on.
    await leaver.api.join('lobby');
    await connectTapped(srv, rest[1]!);
    await waitFor(() => v.tap.changesOf('lobby', rest[1]!.user.id).includes('online'), 5000, 'rest[1] online');
    expect(v.tap.lastOnline('lobby')).toBe(4);
    expect(await onlineOf(viewer, 'lobby')).toBe(4);
    l.client.close();
    await waitFor(() => v.tap.changesOf('lobby', leaver.user.id).includes('offline'), 5000, 'leaver offline');
    expect(v.tap.lastOnline('lobby')).toBe(3);

    // Down to 10 members (PRESENCE_FANOUT_MAX_MEMBERS): every member hears who changes again, viewer or not.
    const watcher = await connectTapped(srv, rest[2]!);
    for (const u of [leaver, rest[3]!, rest[4]!]) await u.api.leave('lobby');
    await connectTapped(srv, rest[5]!);
    await waitFor(() => watcher.tap.changesOf('lobby', rest[5]!.user.id).includes('online'), 5000, 'small again');
    expect(watcher.tap.lastOnline('lobby')).toBe(await onlineOf(viewer, 'lobby'));
  });

  it('the SDK views again after a reconnect; a view of too many rooms is refused and the socket stays', async () => {
    const srv = await startServer({ presenceFanoutMaxMembers: 10, maxViewedRooms: 2 });
    const [viewer, late, ...rest] = await registerMany(srv.url, 12, 'again');
    expect(rest.length).toBe(10);
    const v = await connectTapped(srv, viewer, ['lobby']);
    let welcomes = 1;
    v.client.on('welcome', () => welcomes++);
    v.client.dropConnection();
    await waitFor(() => welcomes === 2 && v.client.state === 'open', 5000, 'reconnected');
    expect(v.client.viewed).toEqual(['lobby']);
    await connectTapped(srv, late);
    await waitFor(() => v.tap.changesOf('lobby', late.user.id).includes('online'), 5000, 'heard after reconnect');

    const sock = await rawSocket(srv.url);
    sock.send({ type: 'hello', v: 1, token: late.token });
    await waitFor(() => sock.frames.some((f) => f.type === 'welcome'), 5000, 'welcome');
    sock.send({ type: 'view', roomIds: ['lobby', 'a', 'b'], ref: 'v1' });
    sock.send({ type: 'view', roomIds: ['lobby', 'lobby', 'a'], ref: 'v2' }); // two distinct rooms: fine
    sock.send({ type: 'ping', ref: 'after' });
    await waitFor(() => sock.frames.some((f) => f.type === 'pong' && f.ref === 'after'), 5000, 'pong');
    const errors = sock.frames.filter((f) => f.type === 'error');
    expect(errors.map((f) => [f.code, f.ref])).toEqual([['validation_failed', 'v1']]);
  });

  it.runIf(backend === 'cluster')(
    'two nodes agree on a big room’s count, whichever node the members use',
    async () => {
      const settings = { presenceFanoutMaxMembers: 10, presenceCountIntervalMs: 200 };
      const a = await startServer(settings);
      const b = await startServer({
        ...settings,
        databaseUrl: a.config.databaseUrl,
        redisUrl: a.config.redisUrl,
        redisPrefix: a.config.redisPrefix,
      });
      const [viewer, other, ...rest] = await registerMany(a.url, 30, 'nodes');
      const v = await connectTapped(a, viewer, ['lobby']);
      const o = await connectTapped(b, other);
      const clients = await Promise.all(rest.map((u, i) => connectTapped(i % 2 ? a : b, u)));
      await waitFor(() => v.tap.lastOnline('lobby') === 30, 10_000, 'viewer on a: 30 online');
      await waitFor(() => o.tap.lastOnline('lobby') === 30, 10_000, 'non-viewer on b: 30 online');
      expect(o.tap.of('lobby').every((f) => f.changes.length === 0)).toBe(true);
      // A third of them leave, from both nodes.
      for (const c of clients.slice(0, 10)) c.client.close();
      await waitFor(() => v.tap.lastOnline('lobby') === 20, 10_000, 'viewer on a: 20 online');
      await waitFor(() => o.tap.lastOnline('lobby') === 20, 10_000, 'non-viewer on b: 20 online');
      expect(await onlineOf(viewer, 'lobby')).toBe(20);
    },
    60_000,
  );
});

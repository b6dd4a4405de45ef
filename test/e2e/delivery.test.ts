import { describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../src/protocol/close-codes.js';
import type { RoomEvent } from '../../src/protocol/model.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { connect, rawSocket, recordEvents, registerUser, startServer, waitFor } from '../helpers/harness.js';
import { pngOf, upload } from '../helpers/files.js';

/** Asserts a delivered stream is exactly seqs from..to, each once, ascending. */
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function expectContiguous(seqs: number[], from: number, to: number): void {
  expect(seqs).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
}

type Frame = Record<string, unknown>;

/**
 * A raw socket (no SDK, so nothing is deduplicated or reordered for us) that says hello with `resume` and keeps
 * every frame as the server sent it.
 */
async function rawHello(url: string, token: string, resume?: Record<string, number>) {
  const sock = await rawSocket(url);
  sock.send({ type: 'hello', v: PROTOCOL_VERSION, token, ...(resume ? { resume } : {}) });
  const welcome = (await waitFor(() => sock.frames.find((f) => f.type === 'welcome'), 5000, 'welcome'))!;
  const lastSeq = (roomId: string) =>
    (welcome.rooms as { id: string; lastSeq: number }[]).find((r) => r.id === roomId)!.lastSeq;
  const events = (roomId: string) =>
    sock.frames
      .filter((f) => f.type === 'event')
      .map((f) => f.event as RoomEvent)
      .filter((e) => e.roomId === roomId);
  const synced = (roomId: string) =>
    sock.frames.find((f) => f.type === 'synced' && f.roomId === roomId) as Frame | undefined;
  return { ...sock, welcome, lastSeq, events, synced };
}

type RawHello = Awaited<ReturnType<typeof rawHello>>;

/**
 * The resume check of every event kind: a raw socket resumes at each seq from `position` to just before the last
 * of `want` (the events after `position`, as `shape` reads them). Each time the replay starts at n + 1, holds every
 * event after n once and in order, and `synced` says where it ended; `check` looks at the socket after that. With
 * `marker`, something sent after the replay must then arrive live, next in sequence; it joins `want` as it reads.
 */
async function resumeAtEveryPoint<T>(o: {
  url: string;
  token: string;
  roomId: string;
  position: number;
  want: T[];
  shape: (e: RoomEvent) => T;
  check?: (sock: RawHello) => void;
  marker?: (n: number) => Promise<{ seq: number; reads: T }>;
}): Promise<void> {
  const { roomId, position, want } = o;
  const points = want.length;
  for (let n = position; n < position + points; n++) {
    const sock = await rawHello(o.url, o.token, { [roomId]: n });
    await waitFor(() => sock.synced(roomId), 5000, `synced after resume at ${n}`);
    const replayed = sock.events(roomId);
    expect(replayed[0]?.seq).toBe(n + 1);
    expectContiguous(
      replayed.map((e) => e.seq),
      n + 1,
      position + want.length,
    );
    expect(replayed.map(o.shape)).toEqual(want.slice(n - position));
    expect(sock.synced(roomId)!.seq).toBe(position + want.length);
    o.check?.(sock);
    if (o.marker) {
      const marker = await o.marker(n);
      await waitFor(() => sock.events(roomId).some((e) => e.seq === marker.seq), 5000, 'marker');
      expectContiguous(
        sock.events(roomId).map((e) => e.seq),
        n + 1,
        marker.seq,
      );
      // The marker is part of the room now: later resumes replay it too.
      want.push(marker.reads);
    }
    sock.ws.close();
    await sock.closed;
  }
}

describe('delivery guarantees', () => {
  it('many users sending at once: every member receives every message once, in the same sequence order', async () => {
    const srv = await startServer();
    const users = await Promise.all(Array.from({ length: 8 }, () => registerUser(srv.url)));
    const room = await users[0]!.api.createRoom('busy');
    await Promise.all(users.slice(1).map((u) => u.api.join(room.id)));
    const clients = await Promise.all(users.map((u) => connect(srv.url, u.token)));
    const logs = clients.map((c) => recordEvents(c));
    const perUser = 25;
    await Promise.all(
      clients.map((c, i) => Promise.all(Array.from({ length: perUser }, (_, k) => c.send(room.id, `u${i}-m${k}`)))),
    );
    const total = users.length * perUser;
    await waitFor(() => logs.every((l) => l.messages(room.id).length === total), 10_000, 'all messages everywhere');
    const reference = logs[0]!.byRoom.get(room.id)!;
    for (const log of logs) {
      const events = log.byRoom.get(room.id)!;
      // Everyone sees the identical sequence (messages and the join events interleaved in one order).
      expect(events.map((e) => e.seq)).toEqual(reference.map((e) => e.seq));
      expect(events.map((e) => e.body)).toEqual(reference.map((e) => e.body));
      const seqs = events.map((e) => e.seq);
      expectContiguous(seqs, seqs[0]!, seqs[seqs.length - 1]!);
    }
    // Per sender, messages are sequenced in the order each client sent them.
    for (let i = 0; i < users.length; i++) {
      const mine = logs[0]!.bodies(room.id).filter((b) => b!.startsWith(`u${i}-`));
      expect(mine).toEqual(Array.from({ length: perUser }, (_, k) => `u${i}-m${k}`));
    }
  });

  it('every connection of a multi-device user gets the room stream', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const phone = recordEvents(await connect(srv.url, bob.token));
    const laptop = recordEvents(await connect(srv.url, bob.token));
    const a = await connect(srv.url, alice.token);
    await a.send('lobby', 'to all devices');
    await waitFor(() => phone.bodies('lobby').length === 1 && laptop.bodies('lobby').length === 1);
    expect(phone.bodies('lobby')).toEqual(['to all devices']);
  });

  it('idempotent resend: the same clientMsgId never creates a second message (HTTP and WebSocket)', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const first = await alice.api.sendMessage('lobby', 'once', 'fixed-id-1');
    const again = await alice.api.sendMessage('lobby', 'once', 'fixed-id-1');
    expect(again.duplicate).toBe(true);
    expect(again.message).toEqual(first.message);
    const sock = await rawSocket(srv.url);
    sock.send({ type: 'hello', v: 1, token: alice.token });
    await waitFor(() => sock.frames.some((f) => f.type === 'welcome'));
    sock.send({ type: 'send', roomId: 'lobby', clientMsgId: 'fixed-id-1', body: 'once', ref: 'r1' });
    sock.send({ type: 'send', roomId: 'lobby', clientMsgId: 'fixed-id-2', body: 'twice', ref: 'r2' });
    sock.send({ type: 'send', roomId: 'lobby', clientMsgId: 'fixed-id-2', body: 'twice', ref: 'r3' });
    await waitFor(() => sock.frames.filter((f) => f.type === 'ack').length === 3);
    const acks = sock.frames.filter((f) => f.type === 'ack');
    expect(acks.map((a) => [a.ref, a.seq, a.duplicate])).toEqual([
      ['r1', first.message.seq, true],
      ['r2', first.message.seq + 1, false],
      ['r3', first.message.seq + 1, true],
    ]);
    const history = await alice.api.messages('lobby');
    expect(history.map((m) => m.body)).toEqual(['once', 'twice']);
    // The same key for another room is a conflict, not a silent duplicate.
    const room = await alice.api.createRoom('other');
    await expect(alice.api.sendMessage(room.id, 'x', 'fixed-id-1')).rejects.toMatchObject({
      status: 409,
      code: 'client_msg_id_reused',
    });
  });

  it('a socket cut mid-stream resumes with no gap and no duplicate while others keep sending', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const a = await connect(srv.url, alice.token);
    const b = await connect(srv.url, bob.token);
    const seen = recordEvents(b);
    const total = 300;
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        await a.send('lobby', `m${i}`);
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
      }
    })();
    // Cut Bob's socket three times while Alice is sending.
    for (let cut = 0; cut < 3; cut++) {
      await waitFor(() => seen.bodies('lobby').length > (cut + 1) * 40, 10_000, `progress before cut ${cut}`);
      b.dropConnection();
    }
    await sending;
    await waitFor(() => seen.bodies('lobby').length === total, 10_000, 'bob caught up');
    expect(seen.bodies('lobby')).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
    const seqs = seen.byRoom.get('lobby')!.map((e) => e.seq);
    expectContiguous(seqs, seqs[0]!, seqs[seqs.length - 1]!);
    expect(b.stats.reconnects).toBeGreaterThanOrEqual(3);
    expect(b.stats.gaps).toBe(0);
    // The server sent nothing twice: the SDK had no duplicate to hide.
    expect(b.stats.duplicatesDropped).toBe(0);
  });

  it('raw socket: resume at N replays N+1 first, every event once, then synced, then live', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await alice.api.createRoom('resume-exact');
    await bob.api.join(room.id);
    for (let i = 0; i < 30; i++) await alice.api.sendMessage(room.id, `before ${i}`, `before-${i}`);
    const probe = await rawHello(srv.url, bob.token);
    let last = probe.lastSeq(room.id);
    probe.ws.close();
    // Resume points across the room's history: just after bob joined, in the middle, one short of the end, the end.
    const joinedSeq = (probe.welcome.rooms as { id: string; joinedSeq: number }[]).find(
      (r) => r.id === room.id,
    )!.joinedSeq;
    for (const pick of [() => joinedSeq, () => joinedSeq + 13, () => last - 1, () => last]) {
      const n = pick();
      const sock = await rawHello(srv.url, bob.token, { [room.id]: n });
      await waitFor(() => sock.synced(room.id), 5000, `synced after resume at ${n}`);
      const replayed = sock.events(room.id);
      // The first event replayed is N+1, never N (the client has it) and never later (a gap).
      if (n < last) expect(replayed[0]?.seq, `first replayed after resume at ${n}`).toBe(n + 1);
      expectContiguous(
        replayed.map((e) => e.seq),
        n + 1,
        last,
      );
      // `synced` names the last replayed seq and comes after the replay.
      expect(sock.synced(room.id)!.seq).toBe(last);
      const syncedAt = sock.frames.indexOf(sock.synced(room.id)!);
      expect(sock.frames.slice(syncedAt).some((f) => f.type === 'event')).toBe(false);
      // Live traffic continues from exactly there.
      const live = await alice.api.sendMessage(room.id, `live after ${n}`, `live-after-${n}`);
      await waitFor(() => sock.events(room.id).some((e) => e.seq === live.message.seq), 5000, 'live event');
      expectContiguous(
        sock.events(room.id).map((e) => e.seq),
        n + 1,
        live.message.seq,
      );
      last = live.message.seq;
      sock.ws.close();
      await sock.closed;
    }
  });

  it('raw socket: edits and deletes made while offline are replayed on resume exactly once, in order', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await alice.api.createRoom('resume-edits');
    await bob.api.join(room.id);
    const http = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${srv.url}/api/v1/rooms/${room.id}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${alice.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      expect([method, path, res.status]).toEqual([method, path, method === 'DELETE' ? 204 : 200]);
    };
    const edit = (seq: number, body: string) => http('PATCH', `/messages/${seq}`, { body });
    const sent: number[] = [];
    for (let i = 1; i <= 3; i++) sent.push((await alice.api.sendMessage(room.id, `m${i}`, `re-${i}`)).message.seq);
    const [s1, s2, s3] = sent as [number, number, number];

    // Bob is online for the sends, then offline.
    const before = await rawHello(srv.url, bob.token);
    await waitFor(() => before.synced(room.id), 5000, 'synced');
    const position = before.lastSeq(room.id);
    expect(position).toBe(s3);
    before.ws.terminate();
    await before.closed;

    // While he is away: edits, a retried edit (no event), a delete of an edited message, a new message edited.
    await edit(s1, 'm1 v2');
    await edit(s1, 'm1 v3');
    await edit(s1, 'm1 v3'); // the retry: appends nothing
    await edit(s2, 'm2 v2');
    await http('DELETE', `/messages/${s2}`);
    await edit(s3, 'm3 v2');
    const s4 = (await alice.api.sendMessage(room.id, 'm4', 're-4')).message.seq;
    await edit(s4, 'm4 v2');
    await http('DELETE', `/messages/${s3}`);
    const want: [string, number | null, string | null][] = [
      ['message.edited', s1, 'm1 v2'],
      ['message.edited', s1, 'm1 v3'],
      ['message.edited', s2, ''], // its text went with the delete
      ['message.deleted', s2, null],
      ['message.edited', s3, ''],
      ['message', null, 'm4 v2'], // replay reads the message as it stands now; its edit follows
      ['message.edited', s4, 'm4 v2'],
      ['message.deleted', s3, null],
    ];
    const shape = (e: RoomEvent) => [e.type, (e.data?.seq as number | undefined) ?? null, e.body];

    // Resume at the position he had, and at every point in between: each event after it once, in order.
    await resumeAtEveryPoint({
      url: srv.url,
      token: bob.token,
      roomId: room.id,
      position,
      want,
      shape,
      marker: async (n) => ({
        seq: (await alice.api.sendMessage(room.id, `marker ${n}`, `re-marker-${n}`)).message.seq,
        reads: ['message', null, `marker ${n}`],
      }),
    });

    // Applying the replayed stream to what bob had gives what history says now.
    const local = new Map<number, string | null>(
      before
        .events(room.id)
        .filter((e) => e.type === 'message')
        .map((e) => [e.seq, e.body]),
    );
    const tail = await rawHello(srv.url, bob.token, { [room.id]: position });
    await waitFor(() => tail.synced(room.id), 5000, 'synced for the final check');
    for (const e of tail.events(room.id)) {
      if (e.type === 'message') local.set(e.seq, e.body);
      if (e.type === 'message.edited') local.set(e.data!.seq as number, e.body);
      if (e.type === 'message.deleted') local.delete(e.data!.seq as number);
    }
    tail.ws.close();
    const history = (await alice.api.messages(room.id)).filter((m) => !m.data?.deleted);
    expect([...local.entries()]).toEqual(history.map((m) => [m.seq, m.body]));
    expect(history.find((m) => m.seq === s1)?.data).toMatchObject({ editedAt: expect.any(String) });
  });

  it('raw socket: reactions added and removed while offline are replayed on resume exactly once, in order', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const carol = await registerUser(srv.url);
    const room = await alice.api.createRoom('resume-reactions');
    await bob.api.join(room.id);
    await carol.api.join(room.id);
    const react = async (who: typeof alice, method: 'PUT' | 'DELETE', seq: number, emoji: string) => {
      const path = `/api/v1/rooms/${room.id}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`;
      const res = await fetch(`${srv.url}${path}`, { method, headers: { authorization: `Bearer ${who.token}` } });
      expect([method, seq, emoji, res.status]).toEqual([method, seq, emoji, 200]);
    };
    const sent: number[] = [];
    for (let i = 1; i <= 2; i++) sent.push((await alice.api.sendMessage(room.id, `m${i}`, `rr-${i}`)).message.seq);
    const [s1, s2] = sent as [number, number];
    await react(carol, 'PUT', s1, '👀'); // before bob goes away: he has it

    const before = await rawHello(srv.url, bob.token);
    await waitFor(() => before.synced(room.id), 5000, 'synced');
    const position = before.lastSeq(room.id);
    expect(position).toBe(s1 + 2);
    before.ws.terminate();
    await before.closed;

    // While he is away: adds, a repeated add and a removal of nothing (no events), removals, a message reacted to.
    await react(alice, 'PUT', s1, '👍');
    await react(carol, 'PUT', s1, 'thumbsup');
    await react(carol, 'PUT', s1, '👍\uFE0F'); // the same reaction: appends nothing
    await react(alice, 'DELETE', s2, '🎉'); // not there: appends nothing
    await react(carol, 'DELETE', s1, '👀');
    await react(alice, 'PUT', s2, '🎉');
    const s3 = (await alice.api.sendMessage(room.id, 'm3', 'rr-3')).message.seq;
    await react(carol, 'PUT', s3, '🔥');
    await react(alice, 'DELETE', s1, '+1');
    const T = '👍️';
    const want: [string, number | null, string | null, string | null][] = [
      ['reaction.added', s1, T, alice.user.id],
      ['reaction.added', s1, T, carol.user.id],
      ['reaction.removed', s1, '👀', carol.user.id],
      ['reaction.added', s2, '🎉', alice.user.id],
      ['message', null, null, null],
      ['reaction.added', s3, '🔥', carol.user.id],
      ['reaction.removed', s1, T, alice.user.id],
    ];
    const shape = (e: RoomEvent) => [
      e.type,
      (e.data?.seq as number | undefined) ?? null,
      (e.data?.emoji as string | undefined) ?? null,
      (e.data?.userId as string | undefined) ?? null,
    ];

    // Resume at the position he had, and at every point in between: each event after it once, in order.
    await resumeAtEveryPoint({
      url: srv.url,
      token: bob.token,
      roomId: room.id,
      position,
      want,
      shape,
      marker: async (n) => ({
        seq: (await alice.api.sendMessage(room.id, `marker ${n}`, `rr-marker-${n}`)).message.seq,
        reads: ['message', null, null, null],
      }),
    });

    // Applying the replayed stream to what bob had gives the reactions history reports now.
    const local = new Map<number, Map<string, string[]>>();
    const apply = (e: RoomEvent) => {
      if (e.type !== 'reaction.added' && e.type !== 'reaction.removed') return;
      const seq = e.data!.seq as number;
      const emoji = e.data!.emoji as string;
      const byEmoji = local.get(seq) ?? new Map<string, string[]>();
      local.set(seq, byEmoji);
      const users = (byEmoji.get(emoji) ?? []).filter((u) => u !== e.data!.userId);
      if (e.type === 'reaction.added') users.push(e.data!.userId as string);
      if (users.length > 0) byEmoji.set(emoji, users);
      else byEmoji.delete(emoji);
    };
    for (const e of before.events(room.id)) apply(e);
    const tail = await rawHello(srv.url, bob.token, { [room.id]: position });
    await waitFor(() => tail.synced(room.id), 5000, 'synced for the final check');
    for (const e of tail.events(room.id)) apply(e);
    tail.ws.close();
    const fromEvents = [...local.entries()]
      .filter(([, m]) => m.size > 0)
      .map(([seq, m]) => [seq, [...m.entries()].map(([emoji, userIds]) => ({ emoji, userIds }))]);
    const history = (await alice.api.messages(room.id))
      .filter((m) => m.reactions)
      .map((m) => [m.seq, m.reactions!.map((r) => ({ emoji: r.emoji, userIds: r.userIds }))]);
    expect(history).toEqual(fromEvents);
    expect(history).toEqual([
      [s1, [{ emoji: T, userIds: [carol.user.id] }]],
      [s2, [{ emoji: '🎉', userIds: [alice.user.id] }]],
      [s3, [{ emoji: '🔥', userIds: [carol.user.id] }]],
    ]);
  });

  it('raw socket: read-marker moves made while offline replay exactly once, in order; welcome has the marker', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const carol = await registerUser(srv.url);
    const room = await alice.api.createRoom('resume-reads');
    await bob.api.join(room.id);
    await carol.api.join(room.id);
    const markRead = async (token: string, seq: number) => {
      const res = await fetch(`${srv.url}/api/v1/rooms/${room.id}/read`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ seq }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { readSeq: number; moved: boolean };
    };
    const s1 = (await alice.api.sendMessage(room.id, 'm1', 'rr-1')).message.seq;

    const before = await rawHello(srv.url, bob.token);
    await waitFor(() => before.synced(room.id), 5000, 'synced');
    const position = before.lastSeq(room.id);
    before.ws.terminate();
    await before.closed;

    // While Bob is away: Alice and Carol read, a message comes, Carol reads it, Bob reads on another device,
    // a repeated mark (no event), Alice reads her own message's receipt (no move).
    expect(await markRead(carol.token, s1)).toEqual({ readSeq: s1, moved: true });
    const s2 = (await alice.api.sendMessage(room.id, 'm2', 'rr-2')).message.seq;
    expect(await markRead(carol.token, s2)).toEqual({ readSeq: s2, moved: true });
    expect(await markRead(carol.token, s2)).toEqual({ readSeq: s2, moved: false });
    expect(await markRead(bob.token, s2)).toEqual({ readSeq: s2, moved: true });
    expect(await markRead(carol.token, s2 + 3)).toEqual({ readSeq: s2, moved: false });
    const want: [string, string | null, number | null][] = [
      ['member.read', carol.user.id, s1],
      ['message', null, null],
      ['member.read', carol.user.id, s2],
      ['member.read', bob.user.id, s2],
    ];
    const shape = (e: RoomEvent) => [
      e.type,
      (e.data?.userId as string | undefined) ?? null,
      (e.data?.readSeq as number | undefined) ?? null,
    ];

    await resumeAtEveryPoint({
      url: srv.url,
      token: bob.token,
      roomId: room.id,
      position,
      want,
      shape,
      // Bob's own marker, moved on the other device, is in welcome.
      check: (sock) =>
        expect((sock.welcome.rooms as { id: string; readSeq: number }[]).find((r) => r.id === room.id)?.readSeq).toBe(
          s2,
        ),
    });
  });

  it('raw socket: messages with attachments sent while offline replay exactly once, in order, with their files', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await alice.api.createRoom('resume-files');
    await bob.api.join(room.id);
    const before = await rawHello(srv.url, bob.token);
    await waitFor(() => before.synced(room.id), 5000, 'synced');
    const position = before.lastSeq(room.id);
    before.ws.terminate();
    await before.closed;

    // Away: a photo with text, a voice-note-like file alone, two files at once, a plain message.
    const up = async (bytes: Buffer, name: string) => {
      const r = await upload(srv.url, alice.token, bytes, name);
      expect(r.status).toBe(201);
      return r.body.file;
    };
    const photo = await up(await pngOf(20, 10), 'photo.png');
    const note = await up(Buffer.from('OggS-not-really-a-voice-note'), 'note.bin');
    const doc1 = await up(Buffer.from('first document'), 'a.txt');
    const doc2 = await up(Buffer.from('second document'), 'b.txt');
    const send = async (body: string, attachments: string[], clientMsgId: string) => {
      const res = await fetch(`${srv.url}/api/v1/rooms/${room.id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body, clientMsgId, attachments }),
      });
      expect(res.status).toBe(201);
    };
    await send('look at this', [photo.id], 'rf-1');
    await send('', [note.id], 'rf-2');
    await send('both', [doc2.id, doc1.id], 'rf-3');
    await send('plain', [], 'rf-4');
    const want = [
      ['look at this', [photo]],
      ['', [note]],
      ['both', [doc2, doc1]],
      ['plain', null],
    ];
    const shape = (e: RoomEvent) => [e.body, e.attachments ?? null];
    expect(photo).toMatchObject({ contentType: 'image/png', width: 20, height: 10 });
    await resumeAtEveryPoint({ url: srv.url, token: bob.token, roomId: room.id, position, want, shape });
  });

  it('raw socket: pins and unpins made while offline replay exactly once, in order', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await alice.api.createRoom('resume-pins');
    await bob.api.join(room.id);
    const pin = async (seq: number, method: 'PUT' | 'DELETE') => {
      const res = await fetch(`${srv.url}/api/v1/rooms/${room.id}/messages/${seq}/pin`, {
        method,
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(res.status).toBe(200);
    };
    const s1 = (await alice.api.sendMessage(room.id, 'p1', 'rp-1')).message.seq;
    const s2 = (await alice.api.sendMessage(room.id, 'p2', 'rp-2')).message.seq;

    const before = await rawHello(srv.url, bob.token);
    await waitFor(() => before.synced(room.id), 5000, 'synced');
    const position = before.lastSeq(room.id);
    before.ws.terminate();
    await before.closed;

    // Away: pin, a repeated pin (no event), pin another, unpin the first, an unpin of nothing (no event).
    await pin(s1, 'PUT');
    await pin(s1, 'PUT');
    await pin(s2, 'PUT');
    await pin(s1, 'DELETE');
    await pin(s1, 'DELETE');
    const want = [
      ['message.pinned', s1],
      ['message.pinned', s2],
      ['message.unpinned', s1],
    ];
    const shape = (e: RoomEvent) => [e.type, e.data?.seq];
    await resumeAtEveryPoint({ url: srv.url, token: bob.token, roomId: room.id, position, want, shape });
    // The replayed stream leaves what GET …/pins says.
    const pins = (await (
      await fetch(`${srv.url}/api/v1/rooms/${room.id}/pins`, { headers: { authorization: `Bearer ${bob.token}` } })
    ).json()) as { pins: { seq: number }[] };
    expect(pins.pins.map((p) => p.seq)).toEqual([s2]);
  });

  it('raw socket: messages mentioning an offline member replay exactly once, in order, with their mentions; welcome counts them', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await alice.api.createRoom('resume-mentions');
    await bob.api.join(room.id);
    const at = `@${bob.username.toUpperCase()}`;

    const before = await rawHello(srv.url, bob.token);
    await waitFor(() => before.synced(room.id), 5000, 'synced');
    const position = before.lastSeq(room.id);
    await bob.api.markRead(room.id, position);
    before.ws.terminate();
    await before.closed;

    // Away: a mention, a plain message, a mention twice over, an edit that makes the plain one a mention, a delete
    // of the first. Bob's unread mentions: the edited one and the third (the deleted one no longer counts).
    const s1 = (await alice.api.sendMessage(room.id, `hi ${at}`, 'rm-1')).message.seq;
    const s2 = (await alice.api.sendMessage(room.id, 'plain', 'rm-2')).message.seq;
    const s3 = (await alice.api.sendMessage(room.id, `${at} again, @${bob.username}`, 'rm-3')).message.seq;
    await alice.api.editMessage(room.id, s2, `now ${at}`);
    await alice.api.deleteMessage(room.id, s1);
    const mine = [bob.user.id];
    // A replayed message is read from the store as it stands now: the deleted one mentions nobody any more, the
    // edited one mentions Bob; the edit event carries the mentions of the new text.
    const want: [string, number | null, string[] | null][] = [
      ['message', s1, null],
      ['message', s2, mine],
      ['message', s3, mine],
      ['message.edited', s2, mine],
      ['message.deleted', s1, null],
    ];
    const shape = (e: RoomEvent) => [
      e.type,
      e.type === 'message' ? e.seq : ((e.data?.seq as number | undefined) ?? null),
      (e.data?.mentions as string[] | undefined) ?? null,
    ];
    for (let n = position; n < position + want.length; n++) {
      const sock = await rawHello(srv.url, bob.token, { [room.id]: n });
      await waitFor(() => sock.synced(room.id), 5000, `synced after resume at ${n}`);
      const mineInWelcome = (sock.welcome.rooms as { id: string; unreadMentions: number }[]).find(
        (r) => r.id === room.id,
      );
      expect(mineInWelcome?.unreadMentions).toBe(2);
      const replayed = sock.events(room.id);
      expectContiguous(
        replayed.map((e) => e.seq),
        n + 1,
        position + want.length,
      );
      expect(replayed.map(shape)).toEqual(want.slice(n - position));
      // The live `mention` frames are not replayed: welcome's count and the inbox stand for them.
      expect(sock.frames.filter((f) => f.type === 'mention')).toEqual([]);
      sock.ws.close();
      await sock.closed;
    }
    // Reading up to the third lowers the count to the edited one... which is before it: none left.
    await bob.api.markRead(room.id, s3);
    const after = await rawHello(srv.url, bob.token);
    expect(
      (after.welcome.rooms as { id: string; unreadMentions: number }[]).find((r) => r.id === room.id),
    ).toMatchObject({ unreadMentions: 0 });
    after.ws.close();
    await after.closed;
  });

  it('raw socket: replies and thread-only replies sent while offline are replayed on resume exactly once, in order', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const room = await alice.api.createRoom('resume-replies');
    await bob.api.join(room.id);
    const reply = async (body: string, clientMsgId: string, replyTo: number, threadOnly?: boolean) => {
      const res = await fetch(`${srv.url}/api/v1/rooms/${room.id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body, clientMsgId, replyTo, ...(threadOnly !== undefined ? { threadOnly } : {}) }),
      });
      const json = (await res.json()) as { message: RoomEvent; duplicate: boolean };
      expect([clientMsgId, res.status]).toEqual([clientMsgId, json.duplicate ? 200 : 201]);
      return json;
    };
    const root = (await alice.api.sendMessage(room.id, 'root', 'rr-root')).message.seq;

    const before = await rawHello(srv.url, bob.token);
    await waitFor(() => before.synced(room.id), 5000, 'synced');
    const position = before.lastSeq(room.id);
    expect(position).toBe(root);
    before.ws.terminate();
    await before.closed;

    // While he is away: a quote reply, thread-only replies (one to a reply), a retry (no event), a plain message,
    // a reply to that, and the delete of the quoted plain message (its quote is blanked in the replay too).
    const r1 = (await reply('quote reply', 'rr-1', root)).message.seq;
    const r2 = (await reply('thread only', 'rr-2', root, true)).message.seq;
    expect((await reply('thread only', 'rr-2', root, true)).duplicate).toBe(true);
    const r3 = (await reply('reply to a reply', 'rr-3', r1, true)).message.seq;
    const plain = (await alice.api.sendMessage(room.id, 'plain', 'rr-plain')).message.seq;
    const r4 = (await reply('quotes plain', 'rr-4', plain)).message.seq;
    const del = await fetch(`${srv.url}/api/v1/rooms/${room.id}/messages/${plain}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(del.status).toBe(204);
    expect([r1, r2, r3, plain, r4]).toEqual(range(position + 1, position + 5));
    type Shape = [string, string | null, number | null, number | null, boolean | null, string | null];
    const want: Shape[] = [
      ['message', 'quote reply', root, root, false, 'root'],
      ['message', 'thread only', root, root, true, 'root'],
      ['message', 'reply to a reply', r1, root, true, 'quote reply'],
      ['message', '', null, null, null, null], // plain, deleted: redacted in the replay
      ['message', 'quotes plain', plain, plain, false, ''], // its quote went with the delete
      ['message.deleted', null, null, null, null, null],
    ];
    const shape = (e: RoomEvent): Shape => [
      e.type,
      e.body,
      (e.data?.replyTo as number | undefined) ?? null,
      (e.data?.threadRoot as number | undefined) ?? null,
      (e.data?.threadOnly as boolean | undefined) ?? null,
      ((e.data?.quote as { body: string } | undefined)?.body as string | undefined) ?? null,
    ];

    const offline = want.length;
    await resumeAtEveryPoint({
      url: srv.url,
      token: bob.token,
      roomId: room.id,
      position,
      want,
      shape,
      // Live from there: a thread-only reply after the replay arrives once, next in sequence.
      marker: async (n) => ({
        seq: (await reply(`marker ${n}`, `rr-marker-${n}`, root, true)).message.seq,
        reads: ['message', `marker ${n}`, root, root, true, 'root'] as Shape,
      }),
    });
    // The thread as the server lists it: every reply to root, thread-only ones included, in seq order.
    const t = await fetch(`${srv.url}/api/v1/rooms/${room.id}/messages/${root}/thread?limit=200`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    const thread = (await t.json()) as { root: RoomEvent; messages: RoomEvent[] };
    expect(thread.messages.map((m) => m.body)).toEqual([
      'quote reply',
      'thread only',
      'reply to a reply',
      ...range(position, position + offline - 1).map((n) => `marker ${n}`),
    ]);
    expect(thread.root.data).toMatchObject({ replyCount: 3 + offline });
  });

  it('raw socket: cut three times while another user sends, each resume picks up at the next seq exactly', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const a = await connect(srv.url, alice.token);
    let sock = await rawHello(srv.url, bob.token);
    const start = sock.lastSeq('lobby');
    // Every lobby event bob's sockets received, in arrival order, across all of them.
    const got: RoomEvent[] = [];
    const total = 200;
    let lastAck = 0;
    let done = false;
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        lastAck = (await a.send('lobby', `m${i}`)).seq;
        await new Promise((r) => setTimeout(r, 3));
      }
      done = true;
    })();
    for (let cut = 0; cut < 3; cut++) {
      await waitFor(() => sock.events('lobby').length >= 20 || done, 10_000, `progress before cut ${cut}`);
      // Cut at once, as a network failure would: whatever the socket had received is what bob has.
      sock.ws.terminate();
      await sock.closed;
      const mine = sock.events('lobby');
      got.push(...mine);
      const position = got.length > 0 ? got[got.length - 1]!.seq : start;
      sock = await rawHello(srv.url, bob.token, { lobby: position });
      await waitFor(() => sock.events('lobby').length > 0 || sock.synced('lobby'), 10_000, 'replay after cut');
      if (sock.events('lobby').length > 0) expect(sock.events('lobby')[0]!.seq).toBe(position + 1);
    }
    await sending;
    await waitFor(() => sock.events('lobby').some((e) => e.seq >= lastAck), 10_000, 'bob caught up');
    got.push(...sock.events('lobby'));
    // Across four sockets and three resumes: every seq once, in order, none missing.
    expectContiguous(
      got.map((e) => e.seq),
      start + 1,
      got[got.length - 1]!.seq,
    );
    expect(got.filter((e) => e.type === 'message').map((e) => e.body)).toEqual(
      Array.from({ length: total }, (_, i) => `m${i}`),
    );
  });

  it('a client offline for a long stretch gets everything it missed, paged, in order', async () => {
    const srv = await startServer({ replayPageSize: 50 });
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const b1 = await connect(srv.url, bob.token);
    const positions = b1.positions;
    b1.close();
    for (let i = 0; i < 1200; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, k) => alice.api.sendMessage('lobby', `m${i + k}`, `off-${i + k}`)),
      );
    }
    let seen!: ReturnType<typeof recordEvents>;
    const b2 = await connect(srv.url, bob.token, { resume: positions }, (c) => (seen = recordEvents(c)));
    await waitFor(() => seen.messages('lobby').length === 1200, 10_000, 'replay of 1200');
    expect(b2.stats.duplicatesDropped).toBe(0);
    const seqs = seen.byRoom.get('lobby')!.map((e) => e.seq);
    expectContiguous(seqs, positions.lobby! + 1, positions.lobby! + 1200);
    expect(seen.byRoom.get('lobby')![0]!.seq).toBe(positions.lobby! + 1);
  });

  it('stopping and starting the server keeps history, sessions and the sequence; clients resume by themselves', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const a = await connect(srv.url, alice.token);
    const b = await connect(srv.url, bob.token);
    const seen = recordEvents(b);
    const disconnects: number[] = [];
    b.on('disconnect', (d) => disconnects.push(d.code));
    const before = await a.send('lobby', 'before restart');
    await srv.restart();
    expect(disconnects).toContain(CLOSE_CODES.GOING_AWAY.code);
    // Sessions survived: the same tokens work, and the SDK reconnects on its own.
    await waitFor(() => a.state === 'open' && b.state === 'open', 10_000, 'reconnect after restart');
    const after = await a.send('lobby', 'after restart');
    expect(after.seq).toBe(before.seq + 1);
    await waitFor(() => seen.bodies('lobby').length === 2);
    expect(seen.bodies('lobby')).toEqual(['before restart', 'after restart']);
    const history = await alice.api.messages('lobby');
    expect(history.map((m) => [m.seq, m.body])).toEqual([
      [before.seq, 'before restart'],
      [after.seq, 'after restart'],
    ]);
    expect([a.stats.duplicatesDropped, b.stats.duplicatesDropped]).toEqual([0, 0]);
  });

  it('sends made while the server is down wait in the outbox and are stored exactly once after it returns', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const a = await connect(srv.url, alice.token);
    await srv.server.close();
    await waitFor(() => a.state === 'reconnecting');
    const pending = [a.send('lobby', 'queued 1'), a.send('lobby', 'queued 2')];
    expect(a.pending).toHaveLength(2);
    await srv.restart();
    const acks = await Promise.all(pending);
    expect(acks[1]!.seq).toBe(acks[0]!.seq + 1);
    const history = await alice.api.messages('lobby');
    expect(history.map((m) => m.body)).toEqual(['queued 1', 'queued 2']);
    await waitFor(() => a.positions.lobby === acks[1]!.seq, 5000, 'alice sees her own messages');
    expect(a.stats.duplicatesDropped).toBe(0);
  });

  // 3000 messages of 3 KB to three sockets (9 MB each): bounds sized for a busy two-core runner and the cluster.
  it(
    'a slow consumer is disconnected with 4008 while others are unaffected, and resumes later',
    { timeout: 120_000 },
    async () => {
      const srv = await startServer({ maxOutboundBytes: 64 * 1024 });
      const alice = await registerUser(srv.url);
      const bob = await registerUser(srv.url);
      const carol = await registerUser(srv.url);
      const slow = await rawSocket(srv.url);
      slow.send({ type: 'hello', v: 1, token: bob.token });
      await waitFor(() => slow.frames.some((f) => f.type === 'synced'));
      const position = (slow.frames.find((f) => f.type === 'synced') as { seq: number }).seq;
      // Stop reading: the kernel buffers fill, then the server's buffer for Bob grows past its limit.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const c = await connect(srv.url, carol.token);
      const carolSees = recordEvents(c);
      const a = await connect(srv.url, alice.token);
      const big = 'x'.repeat(3000);
      const total = 3000;
      for (let i = 0; i < total; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, k) => a.send('lobby', `${i + k} ${big}`)));
      }
      await waitFor(() => srv.server.hub.connectionsOf(bob.user.id) === 0, 30_000, 'slow consumer dropped');
      expect(srv.server.gateway.closedByServer.get(CLOSE_CODES.SLOW_CONSUMER.code)).toBe(1);
      await waitFor(() => carolSees.messages('lobby').length === total, 30_000, 'carol got everything');
      // Bob comes back and resumes from where he was.
      let bobSees!: ReturnType<typeof recordEvents>;
      const b = await connect(srv.url, bob.token, { resume: { lobby: position } }, (c) => (bobSees = recordEvents(c)));
      await waitFor(() => bobSees.messages('lobby').length === total, 30_000, 'bob resumed');
      expect(bobSees.bodies('lobby')).toEqual(carolSees.bodies('lobby'));
      expect(b.stats.duplicatesDropped).toBe(0);
    },
  );
});

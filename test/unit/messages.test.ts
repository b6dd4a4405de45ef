import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthContext } from '../../src/core/accounts.js';
import { topics, type BusMessage } from '../../src/core/bus.js';
import { ChatError } from '../../src/core/chat-error.js';
import { SYSTEM_USER_ID } from '../../src/core/context.js';
import { InProcessBus } from '../../src/core/in-process-bus.js';
import type { NewMessage } from '../../src/core/store.js';
import type { Config } from '../../src/server/config.js';
import { buildDomain } from '../../src/server/app.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { testConfig } from '../helpers/harness.js';

/**
 * MessageService, the send path, without HTTP or sockets: durable before the caller hears of it, published after
 * it is stored (the same event), idempotent by clientMsgId, and every check before the store in its order.
 * Milliseconds per case, so mutation runs (npm run mutation) judge src/core/messages.ts with it first.
 */

/** The in-process bus, keeping a log of what was published. */
class RecordingBus extends InProcessBus {
  readonly log: { topic: string; message: BusMessage }[] = [];
  override publish(topic: string, message: BusMessage): Promise<void> {
    this.log.push({ topic, message });
    return super.publish(topic, message);
  }
  events(roomId: string) {
    return this.log
      .filter((x) => x.topic === topics.room(roomId) && x.message.kind === 'event')
      .map((x) => (x.message as { event: { seq: number; body: string | null; clientMsgId: string | null } }).event);
  }
}

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(overrides: Partial<Config> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'relaychat-messages-'));
  dirs.push(dir);
  const store = new SqliteStore({ file: join(dir, 'chat.db') });
  const bus = new RecordingBus();
  const config = testConfig(dir, overrides);
  const { services } = buildDomain(config, { store, bus }, pino({ level: 'silent' }));
  cleanups.push(() => store.close());
  await services.rooms.ensureLobby();
  let n = 0;
  const user = async (name: string): Promise<AuthContext> => {
    const { token } = await services.accounts.register(
      { username: name, password: 'correct horse battery' },
      {
        ip: `10.0.0.${++n}`,
      },
    );
    return services.accounts.authenticate(token);
  };
  // The first account is the server admin.
  const admin = await user('admin');
  const owner = await user('owner');
  const alice = await user('alice');
  const room = await services.rooms.create(owner, { name: 'general', visibility: 'public' });
  await services.rooms.join(alice, room.id);
  let ids = 0;
  const send = (who: AuthContext, body: string, clientMsgId = `c${++ids}`, roomId = room.id) =>
    services.messages.send(who, { roomId, clientMsgId, body });
  const refusal = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof ChatError) return err.code;
      throw err;
    }
    return 'accepted';
  };
  return { store, bus, services, config, admin, owner, alice, room, send, refusal };
}

describe('MessageService: stored, then published, then answered', () => {
  it('resolves only once the store has the message durably, then publishes exactly that event', async () => {
    const h = await setup();
    const append = h.store.appendMessage.bind(h.store);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let asked: NewMessage | undefined;
    h.store.appendMessage = async (m) => {
      asked = m;
      const result = await append(m);
      await gate; // the commit is not durable yet
      return result;
    };
    let settled = false;
    const sent = h.send(h.alice, 'hello').then((r) => ((settled = true), r));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(asked).toMatchObject({ roomId: h.room.id, senderId: h.alice.user.id, clientMsgId: 'c1', body: 'hello' });
    // Stored but not durable: nobody has been told, not the sender and not the room.
    expect(settled).toBe(false);
    expect(h.bus.events(h.room.id).filter((e) => e.body === 'hello')).toEqual([]);
    release();
    const { event, duplicate } = await sent;
    expect(duplicate).toBe(false);
    expect(event).toMatchObject({ roomId: h.room.id, type: 'message', body: 'hello', senderId: h.alice.user.id });
    expect(h.bus.events(h.room.id).at(-1)).toEqual(event);
    expect(await h.store.getEvent(h.room.id, event.seq)).toEqual(event);
    expect(h.services.messages.stats.stored).toBe(1);
  });

  it('a failed store write rejects the send and publishes nothing', async () => {
    const h = await setup();
    h.store.appendMessage = () => Promise.reject(new ChatError('unavailable'));
    const before = h.bus.log.length;
    expect(await h.refusal(h.send(h.alice, 'lost'))).toBe('unavailable');
    expect(h.bus.log.length).toBe(before);
    expect(h.services.messages.stats.stored).toBe(0);
  });

  it('a retry with the same clientMsgId returns the stored message as a duplicate, published again', async () => {
    const h = await setup();
    const first = await h.send(h.alice, 'once', 'same');
    const again = await h.send(h.alice, 'once (retried)', 'same');
    expect(again).toEqual({ event: first.event, duplicate: true });
    // Published again: if the first attempt died between commit and publish, this heals live delivery.
    expect(h.bus.events(h.room.id).filter((e) => e.clientMsgId === 'same')).toEqual([first.event, first.event]);
    expect(h.services.messages.stats.stored).toBe(1);
    // Counted once however often it is retried.
    await h.send(h.alice, 'once (retried again)', 'same');
    expect(h.services.messages.stats.stored).toBe(1);
    expect((await h.store.listEvents(h.room.id, { after: 0, limit: 100, kinds: 'messages' })).length).toBe(1);
  });

  it('submit resolves once the send is queued; messages submitted in turn are stored in that order', async () => {
    const h = await setup();
    const stored: Promise<{ event: { seq: number } }>[] = [];
    for (let i = 0; i < 5; i++) {
      const { stored: s } = await h.services.messages.submit(h.alice, {
        roomId: h.room.id,
        clientMsgId: `p${i}`,
        body: `n${i}`,
      });
      stored.push(s);
    }
    const seqs = (await Promise.all(stored)).map((r) => r.event.seq);
    expect(seqs).toEqual(Array.from({ length: 5 }, (_, i) => seqs[0]! + i));
  });
});

describe('MessageService: what is refused before anything is stored', () => {
  it('refusals store nothing and publish nothing', async () => {
    const h = await setup({ maxMessageChars: 10, filterBlock: 'forbidden' });
    const stranger = h.admin; // the server admin is not a member of this room
    const before = h.bus.log.length;
    expect(await h.refusal(h.send(h.alice, 'x'.repeat(11)))).toBe('message_too_long');
    expect(await h.refusal(h.send(stranger, 'hi'))).toBe('not_member');
    expect(await h.refusal(h.send(h.alice, 'forbidden'))).toBe('content_blocked');
    expect(await h.refusal(h.send(h.alice, 'x', 'c', 'no-such-room'))).toBe('room_not_found');
    expect(h.bus.log.length).toBe(before);
    expect(await h.store.listEvents(h.room.id, { after: 0, limit: 100, kinds: 'messages' })).toEqual([]);
    // Exactly at the limit is fine.
    expect((await h.send(h.alice, 'x'.repeat(10))).duplicate).toBe(false);
  });

  it('the length is checked before membership: too long is too long for anyone', async () => {
    const h = await setup({ maxMessageChars: 10 });
    expect(await h.refusal(h.send(h.admin, 'x'.repeat(11)))).toBe('message_too_long');
  });

  it('muted until a time: refused with that time until it passes', async () => {
    const h = await setup();
    const until = Date.now() + 60_000;
    await h.store.muteMember(h.room.id, h.alice.user.id, until, h.owner.user.id);
    const err = await h.send(h.alice, 'let me speak').catch((e: unknown) => e as ChatError);
    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).code).toBe('muted');
    expect((err as ChatError).message).toContain(new Date(until).toISOString());
    // A mute whose time has passed no longer applies.
    await h.store.muteMember(h.room.id, h.alice.user.id, Date.now() - 1, h.owner.user.id);
    expect((await h.send(h.alice, 'free again')).duplicate).toBe(false);
  });

  it('a mute until T is over at T', async () => {
    // The clock stands still (only Date is faked; timers are real), so "now" is exactly the mute's end.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const h = await setup();
      const now = Date.now();
      await h.store.muteMember(h.room.id, h.alice.user.id, now + 1, h.owner.user.id);
      expect(await h.refusal(h.send(h.alice, 'a millisecond early'))).toBe('muted');
      await h.store.muteMember(h.room.id, h.alice.user.id, now, h.owner.user.id);
      expect(await h.refusal(h.send(h.alice, 'on time'))).toBe('accepted');
    } finally {
      vi.useRealTimers();
    }
  });

  it('read-only rooms take posts from moderators up; slow mode holds back members only', async () => {
    const h = await setup();
    await h.store.updateRoom(h.room.id, { settings: { readOnly: true } }, h.owner.user.id);
    expect(await h.refusal(h.send(h.alice, 'may I?'))).toBe('read_only');
    await h.store.setMemberRole(h.room.id, h.alice.user.id, 'moderator', h.owner.user.id);
    expect(await h.refusal(h.send(h.alice, 'as a moderator'))).toBe('accepted');
    await h.store.setMemberRole(h.room.id, h.alice.user.id, 'member', h.owner.user.id);
    await h.store.updateRoom(h.room.id, { settings: { readOnly: false, slowModeSeconds: 60 } }, h.owner.user.id);
    expect(await h.refusal(h.send(h.alice, 'one'))).toBe('accepted');
    const slow = await h.send(h.alice, 'two').catch((e: unknown) => e as ChatError);
    expect([(slow as ChatError).code, (slow as ChatError).retryAfterMs! > 59_000]).toEqual(['slow_mode', true]);
    for (let i = 0; i < 3; i++) expect(await h.refusal(h.send(h.owner, `owner ${i}`))).toBe('accepted');
  });

  it('rate limited: a new message is refused; the retry of a stored one still gets its ack', async () => {
    const h = await setup({ messageBurst: 2, messagesPerSecond: 0.001 });
    const first = await h.send(h.alice, 'one', 'k1');
    await h.send(h.alice, 'two', 'k2');
    const err = await h.send(h.alice, 'three', 'k3').catch((e: unknown) => e as ChatError);
    expect((err as ChatError).code).toBe('rate_limited');
    expect((err as ChatError).retryAfterMs).toBeGreaterThan(0);
    const published = h.bus.log.length;
    expect(await h.send(h.alice, 'one', 'k1')).toEqual({ event: first.event, duplicate: true });
    // Published again, as that very event on the room's topic: it heals a publish lost after the first commit.
    expect(h.bus.log.slice(published)).toEqual([
      { topic: topics.room(h.room.id), message: { kind: 'event', event: first.event } },
    ]);
    // Not for a key used in another room: that one is refused like any new message.
    expect(await h.refusal(h.send(h.alice, 'one', 'k1', 'lobby'))).toBe('rate_limited');
  });

  it('the message rate is per user: one user out of tokens does not hold back another', async () => {
    const h = await setup({ messageBurst: 1, messagesPerSecond: 0.001 });
    expect(await h.refusal(h.send(h.alice, 'one'))).toBe('accepted');
    expect(await h.refusal(h.send(h.alice, 'two'))).toBe('rate_limited');
    expect(await h.refusal(h.send(h.owner, 'mine'))).toBe('accepted');
  });

  it('slow mode is per user and room, and moderators are not held back', async () => {
    const h = await setup();
    const other = await h.services.rooms.create(h.owner, { name: 'other', visibility: 'public' });
    await h.services.rooms.join(h.alice, other.id);
    for (const r of [h.room.id, other.id]) {
      await h.store.updateRoom(r, { settings: { slowModeSeconds: 60 } }, h.owner.user.id);
    }
    const bob = await h.services.accounts.authenticate(
      (await h.services.accounts.register({ username: 'bob', password: 'correct horse battery' }, { ip: '10.0.1.1' }))
        .token,
    );
    await h.services.rooms.join(bob, h.room.id);
    expect(await h.refusal(h.send(h.alice, 'one'))).toBe('accepted');
    expect(await h.refusal(h.send(h.alice, 'two'))).toBe('slow_mode');
    // Another member of the same room, and the same member in another room, each have their own interval.
    expect(await h.refusal(h.send(bob, 'mine'))).toBe('accepted');
    expect(await h.refusal(h.send(h.alice, 'elsewhere', undefined, other.id))).toBe('accepted');
    // A moderator (the least role that slow mode does not apply to) posts as often as they like.
    await h.store.setMemberRole(h.room.id, bob.user.id, 'moderator', h.owner.user.id);
    for (let i = 0; i < 3; i++) expect(await h.refusal(h.send(bob, `mod ${i}`))).toBe('accepted');
  });

  it('flood: the same text more than FLOOD_REPEATS times is refused; other text passes', async () => {
    const h = await setup({ floodRepeats: 2, floodWindowMs: 60_000 });
    expect(await h.refusal(h.send(h.alice, 'spam'))).toBe('accepted');
    expect(await h.refusal(h.send(h.alice, 'spam'))).toBe('accepted');
    expect(await h.refusal(h.send(h.alice, 'spam'))).toBe('flood');
    expect(await h.refusal(h.send(h.alice, 'other text'))).toBe('accepted');
  });
});

describe('MessageService: the keyword filter', () => {
  it('masks words in what is stored and published; flags file one report by the server, not for a retry', async () => {
    const h = await setup({ filterMask: 'darn', filterFlag: 'suspicious' });
    const masked = await h.send(h.alice, 'oh darn it');
    expect(masked.event.body).toBe('oh **** it');
    expect(h.bus.events(h.room.id).at(-1)?.body).toBe('oh **** it');
    const flagged = await h.send(h.alice, 'a suspicious offer', 'f1');
    expect(flagged.event.body).toBe('a suspicious offer');
    // Filed with the message itself, before the sender hears of it.
    expect(await h.store.listReports({ status: 'open', limit: 10 })).toHaveLength(1);
    await h.send(h.alice, 'a suspicious offer', 'f1'); // a retry: no second report
    const reports = await h.store.listReports({ status: 'open', limit: 10 });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      reporterId: SYSTEM_USER_ID,
      roomId: h.room.id,
      seq: flagged.event.seq,
      targetUserId: h.alice.user.id,
      reason: 'keyword filter: suspicious',
      excerpt: 'a suspicious offer',
    });
  });
});

describe('MessageService: history and announcements', () => {
  it('history pages after or before a seq, messages only on request, for those who may read', async () => {
    const h = await setup();
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await h.send(h.alice, `m${i}`)).event.seq);
    const after = await h.services.messages.history(h.alice, h.room.id, { after: seqs[1], limit: 2 }, 'messages');
    expect(after.map((e) => e.body)).toEqual(['m2', 'm3']);
    const before = await h.services.messages.history(h.alice, h.room.id, { before: seqs[3], limit: 2 }, 'messages');
    expect(before.map((e) => e.body)).toEqual(['m1', 'm2']);
    const all = await h.services.messages.history(h.alice, h.room.id, { limit: 100 }, undefined);
    expect(all.some((e) => e.type !== 'message')).toBe(true);
    const latest = await h.services.messages.history(h.alice, h.room.id, { limit: 1 }, 'messages');
    expect(latest.map((e) => e.body)).toEqual(['m4']);
    const priv = await h.services.rooms.create(h.owner, { name: 'secret', visibility: 'private' });
    expect(await h.refusal(h.services.messages.history(h.alice, priv.id, { limit: 10 }, 'messages'))).toBe(
      'room_not_found',
    );
  });

  it('announcements: admins only, audited, published to everyone', async () => {
    const h = await setup();
    expect(await h.refusal(h.services.messages.announce(h.alice, 'hi all'))).toBe('forbidden');
    const body = 'maintenance tonight '.repeat(20);
    const { id, createdAt } = await h.services.messages.announce(h.admin, body);
    const sent = h.bus.log.filter((x) => x.topic === topics.all);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.message).toEqual({
      kind: 'announcement',
      announcement: {
        id,
        body,
        createdAt,
        from: expect.objectContaining({ id: h.admin.user.id, username: 'admin' }),
      },
    });
    const audit = await h.store.listAudit({ limit: 10 });
    expect(audit.find((a) => a.action === 'announcement')).toMatchObject({
      actorId: h.admin.user.id,
      roomId: null,
      targetUserId: null,
      data: { body: body.slice(0, 200) },
    });
  });
});

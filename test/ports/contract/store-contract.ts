import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatError } from '../../../src/core/chat-error.js';
import { replyData } from '../../../src/core/send/standard-steps.js';
import type {
  MessageSearch,
  NewMessage,
  NewReport,
  SessionRecord,
  Store,
  UserRecord,
} from '../../../src/core/store.js';
import { parseQuery } from '../../../src/core/search-text.js';
import type { ErrorCode } from '../../../src/protocol/errors.js';
import {
  DEFAULT_ROOM_SETTINGS,
  FOREVER_MS,
  UNREAD_COUNT_MAX,
  type AuditEntry,
  type MemberRole,
  type PublicUser,
  type Report,
  type Room,
  type RoomEvent,
  type RoomKind,
  type ServerRole,
  type BotScope,
} from '../../../src/protocol/model.js';
import { clockTick } from '../../helpers/wait.js';

/**
 * One store under test, over fresh, empty backing storage (a new file, schema, or database per test).
 * Timestamps must come from a real clock: the activity-order test waits for the wall clock to move on.
 */
export interface StoreUnderTest {
  store: Store;
  /**
   * Opens a new Store over the same backing storage. The suite closes the previous store first, so this
   * must see exactly what the closed one made durable.
   */
  reopen(): Promise<Store>;
  /** Closes every store this harness opened (close is idempotent) and deletes the backing storage. */
  cleanup(): Promise<void>;
}

let counter = 0;
/** A fresh id of the protocol's id alphabet, unique within the process. */
const newTestId = (prefix: string) => `${prefix}_${(++counter).toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

const expectIso = (s: string) => expect(new Date(s).toISOString()).toBe(s);

/** PublicUser values go to other users: they must never carry the password hash. */
function expectPublic(users: readonly PublicUser[]) {
  for (const u of users) {
    expect(u).not.toHaveProperty('passwordHash');
    expect(u).not.toHaveProperty('password_hash');
    expect(u).not.toHaveProperty('bannedUntil');
    expect(u).not.toHaveProperty('deactivated');
  }
}

/** Asserts that `call` returns a promise rejecting with ChatError `code` (not a synchronous throw). */
async function rejectsWith(call: () => Promise<unknown>, code: ErrorCode): Promise<ChatError> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (err) {
    throw new Error(`threw synchronously instead of returning a rejected promise: ${String(err)}`, {
      cause: err,
    });
  }
  const err = await promise.then(
    (value) => {
      throw new Error(`resolved with ${JSON.stringify(value)}; expected a ChatError '${code}'`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChatError);
  expect((err as ChatError).code).toBe(code);
  return err as ChatError;
}

const seqsOf = (events: readonly RoomEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * The Store conformance suite. Every Store implementation (SQLite, PostgreSQL, ...) must pass it unchanged:
 * each test asserts a clause of the doc comments in src/core/store.ts.
 */
export function storeContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let harness: StoreUnderTest;
    let store: Store;

    beforeEach(async () => {
      harness = await makeStore();
      store = harness.store;
    });

    afterEach(async () => {
      await harness.cleanup();
    });

    // ---- helpers (they use whichever `store` is current, so they work after a reopen) ----

    function createUser(
      username: string,
      opts: { adminIfFirst?: boolean; role?: ServerRole; displayName?: string } = {},
    ): Promise<UserRecord> {
      return store.createUser(
        { id: newTestId('u'), username, displayName: opts.displayName ?? username, passwordHash: `hash:${username}` },
        { adminIfFirst: opts.adminIfFirst ?? false, ...(opts.role ? { role: opts.role } : {}) },
      );
    }

    let unnamedRooms = 0;
    async function createRoom(
      owner: UserRecord,
      opts: {
        kind?: RoomKind;
        name?: string;
        topic?: string;
        members?: { user: UserRecord; role?: MemberRole }[];
        dmKey?: string;
        id?: string;
      } = {},
    ): Promise<{ room: Room; events: RoomEvent[]; created: boolean }> {
      const kind = opts.kind ?? 'public';
      return store.createRoom({
        id: opts.id ?? newTestId('r'),
        kind,
        // Public names are unique: each unnamed room gets its own.
        name: opts.name ?? (kind === 'dm' ? '' : `general ${++unnamedRooms}`),
        topic: opts.topic ?? '',
        createdBy: owner.id,
        ...(opts.dmKey !== undefined ? { dmKey: opts.dmKey } : {}),
        members: [
          { userId: owner.id, role: kind === 'dm' ? 'member' : 'owner' },
          ...(opts.members ?? []).map((m) => ({ userId: m.user.id, role: m.role ?? 'member' })),
        ],
      });
    }

    async function createDm(users: UserRecord[], id?: string) {
      const [first] = users;
      if (!first) throw new Error('a DM needs users');
      return createRoom(first, {
        kind: 'dm',
        dmKey: users
          .map((u) => u.id)
          .sort()
          .join(','),
        members: users.slice(1).map((user) => ({ user })),
        ...(id ? { id } : {}),
      });
    }

    const message = (roomId: string, sender: UserRecord, clientMsgId?: string, body?: string): NewMessage => ({
      id: newTestId('e'),
      roomId,
      senderId: sender.id,
      clientMsgId: clientMsgId ?? newTestId('c'),
      body: body ?? `hello from ${sender.username}`,
    });

    /** Every event of a room, paging forward from seq 0. */
    async function allEvents(roomId: string): Promise<RoomEvent[]> {
      const out: RoomEvent[] = [];
      for (;;) {
        const page = await store.listEvents(roomId, { after: out.at(-1)?.seq ?? 0, limit: 500 });
        if (page.length === 0) return out;
        out.push(...page);
      }
    }

    async function lastSeq(roomId: string): Promise<number> {
      const room = await store.getRoom(roomId);
      if (!room) throw new Error(`room ${roomId} vanished`);
      return room.lastSeq;
    }

    async function session(user: UserRecord, overrides: Partial<SessionRecord> = {}): Promise<SessionRecord> {
      const id = newTestId('s');
      const s: SessionRecord = {
        id,
        userId: user.id,
        tokenHash: `token-hash-${id}`,
        label: `device ${id}`,
        createdAt: 1_700_000_000_000 + counter,
        expiresAt: 1_800_000_000_000,
        lastUsedAt: 1_700_000_000_000 + counter,
        ...overrides,
      };
      await store.createSession(s);
      return s;
    }

    const byId = <T extends { id: string }>(xs: readonly T[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));

    // ---- accounts ----

    describe('users', () => {
      it('createUser returns the stored record; getUser and getUserByUsername (any case) find it', async () => {
        const id = newTestId('u');
        const alice = await store.createUser(
          { id, username: 'Alice', displayName: 'Alice Liddell', passwordHash: 'scrypt$abc' },
          { adminIfFirst: false },
        );
        expect(alice).toMatchObject({
          id,
          username: 'Alice',
          displayName: 'Alice Liddell',
          statusText: '',
          role: 'user',
          passwordHash: 'scrypt$abc',
          deactivated: false,
        });
        expectIso(alice.createdAt);
        expect(await store.getUser(id)).toEqual(alice);
        expect(await store.getUserByUsername('Alice')).toEqual(alice);
        expect(await store.getUserByUsername('alice')).toEqual(alice);
        expect(await store.getUserByUsername('ALICE')).toEqual(alice);
        expect(await store.getUser('u_nobody')).toBeNull();
        expect(await store.getUserByUsername('nobody')).toBeNull();
      });

      it('usernames are unique ignoring case: a clash rejects with ChatError username_taken and writes nothing', async () => {
        const alice = await createUser('alice');
        const clashId = newTestId('u');
        for (const username of ['alice', 'Alice', 'ALICE']) {
          await rejectsWith(
            () =>
              store.createUser(
                { id: clashId, username, displayName: 'Impostor', passwordHash: 'x' },
                { adminIfFirst: false },
              ),
            'username_taken',
          );
        }
        expect(await store.getUser(clashId)).toBeNull();
        expect(await store.getUserByUsername('ALICE')).toEqual(alice);
        expect(await store.searchUsers('alice', 10)).toHaveLength(1);
      });

      it('concurrent creates of one username (differing in case): exactly one succeeds', async () => {
        const names = ['bob', 'Bob', 'BOB', 'bOb', 'boB', 'BOb'];
        const results = await Promise.allSettled(names.map((n) => createUser(n)));
        const ok = results.filter((r) => r.status === 'fulfilled');
        expect(ok).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') {
            expect(r.reason).toBeInstanceOf(ChatError);
            expect((r.reason as ChatError).code).toBe('username_taken');
          }
        }
        expect(await store.searchUsers('bob', 10)).toHaveLength(1);
      });

      it('adminIfFirst makes the very first user admin, and only that one', async () => {
        const first = await createUser('first', { adminIfFirst: true });
        const second = await createUser('second', { adminIfFirst: true });
        expect(first.role).toBe('admin');
        expect(second.role).toBe('user');
        expect((await store.getUser(first.id))?.role).toBe('admin');
        expect((await store.getUser(second.id))?.role).toBe('user');
      });

      it('adminIfFirst has no effect once any user exists', async () => {
        const first = await createUser('first', { adminIfFirst: false });
        const second = await createUser('second', { adminIfFirst: true });
        expect(first.role).toBe('user');
        expect(second.role).toBe('user');
      });

      it('an explicit role overrides adminIfFirst', async () => {
        const first = await createUser('first', { adminIfFirst: true, role: 'user' });
        const boss = await createUser('boss', { adminIfFirst: false, role: 'admin' });
        const third = await createUser('third', { adminIfFirst: true });
        expect([first.role, boss.role, third.role]).toEqual(['user', 'admin', 'user']);
      });

      it('concurrent first users with adminIfFirst: exactly one becomes admin (atomic)', async () => {
        const users = await Promise.all(range(1, 8).map((i) => createUser(`early${i}`, { adminIfFirst: true })));
        expect(users.filter((u) => u.role === 'admin')).toHaveLength(1);
      });

      it('getUsers returns public users for known ids and skips unknown ones', async () => {
        const a = await createUser('anna');
        const b = await createUser('ben');
        await createUser('cleo');
        expect(await store.getUsers([])).toEqual([]);
        const got = await store.getUsers([b.id, 'u_unknown', a.id]);
        expect(byId(got).map((u) => u.id)).toEqual(byId([a, b]).map((u) => u.id));
        expectPublic(got);
        const anna = got.find((u) => u.id === a.id);
        expect(anna).toMatchObject({
          id: a.id,
          username: 'anna',
          displayName: 'anna',
          statusText: '',
          role: 'user',
          createdAt: a.createdAt,
        });
        expect(await store.getUsers(['u_unknown', 'u_other'])).toEqual([]);
      });

      it('searchUsers matches a case-insensitive prefix of username or display name, ordered by username', async () => {
        await createUser('carol', { displayName: 'Carol Danvers' });
        await createUser('Caroline', { displayName: 'Line' });
        await createUser('dave', { displayName: 'Carolus Magnus' });
        await createUser('xcarol', { displayName: 'Someone Else' });
        await createUser('eve', { displayName: 'Eve' });
        const names = async (q: string, limit = 10) => (await store.searchUsers(q, limit)).map((u) => u.username);
        expect(await names('car')).toEqual(['carol', 'Caroline', 'dave']);
        expect(await names('CAR')).toEqual(['carol', 'Caroline', 'dave']);
        expect(await names('car', 2)).toEqual(['carol', 'Caroline']);
        expect(await names('line')).toEqual(['Caroline']);
        expect(await names('CAROLU')).toEqual(['dave']);
        expect(await names('zzz')).toEqual([]);
        expectPublic(await store.searchUsers('car', 10));
      });

      it('searchUsers treats LIKE wildcards % and _ in the query literally', async () => {
        await createUser('ab_cd');
        await createUser('abxcd');
        await createUser('ab.cd');
        const names = async (q: string) => (await store.searchUsers(q, 10)).map((u) => u.username).sort();
        expect(await names('ab_')).toEqual(['ab_cd']);
        expect(await names('ab.')).toEqual(['ab.cd']);
        expect(await names('%')).toEqual([]);
        expect(await names('_')).toEqual([]);
        expect(await names('ab%cd')).toEqual([]);
        expect(await names('ab')).toEqual(['ab.cd', 'ab_cd', 'abxcd']);
      });

      it('searchUsers is case-insensitive beyond ASCII (display names are Unicode)', async () => {
        await createUser('elodie', { displayName: 'Élodie' });
        await createUser('zoe', { displayName: 'ZOË' });
        expect((await store.searchUsers('élo', 10)).map((u) => u.username)).toEqual(['elodie']);
        expect((await store.searchUsers('ÉLO', 10)).map((u) => u.username)).toEqual(['elodie']);
        expect((await store.searchUsers('zoë', 10)).map((u) => u.username)).toEqual(['zoe']);
      });

      it('updateProfile patches only the given fields and returns the updated record', async () => {
        const u = await createUser('frank', { displayName: 'Frank' });
        const a = await store.updateProfile(u.id, { displayName: 'Franky' });
        expect(a).toEqual({ ...u, displayName: 'Franky' });
        const b = await store.updateProfile(u.id, { statusText: 'on holiday' });
        expect(b).toEqual({ ...u, displayName: 'Franky', statusText: 'on holiday' });
        const c = await store.updateProfile(u.id, { displayName: 'F.', statusText: '' });
        expect(c).toEqual({ ...u, displayName: 'F.', statusText: '' });
        expect(await store.getUser(u.id)).toEqual(c);
        expect(await store.updateProfile(u.id, {})).toEqual(c);
      });

      it('setPasswordHash and setServerRole change only their field', async () => {
        const u = await createUser('gina');
        const other = await createUser('hank');
        await store.setPasswordHash(u.id, 'scrypt$new');
        expect(await store.getUser(u.id)).toEqual({ ...u, passwordHash: 'scrypt$new' });
        await store.setServerRole(u.id, 'admin');
        expect(await store.getUser(u.id)).toEqual({ ...u, passwordHash: 'scrypt$new', role: 'admin' });
        await store.setServerRole(u.id, 'user');
        expect((await store.getUser(u.id))?.role).toBe('user');
        expect(await store.getUser(other.id)).toEqual(other);
      });
    });

    describe('sessions', () => {
      it('getSessionByTokenHash returns the session and its user; unknown hashes give null', async () => {
        const u = await createUser('ivy');
        const s = await session(u);
        const found = await store.getSessionByTokenHash(s.tokenHash);
        expect(found?.session).toEqual(s);
        expect(found?.user).toEqual(u);
        expect(await store.getSessionByTokenHash('no-such-hash')).toBeNull();
      });

      it('getSessionByTokenHash returns expired sessions too (callers check expiry)', async () => {
        const u = await createUser('jack');
        const s = await session(u, { expiresAt: 1_000, createdAt: 500, lastUsedAt: 600 });
        expect((await store.getSessionByTokenHash(s.tokenHash))?.session).toEqual(s);
      });

      it('touchSession updates lastUsedAt and expiresAt only', async () => {
        const u = await createUser('kate');
        const s = await session(u);
        const other = await session(u);
        await store.touchSession(s.id, s.lastUsedAt + 5_000, s.expiresAt + 5_000);
        expect((await store.getSessionByTokenHash(s.tokenHash))?.session).toEqual({
          ...s,
          lastUsedAt: s.lastUsedAt + 5_000,
          expiresAt: s.expiresAt + 5_000,
        });
        expect((await store.getSessionByTokenHash(other.tokenHash))?.session).toEqual(other);
      });

      it("listSessions lists exactly the user's sessions", async () => {
        const u = await createUser('liam');
        const v = await createUser('mia');
        const s1 = await session(u);
        const s2 = await session(u);
        const s3 = await session(v);
        expect(byId(await store.listSessions(u.id))).toEqual(byId([s1, s2]));
        expect(await store.listSessions(v.id)).toEqual([s3]);
        expect(await store.listSessions('u_nobody')).toEqual([]);
      });

      it('deleteSession deletes one session of that user only; false when it did not exist', async () => {
        const u = await createUser('noah');
        const v = await createUser('olga');
        const s1 = await session(u);
        const s2 = await session(u);
        expect(await store.deleteSession(v.id, s1.id)).toBe(false);
        expect(await store.getSessionByTokenHash(s1.tokenHash)).not.toBeNull();
        expect(await store.deleteSession(u.id, s1.id)).toBe(true);
        expect(await store.getSessionByTokenHash(s1.tokenHash)).toBeNull();
        expect(await store.deleteSession(u.id, s1.id)).toBe(false);
        expect(await store.deleteSession(u.id, 's_nonexistent')).toBe(false);
        expect(await store.listSessions(u.id)).toEqual([s2]);
      });

      it('deleteSessions deletes all but exceptId and returns the deleted ids', async () => {
        const u = await createUser('pia');
        const v = await createUser('quinn');
        const keep = await session(u);
        const d1 = await session(u);
        const d2 = await session(u);
        const others = await session(v);
        expect((await store.deleteSessions(u.id, keep.id)).sort()).toEqual([d1.id, d2.id].sort());
        expect(await store.listSessions(u.id)).toEqual([keep]);
        expect(await store.deleteSessions(u.id, keep.id)).toEqual([]);
        expect(await store.deleteSessions(u.id)).toEqual([keep.id]);
        expect(await store.listSessions(u.id)).toEqual([]);
        expect(await store.deleteSessions(u.id)).toEqual([]);
        expect(await store.listSessions(v.id)).toEqual([others]);
      });
    });

    // ---- rooms ----

    describe('rooms', () => {
      it('createRoom appends room.created then one member.joined per member, seqs 1..n', async () => {
        const owner = await createUser('owner');
        const m1 = await createUser('member1');
        const m2 = await createUser('member2');
        const id = newTestId('r');
        const { room, events, created } = await createRoom(owner, {
          id,
          name: 'Book Club',
          topic: 'Monthly reads',
          members: [{ user: m1, role: 'admin' }, { user: m2 }],
        });
        expect(created).toBe(true);
        expect(room).toMatchObject({
          id,
          kind: 'public',
          name: 'Book Club',
          topic: 'Monthly reads',
          createdBy: owner.id,
          lastSeq: 4,
          memberCount: 3,
        });
        expectIso(room.createdAt);
        expect(events.map((e) => [e.seq, e.type, e.data?.userId])).toEqual([
          [1, 'room.created', undefined],
          [2, 'member.joined', owner.id],
          [3, 'member.joined', m1.id],
          [4, 'member.joined', m2.id],
        ]);
        for (const e of events) {
          expect(e).toMatchObject({ roomId: id, senderId: owner.id, body: null, clientMsgId: null });
          expectIso(e.createdAt);
        }
        expect(new Set(events.map((e) => e.id)).size).toBe(4);
        expect(await store.getRoom(id)).toEqual(room);
        expect(await allEvents(id)).toEqual(events);
      });

      it('createRoom with no members appends just room.created', async () => {
        const owner = await createUser('owner');
        const { room, events } = await store.createRoom({
          id: newTestId('r'),
          kind: 'public',
          name: 'Lobby',
          topic: '',
          createdBy: owner.id,
          members: [],
        });
        expect(room).toMatchObject({ lastSeq: 1, memberCount: 0 });
        expect(events.map((e) => e.type)).toEqual(['room.created']);
      });

      it('getRoom of an unknown id is null', async () => {
        expect(await store.getRoom('r_nowhere')).toBeNull();
      });

      it('a DM whose dmKey exists already returns the existing room with created:false and no events', async () => {
        const a = await createUser('anna');
        const b = await createUser('ben');
        const first = await createDm([a, b]);
        expect(first.created).toBe(true);
        expect(first.room.kind).toBe('dm');
        expect(first.events.map((e) => e.type)).toEqual(['room.created', 'member.joined', 'member.joined']);
        const secondId = newTestId('r');
        const second = await createDm([b, a], secondId);
        expect(second.created).toBe(false);
        expect(second.events).toEqual([]);
        expect(second.room).toEqual(first.room);
        expect(await store.getRoom(secondId)).toBeNull();
        expect(await lastSeq(first.room.id)).toBe(3);
        expect(await store.countRoomsOf(a.id)).toBe(1);
      });

      it('getDmByKey finds a DM by its member set, and nothing else', async () => {
        const a = await createUser('dora');
        const b = await createUser('dan');
        const c = await createUser('dee');
        const { room } = await createDm([a, b]);
        const key = (...us: UserRecord[]) =>
          us
            .map((u) => u.id)
            .sort()
            .join(',');
        expect(await store.getDmByKey(key(b, a))).toEqual(room);
        expect(await store.getDmByKey(key(a, c))).toBeNull();
        expect(await store.getDmByKey(key(a, b, c))).toBeNull();
      });

      it('concurrent creates of one DM: exactly one creates, all get the same room', async () => {
        const a = await createUser('anna');
        const b = await createUser('ben');
        const results = await Promise.all(range(1, 6).map(() => createDm([a, b])));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.room.id)).size).toBe(1);
        expect(await store.countRoomsOf(a.id)).toBe(1);
      });

      it('membership queries: getRole, listMembers, listMemberIds, countRole, countRoomsOf', async () => {
        const owner = await createUser('owner');
        const admin = await createUser('admin');
        const member = await createUser('member');
        const outsider = await createUser('outsider');
        const { room } = await createRoom(owner, { members: [{ user: admin, role: 'admin' }, { user: member }] });
        await createRoom(owner, { name: 'second' });
        expect(await store.getRole(room.id, owner.id)).toBe('owner');
        expect(await store.getRole(room.id, admin.id)).toBe('admin');
        expect(await store.getRole(room.id, member.id)).toBe('member');
        expect(await store.getRole(room.id, outsider.id)).toBeNull();
        expect(await store.getRole('r_nowhere', owner.id)).toBeNull();
        expect((await store.listMemberIds(room.id)).sort()).toEqual([owner.id, admin.id, member.id].sort());
        const members = await store.listMembers(room.id);
        expect(members.map((m) => [m.user.id, m.role]).sort((x, y) => ((x[0] ?? '') < (y[0] ?? '') ? -1 : 1))).toEqual(
          [
            [owner.id, 'owner'],
            [admin.id, 'admin'],
            [member.id, 'member'],
          ].sort((x, y) => ((x[0] ?? '') < (y[0] ?? '') ? -1 : 1)),
        );
        for (const m of members) expectIso(m.joinedAt);
        expectPublic(members.map((m) => m.user));
        expect(members.find((m) => m.user.id === admin.id)?.user).toMatchObject({
          username: 'admin',
          displayName: 'admin',
        });
        expect(await store.countRole(room.id, 'owner')).toBe(1);
        expect(await store.countRole(room.id, 'admin')).toBe(1);
        expect(await store.countRole(room.id, 'member')).toBe(1);
        expect(await store.countRoomsOf(owner.id)).toBe(2);
        expect(await store.countRoomsOf(member.id)).toBe(1);
        expect(await store.countRoomsOf(outsider.id)).toBe(0);
        expect(await store.listMembers('r_nowhere')).toEqual([]);
        expect(await store.listMemberIds('r_nowhere')).toEqual([]);

        // Pages: keyset after (joinedAt, userId), in the same order as the whole list, none repeated or skipped.
        const whole = await store.listMembers(room.id);
        const paged: string[] = [];
        let after: { joinedAt: number; userId: string } | undefined;
        for (let i = 0; i < 5; i++) {
          const page = await store.listMembers(room.id, { limit: 2, ...(after ? { after } : {}) });
          expect(page.length).toBeLessThanOrEqual(2);
          if (page.length === 0) break;
          paged.push(...page.map((m) => m.user.id));
          const last = page[page.length - 1]!;
          after = { joinedAt: Date.parse(last.joinedAt), userId: last.user.id };
        }
        expect(paged).toEqual(whole.map((m) => m.user.id));
      });

      it('addMember appends member.joined and bumps memberCount; a second add returns null and appends nothing', async () => {
        const owner = await createUser('owner');
        const joiner = await createUser('joiner');
        const { room } = await createRoom(owner);
        const event = await store.addMember(room.id, joiner.id, 'member', joiner.id);
        expect(event).toMatchObject({
          roomId: room.id,
          seq: 3,
          type: 'member.joined',
          senderId: joiner.id,
          body: null,
          clientMsgId: null,
        });
        expect(event?.data?.userId).toBe(joiner.id);
        expect(await store.getRoom(room.id)).toMatchObject({ lastSeq: 3, memberCount: 2 });
        expect(await store.getRole(room.id, joiner.id)).toBe('member');
        expect(await store.addMember(room.id, joiner.id, 'admin', owner.id)).toBeNull();
        expect(await store.getRoom(room.id)).toMatchObject({ lastSeq: 3, memberCount: 2 });
        expect(await store.getRole(room.id, joiner.id)).toBe('member');
        expect((await allEvents(room.id)).at(-1)).toEqual(event);
      });

      it('concurrent addMember of one user: exactly one event', async () => {
        const owner = await createUser('owner');
        const joiner = await createUser('joiner');
        const { room } = await createRoom(owner);
        const results = await Promise.all(
          range(1, 5).map(() => store.addMember(room.id, joiner.id, 'member', joiner.id)),
        );
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        expect(await store.getRoom(room.id)).toMatchObject({ lastSeq: 3, memberCount: 2 });
      });

      it('addMember clears a pending invite', async () => {
        const owner = await createUser('owner');
        const invitee = await createUser('invitee');
        const { room } = await createRoom(owner, { kind: 'private', name: 'secret' });
        await store.createInvite(room.id, invitee.id, owner.id);
        expect(await store.hasInvite(room.id, invitee.id)).toBe(true);
        expect(await store.addMember(room.id, invitee.id, 'member', invitee.id)).not.toBeNull();
        expect(await store.hasInvite(room.id, invitee.id)).toBe(false);
        expect(await store.listInvites(invitee.id)).toEqual([]);
      });

      it('removeMember appends member.left and decrements memberCount; null when not a member', async () => {
        const owner = await createUser('owner');
        const leaver = await createUser('leaver');
        const kicked = await createUser('kicked');
        const { room } = await createRoom(owner, { members: [{ user: leaver }, { user: kicked }] });
        const left = await store.removeMember(room.id, leaver.id, leaver.id, 'left');
        expect(left).toMatchObject({ roomId: room.id, seq: 5, type: 'member.left', senderId: leaver.id });
        expect(left?.data?.userId).toBe(leaver.id);
        const removed = await store.removeMember(room.id, kicked.id, owner.id, 'removed');
        expect(removed).toMatchObject({ seq: 6, type: 'member.left', senderId: owner.id });
        expect(removed?.data?.userId).toBe(kicked.id);
        expect(await store.getRoom(room.id)).toMatchObject({ lastSeq: 6, memberCount: 1 });
        expect(await store.getRole(room.id, leaver.id)).toBeNull();
        expect(await store.listMemberIds(room.id)).toEqual([owner.id]);
        expect(await store.countRoomsOf(leaver.id)).toBe(0);
        expect(await store.removeMember(room.id, leaver.id, leaver.id, 'left')).toBeNull();
        expect(await store.getRoom(room.id)).toMatchObject({ lastSeq: 6, memberCount: 1 });
        // A former member can rejoin.
        expect(await store.addMember(room.id, leaver.id, 'member', leaver.id)).toMatchObject({ seq: 7 });
      });

      it('setMemberRole appends member.role; null when not a member', async () => {
        const owner = await createUser('owner');
        const member = await createUser('member');
        const outsider = await createUser('outsider');
        const { room } = await createRoom(owner, { members: [{ user: member }] });
        const event = await store.setMemberRole(room.id, member.id, 'admin', owner.id);
        expect(event).toMatchObject({ roomId: room.id, seq: 4, type: 'member.role', senderId: owner.id });
        expect(event?.data).toMatchObject({ userId: member.id, role: 'admin' });
        expect(await store.getRole(room.id, member.id)).toBe('admin');
        expect(await store.countRole(room.id, 'admin')).toBe(1);
        expect(await store.countRole(room.id, 'member')).toBe(0);
        await store.setMemberRole(room.id, member.id, 'owner', owner.id);
        expect(await store.countRole(room.id, 'owner')).toBe(2);
        expect(await store.setMemberRole(room.id, outsider.id, 'admin', owner.id)).toBeNull();
        expect(await store.getRole(room.id, outsider.id)).toBeNull();
        expect(await store.getRoom(room.id)).toMatchObject({ lastSeq: 5, memberCount: 2 });
      });

      it('invites: create (member.invited), no second pending invite, has, list, delete', async () => {
        const owner = await createUser('owner');
        const invitee = await createUser('invitee');
        const { room } = await createRoom(owner, { kind: 'private', name: 'secret' });
        const other = (await createRoom(owner, { kind: 'private', name: 'other' })).room;
        expect(await store.hasInvite(room.id, invitee.id)).toBe(false);
        expect(await store.listInvites(invitee.id)).toEqual([]);

        const event = await store.createInvite(room.id, invitee.id, owner.id);
        expect(event).toMatchObject({ roomId: room.id, seq: 3, type: 'member.invited', senderId: owner.id });
        expect(event?.data?.userId).toBe(invitee.id);
        expect(await store.createInvite(room.id, invitee.id, owner.id)).toBeNull();
        expect(await lastSeq(room.id)).toBe(3);
        expect(await store.hasInvite(room.id, invitee.id)).toBe(true);
        expect(await store.hasInvite(other.id, invitee.id)).toBe(false);
        expect(await store.hasInvite(room.id, owner.id)).toBe(false);

        const invites = await store.listInvites(invitee.id);
        expect(invites).toHaveLength(1);
        expect(invites[0]?.room).toMatchObject({ id: room.id, kind: 'private', name: 'secret' });
        expect(invites[0]?.inviter).toMatchObject({ id: owner.id, username: 'owner' });
        expectPublic(invites.map((i) => i.inviter));
        expectIso(invites[0]?.createdAt ?? '');
        expect(await store.listInvites(owner.id)).toEqual([]);

        expect(await store.deleteInvite(room.id, invitee.id)).toBe(true);
        expect(await store.deleteInvite(room.id, invitee.id)).toBe(false);
        expect(await store.hasInvite(room.id, invitee.id)).toBe(false);
        expect(await store.listInvites(invitee.id)).toEqual([]);
        // Once the pending invite is gone, a new one can be made.
        expect(await store.createInvite(room.id, invitee.id, owner.id)).toMatchObject({ seq: 4 });
      });

      it('updateRoom changes name/topic and appends room.updated', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner, { name: 'Old Name', topic: 'old topic' });
        const { room: renamed, event } = await store.updateRoom(room.id, { name: 'New Name' }, owner.id);
        // The room's head hash moves to each event appended (history integrity).
        expect(renamed).toEqual({ ...room, name: 'New Name', lastSeq: 3, headHash: event.hash });
        expect(event).toMatchObject({ roomId: room.id, seq: 3, type: 'room.updated', senderId: owner.id });
        expect(event.prevHash).toBe(room.headHash);
        expect(event.data).toMatchObject({ name: 'New Name' });
        const { room: retopiced, event: e2 } = await store.updateRoom(room.id, { topic: 'new topic' }, owner.id);
        expect(retopiced).toEqual({ ...room, name: 'New Name', topic: 'new topic', lastSeq: 4, headHash: e2.hash });
        expect(e2.data).toMatchObject({ topic: 'new topic' });
        const { event: e3 } = await store.updateRoom(room.id, { name: 'Both', topic: 'both' }, owner.id);
        expect(e3.data).toMatchObject({ name: 'Both', topic: 'both' });
        expect(await store.getRoom(room.id)).toMatchObject({ name: 'Both', topic: 'both', lastSeq: 5 });
        expect((await allEvents(room.id)).slice(2)).toEqual([event, e2, e3]);
        expect((await store.searchPublicRooms('both', 10)).rooms.map((r) => r.id)).toEqual([room.id]);
        expect((await store.searchPublicRooms('old name', 10)).rooms).toEqual([]);
      });

      it('public room names are unique ignoring case, on create and rename; private rooms and DMs may share', async () => {
        const owner = await createUser('owner');
        const other = await createUser('other');
        const first = (await createRoom(owner, { name: 'design-reviews' })).room;
        await expect(createRoom(other, { name: 'Design-Reviews' })).rejects.toMatchObject({ code: 'room_name_taken' });
        await expect(createRoom(other, { name: 'DESIGN-REVIEWS' })).rejects.toMatchObject({ code: 'room_name_taken' });
        // Nothing of the refused room was written.
        expect((await store.searchPublicRooms('design', 10)).rooms.map((r) => r.id)).toEqual([first.id]);
        const secret = (await createRoom(other, { kind: 'private', name: 'Design-Reviews' })).room;
        expect(secret.name).toBe('Design-Reviews');
        const second = (await createRoom(other, { name: 'design reviews' })).room;
        await expect(store.updateRoom(second.id, { name: 'Design-REVIEWS' }, other.id)).rejects.toMatchObject({
          code: 'room_name_taken',
        });
        expect(await store.getRoom(second.id)).toMatchObject({ name: 'design reviews', lastSeq: second.lastSeq });
        // Renaming a room to its own name in another case is allowed, and frees the old name.
        await store.updateRoom(first.id, { name: 'Design-Reviews' }, owner.id);
        await store.updateRoom(second.id, { name: 'old design' }, other.id);
        expect((await createRoom(other, { name: 'design reviews' })).created).toBe(true);
        await store.updateRoom(secret.id, { name: 'design-reviews' }, other.id);
      });

      it('listRoomsOf: newest activity first, with myRole; DM members exclude the caller', async () => {
        const me = await createUser('me');
        const friend = await createUser('friend');
        const other = await createUser('other');
        expect(await store.listRoomsOf(me.id)).toEqual([]);
        const a = (await createRoom(me, { name: 'alpha' })).room;
        await clockTick();
        const b = (await createRoom(other, { name: 'bravo', members: [{ user: me, role: 'admin' }] })).room;
        await clockTick();
        const dm = (await createDm([me, friend])).room;
        await clockTick();
        await createRoom(other, { name: 'not mine' });
        await clockTick();
        const sent = (await store.appendMessage(message(a.id, me))).event;

        const rooms = await store.listRoomsOf(me.id);
        expect(rooms.map((r) => r.id)).toEqual([a.id, dm.id, b.id]);
        expect(rooms.map((r) => r.myRole)).toEqual(['owner', 'member', 'admin']);
        expect(rooms[0]).toMatchObject({ ...a, lastSeq: 3, myRole: 'owner', headHash: sent.hash });
        const dmRoom = rooms[1];
        expect(dmRoom?.kind).toBe('dm');
        expect(dmRoom?.members?.map((u) => u.id)).toEqual([friend.id]);
        // Names only: exactly what a client needs to title the DM, nothing private and nothing more.
        expect(dmRoom?.members?.[0]).toEqual({ id: friend.id, username: 'friend', displayName: 'friend' });

        // Activity in the oldest room moves it to the front, whoever caused it.
        await clockTick();
        await store.addMember(b.id, friend.id, 'member', friend.id);
        expect((await store.listRoomsOf(me.id)).map((r) => r.id)).toEqual([b.id, a.id, dm.id]);
        const friendsRooms = await store.listRoomsOf(friend.id);
        expect(friendsRooms.map((r) => r.id)).toEqual([b.id, dm.id]);
        expect(friendsRooms[1]?.members?.map((u) => u.id)).toEqual([me.id]);
      });

      it('searchPublicRooms finds public rooms whose name or topic contains q, case-insensitively', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const byName = (await createRoom(owner, { name: 'Rust Lovers', topic: 'systems' })).room;
        const byTopic = (await createRoom(owner, { name: 'Gophers', topic: 'We also like RUST' })).room;
        const middle = (await createRoom(owner, { name: 'Trusty', topic: '' })).room;
        await createRoom(owner, { name: 'Python', topic: 'snakes' });
        await createRoom(owner, { kind: 'private', name: 'Rust Secret', topic: 'rust' });
        await createDm([owner, friend]);
        const found = await store.searchPublicRooms('rUsT', 10);
        expect(found.nextCursor).toBeNull();
        expect(found.rooms.map((r) => r.id)).toEqual([byTopic.id, byName.id, middle.id]);
        expect(found.rooms[1]).toEqual(byName);
        const all = await store.searchPublicRooms('', 10);
        expect(all.rooms.map((r) => r.name)).toEqual(['Gophers', 'Python', 'Rust Lovers', 'Trusty']);
        expect(all.rooms.every((r) => r.kind === 'public')).toBe(true);
        expect((await store.searchPublicRooms('nothing like this', 10)).rooms).toEqual([]);
      });

      it('searchPublicRooms treats LIKE wildcards %, _ and the escape character literally', async () => {
        const owner = await createUser('owner');
        const percent = (await createRoom(owner, { name: '100% done' })).room;
        await createRoom(owner, { name: '1000 done' });
        const underscore = (await createRoom(owner, { name: 'snake_case' })).room;
        await createRoom(owner, { name: 'snakeXcase' });
        const backslash = (await createRoom(owner, { name: 'back\\slash' })).room;
        await createRoom(owner, { name: 'backslash' });
        const ids = async (q: string) => (await store.searchPublicRooms(q, 10)).rooms.map((r) => r.id);
        expect(await ids('%')).toEqual([percent.id]);
        expect(await ids('0% d')).toEqual([percent.id]);
        expect(await ids('_')).toEqual([underscore.id]);
        expect(await ids('e_c')).toEqual([underscore.id]);
        expect(await ids('\\')).toEqual([backslash.id]);
        expect(await ids('k\\s')).toEqual([backslash.id]);
      });

      it('searchPublicRooms is case-insensitive beyond ASCII, in names and topics', async () => {
        const owner = await createUser('owner');
        const named = (await createRoom(owner, { name: 'ÉCOLE', topic: '' })).room;
        const topical = (await createRoom(owner, { name: 'summer', topic: 'Réunion ÉTÉ' })).room;
        expect((await store.searchPublicRooms('école', 10)).rooms.map((r) => r.id)).toEqual([named.id]);
        expect((await store.searchPublicRooms('été', 10)).rooms.map((r) => r.id)).toEqual([topical.id]);
      });

      it('searchPublicRooms cursor pagination visits every match exactly once, in name order', async () => {
        const owner = await createUser('owner');
        // Mixed case: the order ignores it (public names are unique ignoring case, so they never tie).
        const names = [
          'alpha',
          'Alpha Two',
          'ALPHA three',
          'bravo',
          'charlie',
          'Charlie Brown',
          'delta',
          'echo',
          'foxtrot',
          'golf',
          'hotel',
          'india',
          'juliett',
          'kilo',
          'lima',
          'mike',
          'november',
          'oscar',
          'papa',
          'quebec',
          'romeo',
          'sierra',
          'tango',
        ];
        const shuffled = [...names].sort(() => Math.random() - 0.5);
        const created: Room[] = [];
        for (const n of shuffled) created.push((await createRoom(owner, { name: n })).room);
        await createRoom(owner, { kind: 'private', name: 'alpha private' });
        for (const limit of [1, 4, 7, 23, 50]) {
          const seen: Room[] = [];
          let cursor: string | undefined;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThanOrEqual(names.length + 1);
            const page = await store.searchPublicRooms('', limit, cursor);
            expect(page.rooms.length).toBeLessThanOrEqual(limit);
            seen.push(...page.rooms);
            if (page.nextCursor === null) break;
            expect(typeof page.nextCursor).toBe('string');
            cursor = page.nextCursor;
          }
          expect(seen.map((r) => r.id).sort()).toEqual(created.map((r) => r.id).sort());
          expect(new Set(seen.map((r) => r.id)).size).toBe(names.length);
          const keys = seen.map((r) => r.name.toLowerCase());
          expect(keys).toEqual([...keys].sort());
        }
        // A query narrows the pages too.
        const narrowed: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.searchPublicRooms('ALPH', 2, cursor);
          narrowed.push(...page.rooms.map((r) => r.name));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(narrowed.sort()).toEqual(['ALPHA three', 'Alpha Two', 'alpha']);
      });

      it('searchPublicRooms rejects an invalid cursor with ChatError validation_failed', async () => {
        const owner = await createUser('owner');
        await createRoom(owner, { name: 'one' });
        await createRoom(owner, { name: 'two' });
        await rejectsWith(() => store.searchPublicRooms('', 1, 'not a cursor!'), 'validation_failed');
        const bogus = Buffer.from(JSON.stringify({ hello: 'world' })).toString('base64url');
        await rejectsWith(() => store.searchPublicRooms('', 1, bogus), 'validation_failed');
      });
    });

    // ---- events ----

    describe('events', () => {
      it('appendMessage stores the message as the next event of the room', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        const m = message(room.id, owner, 'client-1', 'Hello, world');
        const { event, duplicate } = await store.appendMessage(m);
        expect(duplicate).toBe(false);
        expect(event).toEqual({
          id: m.id,
          roomId: room.id,
          seq: 3,
          type: 'message',
          senderId: owner.id,
          body: 'Hello, world',
          clientMsgId: 'client-1',
          data: null,
          createdAt: event.createdAt,
          // Its link in the room's hash chain, after the room's two creation events.
          hash: expect.stringMatching(/^[0-9a-f]{64}$/),
          prevHash: room.headHash,
          contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        });
        expectIso(event.createdAt);
        expect(await lastSeq(room.id)).toBe(3);
        expect(await store.listEvents(room.id, { after: 2, limit: 10 })).toEqual([event]);
      });

      it('messages and membership/room events share one gap-free sequence', async () => {
        const owner = await createUser('owner');
        const guest = await createUser('guest');
        const { room } = await createRoom(owner);
        const produced: RoomEvent[] = [];
        produced.push((await store.appendMessage(message(room.id, owner))).event);
        produced.push((await store.addMember(room.id, guest.id, 'member', guest.id)) as RoomEvent);
        produced.push((await store.appendMessage(message(room.id, guest))).event);
        produced.push((await store.updateRoom(room.id, { topic: 't' }, owner.id)).event);
        produced.push((await store.setMemberRole(room.id, guest.id, 'admin', owner.id)) as RoomEvent);
        produced.push((await store.createInvite(room.id, (await createUser('x')).id, owner.id)) as RoomEvent);
        produced.push((await store.removeMember(room.id, guest.id, guest.id, 'left')) as RoomEvent);
        produced.push((await store.appendMessage(message(room.id, owner))).event);
        expect(seqsOf(produced)).toEqual(range(3, 10));
        const all = await allEvents(room.id);
        expect(seqsOf(all)).toEqual(range(1, 10));
        expect(all.slice(2)).toEqual(produced);

        // The same, concurrently: every event gets a distinct seq and the sequence has no gap.
        const others = await Promise.all(range(1, 5).map((i) => createUser(`joiner${i}`)));
        await Promise.all([
          ...others.map((u) => store.addMember(room.id, u.id, 'member', u.id)),
          ...range(1, 20).map(() => store.appendMessage(message(room.id, owner))),
          store.updateRoom(room.id, { name: 'renamed' }, owner.id),
        ]);
        expect(seqsOf(await allEvents(room.id))).toEqual(range(1, 36));
        expect(await lastSeq(room.id)).toBe(36);
      });

      it('a repeat of (senderId, clientMsgId) returns the stored message with duplicate:true and writes nothing', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        const first = await store.appendMessage(message(room.id, owner, 'same-key', 'original'));
        const again = await store.appendMessage(message(room.id, owner, 'same-key', 'a different body'));
        expect(again.duplicate).toBe(true);
        expect(again.event).toEqual(first.event);
        expect(await lastSeq(room.id)).toBe(3);
        expect(await allEvents(room.id)).toHaveLength(3);
        // Idempotency is per sender: another sender may use the same key.
        const other = await createUser('other');
        const theirs = await store.appendMessage(message(room.id, other, 'same-key', 'theirs'));
        expect(theirs.duplicate).toBe(false);
        expect(theirs.event).toMatchObject({ seq: 4, senderId: other.id, body: 'theirs' });
        // And it still holds after other writes.
        await store.appendMessage(message(room.id, owner));
        const late = await store.appendMessage(message(room.id, owner, 'same-key', 'late retry'));
        expect(late).toEqual({ event: first.event, duplicate: true });
        expect(await lastSeq(room.id)).toBe(5);
      });

      it('findMessageByClientMsgId returns what a retry would get, per sender', async () => {
        const owner = await createUser('owner');
        const other = await createUser('other');
        const { room } = await createRoom(owner);
        const first = await store.appendMessage(message(room.id, owner, 'key-1', 'hello'));
        expect(await store.findMessageByClientMsgId(owner.id, 'key-1')).toEqual(first.event);
        expect(await store.findMessageByClientMsgId(other.id, 'key-1')).toBeNull();
        expect(await store.findMessageByClientMsgId(owner.id, 'key-2')).toBeNull();
      });

      it('concurrent repeats of one key: exactly one is stored, all resolve to it', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        const results = await Promise.all(
          range(1, 10).map((i) => store.appendMessage(message(room.id, owner, 'racy', `attempt ${i}`))),
        );
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        const stored = results.find((r) => !r.duplicate)?.event;
        for (const r of results) expect(r.event).toEqual(stored);
        expect(await lastSeq(room.id)).toBe(3);
      });

      it('the same (senderId, clientMsgId) in another room rejects with client_msg_id_reused and writes nothing', async () => {
        const owner = await createUser('owner');
        const r1 = (await createRoom(owner, { name: 'one' })).room;
        const r2 = (await createRoom(owner, { name: 'two' })).room;
        const first = await store.appendMessage(message(r1.id, owner, 'key-1'));
        await rejectsWith(() => store.appendMessage(message(r2.id, owner, 'key-1')), 'client_msg_id_reused');
        expect(await lastSeq(r2.id)).toBe(2);
        expect(await lastSeq(r1.id)).toBe(3);
        expect(await store.listEvents(r2.id, { after: 2, limit: 10 })).toEqual([]);
        // The original is untouched and still idempotent.
        expect(await store.appendMessage(message(r1.id, owner, 'key-1'))).toEqual({
          event: first.event,
          duplicate: true,
        });
      });

      it('appendMessage to an unknown room rejects with room_not_found without disturbing concurrent appends', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        await rejectsWith(() => store.appendMessage(message('r_missing', owner)), 'room_not_found');
        const results = await Promise.allSettled([
          store.appendMessage(message(room.id, owner, 'ok-1')),
          store.appendMessage(message('r_missing', owner, 'bad')),
          store.appendMessage(message(room.id, owner, 'ok-2')),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        const bad = results[1];
        expect(bad?.status === 'rejected' && bad.reason instanceof ChatError && bad.reason.code).toBe('room_not_found');
        const fulfilled = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.event] : []));
        expect(fulfilled.map((e) => e.clientMsgId)).toEqual(['ok-1', 'ok-2']);
        expect(seqsOf(fulfilled).sort()).toEqual([3, 4]);
        expect(await lastSeq(room.id)).toBe(4);
        // A failed key was not stored: it can be used later.
        expect((await store.appendMessage(message(room.id, owner, 'bad'))).duplicate).toBe(false);
      });

      it('a failed group-commit batch rejects every message in it with unavailable and writes nothing', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // seqs 1, 2
        const one = { ...message(room.id, owner, 'a'), id: newTestId('e') };
        const same = newTestId('e');
        // Appends made in one turn of the event loop share a batch (both engines' group commit; maxBatch is 3 or
        // more in every harness). Two of them with one event id violate a constraint mid-transaction: the whole
        // batch rolls back, so the innocent one gets no false ack either.
        const results = await Promise.allSettled([
          store.appendMessage(one),
          store.appendMessage({ ...message(room.id, owner, 'b'), id: same }),
          store.appendMessage({ ...message(room.id, owner, 'c'), id: same }),
        ]);
        for (const r of results) {
          expect(r.status).toBe('rejected');
          if (r.status === 'rejected') {
            expect(r.reason).toBeInstanceOf(ChatError);
            expect((r.reason as ChatError).code).toBe('unavailable');
          }
        }
        expect(await lastSeq(room.id)).toBe(2);
        expect(await store.listEvents(room.id, { after: 2, limit: 10 })).toEqual([]);
        // The store keeps working and the innocent message can be retried: stored as new, at the next seq.
        expect(await store.appendMessage(one)).toMatchObject({ duplicate: false, event: { seq: 3, clientMsgId: 'a' } });
      });

      it('2,000 concurrent appends across 5 rooms, with duplicates mixed in: per-room seqs are exactly 1..n', async () => {
        const senders = await Promise.all(['s1', 's2', 's3', 's4'].map((n) => createUser(n)));
        const [owner] = senders as [UserRecord];
        const rooms = await Promise.all(
          range(1, 5).map(async (i) => (await createRoom(owner, { name: `room ${i}` })).room),
        );
        const originals: NewMessage[] = range(0, 1999).map((i) => {
          const sender = senders[i % senders.length] as UserRecord;
          const room = rooms[i % rooms.length] as Room;
          return message(room.id, sender, `m-${i}`, `body ${i}`);
        });
        // Retries: same sender, room and clientMsgId, a fresh event id, sometimes a different body.
        const retries: NewMessage[] = range(0, 199).map((j) => {
          const orig = originals[(j * 37) % originals.length] as NewMessage;
          return { ...orig, id: newTestId('e'), body: j % 2 ? orig.body : `retry ${j}` };
        });
        const all = [...originals];
        retries.forEach((r, j) => all.splice(((j * 101) % all.length) + 1, 0, r));
        const results = await Promise.all(all.map((m) => store.appendMessage(m)));

        const byKey = new Map<string, { event: RoomEvent; duplicate: boolean }[]>();
        results.forEach((r, i) => {
          const submitted = all[i] as NewMessage;
          // Each promise resolves to its own message (or, for a repeat, the stored one of its key).
          expect(r.event).toMatchObject({
            roomId: submitted.roomId,
            senderId: submitted.senderId,
            clientMsgId: submitted.clientMsgId,
            type: 'message',
          });
          if (!r.duplicate) expect(r.event).toMatchObject({ id: submitted.id, body: submitted.body });
          const key = `${submitted.senderId}/${submitted.clientMsgId}`;
          byKey.set(key, [...(byKey.get(key) ?? []), r]);
        });
        expect(byKey.size).toBe(originals.length);
        for (const rs of byKey.values()) {
          expect(rs.filter((r) => !r.duplicate)).toHaveLength(1);
          for (const r of rs) expect(r.event).toEqual(rs[0]?.event);
        }
        for (const room of rooms) {
          const events = await allEvents(room.id);
          const n = 2 + originals.length / rooms.length;
          expect(seqsOf(events)).toEqual(range(1, n));
          expect(await lastSeq(room.id)).toBe(n);
          const stored = new Map(events.filter((e) => e.type === 'message').map((e) => [e.id, e]));
          for (const r of results) if (r.event.roomId === room.id) expect(stored.get(r.event.id)).toEqual(r.event);
        }
      }, 30_000);

      it('listEvents: after/before are exclusive, the newest page without either, always ascending', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // seqs 1, 2
        for (let i = 0; i < 10; i++) await store.appendMessage(message(room.id, owner)); // 3..12
        const q = async (query: { after?: number; before?: number; limit: number }) =>
          seqsOf(await store.listEvents(room.id, query));
        expect(await q({ after: 0, limit: 100 })).toEqual(range(1, 12));
        expect(await q({ after: 5, limit: 3 })).toEqual([6, 7, 8]);
        expect(await q({ after: 10, limit: 5 })).toEqual([11, 12]);
        expect(await q({ after: 12, limit: 5 })).toEqual([]);
        expect(await q({ after: 99, limit: 5 })).toEqual([]);
        expect(await q({ before: 5, limit: 10 })).toEqual([1, 2, 3, 4]);
        expect(await q({ before: 5, limit: 2 })).toEqual([3, 4]);
        expect(await q({ before: 1, limit: 2 })).toEqual([]);
        expect(await q({ before: 100, limit: 3 })).toEqual([10, 11, 12]);
        expect(await q({ limit: 4 })).toEqual([9, 10, 11, 12]);
        expect(await q({ limit: 100 })).toEqual(range(1, 12));
        expect(await store.listEvents('r_missing', { limit: 10 })).toEqual([]);
        expect(await store.listEvents('r_missing', { after: 0, limit: 10 })).toEqual([]);
      });

      it('listEvents kinds: messages skips non-message events; the page may span more seqs than limit', async () => {
        const owner = await createUser('owner');
        const guests = await Promise.all(range(1, 3).map((i) => createUser(`guest${i}`)));
        const { room } = await createRoom(owner); // 1 room.created, 2 member.joined
        await store.appendMessage(message(room.id, owner)); // 3
        for (const g of guests) await store.addMember(room.id, g.id, 'member', g.id); // 4, 5, 6
        await store.appendMessage(message(room.id, owner)); // 7
        await store.updateRoom(room.id, { topic: 'x' }, owner.id); // 8
        await store.appendMessage(message(room.id, owner)); // 9
        await store.appendMessage(message(room.id, owner)); // 10
        await store.addMember(room.id, (await createUser('late')).id, 'member', owner.id); // 11
        const q = async (query: { after?: number; before?: number; limit: number }) => {
          const events = await store.listEvents(room.id, { ...query, kinds: 'messages' });
          expect(events.every((e) => e.type === 'message')).toBe(true);
          return seqsOf(events);
        };
        expect(await q({ limit: 100 })).toEqual([3, 7, 9, 10]);
        expect(await q({ limit: 2 })).toEqual([9, 10]);
        expect(await q({ after: 0, limit: 2 })).toEqual([3, 7]);
        expect(await q({ after: 3, limit: 2 })).toEqual([7, 9]);
        expect(await q({ after: 10, limit: 2 })).toEqual([]);
        expect(await q({ before: 9, limit: 2 })).toEqual([3, 7]);
        expect(await q({ before: 7, limit: 5 })).toEqual([3]);
        const withMembership = seqsOf(await store.listEvents(room.id, { limit: 2 }));
        expect(withMembership).toEqual([10, 11]);

        // kinds: membership keeps the joins and leaves only, paged the same way.
        await store.removeMember(room.id, guests[0]!.id, guests[0]!.id, 'left'); // 12
        await store.appendMessage(message(room.id, owner)); // 13
        const joins = async (query: { after?: number; before?: number; limit: number }) => {
          const events = await store.listEvents(room.id, { ...query, kinds: 'membership' });
          expect(events.every((e) => e.type === 'member.joined' || e.type === 'member.left')).toBe(true);
          return seqsOf(events);
        };
        expect(await joins({ limit: 100 })).toEqual([2, 4, 5, 6, 11, 12]);
        expect(await joins({ limit: 2 })).toEqual([11, 12]);
        expect(await joins({ after: 4, limit: 3 })).toEqual([5, 6, 11]);
        expect(await joins({ before: 11, limit: 2 })).toEqual([5, 6]);
        expect(await joins({ after: 12, limit: 5 })).toEqual([]);
        expect((await store.listEvents(room.id, { after: 11, limit: 1, kinds: 'membership' }))[0]).toMatchObject({
          type: 'member.left',
          data: { userId: guests[0]!.id },
        });
      });
    });

    // ---- admin directory and server bans ----

    describe('admin: users', () => {
      it('a new user is not banned; setBannedUntil sets (including FOREVER_MS) and clears a server ban', async () => {
        const u = await createUser('rowdy');
        const other = await createUser('calm');
        expect(u.bannedUntil).toBeNull();
        const until = Date.now() + 3_600_000;
        await store.setBannedUntil(u.id, until);
        expect(await store.getUser(u.id)).toEqual({ ...u, bannedUntil: until });
        expect((await store.getUserByUsername('ROWDY'))?.bannedUntil).toBe(until);
        await store.setBannedUntil(u.id, FOREVER_MS);
        expect((await store.getUser(u.id))?.bannedUntil).toBe(FOREVER_MS);
        const s = await session(u);
        expect((await store.getSessionByTokenHash(s.tokenHash))?.user.bannedUntil).toBe(FOREVER_MS);
        await store.setBannedUntil(u.id, null);
        expect(await store.getUser(u.id)).toEqual(u);
        expect(await store.getUser(other.id)).toEqual(other);
        // A ban is not a deactivation: the user is still found.
        await store.setBannedUntil(u.id, until);
        expect((await store.searchUsers('rowdy', 10)).map((x) => x.id)).toEqual([u.id]);
        expectPublic(await store.getUsers([u.id]));
      });

      it('setDeactivated deactivates and reactivates; searchUsers skips deactivated users', async () => {
        const u = await createUser('sleepy');
        const other = await createUser('sleepless');
        await store.setDeactivated(u.id, true);
        expect(await store.getUser(u.id)).toEqual({ ...u, deactivated: true });
        expect((await store.searchUsers('sleep', 10)).map((x) => x.id)).toEqual([other.id]);
        await store.setDeactivated(u.id, true); // idempotent
        expect((await store.getUser(u.id))?.deactivated).toBe(true);
        await store.setDeactivated(u.id, false);
        expect(await store.getUser(u.id)).toEqual(u);
        expect((await store.searchUsers('sleep', 10)).map((x) => x.id)).toEqual([other.id, u.id]); // by username
        expect(await store.getUser(other.id)).toEqual(other);
      });

      it('listUsers: prefix of username or display name (folded), deactivated included, by username', async () => {
        const carol = await createUser('carol', { displayName: 'Carol Danvers' });
        const caroline = await createUser('Caroline', { displayName: 'Line' });
        const dave = await createUser('dave', { displayName: 'Carolus Magnus' });
        await createUser('xcarol', { displayName: 'Someone Else' });
        const elodie = await createUser('elodie', { displayName: 'Élodie' });
        await store.setDeactivated(caroline.id, true);
        await store.setBannedUntil(dave.id, FOREVER_MS);
        const page = await store.listUsers('car', 10);
        expect(page.nextCursor).toBeNull();
        expect(page.users.map((u) => u.username)).toEqual(['carol', 'Caroline', 'dave']);
        // Full records: the admin sees the moderation state.
        expect(page.users[0]).toEqual(carol);
        expect(page.users[1]).toEqual({ ...caroline, deactivated: true });
        expect(page.users[2]).toEqual({ ...dave, bannedUntil: FOREVER_MS });
        expect((await store.listUsers('CAROLU', 10)).users.map((u) => u.id)).toEqual([dave.id]);
        expect((await store.listUsers('line', 10)).users.map((u) => u.id)).toEqual([caroline.id]);
        expect((await store.listUsers('ÉLO', 10)).users.map((u) => u.id)).toEqual([elodie.id]);
        expect((await store.listUsers('%', 10)).users).toEqual([]);
        expect((await store.listUsers('_', 10)).users).toEqual([]);
        expect((await store.listUsers('zzz', 10)).users).toEqual([]);
        const all = await store.listUsers('', 10);
        expect(all.users.map((u) => u.username)).toEqual(['carol', 'Caroline', 'dave', 'elodie', 'xcarol']);
      });

      it('listUsers pages with an opaque cursor, visiting every user exactly once in username order', async () => {
        const names = range(1, 17).map((i) => `user${String(i).padStart(2, '0')}`);
        const shuffled = [...names].sort(() => Math.random() - 0.5);
        const created: UserRecord[] = [];
        for (const n of shuffled) created.push(await createUser(Math.random() < 0.3 ? n.toUpperCase() : n));
        await store.setDeactivated(created[3]!.id, true);
        await createUser('other');
        for (const limit of [1, 3, 5, 17, 40]) {
          const seen: UserRecord[] = [];
          let cursor: string | undefined;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThanOrEqual(names.length + 1);
            const page = await store.listUsers('user', limit, cursor);
            expect(page.users.length).toBeLessThanOrEqual(limit);
            seen.push(...page.users);
            if (page.nextCursor === null) break;
            expect(typeof page.nextCursor).toBe('string');
            cursor = page.nextCursor;
          }
          expect(seen.map((u) => u.username.toLowerCase())).toEqual(names);
          expect(seen.filter((u) => u.deactivated)).toHaveLength(1);
        }
        await rejectsWith(() => store.listUsers('', 1, 'not a cursor!'), 'validation_failed');
      });
    });

    // ---- rooms: settings and moderation state ----

    describe('rooms: settings and members', () => {
      it('a new room has the default settings; updateRoom changes settings and appends room.updated', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner, { name: 'News', topic: 'daily' });
        expect(room.settings).toEqual(DEFAULT_ROOM_SETTINGS);
        expect((await store.getRoom(room.id))?.settings).toEqual(DEFAULT_ROOM_SETTINGS);

        const r1 = await store.updateRoom(room.id, { settings: { readOnly: true } }, owner.id);
        expect(r1.room).toEqual({
          ...room,
          lastSeq: 3,
          headHash: r1.event.hash,
          settings: { ...DEFAULT_ROOM_SETTINGS, readOnly: true },
        });
        expect(r1.event).toMatchObject({ roomId: room.id, seq: 3, type: 'room.updated', senderId: owner.id });
        // Settings are flattened into the event data; only the changed fields appear.
        expect(r1.event.data).toEqual({ readOnly: true });

        const r2 = await store.updateRoom(
          room.id,
          { topic: 'hourly', settings: { slowModeSeconds: 30, joinApproval: true } },
          owner.id,
        );
        const settings = {
          readOnly: true,
          slowModeSeconds: 30,
          joinApproval: true,
          mentionAllRole: 'moderator',
          linkPreviews: true,
        };
        expect(r2.room).toEqual({ ...room, topic: 'hourly', lastSeq: 4, headHash: r2.event.hash, settings });
        expect(r2.event.data).toEqual({ topic: 'hourly', slowModeSeconds: 30, joinApproval: true });
        expect(await store.getRoom(room.id)).toEqual(r2.room);
        expect((await store.listRoomsOf(owner.id))[0]?.settings).toEqual(settings);
        expect((await store.searchPublicRooms('news', 10)).rooms[0]?.settings).toEqual(settings);

        const r3 = await store.updateRoom(room.id, { settings: { readOnly: false, slowModeSeconds: 0 } }, owner.id);
        expect(r3.room.settings).toEqual({
          readOnly: false,
          slowModeSeconds: 0,
          joinApproval: true,
          mentionAllRole: 'moderator',
          linkPreviews: true,
        });
        expect(r3.event.data).toEqual({ readOnly: false, slowModeSeconds: 0 });
        expect((await allEvents(room.id)).slice(2)).toEqual([r1.event, r2.event, r3.event]);
        await rejectsWith(
          () => store.updateRoom('r_nowhere', { settings: { readOnly: true } }, owner.id),
          'room_not_found',
        );
      });

      it('getMember returns role, mutedUntil and joinedSeq; null for a non-member', async () => {
        const owner = await createUser('owner');
        const member = await createUser('member');
        const outsider = await createUser('outsider');
        const { room } = await createRoom(owner, { members: [{ user: member, role: 'moderator' }] });
        expect(await store.getMember(room.id, owner.id)).toEqual({ role: 'owner', mutedUntil: null, joinedSeq: 2 });
        expect(await store.getMember(room.id, member.id)).toEqual({
          role: 'moderator',
          mutedUntil: null,
          joinedSeq: 3,
        });
        expect(await store.getMember(room.id, outsider.id)).toBeNull();
        expect(await store.getMember('r_nowhere', owner.id)).toBeNull();
        await store.addMember(room.id, outsider.id, 'member', outsider.id);
        expect(await store.getMember(room.id, outsider.id)).toEqual({ role: 'member', mutedUntil: null, joinedSeq: 4 });
        await store.setMemberRole(room.id, outsider.id, 'admin', owner.id);
        expect((await store.getMember(room.id, outsider.id))?.role).toBe('admin');
        const until = Date.now() + 60_000;
        await store.muteMember(room.id, outsider.id, until, owner.id);
        expect(await store.getMember(room.id, outsider.id)).toEqual({ role: 'admin', mutedUntil: until, joinedSeq: 4 });
      });

      it('listMembers carries mutedUntil', async () => {
        const owner = await createUser('owner');
        const member = await createUser('member');
        const { room } = await createRoom(owner, { members: [{ user: member }] });
        const muted = (xs: Awaited<ReturnType<Store['listMembers']>>) =>
          Object.fromEntries(xs.map((m) => [m.user.id, m.mutedUntil]));
        expect(muted(await store.listMembers(room.id))).toEqual({ [owner.id]: null, [member.id]: null });
        await store.muteMember(room.id, member.id, FOREVER_MS, owner.id);
        expect(muted(await store.listMembers(room.id))).toEqual({ [owner.id]: null, [member.id]: FOREVER_MS });
        await store.unmuteMember(room.id, member.id, owner.id);
        expect(muted(await store.listMembers(room.id))).toEqual({ [owner.id]: null, [member.id]: null });
      });

      it('addMember clears a pending join request', async () => {
        const owner = await createUser('owner');
        const asker = await createUser('asker');
        const { room } = await createRoom(owner);
        await store.updateRoom(room.id, { settings: { joinApproval: true } }, owner.id);
        expect(await store.createJoinRequest(room.id, asker.id)).toBe(true);
        expect(await store.addMember(room.id, asker.id, 'member', owner.id)).not.toBeNull();
        expect(await store.hasJoinRequest(room.id, asker.id)).toBe(false);
        expect(await store.listJoinRequests(room.id)).toEqual([]);
      });
    });

    // ---- moderation ----

    describe('moderation: mutes', () => {
      it('muteMember appends member.muted {userId, until ISO}; unmuteMember appends member.unmuted', async () => {
        const owner = await createUser('owner');
        const member = await createUser('member');
        const outsider = await createUser('outsider');
        const { room } = await createRoom(owner, { members: [{ user: member }] }); // seqs 1..3
        const until = Date.UTC(2031, 0, 2, 3, 4, 5, 6);
        const muted = await store.muteMember(room.id, member.id, until, owner.id);
        expect(muted).toMatchObject({
          roomId: room.id,
          seq: 4,
          type: 'member.muted',
          senderId: owner.id,
          body: null,
          clientMsgId: null,
          data: { userId: member.id, until: '2031-01-02T03:04:05.006Z' },
        });
        expectIso(muted?.createdAt ?? '');
        expect((await store.getMember(room.id, member.id))?.mutedUntil).toBe(until);
        // Muting again replaces the end time (and says so).
        const forever = await store.muteMember(room.id, member.id, FOREVER_MS, owner.id);
        expect(forever).toMatchObject({ seq: 5, type: 'member.muted' });
        expect(forever?.data).toEqual({ userId: member.id, until: new Date(FOREVER_MS).toISOString() });
        expect((await store.getMember(room.id, member.id))?.mutedUntil).toBe(FOREVER_MS);

        const unmuted = await store.unmuteMember(room.id, member.id, owner.id);
        expect(unmuted).toMatchObject({ seq: 6, type: 'member.unmuted', senderId: owner.id, body: null });
        expect(unmuted?.data).toEqual({ userId: member.id });
        expect((await store.getMember(room.id, member.id))?.mutedUntil).toBeNull();
        // Not muted / not a member: null and nothing appended.
        expect(await store.unmuteMember(room.id, member.id, owner.id)).toBeNull();
        expect(await store.unmuteMember(room.id, outsider.id, owner.id)).toBeNull();
        expect(await store.muteMember(room.id, outsider.id, until, owner.id)).toBeNull();
        expect(await store.muteMember('r_nowhere', member.id, until, owner.id)).toBeNull();
        expect(await store.getMember(room.id, outsider.id)).toBeNull();
        expect(await lastSeq(room.id)).toBe(6);
        const all = await allEvents(room.id);
        expect(seqsOf(all)).toEqual(range(1, 6));
        expect(all.slice(3)).toEqual([muted, forever, unmuted]);
      });

      it('a mute ends with the membership: a member who leaves and rejoins is not muted', async () => {
        const owner = await createUser('owner');
        const member = await createUser('member');
        const { room } = await createRoom(owner, { members: [{ user: member }] });
        await store.muteMember(room.id, member.id, FOREVER_MS, owner.id);
        await store.removeMember(room.id, member.id, member.id, 'left');
        await store.addMember(room.id, member.id, 'member', member.id);
        expect((await store.getMember(room.id, member.id))?.mutedUntil).toBeNull();
      });
    });

    describe('moderation: room bans', () => {
      it('banning a member removes them and appends member.left {userId, reason: banned}, atomically', async () => {
        const owner = await createUser('owner');
        const member = await createUser('member');
        const bystander = await createUser('bystander');
        const { room } = await createRoom(owner, { members: [{ user: member }, { user: bystander }] }); // 1..4
        await store.muteMember(room.id, member.id, FOREVER_MS, owner.id); // 5
        const until = Date.now() + 86_400_000;
        const event = await store.banFromRoom(room.id, member.id, { until, reason: 'spam' }, owner.id);
        expect(event).toMatchObject({
          roomId: room.id,
          seq: 6,
          type: 'member.left',
          senderId: owner.id,
          body: null,
          clientMsgId: null,
          data: { userId: member.id, reason: 'banned' },
        });
        expect(await store.getRole(room.id, member.id)).toBeNull();
        expect(await store.getMember(room.id, member.id)).toBeNull();
        expect(await store.getRoom(room.id)).toMatchObject({ lastSeq: 6, memberCount: 2 });
        expect((await store.listMemberIds(room.id)).sort()).toEqual([owner.id, bystander.id].sort());
        expect(await store.countRoomsOf(member.id)).toBe(0);
        const ban = await store.getRoomBan(room.id, member.id);
        expect(ban).toEqual({ userId: member.id, until, reason: 'spam', actorId: owner.id, createdAt: ban?.createdAt });
        expect(typeof ban?.createdAt).toBe('number');
        expect(Math.abs((ban?.createdAt ?? 0) - Date.now())).toBeLessThan(60_000);
        expect(await store.listRoomBans(room.id)).toEqual([ban]);
        expect(seqsOf(await allEvents(room.id))).toEqual(range(1, 6));
        expect((await allEvents(room.id)).at(-1)).toEqual(event);
      });

      it('banning a non-member records the ban, drops their invite and join request, and appends nothing', async () => {
        const owner = await createUser('owner');
        const invited = await createUser('invited');
        const asker = await createUser('asker');
        const { room } = await createRoom(owner, { kind: 'private', name: 'secret' });
        const other = (await createRoom(owner, { kind: 'private', name: 'other' })).room;
        await store.createInvite(room.id, invited.id, owner.id); // 3
        await store.createInvite(other.id, invited.id, owner.id);
        await store.createJoinRequest(room.id, asker.id);
        await store.createJoinRequest(other.id, asker.id);
        expect(await store.banFromRoom(room.id, invited.id, { until: FOREVER_MS, reason: '' }, owner.id)).toBeNull();
        expect(await store.banFromRoom(room.id, asker.id, { until: FOREVER_MS, reason: 'troll' }, owner.id)).toBeNull();
        expect(await store.getRoom(room.id)).toMatchObject({ lastSeq: 3, memberCount: 1 });
        expect(await store.hasInvite(room.id, invited.id)).toBe(false);
        expect(await store.hasJoinRequest(room.id, asker.id)).toBe(false);
        // Other rooms are untouched.
        expect(await store.hasInvite(other.id, invited.id)).toBe(true);
        expect(await store.hasJoinRequest(other.id, asker.id)).toBe(true);
        expect(await store.getRoomBan(room.id, invited.id)).toMatchObject({
          userId: invited.id,
          until: FOREVER_MS,
          reason: '',
          actorId: owner.id,
        });
        expect(await store.getRoomBan(room.id, asker.id)).toMatchObject({ reason: 'troll' });
        expect(await store.getRoomBan(other.id, asker.id)).toBeNull();
        expect((await store.listRoomBans(room.id)).map((b) => b.userId).sort()).toEqual([invited.id, asker.id].sort());
        expect(await store.listRoomBans(other.id)).toEqual([]);
      });

      it('a second ban replaces the first; unbanFromRoom lifts it (false when none); expired bans are kept', async () => {
        const owner = await createUser('owner');
        const mod = await createUser('mod');
        const target = await createUser('target');
        const { room } = await createRoom(owner, { members: [{ user: mod, role: 'moderator' }] });
        expect(await store.getRoomBan(room.id, target.id)).toBeNull();
        expect(await store.unbanFromRoom(room.id, target.id)).toBe(false);
        // An expired ban is still returned: callers compare with now.
        await store.banFromRoom(room.id, target.id, { until: 1_000, reason: 'old' }, owner.id);
        expect(await store.getRoomBan(room.id, target.id)).toMatchObject({ until: 1_000, reason: 'old' });
        await store.banFromRoom(room.id, target.id, { until: FOREVER_MS, reason: 'again' }, mod.id);
        expect(await store.getRoomBan(room.id, target.id)).toMatchObject({
          userId: target.id,
          until: FOREVER_MS,
          reason: 'again',
          actorId: mod.id,
        });
        expect(await store.listRoomBans(room.id)).toHaveLength(1);
        expect(await store.unbanFromRoom(room.id, target.id)).toBe(true);
        expect(await store.getRoomBan(room.id, target.id)).toBeNull();
        expect(await store.listRoomBans(room.id)).toEqual([]);
        expect(await store.unbanFromRoom(room.id, target.id)).toBe(false);
        expect(await lastSeq(room.id)).toBe(3);
      });

      it('banFromRoom of an unknown room rejects with room_not_found', async () => {
        const owner = await createUser('owner');
        await rejectsWith(
          () => store.banFromRoom('r_nowhere', owner.id, { until: FOREVER_MS, reason: '' }, owner.id),
          'room_not_found',
        );
      });
    });

    describe('moderation: events and deletion', () => {
      it('getEvent returns one event by seq, or null', async () => {
        const owner = await createUser('owner');
        const { room, events } = await createRoom(owner);
        const { event } = await store.appendMessage(message(room.id, owner, 'c1', 'hi'));
        expect(await store.getEvent(room.id, 1)).toEqual(events[0]);
        expect(await store.getEvent(room.id, 3)).toEqual(event);
        expect(await store.getEvent(room.id, 4)).toBeNull();
        expect(await store.getEvent(room.id, 0)).toBeNull();
        expect(await store.getEvent('r_nowhere', 1)).toBeNull();
      });

      it('deleteMessage redacts the message and appends message.deleted {seq, messageId}', async () => {
        const owner = await createUser('owner');
        const mod = await createUser('mod');
        const { room } = await createRoom(owner, { members: [{ user: mod, role: 'moderator' }] }); // 1..3
        const { event: original } = await store.appendMessage(message(room.id, owner, 'c1', 'something rude')); // 4
        const { event: kept } = await store.appendMessage(message(room.id, owner, 'c2', 'something nice')); // 5
        const deleted = await store.deleteMessage(room.id, original.seq, mod.id);
        expect(deleted).toMatchObject({
          roomId: room.id,
          seq: 6,
          type: 'message.deleted',
          senderId: mod.id,
          body: null,
          clientMsgId: null,
          data: { seq: original.seq, messageId: original.id },
        });
        expectIso(deleted?.createdAt ?? '');
        const redacted = { ...original, body: '', data: { deleted: true, deletedBy: mod.id } };
        expect(await store.getEvent(room.id, original.seq)).toEqual(redacted);
        expect(await store.getEvent(room.id, kept.seq)).toEqual(kept);
        const all = await allEvents(room.id);
        expect(seqsOf(all)).toEqual(range(1, 6));
        expect(all.slice(3)).toEqual([redacted, kept, deleted]);
        expect(await store.listEvents(room.id, { limit: 10, kinds: 'messages' })).toEqual([redacted, kept]);
        expect(await lastSeq(room.id)).toBe(6);

        // Already deleted, not a message, no such seq: null and nothing appended.
        expect(await store.deleteMessage(room.id, original.seq, owner.id)).toBeNull();
        expect(await store.deleteMessage(room.id, 1, owner.id)).toBeNull();
        expect(await store.deleteMessage(room.id, deleted?.seq ?? 6, owner.id)).toBeNull();
        expect(await store.deleteMessage(room.id, 99, owner.id)).toBeNull();
        expect(await store.deleteMessage('r_nowhere', 1, owner.id)).toBeNull();
        expect(await lastSeq(room.id)).toBe(6);
        expect(await store.getEvent(room.id, original.seq)).toEqual(redacted);

        // A retry of the deleted message does not resurrect it: the stored (redacted) one comes back.
        expect(await store.appendMessage(message(room.id, owner, 'c1', 'something rude'))).toEqual({
          event: redacted,
          duplicate: true,
        });
        expect(await lastSeq(room.id)).toBe(6);
      });

      it('concurrent deletions of one message: exactly one succeeds', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        const { event } = await store.appendMessage(message(room.id, owner));
        const results = await Promise.all(range(1, 5).map(() => store.deleteMessage(room.id, event.seq, owner.id)));
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        expect(await lastSeq(room.id)).toBe(4);
      });

      it('moderation events share the room sequence with messages, gap-free under concurrency', async () => {
        const owner = await createUser('owner');
        const users = await Promise.all(range(1, 6).map((i) => createUser(`m${i}`)));
        const { room } = await createRoom(owner, { members: users.map((user) => ({ user })) }); // 1..8
        const msgs = await Promise.all(range(1, 6).map(() => store.appendMessage(message(room.id, owner))));
        const [u1, u2, u3, u4] = users as [UserRecord, UserRecord, UserRecord, UserRecord];
        const results = await Promise.all([
          ...range(1, 20).map(() => store.appendMessage(message(room.id, owner)).then((r) => r.event)),
          store.muteMember(room.id, u1.id, FOREVER_MS, owner.id),
          store.muteMember(room.id, u2.id, FOREVER_MS, owner.id),
          store.banFromRoom(room.id, u3.id, { until: FOREVER_MS, reason: '' }, owner.id),
          store.removeMember(room.id, u4.id, owner.id, 'removed'),
          ...msgs.slice(0, 3).map((m) => store.deleteMessage(room.id, m.event.seq, owner.id)),
          store.updateRoom(room.id, { settings: { slowModeSeconds: 5 } }, owner.id).then((r) => r.event),
        ]);
        expect(results.every((r) => r !== null)).toBe(true);
        const n = 8 + 6 + results.length;
        const all = await allEvents(room.id);
        expect(seqsOf(all)).toEqual(range(1, n));
        expect(await lastSeq(room.id)).toBe(n);
        for (const e of results) expect(all[(e?.seq ?? 0) - 1]).toEqual(e);
        expect(all.filter((e) => e.type === 'message.deleted')).toHaveLength(3);
        expect(await store.getRoom(room.id)).toMatchObject({ memberCount: 5 });
      });
    });

    describe('message edits', () => {
      it('editMessage rewrites the body, appends message.edited on the sequence and records the edit', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event: original } = await store.appendMessage(message(room.id, owner, 'c1', 'helo')); // 3
        const { event: other } = await store.appendMessage(message(room.id, owner, 'c2', 'untouched')); // 4
        const first = await store.editMessage(room.id, original.seq, owner.id, 'hello');
        expect(first.event).toMatchObject({
          roomId: room.id,
          seq: 5,
          type: 'message.edited',
          senderId: owner.id,
          body: 'hello',
          clientMsgId: null,
          data: { seq: original.seq, messageId: original.id },
        });
        const editedAt = first.event?.data?.editedAt as string;
        expectIso(editedAt);
        expect(first.event?.createdAt).toBe(editedAt);
        const current = { ...original, body: 'hello', data: { editedAt } };
        expect(first.message).toEqual(current);
        expect(await store.getEvent(room.id, original.seq)).toEqual(current);
        expect(await store.getEvent(room.id, other.seq)).toEqual(other);

        const second = await store.editMessage(room.id, original.seq, owner.id, 'hello, world');
        expect(second.event).toMatchObject({ seq: 6, type: 'message.edited', body: 'hello, world' });
        const all = await allEvents(room.id);
        expect(seqsOf(all)).toEqual(range(1, 6));
        expect(all.slice(4)).toEqual([first.event, second.event]);
        expect(await store.listEvents(room.id, { limit: 10, kinds: 'messages' })).toEqual([second.message, other]);
        expect(await lastSeq(room.id)).toBe(6);

        const edits = await store.listMessageEdits(room.id, original.seq);
        expect(edits).toEqual([
          { editSeq: 5, editorId: owner.id, previousBody: 'helo', body: 'hello', editedAt },
          {
            editSeq: 6,
            editorId: owner.id,
            previousBody: 'hello',
            body: 'hello, world',
            editedAt: second.event?.data?.editedAt,
          },
        ]);
        expect(await store.listMessageEdits(room.id, other.seq)).toEqual([]);
        expect(await store.listMessageEdits(room.id, 99)).toEqual([]);

        // The retry of an edit that landed (same body): the message as it stands, nothing appended.
        expect(await store.editMessage(room.id, original.seq, owner.id, 'hello, world')).toEqual({
          message: second.message,
          event: null,
          mentioned: [],
        });
        expect(await lastSeq(room.id)).toBe(6);
        expect(await store.listMessageEdits(room.id, original.seq)).toHaveLength(2);
        // A retry of the original send still finds the message (as edited), not a new one.
        expect(await store.appendMessage(message(room.id, owner, 'c1', 'helo'))).toEqual({
          event: second.message,
          duplicate: true,
        });
      });

      it('editMessage refuses: not the author, no message, not a message, deleted, unknown room; nothing written', async () => {
        const owner = await createUser('owner');
        const mod = await createUser('mod');
        const { room } = await createRoom(owner, { members: [{ user: mod, role: 'moderator' }] }); // 1..3
        const { event } = await store.appendMessage(message(room.id, owner, 'c1', 'mine')); // 4
        await rejectsWith(() => store.editMessage(room.id, event.seq, mod.id, 'theirs'), 'forbidden');
        await rejectsWith(() => store.editMessage(room.id, 99, owner.id, 'x'), 'not_found');
        await rejectsWith(() => store.editMessage(room.id, 1, owner.id, 'x'), 'not_found');
        await rejectsWith(() => store.editMessage('r_nowhere', 1, owner.id, 'x'), 'room_not_found');
        expect(await lastSeq(room.id)).toBe(4);
        expect(await store.getEvent(room.id, event.seq)).toEqual(event);
        await store.deleteMessage(room.id, event.seq, mod.id); // 5
        await rejectsWith(() => store.editMessage(room.id, event.seq, owner.id, 'again'), 'message_deleted');
        expect(await lastSeq(room.id)).toBe(5);
        expect(await store.listMessageEdits(room.id, event.seq)).toEqual([]);
      });

      it('deleting an edited message removes its text everywhere: message, edit events, edit history', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event } = await store.appendMessage(message(room.id, owner, 'c1', 'secret v1')); // 3
        const e1 = await store.editMessage(room.id, event.seq, owner.id, 'secret v2'); // 4
        const e2 = await store.editMessage(room.id, event.seq, owner.id, 'secret v3'); // 5
        const deleted = await store.deleteMessage(room.id, event.seq, owner.id); // 6
        expect(deleted).toMatchObject({ seq: 6, type: 'message.deleted' });
        const all = await allEvents(room.id);
        expect(seqsOf(all)).toEqual(range(1, 6));
        expect(all[2]).toEqual({ ...event, body: '', data: { deleted: true, deletedBy: owner.id } });
        expect(all[3]).toEqual({ ...e1.event, body: '' });
        expect(all[4]).toEqual({ ...e2.event, body: '' });
        expect(JSON.stringify(all)).not.toContain('secret');
        expect(await store.listMessageEdits(room.id, event.seq)).toEqual([]);
      });

      it('concurrent edits and sends stay gap-free; each edit is one event; the last committed body wins', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event } = await store.appendMessage(message(room.id, owner, 'c0', 'v0')); // 3
        const results = await Promise.all([
          ...range(1, 8).map((i) => store.editMessage(room.id, event.seq, owner.id, `v${i}`)),
          ...range(1, 8).map(() => store.appendMessage(message(room.id, owner))),
        ]);
        expect(results.length).toBe(16);
        const all = await allEvents(room.id);
        expect(seqsOf(all)).toEqual(range(1, 3 + 16));
        const edits = all.filter((e) => e.type === 'message.edited');
        expect(edits).toHaveLength(8);
        const history = await store.listMessageEdits(room.id, event.seq);
        expect(history.map((h) => h.editSeq)).toEqual(edits.map((e) => e.seq));
        // The history chains: each edit starts from the body the previous one left.
        history.forEach((h, i) => expect(h.previousBody).toBe(i === 0 ? 'v0' : history[i - 1]?.body));
        expect((await store.getEvent(room.id, event.seq))?.body).toBe(edits.at(-1)?.body);
      });

      it('edits survive close and reopen', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        const { event } = await store.appendMessage(message(room.id, owner, 'c1', 'before'));
        const { message: edited } = await store.editMessage(room.id, event.seq, owner.id, 'after');
        const history = await store.listMessageEdits(room.id, event.seq);
        await store.close();
        store = await harness.reopen();
        expect(await store.getEvent(room.id, event.seq)).toEqual(edited);
        expect(await store.listMessageEdits(room.id, event.seq)).toEqual(history);
      });
    });

    describe('reactions', () => {
      it('addReaction appends reaction.added on the sequence; listReactions aggregates first-reacted first', async () => {
        const owner = await createUser('owner');
        const bob = await createUser('bob');
        const { room } = await createRoom(owner, { members: [{ user: bob, role: 'member' }] }); // 1..3
        const { event: m } = await store.appendMessage(message(room.id, owner, 'c1', 'react')); // 4
        const { event: other } = await store.appendMessage(message(room.id, owner, 'c2', 'other')); // 5
        const a = await store.addReaction(room.id, m.seq, bob.id, '🎉', 20); // 6
        expect(a).toMatchObject({
          roomId: room.id,
          seq: 6,
          type: 'reaction.added',
          senderId: bob.id,
          body: null,
          clientMsgId: null,
          data: { seq: m.seq, messageId: m.id, emoji: '🎉', userId: bob.id },
        });
        expectIso(a!.createdAt);
        await store.addReaction(room.id, m.seq, owner.id, '🔥', 20); // 7
        await store.addReaction(room.id, m.seq, owner.id, '🎉', 20); // 8
        await store.addReaction(room.id, other.seq, bob.id, '🔥', 20); // 9
        // The same reaction again: nothing written, null.
        expect(await store.addReaction(room.id, m.seq, bob.id, '🎉', 20)).toBeNull();
        expect(await lastSeq(room.id)).toBe(9);
        const all = await allEvents(room.id);
        expect(seqsOf(all)).toEqual(range(1, 9));
        expect(all[5]).toEqual(a);
        expect(await store.listReactions(room.id, m.seq, other.seq)).toEqual(
          new Map([
            [
              m.seq,
              [
                { emoji: '🎉', count: 2, userIds: [bob.id, owner.id] },
                { emoji: '🔥', count: 1, userIds: [owner.id] },
              ],
            ],
            [other.seq, [{ emoji: '🔥', count: 1, userIds: [bob.id] }]],
          ]),
        );
        // The range is inclusive at both ends and bounds what is read.
        expect([...(await store.listReactions(room.id, other.seq, other.seq)).keys()]).toEqual([other.seq]);
        expect([...(await store.listReactions(room.id, 1, m.seq)).keys()]).toEqual([m.seq]);
        expect((await store.listReactions(room.id, 1, 3)).size).toBe(0);
        // Messages themselves are unchanged: reactions live beside them.
        expect(await store.getEvent(room.id, m.seq)).toEqual(m);
      });

      it('removeReaction appends reaction.removed; null when there was none; the earliest reaction left places an emoji', async () => {
        const owner = await createUser('owner');
        const bob = await createUser('bob');
        const { room } = await createRoom(owner, { members: [{ user: bob, role: 'member' }] }); // 1..3
        const { event: m } = await store.appendMessage(message(room.id, owner, 'c1', 'react')); // 4
        await store.addReaction(room.id, m.seq, bob.id, '🎉', 20); // 5
        await store.addReaction(room.id, m.seq, owner.id, '🔥', 20); // 6
        await store.addReaction(room.id, m.seq, owner.id, '🎉', 20); // 7
        const r = await store.removeReaction(room.id, m.seq, bob.id, '🎉'); // 8
        expect(r).toMatchObject({
          seq: 8,
          type: 'reaction.removed',
          senderId: bob.id,
          data: { seq: m.seq, messageId: m.id, emoji: '🎉', userId: bob.id },
        });
        expect(await store.removeReaction(room.id, m.seq, bob.id, '🎉')).toBeNull();
        expect(await store.removeReaction(room.id, m.seq, bob.id, '🚀')).toBeNull();
        expect(await lastSeq(room.id)).toBe(8);
        expect((await store.listReactions(room.id, m.seq, m.seq)).get(m.seq)).toEqual([
          { emoji: '🔥', count: 1, userIds: [owner.id] },
          { emoji: '🎉', count: 1, userIds: [owner.id] },
        ]);
        // Re-adding puts the user last.
        await store.addReaction(room.id, m.seq, bob.id, '🎉', 20); // 9
        expect((await store.listReactions(room.id, m.seq, m.seq)).get(m.seq)?.[1]).toEqual({
          emoji: '🎉',
          count: 2,
          userIds: [owner.id, bob.id],
        });
      });

      it('the cap counts different emojis: a new one is refused (too_many_reactions), joining one is not', async () => {
        const owner = await createUser('owner');
        const bob = await createUser('bob');
        const { room } = await createRoom(owner, { members: [{ user: bob, role: 'member' }] }); // 1..3
        const { event: m } = await store.appendMessage(message(room.id, owner, 'c1', 'cap')); // 4
        await store.addReaction(room.id, m.seq, owner.id, '🎉', 2); // 5
        await store.addReaction(room.id, m.seq, owner.id, '🔥', 2); // 6
        await rejectsWith(() => store.addReaction(room.id, m.seq, bob.id, '🚀', 2), 'too_many_reactions');
        expect(await lastSeq(room.id)).toBe(6);
        expect(await store.addReaction(room.id, m.seq, bob.id, '🔥', 2)).toMatchObject({ seq: 7 });
        expect(await store.addReaction(room.id, m.seq, bob.id, '🚀', 3)).toMatchObject({ seq: 8 });
      });

      it('refusals: no message, not a message, deleted, unknown room; nothing written', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event: m } = await store.appendMessage(message(room.id, owner, 'c1', 'x')); // 3
        await rejectsWith(() => store.addReaction(room.id, 99, owner.id, '🎉', 20), 'not_found');
        await rejectsWith(() => store.addReaction(room.id, 1, owner.id, '🎉', 20), 'not_found');
        await rejectsWith(() => store.removeReaction(room.id, 1, owner.id, '🎉'), 'not_found');
        await rejectsWith(() => store.addReaction('r_nowhere', 1, owner.id, '🎉', 20), 'room_not_found');
        await rejectsWith(() => store.removeReaction('r_nowhere', 1, owner.id, '🎉'), 'room_not_found');
        expect(await lastSeq(room.id)).toBe(3);
        await store.addReaction(room.id, m.seq, owner.id, '🎉', 20); // 4
        await store.deleteMessage(room.id, m.seq, owner.id); // 5
        await rejectsWith(() => store.addReaction(room.id, m.seq, owner.id, '🔥', 20), 'message_deleted');
        await rejectsWith(() => store.removeReaction(room.id, m.seq, owner.id, '🎉'), 'message_deleted');
        expect(await lastSeq(room.id)).toBe(5);
        // The delete dropped the message's reactions; their event stays (an emoji, not the text).
        expect((await store.listReactions(room.id, 1, 10)).size).toBe(0);
        expect((await allEvents(room.id)).map((e) => e.type).slice(2)).toEqual([
          'message',
          'reaction.added',
          'message.deleted',
        ]);
      });

      it('concurrent reactions and sends stay gap-free; each change is one event; the rows match the events', async () => {
        const owner = await createUser('owner');
        const users = [owner, ...(await Promise.all(range(1, 5).map((i) => createUser(`u${i}`))))];
        const { room } = await createRoom(owner, {
          members: users.slice(1).map((user) => ({ user, role: 'member' as const })),
        });
        const { event: m } = await store.appendMessage(message(room.id, owner, 'c0', 'hot'));
        const before = await lastSeq(room.id);
        // Every user adds 🎉 twice (one lands) and 🔥 once, alongside sends.
        const results = await Promise.all([
          ...users.flatMap((u) => [
            store.addReaction(room.id, m.seq, u.id, '🎉', 20),
            store.addReaction(room.id, m.seq, u.id, '🎉', 20),
            store.addReaction(room.id, m.seq, u.id, '🔥', 20),
          ]),
          ...range(1, 6).map(() => store.appendMessage(message(room.id, owner))),
        ]);
        expect(results.filter((r) => r === null)).toHaveLength(users.length);
        const all = await allEvents(room.id);
        expect(seqsOf(all)).toEqual(range(1, before + users.length * 2 + 6));
        const added = all.filter((e) => e.type === 'reaction.added');
        expect(added).toHaveLength(users.length * 2);
        const got = (await store.listReactions(room.id, m.seq, m.seq)).get(m.seq)!;
        const byEvents = (emoji: string) => added.filter((e) => e.data?.emoji === emoji).map((e) => e.data?.userId);
        expect(got.find((r) => r.emoji === '🎉')?.userIds).toEqual(byEvents('🎉'));
        expect(got.find((r) => r.emoji === '🔥')?.userIds).toEqual(byEvents('🔥'));
      });

      it('reactions survive close and reopen', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        const { event } = await store.appendMessage(message(room.id, owner, 'c1', 'keep'));
        await store.addReaction(room.id, event.seq, owner.id, '🎉', 20);
        const before = await store.listReactions(room.id, event.seq, event.seq);
        await store.close();
        store = await harness.reopen();
        expect(await store.listReactions(room.id, event.seq, event.seq)).toEqual(before);
        expect(await store.addReaction(room.id, event.seq, owner.id, '🎉', 20)).toBeNull();
      });
    });
    describe('link previews', () => {
      it('setLinkPreview stores data.preview and appends message.preview; no-ops write nothing and take no seq', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event: a } = await store.appendMessage(message(room.id, owner, 'lp1', 'see https://x.example/')); // 3
        const { event: gone } = await store.appendMessage(message(room.id, owner, 'lp2', 'https://y.example/')); // 4
        const preview = { url: 'https://x.example/', title: '标题', description: null };
        await clockTick();
        const ev = await store.setLinkPreview(room.id, a.seq, preview);
        expect(ev).toMatchObject({
          roomId: room.id,
          seq: 5,
          type: 'message.preview',
          senderId: owner.id,
          body: null,
          clientMsgId: null,
          data: { seq: a.seq, messageId: a.id, preview },
        });
        expect((await store.getEvent(room.id, a.seq))?.data).toEqual({ preview });
        expect((await store.listEvents(room.id, { after: 4, limit: 10 })).map((e) => e.type)).toEqual([
          'message.preview',
        ]);
        expect((await store.listRoomsOf(owner.id)).find((r) => r.id === room.id)?.lastSeq).toBe(5);
        // A second preview, a deleted message, a non-message, an unknown seq or room: null, and no seq taken.
        expect(await store.setLinkPreview(room.id, a.seq, { ...preview, title: 'again' })).toBeNull();
        await store.deleteMessage(room.id, gone.seq, owner.id); // 6
        expect(await store.setLinkPreview(room.id, gone.seq, preview)).toBeNull();
        expect(await store.setLinkPreview(room.id, 1, preview)).toBeNull();
        expect(await store.setLinkPreview(room.id, 99, preview)).toBeNull();
        expect(await store.setLinkPreview('no-such-room', 1, preview)).toBeNull();
        expect(await lastSeq(room.id)).toBe(6);
        expect(seqsOf(await allEvents(room.id))).toEqual(range(1, 6));
        expect((await store.getEvent(room.id, a.seq))?.data).toEqual({ preview });
        // Deleting the message drops its preview with the rest of its data.
        await store.deleteMessage(room.id, a.seq, owner.id);
        expect((await store.getEvent(room.id, a.seq))?.data?.preview).toBeUndefined();
      });

      it('the linkPreviews room setting defaults on and round-trips through updateRoom', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        expect(room.settings.linkPreviews).toBe(true);
        const { room: off, event } = await store.updateRoom(room.id, { settings: { linkPreviews: false } }, owner.id);
        expect(off.settings).toMatchObject({ linkPreviews: false, readOnly: false });
        expect(event.data).toEqual({ linkPreviews: false });
        expect((await store.getRoom(room.id))?.settings.linkPreviews).toBe(false);
        const { room: on } = await store.updateRoom(room.id, { settings: { readOnly: true } }, owner.id);
        expect(on.settings).toMatchObject({ linkPreviews: false, readOnly: true });
        expect(
          (await store.updateRoom(room.id, { settings: { linkPreviews: true } }, owner.id)).room.settings.linkPreviews,
        ).toBe(true);
      });
    });
    describe('pinned messages', () => {
      it('pinMessage appends message.pinned and lists it; repeats and unpins of nothing write nothing', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event: a } = await store.appendMessage(message(room.id, owner, 'p1', 'first')); // 3
        const { event: b } = await store.appendMessage(message(room.id, owner, 'p2', 'second')); // 4
        const first = await store.pinMessage(room.id, a.seq, owner.id, 10);
        expect(first.event).toMatchObject({
          roomId: room.id,
          seq: 5,
          type: 'message.pinned',
          senderId: owner.id,
          body: null,
          data: { seq: a.seq, messageId: a.id },
        });
        expect(await store.pinMessage(room.id, a.seq, owner.id, 10)).toEqual({ event: null });
        expect(await lastSeq(room.id)).toBe(5);
        await clockTick();
        await store.pinMessage(room.id, b.seq, owner.id, 10); // 6
        const pins = await store.listPins(room.id);
        expect(pins.map((p) => [p.seq, p.pinnedBy, p.message.body])).toEqual([
          [b.seq, owner.id, 'second'],
          [a.seq, owner.id, 'first'],
        ]);
        expectIso(pins[0]!.pinnedAt);
        expect(pins[1]!.message).toEqual(a);

        const un = await store.unpinMessage(room.id, a.seq, owner.id);
        expect(un.event).toMatchObject({ seq: 7, type: 'message.unpinned', data: { seq: a.seq, messageId: a.id } });
        expect(await store.unpinMessage(room.id, a.seq, owner.id)).toEqual({ event: null });
        expect(await lastSeq(room.id)).toBe(7);
        expect((await store.listPins(room.id)).map((p) => p.seq)).toEqual([b.seq]);
        expect(seqsOf(await allEvents(room.id))).toEqual(range(1, 7));
      });

      it('pinMessage refuses: no message, not a message, deleted, unknown room, over the cap; nothing written', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event: a } = await store.appendMessage(message(room.id, owner, 'p1')); // 3
        const { event: b } = await store.appendMessage(message(room.id, owner, 'p2')); // 4
        await rejectsWith(() => store.pinMessage(room.id, 99, owner.id, 10), 'not_found');
        await rejectsWith(() => store.pinMessage(room.id, 1, owner.id, 10), 'not_found');
        await rejectsWith(() => store.pinMessage('r_nowhere', 1, owner.id, 10), 'room_not_found');
        await rejectsWith(() => store.unpinMessage('r_nowhere', 1, owner.id), 'room_not_found');
        await store.pinMessage(room.id, a.seq, owner.id, 1); // 5
        await rejectsWith(() => store.pinMessage(room.id, b.seq, owner.id, 1), 'too_many_pins');
        // At the cap, the message already pinned is still a no-op, not a refusal.
        expect(await store.pinMessage(room.id, a.seq, owner.id, 1)).toEqual({ event: null });
        expect(await lastSeq(room.id)).toBe(5);
        // Deleting a pinned message unpins it (its message.deleted says so).
        await store.deleteMessage(room.id, a.seq, owner.id); // 6
        expect(await store.listPins(room.id)).toEqual([]);
        await rejectsWith(() => store.pinMessage(room.id, a.seq, owner.id, 1), 'message_deleted');
        expect(await lastSeq(room.id)).toBe(6);
      });
    });

    describe('blocks', () => {
      it('blockUser records a block once, lists it newest first with the profile, and unblockUser lifts it', async () => {
        const alice = await createUser('alice');
        const bob = await createUser('bob', { displayName: 'Bob B' });
        const carol = await createUser('carol');
        const first = await store.blockUser(alice.id, bob.id, 10);
        expect(first.created).toBe(true);
        expect(first.block.user).toMatchObject({ id: bob.id, username: 'bob', displayName: 'Bob B' });
        expectIso(first.block.since);
        // A repeat writes nothing and keeps the original time.
        await clockTick();
        expect(await store.blockUser(alice.id, bob.id, 10)).toEqual({ block: first.block, created: false });
        await clockTick();
        await store.blockUser(alice.id, carol.id, 10);
        const list = await store.listBlocks(alice.id);
        expect(list.map((b) => b.user.username)).toEqual(['carol', 'bob']);
        expect(list[1]).toEqual(first.block);
        // Private and one-way: bob has blocked nobody.
        expect(await store.listBlocks(bob.id)).toEqual([]);
        expect(await store.hasBlocked(alice.id, bob.id)).toBe(true);
        expect(await store.hasBlocked(bob.id, alice.id)).toBe(false);

        expect(await store.unblockUser(alice.id, bob.id)).toBe(true);
        expect(await store.unblockUser(alice.id, bob.id)).toBe(false);
        expect(await store.hasBlocked(alice.id, bob.id)).toBe(false);
        expect((await store.listBlocks(alice.id)).map((b) => b.user.username)).toEqual(['carol']);
      });

      it('blockUser refuses an unknown user and a block over the cap; nothing written', async () => {
        const alice = await createUser('alice');
        const bob = await createUser('bob');
        const carol = await createUser('carol');
        await rejectsWith(() => store.blockUser(alice.id, 'u_nobody', 10), 'user_not_found');
        await store.blockUser(alice.id, bob.id, 1);
        await rejectsWith(() => store.blockUser(alice.id, carol.id, 1), 'too_many_blocks');
        // At the cap, the block that exists is still a no-op, not a refusal.
        expect((await store.blockUser(alice.id, bob.id, 1)).created).toBe(false);
        expect((await store.listBlocks(alice.id)).map((b) => b.user.id)).toEqual([bob.id]);
        expect(await store.hasBlocked(alice.id, carol.id)).toBe(false);
      });

      it('blockBetween and blockWithMember see a block in either direction, and only with the people named', async () => {
        const alice = await createUser('alice');
        const bob = await createUser('bob');
        const carol = await createUser('carol');
        const dave = await createUser('dave');
        const { room: dm } = await createDm([alice, bob]);
        const { room: group } = await createDm([carol, dave]);
        expect(await store.blockBetween(alice.id, [bob.id, carol.id])).toBe(false);
        expect(await store.blockWithMember(dm.id, alice.id)).toBe(false);
        await store.blockUser(bob.id, alice.id, 10);
        // Bob blocked alice: both directions count, for both of them.
        expect(await store.blockBetween(alice.id, [carol.id, bob.id])).toBe(true);
        expect(await store.blockBetween(bob.id, [alice.id])).toBe(true);
        expect(await store.blockBetween(alice.id, [carol.id, dave.id])).toBe(false);
        expect(await store.blockBetween(alice.id, [])).toBe(false);
        expect(await store.blockWithMember(dm.id, alice.id)).toBe(true);
        expect(await store.blockWithMember(dm.id, bob.id)).toBe(true);
        // Not in a room where neither blocker nor blocked is with the other.
        expect(await store.blockWithMember(group.id, carol.id)).toBe(false);
        expect(await store.blockWithMember(group.id, alice.id)).toBe(false);
        await store.unblockUser(bob.id, alice.id);
        expect(await store.blockWithMember(dm.id, alice.id)).toBe(false);
        expect(await store.blockBetween(bob.id, [alice.id])).toBe(false);
      });
    });

    describe('message search', () => {
      /** The bodies found by a search for `q` as `user` (newest first unless sorted otherwise). */
      const found = async (
        user: UserRecord,
        q: string,
        opts: Partial<Omit<MessageSearch, 'userId' | 'parts'>> = {},
      ): Promise<string[]> =>
        (
          await store.searchMessages({ userId: user.id, parts: parseQuery(q, 8), sort: 'newest', limit: 50, ...opts })
        ).map((h) => h.message.body ?? '');
      const say = async (roomId: string, sender: UserRecord, body: string, data?: Record<string, unknown>) =>
        (await store.appendMessage({ ...message(roomId, sender, undefined, body), ...(data ? { data } : {}) })).event;

      it('finds Chinese by one, two and more characters, Japanese, mixed script and Latin prefixes', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        await say(room.id, owner, '我们明天部署数据库');
        await say(room.id, owner, '今日は東京で会議があります');
        await say(room.id, owner, '新版本的API文档已经deploy到staging了');
        await say(room.id, owner, 'The deployment finished without errors');
        await say(room.id, owner, 'unrelated chatter');
        expect(await found(owner, '库')).toEqual(['我们明天部署数据库']);
        expect(await found(owner, '数据')).toEqual(['我们明天部署数据库']);
        expect(await found(owner, '部署数据库')).toEqual(['我们明天部署数据库']);
        // A phrase: the characters adjacent and in order, not merely all present.
        expect(await found(owner, '据数')).toEqual([]);
        expect(await found(owner, '东京')).toEqual([]); // simplified 东 is not the Japanese 東
        expect(await found(owner, '東京')).toEqual(['今日は東京で会議があります']);
        expect(await found(owner, '会議')).toEqual(['今日は東京で会議があります']);
        expect(await found(owner, 'は')).toEqual(['今日は東京で会議があります']);
        expect(await found(owner, '文档 deploy')).toEqual(['新版本的API文档已经deploy到staging了']);
        expect(await found(owner, 'api文档')).toEqual(['新版本的API文档已经deploy到staging了']);
        expect(await found(owner, 'STAG')).toEqual(['新版本的API文档已经deploy到staging了']);
        expect(await found(owner, 'deploy')).toEqual([
          'The deployment finished without errors',
          '新版本的API文档已经deploy到staging了',
        ]);
        expect(await found(owner, 'deploy errors')).toEqual(['The deployment finished without errors']);
        expect(await found(owner, 'ployment')).toEqual([]); // prefixes only, not infixes
      });

      it('an edit re-indexes and a delete drops the message, in their own transactions', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        const m = await say(room.id, owner, 'the old wording 旧的');
        const other = await say(room.id, owner, 'kept wording');
        expect(await found(owner, '旧')).toEqual(['the old wording 旧的']);
        await store.editMessage(room.id, m.seq, owner.id, 'the new wording 新的');
        expect(await found(owner, 'old')).toEqual([]);
        expect(await found(owner, '旧')).toEqual([]);
        expect(await found(owner, '新的')).toEqual(['the new wording 新的']);
        // Its place in newest-first order is where it was sent.
        expect(await found(owner, 'wording')).toEqual(['kept wording', 'the new wording 新的']);
        await store.deleteMessage(room.id, m.seq, owner.id);
        expect(await found(owner, 'new')).toEqual([]);
        expect(await found(owner, 'wording')).toEqual(['kept wording']);
        expect(other.seq).toBeGreaterThan(m.seq);
      });

      it('covers rooms the user is a member of and public rooms: never a private room or DM of others', async () => {
        const owner = await createUser('owner');
        const member = await createUser('member');
        const outsider = await createUser('outsider');
        const { room: pub } = await createRoom(owner);
        const { room: priv } = await createRoom(owner, { kind: 'private', members: [{ user: member }] });
        const { room: dm } = await createDm([owner, member]);
        await say(pub.id, owner, 'secret in public');
        await say(priv.id, owner, 'secret in private');
        await say(dm.id, owner, 'secret in dm');
        expect((await found(member, 'secret')).sort()).toEqual(
          ['secret in dm', 'secret in private', 'secret in public'].sort(),
        );
        expect(await found(outsider, 'secret')).toEqual(['secret in public']);
        expect(await found(outsider, 'secret', { roomId: priv.id })).toEqual([]);
        // Leaving a private room leaves its search.
        await store.removeMember(priv.id, member.id, member.id, 'left');
        expect((await found(member, 'secret')).sort()).toEqual(['secret in dm', 'secret in public']);
        // A public room refuses its banned users, until the ban ends.
        await store.banFromRoom(pub.id, outsider.id, { until: Date.now() + 60_000, reason: '' }, owner.id);
        expect(await found(outsider, 'secret')).toEqual([]);
        await store.banFromRoom(pub.id, outsider.id, { until: Date.now() - 1, reason: '' }, owner.id);
        expect(await found(outsider, 'secret')).toEqual(['secret in public']);
      });

      it('filters by room, author, dates, links and threads; pages newest first and by relevance', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const { room: a } = await createRoom(owner, { members: [{ user: friend }] });
        const { room: b } = await createRoom(owner);
        const root = await say(a.id, owner, 'note one');
        await clockTick();
        const mid = Date.now();
        await clockTick();
        await say(a.id, friend, 'note two https://example.com/x');
        await say(b.id, owner, 'note three');
        await say(a.id, friend, 'note four', { replyTo: root.seq, threadRoot: root.seq, threadOnly: true });
        await say(a.id, owner, 'note note note five');
        expect(await found(owner, 'note', { roomId: b.id })).toEqual(['note three']);
        expect(await found(owner, 'note', { senderId: friend.id })).toEqual([
          'note four',
          'note two https://example.com/x',
        ]);
        expect(await found(owner, 'note', { before: mid })).toEqual(['note one']);
        expect((await found(owner, 'note', { after: mid })).length).toBe(4);
        expect(await found(owner, 'note', { has: 'link' })).toEqual(['note two https://example.com/x']);
        expect(await found(owner, 'note', { has: 'file' })).toEqual([]);
        expect(await found(owner, 'note', { inThread: true })).toEqual(['note four']);
        expect((await found(owner, 'note', { inThread: false })).length).toBe(4);
        // Paging newest first: the cursor is the last hit's position.
        const all = await found(owner, 'note');
        expect(all).toHaveLength(5);
        const pages: string[] = [];
        let cursor: number | undefined;
        for (let i = 0; i < 10; i++) {
          const hits = await store.searchMessages({
            userId: owner.id,
            parts: parseQuery('note', 8),
            sort: 'newest',
            limit: 2,
            ...(cursor !== undefined ? { cursor } : {}),
          });
          if (hits.length === 0) break;
          pages.push(...hits.map((h) => h.message.body ?? ''));
          cursor = hits.at(-1)!.position;
        }
        expect(pages).toEqual(all);
        // Relevance: the message saying it four times first; the cursor skips.
        const ranked = await found(owner, 'note', { sort: 'relevance' });
        expect(ranked[0]).toBe('note note note five');
        expect(ranked.slice().sort()).toEqual(all.slice().sort());
        expect(await found(owner, 'note', { sort: 'relevance', cursor: 1, limit: 2 })).toEqual(ranked.slice(1, 3));
      });

      it('the index survives a reopen', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        await say(room.id, owner, '持久的消息 durable');
        await store.close();
        store = await harness.reopen();
        expect(await found(owner, '消息')).toEqual(['持久的消息 durable']);
      });
    });

    describe('mentions', () => {
      const roomOf = async (userId: string, roomId: string) =>
        (await store.listRoomsOf(userId)).find((r) => r.id === roomId)!;
      const mention = (roomId: string, sender: UserRecord, targets: UserRecord[], body = 'hey'): NewMessage => ({
        ...message(roomId, sender, undefined, body),
        data: { mentions: targets.map((t) => t.id) },
        mentionTargets: targets.map((t) => t.id),
      });

      it('findMemberIds: members by username in any case, others left out', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        await createUser('stranger');
        const { room } = await createRoom(owner, { members: [{ user: friend }] });
        expect((await store.findMemberIds(room.id, ['FRIEND', 'owner', 'stranger', 'nobody'])).sort()).toEqual(
          [owner.id, friend.id].sort(),
        );
        expect(await store.findMemberIds(room.id, [])).toEqual([]);
        expect(await store.findMemberIds('r_nowhere', ['owner'])).toEqual([]);
      });

      it('appendMessage stores mention rows with the message: unreadMentions past the marker, the inbox newest first', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const other = await createUser('other');
        const { room } = await createRoom(owner, { members: [{ user: friend }, { user: other }] }); // 1..4
        // A batch: mentions and plain messages mixed, committed together.
        const [a, , c] = await Promise.all([
          store.appendMessage(mention(room.id, owner, [friend], 'a')),
          store.appendMessage(message(room.id, owner, undefined, 'plain')),
          store.appendMessage(mention(room.id, other, [friend, owner], 'c')),
        ]);
        expect(a.event.data).toEqual({ mentions: [friend.id] });
        expect(await roomOf(friend.id, room.id)).toMatchObject({ unread: 3, unreadMentions: 2 });
        expect(await roomOf(owner.id, room.id)).toMatchObject({ unreadMentions: 1 });
        expect(await roomOf(other.id, room.id)).toMatchObject({ unreadMentions: 0 });
        const inbox = await store.listMentions(friend.id, { limit: 10 });
        expect(inbox.map((i) => i.message.seq)).toEqual([c.event.seq, a.event.seq]);
        expect(inbox[1]).toEqual({
          id: inbox[1]!.id,
          roomId: room.id,
          roomName: room.name,
          roomKind: 'public',
          message: a.event,
        });
        expect(inbox[0]!.id).toBeGreaterThan(inbox[1]!.id);
        expect(
          (await store.listMentions(friend.id, { limit: 1, before: inbox[0]!.id })).map((i) => i.message.seq),
        ).toEqual([a.event.seq]);
        expect(await store.listMentions(friend.id, { limit: 10, before: inbox[1]!.id })).toEqual([]);
        // A duplicate writes no second row.
        const again = await store.appendMessage({
          ...mention(room.id, owner, [friend], 'a'),
          clientMsgId: a.event.clientMsgId!,
        });
        expect(again.duplicate).toBe(true);
        expect(await store.listMentions(friend.id, { limit: 10 })).toHaveLength(2);
        // Reading lowers the count.
        await store.markRead(room.id, friend.id, a.event.seq, false);
        expect(await roomOf(friend.id, room.id)).toMatchObject({ unreadMentions: 1 });
        await store.markRead(room.id, friend.id, c.event.seq, false);
        expect(await roomOf(friend.id, room.id)).toMatchObject({ unread: 0, unreadMentions: 0 });
        // Leaving the room takes its mentions out of the inbox.
        await store.removeMember(room.id, friend.id, friend.id, 'left');
        expect(await store.listMentions(friend.id, { limit: 10 })).toEqual([]);
      });

      it('deleteMessage drops the rows; editMessage with mentions replaces them and reports the new ones', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const other = await createUser('other');
        const { room } = await createRoom(owner, { members: [{ user: friend }, { user: other }] }); // 1..4
        const { event: a } = await store.appendMessage(mention(room.id, owner, [friend], '@friend'));
        const { event: b } = await store.appendMessage(mention(room.id, owner, [friend], '@friend again'));
        await store.deleteMessage(room.id, b.seq, owner.id);
        expect((await store.listMentions(friend.id, { limit: 10 })).map((i) => i.message.seq)).toEqual([a.seq]);
        expect(await roomOf(friend.id, room.id)).toMatchObject({ unreadMentions: 1 });

        const edited = await store.editMessage(room.id, a.seq, owner.id, '@other', {
          data: { mentions: [other.id] },
          targets: [other.id],
          keepExisting: false,
        });
        expect(edited.mentioned).toEqual([other.id]);
        expect(edited.event?.data).toMatchObject({ seq: a.seq, mentions: [other.id] });
        expect(edited.message.data).toMatchObject({ mentions: [other.id] });
        expect((await store.getEvent(room.id, a.seq))?.data).toMatchObject({ mentions: [other.id] });
        expect(await store.listMentions(friend.id, { limit: 10 })).toEqual([]);
        expect((await store.listMentions(other.id, { limit: 10 })).map((i) => i.message.body)).toEqual(['@other']);
        // keepExisting keeps the old rows; only the new user is reported.
        const kept = await store.editMessage(room.id, a.seq, owner.id, '@other @friend', {
          data: { mentions: [friend.id] },
          targets: [friend.id],
          keepExisting: true,
        });
        expect(kept.mentioned).toEqual([friend.id]);
        expect(await store.listMentions(other.id, { limit: 10 })).toHaveLength(1);
        // No mentions: the fields go, and so do the rows.
        const none = await store.editMessage(room.id, a.seq, owner.id, 'plain', {
          data: {},
          targets: [],
          keepExisting: false,
        });
        expect(none.mentioned).toEqual([]);
        expect(none.message.data?.mentions).toBeUndefined();
        expect((await store.getEvent(room.id, a.seq))?.data?.mentions).toBeUndefined();
        expect(await store.listMentions(other.id, { limit: 10 })).toEqual([]);
        expect(await store.listMentions(friend.id, { limit: 10 })).toEqual([]);
        // An edit without a mention update leaves none behind and reports none.
        expect((await store.editMessage(room.id, a.seq, owner.id, 'plain 2')).mentioned).toEqual([]);
      });

      it('updateRoom sets mentionAllRole; rooms start with moderator', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        expect(room.settings.mentionAllRole).toBe('moderator');
        const { room: updated, event } = await store.updateRoom(
          room.id,
          { settings: { mentionAllRole: 'member' } },
          owner.id,
        );
        expect(updated.settings).toMatchObject({ mentionAllRole: 'member', readOnly: false });
        expect(event.data).toEqual({ mentionAllRole: 'member' });
        expect((await store.getRoom(room.id))?.settings.mentionAllRole).toBe('member');
      });
    });

    describe('read markers and receipts', () => {
      const roomOf = async (userId: string, roomId: string) =>
        (await store.listRoomsOf(userId)).find((r) => r.id === roomId);

      it("markRead moves the marker forward to a message, never back; unread counts others' live messages", async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const { room } = await createRoom(owner, { members: [{ user: friend }] }); // 1..3
        // A new membership starts read up to its join.
        expect(await roomOf(friend.id, room.id)).toMatchObject({ joinedSeq: 3, readSeq: 3, unread: 0 });
        await store.appendMessage(message(room.id, owner, 'o1')); // 4
        await store.appendMessage(message(room.id, owner, 'o2')); // 5
        await store.appendMessage(message(room.id, friend, 'f1')); // 6
        // Your own messages are never unread.
        expect(await roomOf(friend.id, room.id)).toMatchObject({ readSeq: 3, unread: 2 });
        expect(await roomOf(owner.id, room.id)).toMatchObject({ readSeq: 2, unread: 1 });

        expect(await store.markRead(room.id, friend.id, 4, false)).toEqual({ readSeq: 4, moved: true, event: null });
        expect(await roomOf(friend.id, room.id)).toMatchObject({ readSeq: 4, unread: 1 });
        // A repeat, or a seq behind the marker: no move.
        expect(await store.markRead(room.id, friend.id, 4, false)).toEqual({ readSeq: 4, moved: false, event: null });
        expect(await store.markRead(room.id, friend.id, 2, false)).toEqual({ readSeq: 4, moved: false, event: null });
        // Past the room's end: up to its last message.
        expect(await store.markRead(room.id, friend.id, 99, false)).toEqual({ readSeq: 6, moved: true, event: null });
        expect(await roomOf(friend.id, room.id)).toMatchObject({ readSeq: 6, unread: 0 });
        // Without announcing, nothing is appended.
        expect(await lastSeq(room.id)).toBe(6);

        // A deleted message is not unread.
        const { event: gone } = await store.appendMessage(message(room.id, owner, 'o3')); // 7
        expect(await roomOf(friend.id, room.id)).toMatchObject({ unread: 1 });
        await store.deleteMessage(room.id, gone.seq, owner.id); // 8
        expect(await roomOf(friend.id, room.id)).toMatchObject({ unread: 0 });
        // A thread-only reply is news of its thread, not of the room: not unread here.
        await store.appendMessage({
          ...message(room.id, owner, 'o4', 'in the thread'),
          data: { replyTo: 4, threadRoot: 4, threadOnly: true, quote: { senderId: owner.id, body: 'x' } },
        }); // 9
        expect(await roomOf(friend.id, room.id)).toMatchObject({ unread: 0 });
        // A non-message event after the marker does not move it: the marker names a message.
        expect(await store.markRead(room.id, friend.id, 8, false)).toEqual({ readSeq: 7, moved: true, event: null });
        expect(await store.markRead(room.id, friend.id, 8, false)).toMatchObject({ readSeq: 7, moved: false });
      });

      it('an announced move appends member.read without lifting the room; a repeat consumes no seq', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const { room } = await createRoom(owner, { members: [{ user: friend }] }); // 1..3
        await clockTick();
        const later = (await createRoom(owner, { name: 'later' })).room; // more recent activity
        await store.appendMessage(message(room.id, owner, 'o1')); // 4 (lifts room)
        await clockTick();
        await store.appendMessage(message(later.id, owner, 'o2')); // later lifted again
        const order = (await store.listRoomsOf(owner.id)).map((r) => r.id);
        expect(order).toEqual([later.id, room.id]);

        await clockTick();
        const first = await store.markRead(room.id, friend.id, 4, true);
        expect(first).toMatchObject({ readSeq: 4, moved: true });
        expect(first.event).toMatchObject({
          roomId: room.id,
          seq: 5,
          type: 'member.read',
          senderId: friend.id,
          body: null,
          clientMsgId: null,
          data: { userId: friend.id, readSeq: 4 },
        });
        expect((await allEvents(room.id)).at(-1)).toEqual(first.event);
        // Receipts are not activity: the order of the list is unchanged.
        expect((await store.listRoomsOf(owner.id)).map((r) => r.id)).toEqual(order);
        // A repeat writes nothing and leaves no gap.
        expect(await store.markRead(room.id, friend.id, 5, true)).toEqual({ readSeq: 4, moved: false, event: null });
        expect(await lastSeq(room.id)).toBe(5);
        // The owner marks the receipt's seq: the marker goes to the message before it (4), once...
        const second = await store.markRead(room.id, owner.id, 5, true);
        expect(second.event).toMatchObject({ seq: 6, data: { userId: owner.id, readSeq: 4 } });
        // ...and the friend, marking that receipt in turn, does not move: no endless trade of receipts.
        expect(await store.markRead(room.id, friend.id, 6, true)).toEqual({ readSeq: 4, moved: false, event: null });
        expect(seqsOf(await allEvents(room.id))).toEqual(range(1, 6));
        // Receipts are not unread messages.
        expect(await roomOf(friend.id, room.id)).toMatchObject({ readSeq: 4, unread: 0 });
      });

      it('markRead refuses non-members and unknown rooms; nothing written', async () => {
        const owner = await createUser('owner');
        const stranger = await createUser('stranger');
        const { room } = await createRoom(owner); // 1..2
        await rejectsWith(() => store.markRead(room.id, stranger.id, 2, false), 'not_member');
        await rejectsWith(() => store.markRead(room.id, stranger.id, 2, true), 'not_member');
        await rejectsWith(() => store.markRead('r_nowhere', owner.id, 1, true), 'room_not_found');
        await rejectsWith(() => store.markRead('r_nowhere', owner.id, 1, false), 'not_member');
        expect(await lastSeq(room.id)).toBe(2);
      });

      it('a new membership starts read up to its join, whatever the old one read', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const { room } = await createRoom(owner, { members: [{ user: friend }] }); // 1..3
        await store.appendMessage(message(room.id, owner, 'o1')); // 4
        await store.removeMember(room.id, friend.id, friend.id, 'left'); // 5
        await store.appendMessage(message(room.id, owner, 'o2')); // 6
        await store.addMember(room.id, friend.id, 'member', friend.id); // 7
        expect(await roomOf(friend.id, room.id)).toMatchObject({ joinedSeq: 7, readSeq: 7, unread: 0 });
        await store.appendMessage(message(room.id, owner, 'o3')); // 8
        expect(await roomOf(friend.id, room.id)).toMatchObject({ readSeq: 7, unread: 1 });
      });

      it('unread stops counting at UNREAD_COUNT_MAX', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const { room } = await createRoom(owner, { members: [{ user: friend }] });
        const n = UNREAD_COUNT_MAX + 5;
        for (let i = 0; i < n; i += 100) {
          await Promise.all(
            range(i + 1, Math.min(i + 100, n)).map((k) => store.appendMessage(message(room.id, owner, `m${k}`))),
          );
        }
        expect(await roomOf(friend.id, room.id)).toMatchObject({ unread: UNREAD_COUNT_MAX });
        expect(await roomOf(owner.id, room.id)).toMatchObject({ unread: 0 });
      });

      it('listReadReceipts: markers of members who share them; updateUserSettings switches', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const shy = await createUser('shy');
        expect(owner.readReceipts).toBe(true);
        const { room } = await createRoom(owner, { members: [{ user: friend }, { user: shy }] }); // 1..4
        await store.appendMessage(message(room.id, owner, 'o1')); // 5
        await store.markRead(room.id, friend.id, 5, false);
        const off = await store.updateUserSettings(shy.id, { readReceipts: false });
        expect(off).toMatchObject({ id: shy.id, readReceipts: false });
        expect((await store.getUser(shy.id))?.readReceipts).toBe(false);
        const expected = [
          { userId: owner.id, readSeq: 2 },
          { userId: friend.id, readSeq: 5 },
        ].sort((a, b) => (a.userId < b.userId ? -1 : 1));
        expect(await store.listReadReceipts(room.id)).toEqual(expected);
        await store.updateUserSettings(shy.id, { readReceipts: true });
        expect((await store.listReadReceipts(room.id)).map((r) => r.userId)).toContain(shy.id);
        // Private: a setting, not part of the public user.
        expect(Object.keys((await store.getUsers([shy.id]))[0] ?? {})).not.toContain('readReceipts');
        await rejectsWith(() => store.updateUserSettings('u_nobody', { readReceipts: false }), 'user_not_found');
      });
    });

    describe('notification levels and do not disturb', () => {
      const levelOf = async (userId: string, roomId: string) =>
        (await store.listRoomsOf(userId)).find((r) => r.id === roomId)?.notify;

      it("setNotifyLevel: 'all' by default, per member and room, reported changed only when it changes", async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const { room } = await createRoom(owner, { members: [{ user: friend }] });
        const { room: other } = await createRoom(owner, { name: 'other', members: [{ user: friend }] });
        expect(await levelOf(friend.id, room.id)).toBe('all');
        expect(await store.setNotifyLevel(room.id, friend.id, 'mentions')).toEqual({ changed: true });
        expect(await levelOf(friend.id, room.id)).toBe('mentions');
        // Another member of the room and another room of the member are untouched.
        expect(await levelOf(owner.id, room.id)).toBe('all');
        expect(await levelOf(friend.id, other.id)).toBe('all');
        expect(await store.setNotifyLevel(room.id, friend.id, 'mentions')).toEqual({ changed: false });
        expect(await store.setNotifyLevel(room.id, friend.id, 'none')).toEqual({ changed: true });
        expect(await levelOf(friend.id, room.id)).toBe('none');
        expect(await store.setNotifyLevel(room.id, friend.id, 'all')).toEqual({ changed: true });
        expect(await levelOf(friend.id, room.id)).toBe('all');
      });

      it('setNotifyLevel refuses non-members and unknown rooms', async () => {
        const owner = await createUser('owner');
        const stranger = await createUser('stranger');
        const { room } = await createRoom(owner);
        await rejectsWith(() => store.setNotifyLevel(room.id, stranger.id, 'none'), 'not_member');
        await rejectsWith(() => store.setNotifyLevel('r_nowhere', owner.id, 'none'), 'not_member');
      });

      it('a new membership starts at all again (the level belongs to the membership)', async () => {
        const owner = await createUser('owner');
        const friend = await createUser('friend');
        const { room } = await createRoom(owner, { members: [{ user: friend }] });
        await store.setNotifyLevel(room.id, friend.id, 'none');
        await store.removeMember(room.id, friend.id, friend.id, 'left');
        await store.addMember(room.id, friend.id, 'member', friend.id);
        expect(await levelOf(friend.id, room.id)).toBe('all');
      });

      it('updateUserSettings: dndUntil set, kept when another setting changes, cleared with null', async () => {
        const user = await createUser('dnd');
        expect(user.dndUntil).toBeNull();
        const until = Date.now() + 3_600_000;
        expect(await store.updateUserSettings(user.id, { dndUntil: until })).toMatchObject({
          dndUntil: until,
          readReceipts: true,
        });
        expect((await store.getUser(user.id))?.dndUntil).toBe(until);
        // Changing read receipts alone leaves do-not-disturb as it was, and the other way round.
        expect(await store.updateUserSettings(user.id, { readReceipts: false })).toMatchObject({
          dndUntil: until,
          readReceipts: false,
        });
        expect(await store.updateUserSettings(user.id, { dndUntil: FOREVER_MS })).toMatchObject({
          dndUntil: FOREVER_MS,
          readReceipts: false,
        });
        expect(await store.updateUserSettings(user.id, { dndUntil: null })).toMatchObject({
          dndUntil: null,
          readReceipts: false,
        });
        expect((await store.getUser(user.id))?.dndUntil).toBeNull();
        // Private: not part of the public user.
        expect(Object.keys((await store.getUsers([user.id]))[0] ?? {})).not.toContain('dndUntil');
        await rejectsWith(() => store.updateUserSettings('u_nobody', { dndUntil: null }), 'user_not_found');
      });
    });

    describe('replies and threads', () => {
      /** A reply as the send path builds it (src/core/send/standard-steps.ts, replyData). */
      const reply = (roomId: string, sender: UserRecord, target: RoomEvent, threadOnly = false, body?: string) => ({
        ...message(roomId, sender, undefined, body),
        data: { ...replyData(target, threadOnly) },
      });

      it("appendMessage stores a reply's data; listThread pages a thread; threadSummaries counts replies", async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event: root } = await store.appendMessage(message(room.id, owner, 'c1', 'root')); // 3
        const { event: plain } = await store.appendMessage(message(room.id, owner, 'c2', 'plain')); // 4
        const { event: r1 } = await store.appendMessage(reply(room.id, owner, root)); // 5
        const { event: r2 } = await store.appendMessage(reply(room.id, owner, r1, true)); // 6
        const { event: other } = await store.appendMessage(reply(room.id, owner, plain)); // 7
        expect(r1.data).toEqual({
          replyTo: 3,
          threadRoot: 3,
          threadOnly: false,
          quote: { senderId: owner.id, body: 'root' },
        });
        expect(r2.data).toMatchObject({ replyTo: 5, threadRoot: 3, threadOnly: true });
        expect(await store.getEvent(room.id, 6)).toEqual(r2);
        expect(seqsOf(await allEvents(room.id))).toEqual(range(1, 7));

        expect(await store.listThread(room.id, 3, { limit: 10 })).toEqual([r1, r2]);
        expect(await store.listThread(room.id, 3, { limit: 1 })).toEqual([r2]);
        expect(await store.listThread(room.id, 3, { before: 6, limit: 10 })).toEqual([r1]);
        expect(await store.listThread(room.id, 3, { after: 5, limit: 10 })).toEqual([r2]);
        expect(await store.listThread(room.id, 4, { limit: 10 })).toEqual([other]);
        expect(await store.listThread(room.id, 5, { limit: 10 })).toEqual([]);

        const sums = await store.threadSummaries(room.id, [3, 4, 5, 99]);
        expect([...sums.entries()].sort((a, b) => a[0] - b[0])).toEqual([
          [3, { replyCount: 2, lastReplyAt: r2.createdAt }],
          [4, { replyCount: 1, lastReplyAt: other.createdAt }],
        ]);
        expect((await store.threadSummaries(room.id, [])).size).toBe(0);
        // Another room's thread with the same root seq is not counted.
        const { room: room2 } = await createRoom(owner);
        const { event: root2 } = await store.appendMessage(message(room2.id, owner, 'c3', 'root 2')); // 3
        await store.appendMessage(reply(room2.id, owner, root2));
        expect((await store.threadSummaries(room.id, [3])).get(3)?.replyCount).toBe(2);
      });

      it('a retried reply is the same message; deleting the target blanks every quote of it, replies stay', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event: root } = await store.appendMessage(message(room.id, owner, 'c1', 'secret root')); // 3
        const first = reply(room.id, owner, root);
        const { event: r1 } = await store.appendMessage(first); // 4
        expect(await store.appendMessage({ ...first, id: newTestId('e') })).toEqual({ event: r1, duplicate: true });
        const { event: r2 } = await store.appendMessage(reply(room.id, owner, r1, true, 'second')); // 5
        await store.deleteMessage(room.id, root.seq, owner.id); // 6
        const quote = { senderId: owner.id, body: '', deleted: true };
        expect(await store.getEvent(room.id, r1.seq)).toEqual({ ...r1, data: { ...r1.data, quote } });
        // r2 quotes r1, which is not deleted.
        expect(await store.getEvent(room.id, r2.seq)).toEqual(r2);
        expect(JSON.stringify(await allEvents(room.id))).not.toContain('secret');
        expect(await store.listThread(room.id, 3, { limit: 10 })).toHaveLength(2);
        // A deleted reply stays in the thread (redacted, its place kept, its quote gone) but no longer counts.
        await store.deleteMessage(room.id, r2.seq, owner.id); // 7
        expect((await store.listThread(room.id, 3, { limit: 10 }))[1]).toEqual({
          ...r2,
          body: '',
          data: { deleted: true, deletedBy: owner.id, replyTo: r1.seq, threadRoot: root.seq, threadOnly: true },
        });
        expect(await store.threadSummaries(room.id, [3])).toEqual(
          new Map([[3, { replyCount: 1, lastReplyAt: r1.createdAt }]]),
        );
        expect(seqsOf(await allEvents(room.id))).toEqual(range(1, 7));
      });

      it('replies and plain messages in one concurrent burst stay gap-free and keep their data', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner); // 1..2
        const { event: root } = await store.appendMessage(message(room.id, owner, 'c0', 'root')); // 3
        const results = await Promise.all(
          range(1, 20).map((i) =>
            store.appendMessage(i % 2 ? reply(room.id, owner, root, i % 4 === 1) : message(room.id, owner)),
          ),
        );
        expect(seqsOf(await allEvents(room.id))).toEqual(range(1, 23));
        const replies = results.filter((r) => r.event.data !== null).map((r) => r.event);
        expect(replies).toHaveLength(10);
        expect(await store.listThread(room.id, 3, { limit: 50 })).toEqual(replies.sort((a, b) => a.seq - b.seq));
        expect((await store.threadSummaries(room.id, [3])).get(3)?.replyCount).toBe(10);
      });
    });

    describe('moderation: join requests', () => {
      it('create (false when pending), has, list with the user, delete (false when none)', async () => {
        const owner = await createUser('owner');
        const a = await createUser('asker-a', { displayName: 'Asker A' });
        const b = await createUser('asker-b');
        const { room } = await createRoom(owner);
        const other = (await createRoom(owner, { name: 'other' })).room;
        expect(await store.listJoinRequests(room.id)).toEqual([]);
        expect(await store.hasJoinRequest(room.id, a.id)).toBe(false);
        expect(await store.createJoinRequest(room.id, a.id)).toBe(true);
        expect(await store.createJoinRequest(room.id, a.id)).toBe(false);
        await expect(store.createJoinRequest('r_nowhere', a.id)).rejects.toMatchObject({ code: 'room_not_found' });
        await expect(store.createJoinRequest(room.id, 'u_nobody')).rejects.toMatchObject({ code: 'user_not_found' });
        await clockTick();
        expect(await store.createJoinRequest(room.id, b.id)).toBe(true);
        expect(await store.hasJoinRequest(room.id, a.id)).toBe(true);
        expect(await store.hasJoinRequest(other.id, a.id)).toBe(false);
        // Join requests are not room events.
        expect(await lastSeq(room.id)).toBe(2);

        const list = await store.listJoinRequests(room.id);
        expect(list.map((r) => r.user.id)).toEqual([a.id, b.id]);
        expect(list[0]?.user).toMatchObject({ id: a.id, username: 'asker-a', displayName: 'Asker A' });
        expectPublic(list.map((r) => r.user));
        for (const r of list) expectIso(r.createdAt);
        expect(await store.listJoinRequests(other.id)).toEqual([]);

        expect(await store.deleteJoinRequest(room.id, a.id)).toBe(true);
        expect(await store.deleteJoinRequest(room.id, a.id)).toBe(false);
        expect(await store.hasJoinRequest(room.id, a.id)).toBe(false);
        expect((await store.listJoinRequests(room.id)).map((r) => r.user.id)).toEqual([b.id]);
        expect(await store.createJoinRequest(room.id, a.id)).toBe(true);
      });
    });

    describe('moderation: reports', () => {
      const newReport = (
        reporter: UserRecord,
        target: UserRecord,
        roomId: string | null,
        extra: Partial<NewReport> = {},
      ): NewReport => ({
        id: newTestId('p'),
        reporterId: reporter.id,
        roomId,
        seq: roomId ? 3 : null,
        targetUserId: target.id,
        reason: 'rude',
        excerpt: roomId ? 'the message' : null,
        ...extra,
      });

      it('createReport stores an open report; getReport finds it', async () => {
        const reporter = await createUser('reporter');
        const target = await createUser('target');
        const { room } = await createRoom(target);
        const input = newReport(reporter, target, room.id, { seq: 7, reason: 'spam', excerpt: 'buy now' });
        const report = await store.createReport(input);
        expect(report).toEqual({
          ...input,
          status: 'open',
          resolution: null,
          resolvedBy: null,
          createdAt: report.createdAt,
          resolvedAt: null,
        });
        expectIso(report.createdAt);
        expect(await store.getReport(input.id)).toEqual(report);
        const userReport = await store.createReport(newReport(reporter, target, null));
        expect(userReport).toMatchObject({ roomId: null, seq: null, excerpt: null, status: 'open' });
        expect(await store.getReport(userReport.id)).toEqual(userReport);
        expect(await store.getReport('p_nowhere')).toBeNull();
      });

      it('resolveReport: the first resolver wins; later attempts and unknown ids give null', async () => {
        const reporter = await createUser('reporter');
        const target = await createUser('target');
        const mod = await createUser('mod');
        const report = await store.createReport(newReport(reporter, target, null));
        const resolved = await store.resolveReport(report.id, 'muted', mod.id);
        expect(resolved).toEqual({
          ...report,
          status: 'resolved',
          resolution: 'muted',
          resolvedBy: mod.id,
          resolvedAt: resolved?.resolvedAt,
        });
        expectIso(resolved?.resolvedAt ?? '');
        expect(await store.getReport(report.id)).toEqual(resolved);
        expect(await store.resolveReport(report.id, 'dismissed', reporter.id)).toBeNull();
        expect(await store.getReport(report.id)).toEqual(resolved);
        expect(await store.resolveReport('p_nowhere', 'dismissed', mod.id)).toBeNull();

        const racy = await store.createReport(newReport(reporter, target, null));
        const results = await Promise.all(
          (['dismissed', 'deleted', 'muted', 'banned'] as const).map((r) => store.resolveReport(racy.id, r, mod.id)),
        );
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        expect(await store.getReport(racy.id)).toEqual(winners[0]);
      });

      it('listReports: newest first, paged by before, filtered by status and roomIds', async () => {
        const reporter = await createUser('reporter');
        const target = await createUser('target');
        const mod = await createUser('mod');
        const r1 = (await createRoom(target, { name: 'one' })).room;
        const r2 = (await createRoom(target, { name: 'two' })).room;
        const r3 = (await createRoom(target, { name: 'three' })).room;
        const made: Report[] = [];
        for (let i = 0; i < 9; i++) {
          const roomId = [r1.id, r2.id, null][i % 3] ?? null;
          made.push(await store.createReport(newReport(reporter, target, roomId, { reason: `r${i}` })));
          await clockTick();
        }
        await store.resolveReport(made[0]!.id, 'dismissed', mod.id);
        await store.resolveReport(made[4]!.id, 'deleted', mod.id);
        const newestFirst = [...made].reverse();
        const ids = (xs: readonly Report[]) => xs.map((r) => r.reason);

        expect(ids(await store.listReports({ limit: 50 }))).toEqual(ids(newestFirst));
        expect(ids(await store.listReports({ limit: 3 }))).toEqual(['r8', 'r7', 'r6']);
        expect(ids(await store.listReports({ limit: 3, before: made[6]!.id }))).toEqual(['r5', 'r4', 'r3']);
        expect(ids(await store.listReports({ limit: 3, before: made[1]!.id }))).toEqual(['r0']);
        expect(ids(await store.listReports({ limit: 3, before: made[0]!.id }))).toEqual([]);
        expect(ids(await store.listReports({ status: 'open', limit: 50 }))).toEqual([
          'r8',
          'r7',
          'r6',
          'r5',
          'r3',
          'r2',
          'r1',
        ]);
        expect(ids(await store.listReports({ status: 'resolved', limit: 50 }))).toEqual(['r4', 'r0']);
        expect(ids(await store.listReports({ status: 'open', limit: 2, before: made[5]!.id }))).toEqual(['r3', 'r2']);
        expect(ids(await store.listReports({ roomIds: [r1.id], limit: 50 }))).toEqual(['r6', 'r3', 'r0']);
        expect(ids(await store.listReports({ roomIds: [r1.id, r2.id], limit: 50 }))).toEqual([
          'r7',
          'r6',
          'r4',
          'r3',
          'r1',
          'r0',
        ]);
        expect(ids(await store.listReports({ roomIds: [r1.id, r2.id], status: 'open', limit: 2 }))).toEqual([
          'r7',
          'r6',
        ]);
        expect(
          ids(await store.listReports({ roomIds: [r1.id, r2.id], status: 'open', limit: 2, before: made[6]!.id })),
        ).toEqual(['r3', 'r1']);
        expect(await store.listReports({ roomIds: [r3.id], limit: 50 })).toEqual([]);
        expect(await store.listReports({ roomIds: [], limit: 50 })).toEqual([]);
        // Pages carry full reports.
        expect((await store.listReports({ limit: 1, before: made[1]!.id }))[0]).toEqual(
          await store.getReport(made[0]!.id),
        );
      });

      it('listReports paging visits every report exactly once even when timestamps tie', async () => {
        const reporter = await createUser('reporter');
        const target = await createUser('target');
        const created = await Promise.all(
          range(1, 25).map((i) => store.createReport(newReport(reporter, target, null, { reason: `t${i}` }))),
        );
        for (const limit of [1, 4, 25, 30]) {
          const seen: Report[] = [];
          for (let pages = 0; pages <= created.length + 1; pages++) {
            const page = await store.listReports({ limit, ...(seen.length ? { before: seen.at(-1)!.id } : {}) });
            expect(page.length).toBeLessThanOrEqual(limit);
            seen.push(...page);
            if (page.length < limit) break;
          }
          expect(seen.map((r) => r.id).sort()).toEqual(created.map((r) => r.id).sort());
          const times = seen.map((r) => Date.parse(r.createdAt));
          expect(times).toEqual([...times].sort((a, b) => b - a));
        }
      });
    });

    describe('moderation: audit log', () => {
      it('appendAudit stores an entry; listAudit is newest first, paged by before, filtered by roomId', async () => {
        const admin = await createUser('admin');
        const target = await createUser('target');
        const r1 = (await createRoom(admin, { name: 'one' })).room;
        const r2 = (await createRoom(admin, { name: 'two' })).room;
        const first = await store.appendAudit({
          id: newTestId('a'),
          actorId: admin.id,
          action: 'room.ban',
          roomId: r1.id,
          targetUserId: target.id,
          data: { reason: 'spam', until: '9999-12-31T23:59:59.000Z', nested: { list: [1, 'two', null] } },
        });
        expect(first).toMatchObject({
          actorId: admin.id,
          action: 'room.ban',
          roomId: r1.id,
          targetUserId: target.id,
          data: { reason: 'spam', until: '9999-12-31T23:59:59.000Z', nested: { list: [1, 'two', null] } },
        });
        expectIso(first.createdAt);
        const made: AuditEntry[] = [first];
        for (let i = 1; i < 8; i++) {
          await clockTick();
          made.push(
            await store.appendAudit({
              id: newTestId('a'),
              actorId: admin.id,
              action: `action.${i}`,
              roomId: [r1.id, r2.id, null][i % 3] ?? null,
              targetUserId: i % 2 ? target.id : null,
              data: i % 2 ? null : { i },
            }),
          );
        }
        expect(made[2]).toMatchObject({ roomId: null, targetUserId: null, data: { i: 2 } });
        expect(made[1]).toMatchObject({ roomId: r2.id, targetUserId: target.id, data: null });
        const actions = (xs: readonly AuditEntry[]) => xs.map((e) => e.action);
        const all = await store.listAudit({ limit: 50 });
        expect(all).toEqual([...made].reverse());
        expect(actions(await store.listAudit({ limit: 3 }))).toEqual(['action.7', 'action.6', 'action.5']);
        expect(actions(await store.listAudit({ limit: 3, before: made[5]!.id }))).toEqual([
          'action.4',
          'action.3',
          'action.2',
        ]);
        expect(actions(await store.listAudit({ limit: 3, before: made[1]!.id }))).toEqual(['room.ban']);
        expect(await store.listAudit({ limit: 3, before: first.id })).toEqual([]);
        expect(actions(await store.listAudit({ roomId: r1.id, limit: 50 }))).toEqual([
          'action.6',
          'action.3',
          'room.ban',
        ]);
        expect(actions(await store.listAudit({ roomId: r1.id, limit: 2, before: made[6]!.id }))).toEqual([
          'action.3',
          'room.ban',
        ]);
        expect(actions(await store.listAudit({ roomId: r2.id, limit: 50 }))).toEqual([
          'action.7',
          'action.4',
          'action.1',
        ]);
        expect(await store.listAudit({ roomId: 'r_nowhere', limit: 50 })).toEqual([]);
      });

      it('listAudit paging visits every entry exactly once even when timestamps tie', async () => {
        const admin = await createUser('admin');
        const created = await Promise.all(
          range(1, 25).map((i) =>
            store.appendAudit({
              id: newTestId('a'),
              actorId: admin.id,
              action: `a${i}`,
              roomId: null,
              targetUserId: null,
              data: null,
            }),
          ),
        );
        for (const limit of [1, 7, 25]) {
          const seen: AuditEntry[] = [];
          for (let pages = 0; pages <= created.length + 1; pages++) {
            const page = await store.listAudit({ limit, ...(seen.length ? { before: seen.at(-1)!.id } : {}) });
            seen.push(...page);
            if (page.length < limit) break;
          }
          expect(seen.map((e) => e.id).sort()).toEqual(created.map((e) => e.id).sort());
        }
      });
    });

    describe('moderation: durability', () => {
      it('moderation state survives close and reopen', async () => {
        const owner = await createUser('owner', { displayName: 'Owner' });
        const member = await createUser('member');
        const banned = await createUser('banned');
        const asker = await createUser('asker');
        const { room } = await createRoom(owner, { members: [{ user: member }, { user: banned }] });
        await store.updateRoom(
          room.id,
          { settings: { readOnly: true, slowModeSeconds: 9, joinApproval: true } },
          owner.id,
        );
        await store.muteMember(room.id, member.id, FOREVER_MS, owner.id);
        await store.banFromRoom(room.id, banned.id, { until: FOREVER_MS, reason: 'x' }, owner.id);
        const { event } = await store.appendMessage(message(room.id, owner));
        await store.deleteMessage(room.id, event.seq, owner.id);
        await store.createJoinRequest(room.id, asker.id);
        await store.setDeactivated(asker.id, true);
        await store.setBannedUntil(banned.id, FOREVER_MS);
        const report = await store.createReport({
          id: newTestId('p'),
          reporterId: member.id,
          roomId: room.id,
          seq: event.seq,
          targetUserId: owner.id,
          reason: 'r',
          excerpt: event.body,
        });
        const resolved = await store.resolveReport(report.id, 'deleted', owner.id);
        const entry = await store.appendAudit({
          id: newTestId('a'),
          actorId: owner.id,
          action: 'room.ban',
          roomId: room.id,
          targetUserId: banned.id,
          data: { reason: 'x' },
        });
        const before = {
          room: await store.getRoom(room.id),
          events: await allEvents(room.id),
          members: await store.listMembers(room.id),
          bans: await store.listRoomBans(room.id),
          requests: await store.listJoinRequests(room.id),
          users: await store.listUsers('', 10),
        };

        await store.close();
        store = await harness.reopen();

        expect(await store.getRoom(room.id)).toEqual(before.room);
        expect(await allEvents(room.id)).toEqual(before.events);
        expect(await store.listMembers(room.id)).toEqual(before.members);
        expect(await store.listRoomBans(room.id)).toEqual(before.bans);
        expect(await store.listJoinRequests(room.id)).toEqual(before.requests);
        expect(await store.listUsers('', 10)).toEqual(before.users);
        expect(await store.getReport(report.id)).toEqual(resolved);
        expect(await store.listAudit({ limit: 10 })).toEqual([entry]);
        expect(await store.getMember(room.id, member.id)).toMatchObject({ mutedUntil: FOREVER_MS });
      });
    });

    // ---- lifecycle ----

    // ---- bots (issue 16) ----

    describe('bots', () => {
      const newBot = (username: string, bot: { roomId: string | null; createdBy: string; scopes: BotScope[] }) =>
        store.createBot({ id: newTestId('u'), username, displayName: `${username} bot`, passwordHash: '!bot', bot });

      it('createBot makes a user marked bot, with its room, creator and scopes; usernames stay unique', async () => {
        const owner = await createUser('botowner');
        const { room } = await createRoom(owner);
        const bot = await newBot('helper', { roomId: room.id, createdBy: owner.id, scopes: ['read', 'post'] });
        expect(bot).toMatchObject({ username: 'helper', bot: true, role: 'user', deactivated: false });
        expect(bot.botOf).toEqual({ roomId: room.id, createdBy: owner.id, scopes: ['read', 'post'] });
        expect(await store.getUser(bot.id)).toEqual(bot);
        expect(await store.getUserByUsername('HELPER')).toEqual(bot);
        // Others see the flag, not the management facts.
        const [pub] = await store.getUsers([bot.id]);
        expect(pub).toMatchObject({ id: bot.id, bot: true });
        expect(pub).not.toHaveProperty('botOf');
        expect(pub).not.toHaveProperty('passwordHash');
        // A person is not a bot.
        expect(owner).not.toHaveProperty('bot');
        expect(owner).not.toHaveProperty('botOf');
        await expect(newBot('Helper', { roomId: null, createdBy: owner.id, scopes: ['read'] })).rejects.toMatchObject({
          code: 'username_taken',
        });
        await expect(createUser('helper')).rejects.toMatchObject({ code: 'username_taken' });
      });

      it('listBots lists active bots, all or those of some rooms, by username', async () => {
        const owner = await createUser('lbowner');
        const { room: a } = await createRoom(owner);
        const { room: b } = await createRoom(owner);
        const zed = await newBot('zed', { roomId: a.id, createdBy: owner.id, scopes: ['read'] });
        const amy = await newBot('amy', { roomId: b.id, createdBy: owner.id, scopes: ['post'] });
        const srv = await newBot('srv', { roomId: null, createdBy: owner.id, scopes: ['read'] });
        const gone = await newBot('gone', { roomId: a.id, createdBy: owner.id, scopes: ['read'] });
        await store.setDeactivated(gone.id, true);
        expect((await store.listBots({})).map((u) => u.id)).toEqual([amy.id, srv.id, zed.id]);
        expect((await store.listBots({ roomIds: [a.id] })).map((u) => u.id)).toEqual([zed.id]);
        expect((await store.listBots({ roomIds: [a.id, b.id] })).map((u) => u.id)).toEqual([amy.id, zed.id]);
        expect(await store.listBots({ roomIds: [] })).toEqual([]);
      });

      it('a session keeps its scopes; a person session has none', async () => {
        const owner = await createUser('scowner');
        const bot = await newBot('scoped', { roomId: null, createdBy: owner.id, scopes: ['read', 'react'] });
        const s = await session(bot, { scopes: ['read', 'react'] });
        const found = await store.getSessionByTokenHash(s.tokenHash);
        expect(found?.session.scopes).toEqual(['read', 'react']);
        expect(found?.user.botOf?.scopes).toEqual(['read', 'react']);
        const p = await session(owner);
        expect((await store.getSessionByTokenHash(p.tokenHash))?.session).not.toHaveProperty('scopes');
        expect(await store.listSessions(bot.id)).toEqual([
          expect.objectContaining({ id: s.id, scopes: ['read', 'react'] }),
        ]);
      });

      it("setBotCommands replaces a bot's commands; a room lists those of its active member bots", async () => {
        const owner = await createUser('cmdowner');
        const { room } = await createRoom(owner);
        const { room: other } = await createRoom(owner);
        const b1 = await newBot('cmdbot1', { roomId: room.id, createdBy: owner.id, scopes: ['commands'] });
        const b2 = await newBot('cmdbot2', { roomId: null, createdBy: owner.id, scopes: ['commands'] });
        await store.addMember(room.id, b1.id, 'member', owner.id);
        await store.addMember(room.id, b2.id, 'member', owner.id);
        await store.setBotCommands(b1.id, [
          { name: 'weather', description: 'The weather', argsHint: '<city>' },
          { name: 'ping', description: 'Pong' },
        ]);
        await store.setBotCommands(b2.id, [{ name: 'ping', description: 'Also pong' }]);
        expect(await store.listRoomBotCommands(room.id)).toEqual(
          [
            { botId: b1.id, name: 'ping', description: 'Pong' },
            ...[
              { botId: b2.id, name: 'ping', description: 'Also pong' },
              // two bots may offer one name: ordered by bot id
            ].sort((x, y) => (x.botId < y.botId ? -1 : 1)),
            { botId: b1.id, name: 'weather', description: 'The weather', argsHint: '<city>' },
          ].sort((x, y) => (x.name === y.name ? (x.botId < y.botId ? -1 : 1) : x.name < y.name ? -1 : 1)),
        );
        expect(await store.listRoomBotCommands(other.id)).toEqual([]);
        // Replacing: the old list goes.
        await store.setBotCommands(b1.id, [{ name: 'help', description: 'Help' }]);
        await store.removeMember(room.id, b2.id, owner.id, 'removed');
        expect(await store.listRoomBotCommands(room.id)).toEqual([{ botId: b1.id, name: 'help', description: 'Help' }]);
        // A deactivated bot offers nothing.
        await store.setDeactivated(b1.id, true);
        expect(await store.listRoomBotCommands(room.id)).toEqual([]);
        await store.setBotCommands(b1.id, []);
        await store.setDeactivated(b1.id, false);
        expect(await store.listRoomBotCommands(room.id)).toEqual([]);
      });
    });

    describe('lifecycle', () => {
      it('ping resolves on an open store', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('data survives close and reopen; sequences continue', async () => {
        const alice = await createUser('alice', { adminIfFirst: true, displayName: 'Alice' });
        const bob = await createUser('bob');
        await store.updateProfile(bob.id, { statusText: 'away' });
        const s = await session(alice);
        const { room } = await createRoom(alice, { name: 'durable', topic: 'persisted', members: [{ user: bob }] });
        const dm = (await createDm([alice, bob])).room;
        const m1 = await store.appendMessage(message(room.id, bob, 'k1', 'first'));
        const m2 = await store.appendMessage(message(room.id, alice, 'k2', 'second'));
        const carol = await createUser('carol');
        await store.createInvite(room.id, carol.id, alice.id);
        const eventsBefore = await allEvents(room.id);
        const roomsOfAlice = await store.listRoomsOf(alice.id);

        await store.close();
        store = await harness.reopen();

        expect(await store.getUser(alice.id)).toEqual(alice);
        expect(await store.getUserByUsername('BOB')).toEqual({ ...bob, statusText: 'away' });
        expect(await store.getSessionByTokenHash(s.tokenHash)).toEqual({ session: s, user: alice });
        expect(await store.getRoom(room.id)).toMatchObject({ name: 'durable', lastSeq: 6, memberCount: 2 });
        expect(await allEvents(room.id)).toEqual(eventsBefore);
        expect(await store.listRoomsOf(alice.id)).toEqual(roomsOfAlice);
        expect(await store.hasInvite(room.id, carol.id)).toBe(true);
        expect(await store.getRole(room.id, bob.id)).toBe('member');
        expect((await createDm([bob, alice])).room.id).toBe(dm.id);
        // Idempotency keys survive too.
        expect(await store.appendMessage(message(room.id, bob, 'k1', 'retry'))).toEqual({
          event: m1.event,
          duplicate: true,
        });
        expect(m2.event.seq).toBe(5);
        const next = await store.appendMessage(message(room.id, alice, 'k3'));
        expect(next).toMatchObject({ duplicate: false, event: { seq: 7 } });
        // The first user is still the first: no second admin.
        expect((await createUser('dave', { adminIfFirst: true })).role).toBe('user');
      });

      it('close flushes pending appends: every append made before close resolves and is durable', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        const pending = range(1, 50).map((i) => store.appendMessage(message(room.id, owner, `p-${i}`)));
        await store.close();
        const results = await Promise.allSettled(pending);
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
        store = await harness.reopen();
        expect(seqsOf(await allEvents(room.id))).toEqual(range(1, 52));
      });

      it('close is idempotent', async () => {
        await store.close();
        await expect(store.close()).resolves.toBeUndefined();
      });

      it('after close, every method rejects with ChatError unavailable', async () => {
        const owner = await createUser('owner');
        const { room } = await createRoom(owner);
        await store.close();
        const s = store;
        const calls: [string, () => Promise<unknown>][] = [
          ['ping', () => s.ping()],
          [
            'createUser',
            () =>
              s.createUser(
                { id: 'u_x', username: 'late', displayName: 'x', passwordHash: 'x' },
                { adminIfFirst: false },
              ),
          ],
          ['getUser', () => s.getUser(owner.id)],
          ['getUserByUsername', () => s.getUserByUsername('owner')],
          ['getUsers', () => s.getUsers([owner.id])],
          ['searchUsers', () => s.searchUsers('o', 5)],
          ['updateProfile', () => s.updateProfile(owner.id, { statusText: 'x' })],
          ['setPasswordHash', () => s.setPasswordHash(owner.id, 'x')],
          ['setServerRole', () => s.setServerRole(owner.id, 'admin')],
          [
            'createSession',
            () =>
              s.createSession({
                id: 's_x',
                userId: owner.id,
                tokenHash: 'h',
                label: '',
                createdAt: 1,
                expiresAt: 2,
                lastUsedAt: 1,
              }),
          ],
          ['getSessionByTokenHash', () => s.getSessionByTokenHash('h')],
          ['touchSession', () => s.touchSession('s_x', 1, 2)],
          ['listSessions', () => s.listSessions(owner.id)],
          ['deleteSession', () => s.deleteSession(owner.id, 's_x')],
          ['deleteSessions', () => s.deleteSessions(owner.id)],
          [
            'createRoom',
            () => s.createRoom({ id: 'r_x', kind: 'public', name: 'x', topic: '', createdBy: owner.id, members: [] }),
          ],
          ['getRoom', () => s.getRoom(room.id)],
          ['searchPublicRooms', () => s.searchPublicRooms('', 10)],
          ['listRoomsOf', () => s.listRoomsOf(owner.id)],
          ['countRoomsOf', () => s.countRoomsOf(owner.id)],
          ['updateRoom', () => s.updateRoom(room.id, { topic: 'x' }, owner.id)],
          ['getRole', () => s.getRole(room.id, owner.id)],
          ['listMembers', () => s.listMembers(room.id)],
          ['listMemberIds', () => s.listMemberIds(room.id)],
          ['countRole', () => s.countRole(room.id, 'owner')],
          ['addMember', () => s.addMember(room.id, 'u_x', 'member', owner.id)],
          ['removeMember', () => s.removeMember(room.id, owner.id, owner.id, 'left')],
          ['setMemberRole', () => s.setMemberRole(room.id, owner.id, 'admin', owner.id)],
          ['createInvite', () => s.createInvite(room.id, 'u_x', owner.id)],
          ['hasInvite', () => s.hasInvite(room.id, 'u_x')],
          ['listInvites', () => s.listInvites('u_x')],
          ['deleteInvite', () => s.deleteInvite(room.id, 'u_x')],
          ['appendMessage', () => s.appendMessage(message(room.id, owner))],
          ['listEvents', () => s.listEvents(room.id, { limit: 10 })],
          ['listUsers', () => s.listUsers('', 10)],
          ['setDeactivated', () => s.setDeactivated(owner.id, true)],
          ['setBannedUntil', () => s.setBannedUntil(owner.id, null)],
          ['getMember', () => s.getMember(room.id, owner.id)],
          ['muteMember', () => s.muteMember(room.id, owner.id, FOREVER_MS, owner.id)],
          ['unmuteMember', () => s.unmuteMember(room.id, owner.id, owner.id)],
          ['banFromRoom', () => s.banFromRoom(room.id, 'u_x', { until: FOREVER_MS, reason: '' }, owner.id)],
          ['unbanFromRoom', () => s.unbanFromRoom(room.id, 'u_x')],
          ['getRoomBan', () => s.getRoomBan(room.id, 'u_x')],
          ['listRoomBans', () => s.listRoomBans(room.id)],
          ['getEvent', () => s.getEvent(room.id, 1)],
          ['deleteMessage', () => s.deleteMessage(room.id, 1, owner.id)],
          ['editMessage', () => s.editMessage(room.id, 1, owner.id, 'x')],
          ['listMessageEdits', () => s.listMessageEdits(room.id, 1)],
          ['listThread', () => s.listThread(room.id, 1, { limit: 10 })],
          ['threadSummaries', () => s.threadSummaries(room.id, [1])],
          ['addReaction', () => s.addReaction(room.id, 1, owner.id, '🎉', 20)],
          ['removeReaction', () => s.removeReaction(room.id, 1, owner.id, '🎉')],
          ['listReactions', () => s.listReactions(room.id, 1, 10)],
          ['markRead', () => s.markRead(room.id, owner.id, 1, true)],
          ['listReadReceipts', () => s.listReadReceipts(room.id)],
          ['updateUserSettings', () => s.updateUserSettings(owner.id, { readReceipts: false })],
          ['pinMessage', () => s.pinMessage(room.id, 1, owner.id, 10)],
          ['unpinMessage', () => s.unpinMessage(room.id, 1, owner.id)],
          ['listPins', () => s.listPins(room.id)],
          ['findMemberIds', () => s.findMemberIds(room.id, ['owner'])],
          ['listMentions', () => s.listMentions(owner.id, { limit: 10 })],
          ['blockUser', () => s.blockUser(owner.id, 'u_x', 10)],
          ['unblockUser', () => s.unblockUser(owner.id, 'u_x')],
          ['listBlocks', () => s.listBlocks(owner.id)],
          ['blockBetween', () => s.blockBetween(owner.id, ['u_x'])],
          ['hasBlocked', () => s.hasBlocked(owner.id, 'u_x')],
          ['blockWithMember', () => s.blockWithMember(room.id, owner.id)],
          ['createJoinRequest', () => s.createJoinRequest(room.id, owner.id)],
          ['listJoinRequests', () => s.listJoinRequests(room.id)],
          ['hasJoinRequest', () => s.hasJoinRequest(room.id, owner.id)],
          ['deleteJoinRequest', () => s.deleteJoinRequest(room.id, owner.id)],
          [
            'createReport',
            () =>
              s.createReport({
                id: 'p_x',
                reporterId: owner.id,
                roomId: null,
                seq: null,
                targetUserId: owner.id,
                reason: '',
                excerpt: null,
              }),
          ],
          ['getReport', () => s.getReport('p_x')],
          ['listReports', () => s.listReports({ limit: 10 })],
          ['resolveReport', () => s.resolveReport('p_x', 'dismissed', owner.id)],
          [
            'appendAudit',
            () =>
              s.appendAudit({
                id: 'a_x',
                actorId: owner.id,
                action: 'x',
                roomId: null,
                targetUserId: null,
                data: null,
              }),
          ],
          ['listAudit', () => s.listAudit({ limit: 10 })],
        ];
        const failures: string[] = [];
        for (const [method, call] of calls) {
          try {
            await rejectsWith(call, 'unavailable');
          } catch (err) {
            failures.push(`${method}: ${(err as Error).message}`);
          }
        }
        expect(failures).toEqual([]);
      });
    });
    // ---- keeping and leaving (issue 18) ----
    describe('account deletion, reset links, own messages', () => {
      it('markUserDeleted frees the name, clears the profile, drops sessions and links; once only', async () => {
        const u = await createUser('Zelda');
        const s1 = await session(u);
        const s2 = await session(u);
        await store.createPasswordReset({
          tokenHash: 'th-z',
          userId: u.id,
          createdBy: u.id,
          createdAt: 1,
          expiresAt: 9e15,
        });
        const other = await createUser('otto');
        const keep = await session(other);
        const dropped = await store.markUserDeleted(u.id, `deleted~${u.id}`);
        expect(dropped?.sort()).toEqual([s1.id, s2.id].sort());
        const after = await store.getUser(u.id);
        expect(after).toMatchObject({
          username: `deleted~${u.id}`,
          displayName: 'Deleted user',
          statusText: '',
          deactivated: true,
          deleted: true,
        });
        expect(await store.getUserByUsername('zelda')).toBeNull();
        expect(await store.getPasswordReset('th-z')).toBeNull();
        expect(await store.getSessionByTokenHash(keep.tokenHash)).not.toBeNull();
        expect(await store.markUserDeleted(u.id, `deleted~${u.id}`)).toBeNull();
        expect(await store.markUserDeleted('u_nobody', 'deleted~u_nobody')).toBeNull();
        // The name is free again.
        expect((await createUser('zelda')).id).not.toBe(u.id);
        expect((await store.getUser(other.id))?.deleted).toBeUndefined();
      });

      it('consumePasswordReset: once, before expiry, sets the hash and ends every session and link', async () => {
        const u = await createUser('rita');
        const s = await session(u);
        const base = { userId: u.id, createdBy: u.id, createdAt: 1_000 };
        await store.createPasswordReset({ ...base, tokenHash: 'th-1', expiresAt: 5_000 });
        await store.createPasswordReset({ ...base, tokenHash: 'th-2', expiresAt: 5_000 });
        expect(await store.getPasswordReset('th-1')).toEqual({ ...base, tokenHash: 'th-1', expiresAt: 5_000 });
        // Expired (now = expiresAt): nothing happens.
        expect(await store.consumePasswordReset('th-1', 5_000, 'new-hash')).toBeNull();
        expect((await store.getUser(u.id))?.passwordHash).toBe('hash:rita');
        expect(await store.consumePasswordReset('unknown', 1_500, 'new-hash')).toBeNull();
        // Two at once: one wins.
        const both = await Promise.all([
          store.consumePasswordReset('th-1', 4_999, 'new-hash'),
          store.consumePasswordReset('th-1', 4_999, 'other-hash'),
        ]);
        const won = both.filter((r) => r !== null);
        expect(won).toEqual([{ userId: u.id, sessionIds: [s.id] }]);
        expect(['new-hash', 'other-hash']).toContain((await store.getUser(u.id))?.passwordHash);
        expect(await store.getSessionByTokenHash(s.tokenHash)).toBeNull();
        // The user's other link went with it.
        expect(await store.getPasswordReset('th-2')).toBeNull();
        expect(await store.consumePasswordReset('th-2', 1_500, 'x')).toBeNull();
      });

      it('listOwnMessages: the sender’s messages not deleted, every room, by (room, seq), keyset pages', async () => {
        const me = await createUser('mia');
        const you = await createUser('yan');
        const { room: r1 } = await createRoom(me, { id: 'r_keep_a', members: [{ user: you }] });
        const { room: r2 } = await createRoom(you, { id: 'r_keep_b', members: [{ user: me }] });
        const mine: [string, number][] = [];
        for (const [room, who] of [
          [r2, me],
          [r1, me],
          [r1, you],
          [r2, me],
          [r1, me],
        ] as const) {
          const e = (await store.appendMessage(message(room.id, who))).event;
          if (who === me) mine.push([e.roomId, e.seq]);
        }
        const gone = mine.splice(1, 1)[0]!; // r1's first message of mine
        expect(await store.deleteMessage(gone[0], gone[1], me.id)).not.toBeNull();
        mine.sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
        const all = await store.listOwnMessages(me.id, null, 10);
        expect(all.map((e) => [e.roomId, e.seq])).toEqual(mine);
        expect(all.every((e) => e.senderId === me.id && e.type === 'message')).toBe(true);
        const page1 = await store.listOwnMessages(me.id, null, 2);
        const last = page1.at(-1)!;
        const page2 = await store.listOwnMessages(me.id, { roomId: last.roomId, seq: last.seq }, 2);
        expect([...page1, ...page2].map((e) => [e.roomId, e.seq])).toEqual(mine);
      });
    });
  });
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.js';
import type { Queries } from '../../src/storage/sql/queries.js';
import { migrations } from '../../src/storage/sqlite/migrations.js';
import { SqliteStore, type SqliteStoreOptions } from '../../src/storage/sqlite/sqlite-store.js';
import { storeContract, type StoreUnderTest } from './contract/store-contract.js';
import { chainContract } from './contract/chain-contract.js';
import { expectBackfilled, seedForSearchBackfill } from './contract/search-backfill.js';

/** A SqliteStore over a real file in a fresh temp dir; cleanup closes every store opened and removes the dir. */
function sqliteHarness(opts: Omit<SqliteStoreOptions, 'file'> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relaychat-sqlite-'));
  const file = path.join(dir, 'chat.db');
  const opened: SqliteStore[] = [];
  const open = () => {
    const store = new SqliteStore({ ...opts, file });
    opened.push(store);
    return store;
  };
  const harness = {
    dir,
    file,
    store: open(),
    reopen: () => Promise.resolve(open()),
    cleanup: async () => {
      for (const s of opened) await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness satisfies StoreUnderTest;
}

storeContract('SqliteStore', () => Promise.resolve(sqliteHarness()));
// History integrity: rows changed by hand through a second connection to the same file.
chainContract('SqliteStore', () => {
  const h = sqliteHarness();
  const db = new Database(h.file);
  db.pragma('busy_timeout = 5000');
  return Promise.resolve({
    store: h.store,
    sql: (text: string, params: unknown[] = []) => {
      db.prepare(text.replace(/\$\d+/g, '?')).run(...params);
      return Promise.resolve();
    },
    another: () => Promise.resolve(h.store),
    cleanup: async () => {
      db.close();
      await h.cleanup();
    },
  });
});
// A tiny group-commit batch exercises the synchronous flush path under load.
storeContract('SqliteStore (maxBatch 3)', () => Promise.resolve(sqliteHarness({ maxBatch: 3 })));

let counter = 0;
const uid = (prefix: string) => `${prefix}_${(++counter).toString(36)}`;

describe('SqliteStore specifics', () => {
  let h: ReturnType<typeof sqliteHarness>;
  let raw: Database.Database | undefined;

  beforeEach(() => {
    h = sqliteHarness();
  });

  afterEach(async () => {
    raw?.close();
    raw = undefined;
    await h.cleanup();
  });

  const openRaw = () => (raw = new Database(h.file));

  const user = (store: Store, username: string) =>
    store.createUser(
      { id: `u_${username}`, username, displayName: username, passwordHash: 'x' },
      { adminIfFirst: false },
    );

  it('the file is in WAL mode; commits resolve only after an fdatasync of the WAL that followed them', async () => {
    // journal_mode=WAL is persistent in the file: any connection sees it.
    expect(openRaw().pragma('journal_mode', { simple: true })).toBe('wal');
    // synchronous is per connection, so it must be checked on the store's own connection.
    const db: unknown = Reflect.get(h.store, 'db');
    expect(db).toBeInstanceOf(Database);
    // NORMAL (1): SQLite does not fsync at commit; the store fdatasyncs the WAL itself before resolving.
    expect((db as Database.Database).pragma('synchronous', { simple: true })).toBe(1);
    const stats = Reflect.get(h.store, 'stats') as { fsyncs: number; commits: number };
    const before = stats.fsyncs;
    const settled: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => user(h.store, `durable${i}`).then(() => settled.push(stats.fsyncs))),
    );
    // Every write resolved after at least one fsync that began after it; 50 writes shared far fewer fsyncs.
    expect(settled.every((n) => n > before)).toBe(true);
    expect(stats.fsyncs - before).toBeGreaterThan(0);
    expect(stats.fsyncs - before).toBeLessThan(50);
    expect((db as Database.Database).pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('message batches: every ack comes after an fdatasync that began after the commit holding the message', async () => {
    const owner = await user(h.store, 'owner');
    await h.store.createRoom({
      id: 'r_acks',
      kind: 'public',
      name: 'acks',
      topic: '',
      createdBy: owner.id,
      members: [],
    });
    const store = h.store;
    const stats = Reflect.get(store, 'stats') as { fsyncs: number };
    // fsyncs run one at a time: those begun so far are the finished ones plus the one running, if any.
    const begun = () => stats.fsyncs + (Reflect.get(store, 'syncing') === true ? 1 : 0);
    // messagesInsertNew writes a batch's new messages inside the batch transaction; the commit follows in the same
    // synchronous run, so the fsyncs begun when it is called are the fsyncs begun before the commit.
    const queries = Reflect.get(store, 'queries') as Queries;
    const insert = queries.messagesInsertNew;
    const begunAtCommit = new Map<string, number>();
    queries.messagesInsertNew = (args) => {
      const inserted = insert(args);
      for (const event of args.events) begunAtCommit.set(event.id, begun());
      return inserted;
    };
    const uncovered: string[] = [];
    const acks: Promise<unknown>[] = [];
    const append = (i: number, clientMsgId = `c${i}`) =>
      acks.push(
        store
          .appendMessage({ id: `e_${i}`, roomId: 'r_acks', senderId: owner.id, clientMsgId, body: `${i}` })
          .then(({ event }) => {
            // The ack must wait for an fsync that began after the commit and has finished.
            if (!(stats.fsyncs > begunAtCommit.get(event.id)!)) {
              uncovered.push(
                `${clientMsgId} (seq ${event.seq}): ${stats.fsyncs} fsyncs done, ${begunAtCommit.get(event.id)} begun at commit`,
              );
            }
          }),
      );
    // Waves in separate event-loop turns, so batches commit both while an fsync runs and while none does; each wave
    // also re-sends one earlier clientMsgId (a duplicate ack is for the same stored message).
    for (let wave = 0; wave < 30; wave++) {
      for (let k = 0; k < 7; k++) append(wave * 7 + k);
      if (wave > 0) append(1000 + wave, `c${(wave - 1) * 7}`);
      await new Promise((r) => (wave % 2 ? setImmediate(r) : setTimeout(r, 1)));
    }
    await Promise.all(acks);
    expect(begunAtCommit.size).toBe(30 * 7);
    expect(uncovered).toEqual([]);
  });

  it('migrations are recorded in schema_migrations and not re-run on reopen', async () => {
    await user(h.store, 'before');
    const rows = () =>
      openRaw().prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as {
        version: number;
        name: string;
        applied_at: number;
      }[];
    const first = rows();
    raw?.close();
    expect(first.map((r) => [r.version, r.name])).toEqual(migrations.map((m) => [m.version, m.name]));
    for (const r of first) expect(r.applied_at).toBeGreaterThan(0);

    await h.store.close();
    const reopened = await h.reopen(); // would throw "table users already exists" if migration 1 re-ran
    await user(reopened, 'after');
    expect(rows()).toEqual(first);
    expect((await reopened.getUserByUsername('before'))?.id).toBe('u_before');
    await reopened.close();
  });

  /** Replaces the store's file with one as an older release left it: the migrations up to `version` applied. */
  async function fileAt(version: number): Promise<Database.Database> {
    await h.store.close();
    fs.rmSync(h.file, { force: true });
    const db = new Database(h.file);
    db.pragma('journal_mode = WAL');
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    db.function('fold', (x: unknown) => String(x).toLowerCase());
    for (const m of migrations.filter((x) => x.version <= version)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 1)').run(m.version, m.name);
    }
    return db;
  }

  it('migration 2 upgrades a version-1 file: existing rows get default settings and no moderation state', async () => {
    // A file as the previous release left it: only migration 1 applied.
    const v1 = await fileAt(1);
    v1.prepare(
      `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)
       VALUES ('u_old', 'Old', 'old', 'Old', 'x', 1)`,
    ).run();
    v1.prepare(
      `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
       VALUES ('r_old', 'public', 'old', 'old', 'u_old', 1, 0, 1, 1)`,
    ).run();
    v1.prepare("INSERT INTO members (room_id, user_id, role, joined_at) VALUES ('r_old', 'u_old', 'owner', 1)").run();
    v1.close();

    const store = await h.reopen();
    expect(await store.getUser('u_old')).toMatchObject({ deactivated: false, bannedUntil: null });
    expect((await store.getRoom('r_old'))?.settings).toEqual({
      readOnly: false,
      slowModeSeconds: 0,
      joinApproval: false,
      mentionAllRole: 'moderator',
      linkPreviews: true,
    });
    expect(await store.getMember('r_old', 'u_old')).toEqual({ role: 'owner', mutedUntil: null, joinedSeq: 0 });
    expect(await store.muteMember('r_old', 'u_old', 5, 'u_old')).toMatchObject({ seq: 1, type: 'member.muted' });
    expect(await store.listReports({ limit: 5 })).toEqual([]);
    expect(await store.listAudit({ limit: 5 })).toEqual([]);
    expect(
      (openRaw().prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    ).toEqual(migrations.map((m) => m.version));
  });

  it('migration 3 makes public room names unique ignoring case, renaming the newer of existing clashes', async () => {
    await h.store.close();
    fs.rmSync(h.file, { force: true });
    // A file as release 2 left it, with two public rooms whose names differ only in case.
    const v2 = new Database(h.file);
    v2.pragma('journal_mode = WAL');
    v2.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    for (const m of migrations.filter((x) => x.version <= 2)) {
      v2.exec(m.sql);
      v2.prepare('INSERT INTO schema_migrations VALUES (?, ?, 1)').run(m.version, m.name);
    }
    v2.prepare(
      `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)
       VALUES ('u_old', 'Old', 'old', 'Old', 'x', 1)`,
    ).run();
    const room = v2.prepare(
      `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
       VALUES (?, ?, ?, ?, 'u_old', ?, 0, 1, 0)`,
    );
    room.run('r_first', 'public', 'design-reviews', 'design-reviews', 1);
    room.run('r_second', 'public', 'Design-Reviews', 'design-reviews', 2);
    room.run('r_private', 'private', 'design-reviews', 'design-reviews', 3);
    v2.close();

    const store = await h.reopen();
    expect((await store.getRoom('r_first'))?.name).toBe('design-reviews');
    expect((await store.getRoom('r_second'))?.name).toBe('Design-Reviews (r_second)');
    expect((await store.getRoom('r_private'))?.name).toBe('design-reviews');
    expect((await store.searchPublicRooms('design-reviews (r_second)', 5)).rooms.map((r) => r.id)).toEqual([
      'r_second',
    ]);
    await expect(store.updateRoom('r_second', { name: 'DESIGN-reviews' }, 'u_old')).rejects.toMatchObject({
      code: 'room_name_taken',
    });
  });

  it('migration 4 upgrades a version-3 file with messages: they read unedited, then edit and keep a history', async () => {
    const v3 = await fileAt(3);
    v3.prepare(
      `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)
       VALUES ('u_old', 'Old', 'old', 'Old', 'x', 1)`,
    ).run();
    v3.prepare(
      `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
       VALUES ('r_old', 'public', 'old', 'old', 'u_old', 1, 1, 1, 1)`,
    ).run();
    v3.prepare("INSERT INTO members (room_id, user_id, role, joined_at) VALUES ('r_old', 'u_old', 'owner', 1)").run();
    v3.prepare(
      `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
       VALUES ('r_old', 1, 'e_old', 'message', 'u_old', 'typo', 'c_old', NULL, 1)`,
    ).run();
    v3.close();

    const store = await h.reopen();
    expect(await store.getEvent('r_old', 1)).toMatchObject({ body: 'typo', data: null });
    expect(await store.listMessageEdits('r_old', 1)).toEqual([]);
    const { message, event } = await store.editMessage('r_old', 1, 'u_old', 'fixed');
    expect(event).toMatchObject({
      seq: 2,
      type: 'message.edited',
      body: 'fixed',
      data: { seq: 1, messageId: 'e_old' },
    });
    expect(message).toMatchObject({ id: 'e_old', body: 'fixed', data: { editedAt: event?.createdAt } });
    expect(await store.listMessageEdits('r_old', 1)).toMatchObject([
      { editSeq: 2, previousBody: 'typo', body: 'fixed' },
    ]);
    expect(
      (openRaw().prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    ).toEqual(migrations.map((m) => m.version));
  });

  it('migration 5 upgrades a version-4 file with messages: they read without reactions, then take some', async () => {
    const v4 = await fileAt(4);
    v4.prepare(
      `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)
       VALUES ('u_old', 'Old', 'old', 'Old', 'x', 1)`,
    ).run();
    v4.prepare(
      `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
       VALUES ('r_old', 'public', 'old', 'old', 'u_old', 1, 1, 1, 1)`,
    ).run();
    v4.prepare("INSERT INTO members (room_id, user_id, role, joined_at) VALUES ('r_old', 'u_old', 'owner', 1)").run();
    v4.prepare(
      `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
       VALUES ('r_old', 1, 'e_old', 'message', 'u_old', 'old news', 'c_old', NULL, 1)`,
    ).run();
    v4.close();

    const store = await h.reopen();
    expect((await store.listReactions('r_old', 1, 1)).size).toBe(0);
    const event = await store.addReaction('r_old', 1, 'u_old', '🎉', 20);
    expect(event).toMatchObject({
      seq: 2,
      type: 'reaction.added',
      data: { seq: 1, messageId: 'e_old', emoji: '🎉', userId: 'u_old' },
    });
    expect((await store.listReactions('r_old', 1, 1)).get(1)).toEqual([{ emoji: '🎉', count: 1, userIds: ['u_old'] }]);
    expect(
      (openRaw().prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    ).toEqual(migrations.map((m) => m.version));
  });

  it('migrations 7 and 8 upgrade a file with history: members start read up to now, receipts on, pins work', async () => {
    const old = await fileAt(6);
    for (const u of ['a', 'b']) {
      old
        .prepare(
          `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)
           VALUES (?, ?, ?, ?, 'x', 1)`,
        )
        .run(`u_${u}`, u, u, u);
    }
    old
      .prepare(
        `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
         VALUES ('r_old', 'public', 'old', 'old', 'u_a', 1, 4, 1, 2)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq)
         VALUES ('r_old', 'u_a', 'owner', 1, 1), ('r_old', 'u_b', 'member', 1, 2)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
         VALUES ('r_old', 3, 'e_3', 'message', 'u_a', 'one', 'c_3', NULL, 1),
                ('r_old', 4, 'e_4', 'message', 'u_a', 'two', 'c_4', NULL, 1)`,
      )
      .run();
    old.close();

    const store = await h.reopen();
    // Not the whole history unread after an upgrade: read up to the room's end.
    expect((await store.listRoomsOf('u_b')).find((r) => r.id === 'r_old')).toMatchObject({ readSeq: 4, unread: 0 });
    expect((await store.getUser('u_b'))?.readReceipts).toBe(true);
    await store.appendMessage({ id: 'e_5', roomId: 'r_old', senderId: 'u_a', clientMsgId: 'c_5', body: 'three' });
    expect((await store.listRoomsOf('u_b')).find((r) => r.id === 'r_old')).toMatchObject({ readSeq: 4, unread: 1 });
    expect((await store.pinMessage('r_old', 3, 'u_a', 10)).event).toMatchObject({ seq: 6, type: 'message.pinned' });
    expect((await store.listPins('r_old')).map((p) => p.message.id)).toEqual(['e_3']);
  });

  it('migration 11 upgrades a version-8 file, and one at the version before it: blocks work', async () => {
    const before = Math.max(...migrations.filter((m) => m.version < 11).map((m) => m.version));
    for (const from of [8, before]) {
      const old = await fileAt(from);
      for (const u of ['a', 'b']) {
        old
          .prepare(
            `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)
             VALUES (?, ?, ?, ?, 'x', 1)`,
          )
          .run(`u_${u}`, u, u, u);
      }
      old.close();
      const store = await h.reopen();
      expect(await store.listBlocks('u_a')).toEqual([]);
      expect((await store.blockUser('u_a', 'u_b', 10)).created).toBe(true);
      expect(await store.blockBetween('u_b', ['u_a'])).toBe(true);
      expect((await store.listBlocks('u_a')).map((b) => b.user.username)).toEqual(['b']);
      const versions = (
        openRaw().prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]
      ).map((r) => r.version);
      expect(versions).toEqual(migrations.map((m) => m.version));
    }
  });

  it('migration 12 indexes the messages stored before it, oldest first, in its own transaction', async () => {
    const seeded = await seedForSearchBackfill(h.store, uid);
    await h.store.close();
    const db = openRaw();
    db.exec('DROP TABLE message_fts; DROP TABLE message_search; DELETE FROM schema_migrations WHERE version = 12');
    db.close();
    raw = undefined;
    const store = await h.reopen();
    await expectBackfilled(store, seeded);
  });

  it('migration 10 upgrades a file at 9: members notified of all, do-not-disturb off', async () => {
    const old = await fileAt(9);
    old
      .prepare(
        `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)
         VALUES ('u_a', 'a', 'a', 'a', 'x', 1)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
         VALUES ('r_old', 'public', 'old', 'old', 'u_a', 1, 1, 1, 1)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq) VALUES ('r_old', 'u_a', 'owner', 1, 1)`,
      )
      .run();
    old.close();

    const store = await h.reopen();
    expect((await store.listRoomsOf('u_a')).find((r) => r.id === 'r_old')).toMatchObject({ notify: 'all' });
    expect((await store.getUser('u_a'))?.dndUntil).toBeNull();
    expect(await store.setNotifyLevel('r_old', 'u_a', 'mentions')).toEqual({ changed: true });
    expect((await store.listRoomsOf('u_a')).find((r) => r.id === 'r_old')).toMatchObject({ notify: 'mentions' });
    expect(await store.updateUserSettings('u_a', { dndUntil: 5000 })).toMatchObject({ dndUntil: 5000 });
    await store.close();
    const db = new Database(h.file, { readonly: true });
    try {
      const versions = (
        db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]
      ).map((r) => r.version);
      expect(versions).toEqual(migrations.map((m) => m.version));
      // The schema refuses a level no client knows.
      expect(() => db.prepare("UPDATE members SET notify = 'loud' WHERE user_id = 'u_a'").run()).toThrow();
    } finally {
      db.close();
    }
  });

  it('migration 9 upgrades a version-8 file: rooms get the default @room rule, mentions count and list by index', async () => {
    const old = await fileAt(8);
    for (const u of ['a', 'b']) {
      old
        .prepare(
          `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)
           VALUES (?, ?, ?, ?, 'x', 1)`,
        )
        .run(`u_${u}`, u, u, u);
    }
    old
      .prepare(
        `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
         VALUES ('r_old', 'public', 'old', 'old', 'u_a', 1, 3, 1, 2)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq, read_seq)
         VALUES ('r_old', 'u_a', 'owner', 1, 1, 3), ('r_old', 'u_b', 'member', 1, 2, 2)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
         VALUES ('r_old', 3, 'e_3', 'message', 'u_a', 'hi @b, from before mentions', 'c_3', NULL, 1)`,
      )
      .run();
    old.close();

    const store = await h.reopen();
    const mine = async () => (await store.listRoomsOf('u_b')).find((r) => r.id === 'r_old');
    // Old messages are not re-read for mentions: unread, but no mention.
    expect(await mine()).toMatchObject({ unread: 1, unreadMentions: 0, settings: { mentionAllRole: 'moderator' } });
    expect(await store.findMemberIds('r_old', ['B', 'nobody'])).toEqual(['u_b']);
    const { event } = await store.appendMessage({
      id: 'e_4',
      roomId: 'r_old',
      senderId: 'u_a',
      clientMsgId: 'c_4',
      body: '@b now',
      data: { mentions: ['u_b'] },
      mentionTargets: ['u_b'],
    });
    expect(await mine()).toMatchObject({ unread: 2, unreadMentions: 1 });
    expect((await store.listMentions('u_b', { limit: 10 })).map((m) => m.message.id)).toEqual([event.id]);
    const db = openRaw();
    expect(
      (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    ).toEqual(migrations.map((m) => m.version));
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan("SELECT * FROM mentions WHERE user_id = 'u_b' AND id < 100 ORDER BY id DESC LIMIT 50")).toContain(
      'mentions_inbox',
    );
    expect(plan("SELECT 1 FROM mentions WHERE user_id = 'u_b' AND room_id = 'r_old' AND seq > 2")).toContain(
      'mentions_by_room',
    );
  });

  it('migration 6 upgrades a version-4 file with messages: they take replies, and threads are served by indexes', async () => {
    const v4 = await fileAt(4);
    v4.prepare(
      `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)
       VALUES ('u_old', 'Old', 'old', 'Old', 'x', 1)`,
    ).run();
    v4.prepare(
      `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
       VALUES ('r_old', 'public', 'old', 'old', 'u_old', 1, 1, 1, 1)`,
    ).run();
    v4.prepare("INSERT INTO members (room_id, user_id, role, joined_at) VALUES ('r_old', 'u_old', 'owner', 1)").run();
    v4.prepare(
      `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
       VALUES ('r_old', 1, 'e_old', 'message', 'u_old', 'old root', 'c_old', NULL, 1)`,
    ).run();
    v4.close();

    const store = await h.reopen();
    expect(await store.getEvent('r_old', 1)).toMatchObject({ body: 'old root', data: null });
    const { event } = await store.appendMessage({
      id: 'e_new',
      roomId: 'r_old',
      senderId: 'u_old',
      clientMsgId: 'c_new',
      body: 're',
      data: { replyTo: 1, threadRoot: 1, threadOnly: false, quote: { senderId: 'u_old', body: 'old root' } },
    });
    expect(event.seq).toBe(2);
    expect(await store.listThread('r_old', 1, { limit: 10 })).toEqual([event]);
    expect((await store.threadSummaries('r_old', [1])).get(1)).toEqual({ replyCount: 1, lastReplyAt: event.createdAt });
    const db = openRaw();
    expect(
      (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    ).toEqual(migrations.map((m) => m.version));
    const plan = (sql: string, ...args: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('; ');
    // The statements of src/storage/sqlite/queries.ts (INDEXED BY fails to prepare when the index cannot serve).
    expect(
      plan(
        `SELECT * FROM events INDEXED BY events_thread WHERE room_id = ? AND json_extract(data, '$.threadRoot') = ?
           AND json_extract(data, '$.threadRoot') IS NOT NULL AND seq > ? ORDER BY seq LIMIT 50`,
        'r_old',
        1,
        0,
      ),
    ).toContain('events_thread');
    expect(
      plan(
        `UPDATE events INDEXED BY events_reply_to SET body = '' WHERE room_id = ? AND json_extract(data, '$.replyTo') = ?
           AND json_extract(data, '$.replyTo') IS NOT NULL`,
        'r_old',
        1,
      ),
    ).toContain('events_reply_to');
  });

  it('moderation queues are served by indexes, not table scans', () => {
    const db = openRaw();
    const plan = (sql: string, ...args: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join('; ');
    const checks = [
      plan("SELECT * FROM reports WHERE status = 'open' ORDER BY created_at DESC, id DESC LIMIT 50"),
      plan('SELECT * FROM reports WHERE room_id IN (?, ?) ORDER BY created_at DESC, id DESC LIMIT 50', 'a', 'b'),
      plan('SELECT * FROM reports ORDER BY created_at DESC, id DESC LIMIT 50'),
      plan('SELECT * FROM audit_log WHERE room_id = ? ORDER BY created_at DESC, id DESC LIMIT 50', 'a'),
      plan('SELECT * FROM audit_log ORDER BY created_at DESC, id DESC LIMIT 50'),
      plan('SELECT * FROM room_bans WHERE room_id = ?', 'a'),
    ];
    for (const p of checks) expect(p).not.toMatch(/SCAN (reports|audit_log|room_bans)(?! USING)/);
  });

  it('searchUsers excludes deactivated users; getUser reports them as deactivated', async () => {
    await user(h.store, 'active1');
    await user(h.store, 'active2');
    await user(h.store, 'activegone');
    // Set the column directly: what setDeactivated writes.
    openRaw().prepare('UPDATE users SET deactivated_at = ? WHERE id = ?').run(Date.now(), 'u_activegone');
    expect((await h.store.searchUsers('active', 10)).map((u) => u.username)).toEqual(['active1', 'active2']);
    expect(await h.store.getUser('u_activegone')).toMatchObject({ deactivated: true });
    expect(await h.store.getUser('u_active1')).toMatchObject({ deactivated: false });
  });

  /**
   * A disk that refuses to sync: the store's WAL descriptor is swapped for one of /dev/null, on which fdatasync
   * fails (EINVAL) as it would on a failing disk. The commits themselves succeed; only their sync fails.
   */
  function failingSync(store: SqliteStore) {
    const walFd = Reflect.get(store, 'walFd') as number | undefined;
    if (typeof walFd !== 'number') throw new Error('fixture: the store has not opened its WAL yet');
    const broken = fs.openSync('/dev/null', 'r+');
    Reflect.set(store, 'walFd', broken);
    return {
      /** The disk works again. */
      heal: () => {
        Reflect.set(store, 'walFd', walFd);
        fs.closeSync(broken);
      },
      /** For a store that closed while broken (it closed /dev/null): its WAL descriptor is ours to close. */
      release: () => fs.closeSync(walFd),
    };
  }

  it('a failed fdatasync acks nothing: the sends are refused as unavailable, and their retries find them once', async () => {
    const owner = await user(h.store, 'owner');
    const { room } = await h.store.createRoom({
      id: 'r_sync',
      kind: 'public',
      name: 'sync',
      topic: '',
      createdBy: owner.id,
      members: [{ userId: owner.id, role: 'owner' }],
    });
    const msg = (clientMsgId: string) => ({
      id: `e_${clientMsgId}`,
      roomId: room.id,
      senderId: owner.id,
      clientMsgId,
      body: clientMsgId,
    });
    const first = await h.store.appendMessage(msg('before'));
    const disk = failingSync(h.store);
    try {
      const results = await Promise.allSettled([h.store.appendMessage(msg('x1')), h.store.appendMessage(msg('x2'))]);
      for (const r of results) {
        expect(r.status, 'no ack without a successful sync').toBe('rejected');
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'unavailable' });
      }
      // Any other write waits for a sync too.
      await expect(user(h.store, 'latecomer')).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      disk.heal();
    }
    // The disk is back. The refused sends were committed (only their sync failed): retried with the same
    // clientMsgId, each is found at the seq it was given, once; a new send follows them.
    const x1 = await h.store.appendMessage(msg('x1'));
    const x2 = await h.store.appendMessage(msg('x2'));
    const after = await h.store.appendMessage(msg('after'));
    expect([x1.duplicate, x2.duplicate, after.duplicate]).toEqual([true, true, false]);
    const events = await h.store.listEvents(room.id, { after: first.event.seq - 1, limit: 10 });
    expect(events.map((e) => [e.seq, e.clientMsgId])).toEqual([
      [first.event.seq, 'before'],
      [first.event.seq + 1, 'x1'],
      [first.event.seq + 2, 'x2'],
      [first.event.seq + 3, 'after'],
    ]);
    expect([x1.event.seq, x2.event.seq, after.event.seq]).toEqual([2, 3, 4].map((d) => first.event.seq + d - 1));
  });

  it('close() finishes even when the last sync fails, refusing what was queued', async () => {
    const owner = await user(h.store, 'owner');
    await h.store.createRoom({
      id: 'r_close',
      kind: 'public',
      name: 'close',
      topic: '',
      createdBy: owner.id,
      members: [],
    });
    const disk = failingSync(h.store);
    try {
      const queued = h.store
        .appendMessage({ id: 'e_q', roomId: 'r_close', senderId: owner.id, clientMsgId: 'q', body: 'q' })
        .then(
          () => 'acked',
          (err: unknown) => err,
        );
      await expect(h.store.close()).resolves.toBeUndefined();
      expect(await queued).toMatchObject({ code: 'unavailable' });
    } finally {
      disk.release();
    }
  });

  it('creates the directory of its file', async () => {
    const file = path.join(h.dir, 'not', 'yet', 'chat.db');
    const store = new SqliteStore({ file });
    expect(fs.existsSync(file)).toBe(true);
    await expect(store.close()).resolves.toBeUndefined();
  });

  it("':memory:' (throwaway use) has no file to sync: writes and appends resolve, close finishes", async () => {
    const store = new SqliteStore({ file: ':memory:' });
    const owner = await user(store, 'owner');
    await store.createRoom({ id: 'r_mem', kind: 'public', name: 'mem', topic: '', createdBy: owner.id, members: [] });
    const { event } = await store.appendMessage({
      id: 'e_m',
      roomId: 'r_mem',
      senderId: owner.id,
      clientMsgId: 'm',
      body: 'm',
    });
    expect(event).toMatchObject({ seq: 2, clientMsgId: 'm' });
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('concurrent appends are group-committed and survive reopen byte for byte', async () => {
    const owner = await user(h.store, 'owner');
    await h.store.createRoom({
      id: 'r_many',
      kind: 'public',
      name: 'many',
      topic: '',
      createdBy: owner.id,
      members: [],
    });
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        h.store.appendMessage({
          id: `e_${i}`,
          roomId: 'r_many',
          senderId: owner.id,
          clientMsgId: `c${i}`,
          body: `${i}`,
        }),
      ),
    );
    expect(results.map((r) => r.event.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    await h.store.close();
    const reopened = await h.reopen();
    const events = await reopened.listEvents('r_many', { after: 1, limit: 1000 });
    expect(events).toEqual(results.map((r) => r.event));
    await reopened.close();
  });
});

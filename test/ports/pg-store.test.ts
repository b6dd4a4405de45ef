import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChatError } from '../../src/core/chat-error.js';
import type { NewMessage, Store, UserRecord } from '../../src/core/store.js';
import { FOREVER_MS, type RoomEvent } from '../../src/protocol/model.js';
import { parseQuery } from '../../src/core/search-text.js';
import { migrate } from '../../src/storage/postgres/migrate.js';
import { migrations } from '../../src/storage/postgres/migrations.js';
import { PgStore, toStoreError, type PgStoreOptions } from '../../src/storage/postgres/pg-store.js';
import { storeContract, type StoreUnderTest } from './contract/store-contract.js';
import { chainContract } from './contract/chain-contract.js';
import { expectBackfilled, seedForSearchBackfill } from './contract/search-backfill.js';
import { waitFor } from '../helpers/wait.js';
import { startPostgres, type PgTestServer, type TestDatabase } from '../helpers/postgres.js';

// One real PostgreSQL server for this file; every test gets its own database.
let server: PgTestServer;
/** A database migrated once, copied for each contract test (CREATE DATABASE … TEMPLATE): faster than migrating. */
let template: string;

beforeAll(async () => {
  server = await startPostgres();
  const db = await server.createDatabase({ prefix: 'template' });
  await (await PgStore.open({ connectionString: db.url })).close();
  template = db.name;
}, 120_000);

afterAll(async () => {
  await server?.destroy();
}, 60_000);

type StoreOptions = Omit<PgStoreOptions, 'connectionString'>;

/**
 * Copying the template costs ~100 ms of fsyncs (CREATE DATABASE writes the copy to the WAL): the next test's
 * database is made while the current test runs. A spare that fails (e.g. across a server restart) is replaced.
 */
let spare: Promise<TestDatabase> | null = null;
async function freshDatabase(): Promise<TestDatabase> {
  const ready = spare;
  spare = null;
  const db = (ready ? await ready.catch(() => undefined) : undefined) ?? (await server.createDatabase({ template }));
  spare = server.createDatabase({ template });
  spare.catch(() => {});
  return db;
}

/**
 * A fresh database (a copy of the migrated template: empty, with the current schema) with a PgStore over it;
 * `open` makes more stores (more "nodes") over the same database.
 */
async function pgHarness(opts: StoreOptions = {}) {
  const db = await freshDatabase();
  const opened: PgStore[] = [];
  const open = async (more: StoreOptions & { migrate?: boolean } = {}) => {
    const s = await PgStore.open({ connectionString: db.url, ...opts, ...more });
    opened.push(s);
    return s;
  };
  const store = await open();
  const harness = {
    db,
    store,
    open,
    reopen: () => open(),
    cleanup: async () => {
      for (const s of opened) await s.close();
      await server.dropDatabase(db.name);
    },
  };
  return harness satisfies StoreUnderTest;
}

// ---- helpers for the PostgreSQL-specific tests ----

let counter = 0;
const uid = (prefix: string) => `${prefix}_${(++counter).toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function createUser(store: Store, username: string, adminIfFirst = false): Promise<UserRecord> {
  return store.createUser({ id: uid('u'), username, displayName: username, passwordHash: 'x' }, { adminIfFirst });
}

async function createRoom(store: Store, owner: UserRecord, name = `room ${uid('n')}`) {
  return (
    await store.createRoom({
      id: uid('r'),
      kind: 'public',
      name,
      topic: '',
      createdBy: owner.id,
      members: [{ userId: owner.id, role: 'owner' }],
    })
  ).room;
}

const msg = (roomId: string, sender: UserRecord, clientMsgId: string, body = clientMsgId): NewMessage => ({
  id: uid('e'),
  roomId,
  senderId: sender.id,
  clientMsgId,
  body,
});

async function allEvents(store: Store, roomId: string): Promise<RoomEvent[]> {
  const out: RoomEvent[] = [];
  for (;;) {
    const page = await store.listEvents(roomId, { after: out.at(-1)?.seq ?? 0, limit: 1000 });
    if (page.length === 0) return out;
    out.push(...page);
  }
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** Sessions waiting for a lock in the database (polled from a fresh connection: pg_stat_activity is a snapshot
 *  per transaction). */
function lockWaiters(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const r = await c.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
    );
    return r.rows[0]?.n ?? 0;
  });
}

/**
 * Makes the next `times` inserts or updates of `table` fail with SQLSTATE `sqlstate`, raised by the server (a
 * statement trigger). The count lives in a SEQUENCE, which a rollback does not undo; `faultCalls` reads it.
 */
async function installFault(c: pg.Client, table: 'events' | 'users', sqlstate: string, times: number): Promise<void> {
  await dropFault(c);
  await c.query('CREATE SEQUENCE fault_calls');
  await c.query(`CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('fault_calls') <= ${times} THEN
        RAISE EXCEPTION 'injected fault' USING ERRCODE = '${sqlstate}';
      END IF;
      RETURN NULL;
    END $$`);
  await c.query(
    `CREATE TRIGGER inject_fault BEFORE INSERT OR UPDATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION inject_fault()`,
  );
}

async function dropFault(c: pg.Client): Promise<void> {
  await c.query('DROP TRIGGER IF EXISTS inject_fault ON events');
  await c.query('DROP TRIGGER IF EXISTS inject_fault ON users');
  await c.query('DROP FUNCTION IF EXISTS inject_fault()');
  await c.query('DROP SEQUENCE IF EXISTS fault_calls');
}

/** How many statements the injected fault has seen (failed or let through). */
async function faultCalls(c: pg.Client): Promise<number> {
  const r = await c.query<{ n: string }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM fault_calls');
  return Number(r.rows[0]?.n);
}

/** Asserts a promise rejects with ChatError `code`. */
async function expectChatError(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    (v) => {
      throw new Error(`resolved with ${JSON.stringify(v)}; expected ChatError ${code}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChatError);
  expect((err as ChatError).code).toBe(code);
}

describe('PgStore specifics', () => {
  let h: Awaited<ReturnType<typeof pgHarness>> | undefined;

  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it('runs on a server with fsync and synchronous_commit on', async () => {
    h = await pgHarness();
    await withClient(h.db.url, async (c) => {
      const setting = async (name: string) =>
        (await c.query<{ setting: string }>('SELECT setting FROM pg_settings WHERE name = $1', [name])).rows[0]
          ?.setting;
      expect(await setting('fsync')).toBe('on');
      expect(await setting('synchronous_commit')).toBe('on');
    });
  });

  it('schema: events keyed (room_id, seq), a partial unique index for idempotency, migrations recorded once', async () => {
    h = await pgHarness();
    await withClient(h.db.url, async (c) => {
      const indexes = new Map(
        (
          await c.query<{ indexname: string; indexdef: string }>(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
          )
        ).rows.map((r) => [r.indexname, r.indexdef]),
      );
      expect(indexes.get('events_pkey')).toMatch(/\(room_id, seq\)/);
      expect(indexes.get('events_idempotency')).toMatch(
        /UNIQUE INDEX .* \(sender_id, client_msg_id\) WHERE \(client_msg_id IS NOT NULL\)/,
      );
      expect(indexes.get('members_by_user')).toMatch(/\(user_id\)/);
      expect(indexes.get('rooms_directory')).toMatch(/\(name_key, id\) WHERE \(kind = 'public'::text\)/);
      const rows = (await c.query('SELECT version, name FROM schema_migrations ORDER BY version')).rows;
      expect(rows).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })));
      // No SEQUENCE for events: room seqs come from rooms.last_seq. The sequences number the mentions inbox and the
      // search index (its newest-first order).
      expect((await c.query("SELECT relname FROM pg_class WHERE relkind = 'S' ORDER BY relname")).rows).toEqual([
        { relname: 'mentions_id_seq' },
        { relname: 'message_search_docid_seq' },
      ]);
    });
    // Reopening applies nothing.
    expect(await h.store.migrate()).toEqual({ applied: [] });
  });

  it('migrations run concurrently from 3 nodes on an empty database apply each version exactly once', async () => {
    const db: TestDatabase = await server.createDatabase();
    const nodes = [0, 1, 2].map(() => new PgStore({ connectionString: db.url }));
    try {
      const results = await Promise.all(nodes.map((n) => n.migrate()));
      const versions = migrations.map((m) => m.version);
      expect(results.filter((r) => r.applied.length > 0)).toEqual([{ applied: versions }]);
      expect(results.filter((r) => r.applied.length === 0)).toHaveLength(2);
      await withClient(db.url, async (c) => {
        const rows = (
          await c.query('SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version')
        ).rows;
        expect(rows).toEqual(versions.map((version) => ({ version, n: 1 })));
        // The advisory lock was released by every node.
        expect((await c.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory'")).rowCount).toBe(0);
      });
      // Every node can serve at once.
      const owner = await createUser(nodes[0] as PgStore, 'owner');
      const room = await createRoom(nodes[1] as PgStore, owner);
      expect((await (nodes[2] as PgStore).appendMessage(msg(room.id, owner, 'k'))).event.seq).toBe(3);
      // And the same again with PgStore.open, concurrently, on another empty database.
      const db2 = await server.createDatabase();
      const opened = await Promise.all([0, 1, 2].map(() => PgStore.open({ connectionString: db2.url })));
      await Promise.all(opened.map((s) => s.close()));
      await withClient(db2.url, async (c) => {
        expect((await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows).toEqual(
          versions.map((version) => ({ version })),
        );
      });
      await server.dropDatabase(db2.name);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await server.dropDatabase(db.name);
    }
  });

  it('two nodes appending to one room at full speed: seqs exactly 1..n, each promise gets its own event, retries across nodes create nothing', async () => {
    h = await pgHarness();
    const nodes = [h.store, await h.open()];
    const senders = await Promise.all(['s1', 's2', 's3', 's4'].map((n) => createUser(h!.store, n)));
    const owner = senders[0] as UserRecord;
    const room = await createRoom(h.store, owner); // seqs 1, 2
    const perNode = 2000;
    const loops = 20;
    const perLoop = perNode / loops;

    const results = new Map<string, { event: RoomEvent; duplicate: boolean }[]>();
    const submitted = new Map<string, NewMessage>();
    const record = (key: string, r: { event: RoomEvent; duplicate: boolean }) =>
      results.set(key, [...(results.get(key) ?? []), r]);

    // Each node runs 20 concurrent senders, each sending 100 messages one after the other, so many small
    // batches from both nodes interleave on the room's lock. Every 10th message is also sent to the other node
    // at the same moment (a racing duplicate); every 7th is retried on the other node once acked.
    const run = async (n: number, loop: number) => {
      const here = nodes[n] as PgStore;
      const there = nodes[1 - n] as PgStore;
      for (let k = 0; k < perLoop; k++) {
        const sender = senders[(loop + k) % senders.length] as UserRecord;
        const key = `n${n}-l${loop}-m${k}`;
        const m = msg(room.id, sender, key, `body ${key}`);
        submitted.set(key, m);
        if (k % 10 === 0) {
          const [a, b] = await Promise.all([
            here.appendMessage(m),
            there.appendMessage({ ...m, id: uid('e'), body: 'racing copy' }),
          ]);
          record(key, a);
          record(key, b);
        } else {
          record(key, await here.appendMessage(m));
        }
        if (k % 7 === 0) record(key, await there.appendMessage({ ...m, id: uid('e'), body: 'retry' }));
      }
    };
    const started = Date.now();
    await Promise.all([0, 1].flatMap((n) => range(0, loops - 1).map((loop) => run(n, loop))));
    const elapsed = Date.now() - started;

    const total = 2 * perNode;
    expect(results.size).toBe(total);
    const seqs: number[] = [];
    for (const [key, rs] of results) {
      const m = submitted.get(key) as NewMessage;
      const originals = rs.filter((r) => !r.duplicate);
      expect(originals).toHaveLength(1);
      const stored = originals[0]?.event as RoomEvent;
      for (const r of rs) expect(r.event).toEqual(stored);
      expect(stored).toMatchObject({ roomId: room.id, senderId: m.senderId, clientMsgId: key, type: 'message' });
      // The original's own id and body, unless its racing copy won (then the copy's).
      if (stored.body !== 'racing copy') expect(stored).toMatchObject({ id: m.id, body: m.body });
      seqs.push(stored.seq);
    }
    expect(seqs.sort((a, b) => a - b)).toEqual(range(3, total + 2));

    // What a third node reads is exactly what the promises said.
    const reader = await h.open();
    const events = await allEvents(reader, room.id);
    expect(events.map((e) => e.seq)).toEqual(range(1, total + 2));
    expect((await reader.getRoom(room.id))?.lastSeq).toBe(total + 2);
    const byKey = new Map(events.filter((e) => e.type === 'message').map((e) => [e.clientMsgId, e]));
    for (const [key, rs] of results) expect(byKey.get(key)).toEqual(rs[0]?.event);
    console.info(
      `2 nodes x ${perNode} appends in ${elapsed} ms; batches ${nodes.map((s) => s.stats.batches).join('+')}, ` +
        `idempotency-race retries ${nodes.map((s) => s.stats.batchRetries).join('+')}`,
    );
  }, 120_000);

  it('an idempotency race between nodes leaves no gap: the loser becomes a duplicate, its batch-mates are stored', async () => {
    h = await pgHarness();
    const a = h.store;
    const b = await h.open();
    const owner = await createUser(a, 'owner');
    const other = await createUser(a, 'other');
    const room = await createRoom(a, owner); // seqs 1, 2
    const elsewhere = await createRoom(a, owner, 'elsewhere'); // seqs 1, 2

    // Hold the room's lock so that both nodes' batches pass their idempotency lookup (finding nothing) and
    // queue on the lock; whichever gets it second then collides on the unique index.
    const blocker = new pg.Client({ connectionString: h.db.url });
    blocker.on('error', () => {});
    await blocker.connect();
    // Sessions waiting for a lock in this database (polled outside the blocker's transaction: pg_stat_activity
    // is a snapshot per transaction).
    const lockWaiters = () =>
      withClient(h!.db.url, async (c) => {
        const r = await c.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        );
        return r.rows[0]?.n ?? 0;
      });
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [room.id]);
      const pa = a.appendMessage(msg(room.id, owner, 'racy', 'from a'));
      const pb = b.appendMessage(msg(room.id, owner, 'racy', 'from b'));
      const pb2 = b.appendMessage(msg(room.id, other, 'innocent', 'batch-mate on b'));
      await waitFor(async () => (await lockWaiters()) === 2, {
        what: 'both batches to wait for the room lock',
        timeoutMs: 10_000,
      });
      await blocker.query('COMMIT');
      const [ra, rb, rb2] = await Promise.all([pa, pb, pb2]);
      expect([ra.duplicate, rb.duplicate].sort()).toEqual([false, true]);
      expect(ra.event).toEqual(rb.event);
      expect(rb2).toMatchObject({ duplicate: false, event: { body: 'batch-mate on b' } });
      expect([ra.event.seq, rb2.event.seq].sort()).toEqual([3, 4]);
      expect(a.stats.batchRetries + b.stats.batchRetries).toBeGreaterThanOrEqual(1);
      expect((await allEvents(a, room.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);

      // The same key raced into two different rooms: one is stored, the other is client_msg_id_reused.
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM rooms WHERE id = ANY($1) FOR UPDATE', [[room.id, elsewhere.id]]);
      const qa = a.appendMessage(msg(room.id, owner, 'two-rooms'));
      const qb = b.appendMessage(msg(elsewhere.id, owner, 'two-rooms'));
      await waitFor(async () => (await lockWaiters()) === 2, {
        what: 'both batches to wait for the room locks',
        timeoutMs: 10_000,
      });
      await blocker.query('COMMIT');
      const settled = await Promise.allSettled([qa, qb]);
      const ok = settled.filter((s) => s.status === 'fulfilled');
      const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toBeInstanceOf(ChatError);
      expect((failed[0] as ChatError).code).toBe('client_msg_id_reused');
      const winner = (ok[0] as PromiseFulfilledResult<{ event: RoomEvent }>).value.event;
      expect(winner).toMatchObject({ clientMsgId: 'two-rooms', seq: winner.roomId === room.id ? 5 : 3 });
      const lastSeqs = [(await a.getRoom(room.id))?.lastSeq, (await a.getRoom(elsewhere.id))?.lastSeq];
      expect(lastSeqs).toEqual(winner.roomId === room.id ? [5, 2] : [4, 3]);
      for (const r of [room, elsewhere]) {
        const seqs = (await allEvents(a, r.id)).map((e) => e.seq);
        expect(seqs).toEqual(range(1, seqs.length));
      }
    } finally {
      await blocker.end().catch(() => {});
    }
  });

  it('adminIfFirst and DM creation are atomic across nodes', async () => {
    const db = await server.createDatabase();
    const nodes = await Promise.all([0, 1, 2].map(() => PgStore.open({ connectionString: db.url })));
    try {
      const users = await Promise.all(range(0, 8).map((i) => createUser(nodes[i % 3] as PgStore, `early${i}`, true)));
      expect(users.filter((u) => u.role === 'admin')).toHaveLength(1);
      const [x, y] = users as [UserRecord, UserRecord];
      const dmKey = [x.id, y.id].sort().join(',');
      const results = await Promise.all(
        range(0, 8).map((i) =>
          (nodes[i % 3] as PgStore).createRoom({
            id: uid('r'),
            kind: 'dm',
            name: '',
            topic: '',
            createdBy: x.id,
            dmKey,
            members: [
              { userId: x.id, role: 'member' },
              { userId: y.id, role: 'member' },
            ],
          }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.room.id)).size).toBe(1);
      expect(await (nodes[0] as PgStore).countRoomsOf(x.id)).toBe(1);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await server.dropDatabase(db.name);
    }
  });

  it('migration 3 makes public room names unique ignoring case, renaming the newer of existing clashes', async () => {
    const db = await server.createDatabase();
    try {
      await withClient(db.url, async (c) => {
        const upTo2 = migrations.filter((m) => m.version <= 2);
        expect(await migrate(c, { migrations: upTo2 })).toEqual({ applied: [1, 2] });
        await c.query(
          `INSERT INTO users (id, username, username_key, display_name, display_name_key, password_hash, created_at)
           VALUES ('u_old', 'Old', 'old', 'Old Timer', 'old timer', 'x', 1000)`,
        );
        const room = `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at,
                        member_count) VALUES ($1, $2, $3, $4, 'u_old', $5, 0, 1000, 0)`;
        await c.query(room, ['r_first', 'public', 'design-reviews', 'design-reviews', 1000]);
        await c.query(room, ['r_Second', 'public', 'Design-Reviews', 'design-reviews', 2000]);
        await c.query(room, ['r_private', 'private', 'design-reviews', 'design-reviews', 3000]);
      });
      const store = await PgStore.open({ connectionString: db.url });
      try {
        expect((await store.getRoom('r_first'))?.name).toBe('design-reviews');
        expect((await store.getRoom('r_Second'))?.name).toBe('Design-Reviews (r_Second)');
        expect((await store.getRoom('r_private'))?.name).toBe('design-reviews');
        // The appended id is folded like any name, so search finds it in any case.
        expect((await store.searchPublicRooms('design-reviews (r_second)', 5)).rooms.map((r) => r.id)).toEqual([
          'r_Second',
        ]);
        await expect(store.updateRoom('r_Second', { name: 'DESIGN-reviews' }, 'u_old')).rejects.toMatchObject({
          code: 'room_name_taken',
        });
      } finally {
        await store.close();
      }
    } finally {
      await server.dropDatabase(db.name);
    }
  });

  it('migration 6 upgrades a populated v4 database: old messages take replies, threads are listed by index', async () => {
    const db = await server.createDatabase();
    try {
      await withClient(db.url, async (c) => {
        const upTo4 = migrations.filter((m) => m.version <= 4);
        expect(await migrate(c, { migrations: upTo4 })).toEqual({ applied: upTo4.map((m) => m.version) });
        await c.query(
          `INSERT INTO users (id, username, username_key, display_name, display_name_key, password_hash, created_at)
           VALUES ('u_old', 'Old', 'old', 'Old Timer', 'old timer', 'x', 1000)`,
        );
        await c.query(
          `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
           VALUES ('r_old', 'public', 'Lobby', 'lobby', 'u_old', 1000, 2, 1000, 1)`,
        );
        await c.query(
          `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
           VALUES ('r_old', 1, 'e_old', 'message', 'u_old', 'old root', 'c_old', NULL, 1000),
                  ('r_old', 2, 'e_old2', 'member.joined', 'u_old', NULL, NULL, '{"userId": "u_old"}', 1000)`,
        );
      });
      const store = await PgStore.open({ connectionString: db.url });
      try {
        const root = (await store.getEvent('r_old', 1))!;
        expect(root).toMatchObject({ body: 'old root', data: null });
        expect(await store.listThread('r_old', 1, { limit: 10 })).toEqual([]);
        const { event } = await store.appendMessage({
          ...msg('r_old', { id: 'u_old' } as UserRecord, 'c_new', 're'),
          data: { replyTo: 1, threadRoot: 1, threadOnly: false, quote: { senderId: 'u_old', body: 'old root' } },
        });
        expect(event.seq).toBe(3);
        expect(await store.listThread('r_old', 1, { limit: 10 })).toEqual([event]);
        expect((await store.threadSummaries('r_old', [1])).get(1)).toEqual({
          replyCount: 1,
          lastReplyAt: event.createdAt,
        });
        expect(await store.migrate()).toEqual({ applied: [] });
        await withClient(db.url, async (c) => {
          const versions = (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows;
          expect(versions.map((r) => r.version)).toContain(6);
          // The thread query can use the partial expression index (seqscan off: the table is tiny).
          await c.query('SET enable_seqscan = off');
          const plan = await c.query(
            `EXPLAIN SELECT * FROM events WHERE room_id = 'r_old' AND (data->>'threadRoot')::bigint = 1
               AND (data->>'threadRoot')::bigint IS NOT NULL AND seq > 0 ORDER BY seq LIMIT 50`,
          );
          expect(JSON.stringify(plan.rows)).toContain('events_thread');
        });
      } finally {
        await store.close();
      }
    } finally {
      await server.dropDatabase(db.name);
    }
  });

  it('migration 4 upgrades a populated v3 database: messages read unedited, then edit and keep a history', async () => {
    const db = await server.createDatabase();
    try {
      await withClient(db.url, async (c) => {
        const upTo3 = migrations.filter((m) => m.version <= 3);
        expect(await migrate(c, { migrations: upTo3 })).toEqual({ applied: [1, 2, 3] });
        await c.query(
          `INSERT INTO users (id, username, username_key, display_name, display_name_key, password_hash, created_at)
           VALUES ('u_old', 'Old', 'old', 'Old Timer', 'old timer', 'x', 1000)`,
        );
        await c.query(
          `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
           VALUES ('r_old', 'public', 'Lobby', 'lobby', 'u_old', 1000, 1, 1000, 1)`,
        );
        await c.query(
          `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
           VALUES ('r_old', 1, 'e_old', 'message', 'u_old', 'typo', 'c_old', NULL, 1000)`,
        );
      });
      const store = await PgStore.open({ connectionString: db.url });
      try {
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
        expect(await store.migrate()).toEqual({ applied: [] });
      } finally {
        await store.close();
      }
    } finally {
      await server.dropDatabase(db.name);
    }
  });

  it('migration 5 upgrades a populated v4 database: messages read without reactions, then take some', async () => {
    const db = await server.createDatabase();
    try {
      await withClient(db.url, async (c) => {
        const upTo4 = migrations.filter((m) => m.version <= 4);
        expect(await migrate(c, { migrations: upTo4 })).toEqual({ applied: [1, 2, 3, 4] });
        await c.query(
          `INSERT INTO users (id, username, username_key, display_name, display_name_key, password_hash, created_at)
           VALUES ('u_old', 'Old', 'old', 'Old Timer', 'old timer', 'x', 1000)`,
        );
        await c.query(
          `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
           VALUES ('r_old', 'public', 'Lobby', 'lobby', 'u_old', 1000, 1, 1000, 1)`,
        );
        await c.query(
          `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
           VALUES ('r_old', 1, 'e_old', 'message', 'u_old', 'old news', 'c_old', NULL, 1000)`,
        );
      });
      const store = await PgStore.open({ connectionString: db.url });
      try {
        expect((await store.listReactions('r_old', 1, 1)).size).toBe(0);
        const event = await store.addReaction('r_old', 1, 'u_old', '🎉', 20);
        expect(event).toMatchObject({
          seq: 2,
          type: 'reaction.added',
          data: { seq: 1, messageId: 'e_old', emoji: '🎉', userId: 'u_old' },
        });
        expect((await store.listReactions('r_old', 1, 1)).get(1)).toEqual([
          { emoji: '🎉', count: 1, userIds: ['u_old'] },
        ]);
        expect(await store.migrate()).toEqual({ applied: [] });
      } finally {
        await store.close();
      }
    } finally {
      await server.dropDatabase(db.name);
    }
  });

  it('migrations 7 and 8 upgrade a populated database: members start read up to now, receipts on, pins work', async () => {
    const db = await server.createDatabase();
    try {
      await withClient(db.url, async (c) => {
        await migrate(c, { migrations: migrations.filter((m) => m.version < 7) });
        for (const u of ['a', 'b']) {
          await c.query(
            `INSERT INTO users (id, username, username_key, display_name, display_name_key, password_hash, created_at)
             VALUES ($1, $2, $2, $2, $2, 'x', 1000)`,
            [`u_${u}`, u],
          );
        }
        await c.query(
          `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
           VALUES ('r_old', 'public', 'Lobby', 'lobby', 'u_a', 1000, 4, 1000, 2)`,
        );
        await c.query(
          `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq)
           VALUES ('r_old', 'u_a', 'owner', 1000, 1), ('r_old', 'u_b', 'member', 1000, 2)`,
        );
        await c.query(
          `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
           VALUES ('r_old', 3, 'e_3', 'message', 'u_a', 'one', 'c_3', NULL, 1000),
                  ('r_old', 4, 'e_4', 'message', 'u_a', 'two', 'c_4', NULL, 1000)`,
        );
      });
      const store = await PgStore.open({ connectionString: db.url });
      try {
        const mine = async () => (await store.listRoomsOf('u_b')).find((r) => r.id === 'r_old');
        expect(await mine()).toMatchObject({ readSeq: 4, unread: 0 });
        expect((await store.getUser('u_b'))?.readReceipts).toBe(true);
        await store.appendMessage({ id: 'e_5', roomId: 'r_old', senderId: 'u_a', clientMsgId: 'c_5', body: 'three' });
        expect(await mine()).toMatchObject({ readSeq: 4, unread: 1 });
        expect((await store.pinMessage('r_old', 3, 'u_a', 10)).event).toMatchObject({ seq: 6, type: 'message.pinned' });
        expect((await store.listPins('r_old')).map((p) => p.message.id)).toEqual(['e_3']);
      } finally {
        await store.close();
      }
    } finally {
      await server.dropDatabase(db.name);
    }
  });

  it('migration 11 upgrades a v8 database, and one at the version before it: blocks work', async () => {
    const before = Math.max(...migrations.filter((m) => m.version < 11).map((m) => m.version));
    for (const from of [8, before]) {
      const db = await server.createDatabase();
      try {
        await withClient(db.url, async (c) => {
          await migrate(c, { migrations: migrations.filter((m) => m.version <= from) });
          for (const u of ['a', 'b']) {
            await c.query(
              `INSERT INTO users (id, username, username_key, display_name, display_name_key, password_hash, created_at)
               VALUES ($1, $2, $2, $2, $2, 'x', 1000)`,
              [`u_${u}`, u],
            );
          }
        });
        const store = await PgStore.open({ connectionString: db.url });
        try {
          expect(await store.listBlocks('u_a')).toEqual([]);
          expect((await store.blockUser('u_a', 'u_b', 10)).created).toBe(true);
          expect(await store.blockBetween('u_b', ['u_a'])).toBe(true);
          expect((await store.listBlocks('u_a')).map((b) => b.user.username)).toEqual(['b']);
        } finally {
          await store.close();
        }
        await withClient(db.url, async (c) => {
          const versions = (await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY 1'))
            .rows;
          expect(versions.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
        });
      } finally {
        await server.dropDatabase(db.name);
      }
    }
  });

  it('migration 12 indexes the messages stored before it, oldest first, in its own transaction', async () => {
    h = await pgHarness();
    const seeded = await seedForSearchBackfill(h.store, uid);
    await h.store.close();
    await withClient(h.db.url, async (c) => {
      await c.query('DROP TABLE message_search');
      await c.query('DELETE FROM schema_migrations WHERE version = 12');
    });
    const store = await h.open();
    await expectBackfilled(store, seeded);
  });

  it('migration 20 adds CJK bigrams to the messages indexed before it', async () => {
    h = await pgHarness();
    const seeded = await seedForSearchBackfill(h.store, uid);
    await h.store.close();
    await withClient(h.db.url, async (c) => {
      // The index as migration 12 left it: unigrams only, where a phrase query finds nothing.
      await c.query(
        "UPDATE message_search SET terms = ts_delete(terms, ARRAY(SELECT lexeme FROM unnest(terms) WHERE lexeme LIKE 'B%'))",
      );
      await c.query('DELETE FROM schema_migrations WHERE version = 20');
    });
    const store = await h.open();
    await expectBackfilled(store, seeded);
  });

  it('a newest-first search widens its docid windows until the page is full, across gaps, and pages on', async () => {
    h = await pgHarness();
    const { user, room } = await seedForSearchBackfill(h.store, uid);
    const send = (body: string) =>
      h!.store.appendMessage({ id: uid('e'), roomId: room.id, senderId: user.id, clientMsgId: uid('c'), body });
    // Index entries far apart: the newest rows (read one by one for a query of several terms) and the first window
    // (the newest 50,000 docids) hold only the last of them.
    await send('needle one 针线活');
    await withClient(h.db.url, (c) => c.query("SELECT setval('message_search_docid_seq', 150000)"));
    await send('needle two 针线活');
    await withClient(h.db.url, (c) => c.query("SELECT setval('message_search_docid_seq', 900000)"));
    await send('needle three 针线活');
    await send('needle 针 and 线活 apart: no phrase');
    await send('needle four 针线活');
    // One GIN term, and several (a word and a three-character phrase): the second reads the newest rows first.
    for (const q of ['needle', 'needle 针线活']) {
      const search = (limit: number, cursor?: number) =>
        h!.store.searchMessages({
          userId: user.id,
          parts: parseQuery(q, 8),
          sort: 'newest',
          limit,
          ...(cursor !== undefined ? { cursor } : {}),
        });
      const all = ['needle four 针线活', 'needle three 针线活', 'needle two 针线活', 'needle one 针线活'];
      const expected = q === 'needle' ? [all[0], 'needle 针 and 线活 apart: no phrase', ...all.slice(1)] : all;
      expect((await search(10)).map((x) => x.message.body)).toEqual(expected);
      // One at a time, the cursor crossing from the rows read one by one into the windows and across the gaps.
      const walked: string[] = [];
      let cursor: number | undefined;
      for (let i = 0; i < expected.length + 1; i++) {
        const page = await search(1, cursor);
        if (page.length === 0) break;
        walked.push(page[0]!.message.body!);
        cursor = page[0]!.position;
      }
      expect(walked).toEqual(expected);
    }
  });

  it('migration 10 upgrades a database at 9: members notified of all, do-not-disturb off', async () => {
    const db = await server.createDatabase();
    try {
      await withClient(db.url, async (c) => {
        await migrate(c, { migrations: migrations.filter((m) => m.version <= 9) });
        await c.query(
          `INSERT INTO users (id, username, username_key, display_name, display_name_key, password_hash, created_at)
           VALUES ('u_a', 'a', 'a', 'a', 'a', 'x', 1000)`,
        );
        await c.query(
          `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
           VALUES ('r_old', 'public', 'Lobby', 'lobby', 'u_a', 1000, 1, 1000, 1)`,
        );
        await c.query(
          `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq) VALUES ('r_old', 'u_a', 'owner', 1000, 1)`,
        );
      });
      const store = await PgStore.open({ connectionString: db.url });
      try {
        const mine = async () => (await store.listRoomsOf('u_a')).find((r) => r.id === 'r_old');
        expect(await mine()).toMatchObject({ notify: 'all' });
        expect((await store.getUser('u_a'))?.dndUntil).toBeNull();
        expect(await store.setNotifyLevel('r_old', 'u_a', 'none')).toEqual({ changed: true });
        expect(await mine()).toMatchObject({ notify: 'none' });
        expect(await store.updateUserSettings('u_a', { dndUntil: 5000 })).toMatchObject({ dndUntil: 5000 });
        expect(await store.migrate()).toEqual({ applied: [] });
        await withClient(db.url, async (c) => {
          const versions = (
            await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
          ).rows;
          expect(versions.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
          // The schema refuses a level no client knows.
          await expect(c.query("UPDATE members SET notify = 'loud' WHERE user_id = 'u_a'")).rejects.toThrow(/check/i);
        });
      } finally {
        await store.close();
      }
    } finally {
      await server.dropDatabase(db.name);
    }
  });

  it('migration 9 upgrades a populated v8 database: rooms get the default @room rule, mentions count and list by index', async () => {
    const db = await server.createDatabase();
    try {
      await withClient(db.url, async (c) => {
        await migrate(c, { migrations: migrations.filter((m) => m.version < 9) });
        for (const u of ['a', 'b']) {
          await c.query(
            `INSERT INTO users (id, username, username_key, display_name, display_name_key, password_hash, created_at)
             VALUES ($1, $2, $2, $2, $2, 'x', 1000)`,
            [`u_${u}`, u],
          );
        }
        await c.query(
          `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
           VALUES ('r_old', 'public', 'Lobby', 'lobby', 'u_a', 1000, 3, 1000, 2)`,
        );
        await c.query(
          `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq, read_seq)
           VALUES ('r_old', 'u_a', 'owner', 1000, 1, 3), ('r_old', 'u_b', 'member', 1000, 2, 2)`,
        );
        await c.query(
          `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
           VALUES ('r_old', 3, 'e_3', 'message', 'u_a', 'hi @b, from before mentions', 'c_3', NULL, 1000)`,
        );
      });
      const store = await PgStore.open({ connectionString: db.url });
      try {
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
        expect(await store.migrate()).toEqual({ applied: [] });
      } finally {
        await store.close();
      }
      await withClient(db.url, async (c) => {
        // The statements' shapes are served by an index, not a scan of every mention (seqscan off: the table is tiny).
        await c.query('SET enable_seqscan = off');
        const plan = async (sql: string) =>
          (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(
          await plan("SELECT * FROM mentions mn WHERE mn.user_id = 'u_b' AND mn.id < 100 ORDER BY mn.id DESC LIMIT 50"),
        ).toMatch(/mentions_inbox/);
        expect(
          await plan("SELECT 1 FROM mentions mn WHERE mn.user_id = 'u_b' AND mn.room_id = 'r_old' AND mn.seq > 2"),
        ).toMatch(/Index (Only )?Scan using mentions_by_(room|message)/);
      });
    } finally {
      await server.dropDatabase(db.name);
    }
  });

  it('migration 2 upgrades a populated v1 database: existing rooms get default settings, members stay, roles gain moderator', async () => {
    const db = await server.createDatabase();
    try {
      const v1 = migrations.filter((m) => m.version === 1);
      await withClient(db.url, async (c) => {
        expect(await migrate(c, { migrations: v1 })).toEqual({ applied: [1] });
        await c.query(
          `INSERT INTO users (id, username, username_key, display_name, display_name_key, password_hash, created_at)
           VALUES ('u_old', 'Old', 'old', 'Old Timer', 'old timer', 'x', 1000)`,
        );
        await c.query(
          `INSERT INTO rooms (id, kind, name, name_key, created_by, created_at, last_seq, last_event_at, member_count)
           VALUES ('r_old', 'public', 'Lobby', 'lobby', 'u_old', 1000, 2, 1000, 1)`,
        );
        await c.query(
          `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq) VALUES ('r_old', 'u_old', 'owner', 1000, 2)`,
        );
        // v1 knows no moderators.
        await expect(c.query("UPDATE members SET role = 'moderator'")).rejects.toThrow(/members_role_check/);
      });
      const store = await PgStore.open({ connectionString: db.url });
      try {
        expect(await store.migrate()).toEqual({ applied: [] });
        expect(await store.getRoom('r_old')).toMatchObject({
          lastSeq: 2,
          memberCount: 1,
          settings: { readOnly: false, slowModeSeconds: 0, joinApproval: false, mentionAllRole: 'moderator' },
        });
        expect(await store.getUser('u_old')).toMatchObject({ deactivated: false, bannedUntil: null });
        expect(await store.getMember('r_old', 'u_old')).toEqual({ role: 'owner', mutedUntil: null, joinedSeq: 2 });
        const other = await createUser(store, 'newcomer');
        const joined = await store.addMember('r_old', other.id, 'moderator', 'u_old');
        expect(joined).toMatchObject({ seq: 3, data: { userId: other.id, role: 'moderator' } });
        await withClient(db.url, async (c) => {
          await expect(c.query("UPDATE members SET role = 'superuser'")).rejects.toThrow(/members_role_check/);
          await expect(c.query('UPDATE rooms SET slow_mode_s = -1')).rejects.toThrow(/check/);
        });
      } finally {
        await store.close();
      }
    } finally {
      await server.dropDatabase(db.name);
    }
  });

  it('moderation across nodes: racing deletes and resolves have one winner; seqs stay gap-free', async () => {
    h = await pgHarness();
    const nodes = [h.store, await h.open(), await h.open()];
    const node = (i: number) => nodes[i % nodes.length] as PgStore;
    const owner = await createUser(h.store, 'owner');
    const members = await Promise.all(range(1, 6).map((i) => createUser(h!.store, `m${i}`)));
    const room = await createRoom(h.store, owner); // 1, 2
    for (const m of members) await h.store.addMember(room.id, m.id, 'member', m.id); // 3..8
    const sent = await Promise.all(range(1, 4).map((i) => node(i).appendMessage(msg(room.id, owner, `x${i}`)))); // 9..12

    const [m1, m2, m3, m4] = members as [UserRecord, UserRecord, UserRecord, UserRecord];
    const report = await node(0).createReport({
      id: uid('p'),
      reporterId: m1.id,
      roomId: room.id,
      seq: sent[0]?.event.seq ?? 0,
      targetUserId: owner.id,
      reason: 'rude',
      excerpt: 'x1',
    });
    const results = await Promise.all([
      // Every node deletes the same two messages; every node resolves the same report.
      ...[0, 1].flatMap((k) => [0, 1, 2].map((n) => node(n).deleteMessage(room.id, sent[k]?.event.seq ?? 0, owner.id))),
      ...[0, 1, 2].map((n) => node(n).resolveReport(report.id, 'deleted', owner.id)),
      // Meanwhile messages and other moderation, spread over the nodes.
      ...range(1, 30).map((i) =>
        node(i)
          .appendMessage(msg(room.id, owner, `y${i}`))
          .then((r) => r.event),
      ),
      node(0).muteMember(room.id, m1.id, FOREVER_MS, owner.id),
      node(1).banFromRoom(room.id, m2.id, { until: FOREVER_MS, reason: 'spam' }, owner.id),
      node(2).banFromRoom(room.id, m2.id, { until: FOREVER_MS, reason: 'spam again' }, owner.id),
      node(0).removeMember(room.id, m3.id, owner.id, 'removed'),
      node(1).setMemberRole(room.id, m4.id, 'moderator', owner.id),
      node(2)
        .updateRoom(room.id, { settings: { readOnly: true } }, owner.id)
        .then((r) => r.event),
    ]);
    const deletes = results.slice(0, 6);
    expect(deletes.slice(0, 3).filter((r) => r !== null)).toHaveLength(1);
    expect(deletes.slice(3, 6).filter((r) => r !== null)).toHaveLength(1);
    const resolves = results.slice(6, 9);
    expect(resolves.filter((r) => r !== null)).toHaveLength(1);
    expect(await node(2).getReport(report.id)).toEqual(resolves.find((r) => r !== null));
    // One of the two bans removed the member; the other only replaced the ban.
    const bans = results.slice(-5, -3);
    expect(bans.filter((r) => r !== null)).toHaveLength(1);

    const events = await allEvents(node(1), room.id);
    const n = events.length;
    expect(events.map((e) => e.seq)).toEqual(range(1, n));
    // 12 before, 2 deletions, 30 messages, mute, 1 ban, remove, role, update.
    expect(n).toBe(12 + 2 + 30 + 5);
    expect((await node(2).getRoom(room.id))?.lastSeq).toBe(n);
    expect(await node(0).getRoom(room.id)).toMatchObject({ memberCount: 5, settings: { readOnly: true } });
    for (const e of results) if (e && 'seq' in e && 'type' in e) expect(events[e.seq - 1]).toEqual(e);
    expect(await node(0).getRoomBan(room.id, m2.id)).toMatchObject({ until: FOREVER_MS });
    // The four first messages were appended concurrently, so their seqs come in any order: compare as sets.
    expect(events.filter((e) => e.type === 'message' && e.body === '').map((e) => e.seq)).toEqual(
      sent
        .slice(0, 2)
        .map((s) => s.event.seq)
        .sort((a, b) => a - b),
    );
  });

  it('searchUsers and the directory fold Unicode case on a C-locale database', async () => {
    h = await pgHarness();
    await withClient(h.db.url, async (c) => {
      const r = await c.query<{ datctype: string }>(
        'SELECT datctype FROM pg_database WHERE datname = current_database()',
      );
      expect(r.rows[0]?.datctype).toBe('C'); // lower() would fold ASCII only here
    });
    const u = await h.store.createUser(
      { id: uid('u'), username: 'zoe', displayName: 'ZOË ÅSTRÖM', passwordHash: 'x' },
      { adminIfFirst: false },
    );
    expect((await h.store.searchUsers('zoë å', 10)).map((x) => x.id)).toEqual([u.id]);
    const room = await createRoom(h.store, u, 'ÇA VA');
    expect((await h.store.searchPublicRooms('ça', 10)).rooms.map((r) => r.id)).toEqual([room.id]);
  });

  // ---- failure paths: driver errors, lost connections, retried batches, close ----

  it('toStoreError maps real server errors: each constraint to its code, transient SQLSTATE classes to unavailable, the rest passed through', async () => {
    h = await pgHarness();
    const owner = await createUser(h.store, 'owner');
    const room = await createRoom(h.store, owner, 'first');
    const second = await createRoom(h.store, owner, 'second');
    const mapped = async (c: pg.Client, sql: string, params: unknown[] = []) => {
      const err = await c.query(sql, params).then(
        () => {
          throw new Error(`no error from ${sql}`);
        },
        (e: unknown) => e,
      );
      return { err, out: toStoreError(err) };
    };
    const code = (out: unknown) => (out instanceof ChatError ? out.code : `passed through: ${String(out)}`);
    await withClient(h.db.url, async (c) => {
      // The constraints the mapping names, violated for real. (The store itself mostly gets there first with
      // ON CONFLICT or a check; the mapping backs those up against races.)
      const dupUser = await mapped(
        c,
        `INSERT INTO users (id, username, username_key, display_name, display_name_key, role, password_hash, created_at)
         SELECT 'u_dup', username, username_key, display_name, display_name_key, role, password_hash, created_at
         FROM users WHERE id = $1`,
        [owner.id],
      );
      expect(code(dupUser.out)).toBe('username_taken');
      const dupRoom = await mapped(c, 'UPDATE rooms SET name_key = $1 WHERE id = $2', ['first', second.id]);
      expect(code(dupRoom.out)).toBe('room_name_taken');
      const noUser = await mapped(
        c,
        "INSERT INTO members (room_id, user_id, role, joined_at) VALUES ($1, 'u_ghost', 'member', 0)",
        [room.id],
      );
      expect(code(noUser.out)).toBe('user_not_found');
      const noRoom = await mapped(
        c,
        "INSERT INTO members (room_id, user_id, role, joined_at) VALUES ('r_ghost', $1, 'member', 0)",
        [owner.id],
      );
      expect(code(noRoom.out)).toBe('room_not_found');
      // Other violations of the same classes are not those codes: another unique key, and a 23503 naming no
      // constraint at all.
      const otherUnique = await mapped(
        c,
        'UPDATE events SET id = (SELECT id FROM events WHERE room_id = $1 AND seq = 1) WHERE room_id = $1 AND seq = 2',
        [room.id],
      );
      expect((otherUnique.err as pg.DatabaseError).code).toBe('23505');
      expect(otherUnique.out).toBe(otherUnique.err);
      const bareFk = await mapped(c, "DO $$ BEGIN RAISE EXCEPTION 'fk' USING ERRCODE = '23503'; END $$");
      expect(bareFk.out).toBe(bareFk.err);
      // A foreign key to neither users nor rooms (none exists yet) is not taken for either.
      const otherFk = await mapped(
        c,
        "DO $$ BEGIN RAISE EXCEPTION 'fk' USING ERRCODE = '23503', CONSTRAINT = 'message_edits_event_fkey'; END $$",
      );
      expect((otherFk.err as pg.DatabaseError).constraint).toBe('message_edits_event_fkey');
      expect(otherFk.out).toBe(otherFk.err);

      // Transient: real ones where one is cheap to cause, raised ones for the rest of the table.
      await c.query('SET statement_timeout = 1');
      const cancelled = await mapped(c, 'SELECT pg_sleep(5)');
      await c.query('RESET statement_timeout');
      expect((cancelled.err as pg.DatabaseError).code).toBe('57014');
      expect(code(cancelled.out)).toBe('unavailable');
      await c.query('SET default_transaction_read_only = on');
      const ro = await mapped(c, "UPDATE users SET status_text = 'x'");
      await c.query('RESET default_transaction_read_only');
      expect((ro.err as pg.DatabaseError).code).toBe('25006');
      expect(code(ro.out)).toBe('unavailable');
      for (const transient of ['08006', '53300', '57P01', '58030', '40001', '40P01', '55P03', '25006', '25P03']) {
        const r = await mapped(c, `DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '${transient}'; END $$`);
        expect([transient, code(r.out)]).toEqual([transient, 'unavailable']);
        expect((r.out as ChatError).message).toContain('injected');
      }
      // Not transient: bugs and bad data, including other codes of the classes that have one transient code.
      for (const [sql, expected] of [
        ['SELEC 1', '42601'],
        ['SELECT 1 / 0', '22012'],
        ["DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '55000'; END $$", '55000'],
        ["DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '25001'; END $$", '25001'],
      ] as const) {
        const r = await mapped(c, sql);
        expect((r.err as pg.DatabaseError).code).toBe(expected);
        expect(r.out).toBe(r.err);
      }
      // A lost connection: the server's FATAL (57P01), then the client's own error on the dead connection.
      const killed = await mapped(c, 'SELECT pg_terminate_backend(pg_backend_pid())');
      expect(code(killed.out)).toBe('unavailable');
      const dead = await mapped(c, 'SELECT 1');
      expect(dead.err).not.toBeInstanceOf(pg.DatabaseError);
      expect(code(dead.out)).toBe('unavailable');
    });
    // Programming errors are bugs, not outages: passed through as they are. A domain error stays itself.
    for (const bug of [new TypeError('t'), new RangeError('r'), new ReferenceError('f'), new SyntaxError('s')]) {
      expect(toStoreError(bug)).toBe(bug);
    }
    const domain = new ChatError('forbidden');
    expect(toStoreError(domain)).toBe(domain);
  });

  it('two creates of one public room name, both past the name check: the unique index makes the loser room_name_taken', async () => {
    h = await pgHarness();
    const a = h.store;
    const b = await h.open();
    const owner = await createUser(a, 'owner');
    const other = await createUser(a, 'other');
    const blocker = new pg.Client({ connectionString: h.db.url });
    blocker.on('error', () => {});
    await blocker.connect();
    try {
      // Holding the owner's row stops a's createRoom after it inserted its room (at the members' foreign key
      // check), uncommitted; b's create of the same name then passes its check and waits on a's index entry.
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [owner.id]);
      const pa = createRoom(a, owner, 'Lobby');
      await waitFor(async () => (await lockWaiters(h!.db.url)) === 1, {
        what: "a's create to wait",
        timeoutMs: 10_000,
      });
      const pb = createRoom(b, other, 'lobby');
      pb.catch(() => {}); // it may reject while `pa` is awaited below
      await waitFor(async () => (await lockWaiters(h!.db.url)) === 2, {
        what: "b's create to wait",
        timeoutMs: 10_000,
      });
      await blocker.query('COMMIT');
      const created = await pa;
      await expectChatError(pb, 'room_name_taken');
      expect((await b.searchPublicRooms('lobby', 10)).rooms.map((r) => r.id)).toEqual([created.id]);
      expect(await b.countRoomsOf(other.id)).toBe(0);
    } finally {
      await blocker.end().catch(() => {});
    }
  });

  it('a member, invite or session for a user that does not exist: user_not_found from the foreign key, the seq taken is given back', async () => {
    h = await pgHarness();
    const owner = await createUser(h.store, 'owner');
    const room = await createRoom(h.store, owner); // seqs 1, 2
    await expectChatError(h.store.addMember(room.id, 'u_ghost', 'member', owner.id), 'user_not_found');
    await expectChatError(h.store.createInvite(room.id, 'u_ghost', owner.id), 'user_not_found');
    await expectChatError(
      h.store.createSession({
        id: 's_ghost',
        userId: 'u_ghost',
        tokenHash: 'h_ghost',
        label: '',
        createdAt: Date.now(),
        expiresAt: Date.now() + 60_000,
        lastUsedAt: Date.now(),
      }),
      'user_not_found',
    );
    expect((await h.store.getRoom(room.id))?.lastSeq).toBe(2);
    expect((await h.store.appendMessage(msg(room.id, owner, 'next'))).event.seq).toBe(3);
  });

  it('a write failing with a transient SQLSTATE is unavailable; the store serves the next call', async () => {
    h = await pgHarness();
    const owner = await createUser(h.store, 'owner');
    await withClient(h.db.url, (c) => installFault(c, 'users', '53300', 1));
    await expectChatError(h.store.updateProfile(owner.id, { statusText: 'busy' }), 'unavailable');
    expect(await h.store.updateProfile(owner.id, { statusText: 'busy' })).toMatchObject({ statusText: 'busy' });
  });

  it('a batch that hits a deadlock is run again and stored once; one that keeps hitting it gives up after 5 attempts', async () => {
    h = await pgHarness({ poolSize: 1 });
    const store = h.store;
    const owner = await createUser(store, 'owner');
    const room = await createRoom(store, owner); // seqs 1, 2
    await withClient(h.db.url, (c) => installFault(c, 'events', '40P01', 1));
    const before = { ...store.stats };
    const once = await Promise.all([
      store.appendMessage(msg(room.id, owner, 'a')),
      store.appendMessage(msg(room.id, owner, 'b')),
    ]);
    expect(once.map((r) => [r.duplicate, r.event.seq])).toEqual([
      [false, 3],
      [false, 4],
    ]);
    expect(store.stats.batches - before.batches).toBe(1);
    expect(store.stats.batchRetries - before.batchRetries).toBe(1);
    expect(await withClient(h.db.url, faultCalls)).toBe(2);

    // Deadlocked on every attempt: 5 attempts (4 retries), then unavailable, nothing stored.
    await withClient(h.db.url, (c) => installFault(c, 'events', '40P01', 50));
    const retries = store.stats.batchRetries;
    await expectChatError(store.appendMessage(msg(room.id, owner, 'c')), 'unavailable');
    expect(await withClient(h.db.url, faultCalls)).toBe(5);
    expect(store.stats.batchRetries - retries).toBe(4);
    expect((await store.getRoom(room.id))?.lastSeq).toBe(4);
    await withClient(h.db.url, dropFault);
    expect(await store.appendMessage(msg(room.id, owner, 'c'))).toMatchObject({ duplicate: false, event: { seq: 5 } });
  });

  it('a batch failing with anything but a deadlock or an idempotency race is not run again', async () => {
    h = await pgHarness();
    const store = h.store;
    const owner = await createUser(store, 'owner');
    const room = await createRoom(store, owner);
    for (const sqlstate of ['23514', '53300']) {
      await withClient(h.db.url, (c) => installFault(c, 'events', sqlstate, 50));
      const retries = store.stats.batchRetries;
      await expectChatError(store.appendMessage(msg(room.id, owner, `k${sqlstate}`)), 'unavailable');
      expect([sqlstate, await withClient(h.db.url, faultCalls)]).toEqual([sqlstate, 1]);
      expect(store.stats.batchRetries).toBe(retries);
    }
    expect((await store.getRoom(room.id))?.lastSeq).toBe(2);
  });

  it('transactions leave no listener behind on the pooled connection (no MaxListenersExceededWarning after many)', async () => {
    h = await pgHarness({ poolSize: 1 });
    const owner = await createUser(h.store, 'owner');
    const room = await createRoom(h.store, owner);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      // Node warns once an emitter has more than 10 listeners for one event: every transaction below runs on the
      // one connection, so a listener left per transaction would pass that well before the end.
      for (let i = 0; i < 15; i++) await h.store.setMemberRole(room.id, owner.id, 'owner', owner.id);
      for (let i = 0; i < 15; i++) await h.store.appendMessage(msg(room.id, owner, `k${i}`));
      // Process warnings are emitted on a later tick: a timer after them is the marker that they would be in.
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a connection killed mid-transaction (pg_terminate_backend): unavailable, nothing half-written, the store keeps working', async () => {
    // One connection: the store only works afterwards if the killed one was discarded and replaced.
    h = await pgHarness({ poolSize: 1 });
    const store = h.store;
    const owner = await createUser(store, 'owner');
    const guest = await createUser(store, 'guest');
    const room = await createRoom(store, owner); // seqs 1, 2
    const blocker = new pg.Client({ connectionString: h.db.url });
    blocker.on('error', () => {});
    await blocker.connect();
    const killWaiter = () =>
      withClient(h!.db.url, async (c) => {
        const r = await c.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        );
        if (r.rows.length !== 1) return false;
        await c.query('SELECT pg_terminate_backend($1)', [r.rows[0]?.pid]);
        return true;
      });
    try {
      // A batch, waiting for the room's lock inside its transaction when its connection dies.
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [room.id]);
      const append = store.appendMessage(msg(room.id, owner, 'lost'));
      append.catch(() => {}); // it rejects before the assertion below awaits it
      await waitFor(killWaiter, { what: 'the batch to wait for the room lock', timeoutMs: 10_000 });
      await expectChatError(append, 'unavailable');
      // A transaction (addMember), likewise.
      const add = store.addMember(room.id, guest.id, 'member', owner.id);
      add.catch(() => {}); // it rejects before the assertion below awaits it
      await waitFor(killWaiter, { what: 'addMember to wait for the room lock', timeoutMs: 10_000 });
      await expectChatError(add, 'unavailable');
      await blocker.query('COMMIT');

      expect((await store.getRoom(room.id))?.lastSeq).toBe(2);
      expect(await store.getRole(room.id, guest.id)).toBeNull();
      expect(await store.appendMessage(msg(room.id, owner, 'lost'))).toMatchObject({
        duplicate: false,
        event: { seq: 3 },
      });
      expect(await store.addMember(room.id, guest.id, 'member', owner.id)).toMatchObject({ seq: 4 });
      expect((await allEvents(store, room.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    } finally {
      await blocker.end().catch(() => {});
    }
  });

  it('a connection killed while its COMMIT waits: unavailable, and the retry finds the message the COMMIT did store, once', async () => {
    h = await pgHarness();
    const owner = await createUser(h.store, 'owner');
    const room = await createRoom(h.store, owner); // seqs 1, 2
    // A synchronous standby that never comes: COMMIT writes its WAL locally, then waits for the standby.
    await spare?.catch(() => {}); // the next test's database is made before COMMITs start to wait
    await server.admin("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
    try {
      await server.admin('SELECT pg_reload_conf()');
      // A new store, so its sessions start with the setting in force.
      await waitFor(
        () =>
          withClient(
            h!.db.url,
            async (c) =>
              (await c.query('SHOW synchronous_standby_names')).rows[0]?.synchronous_standby_names === 'nobody',
          ),
        { what: 'the setting to load' },
      );
      const store = await h.open({ migrate: false, poolSize: 1 });
      const append = store.appendMessage(msg(room.id, owner, 'in-doubt'));
      append.catch(() => {}); // it rejects before the assertion below awaits it
      await waitFor(
        () =>
          withClient(h!.db.url, async (c) => {
            const r = await c.query<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND datname = current_database()",
            );
            if (r.rows.length !== 1) return false;
            await c.query('SELECT pg_terminate_backend($1)', [r.rows[0]?.pid]);
            return true;
          }),
        { what: 'the COMMIT to wait for the standby', timeoutMs: 10_000 },
      );
      await expectChatError(append, 'unavailable');
      await server.admin('ALTER SYSTEM RESET synchronous_standby_names');
      await server.admin('SELECT pg_reload_conf()');
      // The COMMIT had applied: the retry (on the same store, whose dead connection was replaced) is a duplicate.
      const retried = await waitFor(() => store.appendMessage(msg(room.id, owner, 'in-doubt')), {
        what: 'the retry to go through',
        timeoutMs: 10_000,
      });
      expect(retried).toMatchObject({ duplicate: true, event: { seq: 3, clientMsgId: 'in-doubt' } });
      expect((await allEvents(h.store, room.id)).map((e) => e.seq)).toEqual([1, 2, 3]);
    } finally {
      await server.admin('ALTER SYSTEM RESET synchronous_standby_names');
      await server.admin('SELECT pg_reload_conf()');
    }
  });

  it('close() with work in flight: later calls are refused at once, calls already made (running or queued) complete, then the pool closes', async () => {
    h = await pgHarness();
    // One connection: the append holds it, so the read made before close() waits in the pool's queue.
    const store = await h.open({ poolSize: 1, connectionTimeoutMs: 20_000 });
    const owner = await createUser(store, 'owner');
    const room = await createRoom(store, owner); // seqs 1, 2
    const blocker = new pg.Client({ connectionString: h.db.url });
    blocker.on('error', () => {});
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [room.id]);
      const inFlight = store.appendMessage(msg(room.id, owner, 'in-flight'));
      await waitFor(async () => (await lockWaiters(h!.db.url)) === 1, { what: 'the batch to wait', timeoutMs: 10_000 });
      const queued = store.getRoom(room.id);
      let closed = false;
      const closing = store.close();
      void closing.then(() => (closed = true));
      expect(store.close()).toBe(closing);
      const refused = [
        store.ping(),
        store.getRoom(room.id),
        store.updateProfile(owner.id, { statusText: 'after close' }),
        createUser(store, 'late'),
        store.appendMessage(msg(room.id, owner, 'late')),
      ];
      const outcomes = await Promise.allSettled(refused);
      for (const o of outcomes) {
        expect(o.status).toBe('rejected');
        if (o.status === 'rejected')
          expect(o.reason).toMatchObject({ code: 'unavailable', message: 'Store is closed.' });
      }
      expect(closed).toBe(false);
      await blocker.query('COMMIT');
      expect(await inFlight).toMatchObject({ duplicate: false, event: { seq: 3, clientMsgId: 'in-flight' } });
      expect(await queued).toMatchObject({ id: room.id, lastSeq: 3 });
      await closing;
      const events = await allEvents(h.store, room.id);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(await h.store.getUserByUsername('late')).toBeNull();
      expect((await h.store.getUser(owner.id))?.statusText).not.toBe('after close');

      // No append in flight, so close() has no batch to wait for: it must still wait for a transaction holding
      // the connection and for a read queued behind it, before it ends the pool (which strands a queued call).
      const other = await createUser(h.store, 'other');
      const second = await h.open({ poolSize: 1, connectionTimeoutMs: 20_000 });
      await second.ping();
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [room.id]);
      const adding = second.addMember(room.id, other.id, 'member', owner.id);
      await waitFor(async () => (await lockWaiters(h!.db.url)) === 1, { what: 'addMember to wait', timeoutMs: 10_000 });
      const queuedRead = second.getRoom(room.id);
      const closingSecond = second.close();
      await blocker.query('COMMIT');
      expect(await adding).toMatchObject({ seq: 4, type: 'member.joined' });
      expect(await queuedRead).toMatchObject({ id: room.id, lastSeq: 4 });
      await closingSecond;
    } finally {
      await blocker.end().catch(() => {});
    }
  });

  it('close() while a batch is in flight does not start a second one: appends queued behind it keep their order', async () => {
    h = await pgHarness();
    const store = await h.open({ poolSize: 2, connectionTimeoutMs: 20_000 });
    // Both connections open and idle, so a second batch would not wait for a connection to be made.
    await Promise.all([store.ping(), store.ping(), store.ping()]);
    const owner = await createUser(store, 'owner');
    const held = await createRoom(store, owner); // seqs 1, 2
    const other = await createRoom(store, owner); // seqs 1, 2
    const blocker = new pg.Client({ connectionString: h.db.url });
    blocker.on('error', () => {});
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [held.id]);
      const first = store.appendMessage(msg(held.id, owner, 'first'));
      await waitFor(async () => (await lockWaiters(h!.db.url)) === 1, { what: 'the batch to wait', timeoutMs: 10_000 });
      // Made while the batch is in flight, so it is queued behind it, in another room nothing holds.
      const behind = store.appendMessage(msg(other.id, owner, 'behind'));
      const closing = store.close();
      // Give a second batch (the bug) time to commit it; the correct store never does while the first is held, so
      // this pause only decides how surely the bug is seen, never whether the test passes.
      await Promise.race([behind.catch(() => {}), new Promise((r) => setTimeout(r, 300))]);
      // Another node appends to that room after close(): the queued append must still be waiting for the batch.
      const marker = await h.store.appendMessage(msg(other.id, owner, 'marker'));
      expect(marker.event.seq).toBe(3);
      await blocker.query('COMMIT');
      expect(await first).toMatchObject({ event: { seq: 3, clientMsgId: 'first' } });
      expect(await behind).toMatchObject({ event: { seq: 4, clientMsgId: 'behind' } });
      await closing;
    } finally {
      await blocker.end().catch(() => {});
    }
  });
});

// The conformance suite, after the PostgreSQL-specific tests above: `npm run mutation` stops a mutant at its first
// failing test, and a mutant of the failure paths is killed only by one of those.
storeContract('PgStore', () => pgHarness());
// Tiny batches and a tiny pool: many transactions queue for few connections under the suite's concurrent tests.
storeContract('PgStore (maxBatch 3, poolSize 2)', () => pgHarness({ maxBatch: 3, poolSize: 2 }));
// History integrity: rows changed by hand through a plain client; three stores over one database are three nodes.
chainContract('PgStore', async () => {
  const h = await pgHarness({ maxBatch: 3 });
  const client = new pg.Client({ connectionString: h.db.url });
  await client.connect();
  return {
    store: h.store,
    sql: async (text: string, params: unknown[] = []) => {
      await client.query(text, params);
    },
    another: () => h.open(),
    cleanup: async () => {
      await client.end();
      await h.cleanup();
    },
  };
});

// Last in the file: it stops and restarts the file's server.
describe('PgStore when the server goes away', () => {
  let h: Awaited<ReturnType<typeof pgHarness>> | undefined;

  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it('appendMessage and ping reject with unavailable while it is stopped; the same store recovers after restart', async () => {
    h = await pgHarness();
    const store = h.store;
    const owner = await createUser(store, 'owner');
    const room = await createRoom(store, owner);
    const first = await store.appendMessage(msg(room.id, owner, 'before'));
    expect(first.event.seq).toBe(3);

    await server.stop();
    await expectChatError(store.appendMessage(msg(room.id, owner, 'during')), 'unavailable');
    await expectChatError(store.ping(), 'unavailable');
    await expectChatError(store.getRoom(room.id), 'unavailable');
    await expectChatError(createUser(store, 'nobody'), 'unavailable');
    const concurrent = await Promise.allSettled(
      range(1, 20).map((i) => store.appendMessage(msg(room.id, owner, `d${i}`))),
    );
    for (const r of concurrent) {
      expect(r.status).toBe('rejected');
      expect(r.status === 'rejected' && (r.reason as ChatError).code).toBe('unavailable');
    }

    await server.start();
    await waitFor(() => store.ping().then(() => true), { what: 'the store to reconnect', timeoutMs: 10_000 });
    const after = await store.appendMessage(msg(room.id, owner, 'during'));
    expect(after).toMatchObject({ duplicate: false, event: { seq: 4 } });
    expect((await allEvents(store, room.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(await store.appendMessage(msg(room.id, owner, 'before'))).toEqual({ event: first.event, duplicate: true });
  }, 60_000);

  it('a crash mid-stream: every acknowledged append survives, every other one rejects with unavailable, seqs stay gap-free', async () => {
    h = await pgHarness();
    const store = h.store;
    const owner = await createUser(store, 'owner');
    const room = await createRoom(store, owner);
    const acked = new Map<string, RoomEvent>();
    const rejected: NewMessage[] = [];
    const other: unknown[] = [];
    let stop = false;
    const sender = async (s: number) => {
      for (let k = 0; k < 2000 && !stop; k++) {
        const m = msg(room.id, owner, `s${s}-${k}`);
        try {
          acked.set(m.clientMsgId, (await store.appendMessage(m)).event);
        } catch (err) {
          if (err instanceof ChatError && err.code === 'unavailable') rejected.push(m);
          else other.push(err);
          stop = true;
        }
      }
    };
    const senders = Promise.all(range(1, 10).map(sender));
    await waitFor(() => acked.size >= 300, { what: '300 acks', timeoutMs: 30_000 });
    // Immediate shutdown: no checkpoint, open transactions die with the server; the restart replays the WAL.
    await server.stop({ mode: 'immediate' });
    await senders;
    expect(other).toEqual([]);
    expect(rejected.length).toBeGreaterThan(0);

    await server.start();
    await waitFor(() => store.ping().then(() => true), { what: 'the store to reconnect', timeoutMs: 10_000 });
    const events = await allEvents(store, room.id);
    const stored = new Map(events.filter((e) => e.type === 'message').map((e) => [e.clientMsgId, e]));
    for (const [key, event] of acked) expect(stored.get(key)).toEqual(event);
    expect(events.map((e) => e.seq)).toEqual(range(1, events.length));
    // The rejected ones are safe to retry: stored once, whether or not their commit had made it.
    for (const m of rejected) {
      const r = await store.appendMessage(m);
      if (r.duplicate) expect(stored.get(m.clientMsgId)).toEqual(r.event);
    }
    const final = await allEvents(store, room.id);
    expect(final.map((e) => e.seq)).toEqual(range(1, final.length));
    expect(final.length).toBe(2 + acked.size + rejected.length);
  }, 90_000);
});

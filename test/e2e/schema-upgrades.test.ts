import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { PasswordHasher } from '../../src/core/password.js';
import { hasLink, indexTerms } from '../../src/core/search-text.js';
import { createChatServer } from '../../src/server/app.js';
import { migrate } from '../../src/storage/postgres/migrate.js';
import { migrations as pgMigrations } from '../../src/storage/postgres/migrations.js';
import { migrations as sqliteMigrations } from '../../src/storage/sqlite/migrations.js';
import { backend, clusterPostgres, testConfig } from '../helpers/harness.js';
import {
  BOT_TOKEN,
  fixtureChunks,
  HOOK_TOKEN,
  PEOPLE,
  ROOMS,
  TEXT,
  townLastSeq,
  type FixtureChunk,
  type FixtureRow,
} from '../helpers/schema-fixtures.js';

/**
 * Every schema migration from every earlier schema, with data in it (issue 18). For each version a deployment may
 * be at, a database is built the way one that lived through the releases up to it would hold its data: migration
 * by migration, with the rows of that era written after each (test/helpers/schema-fixtures.ts). Then today's server
 * starts on it — migrating the rest of the way — and people use it as they would after an upgrade: sign in with
 * their old passwords, find their rooms, read history in order (edits, reactions and pins of the era included),
 * search old messages, keep the room sequence going with no gap or reuse, and use the bot token and webhook URL
 * they were given. Runs on the embedded store (SQLite) and, in the cluster project, on PostgreSQL.
 */

const engine = backend === 'cluster' ? 'postgres' : 'sqlite';
const MIGRATIONS: readonly { version: number; name: string }[] =
  engine === 'postgres' ? pgMigrations : sqliteMigrations;
const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));
const STARTS = MIGRATIONS.map((m) => m.version);

const hasher = new PasswordHasher({ log2N: 10 });
let chunksOnce: Promise<FixtureChunk[]> | undefined;
const chunks = () =>
  (chunksOnce ??= (async () =>
    fixtureChunks({
      alice: await hasher.hash(PEOPLE.alice.password),
      bob: await hasher.hash(PEOPLE.bob.password),
      carol: await hasher.hash(PEOPLE.carol.password),
    }))());

const sqliteValue = (v: FixtureRow['values'][string]) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

/** A SQLite file at `version`: migrations applied one by one, each era's rows written after its migration. */
async function sqliteAt(file: string, version: number): Promise<void> {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    // The functions the store registers for its migrations (fold, and search's for migration 12).
    db.function('fold', { deterministic: true }, (v: unknown) => (v == null ? null : String(v).toLowerCase()));
    db.function('search_terms', { deterministic: true }, (v: unknown) => indexTerms(String(v ?? '')).join(' '));
    db.function('search_has_link', { deterministic: true }, (v: unknown) => (hasLink(String(v ?? '')) ? 1 : 0));
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const all = await chunks();
    for (const m of sqliteMigrations.filter((x) => x.version <= version)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 1)').run(m.version, m.name);
      for (const chunk of all.filter((c) => c.version === m.version)) {
        for (const row of chunk.rows) {
          const columns = new Set(
            (db.prepare(`PRAGMA table_info(${row.table})`).all() as { name: string }[]).map((c) => c.name),
          );
          const keys = Object.keys(row.values).filter((k) => columns.has(k));
          db.prepare(`INSERT INTO ${row.table} (${keys.join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`).run(
            ...keys.map((k) => sqliteValue(row.values[k]!)),
          );
        }
        for (const sql of chunk.sql ?? []) db.exec(sql);
      }
    }
  } finally {
    db.close();
  }
}

/** The same, on a PostgreSQL database, through the real migrator. */
async function postgresAt(url: string, version: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const all = await chunks();
    for (const m of pgMigrations.filter((x) => x.version <= version)) {
      await migrate(c, { migrations: pgMigrations.filter((x) => x.version <= m.version) });
      for (const chunk of all.filter((x) => x.version === m.version)) {
        for (const row of chunk.rows) {
          const { rows } = await c.query<{ column_name: string }>(
            'SELECT column_name FROM information_schema.columns WHERE table_name = $1',
            [row.table],
          );
          const columns = new Set(rows.map((r) => r.column_name));
          const keys = Object.keys(row.values).filter((k) => columns.has(k));
          await c.query(
            `INSERT INTO ${row.table} (${keys.join(', ')}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')})`,
            keys.map((k) => row.values[k]),
          );
        }
        for (const sql of chunk.sql ?? []) await c.query(sql);
      }
    }
  } finally {
    await c.end();
  }
}

/** A server of today's code over a store built at `version`; stopped and cleaned up after the test. */
async function upgradedServer(version: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'relaychat-upgrade-'));
  let cleanup = async () => {};
  let databaseUrl: string | undefined;
  if (engine === 'postgres') {
    const server = await clusterPostgres();
    const db = await server.createDatabase({ prefix: 'up' });
    cleanup = () => server.dropDatabase(db.name);
    databaseUrl = db.url;
    await postgresAt(db.url, version);
  } else {
    await sqliteAt(join(dataDir, 'chat.db'), version);
  }
  const chat = await createChatServer(testConfig(dataDir, databaseUrl ? { databaseUrl } : {}));
  const url = await chat.listen();
  return {
    url,
    async stop() {
      await chat.close();
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function signIn(url: string, who: keyof typeof PEOPLE): Promise<ChatApi> {
  const api = new ChatApi(url);
  await api.login(PEOPLE[who].username, PEOPLE[who].password);
  return api;
}

describe(`schema upgrades (${engine}): today's server on data from every earlier schema`, () => {
  it('covers every version a deployment may be at', () => {
    // A migration added without data of its era is still covered (its start is in STARTS); one removed would be a
    // hole in the history this test walks.
    expect(STARTS.length).toBe(MIGRATIONS.length);
    expect(STARTS[0]).toBe(1);
  });

  for (const version of STARTS) {
    it(`from version ${version} to ${LATEST}`, { timeout: 60_000 }, async () => {
      const srv = await upgradedServer(version);
      try {
        const alice = await signIn(srv.url, 'alice');
        const bob = await signIn(srv.url, 'bob');
        const carol = await signIn(srv.url, 'carol');
        expect((await alice.me()).role).toBe('admin');

        // Their rooms, as they left them; a private room stays private.
        const mine = (await alice.myRooms()).map((r) => r.id);
        expect(mine).toEqual(expect.arrayContaining([ROOMS.town, ROOMS.secret, ROOMS.dm]));
        expect((await bob.myRooms()).map((r) => r.id)).not.toContain(ROOMS.secret);
        await expect(bob.messages(ROOMS.secret)).rejects.toMatchObject({ code: 'room_not_found' });

        // History in order, with what each era added.
        const last = townLastSeq(version);
        const events = await alice.events(ROOMS.town, { after: 0, limit: 100 });
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
        const messages = await alice.messages(ROOMS.town);
        const first = messages.find((m) => m.seq === 3)!;
        const second = messages.find((m) => m.seq === 4)!;
        expect(first.body).toBe(version >= 4 ? TEXT.helloEdited : TEXT.hello);
        expect(second.body).toBe(TEXT.bob);
        expect(second.clientMsgId).toBe('fx-2');
        if (version >= 4) {
          expect((await alice.messageEdits(ROOMS.town, 3)).map((e) => e.body)).toEqual([TEXT.helloEdited]);
        }
        const reactions = JSON.stringify(second.reactions ?? []);
        if (version >= 5) expect(reactions).toContain('👍');
        else expect(reactions).not.toContain('👍');
        expect((await alice.pins(ROOMS.town)).map((p) => p.seq)).toEqual(version >= 8 ? [4] : []);
        expect((await bob.blocks()).map((b) => b.user.id)).toEqual(version >= 11 ? [PEOPLE.carol.id] : []);
        expect((await carol.messages(ROOMS.secret)).map((m) => m.body)).toContain(TEXT.secret);
        expect((await bob.messages(ROOMS.dm)).map((m) => m.body)).toContain(TEXT.dm);

        // Old messages are found by search (CJK too), and only by those who may read them.
        const found = await bob.search({ q: '你好世界' });
        expect(found.results.map((r) => [r.message.roomId, r.message.seq])).toEqual([[ROOMS.town, 4]]);
        expect((await bob.search({ q: 'plans' })).results).toEqual([]);
        expect((await carol.search({ q: 'plans' })).results.map((r) => r.message.seq)).toEqual([3]);

        // The sequence goes on where it stopped: no gap, no reuse, idempotency keys of old sends still hold.
        const sent = await bob.sendMessage(ROOMS.town, 'after the upgrade', 'after-1');
        expect(sent.message.seq).toBe(last + 1);
        const again = await bob.sendMessage(ROOMS.town, TEXT.bob, 'fx-2');
        expect([again.duplicate, again.message.seq]).toEqual([true, 4]);
        await alice.editMessage(ROOMS.town, 3, 'edited after the upgrade');
        await alice.react(ROOMS.town, 4, '🎉');
        const after = await alice.events(ROOMS.town, { after: last, limit: 10 });
        expect(after.map((e) => [e.seq, e.type])).toEqual([
          [last + 1, 'message'],
          [last + 2, 'message.edited'],
          [last + 3, 'reaction.added'],
        ]);

        // Credentials handed out before the upgrade keep working.
        if (version >= 16) {
          const bot = new ChatApi(srv.url, BOT_TOKEN);
          expect((await bot.me()).bot).toBe(true);
          expect((await bot.sendMessage(ROOMS.town, 'beep after the upgrade', 'bot-1')).message.seq).toBe(last + 4);
        }
        if (version >= 17) {
          const res = await fetch(`${srv.url}/api/v1/hooks/${HOOK_TOKEN}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ text: 'build passed' }),
          });
          expect(res.status).toBe(201);
          const posted = (await alice.messages(ROOMS.town)).at(-1)!;
          expect([posted.body, (posted.data?.integration as { name?: string } | undefined)?.name]).toEqual([
            'build passed',
            'CI',
          ]);
        }
      } finally {
        await srv.stop();
      }
    });
  }
});

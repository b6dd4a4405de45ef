import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { hasLink, indexTerms, tsVector } from '../../src/core/search-text.js';
import type { ServerHandle } from '../lib/children.js';
import { Histogram, ms } from '../lib/histogram.js';
import { closeWindow, MB, openWindow, round, type Result } from '../lib/measure.js';
import { api, registerUsers, timedGet } from '../lib/setup.js';
import { withRelay, type Ctx } from './common.js';

/**
 * Search: `GET /api/v1/search` (newest first, 20 results) over `rows` stored messages, closed loop at concurrency 1,
 * for each query of QUERIES in turn. Target: p99 < 50 ms on 1,000,000 messages.
 *
 * Setup like `history`: a first server creates the reader and ROOMS public rooms and stops; the messages go straight
 * into the store in ONE transaction — events and their search index rows (message_search; on SQLite the FTS5
 * triggers fill message_fts), with the same terms a write would index (src/core/search-text.ts). Bodies mix English
 * words of Zipf-like frequency, a Chinese phrase and, in one message of 20, a link. With `--cluster` the rows go
 * into PostgreSQL in batches of one transaction, then VACUUM ANALYZE.
 */

const ROOMS = 10;
const WORDS = (
  'the a to and of in is for on that it with you this we be at are deploy release database server build test ' +
  'merge review fix bug issue ticket customer meeting tomorrow today plan design launch metrics latency cache ' +
  'queue worker index search backup restore migrate schema config secret token login session error warning ' +
  'timeout retry network proxy cluster node shard replica leader vote kernel memory disk quota upload download ' +
  'image preview thumbnail avatar profile invite channel thread reply mention reaction pin notification ' +
  'mobile desktop browser android iphone tablet keyboard shortcut theme dark light font color layout spacing'
).split(' ');
const PHRASES = [
  '数据库迁移',
  '明天上线',
  '服务器重启',
  '代码审查',
  '性能测试',
  '会議の資料',
  '東京オフィス',
  '用户反馈',
  '修复问题',
  '发布说明',
  '缓存失效',
  '备份恢复',
];
/** The queries measured, each alone: frequent and rare words, prefixes, two words, CJK of one and more characters. */
const QUERIES: { label: string; q: string; extra?: string }[] = [
  { label: 'frequent word', q: 'the' },
  { label: 'rare word', q: 'thumbnail' },
  { label: 'prefix', q: 'deplo' },
  { label: 'two words', q: 'cache timeout' },
  { label: 'CJK 1 char', q: '库' },
  { label: 'CJK 2 chars', q: '上线' },
  { label: 'CJK phrase + word', q: '数据库迁移 backup' },
  { label: 'word, one room', q: 'release', extra: 'roomId' },
  { label: 'word + has:link', q: 'review', extra: 'has=link' },
];

/** A deterministic pseudo-random body for message `i`: ~10 words, a phrase, a link now and then. */
function bodyOf(i: number, pad: string): string {
  let x = (i * 2654435761) >>> 0;
  const next = () => (x = (x * 1103515245 + 12345) >>> 0);
  const words: string[] = [];
  for (let k = 0; k < 10; k++) {
    // Zipf-like: low indexes far more often.
    const r = next() / 2 ** 32;
    words.push(WORDS[Math.floor(WORDS.length * r * r * r)]!);
  }
  words.splice(next() % 10, 0, PHRASES[next() % PHRASES.length]!);
  if (i % 20 === 0) words.push(`https://example.com/t/${i}`);
  return `${words.join(' ')} ${pad}`.trim();
}

interface Reader {
  token: string;
  userId: string;
  roomIds: string[];
}
interface Seeded {
  sec: number;
  dbMB: number;
}

export async function search(ctx: Ctx): Promise<Result[]> {
  const rows = ctx.opts.search.rows;
  const env = { SEARCH_PER_MINUTE: '100000', SEARCH_PAGE_MAX: '200' };
  ctx.log(`search: GET /api/v1/search over ${rows.toLocaleString('en-US')} stored messages`);
  if (ctx.opts.cluster) {
    return withRelay(ctx, 'search', env, async (server) => {
      const reader = await createReader(server);
      const seeded = await seedPostgres(server.cluster!.databaseUrl, reader, rows, ctx.opts.bodyBytes);
      ctx.log(`  seeded ${rows} rows in ${seeded.sec} s (database ${seeded.dbMB} MB)`);
      return measure(ctx, server, reader, seeded);
    });
  }
  const dataDir = mkdtempSync(join(ctx.tmpRoot, 'search-'));
  try {
    const reader = await withRelay(ctx, 'search-setup', env, createReader, dataDir);
    const seeded = seedSqlite(join(dataDir, 'chat.db'), reader, rows, ctx.opts.bodyBytes);
    ctx.log(`  seeded ${rows} rows in ${seeded.sec} s (db ${seeded.dbMB} MB)`);
    return await withRelay(ctx, 'search', env, (server) => measure(ctx, server, reader, seeded), dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function createReader(server: ServerHandle): Promise<Reader> {
  const [u] = await registerUsers(server.baseUrl, 1, 'srch');
  const roomIds: string[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const res = await api<{ room: { id: string } }>(
      server.baseUrl,
      'POST',
      '/api/v1/rooms',
      { name: `search-${r}` },
      u!.token,
    );
    roomIds.push(res.room.id);
  }
  return { token: u!.token, userId: u!.id, roomIds };
}

/** Message `i` (1-based) of the seed: its room (round robin) and seq within it. */
const placeOf = (i: number, starts: number[]) => {
  const r = (i - 1) % ROOMS;
  return { r, seq: starts[r]! + Math.floor((i - 1) / ROOMS) + 1 };
};

function seedSqlite(file: string, reader: Reader, rows: number, bodyBytes: number): Seeded {
  const t0 = performance.now();
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const starts = reader.roomIds.map(
      (id) => (db.prepare('SELECT last_seq FROM rooms WHERE id = ?').get(id) as { last_seq: number }).last_seq,
    );
    const ev = db.prepare(
      `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
       VALUES (?, ?, ?, 'message', ?, ?, NULL, NULL, ?)`,
    );
    const ix = db.prepare(
      `INSERT INTO message_search (room_id, seq, sender_id, created_at, has_link, has_file, thread_root, terms)
       VALUES (?, ?, ?, ?, ?, 0, NULL, ?)`,
    );
    const bump = db.prepare('UPDATE rooms SET last_seq = ?, last_event_at = ? WHERE id = ?');
    const pad = 'x'.repeat(Math.max(0, bodyBytes - 60));
    const now = Date.now();
    db.transaction(() => {
      for (let i = 1; i <= rows; i++) {
        const { r, seq } = placeOf(i, starts);
        const body = bodyOf(i, pad);
        const at = now - rows + i;
        ev.run(reader.roomIds[r]!, seq, `e_s${i.toString(36)}`, reader.userId, body, at);
        ix.run(reader.roomIds[r]!, seq, reader.userId, at, hasLink(body) ? 1 : 0, indexTerms(body).join(' '));
      }
      reader.roomIds.forEach((id, r) => bump.run(starts[r]! + Math.ceil((rows - r) / ROOMS), now, id));
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { sec: round((performance.now() - t0) / 1000, 1), dbMB: MB(statSync(file).size) };
  } finally {
    db.close();
  }
}

async function seedPostgres(url: string, reader: Reader, rows: number, bodyBytes: number): Promise<Seeded> {
  const t0 = performance.now();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query('BEGIN');
    const starts: number[] = [];
    for (const id of reader.roomIds) {
      starts.push(
        Number((await db.query('SELECT last_seq FROM rooms WHERE id = $1 FOR UPDATE', [id])).rows[0].last_seq),
      );
    }
    const pad = 'x'.repeat(Math.max(0, bodyBytes - 60));
    const now = Date.now();
    const BATCH = 20_000;
    for (let from = 1; from <= rows; from += BATCH) {
      const cols = {
        room: [] as string[],
        seq: [] as number[],
        id: [] as string[],
        body: [] as string[],
        at: [] as number[],
        link: [] as boolean[],
        vec: [] as string[],
      };
      for (let i = from; i < Math.min(rows + 1, from + BATCH); i++) {
        const { r, seq } = placeOf(i, starts);
        const body = bodyOf(i, pad);
        cols.room.push(reader.roomIds[r]!);
        cols.seq.push(seq);
        cols.id.push(`e_s${i.toString(36)}`);
        cols.body.push(body);
        cols.at.push(now - rows + i);
        cols.link.push(hasLink(body));
        cols.vec.push(tsVector(indexTerms(body)));
      }
      await db.query(
        `INSERT INTO events (room_id, seq, id, type, sender_id, body, created_at)
         SELECT r, s, i, 'message', $6, b, a FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])
           AS x(r, s, i, b, a)`,
        [cols.room, cols.seq, cols.id, cols.body, cols.at, reader.userId],
      );
      await db.query(
        `INSERT INTO message_search (room_id, seq, sender_id, created_at, has_link, terms)
         SELECT r, s, $6, a, l, v::tsvector FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::boolean[], $5::text[])
           WITH ORDINALITY AS x(r, s, a, l, v, n) ORDER BY n`,
        [cols.room, cols.seq, cols.at, cols.link, cols.vec, reader.userId],
      );
    }
    for (const [r, id] of reader.roomIds.entries()) {
      await db.query('UPDATE rooms SET last_seq = $1, last_event_at = $2 WHERE id = $3', [
        starts[r]! + Math.ceil((rows - r) / ROOMS),
        now,
        id,
      ]);
    }
    await db.query('COMMIT');
    await db.query('VACUUM ANALYZE events');
    await db.query('VACUUM ANALYZE message_search');
    const size = await db.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
    return { sec: round((performance.now() - t0) / 1000, 1), dbMB: MB(Number(size.rows[0]!.bytes)) };
  } finally {
    await db.end();
  }
}

async function measure(ctx: Ctx, server: ServerHandle, reader: Reader, seeded: Seeded): Promise<Result[]> {
  const out: Result[] = [];
  const rows = ctx.opts.search.rows;
  for (const query of QUERIES) {
    const extra = query.extra === 'roomId' ? `&roomId=${reader.roomIds[0]}` : query.extra ? `&${query.extra}` : '';
    const path = `/api/v1/search?q=${encodeURIComponent(query.q)}&limit=20${extra}`;
    // Correctness once: a full page of results, each containing the query's first part.
    const first = await api<{ results: { message: { body: string } }[] }>(
      server.baseUrl,
      'GET',
      path,
      undefined,
      reader.token,
    );
    if (first.results.length === 0) throw new Error(`search "${query.q}" found nothing`);
    const r = await load(server.baseUrl, path, reader.token, 20, ctx.opts.search.sec * 1000, server);
    const res: Result = {
      scenario: 'search',
      server: 'relaychat',
      label: `${query.label}: ${query.q}${extra ? ` (${query.extra})` : ''}`,
      storedMessages: rows,
      concurrency: 1,
      requests: r.n,
      errors: r.errors,
      requestsPerSec: Math.round(r.n / r.sec),
      results: first.results.length,
      p50Ms: ms(r.h.percentile(50)),
      p95Ms: ms(r.h.percentile(95)),
      p99Ms: ms(r.h.percentile(99)),
      maxMs: ms(r.h.max),
      ...r.win,
      seedSec: seeded.sec,
      dbMB: seeded.dbMB,
      target: 'p99 < 50 ms',
      lost: 0,
      duplicated: 0,
    };
    out.push(res);
    ctx.emit(res);
    ctx.log(
      `  ${res.label}: ${res.requestsPerSec} req/s, p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms, max ${res.maxMs} ms`,
    );
  }
  return out;
}

/** Closed loop, one request in flight, for `durationMs` after `warmup` requests. */
async function load(
  base: string,
  path: string,
  token: string,
  warmup: number,
  durationMs: number,
  server: ServerHandle,
) {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const h = new Histogram();
  let errors = 0;
  const get = () => timedGet(agent, url, path, token);
  try {
    for (let i = 0; i < warmup; i++) await get();
    const win = openWindow(server);
    const t0 = performance.now();
    const end = t0 + durationMs;
    let n = 0;
    // Bounded in count too: a pathological query cannot spin forever.
    while (performance.now() < end && n < 100_000) {
      const s = performance.now();
      const status = await get();
      h.record((performance.now() - s) * 1000);
      n++;
      if (status !== 200) errors++;
    }
    const sec = (performance.now() - t0) / 1000;
    return { h, n, sec, errors, win: closeWindow(win) };
  } finally {
    agent.destroy();
  }
}

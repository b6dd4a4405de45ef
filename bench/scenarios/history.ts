import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ServerHandle } from '../lib/children.js';
import { Histogram, ms } from '../lib/histogram.js';
import { closeWindow, MB, openWindow, round, type Result } from '../lib/measure.js';
import { api, registerUsers, timedGet } from '../lib/setup.js';
import { withRelay, type Ctx } from './common.js';

/**
 * History: the latest 50 messages of a room holding `rows` stored messages, over HTTP
 * (GET /api/v1/rooms/:id/messages?limit=50), closed loop at concurrency 1 and 8.
 *
 * Setup: a first server on a fresh DATA_DIR registers the reader and creates the room, and is stopped. Then
 * the rows are written straight into its SQLite file (`chat.db`) in ONE transaction with ONE prepared INSERT:
 * seq last_seq+1 … last_seq+rows, type 'message', ids `e_h<seq base36>`, no clientMsgId, and
 * `rooms.last_seq` / `last_event_at` updated in the same transaction so the room's sequence stays consistent.
 * The measured server is then started on that file.
 *
 * With `--cluster` the reader and the room are created through the running cluster, the rows go into its
 * PostgreSQL (`seedPostgres`), and the same cluster is measured: a node reads history from PostgreSQL on every
 * request and keeps none of it, so nothing needs a restart.
 */
export async function history(ctx: Ctx): Promise<Result[]> {
  const o = ctx.opts.history;
  ctx.log(`history: latest 50 of ${o.rows.toLocaleString('en-US')} stored messages`);
  if (ctx.opts.cluster) {
    return withRelay(ctx, 'history', {}, async (server) => {
      const reader = await createReader(server);
      const seeded = await seedPostgres(server.cluster!.databaseUrl, reader, o.rows, ctx.opts.bodyBytes);
      ctx.log(`  seeded ${o.rows} rows in ${seeded.sec} s (database ${seeded.dbMB} MB)`);
      return measure(ctx, server, reader, seeded);
    });
  }
  const dataDir = mkdtempSync(join(ctx.tmpRoot, 'history-'));
  try {
    const reader = await withRelay(ctx, 'history-setup', {}, createReader, dataDir);
    const seeded = seed(join(dataDir, 'chat.db'), reader.roomId, reader.userId, o.rows, ctx.opts.bodyBytes);
    ctx.log(`  seeded ${o.rows} rows in ${seeded.sec} s (db ${seeded.dbMB} MB)`);
    return await withRelay(ctx, 'history', {}, (server) => measure(ctx, server, reader, seeded), dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Reader {
  token: string;
  roomId: string;
  userId: string;
}

interface Seeded {
  lastSeq: number;
  sec: number;
  dbMB: number;
}

/** Registers the reader, who creates the room. */
async function createReader(server: ServerHandle): Promise<Reader> {
  const [u] = await registerUsers(server.baseUrl, 1, 'hist');
  const r = await api<{ room: { id: string } }>(server.baseUrl, 'POST', '/api/v1/rooms', { name: 'history' }, u!.token);
  return { token: u!.token, roomId: r.room.id, userId: u!.id };
}

async function measure(ctx: Ctx, server: ServerHandle, reader: Reader, seeded: Seeded): Promise<Result[]> {
  const o = ctx.opts.history;
  const out: Result[] = [];
  const path = `/api/v1/rooms/${reader.roomId}/messages?limit=50`;
  // Correctness once: the newest 50, ascending, ending at the room's last seq.
  const first = await api<{ messages: { seq: number }[] }>(server.baseUrl, 'GET', path, undefined, reader.token);
  const seqs = first.messages.map((m) => m.seq);
  const ok =
    seqs.length === 50 && seqs[49] === seeded.lastSeq && seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);
  if (!ok) throw new Error(`history returned unexpected seqs: ${seqs.slice(0, 3)}…${seqs.slice(-3)}`);
  for (const c of o.concurrency) {
    const r = await load(server.baseUrl, path, reader.token, c, 200, o.sec * 1000, server);
    const res: Result = {
      scenario: 'history',
      server: 'relaychat',
      label: `limit=50, concurrency ${c}`,
      storedMessages: o.rows,
      concurrency: c,
      requests: r.n,
      errors: r.errors,
      requestsPerSec: Math.round(r.n / r.sec),
      p50Ms: ms(r.h.percentile(50)),
      p95Ms: ms(r.h.percentile(95)),
      p99Ms: ms(r.h.percentile(99)),
      maxMs: ms(r.h.max),
      ...r.win,
      seedSec: seeded.sec,
      dbMB: seeded.dbMB,
      target: c === 1 ? 'p99 < 10 ms' : 'none (load)',
      lost: 0,
      duplicated: 0,
    };
    out.push(res);
    ctx.emit(res);
    ctx.log(`  concurrency ${c}: ${res.requestsPerSec} req/s, p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms`);
  }
  return out;
}

/**
 * PostgreSQL, in ONE statement: the UPDATE takes the room row's lock and advances `last_seq` by `rows` (as PgStore
 * does for a batch), and the INSERT writes seqs old last_seq+1 … +rows from generate_series, with ids
 * `e_h<seq hex>`, no clientMsgId. Then VACUUM ANALYZE, so that autovacuum, woken by a million new rows, does not run
 * during the measurement instead.
 */
async function seedPostgres(url: string, reader: Reader, rows: number, bodyBytes: number): Promise<Seeded> {
  const t0 = performance.now();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const ins = await db.query(
      `WITH bump AS (
         UPDATE rooms SET last_seq = last_seq + $3, last_event_at = GREATEST(last_event_at, $5)
         WHERE id = $1 RETURNING last_seq - $3 AS start)
       INSERT INTO events (room_id, seq, id, type, sender_id, body, created_at)
       SELECT $1, start + i, 'e_h' || to_hex(start + i), 'message', $2,
              'history message ' || (start + i) || ' ' || $4, $5 - $3 + i
       FROM bump, generate_series(1, $3::bigint) AS i`,
      [reader.roomId, reader.userId, rows, 'x'.repeat(bodyBytes), Date.now()],
    );
    if (ins.rowCount !== rows) throw new Error(`seeded ${ins.rowCount} rows instead of ${rows}`);
    await db.query('VACUUM ANALYZE events');
    const r = await db.query<{ last_seq: string; bytes: string }>(
      'SELECT last_seq, pg_database_size(current_database()) AS bytes FROM rooms WHERE id = $1',
      [reader.roomId],
    );
    return {
      lastSeq: Number(r.rows[0]!.last_seq),
      sec: round((performance.now() - t0) / 1000, 1),
      dbMB: MB(Number(r.rows[0]!.bytes)),
    };
  } finally {
    await db.end();
  }
}

function seed(file: string, roomId: string, senderId: string, rows: number, bodyBytes: number): Seeded {
  const t0 = performance.now();
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const room = db.prepare('SELECT last_seq FROM rooms WHERE id = ?').get(roomId) as { last_seq: number } | undefined;
    if (!room) throw new Error(`room ${roomId} not in ${file}`);
    const insert = db.prepare(
      `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at)
       VALUES (?, ?, ?, 'message', ?, ?, NULL, NULL, ?)`,
    );
    const bump = db.prepare('UPDATE rooms SET last_seq = ?, last_event_at = ? WHERE id = ?');
    const pad = 'x'.repeat(bodyBytes);
    const start = room.last_seq;
    const now = Date.now();
    db.transaction(() => {
      for (let i = 1; i <= rows; i++) {
        const seq = start + i;
        insert.run(roomId, seq, `e_h${seq.toString(36)}`, senderId, `history message ${seq} ${pad}`, now - rows + i);
      }
      bump.run(start + rows, now, roomId);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return {
      lastSeq: start + rows,
      sec: round((performance.now() - t0) / 1000, 1),
      dbMB: MB(statSync(file).size),
    };
  } finally {
    db.close();
  }
}

/** Closed loop: `concurrency` requests in flight over keep-alive sockets for `ms`, after `warmup` requests. */
async function load(
  base: string,
  path: string,
  token: string,
  concurrency: number,
  warmup: number,
  durationMs: number,
  server: ServerHandle,
) {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const h = new Histogram();
  let errors = 0;
  const get = () => timedGet(agent, url, path, token);
  try {
    for (let i = 0; i < warmup; i++) await get();
    const win = openWindow(server);
    const t0 = performance.now();
    const end = t0 + durationMs;
    let n = 0;
    const worker = async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const status = await get();
        h.record((performance.now() - s) * 1000);
        n++;
        if (status !== 200) errors++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const sec = (performance.now() - t0) / 1000;
    return { h, n, sec, errors, win: closeWindow(win) };
  } finally {
    agent.destroy();
  }
}

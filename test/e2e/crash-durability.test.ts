import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatApi } from '../../src/client/api.js';
import type { RoomEvent } from '../../src/protocol/model.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { createChatServer } from '../../src/server/app.js';
import { PgStore } from '../../src/storage/postgres/pg-store.js';
import { startPostgres, type PgTestServer } from '../../scripts/lib/postgres.js';
import { startRedis, type RedisTestServer } from '../../scripts/lib/redis.js';
import { ensureBuilt, startNode, type RelayNode } from '../../scripts/lib/relaychat.js';
import { testConfig } from '../helpers/harness.js';

/**
 * Durable before ack, against a real crash: a server process (`node dist/server/main.js`, embedded SQLite or a
 * cluster node on PostgreSQL) is SIGKILLed in the middle of a stream of sends over WebSocket, started again on the
 * same data, and every clientMsgId it acknowledged must be in the store at the seq its ack named, with the room's
 * sequence gap-free. A SIGKILL of the server leaves what the kernel already holds, so this catches an ack sent
 * before the commit (not one sent before the fsync: test/ports/sqlite-store.test.ts and the PostgreSQL settings checks
 * below cover that).
 */

const SETTINGS: Record<string, string> = {
  LOG_LEVEL: 'warn',
  SCRYPT_LOG2N: '10',
  MESSAGES_PER_SECOND: '100000',
  MESSAGE_BURST: '100000',
  REGISTRATIONS_PER_HOUR: '100000',
  LOGINS_PER_MINUTE: '100000',
  PASSWORD_HASH_QUEUE: '10000',
  LOGIN_FAILURES_PER_MINUTE: '1000000',
  MEMBERSHIP_CHANGES_PER_MINUTE: '100000',
  ROOM_MEMBERSHIP_CHANGES_PER_MINUTE: '1000000',
  SHUTDOWN_GRACE_MS: '500',
  DRAIN_DELAY_MS: '0',
  // Acks leave as soon as they are due: a gathering window would only widen the gap this test looks into.
  BUSY_WRITE_WINDOW_MS: '0',
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relaychat-crash-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function node(name: string, settings: Record<string, string>, dir: string): Promise<RelayNode> {
  await ensureBuilt();
  const n = await startNode({ name, settings: { ...SETTINGS, ...settings }, logFile: path.join(dir, `${name}.log`) });
  cleanups.push(() => n.stop(5_000));
  return n;
}

interface Sender {
  userId: string;
  token: string;
}

/**
 * Users sending into one room over raw WebSockets as fast as acks come back (`inflight` outstanding each), until
 * their sockets close. Records every ack: clientMsgId → seq and sender.
 */
function sendStream(url: string, roomId: string, senders: Sender[], inflight = 16) {
  const acks = new Map<string, { seq: number; userId: string }>();
  let sent = 0;
  const closed = senders.map(
    (s, i) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { origin: new URL(url).origin });
        let k = 0;
        const next = () => {
          // Bounded: a stream never outlives its test even if the node is never killed.
          if (ws.readyState !== WebSocket.OPEN || k >= 50_000) return;
          const clientMsgId = `s${i}-${k++}`;
          sent++;
          ws.send(JSON.stringify({ type: 'send', roomId, clientMsgId, body: `crash test ${clientMsgId}` }));
        };
        ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token: s.token })));
        ws.on('message', (data) => {
          const parsed = JSON.parse(String(data)) as Record<string, unknown> | Record<string, unknown>[];
          for (const f of Array.isArray(parsed) ? parsed : [parsed]) {
            if (f.type === 'welcome') for (let j = 0; j < inflight; j++) next();
            else if (f.type === 'ack') {
              acks.set(f.clientMsgId as string, { seq: f.seq as number, userId: s.userId });
              next();
            } else if (f.type === 'error' && f.clientMsgId) reject(new Error(`send refused: ${JSON.stringify(f)}`));
          }
        });
        ws.on('error', () => {
          /* the close follows */
        });
        ws.on('close', () => resolve());
      }),
  );
  return { acks, sent: () => sent, closed: Promise.all(closed) };
}

/** A room's whole history (every event type), oldest first. */
async function readAll(api: ChatApi, roomId: string): Promise<RoomEvent[]> {
  const out: RoomEvent[] = [];
  for (let page = 0; page < 1000; page++) {
    const after = out.length > 0 ? out[out.length - 1]!.seq : 0;
    const events = await api.events(roomId, { after, limit: 200 });
    out.push(...events);
    if (events.length < 200) return out;
  }
  throw new Error('history longer than expected');
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The crash scenario on a running node: three users stream sends into a room; once `ackedBeforeKill` are acked
 * the node is SIGKILLed; it is started again on the same data; the history must hold every acknowledged
 * clientMsgId at its acked seq, from its sender, once, with no gap in the sequence, and the sequence goes on.
 */
async function crashMidStream(n: RelayNode, ackedBeforeKill = 300): Promise<string> {
  const api = new ChatApi(n.url);
  const senders: (Sender & { api: ChatApi })[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await api.register(`crash${i}x${process.pid}`, 'correct horse battery');
    senders.push({ userId: r.user.id, token: r.token, api: new ChatApi(n.url, r.token) });
  }
  const room = await senders[0]!.api.createRoom('crash-room');
  for (const s of senders.slice(1)) await s.api.join(room.id);

  const stream = sendStream(n.url, room.id, senders);
  await until(() => stream.acks.size >= ackedBeforeKill, 60_000, `${ackedBeforeKill} acks before the kill`);
  n.kill('SIGKILL');
  await n.exited();
  // Acks the node wrote before it died may still be in our socket buffers: read them all.
  await stream.closed;
  const acked = new Map(stream.acks);
  const inFlight = stream.sent() - acked.size;
  expect(inFlight, 'sends were still in flight at the kill').toBeGreaterThan(0);

  await n.start();
  const reader = senders[0]!.api;
  const history = await readAll(reader, room.id);
  const seqs = history.map((e) => e.seq);
  expect(seqs, 'the room sequence after the crash is gap-free').toEqual(
    Array.from({ length: seqs.length }, (_, i) => i + 1),
  );
  const ids = history.filter((e) => e.type === 'message').map((e) => e.clientMsgId!);
  expect(new Set(ids).size, 'each clientMsgId stored once').toBe(ids.length);
  const atSeq = new Map(history.map((e) => [e.seq, e]));
  const missing: string[] = [];
  for (const [clientMsgId, ack] of acked) {
    const e = atSeq.get(ack.seq);
    if (e?.clientMsgId !== clientMsgId || e.senderId !== ack.userId) {
      missing.push(`${clientMsgId} acked at seq ${ack.seq}, store has ${e ? `${e.clientMsgId ?? e.type}` : 'nothing'}`);
    }
  }
  expect(missing, `${missing.length} of ${acked.size} acknowledged messages lost or moved by the crash`).toEqual([]);
  // The sequence goes on from the stored end.
  const after = await reader.sendMessage(room.id, 'after the crash', 'after-crash');
  expect(after.message.seq).toBe(seqs.length + 1);
  const storedUnacked = ids.length - acked.size;
  return `${acked.size} acked before the kill (all stored), ${inFlight} in flight of which ${storedUnacked} were stored`;
}

describe('durable before ack across a crash (kill -9)', () => {
  it(
    'embedded server: every message acknowledged before the kill is stored at its seq after restart',
    { timeout: 180_000 },
    async () => {
      const dir = tempDir();
      const n = await node('embedded', { DATA_DIR: path.join(dir, 'data') }, dir);
      const summary = await crashMidStream(n);
      process.stdout.write(`embedded kill -9: ${summary}\n`);
    },
  );

  describe('cluster node on PostgreSQL', () => {
    /** PostgreSQL and Redis for one test, stopped after whatever was started on them (cleanups run in reverse). */
    async function backends(): Promise<{ pgServer: PgTestServer; redis: RedisTestServer }> {
      const pgServer = await startPostgres();
      cleanups.push(() => pgServer.destroy());
      const redis = await startRedis();
      cleanups.push(() => redis.stop());
      return { pgServer, redis };
    }

    it(
      'every message acknowledged before the kill is stored at its seq after restart',
      { timeout: 180_000 },
      async () => {
        const dir = tempDir();
        const { pgServer, redis } = await backends();
        const db = await pgServer.createDatabase({ prefix: 'crash' });
        const n = await node(
          'pgnode',
          { DATABASE_URL: db.url, REDIS_URL: redis.url, DATA_DIR: path.join(dir, 'unused') },
          dir,
        );
        const summary = await crashMidStream(n);
        process.stdout.write(`cluster node kill -9: ${summary}\n`);
      },
    );

    it(
      'the store commits synchronously: synchronous_commit is on in every session of its own pool',
      { timeout: 60_000 },
      async () => {
        const dir = tempDir();
        const { pgServer, redis } = await backends();
        const db = await pgServer.createDatabase({ prefix: 'sync' });
        // The composition a node runs (DATABASE_URL + REDIS_URL select the PostgreSQL store), in this process, so the
        // store's own connections can be asked: the setting is per session, and a session may override the server's.
        const config = testConfig(dir, { databaseUrl: db.url, redisUrl: redis.url, databasePoolSize: 4 });
        const server = await createChatServer(config);
        try {
          const store = server.ports.store;
          expect(store).toBeInstanceOf(PgStore);
          const pool = Reflect.get(store, 'pool') as pg.Pool;
          // Check out every connection the pool may open at once: each is a distinct session of the store.
          const clients = await Promise.all(Array.from({ length: config.databasePoolSize }, () => pool.connect()));
          try {
            const pids = new Set<number>();
            for (const c of clients) {
              const row = (
                await c.query<{ pid: number; sync: string; fsync: string }>(
                  "SELECT pg_backend_pid() AS pid, current_setting('synchronous_commit') AS sync, current_setting('fsync') AS fsync",
                )
              ).rows[0]!;
              pids.add(row.pid);
              expect({ session: 'store', synchronous_commit: row.sync, fsync: row.fsync }).toEqual({
                session: 'store',
                synchronous_commit: 'on',
                fsync: 'on',
              });
            }
            expect(pids.size).toBe(config.databasePoolSize);
          } finally {
            for (const c of clients) c.release();
          }
        } finally {
          await server.close();
        }
      },
    );
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { ChatApi } from '../../src/client/api.js';
import { ChatClient, type ChatClientOptions } from '../../src/client/chat-client.js';
import type { PublicUser } from '../../src/protocol/model.js';
import { createChatServer, type Adapters, type ChatServer } from '../../src/server/app.js';
import { configWith, type Config } from '../../src/server/config.js';
import { PgStore } from '../../src/storage/postgres/pg-store.js';
import { startPostgres, type PgTestServer } from './postgres.js';
import { startRedis, uniquePrefix, type RedisTestServer } from './redis.js';

/**
 * Which backend `startServer` runs on. `embedded` (default): SQLite and the in-process bus. `cluster`
 * (RELAYCHAT_TEST_BACKEND=cluster, the `cluster` vitest project): PostgreSQL and Redis, selected through the same
 * DATABASE_URL/REDIS_URL settings a deployment uses — one PostgreSQL and one Redis per test file, a fresh database
 * and key prefix per server — so the end-to-end suites prove every guarantee on both.
 */
export const backend: 'embedded' | 'cluster' =
  process.env.RELAYCHAT_TEST_BACKEND === 'cluster' ? 'cluster' : 'embedded';

const TEMPLATE_DB = 'relaychat_template';
let clusterBackends: Promise<{ pg: PgTestServer; redis: RedisTestServer }> | undefined;

/** Started on first use in a test file, stopped after it. A migrated template makes each database cheap. */
function clusterBackendsOnce(): Promise<{ pg: PgTestServer; redis: RedisTestServer }> {
  clusterBackends ??= (async () => {
    const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    await pg.createDatabase({ prefix: 'x' }).then(async (db) => {
      await (await PgStore.open({ connectionString: db.url })).close();
      await pg.admin(`ALTER DATABASE ${db.name} RENAME TO ${TEMPLATE_DB}`);
    });
    return { pg, redis };
  })();
  return clusterBackends;
}

/** The PostgreSQL server the cluster backend uses in this test file (started on first use, stopped after it). */
export function clusterPostgres(): Promise<PgTestServer> {
  return clusterBackendsOnce().then((b) => b.pg);
}

if (backend === 'cluster') {
  afterAll(async () => {
    const b = await clusterBackends?.catch(() => undefined);
    await Promise.all([b?.pg.destroy(), b?.redis.stop()]);
  }, 30_000);
}

/** Test defaults: loopback, any free port, cheap password hashing, generous limits (tests of limits lower them). */
export function testConfig(dataDir: string, overrides: Partial<Config> = {}): Config {
  return configWith({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'silent',
    scryptLog2N: 10,
    messagesPerSecond: 10_000,
    messageBurst: 10_000,
    loginsPerMinute: 10_000,
    loginFailuresPerMinute: 100_000,
    membershipChangesPerMinute: 100_000,
    roomMembershipChangesPerMinute: 100_000,
    passwordHashQueue: 1000,
    registrationsPerHour: 100_000,
    roomsPerMinute: 10_000,
    invitesPerMinute: 10_000,
    presenceFlushMs: 50,
    shutdownGraceMs: 1000,
    // Tests talk to loopback only: no preview fetches unless a test turns them on (with a local test server).
    linkPreviews: 'off',
    ...overrides,
  });
}

export interface TestServer {
  url: string;
  server: ChatServer;
  dataDir: string;
  config: Config;
  /** Stops the server gracefully (clients see 1001). */
  stop(): Promise<void>;
  /** Stops, then starts a new server on the same data dir and port. */
  restart(): Promise<void>;
}

/**
 * A real server on an ephemeral loopback port with a real SQLite file in a temp dir.
 * Registers its own teardown with the current test.
 */
export async function startServer(
  overrides: Partial<Config> = {},
  /** `webDir`: serve this build of the web client (test/web builds one per run). */
  adapters: Pick<Adapters, 'webDir'> = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relaychat-test-'));
  let dropDatabase = async () => {};
  if (backend === 'cluster') {
    const { pg, redis } = await clusterBackendsOnce();
    const db = await pg.createDatabase({ template: TEMPLATE_DB });
    dropDatabase = () => pg.dropDatabase(db.name);
    overrides = { databaseUrl: db.url, redisUrl: redis.url, redisPrefix: uniquePrefix(), ...overrides };
  }
  let config = testConfig(dataDir, overrides);
  let server = await createChatServer(config, adapters);
  if (backend === 'cluster' && !(server.ports.store instanceof PgStore)) {
    throw new Error('RELAYCHAT_TEST_BACKEND=cluster but the server did not pick the PostgreSQL store');
  }
  const url = await server.listen();
  const port = Number(new URL(url).port);
  const t: TestServer = {
    url,
    server,
    dataDir,
    config,
    stop: () => t.server.close(),
    async restart() {
      await t.server.close();
      config = { ...config, port };
      server = await createChatServer(config, adapters);
      await server.listen();
      t.server = server;
    },
  };
  onTestFinished(async () => {
    await t.server.close();
    rmSync(dataDir, { recursive: true, force: true });
    await dropDatabase().catch(() => {});
  });
  return t;
}

let userCounter = 0;

export interface TestUser {
  api: ChatApi;
  token: string;
  user: PublicUser;
  username: string;
  password: string;
}

export async function registerUser(url: string, name?: string): Promise<TestUser> {
  const username = name ?? `user${process.pid}x${++userCounter}`;
  const password = 'correct horse battery';
  const api = new ChatApi(url);
  const r = await api.register(username, password);
  return { api, token: r.token, user: r.user, username, password };
}

/** A connected SDK client whose teardown is registered with the current test. */
export async function connect(
  url: string,
  token: string,
  opts: Partial<ChatClientOptions> = {},
  /** Runs before connecting: attach listeners here to see replayed events, which can arrive with `welcome`. */
  setup?: (client: ChatClient) => void,
): Promise<ChatClient> {
  const client = new ChatClient({
    url,
    token,
    WebSocket: WebSocket as unknown as ChatClientOptions['WebSocket'],
    backoff: { minMs: 20, maxMs: 200 },
    ...opts,
  });
  onTestFinished(() => client.close());
  setup?.(client);
  await client.connect();
  return client;
}

/** Polls until `check` returns truthy (or stops throwing); fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

/** Collects every event a client delivers, per room, for order and exactly-once assertions. */
export function recordEvents(client: ChatClient) {
  const byRoom = new Map<string, { seq: number; type: string; body: string | null; clientMsgId: string | null }[]>();
  client.on('event', (e) => {
    let list = byRoom.get(e.roomId);
    if (!list) byRoom.set(e.roomId, (list = []));
    list.push({ seq: e.seq, type: e.type, body: e.body, clientMsgId: e.clientMsgId });
  });
  return {
    byRoom,
    messages: (roomId: string) => (byRoom.get(roomId) ?? []).filter((e) => e.type === 'message'),
    bodies: (roomId: string) => (byRoom.get(roomId) ?? []).filter((e) => e.type === 'message').map((e) => e.body),
  };
}

/** A raw `ws` socket speaking frames directly, for protocol-level tests. It sends the server's own Origin. */
export async function rawSocket(url: string): Promise<{
  ws: WebSocket;
  frames: Record<string, unknown>[];
  send: (frame: unknown) => void;
  closed: Promise<{ code: number; reason: string }>;
}> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { origin: new URL(url).origin });
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (data) => {
    const parsed = JSON.parse(String(data)) as Record<string, unknown> | Record<string, unknown>[];
    frames.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  onTestFinished(() => ws.terminate());
  return { ws, frames, send: (f) => ws.send(typeof f === 'string' ? f : JSON.stringify(f)), closed };
}

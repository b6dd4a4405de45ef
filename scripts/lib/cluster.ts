/**
 * A whole relaychat cluster on loopback, from real processes: PostgreSQL, Redis, N nodes
 * (`node dist/server/main.js`) and HAProxy in front, configured from deploy/haproxy.cfg. `npm run cluster`
 * runs one by hand; the fault tests (test/cluster) start one per test file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHaproxy, type HaproxyProcess } from './haproxy.js';
import { startPostgres, type PgTestServer } from './postgres.js';
import { startRedis, type RedisTestServer } from './redis.js';
import { ensureBuilt, runMigrate, startNode, type RelayNode } from './relaychat.js';

export interface ClusterOptions {
  /** Number of relaychat nodes. Default 3. */
  nodes?: number;
  /** Settings (env vars) for every node, on top of the cluster's own (DATABASE_URL, REDIS_URL, TRUST_PROXY…). */
  settings?: Record<string, string>;
  /** Load balancer port; default a free one. */
  port?: number;
  /** Progress lines (the script prints them; tests stay quiet). */
  log?: (line: string) => void;
  /**
   * Compile dist/server first when it is older than src/ (default). The bench passes false: it measures the
   * build it was given, like its embedded mode.
   */
  build?: boolean;
}

export interface Cluster {
  /** The load balancer's URL: what clients use. */
  readonly url: string;
  readonly nodes: RelayNode[];
  readonly pg: PgTestServer;
  readonly redis: RedisTestServer;
  readonly haproxy: HaproxyProcess;
  readonly databaseUrl: string;
  /** Holds the nodes' and HAProxy's logs and config. */
  readonly dir: string;
  /** Last log lines of every process, for failure messages. */
  logTails(lines?: number): string;
  /** Stops everything, in order: nodes (drain + graceful close), load balancer, Redis, PostgreSQL. Idempotent. */
  stop(opts?: { keepLogs?: boolean }): Promise<void>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => {});
  const count = opts.nodes ?? 3;
  if (opts.build !== false) await ensureBuilt(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relaychat-cluster-'));
  let pg: PgTestServer | undefined;
  let redis: RedisTestServer | undefined;
  let haproxy: HaproxyProcess | undefined;
  const nodes: RelayNode[] = [];

  let stopping: Promise<void> | undefined;
  const stopAll = (keepLogs = false) =>
    (stopping ??= (async () => {
      // Nodes first while the load balancer still runs: each drains (readyz 503), then closes its clients.
      await Promise.allSettled(nodes.map((n) => n.stop()));
      await haproxy?.stop().catch(() => {});
      await redis?.stop().catch(() => {});
      await pg?.destroy().catch(() => {});
      if (!keepLogs) fs.rmSync(dir, { recursive: true, force: true });
    })());

  try {
    log('starting PostgreSQL…');
    pg = await startPostgres();
    const db = await pg.createDatabase({ prefix: 'relaychat' });
    log(runMigrate(db.url));
    log('starting Redis…');
    redis = await startRedis();
    const settings: Record<string, string> = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      // The nodes are reached only through the load balancer on loopback: trust its X-Forwarded-For.
      TRUST_PROXY: '127.0.0.1',
      DATA_DIR: path.join(dir, 'unused-data'),
      LOG_LEVEL: 'info',
      ...opts.settings,
    };
    log(`starting ${count} relaychat nodes…`);
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: count }, (_, i) =>
          startNode({ name: `node${i + 1}`, settings, logFile: path.join(dir, `node${i + 1}.log`) }),
        ),
      )),
    );
    log('starting HAProxy…');
    haproxy = await startHaproxy({
      nodes: nodes.map((n) => ({ name: n.name, port: n.port })),
      dir,
      ...(opts.port ? { port: opts.port } : {}),
    });
    const lb = haproxy;
    const [pgServer, redisServer] = [pg, redis];
    return {
      url: lb.url,
      nodes,
      pg: pgServer,
      redis: redisServer,
      haproxy: lb,
      databaseUrl: db.url,
      dir,
      logTails(lines = 15) {
        const parts = nodes.map((n) => `--- ${n.name} (${n.logFile})\n${n.logTail(lines)}`);
        parts.push(`--- postgres\n${pgServer.logTail(lines)}`, `--- redis\n${redisServer.logTail()}`);
        return parts.join('\n');
      },
      stop: (o = {}) => stopAll(o.keepLogs),
    };
  } catch (err) {
    const tails = nodes.map((n) => `--- ${n.name}\n${n.logTail(15)}`).join('\n');
    await stopAll(true);
    throw new Error(`cluster did not start (logs in ${dir}): ${(err as Error).message}\n${tails}`, { cause: err });
  }
}

/**
 * A whole relaychat cluster on loopback, from real processes: PostgreSQL, Redis, N nodes
 * (`node dist/server/main.js`) and a load balancer in front — HAProxy (deploy/haproxy.cfg, the default) or nginx
 * (deploy/nginx.conf), with any balancing strategy of deploy/balance/. `npm run cluster` runs one by hand; the
 * cluster tests (test/cluster) start one per test file, and may swap its load balancer (`useBalancer`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BALANCE_STRATEGIES, type BalanceStrategy, type BalancerKind } from './balance.js';
import { startHaproxy, type HaproxyProcess } from './haproxy.js';
import { startNginx, type NginxProcess } from './nginx.js';
import { startPostgres, type PgTestServer } from './postgres.js';
import { startRedis, type RedisTestServer } from './redis.js';
import { tailFile } from './proc.js';
import { ensureBuilt, runMigrate, startNode, type RelayNode } from './relaychat.js';

export interface ClusterOptions {
  /** Number of relaychat nodes. Default 3. */
  nodes?: number;
  /** Settings (env vars) for every node, on top of the cluster's own (DATABASE_URL, REDIS_URL, TRUST_PROXY…). */
  settings?: Record<string, string>;
  /** Load balancer port; default a free one. */
  port?: number;
  /** Which load balancer; default HAProxy. */
  balancer?: BalancerKind;
  /** Balancing strategy (deploy/balance/); default leastconn. */
  balance?: BalanceStrategy;
  /** Per-node weights, with the `weighted` strategy only; default 1, 2, 3, … (node i gets weight i). */
  weights?: number[];
  /** Progress lines (the script prints them; tests stay quiet). */
  log?: (line: string) => void;
  /**
   * Compile dist/server first when it is older than src/ (default). The bench passes false: it measures the
   * build it was given, like its embedded mode.
   */
  build?: boolean;
}

export type Balancer = HaproxyProcess | NginxProcess;

/** What `useBalancer` switches to. */
export interface BalancerChoice {
  balancer?: BalancerKind;
  balance?: BalanceStrategy;
  weights?: number[];
}

export interface Cluster {
  /** The load balancer's URL: what clients use (it changes when `useBalancer` starts another one). */
  readonly url: string;
  readonly nodes: RelayNode[];
  readonly pg: PgTestServer;
  readonly redis: RedisTestServer;
  /** The load balancer in front, as it is now. */
  readonly lb: Balancer;
  /** The weight of each node (same order as `nodes`) under the `weighted` strategy; undefined otherwise. */
  readonly weights: number[] | undefined;
  /** `lb` when it is HAProxy (its stats page and server states); throws when the cluster runs nginx. */
  readonly haproxy: HaproxyProcess;
  /**
   * Stops the load balancer and starts `choice` in front of the same nodes, PostgreSQL and Redis (on a new port:
   * read `url` again). Clients connected through the old one lose their sockets and reconnect to the new URL only
   * if they were given it, so close them first.
   */
  useBalancer(choice: BalancerChoice): Promise<Balancer>;
  readonly databaseUrl: string;
  /** Holds the nodes' and the load balancer's logs and config. */
  readonly dir: string;
  /** Last log lines of every process, for failure messages. */
  logTails(lines?: number): string;
  /** Stops everything, in order: nodes (drain + graceful close), load balancer, Redis, PostgreSQL. Idempotent. */
  stop(opts?: { keepLogs?: boolean }): Promise<void>;
}

/** Checks a balancer choice and fills in its defaults (leastconn; weights 1, 2, 3, … for `weighted`). */
export function resolveBalancer(
  choice: BalancerChoice,
  nodeCount: number,
): { balancer: BalancerKind; balance: BalanceStrategy; weights: number[] | undefined } {
  const balance = choice.balance ?? 'leastconn';
  if (!BALANCE_STRATEGIES.includes(balance)) throw new Error(`unknown balancing strategy "${String(balance)}"`);
  if (choice.weights && balance !== 'weighted') throw new Error('weights go with the weighted strategy only');
  const weights =
    balance === 'weighted' ? (choice.weights ?? Array.from({ length: nodeCount }, (_, i) => i + 1)) : undefined;
  if (weights && (weights.length !== nodeCount || !weights.every((w) => Number.isInteger(w) && w >= 1 && w <= 256))) {
    throw new Error(`weights: one integer 1..256 per node (${nodeCount}), got ${weights.join(',')}`);
  }
  return { balancer: choice.balancer ?? 'haproxy', balance, weights };
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => {});
  const count = opts.nodes ?? 3;
  let choice = resolveBalancer(opts, count);
  if (opts.build !== false) await ensureBuilt(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relaychat-cluster-'));
  let pg: PgTestServer | undefined;
  let redis: RedisTestServer | undefined;
  let lb: Balancer | undefined;
  const nodes: RelayNode[] = [];

  const startLb = (c: typeof choice, port?: number): Promise<Balancer> => {
    const lbOpts = {
      nodes: nodes.map((n, i) => ({ name: n.name, port: n.port, ...(c.weights ? { weight: c.weights[i]! } : {}) })),
      dir,
      balance: c.balance,
      ...(port ? { port } : {}),
    };
    return c.balancer === 'nginx' ? startNginx(lbOpts) : startHaproxy(lbOpts);
  };

  let stopping: Promise<void> | undefined;
  const stopAll = (keepLogs = false) =>
    (stopping ??= (async () => {
      // Nodes first while the load balancer still runs: each drains (readyz 503), then closes its clients.
      await Promise.allSettled(nodes.map((n) => n.stop()));
      await lb?.stop().catch(() => {});
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
    log(`starting ${choice.balancer === 'nginx' ? 'nginx' : 'HAProxy'} (${choice.balance})…`);
    lb = await startLb(choice, opts.port);
    const [pgServer, redisServer] = [pg, redis];
    return {
      get url() {
        return lb!.url;
      },
      nodes,
      pg: pgServer,
      redis: redisServer,
      get lb() {
        return lb!;
      },
      get weights() {
        return choice.weights;
      },
      get haproxy() {
        if (lb!.kind !== 'haproxy') throw new Error(`this cluster runs ${lb!.kind}, not HAProxy`);
        return lb!;
      },
      async useBalancer(next) {
        const resolved = resolveBalancer(next, count);
        await lb?.stop();
        lb = undefined;
        lb = await startLb(resolved);
        choice = resolved;
        return lb;
      },
      databaseUrl: db.url,
      dir,
      logTails(lines = 15) {
        const parts = nodes.map((n) => `--- ${n.name} (${n.logFile})\n${n.logTail(lines)}`);
        parts.push(`--- postgres\n${pgServer.logTail(lines)}`, `--- redis\n${redisServer.logTail()}`);
        if (lb) parts.push(`--- ${lb.kind} (${lb.logFile})\n${tailFile(lb.logFile, lines)}`);
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

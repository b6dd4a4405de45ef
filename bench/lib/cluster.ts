/**
 * `--cluster`: relaychat deployed as a cluster on loopback — PostgreSQL, Redis, N nodes (`node dist/server/main.js`)
 * and HAProxy in front — started by scripts/lib/cluster.ts (the launcher of `npm run cluster` and the fault tests)
 * and handed to the scenarios as a ServerHandle whose URLs are HAProxy's.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster } from '../../scripts/lib/cluster.js';
import { findPostgresBin } from '../../scripts/lib/postgres.js';
import { benchServerEnv, onEarlyExit, type ServerHandle } from './children.js';
import { childPids, ProcSampler, treeCpuSec } from './proc.js';

/**
 * Added to the bench's server settings on every node: no drain on stop (the bench has closed its clients before it
 * stops a cluster, so there is nothing for the load balancer to move).
 */
export const CLUSTER_ENV: Record<string, string> = { DRAIN_DELAY_MS: '0' };

/** A fresh cluster of `nodes` nodes with the bench's settings plus `extra`; its logs are copied to `logDir` on stop. */
export async function startRelayCluster(opts: {
  nodes: number;
  extra: Record<string, string>;
  name: string;
  logDir: string;
}): Promise<ServerHandle & { cluster: NonNullable<ServerHandle['cluster']> }> {
  // build: false — measure dist/ as built (`npm run build`), as the embedded mode does.
  const cluster = await startCluster({
    nodes: opts.nodes,
    settings: { ...benchServerEnv(), ...CLUSTER_ENV, ...opts.extra },
    build: false,
  });
  const removeStop = onEarlyExit(() => cluster.stop());
  const nodePids = cluster.nodes.map((n) => n.pid!);
  const infra = { postgres: cluster.pg.pid!, redis: cluster.redis.pid!, haproxy: cluster.haproxy.pid! };
  const sampler = new ProcSampler(nodePids, 200);
  return {
    kind: 'relaychat',
    pid: nodePids[0]!,
    baseUrl: cluster.url,
    wsUrl: `${cluster.url.replace(/^http/, 'ws')}/ws`,
    logFile: join(opts.logDir, `${opts.name}-cluster-*.log`),
    sampler,
    cluster: {
      nodes: opts.nodes,
      databaseUrl: cluster.databaseUrl,
      infraCpuSec: () => ({
        postgres: treeCpuSec(infra.postgres) ?? NaN,
        redis: treeCpuSec(infra.redis) ?? NaN,
        haproxy: treeCpuSec(infra.haproxy) ?? NaN,
      }),
      pids: () => ({
        nodes: nodePids,
        postgres: [infra.postgres, ...childPids(infra.postgres)],
        redis: [infra.redis],
        haproxy: [infra.haproxy],
      }),
    },
    async stop() {
      sampler.stop();
      const keepLogs = (dir: string) => {
        try {
          for (const f of readdirSync(dir).filter((x) => x.endsWith('.log'))) {
            copyFileSync(join(dir, f), join(opts.logDir, `${opts.name}-cluster-${f}`));
          }
        } catch {
          // logs are a convenience
        }
      };
      keepLogs(cluster.pg.dir); // PostgreSQL's log lives beside its data, which the stop removes
      await cluster.stop({ keepLogs: true });
      keepLogs(cluster.dir); // the nodes' and HAProxy's
      rmSync(cluster.dir, { recursive: true, force: true });
      removeStop();
    },
  };
}

/** `PostgreSQL 15.x, Redis 7.x, HAProxy 2.6.x`, for the docs header. */
export function clusterVersions(): string {
  const first = (cmd: string, args: string[], re: RegExp) => {
    try {
      return re.exec(execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000 }))?.[1] ?? '?';
    } catch {
      return '?';
    }
  };
  const pgBin = findPostgresBin();
  return [
    `PostgreSQL ${pgBin ? first(join(pgBin, 'postgres'), ['--version'], /(\d+(\.\d+)*)/) : '?'}`,
    `Redis ${first(process.env.REDIS_SERVER ?? 'redis-server', ['--version'], /v=(\S+)/)}`,
    `HAProxy ${first(process.env.HAPROXY ?? 'haproxy', ['-v'], /version (\S+)/)}`,
  ].join(', ');
}

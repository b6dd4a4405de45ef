import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from '../lib/args.js';
import { sleep, startBaseline, startRelay, type ServerHandle } from '../lib/children.js';
import { startRelayCluster } from '../lib/cluster.js';
import { MB, membersPerRoom, rateStep, round, type Result, type StepSpec } from '../lib/measure.js';
import { ClientPool } from '../lib/pool.js';
import type { ClientSpec, ServerKind } from '../lib/wire.js';

export interface Ctx {
  opts: Options;
  /** Records a result (JSON line + table row). */
  emit(r: Result): void;
  /** Progress, to stderr. */
  log(msg: string): void;
  tmpRoot: string;
  logDir: string;
  baselineScript: string;
  workerScript: string;
  tag: string;
}

/**
 * Runs `fn` against a relaychat server on a fresh temp DATA_DIR (or on `dataDir`, which the caller owns and
 * removes); always stops the server, and removes the temp dir it made. With `--cluster`, against a fresh
 * cluster instead (`ownDataDir` does not apply).
 */
export async function withRelay<T>(
  ctx: Ctx,
  name: string,
  env: Record<string, string>,
  fn: (s: ServerHandle) => Promise<T>,
  ownDataDir?: string,
): Promise<T> {
  if (ctx.opts.cluster) return withCluster(ctx, ctx.opts.cluster.nodes, name, env, fn);
  const dataDir = ownDataDir ?? mkdtempSync(join(ctx.tmpRoot, `${name}-`));
  const server = await startRelay({
    dataDir,
    logFile: join(ctx.logDir, `${name}-relaychat.log`),
    extra: { ...env, ...ctx.opts.serverEnv },
    nodeArgs: ctx.opts.serverNodeArgs,
    ...(ctx.opts.serverProf ? { profileDir: join(ctx.logDir, '..', 'profiles', `${name}-relaychat`) } : {}),
  });
  ctx.log(`  relaychat pid ${server.pid} on ${server.baseUrl} (DATA_DIR ${dataDir})`);
  try {
    return await fn(server);
  } finally {
    await server.stop(5000);
    if (!ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `withRelay` on a fresh cluster; records its processes and start/stop times as a `cluster` line. */
async function withCluster<T>(
  ctx: Ctx,
  nodes: number,
  name: string,
  env: Record<string, string>,
  fn: (s: ServerHandle) => Promise<T>,
): Promise<T> {
  let t0 = performance.now();
  const server = await startRelayCluster({ nodes, extra: { ...env, ...ctx.opts.serverEnv }, name, logDir: ctx.logDir });
  const startSec = round((performance.now() - t0) / 1000, 1);
  const pids = server.cluster.pids();
  ctx.log(
    `  relaychat cluster on ${server.baseUrl} (HAProxy pid ${pids.haproxy}), started in ${startSec} s: ` +
      `nodes ${pids.nodes.join(', ')}, PostgreSQL ${pids.postgres[0]}, Redis ${pids.redis}`,
  );
  try {
    return await fn(server);
  } finally {
    const seen = server.cluster.pids();
    t0 = performance.now();
    await server.stop();
    ctx.emit({
      scenario: 'cluster',
      server: 'relaychat-cluster',
      label: name,
      nodes,
      startSec,
      stopSec: round((performance.now() - t0) / 1000, 1),
      pids: seen,
    });
  }
}

export async function withBaseline<T>(ctx: Ctx, name: string, fn: (s: ServerHandle) => Promise<T>): Promise<T> {
  const server = await startBaseline({
    script: ctx.baselineScript,
    logFile: join(ctx.logDir, `${name}-baseline.log`),
    ...(ctx.opts.serverProf ? { profileDir: join(ctx.logDir, '..', 'profiles', `${name}-baseline`) } : {}),
  });
  ctx.log(`  baseline pid ${server.pid} on ${server.baseUrl}`);
  try {
    return await fn(server);
  } finally {
    await server.stop(3000);
  }
}

/** Starts the client workers, connects every client (bounded concurrency), runs `fn`, always closes. */
export async function withPool<T>(
  ctx: Ctx,
  kind: ServerKind,
  server: ServerHandle,
  clients: ClientSpec[],
  fn: (pool: ClientPool, connectSec: number) => Promise<T>,
): Promise<T> {
  const pool = await ClientPool.start({
    workerScript: ctx.workerScript,
    kind,
    wsUrl: server.wsUrl,
    clients,
    workers: ctx.opts.workers,
    bodyBytes: ctx.opts.bodyBytes,
    tag: ctx.tag,
    reconnect: kind === 'relaychat',
  });
  try {
    const t0 = performance.now();
    const budget = 60_000 + clients.length * 20;
    const c = await pool.connect(ctx.opts.connectConcurrency, 20_000, budget);
    const connectSec = (performance.now() - t0) / 1000;
    ctx.log(
      `  ${kind}: ${c.ok}/${clients.length} clients connected in ${connectSec.toFixed(1)} s` +
        (c.failed ? ` — ${c.failed} failed: ${JSON.stringify(c.errors)}` : ''),
    );
    if (c.failed > 0) throw new Error(`${c.failed} of ${clients.length} ${kind} clients could not connect`);
    return await fn(pool, connectSec);
  } finally {
    await pool.close();
  }
}

/**
 * Waits at least `minMs` (relaychat's presence flush runs PRESENCE_FLUSH_MS = 1 s after connections come up),
 * then until the server is quiet (CPU below `cores` over a sample window) or `maxMs` passes.
 */
export async function settle(
  server: ServerHandle,
  maxMs: number,
  minMs = 0,
  cores = 0.05,
  everyMs = 300,
): Promise<void> {
  const deadline = performance.now() + maxMs;
  if (minMs > 0) await sleep(minMs);
  let prev = server.sampler.read();
  while (performance.now() < deadline) {
    await sleep(everyMs);
    const now = server.sampler.read();
    const used = (now.cpuSec - prev.cpuSec) / ((now.at - prev.at) / 1000);
    prev = now;
    if (used < cores) return;
  }
}

export const passes = (r: Result, limitMs: number) =>
  r.e2eP99Ms != null && r.e2eP99Ms <= limitMs && !r.drainTimedOut && r.lost === 0 && r.duplicated === 0;

/**
 * The saturation search: after an unreported warm-up step, the offered load doubles each step until p99
 * passes the limit (or anything is lost, or the drain times out), or deliveries/s stop growing (< 10 % more
 * than the previous step). A failed step is run once more before it counts (a transient must not end the
 * search). After the failure, REFINE_STEPS bisection steps between the last good and the failed rate refine the
 * answer. With an explicit `rates` list, exactly those steps run (stopping at the first failure), without warm-up
 * or refinement.
 */
const REFINE_STEPS = 2;

export async function saturationSearch(
  ctx: Ctx,
  base: Omit<StepSpec, 'rate' | 'label'>,
  ladder: { rates: number[] | null; startRate: number; maxSteps: number },
): Promise<Result[]> {
  const out: Result[] = [];
  const limit = ctx.opts.p99LimitMs;
  const step = async (rate: number, label: string) => {
    const r = await rateStep({ ...base, rate, label });
    out.push(r);
    ctx.emit(r);
    ctx.log(
      `  ${base.kind} ${label}: ${r.deliveriesPerSec} deliveries/s, p50 ${r.e2eP50Ms} ms, p99 ${r.e2eP99Ms} ms, ` +
        `lost ${r.lost}, dup ${r.duplicated}, server ${r.serverCores} cores, generator ${r.genCores} cores ` +
        `(worker ELU ${(r.genElu ?? []).join(',')}), other processes ${r.otherCores} cores` +
        (r.drainTimedOut ? ' (drain timed out)' : ''),
    );
    return r;
  };
  if (!ladder.rates) {
    // JIT, connection buffers and the first GCs: not part of any step.
    await rateStep({ ...base, rate: ladder.startRate, durationMs: Math.min(2000, base.durationMs), label: 'warm-up' });
    await sleep(300);
  }
  let rate = ladder.rates?.[0] ?? ladder.startRate;
  let prevDps = 0;
  let lastGood = 0;
  let failedAt = 0;
  for (let i = 0; i < (ladder.rates?.length ?? ladder.maxSteps); i++) {
    if (ladder.rates) rate = ladder.rates[i]!;
    let r = await step(rate, `${rate} msg/s`);
    if (!passes(r, limit) && !ladder.rates) {
      // One failure can be a transient (a GC, another process on the machine): confirm it before stopping.
      await sleep(1000);
      r = await step(rate, `${rate} msg/s (retry)`);
    }
    if (!passes(r, limit)) {
      failedAt = rate;
      break;
    }
    lastGood = rate;
    if (!ladder.rates && prevDps > 0 && (r.deliveriesPerSec ?? 0) < prevDps * 1.1) break;
    prevDps = Math.max(prevDps, r.deliveriesPerSec ?? 0);
    rate *= 2;
    await sleep(500);
  }
  if (!ladder.rates && failedAt && lastGood) {
    // Bisect between the last good and the failed rate, so the answer is within a quarter of that gap.
    let [lo, hi] = [lastGood, failedAt];
    for (let k = 0; k < REFINE_STEPS; k++) {
      const mid = Math.round((lo + hi) / 2);
      if (mid <= lo || mid >= hi) break;
      await sleep(1000); // let the failed step's backlog clear
      if (passes(await step(mid, `${mid} msg/s (refine)`), limit)) lo = mid;
      else hi = mid;
    }
  }
  return out;
}

/**
 * One server's half of a rate scenario: connect `specs`, let the server settle (relaychat longer: its presence
 * flush follows the connects), then run the saturation search with every client's room as the fan-out.
 */
export function searchWithPool(
  ctx: Ctx,
  kind: ServerKind,
  server: ServerHandle,
  specs: ClientSpec[],
  step: { scenario: string; rooms: number; senders: number[]; settleMaxMs: number },
  ladder: { rates: number[] | null; startRate: number; maxSteps: number },
): Promise<Result[]> {
  return withPool(ctx, kind, server, specs, async (pool, connectSec) => {
    await settle(server, step.settleMaxMs, ctx.opts.quick ? 0 : kind === 'relaychat' ? 1500 : 500);
    if (kind === 'relaychat') {
      // What telling everyone who came online cost while the clients connected (every user is in the lobby).
      const seen = await pool.stats();
      const r: Result = {
        scenario: step.scenario,
        server: kind,
        label: 'connect',
        clients: specs.length,
        rooms: step.rooms,
        connectSec: round(connectSec, 1),
        presenceFrames: seen.presenceFrames,
        presenceMB: MB(seen.presenceBytes),
      };
      ctx.emit(r);
      ctx.log(`  ${kind}: ${r.presenceFrames} presence frames (${r.presenceMB} MB) received while connecting`);
    }
    return saturationSearch(
      ctx,
      {
        scenario: step.scenario,
        kind,
        pool,
        server,
        clients: specs.length,
        rooms: step.rooms,
        senders: step.senders,
        membersOf: membersPerRoom(specs.map((s) => s.room)),
        durationMs: ctx.opts.stepSec * 1000,
      },
      ladder,
    );
  });
}

/** The best sustained deliveries/s among steps within the p99 limit with nothing lost. */
export function sustained(results: Result[], limitMs: number): Result | undefined {
  let best: Result | undefined;
  for (const r of results) {
    if (passes(r, limitMs) && (r.deliveriesPerSec ?? 0) > (best?.deliveriesPerSec ?? -1)) best = r;
  }
  return best;
}

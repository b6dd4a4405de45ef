import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { SETTINGS } from '../../src/server/config.js';
import { ProcSampler } from './proc.js';
import type { ServerKind } from './wire.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Every child this process started; all of them are killed on exit, on SIGINT/SIGTERM and on a crash. */
const live = new Set<ChildProcess>();
/** Stops that need time (a cluster: nodes, HAProxy, Redis, PostgreSQL, in order); run before exiting early. */
const stops = new Set<() => Promise<void>>();
let cleanupInstalled = false;
let exiting = false;

function killAll(signal: NodeJS.Signals): void {
  for (const c of live) {
    try {
      c.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Registers a stop to run if the bench exits early; returns its removal (call it once stopped normally). */
export function onEarlyExit(stop: () => Promise<void>): () => void {
  stops.add(stop);
  return () => stops.delete(stop);
}

/**
 * Exits with `code` after killing every child and running the registered stops (bounded: 30 s). Errors while it
 * runs are ignored; a second signal exits at once (the processes' exit hooks and parent-death signals remain).
 */
export async function shutdown(code: number): Promise<void> {
  killAll('SIGKILL');
  if (exiting) return;
  exiting = true;
  if (stops.size) process.stderr.write(`bench: stopping the cluster…\n`);
  await Promise.race([Promise.allSettled([...stops].map((stop) => stop())), sleep(30_000)]);
  process.exit(code);
}

export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => killAll('SIGKILL'));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
      if (exiting) process.exit(130);
      void shutdown(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: uncaught ${err.stack ?? err}\n`);
    void shutdown(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: unhandled rejection ${(err as Error)?.stack ?? err}\n`);
    void shutdown(1);
  });
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What a cluster deployment (`--cluster`) adds to a server handle. */
export interface ClusterInfo {
  nodes: number;
  databaseUrl: string;
  /** CPU seconds so far of PostgreSQL (the postmaster and its children), Redis and HAProxy. */
  infraCpuSec(): Record<'postgres' | 'redis' | 'haproxy', number>;
  /** Every process of the cluster now: the nodes, PostgreSQL (postmaster, then its children), Redis, HAProxy. */
  pids(): Record<'nodes' | 'postgres' | 'redis' | 'haproxy', number[]>;
}

export interface ServerHandle {
  kind: ServerKind;
  /** The server process (a cluster: its first node). */
  pid: number;
  baseUrl: string;
  wsUrl: string;
  logFile: string;
  /** The server process (a cluster: the sum over its nodes). */
  sampler: ProcSampler;
  cluster?: ClusterInfo;
  /** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** `--pin-server`: the CPU list server processes are started on (through taskset, which execs node: same pid). */
let serverCpus: string | null = null;

export function pinServersTo(cpus: string | null): void {
  serverCpus = cpus;
}

function spawnLogged(name: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'w');
  try {
    const [cmd, argv] = serverCpus
      ? ['taskset', ['-c', serverCpus, process.execPath, ...args]]
      : [process.execPath, args];
    const child = spawn(cmd, argv, { cwd: REPO, env, stdio: ['ignore', fd, fd] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return child;
  } finally {
    closeSync(fd);
  }
}

async function waitReady(child: ChildProcess, url: string, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before it was ready; log:\n${tail}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`server not ready at ${url} within ${timeoutMs} ms (log: ${logFile})`);
}

function handleOf(kind: ServerKind, child: ChildProcess, port: number, logFile: string): ServerHandle {
  const sampler = new ProcSampler(child.pid!, 200);
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
  return {
    kind,
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: kind === 'relaychat' ? `ws://127.0.0.1:${port}/ws` : `ws://127.0.0.1:${port}/`,
    logFile,
    sampler,
    async stop(graceMs = 5000) {
      sampler.stop();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Environment for the relaychat child: none of the parent's relaychat settings leak in, ours are explicit. */
function relayEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const s of Object.values(SETTINGS)) delete env[s.env];
  delete env.NODE_OPTIONS; // the bench itself runs under tsx; the server must not
  return { ...env, ...settings };
}

/**
 * The embedded default: `node dist/server/main.js` with env config. Settings are the bench defaults
 * (see `benchServerEnv`) plus `extra` (scenario needs, then `--server-env` from the command line).
 */
export async function startRelay(opts: {
  dataDir: string;
  logFile: string;
  extra?: Record<string, string>;
  port?: number;
  /** Write a V8 CPU profile of the server here (`--server-prof`); it is written when the server exits. */
  profileDir?: string;
  nodeArgs?: string[];
}): Promise<ServerHandle> {
  const port = opts.port ?? (await freePort());
  const entry = join(REPO, 'dist/server/main.js');
  const env = relayEnv({ ...benchServerEnv(), ...opts.extra, PORT: String(port), DATA_DIR: opts.dataDir });
  const prof = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
  const child = spawnLogged('relaychat', [...(opts.nodeArgs ?? []), ...prof, entry], env, opts.logFile);
  try {
    await waitReady(child, `http://127.0.0.1:${port}/healthz`, 20_000, opts.logFile);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return handleOf('relaychat', child, port, opts.logFile);
}

/** What every relaychat child gets; documented in docs/performance.md. */
/** The bench reads the server's event-loop figures from `GET /metrics` with this token (loopback only). */
export const BENCH_METRICS_TOKEN = 'relaychat-bench-metrics-token';

export function benchServerEnv(): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    LOG_LEVEL: 'warn',
    // Registering thousands of bench users must be quick: scrypt N = 2^10 instead of 2^17.
    SCRYPT_LOG2N: '10',
    // Generous rate limits: the bench measures delivery, not the limiter.
    MESSAGES_PER_SECOND: '1000000',
    MESSAGE_BURST: '1000000',
    REGISTRATIONS_PER_HOUR: '1000000',
    LOGINS_PER_MINUTE: '100000',
    PASSWORD_HASH_QUEUE: '10000',
    LOGIN_FAILURES_PER_MINUTE: '1000000',
    MEMBERSHIP_CHANGES_PER_MINUTE: '100000',
    ROOM_MEMBERSHIP_CHANGES_PER_MINUTE: '1000000',
    ROOMS_PER_MINUTE: '100000',
    INVITES_PER_MINUTE: '100000',
    SHUTDOWN_GRACE_MS: '1000',
    // Every bench client connects from 127.0.0.1: no per-IP cap.
    MAX_CONNECTIONS_PER_IP: '0',
  };
}

/**
 * Parts of the bench that run outside the tsx-loaded main thread — the baseline server (a child process) and
 * the client workers (worker threads) — are transpiled once per run with the TypeScript compiler into
 * node_modules/.cache/relaychat-bench (an ES module scope, from where `ws` resolves as for the repo). So the
 * baseline runs as plain `node` (no loader in its process: its memory and CPU compare fairly), and a worker
 * starts in tens of milliseconds instead of loading tsx first.
 */
export function buildRuntime(): { baseline: string; worker: string } {
  const dir = join(REPO, 'node_modules/.cache/relaychat-bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  const files = ['baseline/naive-ws-server.ts', 'lib/client-worker.ts', 'lib/histogram.ts', 'lib/wire.ts'];
  for (const f of files) {
    const src = join(REPO, 'bench', f);
    const out = ts.transpileModule(readFileSync(src, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: src,
    });
    writeFileSync(join(dir, f.split('/').pop()!.replace(/\.ts$/, '.js')), out.outputText);
  }
  return { baseline: join(dir, 'naive-ws-server.js'), worker: join(dir, 'client-worker.js') };
}

export async function startBaseline(opts: {
  script: string;
  logFile: string;
  profileDir?: string;
}): Promise<ServerHandle> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1' };
  delete env.NODE_OPTIONS;
  const prof = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
  const child = spawnLogged('baseline', [...prof, opts.script], env, opts.logFile);
  try {
    await waitReady(child, `http://127.0.0.1:${port}/healthz`, 20_000, opts.logFile);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return handleOf('baseline', child, port, opts.logFile);
}

/**
 * relaychat nodes as real processes (`node dist/server/main.js`), configured by environment like a deployment,
 * and the build they run. Used by `npm run cluster` and the fault tests (test/cluster).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../../src/server/config.js';
import {
  dieWithParent,
  freePort,
  httpStatus,
  isRunning,
  LOOPBACK,
  sleep,
  spawnBound,
  stopChild,
  tailFile,
} from './proc.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN_JS = path.join(REPO, 'dist/server/main.js');
export const MIGRATE_JS = path.join(REPO, 'dist/server/migrate.js');

/** Newest modification time of the .ts files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Makes sure dist/server is built from the current sources: compiles the server (`tsc -p tsconfig.build.json`,
 * not the web client) when dist/server/main.js is missing or older than a file in src/. Concurrent callers (test
 * files in parallel workers) take turns through a lock directory, so only one compiles.
 */
export async function ensureBuilt(log: (line: string) => void = () => {}): Promise<void> {
  const fresh = () => fs.existsSync(MAIN_JS) && fs.statSync(MAIN_JS).mtimeMs >= newestSource(path.join(REPO, 'src'));
  if (fresh()) return;
  const lockDir = path.join(REPO, 'node_modules/.cache/relaychat-build.lock');
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch {
      // Someone else is compiling; a lock older than 3 minutes was left by a process that died.
      const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) fs.rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lockDir}`);
      await sleep(200);
    }
  }
  try {
    if (fresh()) return;
    log('compiling the server (tsc -p tsconfig.build.json): dist/ is missing or older than src/');
    execFileSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 170_000,
    });
    // tsc leaves an unchanged output file untouched; make the check above see this build.
    const now = new Date();
    fs.utimesSync(MAIN_JS, now, now);
  } catch (err) {
    const e = err as { stdout?: Buffer; message: string };
    throw new Error(`build failed: ${e.stdout?.toString() || e.message}`, { cause: err });
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

/** The parent's environment without any relaychat setting or tsx loader: a node's settings are explicit. */
export function cleanEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const s of Object.values(SETTINGS)) delete env[s.env];
  delete env.NODE_OPTIONS;
  delete env.RELAYCHAT_TEST_BACKEND;
  return { ...env, ...settings };
}

/** Runs `npm run migrate` (node dist/server/migrate.js) against `databaseUrl`; returns what it printed. */
export function runMigrate(databaseUrl: string): string {
  return execFileSync(process.execPath, [MIGRATE_JS], {
    cwd: REPO,
    env: cleanEnv({ DATABASE_URL: databaseUrl }),
    encoding: 'utf8',
    timeout: 60_000,
  }).trim();
}

export interface RelayNode {
  readonly name: string;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly logFile: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Sends a signal (e.g. SIGKILL for a crash, SIGTERM for a graceful drain). */
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  exited(): Promise<void>;
  /** SIGTERM (drain, then graceful close); SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  /** Starts it again on the same port and settings; resolves once /readyz answers 200. */
  start(): Promise<void>;
  logTail(lines?: number): string;
}

/**
 * Starts `node dist/server/main.js` on a free loopback port with `settings` as its environment (plus PORT, HOST
 * and NODE_ID), logs to `logFile`, and waits until `/readyz` answers 200 (store and bus reachable).
 */
export async function startNode(opts: {
  name: string;
  settings: Record<string, string>;
  logFile: string;
  readyTimeoutMs?: number;
}): Promise<RelayNode> {
  let port = 0;
  let child: ChildProcess | undefined;

  const spawnNode = () => {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const fd = fs.openSync(opts.logFile, 'a');
    try {
      child = spawnBound([...dieWithParent('KILL'), process.execPath, MAIN_JS], {
        cwd: REPO,
        env: cleanEnv({ ...opts.settings, PORT: String(port), HOST: LOOPBACK, NODE_ID: opts.name }),
        stdio: ['ignore', fd, fd],
      });
    } finally {
      fs.closeSync(fd);
    }
    return child;
  };

  const waitReady = async (proc: ChildProcess) => {
    const timeoutMs = opts.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!isRunning(proc)) {
        throw new Error(
          `${opts.name} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${tailFile(opts.logFile, 15)}`,
        );
      }
      if ((await httpStatus(`http://${LOOPBACK}:${port}/readyz`)) === 200) return;
      await sleep(50);
    }
    throw new Error(`${opts.name} not ready within ${timeoutMs} ms:\n${tailFile(opts.logFile, 15)}`);
  };

  const start = async () => {
    if (isRunning(child)) return;
    const proc = spawnNode();
    try {
      await waitReady(proc);
    } catch (err) {
      await stopChild(proc, 'SIGKILL', 5_000);
      throw err;
    }
  };

  // A port found free may be taken before the node binds it: try a few.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    try {
      await start();
      lastErr = undefined;
      break;
    } catch (err) {
      lastErr = err;
    }
  }
  if (lastErr) throw lastErr;

  return {
    name: opts.name,
    port,
    url: `http://${LOOPBACK}:${port}`,
    logFile: opts.logFile,
    get pid() {
      return child?.pid;
    },
    get running() {
      return isRunning(child);
    },
    kill(signal) {
      if (child && isRunning(child)) child.kill(signal);
    },
    async exited() {
      const proc = child;
      if (!proc || !isRunning(proc)) return;
      await new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    },
    async stop(timeoutMs = 15_000) {
      if (child) await stopChild(child, 'SIGTERM', timeoutMs);
    },
    start,
    logTail: (lines = 40) => tailFile(opts.logFile, lines),
  };
}

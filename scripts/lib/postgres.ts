/**
 * A real, throwaway PostgreSQL server: for tests (one per test file, one fresh database per test) and for
 * `npm run cluster`. test/helpers/postgres.ts re-exports this file.
 *
 * Needs the PostgreSQL server binaries (Debian: `apt-get install -y postgresql`, which puts them in
 * /usr/lib/postgresql/<major>/bin; `PG_BIN` overrides the directory). PostgreSQL refuses to run as root, so
 * when the tests run as root the server runs as the `postgres` OS user (via `setpriv`), in a temp dir it owns.
 *
 * The server listens on 127.0.0.1 on a free port, keeps its unix socket in its temp dir, runs with fsync and
 * synchronous_commit on (tests check durability), and is cluster-local: `--no-locale` (C collation and
 * ctype), so nothing in the store may rely on locale-aware lower() or collation order. It runs in its own process
 * group and gets SIGQUIT (immediate shutdown) if the process that started it dies (see proc.ts).
 *
 * Typical use:
 *
 *   let pg: PgTestServer;
 *   beforeAll(async () => { pg = await startPostgres(); });
 *   afterAll(async () => { await pg?.destroy(); });
 *   it('...', async () => { const db = await pg.createDatabase(); ... await pg.dropDatabase(db.name); });
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dieWithParent, freePort, LOOPBACK as HOST, sleep, assertServiceAllowed } from './proc.js';

const SUPERUSER = 'postgres';

export interface TestDatabase {
  name: string;
  /** Connection string for the database (superuser, trust auth, TCP on 127.0.0.1). */
  url: string;
}

export interface PgTestServer {
  readonly host: string;
  readonly port: number;
  /** The temp dir holding data/, sock/ and postgres.log. */
  readonly dir: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** Whether the postmaster is running (as far as this harness knows). */
  readonly running: boolean;
  /** The postmaster's pid while it runs (its backends and workers are its children). */
  readonly pid: number | undefined;
  /** Connection string for `database` on this server. */
  url(database?: string): string;
  /** Creates a fresh, empty database named `t_<random>` (or from `template`). */
  createDatabase(opts?: { template?: string; prefix?: string }): Promise<TestDatabase>;
  /** Drops a database, disconnecting its sessions first. No-op while the server is stopped. */
  dropDatabase(name: string): Promise<void>;
  /** Runs one SQL statement as the superuser, connected to the `postgres` database. */
  admin(sql: string): Promise<void>;
  /**
   * Stops the server. `fast` (default) rolls back open transactions and checkpoints, like `pg_ctl stop -m fast`;
   * `immediate` is a crash as far as the data is concerned (no checkpoint: the next start runs WAL recovery).
   * Bounded: escalates to SIGKILL after `timeoutMs`.
   */
  stop(opts?: { mode?: 'fast' | 'immediate'; timeoutMs?: number }): Promise<void>;
  /** Starts the server again on the same data dir and port, and waits until it accepts connections. */
  start(): Promise<void>;
  /** stop + start. */
  restart(opts?: { mode?: 'fast' | 'immediate' }): Promise<void>;
  /** The last `lines` lines of the server log, for failure messages. */
  logTail(lines?: number): string;
  /** Stops the server (if running) and deletes its temp dir. Idempotent. */
  destroy(): Promise<void>;
}

/** The directory with initdb/postgres: PG_BIN, else the newest /usr/lib/postgresql/<major>/bin. */
export function findPostgresBin(): string | null {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const majors = fs
      .readdirSync(root)
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    // 15 first when present: it is what CI installs (Debian 12's `postgresql`).
    if (majors.includes('15')) candidates.push(path.join(root, '15', 'bin'));
    for (const m of majors) candidates.push(path.join(root, m, 'bin'));
  }
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'))) return dir;
  }
  return null;
}

interface RunAs {
  /** Command prefix that switches to the server's OS user (empty when not root). */
  prefix: string[];
  uid: number;
  gid: number;
}

function runAs(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { prefix: dieWithParent('QUIT'), uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  }
  const id = (flag: string) => Number(execFileSync('id', [flag, SUPERUSER], { encoding: 'utf8' }).trim());
  let uid: number;
  let gid: number;
  try {
    uid = id('-u');
    gid = id('-g');
  } catch {
    throw new Error(
      `Running as root, PostgreSQL needs an unprivileged OS user '${SUPERUSER}' (created by apt-get install postgresql).`,
    );
  }
  // --pdeathsig last: it must be set after the uid change (a credential change clears it), and it makes the
  // postmaster shut down (SIGQUIT: immediate) if this test process dies without stopping it.
  return {
    prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--pdeathsig', 'QUIT', '--'],
    uid,
    gid,
  };
}

function command(argv: string[]): [string, string[]] {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty command');
  return [cmd, args];
}

function chownTree(p: string, uid: number, gid: number): void {
  fs.chownSync(p, uid, gid);
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

/** Starts a fresh PostgreSQL cluster in a new temp dir; resolves once it accepts connections. */
export async function startPostgres(opts: { maxConnections?: number } = {}): Promise<PgTestServer> {
  assertServiceAllowed('PostgreSQL');
  const bin = findPostgresBin();
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries not found (looked in $PG_BIN and /usr/lib/postgresql/*/bin). ' +
        'Install them with: apt-get update && apt-get install -y postgresql',
    );
  }
  const who = runAs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relaychat-pg-'));
  const dataDir = path.join(dir, 'data');
  const sockDir = path.join(dir, 'sock');
  const logFile = path.join(dir, 'postgres.log');
  fs.mkdirSync(sockDir, { mode: 0o700 });
  fs.writeFileSync(logFile, '');
  if (process.getuid?.() === 0) chownTree(dir, who.uid, who.gid);
  fs.chmodSync(dir, 0o700);

  const logTail = (lines = 40) => {
    try {
      return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };

  try {
    const [cmd, args] = command([
      ...who.prefix,
      path.join(bin, 'initdb'),
      '-D',
      dataDir,
      '-U',
      SUPERUSER,
      '--auth=trust',
      '--encoding=UTF8',
      '--no-locale',
      '--no-instructions',
    ]);
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${e.stderr?.toString() || e.message}`, { cause: err });
  }

  let port = 0;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let destroyed = false;

  const killOnExit = () => {
    // Last resort when the test process exits without stopping the server: immediate shutdown.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
  };
  process.on('exit', killOnExit);

  const spawnServer = () => {
    const logFd = fs.openSync(logFile, 'a');
    const [cmd, args] = command([
      ...who.prefix,
      path.join(bin, 'postgres'),
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      `listen_addresses=${HOST}`,
      '-c',
      `unix_socket_directories=${sockDir}`,
      '-c',
      'fsync=on',
      '-c',
      'synchronous_commit=on',
      '-c',
      'full_page_writes=on',
      '-c',
      `max_connections=${opts.maxConnections ?? 200}`,
      '-c',
      'shared_buffers=64MB',
      '-c',
      'log_min_messages=warning',
      '-c',
      'log_min_error_statement=panic',
    ]);
    // Own process group: a Ctrl-C in the terminal reaches the launcher, which stops the server in order.
    const proc = spawn(cmd, args, { stdio: ['ignore', logFd, logFd], detached: true });
    fs.closeSync(logFd);
    child = proc;
    exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    proc.on('error', () => {
      /* reported through 'exit' / readiness */
    });
    return proc;
  };

  const waitReady = async (proc: ChildProcess, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`postgres exited during start (${proc.exitCode ?? proc.signalCode}):\n${logTail()}`);
      }
      const client = new pg.Client({ host: HOST, port, user: SUPERUSER, database: 'postgres' });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch (err) {
        lastErr = err;
        await client.end().catch(() => {});
      }
      await sleep(50);
    }
    throw new Error(`postgres not ready after ${timeoutMs} ms (${String(lastErr)}):\n${logTail()}`);
  };

  const stop = async ({
    mode = 'fast',
    timeoutMs = 15_000,
  }: { mode?: 'fast' | 'immediate'; timeoutMs?: number } = {}) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const done = await Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      proc.kill('SIGKILL');
      await Promise.race([exited, sleep(5_000)]);
    }
  };

  const start = async () => {
    if (destroyed) throw new Error('server destroyed');
    const current = child as ChildProcess | null;
    if (current && current.exitCode === null && current.signalCode === null) return;
    // After a SIGKILL, orphaned backends may hold the old shared memory for a moment: retry a few times.
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const proc = spawnServer();
      try {
        await waitReady(proc);
        return;
      } catch (err) {
        lastErr = err;
        await stop({ mode: 'immediate', timeoutMs: 5_000 });
        await sleep(500);
      }
    }
    throw lastErr;
  };

  // A port from the OS can be taken by someone else before the postmaster binds it: retry with another.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort();
    const proc = spawnServer();
    try {
      await waitReady(proc);
    } catch (err) {
      lastErr = err;
      await stop({ mode: 'immediate', timeoutMs: 5_000 });
      child = null;
    }
  }
  if (!child) {
    process.removeListener('exit', killOnExit);
    fs.rmSync(dir, { recursive: true, force: true });
    throw lastErr;
  }

  const url = (database = 'postgres') => `postgresql://${SUPERUSER}@${HOST}:${port}/${encodeURIComponent(database)}`;

  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url('postgres') });
    client.on('error', () => {});
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  };

  const server: PgTestServer = {
    host: HOST,
    get port() {
      return port;
    },
    dir,
    dataDir,
    logFile,
    get running() {
      const proc = child as ChildProcess | null;
      return !!proc && proc.exitCode === null && proc.signalCode === null;
    },
    get pid() {
      return server.running ? (child as ChildProcess | null)?.pid : undefined;
    },
    url,
    async createDatabase({ template, prefix = 't' } = {}) {
      const name = `${prefix}_${randomBytes(6).toString('hex')}`;
      await admin((c) =>
        c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${pg.escapeIdentifier(template)}` : ''}`),
      );
      return { name, url: url(name) };
    },
    async dropDatabase(name) {
      if (!server.running) return;
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
    async admin(sql) {
      await admin((c) => c.query(sql));
    },
    stop,
    start,
    async restart(opts = {}) {
      await stop(opts);
      await start();
    },
    logTail,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await stop();
      process.removeListener('exit', killOnExit);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * Process plumbing shared by the launchers in this folder (PostgreSQL, Redis, HAProxy, relaychat nodes), which
 * `npm run cluster` (scripts/cluster.ts) and the tests (test/helpers, test/cluster) both use.
 *
 * Every child is bound to the process that started it: on Linux each is started through `setpriv --pdeathsig`,
 * so the kernel signals it when its parent dies, however that happens (Ctrl-C, SIGKILL, a crashed test worker).
 * Children run in their own process group (`detached`), so a Ctrl-C in the terminal reaches only the launcher,
 * which then stops them in order.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port that was free a moment ago: bind port 0 on the loopback interface, read it, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

let setprivPath: string | null | undefined;

/** `setpriv`, when this system has it (util-linux; every Debian). */
export function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform !== 'linux') return setprivPath;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = `${dir}/setpriv`;
    if (fs.existsSync(p)) return (setprivPath = p);
  }
  return setprivPath;
}

/**
 * Argv prefix that makes the command receive `signal` when this process dies (empty where setpriv is missing).
 * `setpriv` sets the parent-death signal and execs the command, so the pid is the command's own.
 */
export function dieWithParent(signal: 'TERM' | 'KILL' | 'QUIT' | 'INT' = 'TERM'): string[] {
  const setpriv = findSetpriv();
  return setpriv ? [setpriv, '--pdeathsig', signal, '--'] : [];
}

/**
 * The path of a command: as given when it contains a slash, else the first match on PATH or in the sbin
 * directories, where Debian installs servers (haproxy, nginx) but which a non-root PATH usually lacks.
 */
export function findCommand(cmd: string): string | null {
  if (cmd.includes('/')) return isExecutable(cmd) ? cmd : null;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir && isExecutable(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Whether a command exists on PATH, in an sbin directory, or as a path. */
export function hasCommand(cmd: string): boolean {
  return findCommand(cmd) !== null;
}

/** A child that is killed (SIGKILL) if this process exits without stopping it. */
export function spawnBound(argv: string[], opts: SpawnOptions = {}): ChildProcess {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty command');
  const child = spawn(cmd, args, { detached: true, ...opts });
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  child.on('error', () => {
    /* reported through 'exit' and the callers' readiness checks */
  });
  return child;
}

/** Resolves when the child has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export const isRunning = (child: ChildProcess | undefined | null): boolean =>
  !!child && child.exitCode === null && child.signalCode === null;

/** Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILLs (and waits a bounded while more). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (!isRunning(child)) return;
  const exited = exitOf(child);
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!done) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5_000)]);
  }
}

/** The last `lines` lines of a log file ('' if unreadable). */
export function tailFile(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Polls `check` until it returns true; throws `what` after `timeoutMs`. */
export async function pollUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** GET `url` with a timeout; the status, or 0 when nothing answered. */
export async function httpStatus(url: string, timeoutMs = 1000): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * Called by every launcher of a program besides Node.js. The `embedded` test project (vitest.config.ts) sets
 * RELAYCHAT_TEST_EMBEDDED_ONLY, and there starting one is a mistake: the suite belongs in SERVICE_SUITES.
 */
export function assertServiceAllowed(name: string): void {
  if (process.env.RELAYCHAT_TEST_EMBEDDED_ONLY === '1') {
    throw new Error(
      `${name} was started by a suite of the embedded test project, which must need only Node.js: ` +
        'list the suite in SERVICE_SUITES in vitest.config.ts',
    );
  }
}

/**
 * A real, throwaway Redis: one `redis-server` child process, for tests (test/helpers/redis.ts wraps it for
 * vitest) and for `npm run cluster`.
 *
 * Needs the `redis-server` binary (Debian: `apt-get install -y redis-server`; `REDIS_SERVER` overrides the
 * path). The server runs in the foreground on 127.0.0.1 and a free port, without persistence (`--save ''
 * --appendonly no`), so a restart starts empty — like a Redis that lost its data, which relaychat must survive
 * (Redis holds nothing durable). It runs in its own process group and is killed if its parent dies (proc.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { dieWithParent, freePort, LOOPBACK as HOST, assertServiceAllowed } from './proc.js';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_LINES = 50;

export interface RedisTestServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly running: boolean;
  /** The redis-server process while it runs. */
  readonly pid?: number | undefined;
  /** Stops the server: SIGTERM, then SIGKILL after `timeoutMs`. No-op when stopped. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted) and waits until it answers PING. */
  start(): Promise<void>;
  /** stop + start. */
  restart(): Promise<void>;
  /** The server's last log lines, for failure messages. */
  logTail(): string;
}

/** Starts a redis-server on a free port and waits until it answers PING. */
export async function startRedis(): Promise<RedisTestServer> {
  assertServiceAllowed('Redis');
  // A port found free may be taken before redis binds it: try a few.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = new RedisServer(await freePort());
    try {
      await server.start();
      return server;
    } catch (err) {
      lastErr = err;
      await server.stop();
    }
  }
  throw lastErr;
}

export class RedisServer implements RedisTestServer {
  readonly host = HOST;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private readonly log: string[] = [];
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  logTail(): string {
    return this.log.join('\n');
  }

  async start(): Promise<void> {
    if (this.child) return;
    const bin = process.env.REDIS_SERVER ?? 'redis-server';
    const [cmd, ...pre] = [...dieWithParent('KILL'), bin];
    const child = spawn(
      cmd!,
      [
        ...pre,
        '--port',
        String(this.port),
        '--bind',
        HOST,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--dir',
        os.tmpdir(),
        '--loglevel',
        'notice',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    this.child = child;
    // Drain both pipes (a full pipe would block the server), keeping the last lines for diagnostics.
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line) this.log.push(line);
        if (this.log.length > LOG_LINES) this.log.splice(0, this.log.length - LOG_LINES);
      });
    }
    let spawnError: Error | undefined;
    let exitedEarly = false;
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        spawnError = err;
        resolve();
      });
      child.once('exit', () => resolve());
    }).then(() => {
      exitedEarly = true;
      if (this.child === child) this.child = undefined;
      process.off('exit', this.killOnExit);
    });
    // If the test worker dies, do not leave the server behind.
    process.on('exit', this.killOnExit);

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exitedEarly) {
        const hint = (spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? notInstalled(bin) : '';
        throw new Error(`redis-server exited before answering PING${hint}\n${spawnError?.message ?? this.logTail()}`);
      }
      if (await answersPing(this.port)) return;
      if (Date.now() >= deadline) {
        await this.stop();
        throw new Error(`redis-server did not answer PING within ${START_TIMEOUT_MS} ms\n${this.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), opts.timeoutMs ?? STOP_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

const notInstalled = (bin: string) =>
  ` (${bin} not found: install it with \`apt-get install -y redis-server\` or set REDIS_SERVER)`;

/** Whether a server on `port` answers a raw PING with +PONG within a second. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

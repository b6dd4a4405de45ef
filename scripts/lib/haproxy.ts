/**
 * HAProxy as a foreground child (`haproxy -f cfg -db`) on loopback, configured from deploy/haproxy.cfg: the
 * blocks between `# name:begin` and `# name:end` markers are replaced with the real listen address and nodes,
 * everything else is the deployed configuration. Needs the `haproxy` binary (Debian: `apt-get install -y
 * haproxy`; `HAPROXY` overrides the path).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  assertServiceAllowed,
  dieWithParent,
  freePort,
  findCommand,
  isRunning,
  LOOPBACK,
  sleep,
  spawnBound,
  stopChild,
} from './proc.js';
import { REPO } from './relaychat.js';

export const HAPROXY_TEMPLATE = path.join(REPO, 'deploy/haproxy.cfg');

/** Replaces the lines between `# name:begin` and `# name:end` (markers kept), keeping their indentation. */
export function replaceBlock(cfg: string, name: string, lines: string[]): string {
  const re = new RegExp(`^([ \\t]*)# ${name}:begin\\n[\\s\\S]*?^[ \\t]*# ${name}:end$`, 'm');
  if (!re.test(cfg)) throw new Error(`haproxy template has no "# ${name}:begin" … "# ${name}:end" block`);
  return cfg.replace(re, (_m, indent: string) =>
    [`${indent}# ${name}:begin`, ...lines.map((l) => indent + l), `${indent}# ${name}:end`].join('\n'),
  );
}

/** deploy/haproxy.cfg with loopback listeners and the given nodes (plain HTTP: no certificate on loopback). */
export function renderHaproxyConfig(
  template: string,
  opts: { port: number; statsPort: number; nodes: { name: string; port: number }[] },
): string {
  let cfg = replaceBlock(template, 'bind', [`bind ${LOOPBACK}:${opts.port}`]);
  cfg = replaceBlock(
    cfg,
    'nodes',
    opts.nodes.map((n) => `server ${n.name} ${LOOPBACK}:${n.port}`),
  );
  cfg = replaceBlock(cfg, 'stats', [`bind ${LOOPBACK}:${opts.statsPort}`]);
  // Logs go to the child's stdout, which the launcher writes to a file; keep them to warnings and worse.
  return cfg.replace(/^(\s*log stdout format raw local0) notice$/m, '$1 warning');
}

export interface HaproxyProcess {
  /** http://127.0.0.1:<port>: the cluster's public URL. */
  readonly url: string;
  readonly port: number;
  /** The stats page (http://127.0.0.1:<statsPort>/). */
  readonly statsUrl: string;
  readonly configFile: string;
  readonly running: boolean;
  /** The haproxy process while it runs. */
  readonly pid: number | undefined;
  /** The state HAProxy gives each server right now (`UP`, `DOWN`, `UP 1/2`, …), from its stats CSV. */
  serverStates(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export function findHaproxy(): string {
  assertServiceAllowed('HAProxy');
  const bin = process.env.HAPROXY ?? 'haproxy';
  const found = findCommand(bin);
  if (!found) {
    throw new Error(`${bin} not found: install it with \`apt-get install -y haproxy\` (or set HAPROXY to its path)`);
  }
  return found;
}

/**
 * Starts HAProxy with the template rendered for `nodes`, checking the configuration first, and waits until a
 * request through it reaches a node (`/healthz` answers 200).
 */
export async function startHaproxy(opts: {
  nodes: { name: string; port: number }[];
  dir: string;
  port?: number;
  template?: string;
}): Promise<HaproxyProcess> {
  const bin = findHaproxy();
  const template = fs.readFileSync(opts.template ?? HAPROXY_TEMPLATE, 'utf8');
  const configFile = path.join(opts.dir, 'haproxy.cfg');
  const logFile = path.join(opts.dir, 'haproxy.log');
  let child: ChildProcess | undefined;
  let port = 0;
  let statsPort = 0;
  const tail = () => {
    try {
      return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };

  let lastErr: unknown;
  for (let attempt = 0; attempt < 3 && !isRunning(child); attempt++) {
    port = opts.port ?? (await freePort());
    statsPort = await freePort();
    fs.writeFileSync(configFile, renderHaproxyConfig(template, { port, statsPort, nodes: opts.nodes }));
    try {
      execFileSync(bin, ['-c', '-q', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
      throw new Error(`haproxy rejected ${configFile}: ${e.stderr?.toString() || e.stdout?.toString() || e.message}`, {
        cause: err,
      });
    }
    const fd = fs.openSync(logFile, 'a');
    try {
      child = spawnBound([...dieWithParent('TERM'), bin, '-f', configFile, '-db'], { stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (!isRunning(child)) throw new Error(`haproxy exited (${child.exitCode ?? child.signalCode}):\n${tail()}`);
        try {
          const res = await fetch(`http://${LOOPBACK}:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          if (res.status === 200) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`haproxy did not reach a node within 20 s:\n${tail()}`);
        await sleep(50);
      }
    } catch (err) {
      lastErr = err;
      await stopChild(child, 'SIGKILL', 5_000);
      child = undefined;
      if (opts.port) break;
    }
  }
  if (!child || !isRunning(child)) throw lastErr ?? new Error('haproxy did not start');
  const proc = child;

  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    statsUrl: `http://${LOOPBACK}:${statsPort}/`,
    configFile,
    get running() {
      return isRunning(proc);
    },
    get pid() {
      return isRunning(proc) ? proc.pid : undefined;
    },
    async serverStates() {
      const res = await fetch(`http://${LOOPBACK}:${statsPort}/;csv`, { signal: AbortSignal.timeout(2000) });
      const rows = (await res.text()).split('\n');
      const header = (rows[0] ?? '').replace(/^# /, '').split(',');
      const [px, sv, st] = ['pxname', 'svname', 'status'].map((h) => header.indexOf(h));
      const states: Record<string, string> = {};
      for (const row of rows.slice(1)) {
        const cols = row.split(',');
        if (cols[px!] === 'relaychat_nodes' && cols[sv!] !== 'BACKEND' && cols[sv!]) states[cols[sv!]!] = cols[st!]!;
      }
      return states;
    },
    // SIGTERM is HAProxy's hard stop (SIGUSR1 would wait for every WebSocket to end).
    stop: () => stopChild(proc, 'SIGTERM', 5_000),
  };
}

/**
 * HAProxy as a foreground child (`haproxy -f cfg -db`) on loopback, configured from deploy/haproxy.cfg: the
 * blocks between `# name:begin` and `# name:end` markers are replaced with the real listen address and nodes, and
 * the `balance` block with deploy/balance/haproxy/<strategy>.cfg; everything else is the deployed configuration.
 * Needs the `haproxy` binary (Debian: `apt-get install -y haproxy`; `HAPROXY` overrides the path).
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
  spawnBound,
  stopChild,
  tailFile,
} from './proc.js';
import {
  strategyLines,
  waitUntilServing,
  type BalanceStrategy,
  type BalancerNode,
  type LoadBalancer,
} from './balance.js';
import { REPO } from './relaychat.js';
import { nodeLinePattern, replaceBlock } from './template.js';

export const HAPROXY_TEMPLATE = path.join(REPO, 'deploy/haproxy.cfg');

/**
 * deploy/haproxy.cfg with loopback listeners, the given nodes (the template's server line with another name and
 * address, plus `weight N` when given) and, when `balance` is given, that strategy's lines. Plain HTTP: no
 * certificate on loopback.
 */
export function renderHaproxyConfig(
  template: string,
  opts: { port: number; statsPort: number; nodes: BalancerNode[]; balance?: BalanceStrategy },
): string {
  let cfg = replaceBlock(template, 'bind', [`bind ${LOOPBACK}:${opts.port}`]);
  if (opts.balance) cfg = replaceBlock(cfg, 'balance', strategyLines('haproxy', opts.balance));
  const line = /^server\s+\S+\s+\S+(.*)$/.exec(nodeLinePattern(template));
  if (!line) throw new Error(`haproxy template: unexpected server line "${nodeLinePattern(template)}"`);
  cfg = replaceBlock(
    cfg,
    'nodes',
    opts.nodes.map(
      (n) => `server ${n.name} ${LOOPBACK}:${n.port}${line[1]}${n.weight === undefined ? '' : ` weight ${n.weight}`}`,
    ),
  );
  cfg = replaceBlock(cfg, 'stats', [`bind ${LOOPBACK}:${opts.statsPort}`]);
  // Logs go to the child's stdout, which the launcher writes to a file; keep them to warnings and worse.
  return cfg.replace(/^(\s*log stdout format raw local0) notice$/m, '$1 warning');
}

export interface HaproxyProcess extends LoadBalancer {
  readonly kind: 'haproxy';
  /** The stats page (http://127.0.0.1:<statsPort>/). */
  readonly statsUrl: string;
  /** The state HAProxy gives each server right now (`UP`, `DOWN`, `UP 1/2`, …), from its stats CSV. */
  serverStates(): Promise<Record<string, string>>;
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
  nodes: BalancerNode[];
  dir: string;
  port?: number;
  /** Default: the template's own `balance` block (leastconn). */
  balance?: BalanceStrategy;
  template?: string;
}): Promise<HaproxyProcess> {
  const bin = findHaproxy();
  const template = fs.readFileSync(opts.template ?? HAPROXY_TEMPLATE, 'utf8');
  const configFile = path.join(opts.dir, 'haproxy.cfg');
  const logFile = path.join(opts.dir, 'haproxy.log');
  let child: ChildProcess | undefined;
  let port = 0;
  let statsPort = 0;
  const tail = () => tailFile(logFile, 20);

  let lastErr: unknown;
  for (let attempt = 0; attempt < 3 && !isRunning(child); attempt++) {
    port = opts.port ?? (await freePort());
    statsPort = await freePort();
    fs.writeFileSync(
      configFile,
      renderHaproxyConfig(template, {
        port,
        statsPort,
        nodes: opts.nodes,
        ...(opts.balance ? { balance: opts.balance } : {}),
      }),
    );
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
      await waitUntilServing('haproxy', child, port, tail);
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
    kind: 'haproxy',
    balance: opts.balance ?? 'leastconn',
    url: `http://${LOOPBACK}:${port}`,
    port,
    logFile,
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

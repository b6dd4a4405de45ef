import { parseArgs } from 'node:util';
import { openFilesHardLimit } from './proc.js';

export const SCENARIOS = ['big-room', 'small-rooms', 'idle', 'history', 'reconnect', 'search'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Options {
  quick: boolean;
  scenarios: Scenario[];
  /** Seconds per rate step (big-room, small-rooms). */
  stepSec: number;
  workers: number;
  bodyBytes: number;
  outDir: string;
  docs: boolean;
  baseline: boolean;
  /** Extra env for the relaychat child (`--server-env KEY=VALUE`), after the bench defaults. */
  serverEnv: Record<string, string>;
  /** Extra node flags for the relaychat server process (`--server-node-args "--trace-gc ..."`). */
  serverNodeArgs: string[];
  /** Run the servers with --cpu-prof (profiles in <out-dir>/profiles/<scenario>-<server>/). */
  serverProf: boolean;
  /** `--pin-server`: the CPUs (taskset list) the server processes may run on; null = wherever the OS puts them. */
  pinServer: string | null;
  /** `--cluster`: relaychat runs as a local cluster of this many nodes behind HAProxy; null = embedded. */
  cluster: { nodes: number } | null;
  p99LimitMs: number;
  /** Connections opened concurrently during setup. */
  connectConcurrency: number;
  bigRoom: { clients: number; senders: number; rates: number[] | null; startRate: number; maxSteps: number };
  smallRooms: {
    clients: number;
    roomSize: number;
    rates: number[] | null;
    startRate: number;
    maxSteps: number;
    leaveLobby: boolean;
  };
  idle: { connections: number; users: number };
  history: { rows: number; sec: number; concurrency: number[] };
  /** Message search: stored messages, seconds per query. */
  search: { rows: number; sec: number };
  reconnect: {
    clients: number;
    roomSize: number;
    rate: number;
    stormAtSec: number;
    totalSec: number;
    stormConcurrency: number;
    timeoutSec: number;
  };
}

export const USAGE = `npm run bench -- [flags]

  --quick                  smoke run: a few hundred clients, one rate step, tiny scenarios (seconds)
  --scenario LIST          comma-separated: ${SCENARIOS.join(',')} (default: all)
  --clients N              clients of every selected scenario (big-room, small-rooms, idle, reconnect)
  --duration S             seconds per rate step (default 4; quick 1)
  --rates LIST             big-room offered loads in msgs/s, e.g. 10,20,40 (default: doubling search)
  --small-rates LIST       small-rooms offered loads in msgs/s (default: doubling search from 250)
  --senders N              big-room senders (default 20)
  --room-size N            clients per small room (default 20)
  --history-rows N         rows seeded for the history scenario (default 1000000)
  --search-rows N          messages seeded for the search scenario (default 1000000)
  --storm-concurrency N    reconnect storm: sockets opened at once (default: all)
  --workers N              client worker threads (default 1)
  --body-bytes N           padding in each message body (default 64)
  --p99-limit MS           saturation: a step fails when e2e p99 exceeds this (default 250)
  --server-env K=V         extra env for the relaychat server (repeatable), e.g. MAX_OUTBOUND_BYTES=1048576
  --server-node-args=ARGS  extra node flags for the relaychat server, e.g. --server-node-args=--trace-gc (note the =)
  --server-prof            write a V8 CPU profile of each server (relaychat and baseline) to <out-dir>/profiles/
  --leave-lobby            small-rooms, reconnect: clients leave the lobby, so they are only in their small room
                           (default: they stay in the lobby too, as every user of a real deployment is)
  --pin-server CPUS        run each server process (relaychat, baseline) on these CPUs only (taskset -c list,
                           e.g. 0); pin the generator to the others: taskset -c 1 npm run bench -- --pin-server 0
  --no-baseline            skip the naive baseline server
  --out-dir DIR            where results go (default bench-results)
  --docs / --no-docs       write docs/performance.md and the chart (default: on for full runs, off for --quick)
  --cluster                relaychat as a local cluster instead of the embedded server: PostgreSQL, Redis, N nodes
                           and HAProxy on loopback, a fresh one per scenario, clients through HAProxy (the baseline
                           stays one process); results go to their own section of docs/performance.md
  --nodes N                cluster nodes (default 2)
  --help
`;

const list = (s: string | undefined): number[] | null =>
  s
    ? s
        .split(',')
        .map((x) => Number(x.trim()))
        .filter((x) => Number.isFinite(x) && x > 0)
    : null;

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

export class UsageError extends Error {}

export function parseOptions(argv: string[]): Options | 'help' {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        scenario: { type: 'string' },
        clients: { type: 'string' },
        duration: { type: 'string' },
        rates: { type: 'string' },
        'small-rates': { type: 'string' },
        senders: { type: 'string' },
        'room-size': { type: 'string' },
        'history-rows': { type: 'string' },
        'search-rows': { type: 'string' },
        'storm-concurrency': { type: 'string' },
        workers: { type: 'string' },
        'body-bytes': { type: 'string' },
        'p99-limit': { type: 'string' },
        'server-env': { type: 'string', multiple: true },
        'server-prof': { type: 'boolean' },
        'server-node-args': { type: 'string' },
        'pin-server': { type: 'string' },
        'leave-lobby': { type: 'boolean' },
        'no-baseline': { type: 'boolean' },
        'out-dir': { type: 'string' },
        docs: { type: 'boolean' },
        'no-docs': { type: 'boolean' },
        cluster: { type: 'boolean' },
        nodes: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (v.help) return 'help';
  const quick = !!v.quick;
  let scenarios: Scenario[] = [...SCENARIOS];
  if (v.scenario) {
    const asked = v.scenario.split(',').map((s) => s.trim());
    for (const s of asked) {
      if (!(SCENARIOS as readonly string[]).includes(s)) {
        throw new UsageError(`unknown scenario "${s}"; known: ${SCENARIOS.join(', ')}`);
      }
    }
    scenarios = asked as Scenario[];
  }
  try {
    const clients = int('clients', v.clients, 2, 50_000);
    const duration = v.duration === undefined ? undefined : Number(v.duration);
    if (duration !== undefined && !(duration > 0 && duration <= 600)) throw new Error('--duration must be in (0, 600]');
    const roomSize = int('room-size', v['room-size'], 2, 1000) ?? 20;
    const serverEnv: Record<string, string> = {};
    for (const kv of v['server-env'] ?? []) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new Error(`--server-env wants KEY=VALUE, got "${kv}"`);
      serverEnv[kv.slice(0, i)] = kv.slice(i + 1);
    }
    if (!v.cluster && v.nodes !== undefined) throw new Error('--nodes needs --cluster');
    if (v.cluster && (v['server-prof'] || v['server-node-args'])) {
      throw new Error('--server-prof and --server-node-args work on the embedded server only, not with --cluster');
    }
    const pinServer = v['pin-server'] ?? null;
    if (pinServer !== null && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(pinServer)) {
      throw new Error(`--pin-server wants a CPU list such as 0 or 0,2-3, got "${pinServer}"`);
    }
    if (pinServer !== null && v.cluster)
      throw new Error('--pin-server works on the embedded server only, not with --cluster');
    const cluster = v.cluster ? { nodes: int('nodes', v.nodes, 1, 16) ?? 2 } : null;
    // HAProxy holds two file descriptors per proxied connection and sizes itself from the file limit it inherits.
    const proxyCap = cluster ? Math.floor((openFilesHardLimit() - 100) / 2) : Infinity;
    if (clients !== undefined && clients > proxyCap) {
      throw new Error(
        `--clients ${clients}: HAProxy can hold ${proxyCap} connections with this file limit (ulimit -Hn)`,
      );
    }
    const idleN = clients ?? (quick ? 200 : Math.min(10_000, Math.floor(proxyCap / 1000) * 1000));
    const stormN = clients ?? (quick ? 100 : 2000);
    return {
      quick,
      scenarios,
      stepSec: duration ?? (quick ? 1 : 4),
      workers: int('workers', v.workers, 1, 16) ?? 1,
      bodyBytes: int('body-bytes', v['body-bytes'], 0, 3000) ?? 64,
      outDir: v['out-dir'] ?? 'bench-results',
      docs: v['no-docs'] ? false : (v.docs ?? !quick),
      baseline: !v['no-baseline'],
      serverEnv,
      serverProf: !!v['server-prof'],
      pinServer,
      cluster,
      serverNodeArgs: (v['server-node-args'] ?? '').split(/\s+/).filter(Boolean),
      p99LimitMs: int('p99-limit', v['p99-limit'], 1, 600_000) ?? 250,
      connectConcurrency: 100,
      bigRoom: {
        clients: clients ?? (quick ? 150 : 1000),
        senders: int('senders', v.senders, 1, 10_000) ?? (quick ? 10 : 20),
        rates: list(v.rates) ?? (quick ? [20] : null),
        startRate: 10,
        maxSteps: 12,
      },
      smallRooms: {
        clients: clients ?? (quick ? 100 : 5000),
        roomSize,
        rates: list(v['small-rates']) ?? (quick ? [100] : null),
        startRate: 250,
        maxSteps: 10,
        leaveLobby: !!v['leave-lobby'],
      },
      idle: { connections: idleN, users: Math.min(idleN, quick ? 50 : 2000) },
      history: {
        rows: int('history-rows', v['history-rows'], 100, 100_000_000) ?? (quick ? 10_000 : 1_000_000),
        sec: quick ? 0.5 : 4,
        concurrency: [1, 8],
      },
      search: {
        rows: int('search-rows', v['search-rows'], 100, 100_000_000) ?? (quick ? 10_000 : 1_000_000),
        sec: quick ? 0.5 : 4,
      },
      reconnect: {
        clients: stormN,
        roomSize,
        rate: quick ? 50 : 200,
        stormAtSec: quick ? 0.8 : 3,
        totalSec: quick ? 2 : 10,
        stormConcurrency: int('storm-concurrency', v['storm-concurrency'], 1, 100_000) ?? stormN,
        timeoutSec: quick ? 15 : 30,
      },
    };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

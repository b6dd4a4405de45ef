import { availableParallelism } from 'node:os';
import { Histogram, ms } from './histogram.js';
import type { ClientPool, MergedReport } from './pool.js';
import type { ServerHandle } from './children.js';
import { BENCH_METRICS_TOKEN, sleep } from './children.js';
import { machineBusySec, selfCpuSec } from './proc.js';
import { nowUs, type ServerKind } from './wire.js';

/** One line of output: a rate step, a scenario measurement, or a scenario summary. */
export interface Result {
  scenario: string;
  /** `relaychat-cluster`: relaychat deployed with `--cluster` (then `nodes` says how many). */
  server: ServerKind | 'relaychat-cluster' | 'both';
  label: string;
  clients?: number;
  rooms?: number;
  senders?: number;
  /** Offered load, messages per second (all senders together). */
  offeredRate?: number;
  durationSec?: number;
  sent?: number;
  acked?: number | null;
  ackErrors?: Record<string, number>;
  unacked?: number;
  expected?: number;
  delivered?: number;
  lost?: number;
  duplicated?: number;
  gaps?: number;
  deliveriesPerSec?: number;
  e2eP50Ms?: number | null;
  e2eP95Ms?: number | null;
  e2eP99Ms?: number | null;
  e2eMaxMs?: number | null;
  ackP50Ms?: number | null;
  ackP99Ms?: number | null;
  serverCpuSec?: number;
  /** Server CPU seconds per wall second over the window (1.0 = one core busy). */
  serverCores?: number;
  serverPeakRssMB?: number;
  genCpuSec?: number;
  genCores?: number;
  /** Event-loop utilisation of each client worker thread (1 = saturated). */
  genElu?: number[];
  /** relaychat (embedded): event-loop utilisation and delay p99 of the server over the step, from its /metrics. */
  serverElu?: number | null;
  serverLoopDelayP99Ms?: number | null;
  /** CPU used by every other process on the machine during the window (noise: should be near 0). */
  otherCores?: number;
  /** Cluster: CPU seconds and cores of PostgreSQL (all its processes), Redis and HAProxy over the window. */
  infraCpuSec?: Record<string, number>;
  infraCores?: Record<string, number>;
  serverCloses?: Record<string, number>;
  reconnects?: number;
  drainTimedOut?: boolean;
  presenceMB?: number;
  memPerConnKB?: number;
  [extra: string]: unknown;
}

export const round = (x: number, digits = 2): number => {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
export const MB = (bytes: number) => round(bytes / (1 << 20), 1);

export interface Window {
  server: ServerHandle;
  t0: number;
  cpu0: number;
  gen0: number;
  busy0: number;
  infra0: Record<string, number> | undefined;
}

/**
 * Starts a measurement window over the server process (a cluster: its nodes, and apart its PostgreSQL, Redis and
 * HAProxy) and this (generator) process.
 */
export function openWindow(server: ServerHandle): Window {
  return {
    server,
    t0: performance.now(),
    cpu0: server.sampler.mark().cpuSec,
    gen0: selfCpuSec(),
    busy0: machineBusySec(),
    infra0: server.cluster?.infraCpuSec(),
  };
}

export function closeWindow(w: Window): Pick<
  Result,
  | 'serverCpuSec'
  | 'serverCores'
  | 'serverPeakRssMB'
  | 'genCpuSec'
  | 'genCores'
  | 'otherCores'
  | 'infraCpuSec'
  | 'infraCores'
> & {
  wallSec: number;
} {
  const r = w.server.sampler.read();
  const wallSec = (performance.now() - w.t0) / 1000;
  const serverCpuSec = r.cpuSec - w.cpu0;
  const genCpuSec = selfCpuSec() - w.gen0;
  const infra1 = w.server.cluster?.infraCpuSec();
  const infraCpuSec: Record<string, number> = {};
  for (const [k, v] of Object.entries(infra1 ?? {})) infraCpuSec[k] = v - (w.infra0?.[k] ?? NaN);
  const infraSec = Object.values(infraCpuSec).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const otherSec = machineBusySec() - w.busy0 - serverCpuSec - genCpuSec - infraSec;
  return {
    wallSec: round(wallSec),
    serverCpuSec: round(serverCpuSec),
    serverCores: round(serverCpuSec / wallSec),
    serverPeakRssMB: MB(Math.max(r.windowPeakBytes, r.rssBytes)),
    genCpuSec: round(genCpuSec),
    genCores: round(genCpuSec / wallSec),
    otherCores: round(Math.max(0, otherSec) / wallSec),
    ...(infra1
      ? {
          infraCpuSec: mapValues(infraCpuSec, (v) => round(v)),
          infraCores: mapValues(infraCpuSec, (v) => round(v / wallSec)),
        }
      : {}),
  };
}

const mapValues = (o: Record<string, number>, fn: (v: number) => number) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fn(v)]));

export function latencyFields(rep: { e2e: Histogram; ack: Histogram }, acks: boolean) {
  return {
    e2eP50Ms: ms(rep.e2e.percentile(50)),
    e2eP95Ms: ms(rep.e2e.percentile(95)),
    e2eP99Ms: ms(rep.e2e.percentile(99)),
    e2eMaxMs: ms(rep.e2e.count ? rep.e2e.max : NaN),
    ackP50Ms: acks ? ms(rep.ack.percentile(50)) : null,
    ackP99Ms: acks ? ms(rep.ack.percentile(99)) : null,
  };
}

/** relaychat: the last seq of each room this step touched, from acks and from what any receiver saw. */
function finalsOf(s: { maxAcked: Record<string, number>; maxSeen: Record<string, number> }): Record<string, number> {
  const out: Record<string, number> = { ...s.maxAcked };
  for (const [r, v] of Object.entries(s.maxSeen)) out[r] = Math.max(out[r] ?? 0, v);
  return out;
}

const sameFinals = (a: Record<string, number> | undefined, b: Record<string, number>) =>
  !!a && Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);

export interface Drained {
  rep: MergedReport;
  expected: number;
  timedOut: boolean;
}

/**
 * Waits until everything sent has been delivered everywhere (relaychat: every send acked and every client at
 * its rooms' final seq; baseline: deliveries = messages × room size), or until `maxMs` passes, or nothing
 * moves for `stallMs`. Then closes the step and returns the merged report.
 */
export async function drain(
  pool: ClientPool,
  kind: ServerKind,
  membersOf: Map<string, number>,
  maxMs: number,
  stallMs = 5000,
): Promise<Drained> {
  const deadline = performance.now() + maxMs;
  let finals: Record<string, number> | undefined;
  let lastProgress = performance.now();
  let lastMark = -1;
  let timedOut = false;
  for (;;) {
    const s = await pool.stats(finals);
    if (kind === 'relaychat') {
      const next = finalsOf(s);
      if (sameFinals(finals, next) && s.pendingAcks === 0 && s.pending === 0) break;
      finals = next;
    } else {
      let expected = 0;
      for (const [room, n] of Object.entries(s.sentPerRoom)) expected += n * (membersOf.get(room) ?? 0);
      if (s.delivered >= expected) break;
    }
    const mark = s.delivered + s.acked + s.duplicates;
    if (mark !== lastMark) {
      lastMark = mark;
      lastProgress = performance.now();
    }
    if (performance.now() > deadline || performance.now() - lastProgress > stallMs) {
      timedOut = true;
      break;
    }
    await sleep(kind === 'relaychat' ? 100 : 50);
  }
  if (kind === 'relaychat' && timedOut) finals = finalsOf(await pool.stats(finals));
  const rep = await pool.endStep(finals);
  let expected = rep.expected;
  if (kind === 'baseline') {
    expected = 0;
    for (const [room, n] of Object.entries(rep.sentPerRoom)) expected += n * (membersOf.get(room) ?? 0);
  }
  return { rep, expected, timedOut };
}

export interface StepSpec {
  scenario: string;
  label: string;
  kind: ServerKind;
  pool: ClientPool;
  server: ServerHandle;
  clients: number;
  rooms: number;
  senders: number[];
  membersOf: Map<string, number>;
  rate: number;
  durationMs: number;
}

/**
 * The embedded server's event-loop figures since the previous scrape (each scrape resets its delay histogram), or
 * nulls for the baseline and a cluster (behind HAProxy a scrape would reach one node at random).
 */
const LOOP_PROBE_MS = 10;

async function scrapeLoop(
  server: ServerHandle,
): Promise<{ serverElu: number | null; serverLoopDelayP99Ms: number | null }> {
  const none = { serverElu: null, serverLoopDelayP99Ms: null };
  if (server.kind !== 'relaychat' || server.cluster) return none;
  try {
    const res = await fetch(`${server.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const elu = sample('relaychat_event_loop_utilization');
    const p99 = sample('nodejs_eventloop_lag_p99_seconds');
    return {
      serverElu: Number.isFinite(elu) ? round(elu) : null,
      // prom-client samples with a 10 ms timer and its figures include that interval (idle ≈ 10 ms): report the delay.
      serverLoopDelayP99Ms: Number.isFinite(p99) ? round(Math.max(0, p99 * 1000 - LOOP_PROBE_MS)) : null,
    };
  } catch {
    return none;
  }
}

/** One open-loop rate step: send at `rate` for `durationMs`, drain, and measure everything. */
export async function rateStep(p: StepSpec): Promise<Result> {
  await p.pool.beginStep();
  await scrapeLoop(p.server); // starts the server's event-loop figures afresh for this step
  const w = openWindow(p.server);
  await p.pool.send(p.rate, p.durationMs, p.senders);
  const { rep, expected, timedOut } = await drain(p.pool, p.kind, p.membersOf, Math.max(15_000, 3 * p.durationMs));
  const win = closeWindow(w);
  const loop = await scrapeLoop(p.server);
  const spanSec = rep.lastDeliveryUs > 0 ? (rep.lastDeliveryUs - rep.firstSendUs) / 1e6 : NaN;
  const lost = Math.max(0, expected - rep.delivered);
  return {
    scenario: p.scenario,
    server: p.kind,
    label: p.label,
    clients: p.clients,
    rooms: p.rooms,
    senders: p.senders.length,
    offeredRate: p.rate,
    durationSec: p.durationMs / 1000,
    sent: rep.sent,
    acked: p.kind === 'relaychat' ? rep.acked : null,
    ackErrors: rep.ackErrors,
    unacked: rep.unacked,
    expected,
    delivered: rep.delivered,
    lost,
    duplicated: rep.duplicates,
    gaps: rep.gaps,
    deliveriesPerSec: Number.isFinite(spanSec) && spanSec > 0 ? Math.round(rep.delivered / spanSec) : 0,
    ...latencyFields(rep, p.kind === 'relaychat'),
    ...win,
    ...loop,
    genElu: rep.elu.map((x) => round(x)),
    serverCloses: rep.closes,
    reconnects: rep.reconnects,
    drainTimedOut: timedOut,
    presenceMB: MB(rep.presenceBytes),
    openAtEnd: rep.open,
    skipped: rep.skipped,
  };
}

/**
 * Which side ran out first in a saturation search, judged at the step that ended it (the confirmed failure at
 * the highest offered rate, else the highest offered rate): the server process at ≥ 0.9 cores, or a client
 * worker at ≥ 0.9 event-loop utilisation. A cluster's processes (nodes, PostgreSQL, Redis, HAProxy) share the
 * machine with the generator, so for a cluster "server" means the machine's cores were ≥ 90 % busy.
 */
export function limitedBy(steps: Result[], passed: (r: Result) => boolean): { step: Result; who: string } | null {
  if (steps.length === 0) return null;
  const highest = (rs: Result[]) =>
    rs.reduce<Result | undefined>(
      (best, r) => (!best || (r.offeredRate ?? 0) >= (best.offeredRate ?? 0) ? r : best),
      undefined,
    );
  const step = highest(steps.filter((r) => !passed(r) && !String(r.label).includes('refine'))) ?? highest(steps)!;
  const busy = (xs: (number | undefined)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
  const srv = step.infraCores
    ? busy([step.serverCores, step.genCores, step.otherCores, ...Object.values(step.infraCores)]) /
      availableParallelism()
    : (step.serverCores ?? 0);
  const gen = Math.max(0, ...(step.genElu ?? [0]));
  const who = srv >= 0.9 && gen >= 0.9 ? 'both' : srv >= 0.9 ? 'server' : gen >= 0.9 ? 'generator' : 'neither';
  return { step, who };
}

export function membersPerRoom(rooms: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rooms) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

export { Histogram, nowUs };

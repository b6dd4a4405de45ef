import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { Histogram } from 'prom-client';
import type { Hub } from '../core/delivery/hub.js';
import type { MessageService } from '../core/messages.js';
import type { NodeDirectory } from '../core/node-directory.js';
import type { Presence } from '../core/presence.js';
import type { AdminStats, NodeSummary, StatsWindows } from '../protocol/model.js';
import type { Gateway } from './ws/gateway.js';

/** Upper bounds (seconds) of the delivery latency histogram; the same buckets Prometheus scrapes. */
export const DELIVERY_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How often the node takes a sample of its counters (ms). */
const SAMPLE_MS = 1000;
/** The windows every windowed figure is given for (ms). */
const WINDOWS = { last10s: 10_000, last60s: 60_000 } as const;
/** Samples kept: a little more than the longest window. */
const KEEP = 65;
/** Event-loop delay probe interval (ms): the probe's own interval is subtracted, so an idle loop reads ~0. */
export const EVENT_LOOP_PROBE_MS = 10;
/** How often a node posts its summary to the node directory (ms), and how long an entry outlives its post. */
export const NODE_POST_MS = 2000;
const NODE_TTL_MS = 5 * NODE_POST_MS;

/**
 * `relaychat_delivery_latency_seconds`: from a live room event's `createdAt` (set in the transaction that stores
 * it) to the end of the flush that wrote it to this node's connections, one sample per event per node.
 */
export function createDeliveryLatencyHistogram(): Histogram {
  return new Histogram({
    name: 'relaychat_delivery_latency_seconds',
    help: 'Seconds from a room event being stored to its write to the connections of this node (once per event per node).',
    buckets: DELIVERY_LATENCY_BUCKETS,
    registers: [],
  });
}

/**
 * The q-quantile (0–1) of a histogram given as per-bucket counts (`counts[i]` for bucket `bounds[i]`, the last
 * entry for +Inf), interpolated linearly inside the bucket like Prometheus's `histogram_quantile`; null without
 * samples. A quantile in the +Inf bucket is reported as the highest finite bound.
 */
export function bucketQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n > 0 && below + n >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - below) / n);
    }
    below += n;
  }
  return bounds[bounds.length - 1]!;
}

interface Sample {
  /** performance.now() when taken. */
  at: number;
  stored: number;
  deliveries: number;
  /** Cumulative since the process started. */
  elu: EventLoopUtilization;
  /** Cumulative delivery-latency counts per bucket, +Inf last. */
  latency: number[];
  /** p99 event-loop delay (ms, beyond the probe interval) of the interval that ended with this sample. */
  delayP99Ms: number | null;
}

export interface NodeStatsSources {
  nodeId: string;
  clustered: boolean;
  gateway: Gateway;
  hub: Hub;
  messages: MessageService;
  presence: Presence;
  latency: Histogram;
  /** Where the nodes post their summaries for each other (in-memory when embedded). */
  directory: NodeDirectory;
  /** BUSY_UTILIZATION_PERCENT / 100. */
  busyAbove: number;
  log: { warn(obj: object, msg: string): void };
}

type Figures = Omit<AdminStats, 'onlineUsers' | 'nodes'>;

/**
 * The figures of the admin dashboard (`GET /api/v1/admin/stats`) for this node. Counters the parts keep anyway are
 * sampled once a second into a ring of a minute, so a request is a subtraction, not a query, however often it is
 * made. Independent of `/metrics` (whose scrapes reset prom-client's event-loop histogram): its own event-loop
 * delay monitor, the same latency histogram.
 */
export class NodeStats {
  private readonly samples: Sample[] = [];
  private readonly delay: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  private sampling: Promise<void> | undefined;
  private ticks = 0;
  /** Whether the last post failed, so an outage is logged once. */
  private postFailing = false;
  private stopped = false;

  constructor(private readonly src: NodeStatsSources) {
    this.delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_PROBE_MS });
    this.delay.enable();
    void this.sample().then(() => this.post());
    this.timer = setInterval(() => void this.tick(), SAMPLE_MS);
    this.timer.unref();
  }

  /** Stops sampling and takes this node out of the directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.delay.disable();
    await this.sampling;
    await this.src.directory.close().catch(() => {});
  }

  /** Everything `GET /api/v1/admin/stats` answers. */
  async read(): Promise<AdminStats> {
    const figures = await this.figures();
    const [online, others] = await Promise.all([
      this.src.presence.onlineCount().catch(() => null),
      this.src.directory.list().catch(() => null),
    ]);
    // This node's entry as of now; the others as they last posted.
    const mine = summaryOf(figures);
    const nodes = others && [...others.filter((n) => n.id !== mine.id), mine].sort((a, b) => a.id.localeCompare(b.id));
    return { ...figures, onlineUsers: online, nodes };
  }

  private async tick(): Promise<void> {
    await this.sample();
    if (++this.ticks % (NODE_POST_MS / SAMPLE_MS) === 0) await this.post();
  }

  private async post(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.src.directory.post(summaryOf(await this.figures()), NODE_TTL_MS);
      this.postFailing = false;
    } catch (err) {
      if (!this.postFailing && !this.stopped) this.src.log.warn({ err }, 'could not post node stats for the dashboard');
      this.postFailing = true;
    }
  }

  private async figures(): Promise<Figures> {
    // The newest figures, without disturbing the per-second event-loop record.
    const now = await this.take(false);
    const rate = (pick: (s: Sample) => number): StatsWindows<number> =>
      this.windows(now, (base) => {
        const secs = (now.at - base.at) / 1000;
        return secs > 0 ? (pick(now) - pick(base)) / secs : 0;
      });
    const latency = this.windows(now, (base) => {
      const counts = now.latency.map((n, i) => n - base.latency[i]!);
      const p = (q: number) => {
        const v = bucketQuantile(q, DELIVERY_LATENCY_BUCKETS, counts);
        return v === null ? null : v * 1000;
      };
      return { samples: counts.reduce((a, b) => a + b, 0), p50: p(0.5), p99: p(0.99) };
    });
    return {
      node: {
        id: this.src.nodeId,
        clustered: this.src.clustered,
        startedAt: new Date(this.startedAt).toISOString(),
        uptimeSec: Math.floor((Date.now() - this.startedAt) / 1000),
      },
      sampledAt: new Date().toISOString(),
      connections: this.src.hub.connectionCount,
      websockets: this.src.gateway.size,
      messages: { stored: now.stored, perSecond: rate((s) => s.stored) },
      deliveries: { total: now.deliveries, perSecond: rate((s) => s.deliveries) },
      deliveryLatencyMs: latency,
      eventLoop: {
        delayP99Ms: this.windows(now, (base) => {
          let worst = 0;
          for (const s of [...this.samples.filter((x) => x.at > base.at), now]) {
            if (s.delayP99Ms !== null && s.delayP99Ms > worst) worst = s.delayP99Ms;
          }
          return worst;
        }),
        utilization: this.windows(now, (base) => performance.eventLoopUtilization(now.elu, base.elu).utilization),
        busyAbove: this.src.busyAbove,
      },
    };
  }

  /** Each window measured from the newest sample at least that old (or the oldest, just after start). */
  private windows<T>(now: Sample, fn: (base: Sample) => T): StatsWindows<T> {
    const base = (ms: number) => {
      let pick = this.samples[0] ?? now;
      for (const s of this.samples) if (now.at - s.at >= ms) pick = s;
      return pick;
    };
    return { last10s: fn(base(WINDOWS.last10s)), last60s: fn(base(WINDOWS.last60s)) };
  }

  private sample(): Promise<void> {
    // A slow histogram read must not let two samples interleave.
    this.sampling ??= this.take(true)
      .then((s) => {
        this.samples.push(s);
        if (this.samples.length > KEEP) this.samples.shift();
      })
      .finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  private async take(closeInterval: boolean): Promise<Sample> {
    const data = await this.src.latency.get();
    const cumulative = data.values.filter((v) => v.metricName?.endsWith('_bucket')).map((v) => v.value);
    // prom-client gives cumulative bucket counts; per-bucket counts subtract cleanly between two samples.
    const latency = cumulative.map((n, i) => n - (i === 0 ? 0 : cumulative[i - 1]!));
    const delayP99Ms = this.delay.count > 0 ? Math.max(0, this.delay.percentile(99) / 1e6 - EVENT_LOOP_PROBE_MS) : null;
    if (closeInterval) this.delay.reset();
    return {
      at: performance.now(),
      stored: this.src.messages.stats.stored,
      deliveries: this.src.hub.stats.deliveries,
      elu: performance.eventLoopUtilization(),
      latency,
      delayP99Ms,
    };
  }
}

/** The last-10-seconds headline of a node's figures, as posted for the other nodes. */
function summaryOf(f: Figures): NodeSummary {
  return {
    id: f.node.id,
    startedAt: f.node.startedAt,
    postedAt: f.sampledAt,
    connections: f.connections,
    messagesPerSecond: f.messages.perSecond.last10s,
    deliveriesPerSecond: f.deliveries.perSecond.last10s,
    deliveryLatencyP99Ms: f.deliveryLatencyMs.last10s.p99,
    eventLoopDelayP99Ms: f.eventLoop.delayP99Ms.last10s,
    eventLoopUtilization: f.eventLoop.utilization.last10s,
  };
}

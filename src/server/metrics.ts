import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Registry, type Histogram } from 'prom-client';
import type { Hub } from '../core/delivery/hub.js';
import type { MessageService } from '../core/messages.js';
import type { Presence } from '../core/presence.js';
import type { Gateway } from './ws/gateway.js';

/** What the metrics read; every value is taken at scrape time from counters the parts keep anyway. */
export interface MetricSources {
  gateway: Gateway;
  hub: Hub;
  messages: MessageService;
  /** The hub's delivery latency histogram (it exists whether or not metrics are served). */
  latency: Histogram;
  presence: Presence;
}

/** A counter that mirrors a monotonic number kept elsewhere: each scrape adds what it grew by. */
function mirrorCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}

/**
 * The node's Prometheus registry (`GET /metrics`, when METRICS_TOKEN is set): Node's own metrics (event-loop delay,
 * GC, heap, CPU, file descriptors) and relaychat's connections, online users, messages, deliveries, delivery
 * latency and write coalescing. A registry per server, so several servers in one process (tests) do not share
 * metrics.
 */
export function createMetrics({ gateway, hub, messages, latency, presence }: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registry.registerMetric(latency);

  new Gauge({
    name: 'relaychat_websockets',
    help: 'Open WebSocket connections, authenticated or not.',
    registers: [registry],
    collect() {
      this.set(gateway.size);
    },
  });
  new Gauge({
    name: 'relaychat_sessions_connected',
    help: 'Authenticated connections attached to the delivery hub.',
    registers: [registry],
    collect() {
      this.set(hub.connectionCount);
    },
  });
  new Gauge({
    name: 'relaychat_online_users',
    help: 'Distinct users online or away on any node of the deployment (the same on every node: take the max); this node only while Redis is unreachable.',
    registers: [registry],
    async collect() {
      // A Redis outage must not fail the whole scrape: the node's own metrics matter most then.
      this.set(await presence.onlineCount().catch(() => NaN));
    },
  });
  mirrorCounter(registry, 'relaychat_messages_stored_total', 'Messages stored (not counting duplicates).', () => {
    return messages.stats.stored;
  });
  mirrorCounter(registry, 'relaychat_deliveries_total', 'Room events written to connections.', () => {
    return hub.stats.deliveries;
  });
  mirrorCounter(registry, 'relaychat_write_flushes_total', 'Flushes of queued output to connections.', () => {
    return hub.writes.stats.flushes;
  });
  mirrorCounter(
    registry,
    'relaychat_write_flushes_windowed_total',
    'Flushes that waited for BUSY_WRITE_WINDOW_MS because the event loop was busy.',
    () => hub.writes.stats.windowed,
  );

  const closedSeen = new Map<number, number>();
  new Counter({
    name: 'relaychat_connections_closed_by_server_total',
    help: 'Connections the server closed, by close code (4008 = slow consumer).',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      for (const [code, n] of gateway.closedByServer) {
        const before = closedSeen.get(code) ?? 0;
        if (n > before) this.inc({ code: String(code) }, n - before);
        closedSeen.set(code, n);
      }
    },
  });

  let elu = performance.eventLoopUtilization();
  new Gauge({
    name: 'relaychat_event_loop_utilization',
    help: 'Share of time the event loop was busy since the previous scrape (0-1); above BUSY_UTILIZATION_PERCENT writes are gathered.',
    registers: [registry],
    collect() {
      const next = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(next, elu).utilization);
      elu = next;
    },
  });
  return registry;
}

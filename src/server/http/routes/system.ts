import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { ChatError } from '../../../core/chat-error.js';
import type { Services } from '../../services.js';
import type { Gateway } from '../../ws/gateway.js';
import { PROTOCOL_VERSION } from '../../../protocol/version.js';

/** Shared with the composition root: draining flips on SIGTERM; lastCheckAt tells whether a load balancer watches. */
export interface Readiness {
  draining: boolean;
  lastCheckAt: number;
  nodeId: string;
}

/** How long `/readyz` waits for the bus before reporting it degraded. */
const BUS_PING_MS = 500;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** `Authorization: Bearer <token>`, compared in constant time (hashes first, so lengths do not leak either). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '';
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(token));
}

export function systemRoutes(
  app: FastifyInstance,
  s: Services,
  gateway: Gateway,
  readiness: Readiness,
  metrics: { registry: Registry; token: string } | null,
): void {
  // Probed every second or so by load balancers and orchestrators: logged only when something is wrong.
  const quiet = { logLevel: 'warn' } as const;

  /** Alive: the process answers. */
  app.get('/healthz', quiet, async () => ({ ok: true }));

  /**
   * Ready: not draining, and the store answers; a load balancer sends traffic only when this is 200. Without the
   * store a node can serve nothing (no login, no welcome, no send), so 503. Without Redis (the bus) it still
   * serves its clients, degraded (docs/operations.md, "Failures"): 200 with `degraded: ["redis"]`, since every
   * node shares that Redis and taking them all out would only refuse everyone.
   */
  app.get('/readyz', quiet, async (_req, reply) => {
    readiness.lastCheckAt = Date.now();
    const unavailable = (message: string) =>
      reply.status(503).send({ error: { code: 'unavailable', message, retryable: true }, node: readiness.nodeId });
    if (readiness.draining) return unavailable('draining: this node is shutting down');
    // A hung Redis must not make the check itself time out (HAProxy waits `inter`, 1 s): short-capped.
    const [store, bus] = await Promise.allSettled([s.health.pingStore(), withTimeout(s.health.pingBus(), BUS_PING_MS)]);
    if (store.status === 'rejected') return unavailable(`store: ${(store.reason as Error).message}`);
    const degraded = bus.status === 'rejected' ? ['redis'] : [];
    return { ok: true, node: readiness.nodeId, connections: gateway.size, degraded };
  });

  /** Prometheus scrape target, per node (scrape each node, not the load balancer). Off unless METRICS_TOKEN is set. */
  app.get('/metrics', quiet, async (req, reply) => {
    if (!metrics) throw new ChatError('not_found', { message: 'Metrics are off: set METRICS_TOKEN to serve them.' });
    if (!bearerMatches(req.headers.authorization, metrics.token)) {
      throw new ChatError('unauthorized', { message: 'Send Authorization: Bearer <METRICS_TOKEN>.' });
    }
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/api/v1', async () => ({ name: 'relaychat', protocol: PROTOCOL_VERSION }));
}

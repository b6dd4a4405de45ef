import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { Gateway } from '../../ws/gateway.js';
import { PROTOCOL_VERSION } from '../../../protocol/version.js';

/** Shared with the composition root: draining flips on SIGTERM; lastCheckAt tells whether a load balancer watches. */
export interface Readiness {
  draining: boolean;
  lastCheckAt: number;
  nodeId: string;
}

export function systemRoutes(app: FastifyInstance, s: Services, gateway: Gateway, readiness: Readiness): void {
  // Probed every second or so by load balancers and orchestrators: logged only when something is wrong.
  const quiet = { logLevel: 'warn' } as const;

  /** Alive: the process answers. */
  app.get('/healthz', quiet, async () => ({ ok: true }));

  /** Ready: not draining, and storage and bus answer; a load balancer sends traffic only when this is 200. */
  app.get('/readyz', quiet, async (_req, reply) => {
    readiness.lastCheckAt = Date.now();
    const unavailable = (message: string) =>
      reply.status(503).send({ error: { code: 'unavailable', message, retryable: true }, node: readiness.nodeId });
    if (readiness.draining) return unavailable('draining: this node is shutting down');
    try {
      await Promise.all([s.ctx.store.ping(), s.ctx.bus.ping()]);
      return { ok: true, node: readiness.nodeId, connections: gateway.size };
    } catch (err) {
      return unavailable((err as Error).message);
    }
  });

  app.get('/api/v1', async () => ({ name: 'relaychat', protocol: PROTOCOL_VERSION }));
}

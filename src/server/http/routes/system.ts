import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { Gateway } from '../../ws/gateway.js';
import { PROTOCOL_VERSION } from '../../../protocol/version.js';

export function systemRoutes(app: FastifyInstance, s: Services, gateway: Gateway): void {
  /** Alive: the process answers. */
  app.get('/healthz', async () => ({ ok: true }));

  /** Ready: storage and bus answer; a load balancer sends traffic only when this is 200. */
  app.get('/readyz', async (_req, reply) => {
    try {
      await Promise.all([s.ctx.store.ping(), s.ctx.bus.ping()]);
      return { ok: true, connections: gateway.size };
    } catch (err) {
      return reply
        .status(503)
        .send({ error: { code: 'unavailable', message: (err as Error).message, retryable: true } });
    }
  });

  app.get('/api/v1', async () => ({ name: 'relaychat', protocol: PROTOCOL_VERSION }));
}

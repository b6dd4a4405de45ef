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

  // Until the web client lands (issue 3), the root page says what this is and where to look.
  app.get('/', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><meta charset="utf-8"><title>relaychat</title>' +
          '<h1>relaychat is running</h1><p>HTTP API under <code>/api/v1</code>, WebSocket at <code>/ws</code>. ' +
          'Try the terminal client: <code>npm run chat -- --help</code>.</p>',
      ),
  );
}

import type { FastifyInstance } from 'fastify';
import { UserIdParams } from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

/** The caller's blocked users: private to them (docs/protocol.md, "Blocking"). */
export function blockRoutes(app: FastifyInstance, s: Services): void {
  app.get('/api/v1/me/blocks', async (req) => ({ blocks: await s.blocks.list(await requireAuth(s, req)) }));

  app.put('/api/v1/me/blocks/:userId', async (req) => {
    const auth = await requireAuth(s, req);
    return s.blocks.block(auth, parse(UserIdParams, req.params).userId);
  });

  app.delete('/api/v1/me/blocks/:userId', async (req) => {
    const auth = await requireAuth(s, req);
    return s.blocks.unblock(auth, parse(UserIdParams, req.params).userId);
  });
}

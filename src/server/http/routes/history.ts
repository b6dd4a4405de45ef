import type { FastifyInstance } from 'fastify';
import { RoomIdParams } from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

/** History integrity (issue 18): walking the stored hash chains. */
export function historyRoutes(app: FastifyInstance, s: Services): void {
  app.get('/api/v1/rooms/:roomId/verify', async (req) => {
    const auth = await requireAuth(s, req);
    return { report: await s.history.verifyRoom(auth, parse(RoomIdParams, req.params).roomId) };
  });

  app.get('/api/v1/admin/verify', async (req) => {
    const auth = await requireAuth(s, req);
    return await s.history.verifyAll(auth);
  });
}

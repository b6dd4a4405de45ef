import type { FastifyInstance } from 'fastify';
import { MessageSearchQuery } from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

export function searchRoutes(app: FastifyInstance, s: Services): void {
  /** Full-text message search: see docs/protocol.md ("Message search"). */
  app.get('/api/v1/search', async (req) => {
    const auth = await requireAuth(s, req);
    return s.search.search(auth, parse(MessageSearchQuery, req.query));
  });
}

import type { FastifyInstance } from 'fastify';
import { RoomIdParams } from '../../../protocol/http.js';
import { ChatError } from '../../../core/chat-error.js';
import type { AssistantService } from '../../../core/assistant/assistant-service.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

/** The built-in assistant (issue 16): who it is, and adding it to or removing it from a room. */
export function assistantRoutes(app: FastifyInstance, s: Services): void {
  const assistant = (): AssistantService => {
    if (!s.assistant) throw new ChatError('assistant_disabled');
    return s.assistant;
  };

  // Its profile (to open a DM with it) and backend; any signed-in user.
  app.get('/api/v1/assistant', async (req) => {
    await requireAuth(s, req);
    return { assistant: assistant().info() };
  });

  app.get('/api/v1/rooms/:roomId/assistant', async (req) => {
    const auth = await requireAuth(s, req);
    return { assistant: await assistant().status(auth, parse(RoomIdParams, req.params).roomId) };
  });

  app.put('/api/v1/rooms/:roomId/assistant', async (req) => {
    const auth = await requireAuth(s, req);
    return { assistant: await assistant().add(auth, parse(RoomIdParams, req.params).roomId) };
  });

  app.delete('/api/v1/rooms/:roomId/assistant', async (req) => {
    const auth = await requireAuth(s, req);
    return { assistant: await assistant().remove(auth, parse(RoomIdParams, req.params).roomId) };
  });
}

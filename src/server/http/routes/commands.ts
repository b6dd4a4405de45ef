import type { FastifyInstance } from 'fastify';
import { CommandRequest, RoomIdParams } from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

/** Slash commands (issue 16): run `/name args` in a room, and list the room's commands. */
export function commandRoutes(app: FastifyInstance, s: Services): void {
  app.post('/api/v1/rooms/:roomId/commands', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    const { text, clientMsgId } = parse(CommandRequest, req.body);
    return { result: await s.commands.run(auth, roomId, text, clientMsgId) };
  });

  app.get('/api/v1/rooms/:roomId/commands', async (req) => {
    const auth = await requireAuth(s, req);
    return { commands: await s.commands.list(auth, parse(RoomIdParams, req.params).roomId) };
  });
}

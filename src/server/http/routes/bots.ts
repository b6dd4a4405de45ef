import type { FastifyInstance } from 'fastify';
import { BotIdParams, CreateBotRequest, SetBotCommandsRequest } from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

/** Bot accounts and their commands (issue 16; docs/protocol.md, "Bots"). */
export function botRoutes(app: FastifyInstance, s: Services): void {
  app.post('/api/v1/bots', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const body = parse(CreateBotRequest, req.body);
    const created = await s.bots.create(auth, body);
    return reply.code(201).send(created);
  });

  app.get('/api/v1/bots', async (req) => ({ bots: await s.bots.list(await requireAuth(s, req)) }));

  app.post('/api/v1/bots/:botId/token', async (req) => {
    const auth = await requireAuth(s, req);
    return s.bots.rotate(auth, parse(BotIdParams, req.params).botId);
  });

  app.delete('/api/v1/bots/:botId', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.bots.remove(auth, parse(BotIdParams, req.params).botId);
    return reply.code(204).send();
  });

  app.put('/api/v1/bots/me/commands', async (req) => {
    const auth = await requireAuth(s, req);
    const { commands } = parse(SetBotCommandsRequest, req.body);
    return { commands: await s.bots.setCommands(auth, commands) };
  });
}

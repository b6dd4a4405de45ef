import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { DeleteAccountRequest, IdParams, ResetCheckRequest, ResetPasswordRequest } from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

/** Issue 18: deleting one's account, admin-issued password reset links, one's own data export. */
export function keepRoutes(app: FastifyInstance, s: Services): void {
  app.delete('/api/v1/me', async (req) => {
    const auth = await requireAuth(s, req);
    const body = parse(DeleteAccountRequest, req.body);
    return s.leaving.deleteAccount(auth, body.password, body.messages);
  });

  app.get('/api/v1/me/export', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const name = `relaychat-${auth.user.username}-${new Date(s.exporter.now()).toISOString().slice(0, 10)}.json`;
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(s.exporter.exportOwn(auth)));
  });

  app.post('/api/v1/admin/users/:id/reset-link', async (req, reply) => {
    const auth = await requireAuth(s, req);
    return reply.status(201).send(await s.resets.issue(auth, parse(IdParams, req.params).id));
  });

  app.post('/api/v1/auth/reset/check', async (req) => {
    return s.resets.inspect(parse(ResetCheckRequest, req.body).token, { ip: req.ip });
  });

  app.post('/api/v1/auth/reset', async (req, reply) => {
    const body = parse(ResetPasswordRequest, req.body);
    await s.resets.use(body.token, body.newPassword, { ip: req.ip });
    return reply.status(204).send();
  });
}

import type { FastifyInstance } from 'fastify';
import { AdminUserQuery, AuditQuery, IdParams, SanctionRequest, ServerRoleRequest } from '../../../protocol/http.js';
import type { NodeStats } from '../../node-stats.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';
import { stripUndefined } from './moderation.js';

/** Server administration: users, bans, forced logout, admin rights, the audit log. Server admins only. */
export function adminRoutes(app: FastifyInstance, s: Services): void {
  app.get('/api/v1/admin/users', async (req) => {
    const auth = await requireAuth(s, req);
    const q = parse(AdminUserQuery, req.query);
    return s.admin.listUsers(auth, q.q, q.limit, q.cursor);
  });

  app.post('/api/v1/admin/users/:id/deactivate', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.admin.deactivate(auth, parse(IdParams, req.params).id);
    return reply.status(204).send();
  });

  app.post('/api/v1/admin/users/:id/reactivate', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.admin.reactivate(auth, parse(IdParams, req.params).id);
    return reply.status(204).send();
  });

  app.post('/api/v1/admin/users/:id/logout', async (req) => {
    const auth = await requireAuth(s, req);
    return { revoked: await s.admin.forceLogout(auth, parse(IdParams, req.params).id) };
  });

  app.put('/api/v1/admin/users/:id/role', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.admin.setRole(auth, parse(IdParams, req.params).id, parse(ServerRoleRequest, req.body).role);
    return reply.status(204).send();
  });

  app.put('/api/v1/admin/users/:id/ban', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.admin.ban(auth, parse(IdParams, req.params).id, stripUndefined(parse(SanctionRequest, req.body)));
    return reply.status(204).send();
  });

  app.delete('/api/v1/admin/users/:id/ban', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.admin.unban(auth, parse(IdParams, req.params).id);
    return reply.status(204).send();
  });

  app.get('/api/v1/admin/audit', async (req) => {
    const auth = await requireAuth(s, req);
    return { entries: await s.admin.listAudit(auth, parse(AuditQuery, req.query)) };
  });
}

/** The operations dashboard's figures for the node that answers (`AdminStats`). Server admins only. */
export function adminStatsRoutes(app: FastifyInstance, s: Services, stats: NodeStats): void {
  app.get('/api/v1/admin/stats', async (req) => {
    s.admin.requireAdmin(await requireAuth(s, req));
    return stats.read();
  });
}

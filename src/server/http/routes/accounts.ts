import type { FastifyInstance } from 'fastify';
import {
  ChangePasswordRequest,
  IdParams,
  LoginRequest,
  RegisterRequest,
  UpdateProfileRequest,
  UserSearchQuery,
} from '../../../protocol/http.js';
import { toPublicUser } from '../../../core/accounts.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

export function accountRoutes(app: FastifyInstance, s: Services): void {
  app.post('/api/v1/auth/register', async (req, reply) => {
    const body = parse(RegisterRequest, req.body);
    const result = await s.accounts.register(body, { ip: req.ip, label: req.headers['user-agent'] });
    return reply.status(201).send({ token: result.token, user: result.user, sessionId: result.sessionId });
  });

  app.post('/api/v1/auth/login', async (req) => {
    const body = parse(LoginRequest, req.body);
    const result = await s.accounts.login({ ...body, label: body.label ?? req.headers['user-agent'] }, { ip: req.ip });
    return { token: result.token, user: result.user, sessionId: result.sessionId };
  });

  app.post('/api/v1/auth/logout', async (req, reply) => {
    await s.accounts.logout(await requireAuth(s, req));
    return reply.status(204).send();
  });

  app.post('/api/v1/auth/logout-all', async (req) => {
    return { revoked: await s.accounts.logoutEverywhere(await requireAuth(s, req)) };
  });

  app.get('/api/v1/auth/sessions', async (req) => {
    return { sessions: await s.accounts.listSessions(await requireAuth(s, req)) };
  });

  app.delete('/api/v1/auth/sessions/:id', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.accounts.revokeSession(auth, parse(IdParams, req.params).id);
    return reply.status(204).send();
  });

  app.post('/api/v1/auth/password', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const body = parse(ChangePasswordRequest, req.body);
    await s.accounts.changePassword(auth, body.currentPassword, body.newPassword);
    return reply.status(204).send();
  });

  app.get('/api/v1/me', async (req) => ({ user: toPublicUser((await requireAuth(s, req)).user) }));

  app.patch('/api/v1/me', async (req) => {
    const auth = await requireAuth(s, req);
    return { user: await s.accounts.updateProfile(auth, parse(UpdateProfileRequest, req.body)) };
  });

  app.get('/api/v1/users', async (req) => {
    await requireAuth(s, req);
    const q = parse(UserSearchQuery, req.query);
    return { users: await s.accounts.searchUsers(q.q, q.limit) };
  });

  app.get('/api/v1/users/:id', async (req) => {
    await requireAuth(s, req);
    const user = await s.accounts.getUser(parse(IdParams, req.params).id);
    const presence = (await s.presence.statusOf([user.id])).get(user.id) ?? 'offline';
    return { user, presence };
  });
}

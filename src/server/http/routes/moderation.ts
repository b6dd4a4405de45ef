import type { FastifyInstance } from 'fastify';
import {
  AuditQuery,
  CreateReportRequest,
  IdParams,
  KickRequest,
  ReportListQuery,
  ResolveReportRequest,
  RoomIdParams,
  RoomSeqParams,
  RoomUserParams,
  SanctionRequest,
} from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

/** Room moderation (kick, ban, mute, delete, join requests, room audit) and reports. */
export function moderationRoutes(app: FastifyInstance, s: Services): void {
  app.post('/api/v1/rooms/:roomId/members/:userId/kick', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, userId } = parse(RoomUserParams, req.params);
    await s.moderation.kick(auth, roomId, userId, parse(KickRequest, req.body).reason);
    return reply.status(204).send();
  });

  app.get('/api/v1/rooms/:roomId/bans', async (req) => {
    const auth = await requireAuth(s, req);
    return { bans: await s.moderation.listBans(auth, parse(RoomIdParams, req.params).roomId) };
  });

  app.put('/api/v1/rooms/:roomId/bans/:userId', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, userId } = parse(RoomUserParams, req.params);
    await s.moderation.ban(auth, roomId, userId, stripUndefined(parse(SanctionRequest, req.body)));
    return reply.status(204).send();
  });

  app.delete('/api/v1/rooms/:roomId/bans/:userId', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, userId } = parse(RoomUserParams, req.params);
    await s.moderation.unban(auth, roomId, userId);
    return reply.status(204).send();
  });

  app.put('/api/v1/rooms/:roomId/mutes/:userId', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, userId } = parse(RoomUserParams, req.params);
    await s.moderation.mute(auth, roomId, userId, stripUndefined(parse(SanctionRequest, req.body)));
    return reply.status(204).send();
  });

  app.delete('/api/v1/rooms/:roomId/mutes/:userId', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, userId } = parse(RoomUserParams, req.params);
    await s.moderation.unmute(auth, roomId, userId);
    return reply.status(204).send();
  });

  app.delete('/api/v1/rooms/:roomId/messages/:seq', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, seq } = parse(RoomSeqParams, req.params);
    await s.moderation.deleteMessage(auth, roomId, seq);
    return reply.status(204).send();
  });

  app.get('/api/v1/rooms/:roomId/requests', async (req) => {
    const auth = await requireAuth(s, req);
    return { requests: await s.moderation.listJoinRequests(auth, parse(RoomIdParams, req.params).roomId) };
  });

  app.post('/api/v1/rooms/:roomId/requests/:userId/approve', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, userId } = parse(RoomUserParams, req.params);
    await s.moderation.approveJoin(auth, roomId, userId);
    return reply.status(204).send();
  });

  app.post('/api/v1/rooms/:roomId/requests/:userId/reject', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, userId } = parse(RoomUserParams, req.params);
    await s.moderation.rejectJoin(auth, roomId, userId);
    return reply.status(204).send();
  });

  app.get('/api/v1/rooms/:roomId/audit', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    const q = parse(AuditQuery.omit({ roomId: true }), req.query);
    return { entries: await s.moderation.roomAudit(auth, roomId, q) };
  });

  app.post('/api/v1/reports', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const report = await s.reports.create(auth, parse(CreateReportRequest, req.body));
    return reply.status(201).send({ report });
  });

  app.get('/api/v1/reports', async (req) => {
    const auth = await requireAuth(s, req);
    return s.reports.list(auth, parse(ReportListQuery, req.query));
  });

  app.post('/api/v1/reports/:id/resolve', async (req) => {
    const auth = await requireAuth(s, req);
    const { id } = parse(IdParams, req.params);
    return { report: await s.reports.resolve(auth, id, parse(ResolveReportRequest, req.body)) };
  });
}

/** zod leaves absent optional fields as `undefined`; the services take exact optional properties. */
export function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

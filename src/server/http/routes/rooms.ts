import type { FastifyInstance } from 'fastify';
import {
  CreateDmRequest,
  CreateRoomRequest,
  InviteRequest,
  MembersQuery,
  RoomIdParams,
  RoomSearchQuery,
  RoomUserParams,
  SetRoleRequest,
  UpdateRoomRequest,
} from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

export function roomRoutes(app: FastifyInstance, s: Services): void {
  app.post('/api/v1/rooms', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const room = await s.rooms.create(auth, parse(CreateRoomRequest, req.body));
    return reply.status(201).send({ room });
  });

  app.get('/api/v1/rooms', async (req) => {
    await requireAuth(s, req);
    const q = parse(RoomSearchQuery, req.query);
    return s.rooms.search(q.q, q.limit, q.cursor);
  });

  app.get('/api/v1/me/rooms', async (req) => ({ rooms: await s.rooms.listMine(await requireAuth(s, req)) }));

  app.get('/api/v1/me/invites', async (req) => ({ invites: await s.rooms.listInvites(await requireAuth(s, req)) }));

  app.get('/api/v1/rooms/:roomId', async (req) => {
    const auth = await requireAuth(s, req);
    return { room: await s.rooms.get(auth, parse(RoomIdParams, req.params).roomId) };
  });

  app.patch('/api/v1/rooms/:roomId', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    return { room: await s.rooms.update(auth, roomId, parse(UpdateRoomRequest, req.body)) };
  });

  app.post('/api/v1/rooms/:roomId/join', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { room, pending } = await s.rooms.join(auth, parse(RoomIdParams, req.params).roomId);
    // A room that needs approval: the request is recorded; moderators approve it.
    return pending ? reply.status(202).send({ pending: true }) : { room };
  });

  app.post('/api/v1/rooms/:roomId/leave', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.rooms.leave(auth, parse(RoomIdParams, req.params).roomId);
    return reply.status(204).send();
  });

  app.post('/api/v1/rooms/:roomId/invites', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    await s.rooms.invite(auth, roomId, parse(InviteRequest, req.body).username);
    return reply.status(204).send();
  });

  app.post('/api/v1/rooms/:roomId/invite/accept', async (req) => {
    const auth = await requireAuth(s, req);
    return { room: await s.rooms.acceptInvite(auth, parse(RoomIdParams, req.params).roomId) };
  });

  app.post('/api/v1/rooms/:roomId/invite/decline', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.rooms.declineInvite(auth, parse(RoomIdParams, req.params).roomId);
    return reply.status(204).send();
  });

  app.get('/api/v1/rooms/:roomId/members', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    return s.rooms.members(auth, roomId, parse(MembersQuery, req.query));
  });

  app.put('/api/v1/rooms/:roomId/members/:userId/role', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, userId } = parse(RoomUserParams, req.params);
    await s.rooms.setRole(auth, roomId, userId, parse(SetRoleRequest, req.body).role);
    return reply.status(204).send();
  });

  app.post('/api/v1/dms', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { room, created } = await s.rooms.openDm(auth, parse(CreateDmRequest, req.body).usernames);
    return reply.status(created ? 201 : 200).send({ room });
  });
}

import type { FastifyInstance } from 'fastify';
import {
  AnnouncementRequest,
  EditMessageRequest,
  EventsQuery,
  HistoryQuery,
  MessagesQuery,
  RoomIdParams,
  RoomSeqParams,
  SendMessageRequest,
} from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

export function messageRoutes(app: FastifyInstance, s: Services): void {
  app.post('/api/v1/rooms/:roomId/messages', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    const body = parse(SendMessageRequest, req.body);
    const { event, duplicate } = await s.messages.send(auth, { roomId, ...body });
    return reply.status(duplicate ? 200 : 201).send({ message: event, duplicate });
  });

  app.get('/api/v1/rooms/:roomId/messages', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    const messages = await s.messages.history(auth, roomId, parse(MessagesQuery, req.query), 'messages');
    return { messages: await s.reactions.attach(roomId, messages) };
  });

  // The route's DELETE (moderation) is in moderation.ts.
  app.patch('/api/v1/rooms/:roomId/messages/:seq', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId, seq } = parse(RoomSeqParams, req.params);
    const { body } = parse(EditMessageRequest, req.body);
    return s.messages.editMessage(auth, roomId, seq, body);
  });

  app.get('/api/v1/rooms/:roomId/messages/:seq/thread', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId, seq } = parse(RoomSeqParams, req.params);
    return s.messages.thread(auth, roomId, seq, parse(HistoryQuery, req.query));
  });

  app.get('/api/v1/rooms/:roomId/messages/:seq/edits', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId, seq } = parse(RoomSeqParams, req.params);
    return { edits: await s.messages.listEdits(auth, roomId, seq) };
  });

  app.put('/api/v1/rooms/:roomId/messages/:seq/pin', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId, seq } = parse(RoomSeqParams, req.params);
    return s.pins.pin(auth, roomId, seq);
  });

  app.delete('/api/v1/rooms/:roomId/messages/:seq/pin', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId, seq } = parse(RoomSeqParams, req.params);
    return s.pins.unpin(auth, roomId, seq);
  });

  app.get('/api/v1/rooms/:roomId/pins', async (req) => {
    const auth = await requireAuth(s, req);
    return { pins: await s.pins.list(auth, parse(RoomIdParams, req.params).roomId) };
  });

  app.get('/api/v1/rooms/:roomId/events', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    const { kinds, ...page } = parse(EventsQuery, req.query);
    return { events: await s.messages.history(auth, roomId, page, kinds) };
  });

  app.post('/api/v1/announcements', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const announcement = await s.messages.announce(auth, parse(AnnouncementRequest, req.body).body);
    return reply.status(201).send({ announcement });
  });

  app.get('/api/v1/presence', async (req) => {
    await requireAuth(s, req);
    return { online: await s.presence.onlineCount() };
  });
}

import type { FastifyInstance } from 'fastify';
import {
  MarkReadRequest,
  MentionsQuery,
  RoomIdParams,
  SetNotifyRequest,
  UpdateSettingsRequest,
} from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

/** Read markers, read receipts, notification levels and the settings that govern them; the mentions inbox. */
export function readRoutes(app: FastifyInstance, s: Services): void {
  app.put('/api/v1/rooms/:roomId/read', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    return s.reads.markRead(auth, roomId, parse(MarkReadRequest, req.body).seq);
  });

  app.get('/api/v1/rooms/:roomId/receipts', async (req) => {
    const auth = await requireAuth(s, req);
    return s.reads.receipts(auth, parse(RoomIdParams, req.params).roomId);
  });

  // The mentions inbox: newest first; `before` is the previous page's last `id`.
  app.get('/api/v1/me/mentions', async (req) => {
    const auth = await requireAuth(s, req);
    return { mentions: await s.messages.mentions.inbox(auth, parse(MentionsQuery, req.query)) };
  });

  app.get('/api/v1/me/settings', async (req) => ({ settings: s.notifications.settings(await requireAuth(s, req)) }));

  app.patch('/api/v1/me/settings', async (req) => {
    const auth = await requireAuth(s, req);
    return { settings: await s.notifications.updateSettings(auth, parse(UpdateSettingsRequest, req.body)) };
  });

  app.put('/api/v1/rooms/:roomId/notifications', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    return s.notifications.setLevel(auth, roomId, parse(SetNotifyRequest, req.body).level);
  });
}

import type { FastifyInstance } from 'fastify';
import { RoomSeqEmojiParams } from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

/**
 * `PUT` / `DELETE /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji` (`:emoji` URL-encoded: an emoji or a
 * shortcode). Both are idempotent: the answer says whether an event was appended (`added` / `removed`).
 */
export function reactionRoutes(app: FastifyInstance, s: Services): void {
  app.put('/api/v1/rooms/:roomId/messages/:seq/reactions/:emoji', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId, seq, emoji } = parse(RoomSeqEmojiParams, req.params);
    const r = await s.reactions.add(auth, roomId, seq, emoji);
    return { emoji: r.emoji, added: r.added, ...(r.event ? { seq: r.event.seq } : {}) };
  });

  app.delete('/api/v1/rooms/:roomId/messages/:seq/reactions/:emoji', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId, seq, emoji } = parse(RoomSeqEmojiParams, req.params);
    const r = await s.reactions.remove(auth, roomId, seq, emoji);
    return { emoji: r.emoji, removed: r.removed, ...(r.event ? { seq: r.event.seq } : {}) };
  });
}

import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../core/accounts.js';
import { requireBotRoom, requireScope } from '../../core/bot-scopes.js';
import { ChatError } from '../../core/chat-error.js';
import type { BotScope } from '../../protocol/model.js';

/**
 * What a bot token may call over HTTP (issue 16), by method and route, with the scope each needs. Everything else
 * is refused to bots (`403 forbidden`): deny by default, so a route added later is closed to bots until it is
 * listed here. People's sessions are not affected.
 */
export const BOT_ROUTES: Readonly<Record<string, BotScope>> = {
  // read: what it is, its rooms and their history, members and users, files, search; joining and leaving
  'GET /api/v1/me': 'read',
  'GET /api/v1/me/rooms': 'read',
  'GET /api/v1/me/invites': 'read',
  'GET /api/v1/me/mentions': 'read',
  'GET /api/v1/rooms': 'read',
  'GET /api/v1/rooms/:roomId': 'read',
  'GET /api/v1/rooms/:roomId/events': 'read',
  'GET /api/v1/rooms/:roomId/messages': 'read',
  'GET /api/v1/rooms/:roomId/messages/:seq/edits': 'read',
  'GET /api/v1/rooms/:roomId/messages/:seq/thread': 'read',
  'GET /api/v1/rooms/:roomId/members': 'read',
  'GET /api/v1/rooms/:roomId/pins': 'read',
  'GET /api/v1/rooms/:roomId/receipts': 'read',
  'PUT /api/v1/rooms/:roomId/read': 'read',
  'POST /api/v1/rooms/:roomId/join': 'read',
  'POST /api/v1/rooms/:roomId/leave': 'read',
  'POST /api/v1/rooms/:roomId/invite/accept': 'read',
  'POST /api/v1/rooms/:roomId/invite/decline': 'read',
  'GET /api/v1/users': 'read',
  'GET /api/v1/users/:id': 'read',
  'GET /api/v1/presence': 'read',
  'GET /api/v1/search': 'read',
  'GET /api/v1/files/:id': 'read',
  'GET /api/v1/files/:id/info': 'read',
  'GET /api/v1/files/:id/link': 'read',
  // post: messages (its own edits and deletions) and the files they carry
  'POST /api/v1/rooms/:roomId/messages': 'post',
  'PATCH /api/v1/rooms/:roomId/messages/:seq': 'post',
  'DELETE /api/v1/rooms/:roomId/messages/:seq': 'post',
  'POST /api/v1/files': 'post',
  // react
  'PUT /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji': 'react',
  'DELETE /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji': 'react',
  // commands
  'PUT /api/v1/bots/me/commands': 'commands',
};

/** Throws `forbidden` when a bot calls a route outside BOT_ROUTES or its scopes, or a room bot names another room. */
export function checkBotRoute(auth: AuthContext, request: FastifyRequest): void {
  if (auth.session.scopes == null) return;
  const scope = BOT_ROUTES[`${request.method} ${request.routeOptions.url ?? ''}`];
  if (!scope) throw new ChatError('forbidden', { message: 'Bots may not use this route.' });
  requireScope(auth, scope);
  const roomId = (request.params as { roomId?: unknown } | undefined)?.roomId;
  if (typeof roomId === 'string') requireBotRoom(auth, roomId);
}

import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../core/accounts.js';
import { ChatError } from '../../core/chat-error.js';
import type { Services } from '../services.js';
import { checkBotRoute } from './bot-routes.js';

/**
 * Authenticates `Authorization: Bearer <token>` on every call; tokens are never read from URLs. A bot token may
 * call only the routes its scopes allow (BOT_ROUTES), checked here so no route can forget it.
 */
export async function requireAuth(services: Services, request: FastifyRequest): Promise<AuthContext> {
  const header = request.headers.authorization;
  const match = header ? /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header) : null;
  if (!match) throw new ChatError('unauthorized');
  const auth = await services.accounts.authenticate(match[1]);
  checkBotRoute(auth, request);
  return auth;
}

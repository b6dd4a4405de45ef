import type { BotScope } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { ChatError } from './chat-error.js';

/** Whether the caller is a bot (its session carries scopes; a person's does not). */
export function isBotAuth(auth: AuthContext): boolean {
  return auth.session.scopes != null;
}

/** Throws `forbidden` when the caller is a bot whose token lacks `scope`. A person's session has every scope. */
export function requireScope(auth: AuthContext, scope: BotScope): void {
  const scopes = auth.session.scopes;
  if (scopes != null && !scopes.includes(scope)) {
    throw new ChatError('forbidden', { message: `This bot token lacks the "${scope}" scope.` });
  }
}

/** Throws `forbidden` for a bot: what only people may do (manage bots, administer, change passwords…). */
export function requirePerson(auth: AuthContext): void {
  if (isBotAuth(auth)) throw new ChatError('forbidden', { message: 'Bots may not do that.' });
}

/** A room bot belongs to one room: it may act in no other (server-wide bots are not bound). */
export function requireBotRoom(auth: AuthContext, roomId: string): void {
  const home = auth.user.botOf?.roomId;
  if (home != null && home !== roomId) {
    throw new ChatError('forbidden', { message: 'A room bot may act only in its own room.' });
  }
}

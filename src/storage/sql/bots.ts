import type { BotCommand } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import type { BotStore, NewBot } from '../../core/store.js';
import { query, read, transaction, type Operations } from './recipe.js';
import { toUser, type Row } from './rows.js';
import { fold } from './text.js';

/** The named queries of bot accounts and their slash commands (issue 16). Counts are rows changed. */
export interface BotQueries {
  /** The new bot user row, or undefined when the username_key is taken. `scopes` is comma-separated. */
  botInsert(a: {
    id: string;
    username: string;
    usernameKey: string;
    displayName: string;
    displayNameKey: string;
    passwordHash: string;
    now: number;
    roomId: string | null;
    createdBy: string;
    scopes: string;
  }): Row | undefined;
  /** Active bots, by username_key. */
  botsAll(a: Record<string, never>): Row[];
  /** Active room bots of these rooms, by username_key. */
  botsOfRooms(a: { roomIds: readonly string[] }): Row[];
  botCommandsDelete(a: { botId: string }): number;
  botCommandInsert(a: {
    botId: string;
    name: string;
    description: string;
    argsHint: string | null;
    position: number;
  }): number;
  /** Commands of active bots that are members of the room, by name then bot id. */
  roomBotCommands(a: { roomId: string }): Row[];
}

export const bots = {
  createBot: transaction(function* (now, bot: NewBot) {
    const row = yield* query('botInsert', {
      id: bot.id,
      username: bot.username,
      usernameKey: fold(bot.username),
      displayName: bot.displayName,
      displayNameKey: fold(bot.displayName),
      passwordHash: bot.passwordHash,
      now,
      roomId: bot.bot.roomId,
      createdBy: bot.bot.createdBy,
      scopes: bot.bot.scopes.join(','),
    });
    if (!row) throw new ChatError('username_taken');
    return toUser(row);
  }),

  listBots: read(function* (_now, q: { roomIds?: readonly string[] }) {
    if (q.roomIds === undefined) return (yield* query('botsAll', {})).map(toUser);
    if (q.roomIds.length === 0) return [];
    return (yield* query('botsOfRooms', { roomIds: q.roomIds })).map(toUser);
  }),

  setBotCommands: transaction(function* (_now, botId: string, commands: readonly BotCommand[]) {
    yield* query('botCommandsDelete', { botId });
    let position = 0;
    for (const c of commands) {
      yield* query('botCommandInsert', {
        botId,
        name: c.name,
        description: c.description,
        argsHint: c.argsHint ?? null,
        position: position++,
      });
    }
  }),

  listRoomBotCommands: read(function* (_now, roomId: string) {
    return (yield* query('roomBotCommands', { roomId })).map((r) => ({
      botId: r.bot_id as string,
      name: r.name as string,
      description: r.description as string,
      ...(r.args_hint ? { argsHint: r.args_hint as string } : {}),
    }));
  }),
} satisfies Operations<BotStore>;

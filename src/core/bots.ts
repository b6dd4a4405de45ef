import type { BotCommandFrame } from '../protocol/frames.js';
import type { BotCommand, BotInfo, BotScope, PublicUser } from '../protocol/model.js';
import { BOT_SCOPES, FOREVER_MS, toProfile } from '../protocol/model.js';
import { toPublicUser, type AuthContext } from './accounts.js';
import { requirePerson, requireScope } from './bot-scopes.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import { SYSTEM_USER_ID, type DomainContext } from './context.js';
import { newId } from './ids.js';
import type { RoomService } from './rooms.js';
import type { SessionRecord, UserRecord } from './store.js';
import { hashToken, newToken } from './tokens.js';

/** Never a valid stored hash (PasswordHasher.verify refuses it): a bot has no password. Logins refuse bots anyway. */
const NO_PASSWORD = '!bot';

/** A slash command as the `commands` service lists it (with its source). */
export interface RoomBotCommand extends BotCommand {
  source: 'bot';
  botId: string;
}

export function toBotInfo(u: UserRecord): BotInfo {
  const of = u.botOf;
  if (!of) throw new Error(`user ${u.id} is not a bot`);
  return { bot: toPublicUser(u), roomId: of.roomId, createdBy: of.createdBy, scopes: of.scopes };
}

/**
 * Bot accounts (issue 16). A bot is a user whose tokens are sessions with scopes; it uses the same HTTP API and
 * WebSocket as people, within its scopes. Server admins manage server-wide bots (and any bot); a room's owners
 * manage that room's bots. Bots manage nothing.
 */
export class BotService {
  readonly commands: BotCommandService;

  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
    private readonly limits: { maxCommandsPerBot: number; managePerMinute: number },
  ) {
    this.commands = new BotCommandService(ctx);
  }

  private async limit(key: string): Promise<void> {
    const perMinute = this.limits.managePerMinute;
    const r = await this.ctx.limiter.take(key, { burst: perMinute, perSecond: perMinute / 60 });
    if (!r.ok) throw new ChatError('rate_limited', { retryAfterMs: r.retryAfterMs });
  }

  /** Throws `forbidden` unless `auth` may manage bots of `roomId` (null = server-wide). */
  private async requireManager(auth: AuthContext, roomId: string | null): Promise<void> {
    requirePerson(auth);
    if (auth.user.role === 'admin') return;
    if (roomId === null) throw new ChatError('forbidden', { message: 'Only server admins manage server-wide bots.' });
    const role = await this.ctx.store.getRole(roomId, auth.user.id);
    if (role !== 'owner') throw new ChatError('forbidden', { message: "Only the room's owners manage its bots." });
  }

  private async managedBot(auth: AuthContext, botId: string): Promise<UserRecord> {
    requirePerson(auth);
    const bot = await this.ctx.store.getUser(botId);
    if (!bot?.botOf || bot.deactivated) throw new ChatError('not_found');
    // The server's own bots (the assistant) follow its configuration; nobody rotates or deletes them by hand.
    if (bot.botOf.createdBy === SYSTEM_USER_ID) throw new ChatError('not_found');
    await this.requireManager(auth, bot.botOf.roomId);
    return bot;
  }

  /** A bot token never expires by itself: it lives until rotated or the bot is deleted. */
  private async issueToken(bot: UserRecord, scopes: BotScope[]): Promise<string> {
    const token = newToken();
    const now = this.ctx.now();
    const session: SessionRecord = {
      id: newId('s'),
      userId: bot.id,
      tokenHash: hashToken(token),
      label: 'bot token',
      createdAt: now,
      lastUsedAt: now,
      expiresAt: FOREVER_MS,
      scopes,
    };
    await this.ctx.store.createSession(session);
    return token;
  }

  async create(
    auth: AuthContext,
    input: { username: string; displayName?: string | undefined; roomId?: string | undefined; scopes: BotScope[] },
  ): Promise<{ bot: PublicUser; token: string }> {
    const roomId = input.roomId ?? null;
    await this.requireManager(auth, roomId);
    if (roomId !== null) {
      const room = await this.ctx.store.getRoom(roomId);
      if (!room) throw new ChatError('room_not_found');
      if (room.kind === 'dm') throw new ChatError('forbidden', { message: 'DMs have no bots.' });
    }
    await this.limit(`bot-create:${auth.user.id}`);
    const verdict = this.ctx.filter.check(input.username);
    if (verdict.blocked.length > 0) throw new ChatError('content_blocked');
    const displayName = this.ctx.filter.check(input.displayName ?? input.username);
    if (displayName.blocked.length > 0) throw new ChatError('content_blocked');
    // Canonical order, no duplicates: what the token may do is a set.
    const scopes = BOT_SCOPES.filter((s) => input.scopes.includes(s));
    const bot = await this.ctx.store.createBot({
      id: newId('u'),
      username: input.username,
      displayName: displayName.text,
      passwordHash: NO_PASSWORD,
      bot: { roomId, createdBy: auth.user.id, scopes },
    });
    if (roomId !== null) await this.rooms.admit(roomId, bot.id, auth.user.id);
    const token = await this.issueToken(bot, scopes);
    return { bot: toPublicUser(bot), token };
  }

  /** Every bot for a server admin; for others, the bots of the rooms they own. */
  async list(auth: AuthContext): Promise<BotInfo[]> {
    requirePerson(auth);
    if (auth.user.role === 'admin') {
      return (await this.ctx.store.listBots({})).map(toBotInfo).filter((b) => b.createdBy !== SYSTEM_USER_ID);
    }
    const owned = (await this.ctx.store.listRoomsOf(auth.user.id)).filter((r) => r.myRole === 'owner');
    return (await this.ctx.store.listBots({ roomIds: owned.map((r) => r.id) })).map(toBotInfo);
  }

  /** A new token; every old one dies at once (and its sockets close with 4003). */
  async rotate(auth: AuthContext, botId: string): Promise<{ token: string }> {
    const bot = await this.managedBot(auth, botId);
    await this.limit(`bot-create:${auth.user.id}`);
    await this.endSessions(bot.id);
    return { token: await this.issueToken(bot, bot.botOf!.scopes) };
  }

  /** Deactivates the bot: its tokens die, its sockets close, its commands go. Its messages stay. */
  async remove(auth: AuthContext, botId: string): Promise<void> {
    const bot = await this.managedBot(auth, botId);
    await this.ctx.store.setDeactivated(bot.id, true);
    await this.ctx.store.setBotCommands(bot.id, []);
    await this.endSessions(bot.id);
  }

  private async endSessions(botId: string): Promise<void> {
    const ids = await this.ctx.store.deleteSessions(botId);
    if (ids.length > 0)
      await this.ctx.bus.publish(topics.user(botId), { kind: 'revoke', userId: botId, sessionIds: ids });
  }

  /** `PUT /api/v1/bots/me/commands`: the calling bot's command list, replaced. */
  async setCommands(auth: AuthContext, commands: BotCommand[]): Promise<BotCommand[]> {
    if (!auth.user.botOf) throw new ChatError('forbidden', { message: 'Only bots register commands.' });
    requireScope(auth, 'commands');
    if (commands.length > this.limits.maxCommandsPerBot) {
      throw new ChatError('validation_failed', {
        message: `At most ${this.limits.maxCommandsPerBot} commands per bot (BOT_MAX_COMMANDS).`,
      });
    }
    await this.limit(`bot-commands:${auth.user.id}`);
    await this.ctx.store.setBotCommands(auth.user.id, commands);
    return commands;
  }
}

/**
 * Bot-registered slash commands, for the `commands` service: which a room offers, and dispatching one to its bot
 * as a `command` frame on the bot's connections (wherever they are in the cluster: the bot's user topic).
 */
export class BotCommandService {
  constructor(private readonly ctx: DomainContext) {}

  /** The commands of the bots in the room, by name (two bots may offer the same name: both are listed). */
  async list(roomId: string): Promise<RoomBotCommand[]> {
    const rows = await this.ctx.store.listRoomBotCommands(roomId);
    return rows.map((r) => ({ ...r, source: 'bot' as const }));
  }

  /**
   * Sends `/name args`, typed by `invoker` in `roomId` (the caller checked the invoker may post there), to the bot
   * offering it; `botId` picks one when several bots offer the name. Throws `unknown_command`-style `not_found`
   * when no bot in the room offers it, `bot_unavailable` when the bot has no open connection.
   */
  async dispatch(input: {
    roomId: string;
    name: string;
    args: string;
    invoker: PublicUser;
    botId?: string;
  }): Promise<{ invocationId: string; botId: string }> {
    const offered = (await this.list(input.roomId)).filter(
      (c) => c.name === input.name && (input.botId === undefined || c.botId === input.botId),
    );
    const command = offered[0];
    if (!command) throw new ChatError('not_found', { message: `No bot in this room offers /${input.name}.` });
    const status = (await this.ctx.presence.statusOf([command.botId])).get(command.botId) ?? 'offline';
    if (status === 'offline') throw new ChatError('bot_unavailable');
    const frame: BotCommandFrame = {
      type: 'command',
      invocationId: newId('i'),
      roomId: input.roomId,
      name: input.name,
      args: input.args,
      user: toProfile(input.invoker),
    };
    await this.ctx.bus.publish(topics.user(command.botId), { kind: 'command', userId: command.botId, frame });
    return { invocationId: frame.invocationId, botId: command.botId };
  }
}

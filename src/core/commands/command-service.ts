import {
  ArgsError,
  parseCommandText,
  parseDuration,
  splitArgs,
  type CommandInfo,
  type CommandResult,
} from '../../protocol/commands.js';
import {
  InviteRequest,
  SanctionRequest,
  UpdateProfileRequest,
  UpdateRoomRequest,
  SLOW_MODE_MAX_SECONDS,
} from '../../protocol/http.js';
import type { z } from 'zod';
import type { PublicUser } from '../../protocol/model.js';
import { toPublicUser, type AccountService, type AuthContext } from '../accounts.js';
import { ChatError } from '../chat-error.js';
import type { DomainContext } from '../context.js';
import { newId } from '../ids.js';
import type { MessageService } from '../messages.js';
import type { RoomModeration } from '../moderation/room-moderation.js';
import type { RoomService } from '../rooms.js';
import type { RoomAction } from '../../protocol/permissions.js';
import type { BotCommandService } from '../bots.js';
import { BUILTIN_COMMANDS, SHRUG, type BuiltinName } from './builtins.js';

/** What the slash commands need of bots (the bots service): the room's bot commands, and dispatching one. */
export type BotCommandPort = Pick<BotCommandService, 'list' | 'dispatch'>;
type BotCommand = Awaited<ReturnType<BotCommandPort['list']>>[number];

interface Invocation {
  auth: AuthContext;
  roomId: string;
  name: BuiltinName;
  args: string;
  clientMsgId: string;
}

const USAGE = new Map<string, string>(BUILTIN_COMMANDS.map((c) => [c.name, `/${c.name} ${c.argsHint}`]));

/** `command_usage` for `name`, saying what was wrong and how to write it. */
function usage(name: string, problem: string): ChatError {
  return new ChatError('command_usage', { message: `${problem}. Usage: ${USAGE.get(name) ?? `/${name}`}` });
}

/** A check against a route's own request schema; its first problem becomes a `command_usage` error. */
function check<S extends z.ZodType>(name: string, schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  throw usage(name, `${where}${issue?.message ?? 'invalid'}`);
}

/**
 * Slash commands: parses `/name args` and runs it through the same service call, with the same permission checks,
 * as the action's own route (so a command can do nothing its route would refuse, and every change rides the room
 * sequence the same way). Unknown commands are refused and never posted; `//text` posts `/text`.
 */
export class CommandService {
  private bots: BotCommandPort | undefined;

  constructor(
    private readonly ctx: DomainContext,
    private readonly deps: {
      accounts: AccountService;
      rooms: RoomService;
      messages: MessageService;
      moderation: RoomModeration;
    },
  ) {}

  /** Plugs in bot commands (the bots service), so they are listed and dispatched next to the built-ins. */
  setBotCommands(port: BotCommandPort): void {
    this.bots = port;
  }

  /** The commands of a room for the caller: built-ins, then the room's bots' commands (a built-in name wins). */
  async list(auth: AuthContext, roomId: string): Promise<CommandInfo[]> {
    await this.deps.rooms.requireReadable(auth, roomId);
    return this.listFor(roomId);
  }

  private async listFor(roomId: string): Promise<CommandInfo[]> {
    const builtins: CommandInfo[] = BUILTIN_COMMANDS.map((c) => ({ ...c, source: 'builtin' }));
    return [...builtins, ...(await this.botCommands(roomId)).map(toInfo)];
  }

  /** The room's bot commands, one per name (the first bot listed wins), none shadowing a built-in. */
  private async botCommands(roomId: string): Promise<BotCommand[]> {
    if (!this.bots) return [];
    const seen = new Set<string>(BUILTIN_COMMANDS.map((c) => c.name));
    const out: BotCommand[] = [];
    for (const c of [...(await this.bots.list(roomId))].sort((a, b) => a.name.localeCompare(b.name))) {
      if (seen.has(c.name)) continue;
      seen.add(c.name);
      out.push(c);
    }
    return out;
  }

  /** Runs composer text starting with `/`. */
  async run(auth: AuthContext, roomId: string, text: string, clientMsgId?: string): Promise<CommandResult> {
    const parsed = parseCommandText(text);
    const cmid = clientMsgId ?? `cmd:${newId('e')}`;
    if (parsed.kind === 'message') return this.post(auth, roomId, parsed.body, cmid);
    if (parsed.kind === 'invalid') {
      throw new ChatError('unknown_command', { message: `"${text.split(/\s/, 1)[0] ?? ''}" is not a command.` });
    }
    const builtin = BUILTIN_COMMANDS.find((c) => c.name === parsed.name);
    if (builtin) {
      return this.builtin({ auth, roomId, name: builtin.name, args: parsed.args, clientMsgId: cmid });
    }
    // Bot commands are only those of bots in this room, so seeing the room comes first.
    await this.deps.rooms.requireReadable(auth, roomId);
    const bot = (await this.botCommands(roomId)).find((c) => c.name === parsed.name);
    if (!bot || !this.bots) {
      throw new ChatError('unknown_command', {
        message: `/${parsed.name} is not a command in this room: /help lists them; send //${parsed.name} to post the text.`,
      });
    }
    // A person invoking a bot must be a member who may post here, like sending it a message.
    await this.deps.messages.requirePoster(auth, roomId);
    const { invocationId } = await this.bots.dispatch({
      roomId,
      name: bot.name,
      args: parsed.args,
      invoker: toPublicUser(auth.user),
      botId: bot.botId,
    });
    return { kind: 'dispatched', command: bot.name, botId: bot.botId, invocationId };
  }

  private async post(
    auth: AuthContext,
    roomId: string,
    body: string,
    clientMsgId: string,
    emote = false,
  ): Promise<CommandResult> {
    const { event, duplicate } = await this.deps.messages.send(auth, {
      roomId,
      clientMsgId,
      body,
      ...(emote ? { emote: true } : {}),
    });
    return { kind: 'message', message: event, duplicate };
  }

  private async builtin(c: Invocation): Promise<CommandResult> {
    try {
      return await this.dispatchBuiltin(c);
    } catch (e) {
      if (e instanceof ArgsError) throw usage(c.name, e.message);
      throw e;
    }
  }

  private async dispatchBuiltin(c: Invocation): Promise<CommandResult> {
    const { auth, roomId, args } = c;
    switch (c.name) {
      case 'me':
        if (!args) throw usage('me', 'Say what you do');
        return this.post(auth, roomId, args, c.clientMsgId, true);
      case 'shrug':
        return this.post(auth, roomId, args ? `${args} ${SHRUG}` : SHRUG, c.clientMsgId);
      case 'topic':
        return this.topic(c);
      case 'invite': {
        const { words, rest } = splitArgs(args, 1);
        const who = words[0]?.value;
        if (!who || rest) throw usage('invite', who ? 'Invite one user at a time' : 'Say whom to invite');
        const username = check('invite', InviteRequest, { username: stripAt(who) }).username;
        await this.deps.rooms.invite(auth, roomId, username);
        const target = await this.ctx.store.getUserByUsername(username);
        return { kind: 'done', command: 'invite', ...(target ? { target: toPublicUser(target) } : {}) };
      }
      case 'kick': {
        const { words, rest } = splitArgs(args, 1);
        const target = await this.target(c, 'kick', words[0]?.value);
        const { reason } = check('kick', SanctionRequest, { ...(rest ? { reason: rest } : {}) });
        await this.deps.moderation.kick(auth, roomId, target.id, reason ?? '');
        return { kind: 'done', command: 'kick', target };
      }
      case 'ban':
      case 'mute':
        return this.sanction(c, c.name);
      case 'slow': {
        const word = splitArgs(args, 1).words[0]?.value;
        if (!word) throw usage('slow', 'Give an interval or "off"');
        const seconds = word.toLowerCase() === 'off' ? 0 : parseDuration(word);
        if (seconds === null) throw usage('slow', `"${word}" is not an interval`);
        if (seconds > SLOW_MODE_MAX_SECONDS) throw usage('slow', `At most ${SLOW_MODE_MAX_SECONDS} seconds`);
        const room = await this.deps.rooms.update(auth, roomId, { settings: { slowModeSeconds: seconds } });
        return { kind: 'done', command: 'slow', room, durationSec: seconds };
      }
      case 'nick': {
        await this.deps.rooms.requireReadable(auth, roomId);
        const name = splitArgs(args, 0).rest;
        if (!name) throw usage('nick', 'Give a display name');
        const patch = check('nick', UpdateProfileRequest, { displayName: name });
        const user = await this.deps.accounts.updateProfile(auth, { displayName: patch.displayName ?? name });
        return { kind: 'done', command: 'nick', user };
      }
      case 'away': {
        await this.deps.rooms.requireReadable(auth, roomId);
        const text = splitArgs(args, 0).rest;
        const patch = check('away', UpdateProfileRequest, { statusText: text });
        const user = await this.deps.accounts.updateProfile(auth, { statusText: patch.statusText ?? '' });
        return { kind: 'done', command: 'away', user, away: text.length > 0 };
      }
      case 'help':
        return this.help(c);
    }
  }

  private async topic(c: Invocation): Promise<CommandResult> {
    const { rest, restQuoted } = splitArgs(c.args, 0);
    if (!rest && !restQuoted) {
      const room = await this.deps.rooms.requireReadable(c.auth, c.roomId);
      return { kind: 'ephemeral', command: 'topic', text: room.topic ? `Topic: ${room.topic}` : 'No topic is set.' };
    }
    const { topic } = check('topic', UpdateRoomRequest, { topic: rest });
    const room = await this.deps.rooms.update(c.auth, c.roomId, { topic: topic ?? rest });
    return { kind: 'done', command: 'topic', room };
  }

  private async sanction(c: Invocation, action: 'ban' | 'mute'): Promise<CommandResult> {
    const { words } = splitArgs(c.args, 2);
    const target = await this.target(c, action, words[0]?.value);
    // The second word is a duration when it reads as one; otherwise it starts the reason.
    const second = words[1];
    const duration = second && !second.quoted ? parseDuration(second.value) : null;
    const reasonText = splitArgs(c.args, duration === null ? 1 : 2);
    const opts = check(action, SanctionRequest, {
      ...(duration !== null ? { durationSec: duration } : {}),
      ...(reasonText.rest ? { reason: reasonText.rest } : {}),
    });
    const clean = {
      ...(opts.durationSec !== undefined ? { durationSec: opts.durationSec } : {}),
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    };
    if (action === 'ban') await this.deps.moderation.ban(c.auth, c.roomId, target.id, clean);
    else await this.deps.moderation.mute(c.auth, c.roomId, target.id, clean);
    return { kind: 'done', command: action, target, ...(duration !== null ? { durationSec: duration } : {}) };
  }

  /**
   * The user a moderation command names. The caller's right to the action is checked first (the same check the
   * service makes again), so someone without it learns nothing about who exists and gets `forbidden`.
   */
  private async target(c: Invocation, action: RoomAction, word: string | undefined): Promise<PublicUser> {
    await this.deps.rooms.requireAllowed(c.auth, c.roomId, action);
    if (!word) throw usage(c.name, 'Say whom');
    const username = check(c.name, InviteRequest, { username: stripAt(word) }).username;
    const user = await this.ctx.store.getUserByUsername(username);
    if (!user || user.deactivated) throw new ChatError('user_not_found', { message: `No user @${username}.` });
    return toPublicUser(user);
  }

  private async help(c: Invocation): Promise<CommandResult> {
    await this.deps.rooms.requireReadable(c.auth, c.roomId);
    const commands = await this.listFor(c.roomId);
    const want = splitArgs(c.args, 1).words[0]?.value.replace(/^\//, '').toLowerCase();
    if (want) {
      const one = commands.find((x) => x.name === want);
      if (!one) throw new ChatError('unknown_command', { message: `/${want} is not a command in this room.` });
      return { kind: 'ephemeral', command: 'help', text: helpLine(one), commands: [one] };
    }
    return { kind: 'ephemeral', command: 'help', text: commands.map(helpLine).join('\n'), commands };
  }
}

const stripAt = (w: string) => (w.startsWith('@') ? w.slice(1) : w);

function helpLine(c: CommandInfo): string {
  return `/${c.name}${c.argsHint ? ` ${c.argsHint}` : ''} — ${c.description}`;
}

function toInfo(c: BotCommand): CommandInfo {
  return {
    name: c.name,
    description: c.description,
    ...(c.argsHint ? { argsHint: c.argsHint } : {}),
    source: 'bot',
    botId: c.botId,
  };
}

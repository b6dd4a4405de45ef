import type { AckFrame, BotCommandFrame } from '../protocol/frames.js';
import type { BotCommand, Message, PublicUser } from '../protocol/model.js';
import { ChatApi } from './api.js';
import { ChatClient, type WebSocketCtor } from './chat-client.js';

/** What a handler gets besides the message or command: a way to answer in the same room. */
export interface Reply {
  /** Posts `text` in the room (acknowledged once stored; re-sent across reconnects with the same id). */
  reply(text: string): Promise<AckFrame>;
}

export type MessageHandler = (message: Message, ctx: Reply) => void | Promise<void>;
export type CommandHandler = (command: BotCommandFrame, ctx: Reply) => void | Promise<void>;

export interface BotOptions {
  /** Base URL of the server (http(s)://host:port). */
  url: string;
  /** The bot's token (`POST /api/v1/bots`, shown once). */
  token: string;
  /** In Node 20 pass `ws`'s WebSocket; browsers have their own. */
  WebSocket?: WebSocketCtor;
  /** Last seen seq per room from a previous run, to resume exactly after it (`bot.client.positions`). */
  resume?: Record<string, number>;
  /** Handler errors go here (default: console.error); the bot keeps running. */
  onError?: (err: unknown) => void;
}

/**
 * A bot over the SDK (issue 16): `onMessage`, `onMention`, `onCommand`, each with `reply`. Built on ChatClient, so
 * events arrive exactly once and in order across reconnects, and replies are idempotent sends. Messages the bot
 * itself wrote are not handed to its handlers.
 */
export class Bot {
  readonly api: ChatApi;
  readonly client: ChatClient;
  /** The bot's own user, once started. */
  me: PublicUser | undefined;
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly mentionHandlers: MessageHandler[] = [];
  private readonly commandHandlers = new Map<string, { command: BotCommand; handler: CommandHandler }>();
  private readonly onError: (err: unknown) => void;

  constructor(opts: BotOptions) {
    this.api = new ChatApi(opts.url, opts.token);
    this.client = new ChatClient({
      url: opts.url,
      token: opts.token,
      ...(opts.WebSocket ? { WebSocket: opts.WebSocket } : {}),
      ...(opts.resume ? { resume: opts.resume } : {}),
    });
    this.onError = opts.onError ?? ((err) => console.error('bot handler failed:', err));
    this.client.on('welcome', (w) => (this.me = w.user));
    this.client.on('message', (m) => this.dispatchMessage(m));
    this.client.on('command', (c) => this.dispatchCommand(c));
  }

  /** Every message in the bot's rooms from someone else. */
  onMessage(handler: MessageHandler): this {
    this.messageHandlers.push(handler);
    return this;
  }

  /** Messages that name the bot (`@username`). They reach `onMessage` handlers too. */
  onMention(handler: MessageHandler): this {
    this.mentionHandlers.push(handler);
    return this;
  }

  /**
   * A slash command `/name`: registered with the server by `start()` (scope `commands`), so people see it with its
   * description and argument hint, and sent to this bot when typed in one of its rooms.
   */
  onCommand(command: BotCommand, handler: CommandHandler): this {
    this.commandHandlers.set(command.name, { command, handler });
    return this;
  }

  /** Registers the commands (if any), then connects; resolves once the bot is online. */
  async start(): Promise<this> {
    if (this.commandHandlers.size > 0) {
      await this.api.setBotCommands([...this.commandHandlers.values()].map((c) => c.command));
    }
    const welcome = await this.client.connect();
    this.me = welcome.user;
    return this;
  }

  stop(): void {
    this.client.close();
  }

  private replyIn(roomId: string): Reply {
    return { reply: (text) => this.client.send(roomId, text) };
  }

  private run(handler: () => void | Promise<void>): void {
    try {
      void Promise.resolve(handler()).catch(this.onError);
    } catch (err) {
      this.onError(err);
    }
  }

  private dispatchMessage(message: Message): void {
    const me = this.me;
    if (!me || message.senderId === me.id) return;
    const ctx = this.replyIn(message.roomId);
    for (const h of this.messageHandlers) this.run(() => h(message, ctx));
    const mentions = (message.data as { mentions?: unknown } | null)?.mentions;
    if (Array.isArray(mentions) && mentions.includes(me.id)) {
      for (const h of this.mentionHandlers) this.run(() => h(message, ctx));
    }
  }

  private dispatchCommand(frame: BotCommandFrame): void {
    const entry = this.commandHandlers.get(frame.name);
    if (entry) this.run(() => entry.handler(frame, this.replyIn(frame.roomId)));
  }
}

/** A bot for `url` with `token`; add handlers, then `await bot.start()`. */
export function createBot(opts: BotOptions): Bot {
  return new Bot(opts);
}

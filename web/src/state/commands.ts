/**
 * Slash commands in the composer (issue 16): the room's commands for autocomplete (`GET …/commands`, kept by
 * command-lists.ts), and running `/…` text through `POST …/commands`. What a command answers only to its caller
 * (`/help`, the topic, an error) becomes a note shown above the composer, never a message; what it changes arrives as
 * room events like any other change.
 */
import { ApiError } from '../../../src/client/api.js';
import { parseCommandText, type CommandInfo, type CommandResult } from '../../../src/protocol/commands.js';
import type { PublicUser } from '../../../src/protocol/model.js';
import { t, type MsgKey } from '../i18n/index.js';
import { CommandLists } from './command-lists.js';
import { errorText } from './errors.js';
import type { People } from './people.js';
import { Slice, type StateContext } from './slice.js';

/** Shown above the composer until dismissed or the next command: text only this user sees. */
export interface CommandNote {
  tone: 'info' | 'error';
  text: string;
  /** `/help`: the commands, shown as a list. */
  commands?: CommandInfo[];
}

/** A built-in's description in the current language; a bot's as the bot wrote it. */
export function commandDescription(c: CommandInfo): string {
  if (c.source !== 'builtin') return c.description;
  const key = `commands.desc.${c.name}` as MsgKey;
  const text = t(key);
  return text === key ? c.description : text;
}

/** The `/name` being typed when the whole draft so far is one word starting with `/` (not `//`). */
export function commandPrefix(draft: string, caret: number): string | null {
  const m = /^\/([a-z0-9_-]{0,32})$/i.exec(draft.slice(0, caret));
  return m && !draft.startsWith('//') ? (m[1] ?? '').toLowerCase() : null;
}

export class Commands extends Slice {
  private readonly lists = new CommandLists((roomId) => this.ctx.api.commands(roomId));
  /** Set by `/away message`, cleared by `/away`: a visible tab then stays away instead of coming back online. */
  away = false;

  constructor(
    ctx: StateContext,
    private readonly people: People,
  ) {
    super(ctx);
  }

  /** The room's commands as last read (read now if never). */
  list(roomId: string): Promise<CommandInfo[]> {
    return this.lists.list(roomId);
  }

  /** See CommandLists.suggest: the room's commands starting with `prefix`, read again when the list `opening`. */
  suggest(roomId: string, prefix: string, opening: boolean, show: (list: CommandInfo[]) => void): void {
    this.lists.suggest(roomId, prefix, opening, show);
  }

  /**
   * Runs `/…` text. Resolves with what to show the caller (null: nothing, the room shows the effect) and whether it
   * ran (a refused command keeps the draft, so it can be fixed).
   */
  async run(roomId: string, text: string): Promise<{ ok: boolean; note: CommandNote | null }> {
    const parsed = parseCommandText(text);
    try {
      const result = await this.ctx.api.runCommand(roomId, text, `web:${crypto.randomUUID()}`);
      return { ok: true, note: this.noteFor(result) };
    } catch (err) {
      if (err instanceof ApiError && err.code === 'command_usage' && parsed.kind === 'command') {
        const info = (await this.list(roomId)).find((c) => c.name === parsed.name);
        const usage = `/${parsed.name}${info?.argsHint ? ` ${info.argsHint}` : ''}`;
        return { ok: false, note: { tone: 'error', text: t('commands.usage', { usage }) } };
      }
      if (err instanceof ApiError && err.code === 'unknown_command') {
        const name = parsed.kind === 'message' ? '' : parsed.name;
        return { ok: false, note: { tone: 'error', text: t('commands.unknown', { name }) } };
      }
      return { ok: false, note: { tone: 'error', text: errorText(err) } };
    }
  }

  private noteFor(r: CommandResult): CommandNote | null {
    switch (r.kind) {
      case 'message':
      case 'dispatched':
        return null;
      case 'ephemeral':
        if (r.command === 'help') return { tone: 'info', text: t('commands.helpTitle'), commands: r.commands ?? [] };
        if (r.command === 'topic') {
          const topic = r.text.replace(/^Topic: /, '');
          return {
            tone: 'info',
            text: r.text.startsWith('Topic: ') ? t('commands.topicIs', { topic }) : t('commands.noTopic'),
          };
        }
        return { tone: 'info', text: r.text };
      case 'done':
        if (r.user) this.knowMe(r.user);
        if (r.command === 'away') {
          this.away = r.away === true;
          this.ctx.client?.setPresence(this.away ? 'away' : 'online');
          return { tone: 'info', text: this.away ? t('commands.awayOn') : t('commands.awayOff') };
        }
        if (r.command === 'nick' && r.user)
          return { tone: 'info', text: t('commands.nickDone', { name: r.user.displayName }) };
        if (r.command === 'invite' && r.target) {
          return { tone: 'info', text: t('commands.invited', { name: r.target.displayName || r.target.username }) };
        }
        return null;
    }
  }

  private knowMe(user: PublicUser): void {
    if (this.s.me?.id === user.id) this.set({ me: user });
    this.people.knowUsers([user]);
  }
}

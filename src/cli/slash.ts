import { randomUUID } from 'node:crypto';
import type { CommandResult } from '../client/index.js';
import { JSON_OPTION, type CommandSpec } from './command.js';
import { usageError } from './errors.js';
import { clean, roomTitle } from './format.js';
import { withRetry } from './messages.js';
import { findRoom } from './rooms.js';

/**
 * Slash commands from the CLI (issue 16): `chat command <room> /…` runs one, `chat commands <room>` lists them, and
 * `chat tail` sends lines starting with `/` through the same route. The server does the parsing and the checks.
 */

/** What a command's result says, one line each (nothing for a posted message: its event shows it). */
export function resultLines(r: CommandResult): string[] {
  switch (r.kind) {
    case 'message':
      return [];
    case 'ephemeral':
      return r.text.split('\n').map((l) => `* ${clean(l)}`);
    case 'dispatched':
      return [`* /${r.command} sent to its bot`];
    case 'done': {
      const who = r.target ? ` ${r.target.username}` : '';
      if (r.command === 'away') return [r.away ? '* you are marked away' : '* you are back'];
      if (r.command === 'nick' && r.user) return [`* your display name is now ${clean(r.user.displayName)}`];
      if (r.command === 'slow') return [r.durationSec ? `* slow mode: ${r.durationSec} s` : '* slow mode off'];
      return [`* /${r.command}${who}: done`];
    }
  }
}

export const command: CommandSpec = {
  name: 'command',
  aliases: ['cmd'],
  summary: 'Run a slash command in a room (/topic, /kick, /me, /help, a bot command, ...)',
  details:
    'The words after <room> are joined with spaces into the command text, which must start with "/".\n' +
    'The server parses and checks it as it does for the web app: a command you may not use is refused\n' +
    '(forbidden), an unknown one is refused and not posted (unknown_command), wrong arguments print the\n' +
    'usage line (command_usage). Quote an argument the command reads as one word: /nick "Alice Smith";\n' +
    'give the shell its own quotes around an empty one: /topic \'""\' clears the topic.',
  args: [{ name: 'room' }, { name: 'text', variadic: true }],
  options: JSON_OPTION,
  examples: [
    'chat command general /help',
    'chat command general /topic Release on Friday',
    'chat cmd general /ban @spammer 1d "link spam"',
    'chat cmd general /me is deploying v2',
  ],
  async run(ctx, inv) {
    const text = inv.rest.join(' ');
    if (!text.startsWith('/')) throw usageError('the command text must start with "/"', 'command');
    const room = await findRoom(ctx, inv.args.room!);
    // Retried with the same clientMsgId, so a command that posts (/me, /shrug) posts once.
    const clientMsgId = `cli-${randomUUID()}`;
    const result = await withRetry(() => ctx.api().runCommand(room.id, text, clientMsgId));
    if (ctx.json) return ctx.printJson({ result });
    if (result.kind === 'message') return ctx.out(`sent #${result.message.seq} to ${roomTitle(room)}`);
    for (const line of resultLines(result)) ctx.out(line);
  },
};

export const commandList: CommandSpec = {
  name: 'commands',
  summary: "List a room's slash commands (built-in and its bots')",
  args: [{ name: 'room' }],
  options: JSON_OPTION,
  examples: ['chat commands general', 'chat commands general --json'],
  async run(ctx, inv) {
    const room = await findRoom(ctx, inv.args.room!);
    const commands = await ctx.api().commands(room.id);
    if (ctx.json) return ctx.printJson({ commands });
    for (const c of commands) {
      const bot = c.source === 'bot' ? ' [bot]' : '';
      ctx.out(`/${c.name}${c.argsHint ? ` ${c.argsHint}` : ''}${bot} — ${clean(c.description)}`);
    }
  },
};

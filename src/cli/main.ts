/**
 * `chat`: the relaychat terminal client. Entry point: finds the command, parses its options, runs it and
 * turns failures into one `error: <message> (<code>)` line and exit status 1.
 */
import { commandHelp, locateCommand, parseInvocation, wantsHelp } from './args.js';
import { GLOBAL_OPTIONS, type CommandSpec } from './command.js';
import { COMMANDS, findCommand } from './commands.js';
import { createContext, DEFAULT_SERVER } from './context.js';
import { CliError, describeError, usageError } from './errors.js';

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: chat <command> [arguments] [options]',
    '',
    'A terminal client for relaychat. Log in once; the session is saved per server.',
    '',
    'Commands:',
    ...COMMANDS.map(
      (c) => `  ${c.name.padEnd(width)}  ${c.summary}${c.aliases ? ` (alias: ${c.aliases.join(', ')})` : ''}`,
    ),
    '',
    'Global options:',
    `  --server URL  ${GLOBAL_OPTIONS.server!.description}`,
    '  -h, --help    Show help (`chat <command> --help` for a command)',
    '',
    'Environment:',
    `  CHAT_SERVER    default server (${DEFAULT_SERVER})`,
    '  CHAT_CONFIG    saved-login file (default ~/.config/relaychat/cli.json)',
    '  CHAT_PASSWORD  password for register/login/admin create, instead of a prompt',
  ].join('\n');
}

/** `chat admin` alone: the commands under it. */
function groupHelp(word: string): string | undefined {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${word} `));
  if (members.length === 0) return undefined;
  return [`Commands under "chat ${word}":`, ...members.map((c) => `  chat ${c.name}  ${c.summary}`)].join('\n');
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let server = env.CHAT_SERVER || DEFAULT_SERVER;
  try {
    const { words, rest } = locateCommand(argv, (name) => findCommand(name) !== undefined);
    const name = words.join(' ');
    if (words.length === 0 || name === 'help') {
      const topic = name === 'help' ? rest.filter((a) => !a.startsWith('-')).join(' ') : '';
      const spec = topic ? findCommand(topic) : undefined;
      if (topic && !spec) throw usageError(`unknown command "${topic}"`);
      process.stdout.write(`${spec ? commandHelp(spec) : overview()}\n`);
      // `chat`, `chat help` and `chat --help` ask for this; `chat --json` with no command is a mistake.
      const asked = name === 'help' || rest.length === 0 || rest.includes('--help') || rest.includes('-h');
      return asked ? 0 : 1;
    }
    const spec: CommandSpec | undefined = findCommand(name);
    if (!spec) {
      const group = groupHelp(name);
      if (group) {
        process.stdout.write(`${group}\n`);
        return rest.includes('--help') || rest.includes('-h') ? 0 : 1;
      }
      throw usageError(`unknown command "${name}"`);
    }
    if (wantsHelp(spec, rest)) {
      process.stdout.write(`${commandHelp(spec)}\n`);
      return 0;
    }
    const inv = parseInvocation(spec, rest);
    const ctx = createContext({ server: inv.string('server'), json: inv.flag('json'), env });
    server = ctx.server;
    const code = await spec.run(ctx, inv);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    const { message, code, stack } = describeError(err, server);
    process.stderr.write(`error: ${message} (${code})\n`);
    if (stack && !(err instanceof CliError) && env.CHAT_DEBUG) process.stderr.write(`${stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

import { parseArgs } from 'node:util';
import { GLOBAL_OPTIONS, type CommandSpec, type Invocation, type OptionSpec } from './command.js';
import { usageError } from './errors.js';

/** Global options that take a value; needed to find the command word among leading options. */
const VALUED_GLOBALS = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, o]) => o.type === 'string')
    .map(([name]) => `--${name}`),
);

export interface Located {
  /** The command words found (`[]`, `['rooms']`, `['rooms', 'search']`). */
  words: string[];
  /** Everything else, options and positionals, in order. */
  rest: string[];
}

/**
 * Finds the command words: the first positional, plus the next one if together they name a subcommand
 * (`rooms search`). Global options may come before the command (`chat --server URL rooms`).
 */
export function locateCommand(argv: readonly string[], isCommand: (name: string) => boolean): Located {
  const before: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--' || !tok.startsWith('-') || tok === '-') break;
    before.push(tok);
    if (VALUED_GLOBALS.has(tok) && i + 1 < argv.length) before.push(argv[++i]!);
  }
  const first = argv[i];
  if (first === undefined || first === '--' || first.startsWith('-'))
    return { words: [], rest: [...before, ...argv.slice(i)] };
  const second = argv[i + 1];
  if (second !== undefined && isCommand(`${first} ${second}`)) {
    return { words: [first, second], rest: [...before, ...argv.slice(i + 2)] };
  }
  return { words: [first], rest: [...before, ...argv.slice(i + 1)] };
}

function optionsOf(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...GLOBAL_OPTIONS, ...spec.options };
}

/** Parses a command's options and positionals strictly: unknown options and extra arguments are errors. */
export function parseInvocation(spec: CommandSpec, argv: string[]): Invocation {
  const options = Object.fromEntries(
    Object.entries(optionsOf(spec)).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short ? { short: o.short } : {}) },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's messages go on with advice about `--`; the first sentence is the useful part.
    throw usageError((err as Error).message.split(/\.( |$)/)[0]!, spec.name);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const inv: Invocation = {
    args: {},
    rest: [],
    string: (name) => (typeof values[name] === 'string' ? (values[name] as string) : undefined),
    flag: (name) => values[name] === true,
    int(name, min, max) {
      const raw = inv.string(name);
      if (raw === undefined) return undefined;
      const n = Number(raw);
      if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) {
        throw usageError(`--${name} must be a whole number from ${min} to ${max} (got "${raw}")`, spec.name);
      }
      return n;
    },
  };
  if (values.help) return inv; // help is answered before arguments are checked

  const specs = spec.args ?? [];
  const positionals = parsed.positionals;
  const required = specs.filter((a) => !a.optional).length;
  const variadic = specs.some((a) => a.variadic);
  if (positionals.length < required) {
    const missing = specs.filter((a) => !a.optional)[positionals.length]!;
    throw usageError(`missing <${missing.name}>`, spec.name);
  }
  if (!variadic && positionals.length > specs.length) {
    throw usageError(`unexpected argument "${positionals[specs.length]}"`, spec.name);
  }
  specs.forEach((a, idx) => {
    if (a.variadic) {
      inv.rest = positionals.slice(idx);
      inv.args[a.name] = inv.rest[0];
    } else {
      inv.args[a.name] = positionals[idx];
    }
  });
  return inv;
}

export function wantsHelp(spec: CommandSpec, argv: string[]): boolean {
  // Parse leniently: `chat send --help` must show help even though <room> is missing.
  try {
    return parseInvocation(spec, argv).flag('help');
  } catch {
    return argv.includes('--help') || argv.includes('-h');
  }
}

export function usageLine(spec: CommandSpec): string {
  const args = (spec.args ?? []).map((a) => {
    const core = `<${a.name}${a.variadic ? '...' : ''}>`;
    return a.optional ? `[${core}]` : core;
  });
  return ['chat', spec.name, ...args, '[options]'].join(' ');
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const heads = Object.entries(options).map(([name, o]) => {
    const short = o.short ? `-${o.short}, ` : '    ';
    return [`${short}--${name}${o.value ? ` ${o.value}` : ''}`, o.description] as const;
  });
  const width = Math.max(...heads.map(([h]) => h.length));
  return heads.map(([h, d]) => `  ${h.padEnd(width)}  ${d}`);
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${usageLine(spec)}`, '', spec.summary + '.'];
  if (spec.aliases?.length) lines.push(`Alias: ${spec.aliases.map((a) => `chat ${a}`).join(', ')}`);
  if (spec.details) lines.push('', spec.details);
  if (spec.options && Object.keys(spec.options).length > 0) lines.push('', 'Options:', ...optionLines(spec.options));
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS));
  lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

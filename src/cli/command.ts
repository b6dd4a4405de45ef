import type { Context } from './context.js';

/** One option of a command, as node:util parseArgs takes it plus what `--help` shows. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder for the value in help, e.g. `N` in `--limit N`. */
  value?: string;
  description: string;
}

/** A positional argument; `variadic` takes all the rest (at most one, last). */
export interface ArgSpec {
  name: string;
  optional?: boolean;
  variadic?: boolean;
}

/** A parsed command line, with typed accessors for option values. */
export interface Invocation {
  /** Positionals by name; a variadic one holds its first word here and all of them in `rest`. */
  args: Record<string, string | undefined>;
  /** The words of the variadic positional, if the command has one. */
  rest: string[];
  string(name: string): string | undefined;
  flag(name: string): boolean;
  /** An integer option within [min, max]; anything else is a usage error. */
  int(name: string, min: number, max: number): number | undefined;
}

export interface CommandSpec {
  /** One or two words: `rooms`, `rooms search`, `admin create`. */
  name: string;
  aliases?: string[];
  summary: string;
  /** Longer help: what it does, edge cases worth knowing. */
  details?: string;
  args?: ArgSpec[];
  options?: Record<string, OptionSpec>;
  examples: string[];
  /** Returns the process exit code (0 unless the command wants otherwise). */
  run(ctx: Context, inv: Invocation): Promise<number | void>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  server: {
    type: 'string',
    value: 'URL',
    description: 'Server URL (default: $CHAT_SERVER or http://localhost:3000)',
  },
  help: { type: 'boolean', short: 'h', description: 'Show help for the command' },
};

/** Added to commands that list things. */
export const JSON_OPTION: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'Print JSON instead of text' },
};

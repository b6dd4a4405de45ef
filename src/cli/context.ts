import { ChatApi } from '../client/index.js';
import { ConfigFile, configPath, type SavedLogin } from './config-file.js';
import { CliError, usageError } from './errors.js';

export const DEFAULT_SERVER = 'http://localhost:3000';

/** What every command gets: where the server is, the saved login, and where output goes. */
export interface Context {
  /** Normalized server URL; also the key of the saved login. */
  server: string;
  env: NodeJS.ProcessEnv;
  config: ConfigFile;
  json: boolean;
  /** A result line, on stdout. */
  out(line: string): void;
  /** A hint or progress note, on stderr, so stdout stays clean for pipes. */
  note(line: string): void;
  printJson(value: unknown): void;
  /** The saved login for this server, or a `not_logged_in` error. */
  login(): SavedLogin;
  /** An API client with the saved token. */
  api(): ChatApi;
  anonymousApi(): ChatApi;
}

/** `http://Host:3000/` and `http://host:3000` are the same server, and one config key. */
export function normalizeServer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`invalid server URL "${raw}" (expected e.g. http://localhost:3000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`server URL must start with http:// or https:// (got "${raw}")`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function createContext(opts: { server?: string | undefined; json: boolean; env: NodeJS.ProcessEnv }): Context {
  const server = normalizeServer(opts.server ?? (opts.env.CHAT_SERVER || DEFAULT_SERVER));
  const config = new ConfigFile(configPath(opts.env));
  const ctx: Context = {
    server,
    env: opts.env,
    config,
    json: opts.json,
    out(line) {
      process.stdout.write(`${line}\n`);
    },
    note(line) {
      process.stderr.write(`${line}\n`);
    },
    printJson(value) {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    login() {
      const saved = config.get(server);
      if (!saved) {
        throw new CliError(
          'not_logged_in',
          `not logged in to ${server}: run \`chat login <username>\` or \`chat register <username>\` first`,
        );
      }
      return saved;
    },
    api: () => new ChatApi(server, ctx.login().token),
    anonymousApi: () => new ChatApi(server),
  };
  return ctx;
}

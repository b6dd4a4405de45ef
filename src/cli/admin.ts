/**
 * `chat admin create`: the one command that talks to the data directory instead of a server, for
 * bootstrapping the first admin or recovering access. It builds the domain exactly as the server does (same
 * settings, same env vars), so it must only ever be imported lazily: everything else in the CLI needs
 * nothing but the SDK.
 */
import { join } from 'node:path';
import pino from 'pino';
import { Password, Username, type PublicUser } from '../protocol/model.js';
import { buildDomain } from '../server/app.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { CliError } from './errors.js';

export interface AdminResult {
  user: PublicUser;
  created: boolean;
  database: string;
}

function check(schema: typeof Username | typeof Password, value: string, what: string): void {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new CliError('validation_failed', `invalid ${what}: ${r.error.issues[0]?.message ?? 'invalid'}`);
}

export async function createAdmin(opts: {
  username: string;
  password: string;
  dataDir: string | undefined;
  env: NodeJS.ProcessEnv;
}): Promise<AdminResult> {
  // The HTTP API validates these for registration; going around it, the CLI must apply the same rules.
  check(Username, opts.username, 'username');
  check(Password, opts.password, 'password');
  let config;
  try {
    config = loadConfig(opts.dataDir ? ['--data-dir', opts.dataDir] : [], opts.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError('config_error', err.message);
    throw err;
  }
  const { services, ports } = buildDomain(config, {}, pino({ level: 'silent' }));
  try {
    const { user, created } = await services.accounts.createAdmin(opts.username, opts.password);
    return { user, created, database: join(config.dataDir, 'chat.db') };
  } finally {
    // Closing the store flushes pending writes; the server (if running) sees them on its next read.
    await ports.bus.close();
    await ports.presence.close();
    await ports.limiter.close();
    await ports.store.close();
  }
}

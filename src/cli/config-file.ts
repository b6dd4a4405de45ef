import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

/** What `chat login` remembers for one server. */
export interface SavedLogin {
  token: string;
  username: string;
  userId: string;
  savedAt: string;
}

interface FileShape {
  version: 1;
  /** Keyed by normalized server URL, so one file holds logins to several servers. */
  servers: Record<string, SavedLogin>;
}

/** CHAT_CONFIG wins; otherwise the XDG config dir (which defaults to ~/.config). */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.CHAT_CONFIG) return env.CHAT_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'relaychat', 'cli.json');
}

/**
 * The saved-login file. It holds bearer tokens, so it is written 0600 in a 0700 directory, and replaced
 * atomically (write a temp file, rename) so a crash never leaves half a file. Every change re-reads the file
 * first, so two CLI processes only race on the same server's entry.
 */
export class ConfigFile {
  constructor(readonly path: string) {}

  private read(): FileShape {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
      throw new CliError('config_error', `cannot read ${this.path}: ${(err as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as Partial<FileShape>;
      if (typeof parsed !== 'object' || parsed === null || typeof parsed.servers !== 'object')
        throw new Error('bad shape');
      return { version: 1, servers: parsed.servers ?? {} };
    } catch {
      throw new CliError('config_error', `${this.path} is not a relaychat CLI config file; fix or delete it`);
    }
  }

  private write(data: FileShape): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
    // A file created by an older version or by hand may be wider; tighten it every time.
    chmodSync(this.path, 0o600);
  }

  get(server: string): SavedLogin | undefined {
    return this.read().servers[server];
  }

  private update(fn: (servers: FileShape['servers']) => void): void {
    const data = this.read();
    fn(data.servers);
    this.write(data);
  }

  save(server: string, login: Omit<SavedLogin, 'savedAt'>): void {
    this.update((servers) => {
      // Read positions live on the server now (read markers); a `seen` map an older version wrote is dropped.
      servers[server] = { ...login, savedAt: new Date().toISOString() };
    });
  }

  forget(server: string): boolean {
    let had = false;
    this.update((servers) => {
      had = server in servers;
      delete servers[server];
    });
    return had;
  }
}

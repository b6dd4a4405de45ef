import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.js';

/**
 * `npm run migrate` (node dist/server/migrate.js): brings the configured store's schema up to date and exits.
 * Same settings as the server (DATABASE_URL, else DATA_DIR). Safe while nodes run or start: PostgreSQL
 * migrations hold an advisory lock, so concurrent migrators apply each version once. Servers also migrate at
 * start; this command lets a deployment do it as a separate step before rolling out nodes.
 * Exit codes: 0 done, 1 failed, 2 bad setting.
 */
let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`relaychat migrate: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

try {
  if (config.databaseUrl) {
    const { PgStore } = await import('../storage/postgres/pg-store.js');
    const store = new PgStore({ connectionString: config.databaseUrl, poolSize: 1 });
    try {
      const { applied } = await store.migrate();
      process.stdout.write(
        applied.length > 0
          ? `relaychat migrate: PostgreSQL schema migrated (applied ${applied.join(', ')})\n`
          : 'relaychat migrate: PostgreSQL schema already up to date\n',
      );
    } finally {
      await store.close();
    }
  } else {
    // The embedded store migrates when it opens.
    const { SqliteStore } = await import('../storage/sqlite/sqlite-store.js');
    const file = join(config.dataDir, 'chat.db');
    const store = new SqliteStore({ file });
    await store.close();
    process.stdout.write(`relaychat migrate: SQLite schema up to date (${file})\n`);
  }
} catch (err) {
  process.stderr.write(`relaychat migrate: failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

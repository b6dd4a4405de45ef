import type { ClientBase } from 'pg';
import { migrations as defaultMigrations, type Migration } from './migrations.js';

/**
 * Key of the session-level advisory lock that serializes migrations. Every node of a cluster may call migrate()
 * at start, all at once: the first to get the lock applies what is missing, the others wait, then find
 * everything recorded and apply nothing. (An arbitrary constant: "relaychat" folded into 63 bits.)
 */
export const MIGRATION_LOCK_KEY = 0x72656c6179636861n;

export interface MigrateResult {
  /** Versions this call applied, in order (empty when the schema was up to date). */
  applied: number[];
}

/**
 * Brings the database's schema up to date. Safe when several nodes start at once: it holds
 * `pg_advisory_lock(MIGRATION_LOCK_KEY)` for its whole duration (including the creation of `schema_migrations`),
 * and applies each missing migration in its own transaction together with its `schema_migrations` row, so a
 * migration is recorded if and only if it was applied.
 *
 * `client` must be a dedicated connection (a `pg.Client`, or a `PoolClient` the caller releases): the lock belongs
 * to the session. If the connection breaks, PostgreSQL drops the lock with the session, so a dead migrator never
 * blocks the others.
 */
export async function migrate(
  client: ClientBase,
  opts: { migrations?: readonly Migration[]; now?: () => number } = {},
): Promise<MigrateResult> {
  const list = [...(opts.migrations ?? defaultMigrations)].sort((a, b) => a.version - b.version);
  for (let i = 1; i < list.length; i++) {
    if (list[i]?.version === list[i - 1]?.version) throw new Error(`duplicate migration version ${list[i]?.version}`);
  }
  const now = opts.now ?? Date.now;
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
  try {
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at bigint NOT NULL
      )`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    const applied: number[] = [];
    for (const m of list) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        if (m.then) await m.then(client);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          now(),
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.version);
    }
    return { applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]).catch(() => {});
  }
}

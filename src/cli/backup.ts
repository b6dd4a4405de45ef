/**
 * `chat admin backup` / `chat admin restore` (issue 18): the embedded store's data directory, on the server machine.
 * Like `admin create`, this loads server code (better-sqlite3), so it is only ever imported lazily.
 *
 * A backup is a directory: `chat.db` (a consistent snapshot taken with SQLite's online backup API while the server
 * runs and writes), every other file of DATA_DIR (the file blobs under `blobs/`, and anything else kept there) and
 * `manifest.json`. The snapshot is taken first and the files copied after it, so every file the snapshot names is
 * there (blobs are content-addressed and written before the row that names them).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, loadConfig } from '../server/config.js';
import { CliError } from './errors.js';

const DB = 'chat.db';
/** Not copied: the database's own files (the snapshot replaces them) and the upload spool (partial uploads). */
const SKIP = new Set([DB, `${DB}-wal`, `${DB}-shm`, `${DB}-journal`, 'uploads-tmp']);
export const BACKUP_FORMAT = 'relaychat-backup/1';

function dataDirOf(dataDir: string | undefined, env: NodeJS.ProcessEnv): string {
  let config;
  try {
    config = loadConfig(dataDir ? ['--data-dir', dataDir] : [], env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError('config_error', err.message);
    throw err;
  }
  if (config.databaseUrl) {
    throw new CliError(
      'config_error',
      'DATABASE_URL is set: a clustered server keeps its data in PostgreSQL; back it up with pg_dump (docs/operations.md, "Backups")',
    );
  }
  return config.dataDir;
}

function schemaVersion(db: Database.Database): number {
  return (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
}

export async function backup(opts: {
  target: string;
  dataDir: string | undefined;
  env: NodeJS.ProcessEnv;
}): Promise<{ target: string; pages: number; files: number; schemaVersion: number }> {
  const dataDir = dataDirOf(opts.dataDir, opts.env);
  const source = join(dataDir, DB);
  if (!existsSync(source)) throw new CliError('not_found', `no database at ${source}`);
  const target = resolve(opts.target);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new CliError('validation_failed', `${target} exists and is not empty: give a new directory`);
  }
  mkdirSync(target, { recursive: true });
  // A connection of its own beside the server's: the backup API copies pages in steps and restarts by itself
  // when a writer changes the database meanwhile, so the result is one consistent state.
  const db = new Database(source, { fileMustExist: true });
  let pages: number;
  let version: number;
  try {
    db.pragma('busy_timeout = 10000');
    version = schemaVersion(db);
    const r = await db.backup(join(target, DB));
    pages = r.totalPages;
  } finally {
    db.close();
  }
  let files = 0;
  for (const name of readdirSync(dataDir)) {
    if (SKIP.has(name)) continue;
    cpSync(join(dataDir, name), join(target, name), { recursive: true, preserveTimestamps: true });
    files += countFiles(join(target, name));
  }
  writeFileSync(
    join(target, 'manifest.json'),
    `${JSON.stringify({ format: BACKUP_FORMAT, createdAt: new Date().toISOString(), schemaVersion: version, source: dataDir }, null, 2)}\n`,
  );
  return { target, pages, files, schemaVersion: version };
}

function countFiles(path: string): number {
  if (!statSync(path).isDirectory()) return 1;
  return readdirSync(path).reduce((n, name) => n + countFiles(join(path, name)), 0);
}

export function restore(opts: {
  source: string;
  dataDir: string | undefined;
  env: NodeJS.ProcessEnv;
  force: boolean;
}): { dataDir: string; schemaVersion: number } {
  const dataDir = dataDirOf(opts.dataDir, opts.env);
  const source = resolve(opts.source);
  if (!existsSync(join(source, 'manifest.json')) || !existsSync(join(source, DB))) {
    throw new CliError('not_found', `${source} is not a backup made by chat admin backup (no manifest.json / ${DB})`);
  }
  // The backup must be whole before anything in DATA_DIR is touched.
  const check = new Database(join(source, DB), { readonly: true, fileMustExist: true });
  let version: number;
  try {
    const verdict = check.pragma('integrity_check', { simple: true });
    if (verdict !== 'ok')
      throw new CliError('validation_failed', `the backup's database is damaged: ${String(verdict)}`);
    version = schemaVersion(check);
  } finally {
    check.close();
  }
  if (existsSync(join(dataDir, DB)) && !opts.force) {
    throw new CliError(
      'validation_failed',
      `${join(dataDir, DB)} exists: stop the server, then restore with --force to replace its data`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  for (const name of readdirSync(dataDir)) {
    if (name === 'uploads-tmp') continue;
    rmSync(join(dataDir, name), { recursive: true, force: true });
  }
  copyFileSync(join(source, DB), join(dataDir, DB));
  for (const name of readdirSync(source)) {
    if (name === DB || name === 'manifest.json') continue;
    cpSync(join(source, name), join(dataDir, name), { recursive: true, preserveTimestamps: true });
  }
  return { dataDir, schemaVersion: version };
}

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { backup } from '../../src/cli/backup.js';
import { findPostgresBin, startPostgres } from '../helpers/postgres.js';
import { startRedis, uniquePrefix } from '../helpers/redis.js';
import { registerUser, startServer, waitFor, type TestServer } from '../helpers/harness.js';

/**
 * Issue 18, backup and restore: a backup taken while messages are being sent holds every message acknowledged
 * before it began, and a fresh server started on the restored data serves them and the files. Embedded: the CLI
 * (`chat admin backup` / `restore`, SQLite online backup API). Cluster: `pg_dump` / `pg_restore` as documented in
 * docs/operations.md ("Backups"), against the harness PostgreSQL.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a program to its end (bounded); its exit code and output. */
async function run(
  command: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let code: number | null | undefined;
  child.on('exit', (c) => (code = c));
  onTestFinished(() => {
    if (code === undefined) child.kill('SIGKILL');
  });
  await waitFor(() => code !== undefined, 60_000, `${command.join(' ')} to exit`);
  return { code: code ?? null, stdout, stderr };
}

const chat = (args: string[], home: string) =>
  run([process.execPath, '--import', 'tsx', MAIN, ...args], { HOME: home });

/**
 * Senders posting to a room over HTTP until stopped (bounded by `max` each). `acked` holds the ids of the messages
 * whose send was answered, in the order answered.
 */
function sendLoad(api: ChatApi, roomId: string, senders: number, max: number) {
  const acked: string[] = [];
  let stop = false;
  const loops = Array.from({ length: senders }, async (_, s) => {
    for (let i = 0; i < max && !stop; i++) {
      const r = await api.sendMessage(roomId, `load ${s}-${i}`, `load-${s}-${i}`);
      acked.push(r.message.id);
    }
  });
  return {
    acked,
    async stop(): Promise<void> {
      stop = true;
      await Promise.all(loops);
    },
  };
}

/** Every message of the room, paging forward through history. */
async function allMessageIds(api: ChatApi, roomId: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let after = 0;
  for (let page = 0; page < 1000; page++) {
    const msgs = await api.messages(roomId, { after, limit: 100 });
    for (const m of msgs) ids.add(m.id);
    if (msgs.length === 0) return ids;
    after = msgs.at(-1)!.seq;
  }
  throw new Error('more than 1000 pages of history');
}

async function fixture(srv: TestServer) {
  await registerUser(srv.url, 'admin');
  const alice = await registerUser(srv.url, 'alice');
  const room = await alice.api.createRoom(`backup${process.pid}`, 'public');
  const file = await alice.api.upload(new Blob(['the bytes of a file kept in the backup']), 'kept.txt');
  await alice.api.sendMessage(room.id, 'with the file', 'with-file', undefined, [file.id]);
  return { alice, room, file };
}

async function expectRestored(url: string, f: Awaited<ReturnType<typeof fixture>>, before: string[]): Promise<void> {
  const api = new ChatApi(url);
  await api.login('alice', f.alice.password);
  const ids = await allMessageIds(api, f.room.id);
  const missing = before.filter((id) => !ids.has(id));
  expect(missing, `${missing.length} of ${before.length} acknowledged messages missing`).toEqual([]);
  const res = await api.downloadFile(f.file.id);
  expect(await res.text()).toBe('the bytes of a file kept in the backup');
  // The room's hash chain came through whole: every link verifies, and it covers every message restored.
  const report = await api.verifyRoom(f.room.id);
  expect([report.ok, report.firstBroken]).toEqual([true, null]);
  expect(report.checked).toBeGreaterThanOrEqual(before.length);
}

describe('backup and restore', () => {
  it('embedded: chat admin backup under send load, restore into a fresh server, every acked message there', async () => {
    const srv = await startServer();
    const f = await fixture(srv);
    const load = sendLoad(f.alice.api, f.room.id, 3, 2000);
    await waitFor(() => load.acked.length >= 60, 20_000, 'some load');
    const before = [...load.acked];
    const backupDir = join(tempDir('relaychat-backup-'), 'b');
    const home = tempDir('relaychat-home-');
    // In this process, so "before" is exactly what was acknowledged when the backup began (a child process would take
    // seconds to start, time enough for a checkpoint to carry those messages into chat.db, so even a plain file copy
    // would pass); the server keeps serving the load on the same event loop meanwhile.
    const made = await backup({ target: backupDir, dataDir: srv.dataDir, env: {} });
    // The load went on while the backup was made (and after).
    const atEnd = load.acked.length;
    await waitFor(() => load.acked.length > atEnd + 10, 20_000, 'load after the backup');
    await load.stop();
    expect(made.pages).toBeGreaterThan(0);
    expect(made.files).toBeGreaterThanOrEqual(1);
    // The CLI makes the same (the server still running).
    const viaCli = await chat(['admin', 'backup', join(backupDir, '..', 'cli'), '--data-dir', srv.dataDir], home);
    expect([viaCli.code, viaCli.stderr]).toEqual([0, '']);
    expect(viaCli.stdout).toMatch(/^backed up to .*: database schema \d+, \d+ pages, \d+ other files/);
    const refused = await chat(['admin', 'backup', join(backupDir, '..', 'cli'), '--data-dir', srv.dataDir], home);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exists and is not empty/);

    const fresh = tempDir('relaychat-restored-');
    const restored = await chat(['admin', 'restore', backupDir, '--data-dir', fresh], home);
    expect([restored.code, restored.stderr]).toEqual([0, '']);
    // A second restore over it needs --force.
    const again = await chat(['admin', 'restore', backupDir, '--data-dir', fresh], home);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists: stop the server, then restore with --force/);

    const second = await startServer({ dataDir: fresh });
    await expectRestored(second.url, f, before);
    // Not a copy of the live directory after the fact: the load's last messages are not all there.
    const ids = await allMessageIds(new ChatApi(second.url, f.alice.token), f.room.id);
    expect(load.acked.filter((id) => !ids.has(id)).length).toBeGreaterThan(0);
  });

  it(
    'cluster: pg_dump under send load, pg_restore into a new database, a server on it has every acked message',
    { timeout: 120_000 },
    async () => {
      const pg = await startPostgres();
      onTestFinished(() => pg.stop());
      const redis = await startRedis();
      onTestFinished(() => redis.stop());
      const db = await pg.createDatabase();
      const srv = await startServer({ databaseUrl: db.url, redisUrl: redis.url, redisPrefix: uniquePrefix() });
      const f = await fixture(srv);
      const load = sendLoad(f.alice.api, f.room.id, 3, 2000);
      await waitFor(() => load.acked.length >= 60, 20_000, 'some load');
      const before = [...load.acked];
      const dump = join(tempDir('relaychat-pgdump-'), 'chat.dump');
      const bin = findPostgresBin()!;
      const dumped = await run([join(bin, 'pg_dump'), '--format=custom', '--no-owner', `--file=${dump}`, db.url]);
      const atEnd = load.acked.length;
      await waitFor(() => load.acked.length > atEnd + 10, 20_000, 'load after the dump');
      await load.stop();
      expect([dumped.code, dumped.stderr]).toEqual([0, '']);
      await srv.stop();

      const target = await pg.createDatabase({ prefix: 'restored' });
      const restored = await run([
        join(bin, 'pg_restore'),
        '--no-owner',
        '--exit-on-error',
        `--dbname=${target.url}`,
        dump,
      ]);
      expect([restored.code, restored.stderr]).toEqual([0, '']);
      const second = await startServer({ databaseUrl: target.url, redisUrl: redis.url, redisPrefix: uniquePrefix() });
      await expectRestored(second.url, f, before);
    },
  );
});

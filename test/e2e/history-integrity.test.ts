import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ApiError, type ChainBreak } from '../../src/client/index.js';
import { contentHashOf, linkHashOf } from '../../src/core/chain.js';
import { GENESIS_HASH } from '../../src/protocol/chain.js';
import type { RoomEvent } from '../../src/protocol/model.js';
import { backend, connect, registerUser, startServer, waitFor, type TestServer } from '../helpers/harness.js';

/**
 * History integrity (issue 18) over the wire: hashes on events and the room, the verify routes and who may call
 * them, `chat admin verify`, and the SDK noticing a history changed behind the server's back. Rows are changed by
 * hand in the server's own database (the SQLite file, or PostgreSQL in the cluster project) while it runs.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
// A CLI process starts through tsx's loader: seconds each on a loaded machine.
const EXIT_TIMEOUT_MS = 60_000;

/** Runs SQL against the server's database. Parameters: `$1`, `$2`, … each used once, in order. */
async function tamper(t: TestServer, text: string, params: unknown[]): Promise<void> {
  if (backend === 'cluster') {
    const client = new pg.Client({ connectionString: t.config.databaseUrl });
    await client.connect();
    try {
      await client.query(text, params);
    } finally {
      await client.end();
    }
    return;
  }
  const db = new Database(join(t.dataDir, 'chat.db'));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare(text.replace(/\$\d+/g, '?')).run(...params);
  } finally {
    db.close();
  }
}

/** `chat <args>` as a child process with its own config file; resolves with its exit code and output. */
async function chat(url: string, args: string[], extraEnv: Record<string, string> = {}) {
  const home = mkdtempSync(join(tmpdir(), 'relaychat-verify-'));
  onTestFinished(() => rmSync(home, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH ?? '', HOME: home, CHAT_CONFIG: join(home, 'cli.json'), CHAT_SERVER: url };
  const run = async (a: string[], more: Record<string, string> = {}) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...a], {
      cwd: ROOT,
      env: { ...env, ...more },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let code: number | null | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (c) => (code = c));
    onTestFinished(() => {
      if (code === undefined) child.kill('SIGKILL');
    });
    await waitFor(() => code !== undefined, EXIT_TIMEOUT_MS, `chat ${a.join(' ')} to exit`);
    return { code: code ?? null, stdout, stderr };
  };
  return { run, env: { ...env, ...extraEnv } };
}

async function allEvents(api: { events(roomId: string, q: object): Promise<RoomEvent[]> }, roomId: string) {
  return api.events(roomId, { after: 0, limit: 100 });
}

describe('history integrity', () => {
  it('events carry their hash links; the room its head; the verifier finds a changed message and names it', async () => {
    const t = await startServer();
    const admin = await registerUser(t.url); // the first account: server admin
    const owner = await registerUser(t.url);
    const member = await registerUser(t.url);
    const room = await owner.api.createRoom('ledger');
    await member.api.join(room.id);
    const a = (await owner.api.sendMessage(room.id, 'one', 'c1')).message;
    const b = (await member.api.sendMessage(room.id, 'two', 'c2')).message;
    await owner.api.editMessage(room.id, a.seq, 'one, edited');
    await owner.api.deleteMessage(room.id, b.seq);

    const events = await allEvents(owner.api, room.id);
    let prev = GENESIS_HASH;
    for (const e of events) {
      expect(e.prevHash, `seq ${e.seq}`).toBe(prev);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      prev = e.hash!;
    }
    expect((await owner.api.room(room.id)).headHash).toBe(prev);

    const clean = await owner.api.verifyRoom(room.id);
    expect(clean).toMatchObject({ ok: true, lastSeq: events.length, checked: events.length, firstBroken: null });
    // Server admins too (like the audit log), members not.
    expect((await admin.api.verifyRoom(room.id)).ok).toBe(true);
    await expect(member.api.verifyRoom(room.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect((await admin.api.verifyAllRooms()).ok).toBe(true);
    await expect(owner.api.verifyAllRooms()).rejects.toBeInstanceOf(ApiError);

    await tamper(t, 'UPDATE events SET body = $1 WHERE room_id = $2 AND seq = $3', ['forged', room.id, a.seq]);
    const broken = await owner.api.verifyRoom(room.id);
    expect(broken.ok).toBe(false);
    expect(broken.firstBroken).toMatchObject({ seq: a.seq, problem: 'content' });
    const summary = await admin.api.verifyAllRooms();
    expect(summary.ok).toBe(false);
    expect(summary.broken).toEqual([
      { roomId: room.id, lastSeq: events.length, chainFrom: 1, firstBroken: broken.firstBroken },
    ]);
  });

  it(
    'chat admin verify names the first broken link and exits 1; an intact room exits 0',
    { timeout: 180_000 },
    async () => {
      const t = await startServer();
      await registerUser(t.url); // the server admin
      const owner = await registerUser(t.url);
      const room = await owner.api.createRoom('audited');
      for (let i = 0; i < 5; i++) await owner.api.sendMessage(room.id, `m${i}`, `c${i}`);
      const cli = await chat(t.url, []);
      const login = await cli.run(['login', owner.username], { CHAT_PASSWORD: owner.password });
      expect(login.code, login.stderr).toBe(0);

      const ok = await cli.run(['admin', 'verify', 'audited']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/audited: intact, 7 events checked up to seq 7/);

      await tamper(t, 'DELETE FROM events WHERE room_id = $1 AND seq = $2', [room.id, 5]);
      const bad = await cli.run(['admin', 'verify', 'audited']);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/audited: BROKEN at seq 5: missing/);
      expect(bad.stderr).toMatch(/chain_broken/);
      const json = await cli.run(['admin', 'verify', room.id, '--json']);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, firstBroken: { seq: 5, problem: 'missing' } });
    },
  );

  it('the SDK checks what it receives: nothing reported live; a row changed while it was away is reported on resume', async () => {
    const t = await startServer();
    const owner = await registerUser(t.url);
    const other = await registerUser(t.url);
    const room = await owner.api.createRoom('watched');
    await other.api.join(room.id);

    const breaks: ChainBreak[] = [];
    const seen: RoomEvent[] = [];
    const client = await connect(t.url, owner.token, {}, (c) => {
      c.on('chain.broken', (b) => breaks.push(b));
      c.on('event', (e) => seen.push(e));
    });
    const first = (await other.api.sendMessage(room.id, 'live 1', 'l1')).message;
    await other.api.editMessage(room.id, first.seq, 'live 1, edited');
    await other.api.sendMessage(room.id, 'live 2', 'l2');
    await waitFor(() => seen.length >= 3, 10_000, 'live events');
    await client.historyChecked();
    expect(breaks).toEqual([]);
    const resumeFrom = client.positions;
    client.close();

    // While the client is away: three more messages, and the middle one is rewritten in the database.
    const later = [];
    for (let i = 0; i < 3; i++) later.push((await other.api.sendMessage(room.id, `away ${i}`, `a${i}`)).message);
    await tamper(t, 'UPDATE events SET body = $1 WHERE room_id = $2 AND seq = $3', [
      'rewritten',
      room.id,
      later[1]!.seq,
    ]);

    const replayed: RoomEvent[] = [];
    const again = await connect(t.url, owner.token, { resume: resumeFrom }, (c) => {
      c.on('chain.broken', (b) => breaks.push(b));
      c.on('event', (e) => replayed.push(e));
    });
    await waitFor(() => replayed.length >= 3, 10_000, 'replay');
    await again.historyChecked();
    expect(breaks).toEqual([expect.objectContaining({ roomId: room.id, seq: later[1]!.seq, problem: 'content' })]);
  });

  it("a forger who recomputes a rewritten row's own hashes is caught at the next link, by the SDK and the verifier", async () => {
    const t = await startServer();
    const owner = await registerUser(t.url);
    const room = await owner.api.createRoom('forged');
    const breaks: ChainBreak[] = [];
    const seen: RoomEvent[] = [];
    const client = await connect(t.url, owner.token, {}, (c) => c.on('chain.broken', (b) => breaks.push(b)));
    client.on('event', (e) => seen.push(e));
    await owner.api.sendMessage(room.id, 'kept', 'k1');
    await waitFor(() => seen.length >= 1, 10_000, 'the first message');
    await client.historyChecked();
    // Kept across a restart, like positions.
    const resumeFrom = client.positions;
    const heads = client.historyHeads;
    expect(heads[room.id]).toEqual({ seq: seen[0]!.seq, hash: seen[0]!.hash });
    client.close();

    const target = (await owner.api.sendMessage(room.id, 'I owe you 10', 'k2')).message;
    const after = (await owner.api.sendMessage(room.id, 'after it', 'k3')).message;
    // The row is rewritten with hashes recomputed over the new text: the row itself is consistent again…
    const contentHash = contentHashOf('message', 'I owe you 0', null);
    const hash = linkHashOf(target.prevHash!, target, contentHash, null);
    await tamper(t, 'UPDATE events SET body = $1, content_hash = $2, hash = $3 WHERE room_id = $4 AND seq = $5', [
      'I owe you 0',
      contentHash,
      hash,
      room.id,
      target.seq,
    ]);

    const replayed: RoomEvent[] = [];
    const again = await connect(t.url, owner.token, { resume: resumeFrom, resumeHeads: heads }, (c) => {
      c.on('chain.broken', (b) => breaks.push(b));
      c.on('event', (e) => replayed.push(e));
    });
    await waitFor(() => replayed.some((e) => e.seq === after.seq), 10_000, 'replay');
    await again.historyChecked();
    expect(replayed.find((e) => e.seq === target.seq)?.body).toBe('I owe you 0');
    // …but the next event was linked to the original.
    expect(breaks).toEqual([expect.objectContaining({ roomId: room.id, seq: after.seq, problem: 'link' })]);
    expect((await owner.api.verifyRoom(room.id)).firstBroken).toMatchObject({ seq: after.seq, problem: 'link' });
  });
});

import { FOREVER_MS } from '../../src/protocol/model.js';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { connect, recordEvents, registerUser, startServer, waitFor } from '../helpers/harness.js';

/**
 * The `chat` CLI, run as a real child process against a real server. It runs from source through tsx's
 * loader, so these tests need no prior build.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const PASSWORD = 'correct horse battery';
const EXIT_TIMEOUT_MS = 20_000;

interface CliProcess {
  stdout(): string;
  stderr(): string;
  write(text: string): void;
  end(): void;
  exited(): boolean;
  code(): number | null;
}

/** A private temp dir for this test, removed afterwards. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts `chat <args>`. The environment is built from scratch (not inherited) so a developer's CHAT_* or
 * DATA_DIR settings can never leak in, and HOME points at a temp dir so nothing touches the real ~/.config.
 */
function spawnCli(
  args: string[],
  env: Record<string, string>,
  command = [process.execPath, '--import', 'tsx', MAIN, ...args],
  cwd = ROOT,
): CliProcess {
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.on('exit', () => (exited = true));
  child.stdin.on('error', () => undefined); // the CLI may exit before reading everything
  onTestFinished(() => {
    if (!exited) child.kill('SIGKILL');
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
    exited: () => exited,
    code: () => child.exitCode,
  };
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function runCli(args: string[], env: Record<string, string>, input = ''): Promise<CliResult> {
  const p = spawnCli(args, env);
  p.write(input);
  p.end();
  await waitFor(() => p.exited(), EXIT_TIMEOUT_MS, `chat ${args.join(' ')} to exit`);
  return { code: p.code(), stdout: p.stdout(), stderr: p.stderr() };
}

/** One CLI user: their own config file (saved login) against the given server. */
function cliUser(serverUrl: string) {
  const home = tempDir('relaychat-cli-');
  const env = { HOME: home, CHAT_CONFIG: join(home, 'cli.json'), CHAT_SERVER: serverUrl };
  const run = (args: string[], input?: string) => runCli(args, env, input);
  /** Runs and insists on success, showing stderr if not. */
  const ok = async (...args: string[]) => {
    const r = await run(args);
    expect(r.stderr, `chat ${args.join(' ')}`).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    return r.stdout;
  };
  return { env, configFile: env.CHAT_CONFIG, run, ok, spawn: (args: string[]) => spawnCli(args, env) };
}

function savedLogins(file: string): Record<string, { token: string; username: string }> {
  return (JSON.parse(readFileSync(file, 'utf8')) as { servers: Record<string, { token: string; username: string }> })
    .servers;
}

// Each CLI run is a fresh Node process (about half a second, several seconds on a loaded 2-core runner), and a test
// here makes up to a dozen: the bound is a hang detector sized for that, not a speed requirement.
const CLI_TEST_TIMEOUT_MS = 90_000;

describe('chat CLI: accounts', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('register and login save a token for the server (0600); logout forgets it', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);

    const reg = await alice.ok('register', 'alice', '--password', PASSWORD);
    expect(reg).toContain('registered and logged in as alice');
    const saved = savedLogins(alice.configFile)[srv.url];
    expect(saved?.username).toBe('alice');
    expect(statSync(alice.configFile).mode & 0o777).toBe(0o600);
    // The saved token really is a session: the SDK accepts it.
    expect((await new ChatApi(srv.url, saved!.token).me()).username).toBe('alice');

    expect(await alice.ok('whoami')).toMatch(/^alice on /);

    expect(await alice.ok('logout')).toContain('logged out');
    expect(savedLogins(alice.configFile)[srv.url]).toBeUndefined();
    await expect(new ChatApi(srv.url, saved!.token).me()).rejects.toMatchObject({ code: 'unauthorized' });
    const after = await alice.run(['whoami']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^error: not logged in to .* \(not_logged_in\)$/m);

    // The password may come from the environment instead of a flag.
    const login = await runCli(['login', 'alice'], { ...alice.env, CHAT_PASSWORD: PASSWORD });
    expect(login.code).toBe(0);
    expect(savedLogins(alice.configFile)[srv.url]?.token).toBeTruthy();
    expect(savedLogins(alice.configFile)[srv.url]?.token).not.toBe(saved!.token);
    expect(JSON.parse(await alice.ok('whoami', '--json'))).toMatchObject({ user: { username: 'alice' } });
  });

  it('reports errors as one line with a code and exit status 1, without stack traces', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);

    const wrong = await alice.run(['login', 'alice', '--password', 'not the password']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe('error: Wrong username or password. (invalid_credentials)');

    // A refused field says which one and why, as the server did, not only the code.
    const short = await alice.run(['register', 'al', '--password', PASSWORD]);
    expect(short.code).toBe(1);
    expect(short.stderr.trim()).toMatch(/^error: .*username: .*>=3 characters.* \(validation_failed\)$/);
    expect(short.stderr.trim().split('\n')).toHaveLength(1);

    // No flag, no env var, and stdin is a pipe, not a terminal: refuse rather than hang on a prompt.
    const noPassword = await alice.run(['login', 'alice']);
    expect(noPassword.code).toBe(1);
    expect(noPassword.stderr).toMatch(/^error: no password given .*\(no_password\)$/m);

    const unknownRoom = await alice.run(['send', 'no-such-room', 'hi']);
    expect(unknownRoom.code).toBe(1);
    expect(unknownRoom.stderr).toMatch(/^error: no room "no-such-room" among your rooms.*\(room_not_found\)$/m);

    const badOption = await alice.run(['rooms', '--bogus']);
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toMatch(/^error: Unknown option '--bogus'.*\(usage\)$/m);

    const unknownCommand = await alice.run(['fly']);
    expect(unknownCommand.code).toBe(1);
    expect(unknownCommand.stderr).toMatch(/\(usage\)$/m);

    for (const r of [wrong, noPassword, unknownRoom, badOption, unknownCommand])
      expect(r.stderr).not.toMatch(/^\s+at /m);

    const help = await alice.run(['send', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: chat send <room> <text...>');
  });
});

describe('chat CLI: the chat command', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('`chat --help` (what `npx chat --help` runs) shows the CLI help, in a checkout not built yet too', async () => {
    // A fresh checkout before `npm run build`: no dist/. The sources and installed packages are the real ones.
    const checkout = tempDir('relaychat-checkout-');
    mkdirSync(join(checkout, 'bin'));
    copyFileSync(join(ROOT, 'bin', 'chat.js'), join(checkout, 'bin', 'chat.js'));
    copyFileSync(join(ROOT, 'package.json'), join(checkout, 'package.json'));
    symlinkSync(join(ROOT, 'src'), join(checkout, 'src'));
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    // package.json's "bin" is what npx runs: bin/chat.js.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ chat: 'bin/chat.js' });
    for (const flag of ['--help', '-h']) {
      const r = spawnCli([], {}, [process.execPath, join(checkout, 'bin', 'chat.js'), flag], checkout);
      await waitFor(() => r.exited(), EXIT_TIMEOUT_MS, `chat ${flag}`);
      expect(r.stderr()).toBe('');
      expect(r.stdout()).toMatch(/^Usage: chat <command> \[arguments\] \[options\]$/m);
      expect(r.stdout()).toMatch(/^ {2}tail +Follow a room live/m);
      expect(r.code()).toBe(0);
    }
  });
});

describe('chat CLI: rooms and messages', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('creates a room, lists it, sends a message and shows it in history', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);

    expect(await alice.ok('create', 'General', '--topic', 'Anything goes')).toMatch(/created public room General \(r_/);
    const listed = JSON.parse(await alice.ok('rooms', '--json')) as { id: string; name: string }[];
    const general = listed.find((r) => r.name === 'General');
    expect(general).toBeDefined();
    expect(await alice.ok('rooms')).toMatch(/^General\s+public\s+owner\s+1\s/m);

    // Rooms are named case-insensitively.
    const sent = await alice.ok('send', 'general', 'hello', 'world');
    const seq = Number(/^sent #(\d+) to General$/m.exec(sent)?.[1]);
    expect(seq).toBeGreaterThan(0);

    const hist = await alice.ok('history', 'General');
    expect(hist).toMatch(new RegExp(`^#${seq} \\[[0-9: -]+\\] alice: hello world$`, 'm'));
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    expect((await api.messages(general!.id)).map((m) => m.body)).toEqual(['hello world']);

    // Having read it, the room has nothing new.
    expect(await alice.ok('rooms')).toMatch(/^General\s+public\s+owner\s+1\s+\d+\s+0\s/m);
  });

  it('aligns table columns by display width: CJK wide characters, combining accents', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    await alice.ok('create', '中文频道');
    await alice.ok('create', 'cafe\u0301-talk'); // "café-talk": 10 code units, 9 columns
    await alice.ok('create', 'general');
    const lines = (await alice.ok('rooms')).trimEnd().split('\n');
    expect(lines).toHaveLength(5); // header, three rooms, the lobby
    // Each CJK character takes two terminal columns, a combining accent none.
    const column = (line: string, word: string) =>
      line
        .replace(/[\u4e00-\u9fff]/gu, 'xx')
        .replace(/\u0301/gu, '')
        .search(new RegExp(`\\b${word}\\b`));
    const kinds = lines.map((l, i) => column(l, i === 0 ? 'KIND' : 'public'));
    expect(kinds.every((c) => c > 0)).toBe(true);
    expect(new Set(kinds).size, lines.join('\n')).toBe(1);
    expect(lines.find((l) => l.startsWith('中文频道'))).toMatch(/^中文频道 {3}public/); // 8 columns + 2 apart
  });

  it('join of a room that needs approval says the request was sent, and exits 0', async () => {
    const srv = await startServer();
    const bob = await registerUser(srv.url, 'bob');
    const room = await bob.api.createRoom('vip');
    await bob.api.updateRoom(room.id, { settings: { joinApproval: true } });
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const r = await alice.run(['join', 'vip']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`request sent to join vip (${room.id}): a moderator will approve it`);
    expect(r.code).toBe(0);
    // Really pending, not joined: the room's moderators see it.
    expect((await bob.api.joinRequests(room.id)).map((q) => q.user.username)).toEqual(['alice']);
    expect(await alice.ok('rooms')).not.toContain('vip');
  });

  it('pages through the public room directory', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    for (const name of ['pager-a', 'pager-b', 'pager-c']) await alice.ok('create', name);
    await alice.ok('create', 'pager-hidden', '--private');

    const firstTwo = JSON.parse(await alice.ok('rooms', 'search', 'pager', '--limit', '2', '--json')) as {
      rooms: { name: string }[];
      nextCursor: string | null;
    };
    expect(firstTwo.rooms.map((r) => r.name)).toEqual(['pager-a', 'pager-b']);
    expect(firstTwo.nextCursor).toBeTruthy();
    const rest = JSON.parse(await alice.ok('rooms', 'search', 'pager', '--cursor', firstTwo.nextCursor!, '--json')) as {
      rooms: { name: string }[];
    };
    expect(rest.rooms.map((r) => r.name)).toEqual(['pager-c']);
    expect(await alice.ok('rooms', 'search', 'pager', '--all')).toMatch(/pager-a[\s\S]*pager-b[\s\S]*pager-c/);
  });

  it('invites, accepts, lists members, joins by name and leaves', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    const bob = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    await bob.ok('register', 'bob', '--password', PASSWORD);

    await alice.ok('create', 'secret', '--private');
    await alice.ok('create', 'open-room');
    expect(await alice.ok('invite', 'secret', 'bob')).toContain('invited bob to secret');
    expect(await bob.ok('invites')).toMatch(/^secret\s+private\s+alice\s/m);
    expect(await bob.ok('accept', 'Secret')).toMatch(/^joined secret \(r_/);
    expect(await bob.ok('members', 'secret')).toMatch(/alice\s+owner[\s\S]*bob\s+member/);

    // `join` finds a public room by name in the directory, not only among my rooms.
    expect(await bob.ok('join', 'open-room')).toMatch(/^joined open-room/);
    expect(await bob.ok('leave', 'open-room')).toMatch(/^left open-room/);
    expect(await bob.ok('rooms')).not.toContain('open-room');
  });

  it('opens a DM between two users and sends to it by @username', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');

    const dmId = (await alice.ok('dm', 'bob')).trim();
    expect(dmId).toMatch(/^r_[A-Za-z0-9_-]+$/);
    expect((await alice.ok('dm', 'bob')).trim()).toBe(dmId); // found, not created again
    const bobsDm = (await bob.api.myRooms()).find((r) => r.id === dmId);
    expect(bobsDm?.kind).toBe('dm');

    expect(await alice.ok('send', '@bob', 'psst')).toMatch(/^sent #\d+ to @bob$/m);
    expect((await bob.api.messages(dmId)).map((m) => m.body)).toEqual(['psst']);
    await bob.api.sendMessage(dmId, 'hi alice', 'bob-1');
    expect(await alice.ok('history', dmId)).toMatch(/alice: psst\n.*bob: hi alice/);

    // Writing to someone with no DM yet opens it (a group too), as in any chat app; a typo still says so.
    const carol = await registerUser(srv.url, 'carol');
    expect(await alice.ok('send', '@carol', 'hello carol')).toMatch(/^sent #\d+ to @carol$/m);
    const carolsDm = (await carol.api.myRooms()).find((r) => r.kind === 'dm');
    expect((await carol.api.messages(carolsDm!.id)).map((m) => m.body)).toEqual(['hello carol']);
    // A group DM is titled by its members in the server's order (by id), so either way round.
    expect(await alice.ok('send', '@bob,carol', 'all three')).toMatch(/^sent #\d+ to @(bob,carol|carol,bob)$/m);
    const nobody = await alice.run(['send', '@nobody', 'hi']);
    expect([nobody.code, nobody.stderr]).toEqual([1, expect.stringContaining('user_not_found')]);
  });
});

describe('chat CLI: edits and deletions', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('edit replaces your text; history and tail show edited messages as edited and deleted ones as deleted', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    // Setup through the API: the CLI runs only for what is under test.
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await api.createRoom('notes')).id;
    await bob.api.join(roomId);
    const typo = (await api.sendMessage(roomId, 'helo wrold', 'a-1')).message.seq;
    const secret = (await api.sendMessage(roomId, 'the password is hunter2', 'a-2')).message.seq;
    const bobs = (await bob.api.sendMessage(roomId, 'from bob', 'bob-1')).message.seq;

    const tail = alice.spawn(['tail', 'notes', '--read-only']);
    await waitFor(() => tail.stderr().includes('* connected'), 10_000, 'tail to connect');

    expect(await alice.ok('edit', 'notes', `#${typo}`, 'hello', 'world')).toBe(`edited #${typo} in notes\n`);
    await api.deleteMessage(roomId, secret);
    // Live, in protocol order: the edit with its new text, then the deletion.
    await waitFor(() => tail.stdout().includes(`* alice deleted message #${secret}`), 5000, 'tail to show the delete');
    expect(tail.stdout()).toMatch(
      new RegExp(`^\\* alice edited message #${typo}: hello world\\n\\* alice deleted message #${secret}$`, 'm'),
    );

    // The same text again changes nothing (a safe retry); another's message and bad numbers are refused.
    expect(await alice.ok('edit', 'notes', String(typo), 'hello world')).toBe(`#${typo} already says that\n`);
    const others = await alice.run(['edit', 'notes', String(bobs), 'mine now']);
    expect([others.code, others.stderr.trim()]).toEqual([1, 'error: You may not do that. (forbidden)']);
    const deleted = await alice.run(['edit', 'notes', String(secret), 'again']);
    expect([deleted.code, deleted.stderr.trim()]).toEqual([1, 'error: That message was deleted. (message_deleted)']);
    const bad = await alice.run(['edit', 'notes', 'twelve', 'x']);
    expect([bad.code, bad.stderr]).toEqual([
      1,
      expect.stringMatching(/^error: not a message number: twelve.*\(usage\)$/m),
    ]);

    const hist = await alice.ok('history', 'notes');
    expect(hist).toMatch(new RegExp(`^#${typo} \\[[0-9: -]+\\] alice: hello world \\(edited [0-9: -]+\\)$`, 'm'));
    expect(hist).toMatch(new RegExp(`^#${secret} \\[[0-9: -]+\\] alice: \\(message deleted\\)$`, 'm'));
    expect(hist).toMatch(new RegExp(`^#${bobs} \\[[0-9: -]+\\] bob: from bob$`, 'm'));
    expect(hist).not.toContain('hunter2');
    expect((await api.messages(roomId)).find((m) => m.seq === typo)?.body).toBe('hello world');

    // A new tail shows history the same way.
    const again = alice.spawn(['tail', 'notes', '--read-only']);
    await waitFor(() => again.stderr().includes('* connected'), 10_000, 'second tail to connect');
    expect(again.stdout()).toMatch(/\] alice: hello world \(edited [0-9: -]+\)\n.*\] alice: \(message deleted\)\n/);
  });
});

describe('chat CLI: reactions', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('react and unreact by emoji or shortcode; tail prints reaction events live; history shows the counts', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    // Setup through the API: the CLI runs only for what is under test.
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await api.createRoom('party')).id;
    await bob.api.join(roomId);
    const m = (await bob.api.sendMessage(roomId, 'we shipped', 'b-1')).message.seq;
    const plain = (await bob.api.sendMessage(roomId, 'nothing here', 'b-2')).message.seq;
    await bob.api.react(roomId, m, '🎉');

    const tail = alice.spawn(['tail', 'party', '--read-only']);
    await waitFor(() => tail.stderr().includes('* connected'), 10_000, 'tail to connect');

    expect(await alice.ok('react', 'party', `#${m}`, ':thumbsup:')).toBe(`reacted 👍️ to #${m} in party\n`);
    expect(await alice.ok('react', 'party', String(m), '👍')).toBe(`you had reacted 👍️ to #${m}\n`);
    await bob.api.react(roomId, m, 'thumbsup');
    await bob.api.unreact(roomId, m, '🎉');
    // Live, in protocol order.
    await waitFor(
      () => tail.stdout().includes(`* bob removed 🎉 from message #${m}`),
      5000,
      'tail to show the removal',
    );
    expect(tail.stdout()).toMatch(
      new RegExp(
        `^\\* alice reacted 👍️ to message #${m}\\n\\* bob reacted 👍️ to message #${m}\\n\\* bob removed 🎉 from message #${m}$`,
        'm',
      ),
    );
    const bad = await alice.run(['react', 'party', String(m), 'notanemoji']);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      1,
      'error: Not an emoji: give a Unicode emoji or a shortcode such as thumbsup or :tada:. (invalid_emoji)',
    ]);

    await bob.api.react(roomId, m, '🎉');
    const hist = await alice.ok('history', 'party');
    expect(hist).toMatch(new RegExp(`^#${m} \\[[0-9: -]+\\] bob: we shipped\\n    👍️ 2  🎉 1\\n#${plain} `, 'm'));
    expect(await alice.ok('unreact', 'party', String(m), 'thumbsup')).toBe(`removed 👍️ from #${m} in party\n`);

    // A new tail shows the reactions under the message, as they stand now.
    const again = alice.spawn(['tail', 'party', '--read-only']);
    await waitFor(() => again.stderr().includes('* connected'), 10_000, 'second tail to connect');
    expect(again.stdout()).toMatch(/\] bob: we shipped\n {2}👍️ 1 {2}🎉 1\n.*\] bob: nothing here\n/);
  });
});

describe('chat CLI: read state', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it("rooms shows the server's unread count; read and history move the marker for every device", async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await bob.api.createRoom('news')).id;
    await api.join(roomId);
    const seqs: number[] = [];
    for (let i = 1; i <= 3; i++) seqs.push((await bob.api.sendMessage(roomId, `n${i}`, `n-${i}`)).message.seq);
    // Another device (the API) saw the first one.
    await api.markRead(roomId, seqs[0]!);

    expect(await alice.ok('rooms')).toMatch(/^news\s+public\s+member\s+2\s+\d+\s+2\s/m);
    expect(await alice.ok('read', 'news', `#${seqs[1]}`)).toBe(`read up to #${seqs[1]} in news\n`);
    expect(await alice.ok('read', 'news', '1')).toBe(`already read up to #${seqs[1]}\n`);
    expect((await api.myRooms()).find((r) => r.id === roomId)).toMatchObject({ readSeq: seqs[1], unread: 1 });
    const bad = await alice.run(['read', 'news', 'soon']);
    expect([bad.code, bad.stderr]).toEqual([
      1,
      expect.stringMatching(/^error: not a message number: soon.*\(usage\)$/m),
    ]);

    // Reading the history is reading: the marker moves on the server, so the web app's badge clears too.
    await alice.ok('history', 'news');
    expect((await api.myRooms()).find((r) => r.id === roomId)).toMatchObject({ readSeq: seqs[2], unread: 0 });
  });
});

describe('chat CLI: notifications', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('notify sets a room level that rooms shows; dnd on, for a while, off, and its state', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    await alice.ok('create', 'news');

    expect(await alice.ok('rooms')).toMatch(/^news\s+public\s+owner\s+1\s+\d+\s+0\s+all\s/m);
    expect(await alice.ok('notify', 'news', 'mentions')).toBe('notifications in news: mentions\n');
    expect((await api.myRooms()).find((r) => r.name === 'news')?.notify).toBe('mentions');
    expect(await alice.ok('rooms')).toMatch(/^news\s+public\s+owner\s+1\s+\d+\s+0\s+mentions\s/m);
    expect(await alice.ok('notify', 'news', 'NONE')).toBe('notifications in news: none\n');
    const bad = await alice.run(['notify', 'news', 'loud']);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringMatching(/^error: not a level: loud.*\(usage\)$/m)]);
    expect((await api.myRooms()).find((r) => r.name === 'news')?.notify).toBe('none');

    expect(await alice.ok('dnd')).toBe('do not disturb: off\n');
    expect(await alice.ok('dnd', 'on')).toBe('do not disturb: on, until you turn it off\n');
    expect((await api.settings()).dndUntil).toBe(FOREVER_MS);
    const before = Date.now();
    expect(await alice.ok('dnd', '2h')).toMatch(/^do not disturb: on until /);
    const until = (await api.settings()).dndUntil!;
    expect(until - before).toBeGreaterThanOrEqual(2 * 3_600_000 - 1000);
    expect(until - Date.now()).toBeLessThanOrEqual(2 * 3_600_000);
    expect(JSON.parse(await alice.ok('dnd', '--json'))).toEqual({ dndUntil: until });
    expect(await alice.ok('dnd', 'off')).toBe('do not disturb: off\n');
    expect((await api.settings()).dndUntil).toBeNull();
    const soon = await alice.run(['dnd', 'soon']);
    expect([soon.code, soon.stderr]).toEqual([
      1,
      expect.stringMatching(/^error: not on, off or a duration.*\(usage\)$/m),
    ]);
  });
});

describe('chat CLI: pins', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('pin, pins and unpin; tail prints them as they happen; members may not pin in a room', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await api.createRoom('ops')).id;
    await bob.api.join(roomId);
    const seq = (await bob.api.sendMessage(roomId, 'runbook: restart with systemctl', 'b-1')).message.seq;
    const tail = alice.spawn(['tail', 'ops', '--read-only']);
    await waitFor(() => tail.stderr().includes('* connected'), 10_000, 'tail to connect');

    expect(await alice.ok('pin', 'ops', `#${seq}`)).toBe(`pinned #${seq} in ops\n`);
    expect(await alice.ok('pin', 'ops', String(seq))).toBe(`#${seq} is already pinned\n`);
    const listed = await alice.ok('pins', 'ops');
    expect(listed).toMatch(
      new RegExp(`^#${seq} \\[[0-9: -]+\\] bob: runbook: restart with systemctl\n    pinned by alice `),
    );
    await expect(bob.api.pin(roomId, seq)).rejects.toMatchObject({ code: 'forbidden' });
    expect(await alice.ok('unpin', 'ops', String(seq))).toBe(`unpinned #${seq} in ops\n`);
    expect(await alice.ok('pins', 'ops')).toBe('');
    await waitFor(
      () => /\* alice pinned message #\d+\n\* alice unpinned message #\d+/.test(tail.stdout()),
      10_000,
      'tail to print the pin and the unpin',
    );
  });
});

describe('chat CLI: slash commands', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('command runs one through the route (refusals print the server code); commands lists them', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await api.createRoom('ops')).id;
    await bob.api.join(roomId);

    const listed = await alice.ok('commands', 'ops');
    expect(listed.split('\n')[0]).toBe('/me <action> — Post an action: /me waves shows as "* you waves".');
    expect(listed).toMatch(/^\/ban @user \[duration\] \[reason\] — /m);
    expect(await alice.ok('command', 'ops', '/topic', 'Release', 'on', 'Friday')).toBe('* /topic: done\n');
    expect((await api.room(roomId)).topic).toBe('Release on Friday');
    expect(await alice.ok('command', 'ops', '/me', 'ships', 'it')).toMatch(/^sent #\d+ to ops\n$/);
    expect(await alice.ok('cmd', 'ops', '/mute', '@bob', '10m')).toBe('* /mute bob: done\n');
    // Refusals: the server's code, exit status 1, nothing posted.
    const unknown = await alice.run(['command', 'ops', '/frobnicate']);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/\(unknown_command\)$/m)]);
    const usage = await alice.run(['command', 'ops', '/slow', 'soon']);
    expect(usage.stderr).toMatch(/Usage: \/slow <seconds \| 30s \| 5m \| off> \(command_usage\)$/m);
    // A plain member may not kick: forbidden, bob stays.
    const carol = cliUser(srv.url);
    await carol.ok('register', 'carol', '--password', PASSWORD);
    await carol.ok('join', 'ops');
    const kick = await carol.run(['command', 'ops', '/kick', '@bob']);
    expect([kick.code, kick.stderr]).toEqual([1, expect.stringMatching(/\(forbidden\)$/m)]);
    expect((await api.allMembers(roomId)).members.map((m) => m.user.username).sort()).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
  });

  it('tail runs lines starting with "/" as commands, sends //text as /text, and shows actions as "* alice ..."', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await api.createRoom('ops')).id;
    await api.sendMessage(roomId, 'ships it', 'a-1');
    const tail = alice.spawn(['tail', 'ops']);
    await waitFor(() => tail.stderr().includes('* connected'), 10_000, 'tail to connect');
    tail.write('/me waves from the terminal\n');
    tail.write('/kick\n');
    tail.write('/nope\n');
    tail.write('//etc is a path\n');
    tail.end();
    await waitFor(() => tail.exited(), EXIT_TIMEOUT_MS, 'tail to exit');
    expect(tail.stdout()).toMatch(/\] \* alice waves from the terminal$/m);
    expect(tail.stdout()).toMatch(/\] alice: \/etc is a path$/m);
    expect(tail.stderr()).toMatch(/^! \/kick: .*Usage: \/kick @user \[reason\] \(command_usage\)$/m);
    expect(tail.stderr()).toMatch(/^! \/nope: .*\(unknown_command\)$/m);
    const bodies = (await api.messages(roomId)).map((m) => [m.body, m.data?.emote ?? null]);
    expect(bodies).toEqual([
      ['ships it', null],
      ['waves from the terminal', true],
      ['/etc is a path', null],
    ]);
  });
});

describe('chat CLI: integrations', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it("a message posted through an incoming webhook shows the integration's name marked [app], not its creator", async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const token = savedLogins(alice.configFile)[srv.url]!.token;
    const api = new ChatApi(srv.url, token);
    const roomId = (await api.createRoom('ops')).id;
    await api.sendMessage(roomId, 'deploying now', 'a-1');
    const created = await fetch(`${srv.url}/api/v1/rooms/${roomId}/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'CI' }),
    });
    expect(created.status).toBe(201);
    const { webhook } = (await created.json()) as { webhook: { url: string } };
    const posted = await fetch(webhook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Build 1234 passed' }),
    });
    expect(posted.ok).toBe(true);

    const history = (await alice.ok('history', 'ops')).trimEnd().split('\n');
    expect(history).toEqual([
      expect.stringMatching(/^#\d+ \[[0-9: -]+\] alice: deploying now$/),
      expect.stringMatching(/^#\d+ \[[0-9: -]+\] CI \[app\]: Build 1234 passed$/),
    ]);
    expect(await alice.ok('search', 'build')).toMatch(/^ops #\d+ \[[0-9: -]+\] CI \[app\]: \*Build\* 1234 passed\n$/);
  });
});

describe('chat CLI: mentions', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('mentions lists the inbox; rooms shows unread mentions; history and tail mark mentions of me', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await bob.api.createRoom('plans')).id;
    await api.join(roomId);
    expect(await alice.ok('mentions')).toBe('');
    const tail = alice.spawn(['tail', 'plans', '--read-only']);
    await waitFor(() => tail.stderr().includes('* connected'), 10_000, 'tail to connect');

    const m1 = (await bob.api.sendMessage(roomId, '@alice can you review?', 'b-1')).message.seq;
    await bob.api.sendMessage(roomId, 'no mention here', 'b-2');
    const m3 = (await bob.api.sendMessage(roomId, 'and @ALICE once more', 'b-3')).message.seq;
    await waitFor(
      () =>
        /bob: @alice can you review\? \[@you\]\n.*bob: no mention here\n.*bob: and @ALICE once more \[@you\]/.test(
          tail.stdout(),
        ),
      10_000,
      'tail to mark the mentions',
    );
    tail.end();
    // rooms: 3 unread (the tail is read-only: it moves no marker), 2 of them mention alice.
    expect(await alice.ok('rooms')).toMatch(/^plans\s+public\s+member\s+2\s+\d+\s+3 \(@2\)\s/m);
    const inbox = (await alice.ok('mentions')).trimEnd().split('\n');
    expect(inbox).toEqual([
      expect.stringMatching(new RegExp(`^plans #${m3} \\[[0-9: -]+\\] bob: and @ALICE once more \\[@you\\]$`)),
      expect.stringMatching(new RegExp(`^plans #${m1} \\[[0-9: -]+\\] bob: @alice can you review\\? \\[@you\\]$`)),
    ]);
    const page = await alice.run(['mentions', '--limit', '1']);
    expect(page.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(page.stderr).toMatch(/Older mentions: chat mentions --before \d+/);
    const json = JSON.parse(await alice.ok('mentions', '--json')) as { message: { seq: number } }[];
    expect(json.map((i) => i.message.seq)).toEqual([m3, m1]);

    // history marks them too, and reading clears the count.
    expect(await alice.ok('history', 'plans')).toMatch(new RegExp(`^#${m1} .*review\\? \\[@you\\]$`, 'm'));
    expect(await alice.ok('rooms')).toMatch(/^plans\s+public\s+member\s+2\s+\d+\s+0\s/m);
  });
});

describe('chat CLI: search', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('search prints matches with their room, seq, author and highlighted snippet; filters, pages and --json', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    const ops = await bob.api.createRoom('ops');
    const secret = await bob.api.createRoom('secret', 'private');
    await new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token).join(ops.id);
    const m1 = (await bob.api.sendMessage(ops.id, '今晚迁移数据库，请勿部署', 'b-1')).message.seq;
    const m2 = (await bob.api.sendMessage(ops.id, 'Deployment of the 数据库 proxy is done', 'b-2')).message.seq;
    await bob.api.sendMessage(secret.id, '数据库 password rotation', 'b-3');
    await alice.ok('send', 'ops', 'who owns the deploy script?');

    const out = (await alice.ok('search', '数据库')).trimEnd().split('\n');
    expect(out).toEqual([
      expect.stringMatching(
        new RegExp(`^ops #${m2} \\[[0-9: -]+\\] bob: Deployment of the \\*数据库\\* proxy is done$`),
      ),
      expect.stringMatching(new RegExp(`^ops #${m1} \\[[0-9: -]+\\] bob: 今晚迁移\\*数据库\\*，请勿部署$`)),
    ]);
    // Two words: both must match; --from narrows to an author; --room takes a room name.
    expect(await alice.ok('search', 'deploy', '数据')).toMatch(
      /^ops #\d+ .* bob: \*Deploy\*ment of the \*数据\*库 proxy is done\n$/,
    );
    expect(await alice.ok('search', 'deploy', '--from', 'alice', '--room', 'ops')).toMatch(
      /alice: who owns the \*deploy\* script\?\n$/,
    );
    const page = await alice.run(['search', '数据库', '--limit', '1']);
    expect(page.stdout.trimEnd().split('\n')).toHaveLength(1);
    const cursor = /More: add --cursor (\S+)/.exec(page.stderr)?.[1];
    expect(cursor).toBeTruthy();
    expect(await alice.ok('search', '数据库', '--limit', '1', '--cursor', cursor!)).toContain(`#${m1} `);
    const json = JSON.parse(await alice.ok('search', '迁移', '--json')) as {
      results: { message: { seq: number }; snippet: string }[];
      nextCursor: string | null;
    };
    expect(json.results.map((r) => r.message.seq)).toEqual([m1]);
    expect(json.results[0]!.snippet).toBe('今晚\u{e000}迁移\u{e001}数据库，请勿部署');
    expect(json.nextCursor).toBeNull();
    expect(await alice.ok('search', 'nothingmatchesthis')).toBe('');
    const bad = await alice.run(['search', 'x', '--after', 'last-week']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/validation_failed|after/);
  });
});

describe('chat CLI: replies and threads', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('reply quotes a message (in the room or --thread only); thread lists it; history and tail show quotes and counts', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    // Setup through the API: the CLI runs only for what is under test.
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await api.createRoom('plans')).id;
    await bob.api.join(roomId);
    const root = (await bob.api.sendMessage(roomId, 'Meeting today?', 'b-1')).message.seq;

    const tail = alice.spawn(['tail', 'plans', '--read-only']);
    await waitFor(() => tail.stderr().includes('* connected'), 10_000, 'tail to connect');

    expect(await alice.ok('reply', 'plans', `#${root}`, 'yes,', 'at 3')).toBe(
      `sent #${root + 1} to plans (reply to #${root})\n`,
    );
    expect(await alice.ok('reply', 'plans', String(root + 1), '--thread', 'room B')).toBe(
      `sent #${root + 2} to plans (thread #${root} only)\n`,
    );
    // Live in tail: each reply under the line quoting what it answers.
    await waitFor(() => tail.stdout().includes('alice: room B'), 5000, 'tail to show the thread reply');
    expect(tail.stdout()).toMatch(
      new RegExp(
        `^  ↪ reply to #${root} bob: Meeting today\\?\\n\\[[0-9: -]+\\] alice: yes, at 3\\n` +
          `  ↪ thread reply to #${root + 1} in thread #${root} alice: yes, at 3\\n\\[[0-9: -]+\\] alice: room B$`,
        'm',
      ),
    );

    const hist = await alice.ok('history', 'plans');
    expect(hist).toMatch(
      new RegExp(`^#${root} \\[[0-9: -]+\\] bob: Meeting today\\? \\[2 replies, last [0-9: -]+\\]$`, 'm'),
    );
    expect(hist).toMatch(new RegExp(`^  ↪ reply to #${root} bob: Meeting today\\?\\n#${root + 1} `, 'm'));
    const thread = await alice.ok('thread', 'plans', String(root + 2)); // a reply's seq: its root's thread
    expect(thread.split('\n')[0]).toMatch(new RegExp(`^#${root} \\[[0-9: -]+\\] bob: Meeting today\\? \\[2 replies`));
    expect(thread).toContain(`#${root + 1} `);
    expect(thread).toMatch(new RegExp(`#${root + 2} \\[[0-9: -]+\\] alice: room B$`, 'm'));

    // A deleted target: the reply is refused, and quotes of it read (message deleted).
    await bob.api.deleteMessage(roomId, root);
    const refused = await alice.run(['reply', 'plans', String(root), 'too late']);
    expect([refused.code, refused.stderr.trim()]).toEqual([1, 'error: That message was deleted. (message_deleted)']);
    expect(await alice.ok('history', 'plans')).toMatch(
      new RegExp(`^  ↪ reply to #${root} bob: \\(message deleted\\)\\n#${root + 1} `, 'm'),
    );
  });
});

describe('chat CLI: blocks', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('block, blocks, unblock; history and tail collapse a blocked user unless --show-blocked; chat send @bob is refused', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    await bob.api.updateProfile({ displayName: 'Bob B' });
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await api.createRoom('town')).id;
    await bob.api.join(roomId);
    await bob.api.sendMessage(roomId, 'before the block', 'b-1');

    expect(await alice.ok('block', '@bob')).toBe('blocked bob (Bob B)\n');
    expect(await alice.ok('block', 'BOB')).toBe('bob (Bob B) was already blocked\n');
    expect(await alice.ok('blocks')).toMatch(/^bob \(Bob B\) {2}since [0-9: -]+\n$/);
    const self = await alice.run(['block', 'alice']);
    expect([self.code, self.stderr]).toEqual([1, expect.stringContaining('(cannot_block_self)')]);
    const nobody = await alice.run(['block', 'nobody']);
    expect(nobody.stderr).toContain('(user_not_found)');

    // In the shared room: collapsed, unless asked; live in tail too.
    const hist = await alice.ok('history', 'town');
    expect(hist).toMatch(/#\d+ \[[0-9: -]+\] \[blocked\]\n/);
    expect(hist).not.toContain('before the block');
    expect(await alice.ok('history', 'town', '--show-blocked')).toContain('bob: before the block');
    const tail = alice.spawn(['tail', 'town', '--read-only']);
    await waitFor(() => tail.stderr().includes('* connected'), 10_000, 'tail to connect');
    await bob.api.sendMessage(roomId, 'while blocked', 'b-2');
    await api.sendMessage(roomId, 'marker from alice', 'a-1');
    await waitFor(() => tail.stdout().includes('alice: marker from alice'), 10_000, 'the marker in tail');
    expect(tail.stdout()).not.toContain('while blocked');
    expect(tail.stdout().match(/\[blocked\]/g)).toHaveLength(2);

    // No DM either way: chat send @bob (which opens one) says why.
    const dm = await alice.run(['send', '@bob', 'hi']);
    expect([dm.code, dm.stderr]).toEqual([1, expect.stringContaining('(dm_unavailable)')]);
    await expect(bob.api.openDm('alice')).rejects.toMatchObject({ code: 'dm_unavailable' });

    expect(await alice.ok('unblock', 'bob')).toBe('unblocked bob (Bob B)\n');
    expect(await alice.ok('unblock', 'bob')).toBe('bob (Bob B) was not blocked\n');
    expect(await alice.ok('blocks')).toBe('');
    // The running tail heard the unblock: bob's next message prints whole.
    await bob.api.sendMessage(roomId, 'after the unblock', 'b-3');
    await waitFor(() => tail.stdout().includes('bob: after the unblock'), 10_000, 'bob in tail after the unblock');
    expect(await alice.ok('send', '@bob', 'hi again')).toMatch(/^sent #\d+ to @bob\n$/);
  });
});

describe('chat CLI: tail', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('prints history and live messages, and sends piped lines through the WebSocket', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const bob = await registerUser(srv.url, 'bob');
    const room = await bob.api.createRoom('ops');
    await alice.ok('join', 'ops');
    await alice.ok('send', 'ops', 'before tail');
    const bobClient = await connect(srv.url, bob.token);
    const seenByBob = recordEvents(bobClient);

    const tail = alice.spawn(['tail', 'ops']);
    await waitFor(() => tail.stderr().includes('* connected'), 10_000, 'tail to connect');
    expect(tail.stdout()).toMatch(/\] alice: before tail$/m);

    // A message from someone else appears live.
    await bobClient.send(room.id, 'deploy finished');
    await waitFor(() => /\] bob: deploy finished$/m.test(tail.stdout()), 5000, 'tail to print bob');

    // Lines on stdin are sent; bob receives them in order.
    tail.write('thanks bob\n');
    tail.write('rolling back anyway\n');
    await waitFor(
      () => seenByBob.bodies(room.id).includes('rolling back anyway'),
      5000,
      'bob to receive the piped lines',
    );
    expect(seenByBob.bodies(room.id)).toEqual(['deploy finished', 'thanks bob', 'rolling back anyway']);

    // End of stdin: pending sends are acknowledged, then it exits cleanly.
    tail.end();
    await waitFor(() => tail.exited(), EXIT_TIMEOUT_MS, 'tail to exit after stdin ends');
    expect(tail.code()).toBe(0);
    expect(tail.stderr()).not.toMatch(/^(error|!)/m);
  });

  it('a muted member is told once, by send and by tail in a terminal', async () => {
    const srv = await startServer();
    const bob = await registerUser(srv.url, 'bob'); // the first account (server admin): cannot be muted
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const room = await bob.api.createRoom('ops');
    await alice.ok('join', 'ops');
    await bob.api.mute(room.id, (await bob.api.searchUsers('alice'))[0]!.id, { durationSec: 3600 });

    const sent = await alice.run(['send', 'ops', 'let me talk']);
    expect(sent.code).toBe(1);
    expect(sent.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: .*\(muted\)$/)]);

    // In a terminal `tail` sends typing hints as keys are pressed; the server refuses those too (muted).
    // util-linux `script` gives the CLI a pseudo-terminal.
    const cmd = [process.execPath, '--import', 'tsx', MAIN, 'tail', 'ops'].map((a) => `'${a}'`).join(' ');
    const tty = spawnCli([], alice.env, ['script', '-qfec', cmd, '/dev/null']);
    await waitFor(() => tty.stdout().includes('* connected'), 10_000, 'tail to connect');
    // Keys, then Enter: the typing hint goes out before the line, on the same socket, so its refusal comes first.
    tty.write('still muted?');
    tty.write('\r');
    await waitFor(() => tty.stdout().includes('not sent'), 10_000, 'the refusal');
    tty.write('/quit\r');
    await waitFor(() => tty.exited(), EXIT_TIMEOUT_MS, 'tail to exit');
    // A marker after the refusal: everything the CLI had to say about it is out.
    const told = tty
      .stdout()
      .split(/\r?\n/)
      .filter((l) => /muted in this room/.test(l));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/! not sent: "still muted\?": .*\(muted\)/);
  });

  it('after a kick, tail prints the removal event, then that you were removed, in that order, and exits 1', async () => {
    const srv = await startServer();
    const bob = await registerUser(srv.url, 'bob');
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    const room = await bob.api.createRoom('ops');
    await alice.ok('join', 'ops');
    // One terminal for both streams (util-linux `script`), so the order of content and status lines is kept.
    const cmd = [process.execPath, '--import', 'tsx', MAIN, 'tail', 'ops', '--read-only']
      .map((a) => `'${a}'`)
      .join(' ');
    const tty = spawnCli([], alice.env, ['script', '-qfec', cmd, '/dev/null']);
    await waitFor(() => tty.stdout().includes('* connected'), 10_000, 'tail to connect');
    const aliceId = (await bob.api.searchUsers('alice'))[0]!.id;
    await bob.api.kick(room.id, aliceId);
    await waitFor(() => tty.exited(), EXIT_TIMEOUT_MS, 'tail to exit after the kick');
    expect(tty.code()).toBe(1);
    const lines = tty
      .stdout()
      .split(/\r?\n/)
      .filter((l) => l.startsWith('* '));
    const removedEvent = lines.findIndex((l) => l === '* alice was removed by bob');
    const youWereRemoved = lines.findIndex((l) => l === '* you were removed from ops');
    expect(removedEvent).toBeGreaterThan(-1);
    expect(youWereRemoved).toBe(removedEvent + 1);
  });

  it('sends everything piped in even when stdin ends at once', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    await alice.ok('create', 'notes');
    const r = await alice.run(['open', 'notes'], 'one\ntwo\n/help\nthree\n');
    expect(r.code).toBe(0);
    // Before exiting it waits for the acks, and for its own messages to come back, so the transcript is whole.
    expect(r.stdout).toMatch(/\] alice: one\n.*\] alice: two\n.*\] alice: three\n$/);
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const roomId = (await api.myRooms()).find((x) => x.name === 'notes')!.id;
    expect((await api.messages(roomId)).map((m) => m.body)).toEqual(['one', 'two', 'three']);
  });
});

describe('chat CLI: admin create', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('creates the first admin in a fresh data directory before the server starts', async () => {
    const dataDir = tempDir('relaychat-admin-');
    const admin = await runCli(['admin', 'create', 'root', '--password', PASSWORD], {
      HOME: dataDir,
      DATA_DIR: dataDir,
      SCRYPT_LOG2N: '10', // cheap hashing for the test; the hash records its own cost
    });
    expect(admin.stderr).toBe('');
    expect(admin.stdout).toMatch(/^created server admin root \(u_/);

    const srv = await startServer({ dataDir });
    const root = cliUser(srv.url);
    await root.ok('login', 'root', '--password', PASSWORD);
    expect(JSON.parse(await root.ok('whoami', '--json'))).toMatchObject({ user: { username: 'root', role: 'admin' } });
  });

  it('promotes an existing user while the server is running', async () => {
    const srv = await startServer();
    await registerUser(srv.url, 'first'); // the first account is admin by default; carol is not
    const carol = await registerUser(srv.url, 'carol');
    expect(carol.user.role).toBe('user');

    const promoted = await runCli(['admin', 'create', 'carol', '--data-dir', srv.dataDir], {
      HOME: srv.dataDir,
      CHAT_PASSWORD: 'a brand new password',
      SCRYPT_LOG2N: '10',
    });
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toContain('carol');
    expect(promoted.stdout).toContain('is now a server admin');

    const cli = cliUser(srv.url);
    await cli.ok('login', 'carol', '--password', 'a brand new password');
    const token = savedLogins(cli.configFile)[srv.url]!.token;
    expect(await new ChatApi(srv.url, token).me()).toMatchObject({ username: 'carol', role: 'admin' });
  });
});

describe('chat CLI: files', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('upload sends a file as a message; history lists it; download saves it whole', async () => {
    const srv = await startServer();
    const alice = cliUser(srv.url);
    const bob = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    await bob.ok('register', 'bob', '--password', PASSWORD);
    await alice.ok('create', 'Files', '--private');
    await alice.ok('invite', 'Files', 'bob');
    await bob.ok('accept', 'Files');

    const dir = tempDir('relaychat-cli-files-');
    // Bytes that are no known type whatever the name says, with every byte value, so nothing is text-mangled.
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + 7) % 256));
    const src = join(dir, 'report.png');
    writeFileSync(src, bytes);
    const up = await alice.ok('upload', 'Files', src, '--message', 'the numbers');
    const m = /^uploaded report\.png \(application\/octet-stream, 293\.0 KiB\) as (f_\S+); sent #(\d+) to Files$/m.exec(
      up,
    );
    expect(m, up).not.toBeNull();
    const fileId = m![1]!;
    const hist = await bob.ok('history', 'Files');
    expect(hist).toMatch(new RegExp(`^#${m![2]} \\[[0-9: -]+\\] alice: the numbers$`, 'm'));
    expect(hist).toContain(`[file] report.png (application/octet-stream, 293.0 KiB) ${fileId}`);

    // Bob downloads into a directory (the file's own name) and to a path; a second time needs --force.
    const out = join(dir, 'out');
    mkdirSync(out);
    expect(await bob.ok('download', fileId, '-o', out)).toMatch(/^saved report\.png .* to .*out\/report\.png$/m);
    expect(readFileSync(join(out, 'report.png')).equals(bytes)).toBe(true);
    const again = await bob.run(['download', fileId, '-o', out]);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/exists; use --force.*\(exists\)/)]);
    await bob.ok('download', fileId, '-o', join(out, 'copy.bin'));
    expect(readFileSync(join(out, 'copy.bin')).equals(bytes)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['copy.bin', 'report.png']); // no .part files left
  });

  it('an image upload without text; over MAX_UPLOAD_BYTES: file_too_large; a non-member cannot download', async () => {
    const srv = await startServer({ maxUploadBytes: 10_000 });
    const alice = cliUser(srv.url);
    const carol = cliUser(srv.url);
    await alice.ok('register', 'alice', '--password', PASSWORD);
    await carol.ok('register', 'carol', '--password', PASSWORD);
    await alice.ok('create', 'Big', '--private');
    const dir = tempDir('relaychat-cli-files-');
    const png = join(dir, 'dot.png');
    writeFileSync(png, Buffer.from(PNG_1X1, 'base64'));
    const up = await alice.ok('upload', 'Big', png);
    const fileId = /^uploaded dot\.png \(image\/png, \d+ B\) as (f_\S+); sent #\d+/m.exec(up)?.[1];
    expect(fileId, up).toBeDefined();
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(50_000, 1));
    const r = await alice.run(['upload', 'Big', join(dir, 'big.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*\(file_too_large\)$/m);
    const api = new ChatApi(srv.url, savedLogins(alice.configFile)[srv.url]!.token);
    const room = (await api.myRooms()).find((x) => x.name === 'Big')!;
    expect((await api.messages(room.id)).map((m) => m.attachments?.[0]?.id)).toEqual([fileId]);
    const missing = await alice.run(['upload', 'Big', join(dir, 'nope.bin')]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/not a file.*\(usage\)/)]);
    // Carol is not in the room: the file does not exist for her, and nothing is written.
    const denied = await carol.run(['download', fileId!, '-o', join(dir, 'carol.bin')]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/\(not_found\)$/m);
    expect(readdirSync(dir).sort()).toEqual(['big.bin', 'dot.png']);
  });
});

/** A 1×1 transparent PNG. */
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

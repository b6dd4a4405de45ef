import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ChatError } from '../../src/core/chat-error.js';
import { connect, registerUser, startServer, waitFor } from '../helpers/harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLE = 'docs/examples/echo-bot.ts';

/** The code block the integrations guide shows under `<!-- example: path -->`. */
function docExample(path: string): string {
  const doc = readFileSync(join(ROOT, 'docs/integrations.md'), 'utf8');
  const at = doc.indexOf(`<!-- example: ${path} -->`);
  if (at < 0) throw new Error(`docs/integrations.md shows no ${path}`);
  const m = /```ts\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!m) throw new Error(`no ts block after the ${path} marker`);
  return m[1]!;
}

/** The example bot of docs/integrations.md ("Bots"), run as its own process against a real server. */
describe('the example bot of the integrations guide', () => {
  it('is the file the test runs, verbatim', () => {
    expect(docExample(EXAMPLE)).toBe(readFileSync(join(ROOT, EXAMPLE), 'utf8'));
  });

  it(
    'answers ping, greets on a mention, runs /roll, and is unavailable once stopped',
    { timeout: 60_000 },
    async () => {
      const t = await startServer();
      await registerUser(t.url); // the first user, a server admin
      const owner = await registerUser(t.url);
      const room = await owner.api.createRoom(`examples${process.pid}`, 'public');
      const { bot, token } = await owner.api.createBot({
        username: `echo${process.pid}`,
        roomId: room.id,
        scopes: ['read', 'post', 'commands'],
      });

      const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), [EXAMPLE], {
        cwd: ROOT,
        env: { ...process.env, RELAYCHAT_URL: t.url, BOT_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      onTestFinished(() => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      await waitFor(() => out.includes(`${bot.username} is online`), 30_000, `the bot to start (output: ${out})`);

      const person = await connect(t.url, owner.token);
      const bodies = async () => (await owner.api.messages(room.id)).map((m) => ({ from: m.senderId, body: m.body }));

      await person.send(room.id, 'ping');
      await waitFor(async () => (await bodies()).some((m) => m.from === bot.id && m.body === 'pong'), 10_000, 'pong');

      await person.send(room.id, `@${bot.username} hi there`);
      const greeting = `Hello @${owner.username}! I answer "ping" and /roll.`;
      await waitFor(async () => (await bodies()).some((m) => m.body === greeting), 10_000, 'the greeting');
      // A mention is also a message: it got no "pong", and the bot answered each message once.
      expect((await bodies()).filter((m) => m.from === bot.id).map((m) => m.body)).toEqual(['pong', greeting]);

      // The bot registered /roll on start; the commands service lists it for the room and dispatches it.
      const commands = t.server.services.bots.commands;
      expect(await commands.list(room.id)).toEqual([
        { botId: bot.id, name: 'roll', description: 'Roll a die', argsHint: '[sides]', source: 'bot' },
      ]);
      await commands.dispatch({ roomId: room.id, name: 'roll', args: '20', invoker: owner.user });
      const rolled = await waitFor(
        async () => (await bodies()).find((m) => m.from === bot.id && m.body.includes('rolled')),
        10_000,
        'the roll',
      );
      if (!rolled) throw new Error('unreachable: waitFor returns a found message');
      expect(rolled.body).toMatch(new RegExp(`^${owner.user.displayName} rolled (\\d+) \\(1–20\\)$`));
      const n = Number(/rolled (\d+)/.exec(rolled.body)![1]);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(20);
      await expect(commands.dispatch({ roomId: room.id, name: 'nope', args: '', invoker: owner.user })).rejects.toThrow(
        ChatError,
      );

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await waitFor(
        () =>
          commands.dispatch({ roomId: room.id, name: 'roll', args: '', invoker: owner.user }).then(
            () => false,
            (err: unknown) => err instanceof ChatError && err.code === 'bot_unavailable',
          ),
        10_000,
        'bot_unavailable once the bot is gone',
      );
    },
  );
});

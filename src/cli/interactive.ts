import { randomUUID } from 'node:crypto';
import { createInterface, type Interface } from 'node:readline';
import { WebSocket } from 'ws';
import { ChatClient, SendError, type WebSocketCtor } from '../client/index.js';
import type { CommandSpec } from './command.js';
import type { Context } from './context.js';
import { CliError, describeError } from './errors.js';
import { resultLines } from './slash.js';
import { clean, roomTitle } from './format.js';
import { collapsedLine, formatMessage, markReadQuietly, namedUsers } from './messages.js';
import { blockedIds } from './blocks.js';
import { UserNames } from './resolve.js';
import { findRoom } from './rooms.js';
import { isRevoked, listen, renderer, Screen, type Session } from './tail-view.js';

/**
 * `chat tail`: a live session in one room. It shows recent history, resumes the WebSocket exactly after it
 * (so nothing falls in between), and sends typed or piped lines through the client's outbox.
 */

/** How long `connect` may take; ChatClient itself retries forever, which suits a long session, not startup. */
const CONNECT_TIMEOUT_MS = 15_000;
/** A send still unacknowledged after this long is reported as failed (it stays safe to send again). */
const SEND_TIMEOUT_MS = 30_000;
/** Typing notices go out at most this often while keys are pressed. */
const TYPING_EVERY_MS = 3_000;
/** On exit, how long to wait for my last sent messages to come back as events. */
const ECHO_WAIT_MS = 2_000;

/** Polls `check` until true or `ms` pass. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const HELP = [
  'Type a line and press Enter to send it.',
  '  /who    members and who is online',
  '  /quit   leave (also Ctrl-D); unsent messages are waited for',
  '  //text  send a line that starts with "/"',
  "Other /commands run in the room (the server's list follows):",
];

async function connectBounded(client: ChatClient): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let refusal: { code: number; reason: string } | undefined;
  const off = client.on('disconnect', (d) => {
    if (!d.willReconnect) refusal = d;
  });
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new CliError('network_error', `no WebSocket connection within ${CONNECT_TIMEOUT_MS / 1000} s`)),
          CONNECT_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (err) {
    client.close();
    if (err instanceof CliError) throw err;
    if (refusal && isRevoked(refusal.code)) {
      throw new CliError('unauthorized', 'the server refused the saved session; log in again: chat login <username>');
    }
    throw new CliError(
      'connection_refused',
      `the server closed the connection: ${refusal?.reason || (err as Error).message}`,
    );
  } finally {
    off();
    clearTimeout(timer);
  }
}

async function runTail(
  ctx: Context,
  arg: string,
  opts: { lines: number; readOnly: boolean; showBlocked: boolean },
): Promise<number> {
  const api = ctx.api();
  const login = ctx.login();
  const target = await findRoom(ctx, arg);
  // Read my rooms before the history, so no event can fall between the history and the resume point.
  const mine = await api.myRooms();
  const room = mine.find((r) => r.id === target.id);
  if (!room) throw new CliError('not_member', `you are not a member of ${roomTitle(target)}: chat join ${arg}`);

  const names = new UserNames(api);
  await names.seedRoom(room.id);
  const recent = opts.lines > 0 ? await api.messages(room.id, { limit: opts.lines }) : [];
  await names.ensure(namedUsers(recent));

  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !opts.readOnly;
  const screen = new Screen(tty);
  screen.status(
    `--- ${roomTitle(room)}${room.topic ? ` — ${clean(room.topic)}` : ''} (${room.memberCount} member${room.memberCount === 1 ? '' : 's'})`,
  );
  const blocked = opts.showBlocked ? new Set<string>() : await blockedIds(ctx);
  for (const m of recent) {
    screen.content(
      blocked.has(m.senderId)
        ? collapsedLine(m, false)
        : formatMessage(m, names.name(m.senderId), false, (id) => names.name(id), login.userId),
    );
  }

  // Resume every room where it is now (nothing to replay), and this one right after what was just shown.
  const resume = Object.fromEntries(mine.map((r) => [r.id, r.lastSeq]));
  resume[room.id] = Math.max(room.lastSeq, recent[recent.length - 1]?.seq ?? 0);
  const client = new ChatClient({
    url: ctx.server,
    token: login.token,
    userId: login.userId,
    WebSocket: WebSocket as unknown as WebSocketCtor,
    resume,
    sendTimeoutMs: SEND_TIMEOUT_MS,
  });
  // Who comes and goes in this room, even a big one (sent again after every reconnect).
  client.view([room.id]);
  const session: Session = { ctx, room, names, screen, client, myId: login.userId, blocked };
  // A block or unblock on any of my devices applies from the next message on.
  if (!opts.showBlocked) {
    client.on('block', (f) => {
      if (f.blocked) blocked.add(f.user.id);
      else blocked.delete(f.user.id);
    });
  }
  const events = renderer(session);
  client.on('event', (e) => {
    if (e.roomId === room.id) events.push(e);
  });

  let failures = 0;
  /** Highest seq of my own acknowledged messages: on exit, wait until they are printed too. */
  let lastAcked = 0;
  const sends = new Set<Promise<void>>();
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  listen(
    session,
    (code) => finish(code),
    () => events.drained(),
  );

  await connectBounded(client);
  screen.status(tty ? '* connected; /help for commands' : '* connected');

  /**
   * Lines keep their order across the two paths (messages over the socket, commands over HTTP): a message waits for
   * the command typed before it, and a command for the messages before it to be acknowledged.
   */
  let afterCommands: Promise<unknown> = Promise.resolve();

  const sendLine = (body: string) => {
    const p = afterCommands
      .then(() => client.send(room.id, body))
      .then(
        (ack) => {
          lastAcked = Math.max(lastAcked, ack.seq);
        },
        (err: unknown) => {
          failures++;
          const why = err instanceof SendError ? `${err.message} (${err.code})` : String(err);
          const preview = body.length > 40 ? `${body.slice(0, 40)}…` : body;
          screen.status(`! not sent: "${clean(preview)}": ${why}`);
        },
      );
    sends.add(p);
    void p.finally(() => sends.delete(p));
  };

  /**
   * A slash command, through the server's command route (the same parsing and permission checks as the web app).
   * Tracked like a send, so leaving waits for it; what it posts or changes arrives as room events.
   */
  const runSlash = (text: string) => {
    const before = Promise.allSettled([...sends]);
    const p = before
      .then(() => api.runCommand(room.id, text, `cli-${randomUUID()}`))
      .then(
        (result) => {
          if (result.kind === 'done' && result.command === 'away') client.setPresence(result.away ? 'away' : 'online');
          if (result.kind === 'message') lastAcked = Math.max(lastAcked, result.message.seq);
          for (const l of resultLines(result)) screen.status(l);
        },
        (err: unknown) => {
          const { message, code } = describeError(err, ctx.server);
          screen.status(`! ${clean(text.split(/\s/, 1)[0] ?? '')}: ${message} (${code})`);
        },
      );
    sends.add(p);
    afterCommands = p;
    void p.finally(() => sends.delete(p));
  };

  // Leaving politely: stop reading, let queued sends be acknowledged (bounded by SEND_TIMEOUT_MS), then close.
  let leaving = false;
  const leave = async (code: number) => {
    if (leaving) return;
    leaving = true;
    if (sends.size > 0) screen.status(`* waiting for ${sends.size} message(s) to be acknowledged…`);
    await Promise.all([...sends]);
    // The ack can overtake the message's own event; let it arrive so the transcript is complete.
    await until(() => (client.positions[room.id] ?? 0) >= lastAcked, ECHO_WAIT_MS);
    finish(code);
  };

  let rl: Interface | undefined;
  if (!opts.readOnly) {
    rl = createInterface({
      input: process.stdin,
      ...(tty ? { output: process.stdout, prompt: `${roomTitle(room)}> ` } : {}),
      terminal: tty,
    });
    screen.rl = rl;
    let lastTyping = 0;
    if (tty) {
      process.stdin.on('keypress', () => {
        const line = rl?.line ?? '';
        if (line === '' || line.startsWith('/') || Date.now() - lastTyping < TYPING_EVERY_MS) return;
        lastTyping = Date.now();
        client.typing(room.id);
      });
      rl.prompt();
    }
    const onLine = (line: string) => {
      const cmd = line.trim();
      if (cmd === '') return;
      if (cmd === '/quit' || cmd === '/exit') return void leave(0);
      if (cmd === '/help') {
        HELP.forEach((l) => screen.status(l));
        return runSlash(cmd);
      }
      if (cmd === '/who') {
        void api.members(room.id, { limit: 200 }).then(
          (r) =>
            screen.status(
              `* ${r.members.map((m) => `${m.user.username} (${m.presence})`).join(', ')}${r.nextCursor ? ', …' : ''}`,
            ),
          (err: unknown) => screen.status(`! ${(err as Error).message}`),
        );
        return;
      }
      if (cmd.startsWith('/') && !cmd.startsWith('//')) return runSlash(cmd);
      sendLine(cmd.startsWith('//') ? line.slice(line.indexOf('/') + 1) : line);
    };
    rl.on('line', (line) => {
      if (leaving) return;
      onLine(line);
      if (tty && !leaving) rl?.prompt();
    });
    // End of input (Ctrl-D, or the end of piped stdin) ends the session once sends are acknowledged.
    rl.on('close', () => void leave(0));
    rl.on('SIGINT', () => (leaving ? finish(130) : void leave(0)));
  }
  // Without a terminal (or with --read-only), Ctrl-C / kill: a first signal leaves politely, a second at once.
  const onSignal = () => (leaving ? finish(130) : void leave(0));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const code = await finished;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  screen.rl = undefined;
  rl?.close();
  client.close();
  await events.drained();
  const seen = client.positions[room.id];
  if (seen !== undefined) await markReadQuietly(ctx.api(), room.id, seen);
  return failures > 0 && code === 0 ? 1 : code;
}

export const tail: CommandSpec = {
  name: 'tail',
  aliases: ['open'],
  summary: 'Follow a room live and chat in it',
  details:
    'Shows the last messages, then new messages, joins, typing and presence as they happen. Each line you\n' +
    'type is sent; if it cannot be delivered you see a "! not sent" line. A line starting with "/" is a slash\n' +
    'command run in the room (/me, /topic, /kick, ..., /help lists them; //text sends "/text").\n' +
    '/quit or Ctrl-D leaves (after unsent messages are acknowledged). With stdin not a terminal, piped lines are sent and the command\n' +
    'exits when the input ends. A <room> is a room id, the exact name of one of your rooms, or @user.',
  args: [{ name: 'room' }],
  options: {
    lines: { type: 'string', value: 'N', description: 'Messages of history to show first (0-200, default 20)' },
    'read-only': { type: 'boolean', description: 'Do not read stdin; follow the room until Ctrl-C' },
    'show-blocked': { type: 'boolean', description: 'Print the messages of users you blocked (shown as [blocked])' },
  },
  examples: [
    'chat tail general',
    'chat open @bob',
    'echo "deploy done" | chat tail ops',
    'chat tail general --read-only >> general.log',
  ],
  async run(ctx, inv) {
    return runTail(ctx, inv.args.room!, {
      lines: inv.int('lines', 0, 200) ?? 20,
      readOnly: inv.flag('read-only'),
      showBlocked: inv.flag('show-blocked'),
    });
  },
};

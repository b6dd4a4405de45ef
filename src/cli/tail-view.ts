import { clearLine, cursorTo, type Interface } from 'node:readline';
import {
  CLOSE_CODES,
  TYPING_TTL_MS,
  type ChatClient,
  type Message,
  type MyRoom,
  type RoomEvent,
} from '../client/index.js';
import type { Context } from './context.js';
import { describeEvent } from './event-text.js';
import { clean, roomTitle, withBody } from './format.js';
import { collapsedLine, formatMessage } from './messages.js';
import type { UserNames } from './resolve.js';

/** Error codes the server answers a typing hint with when the user may not post in the room. */
const TYPING_REFUSALS: ReadonlySet<string> = new Set(['muted', 'read_only']);

/** What `chat tail` shows: the room's events in order, plus status lines for everything else. */

/** Close codes after which the saved session is no good: log in again. */
export const isRevoked = (code: number) =>
  code === CLOSE_CODES.UNAUTHORIZED.code || code === CLOSE_CODES.SESSION_REVOKED.code;

/**
 * The terminal, shared by incoming lines and the input prompt. On a TTY, printing first erases the half-typed
 * input line and redraws it afterwards, so arriving messages never mangle what the user is typing.
 */
export class Screen {
  rl: Interface | undefined;
  constructor(private readonly tty: boolean) {}

  private write(stream: NodeJS.WriteStream, text: string): void {
    if (this.tty && this.rl) {
      clearLine(process.stdout, 0);
      cursorTo(process.stdout, 0);
    }
    stream.write(`${text}\n`);
    if (this.tty && this.rl) this.rl.prompt(true);
  }
  /** Room content (messages, joins): stdout, so `chat tail room > log` records the conversation. */
  content(text: string): void {
    this.write(process.stdout, text);
  }
  /** Status (connection, typing, presence, failures): stderr. */
  status(text: string): void {
    this.write(process.stderr, text);
  }
}

export interface Session {
  ctx: Context;
  room: MyRoom;
  names: UserNames;
  screen: Screen;
  client: ChatClient;
  /** My user id: my own typing and presence are not news to me. */
  myId: string;
  /** Users whose messages are collapsed (those I blocked, kept live; empty with --show-blocked). */
  blocked: Set<string>;
}

/** Prints a room's events in order: a name lookup is async, so every render waits for the previous one. */
export function renderer(s: Session) {
  let chain = Promise.resolve();
  const render = async (e: RoomEvent) => {
    const quoted = (e.data?.quote as { senderId?: unknown } | undefined)?.senderId;
    await s.names.ensure([
      e.senderId,
      typeof e.data?.userId === 'string' ? e.data.userId : undefined,
      typeof quoted === 'string' ? quoted : undefined,
    ]);
    if (e.type === 'message' && s.blocked.has(e.senderId)) {
      s.screen.content(collapsedLine(e as Message, false));
    } else if (e.type === 'message') {
      s.screen.content(formatMessage(e as Message, s.names.name(e.senderId), false, (id) => s.names.name(id), s.myId));
    } else {
      const line = describeEvent(e, (id) => s.names.name(id));
      if (line) s.screen.content(line);
    }
  };
  return {
    push: (e: RoomEvent) => {
      chain = chain.then(() => render(e)).catch(() => undefined);
    },
    drained: () => chain,
  };
}

/**
 * Status lines for everything but room events. `eventsPrinted` resolves once the room events received so far are
 * printed: the lines that end the session wait for it, so a kick reads as the room's removal event, then its effect.
 */
export function listen(s: Session, exit: (code: number) => void, eventsPrinted: () => Promise<void>): void {
  const { client, room, screen, names } = s;
  const typingShown = new Map<string, number>();
  let lost = false;

  client.on('typing', (t) => {
    if (t.roomId !== room.id || t.userId === s.myId) return;
    const last = typingShown.get(t.userId) ?? 0;
    if (Date.now() - last < TYPING_TTL_MS) return;
    typingShown.set(t.userId, Date.now());
    screen.status(`* ${clean(t.username)} is typing…`);
  });
  client.on('presence', (p) => {
    if (p.roomId !== room.id) return;
    void names.ensure(p.changes.map((c) => c.userId)).then(() => {
      const who = p.changes.filter((c) => c.userId !== s.myId);
      if (who.length === 0) return;
      const list = who.map((c) => `${names.name(c.userId)} is ${c.status}`).join(', ');
      screen.status(`* ${list} (${p.online} online here)`);
    });
  });
  client.on('announcement', ({ announcement: a }) => {
    screen.status(withBody(`*** announcement from ${clean(a.from.username)}: `, a.body));
  });
  client.on('invite', (i) => {
    screen.status(`* ${clean(i.inviter.username)} invited you to ${clean(i.roomName)} (chat accept ${i.roomId})`);
  });
  client.on('error', (e) => {
    // A typing hint refused (muted, read-only room) comes back without a clientMsgId while the user types; the line
    // they then send is refused for the same reason and says so ("! not sent: ..."): one notice, not two.
    if (!e.clientMsgId && e.roomId === room.id && TYPING_REFUSALS.has(e.code)) return;
    screen.status(`! ${clean(e.message)} (${e.code})`);
  });
  client.on('room.removed', (r) => {
    if (r.roomId !== room.id) return;
    void eventsPrinted().then(() => {
      screen.status(`* you ${r.reason === 'left' ? 'left' : 'were removed from'} ${roomTitle(room)}`);
      exit(r.reason === 'left' ? 0 : 1);
    });
  });
  client.on('disconnect', (d) => {
    if (d.willReconnect) {
      if (!lost) {
        const waiting = client.pending.length;
        screen.status(`* connection lost; reconnecting…${waiting ? ` (${waiting} message(s) waiting)` : ''}`);
      }
      lost = true;
      return;
    }
    if (!client.welcome) return; // refused while connecting: connectBounded reports it
    screen.status(
      isRevoked(d.code)
        ? '! the server ended this session (logged out elsewhere?); log in again: chat login <username>'
        : `! disconnected: ${clean(d.reason) || d.code}`,
    );
    exit(1);
  });
  client.on('welcome', () => {
    if (lost) screen.status('* reconnected');
    lost = false;
  });
}

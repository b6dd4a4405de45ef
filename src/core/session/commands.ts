import type { ClientFrame, ErrorFrame, HelloFrame } from '../../protocol/frames.js';
import type { BotScope } from '../../protocol/model.js';
import type { AuthContext } from '../accounts.js';
import { ChatError } from '../chat-error.js';
import type { Connection } from '../delivery/connection.js';
import type { SessionHost } from './sessions.js';

/** Every frame an authenticated session may send (hello is the session's own business). */
export type CommandFrame = Exclude<ClientFrame, HelloFrame>;

/** What a command runs with: the session's connection and identity, and the node it lives on. */
export interface CommandContext {
  conn: Connection;
  auth: AuthContext;
  host: SessionHost;
}

export interface Command<F extends CommandFrame> {
  /**
   * Ordered commands run one after another per session, each once the previous has resolved (for `send`: once
   * it is queued for storage), so their effects are sequenced in the order the client sent them.
   */
  ordered?: true;
  run(cx: CommandContext, frame: F): Promise<void> | void;
}

type Commands = { [T in CommandFrame['type']]: Command<Extract<CommandFrame, { type: T }>> };

/** An error frame for one command, queued behind the connection's deliveries like any other frame. */
function reply(cx: CommandContext, err: unknown, ids: Pick<ErrorFrame, 'ref' | 'clientMsgId' | 'roomId'>): void {
  const chat = err instanceof ChatError ? err : new ChatError('internal');
  if (!(err instanceof ChatError)) cx.host.log.error({ err }, 'command failed');
  cx.conn.send({ type: 'error', ...chat.toBody(), ...ids });
}

/**
 * The command table: one entry per client frame type. A new command (edit, react, mark read…) is one entry here
 * and one frame schema in `src/protocol/frames.ts`.
 */
export const COMMANDS: Commands = {
  send: {
    ordered: true,
    /**
     * Checks and queues one send; resolves when it is queued, so the connection's next send can start (see
     * MessageService.submit). The ack or error follows when the store has answered.
     */
    async run(cx, frame) {
      const ids = { ref: frame.ref, clientMsgId: frame.clientMsgId, roomId: frame.roomId };
      let stored;
      try {
        ({ stored } = await cx.host.deps.messages.submit(cx.auth, frame));
      } catch (err) {
        return reply(cx, err, ids);
      }
      stored.then(
        ({ event, duplicate }) =>
          cx.conn.send({
            type: 'ack',
            ...(frame.ref !== undefined ? { ref: frame.ref } : {}),
            clientMsgId: frame.clientMsgId,
            roomId: event.roomId,
            id: event.id,
            seq: event.seq,
            createdAt: event.createdAt,
            duplicate,
          }),
        (err: unknown) => reply(cx, err, ids),
      );
    },
  },

  typing: {
    async run(cx, frame) {
      const ids = { ref: frame.ref, roomId: frame.roomId };
      if (!cx.conn.rooms.has(frame.roomId)) return reply(cx, new ChatError('not_member'), ids);
      const r = cx.host.local.takeSync(`typing:${cx.conn.id}:${frame.roomId}`, cx.host.limits.typing);
      if (!r.ok) return; // typing is a hint: extra ones are dropped silently
      try {
        await cx.host.deps.messages.typing(cx.auth, frame.roomId);
      } catch (err) {
        reply(cx, err, ids);
      }
    },
  },

  presence: {
    run({ conn, host }, frame) {
      conn.status = frame.status;
      return host.deps.presence.setStatus(conn.userId, conn.id, frame.status, () => host.deps.hub.roomsOf(conn));
    },
  },

  view: {
    // No ack and no membership check: a room not (or not yet) joined simply has nothing to tell this socket.
    run(cx, frame) {
      const ids = new Set(frame.roomIds);
      const max = cx.host.limits.maxViewedRooms;
      if (ids.size > max) {
        const message = `A connection may view at most ${max} rooms.`;
        return reply(cx, new ChatError('validation_failed', { message }), { ref: frame.ref });
      }
      cx.conn.viewing = ids;
    },
  },

  ping: {
    run({ conn }, frame) {
      // `ref` is echoed whenever given, even empty, as in acks and errors.
      conn.send({
        type: 'pong',
        ...(frame.ref !== undefined ? { ref: frame.ref } : {}),
        time: new Date().toISOString(),
      });
    },
  },
};

/** Runs one command frame through its entry in the table (TypeScript cannot narrow the lookup by itself). */
/** The scope a bot token needs for each frame (issue 16); null = any session. People's sessions have every scope. */
const FRAME_SCOPES: { [T in CommandFrame['type']]: BotScope | null } = {
  send: 'post',
  typing: 'post',
  presence: 'read',
  view: 'read',
  ping: null,
};

export function runCommand(cx: CommandContext, frame: CommandFrame): Promise<void> | void {
  const scope = FRAME_SCOPES[frame.type];
  if (scope !== null && cx.auth.session.scopes != null && !cx.auth.session.scopes.includes(scope)) {
    const ids = {
      ref: frame.ref,
      ...(frame.type === 'send' ? { clientMsgId: frame.clientMsgId, roomId: frame.roomId } : {}),
    };
    return reply(cx, new ChatError('forbidden', { message: `This bot token lacks the "${scope}" scope.` }), ids);
  }
  // A room bot acts in its own room only (as over HTTP).
  const home = cx.auth.user.botOf?.roomId;
  if (home != null && 'roomId' in frame && frame.roomId !== home) {
    const ids = { ref: frame.ref, ...(frame.type === 'send' ? { clientMsgId: frame.clientMsgId } : {}) };
    return reply(cx, new ChatError('forbidden', { message: 'A room bot may act only in its own room.' }), {
      ...ids,
      roomId: frame.roomId,
    });
  }
  const command = COMMANDS[frame.type] as Command<CommandFrame>;
  return command.run(cx, frame);
}

export function isOrdered(frame: CommandFrame): boolean {
  return COMMANDS[frame.type].ordered === true;
}

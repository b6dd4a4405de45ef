import type { AssistantStreamFrame, BotCommandFrame, MentionNotice } from '../protocol/frames.js';
import type {
  Announcement,
  MyRoom,
  NotifyLevel,
  PresenceStatus,
  PublicUser,
  RoomEvent,
  UserSettings,
} from '../protocol/model.js';

/**
 * What travels on the bus between the nodes of a deployment (or within one process).
 * Room topics carry room traffic; user topics carry what concerns one user's connections wherever they are.
 */
export type BusMessage =
  | { kind: 'event'; event: RoomEvent }
  | { kind: 'typing'; roomId: string; userId: string; username: string }
  /** An assistant answer as it is written (not stored): an `assistant.stream` frame to the room's connections. */
  | { kind: 'assistant.stream'; frame: AssistantStreamFrame }
  | {
      kind: 'presence';
      roomId: string;
      changes: { userId: string; status: PresenceStatus }[];
      online: number;
      serverOnline: number;
      /**
       * Who hears `changes`: every member connection of the room (`all`, the default), or only connections
       * viewing it (`viewers`: rooms above PRESENCE_FANOUT_MAX_MEMBERS).
       */
      to?: 'all' | 'viewers';
      /** With `viewers`: the other member connections get the counts (with no changes) this time. */
      counts?: boolean;
    }
  | { kind: 'room.added'; userId: string; room: MyRoom; fromSeq: number }
  /** The user's read marker in a room moved: every connection of theirs is told (`read` frame). */
  | { kind: 'read'; userId: string; roomId: string; readSeq: number }
  /** The user blocked or unblocked someone: every connection of theirs is told (`block` frame). */
  | { kind: 'block'; userId: string; blocked: boolean; user: PublicUser; since: string | null }
  /** A message mentions the user (`mention` frame to each of their connections). */
  | { kind: 'mention'; userId: string; notice: MentionNotice }
  /** The user's notification level for a room changed (`notify` frame to each of their connections). */
  | { kind: 'notify'; userId: string; roomId: string; level: NotifyLevel }
  /** The user's private settings changed (`settings` frame to each of their connections). */
  | { kind: 'settings'; userId: string; settings: UserSettings }
  | { kind: 'invite'; userId: string; roomId: string; roomName: string; inviter: PublicUser }
  /**
   * Sessions ended: their sockets close with 4003. `disabled` (deactivation, server ban) closes every socket of
   * the user with 4006, whatever its session.
   */
  | { kind: 'revoke'; userId: string; sessionIds: string[]; disabled?: boolean }
  | { kind: 'announcement'; announcement: Announcement }
  /** A slash command for a bot (issue 16): a `command` frame to each of the bot's connections. */
  | { kind: 'command'; userId: string; frame: BotCommandFrame }
  /** A user's public profile changed (on `all`): a live hint to every connection, not replayed on resume. */
  | { kind: 'profile'; user: PublicUser };

export const topics = {
  room: (roomId: string) => `room:${roomId}`,
  user: (userId: string) => `user:${userId}`,
  /** Every node listens here: server-wide announcements and profile changes. */
  all: 'all',
} as const;

/** A topic as its parts: what bus events report, so nobody parses topic strings. */
export type TopicRef = { kind: 'room'; roomId: string } | { kind: 'user'; userId: string } | { kind: 'all' };

/** The inverse of `topics`; unknown shapes are null. Only bus implementations call it. */
export function parseTopic(topic: string): TopicRef | null {
  if (topic === topics.all) return { kind: 'all' };
  if (topic.startsWith('room:')) return { kind: 'room', roomId: topic.slice(5) };
  if (topic.startsWith('user:')) return { kind: 'user', userId: topic.slice(5) };
  return null;
}

export type BusHandler = (message: BusMessage) => void;

/**
 * What a bus tells the node about itself, pushed to the one handler registered at start (as Centrifuge's
 * BrokerEventHandler). A bus within one process never loses anything and never reports.
 */
export interface BusEventHandler {
  /** Other nodes can no longer be heard (the subscriber connection is down). Once per outage. */
  lost(): void;
  /** Heard again, every topic subscribed again: whatever was published meanwhile was missed. */
  recovered(): void;
  /**
   * The bus confirmed this node's new subscription to `topic`. Until then other nodes' messages on it were not
   * heard, though local handlers were already registered.
   */
  subscribed(topic: TopicRef): void;
}

/**
 * Fan-out between nodes. Contract:
 * - Delivery is at most once: a message may be lost (a Redis reconnect, a dead node). Nothing durable
 *   depends on the bus — receivers detect sequence gaps and read the store.
 * - Per topic, messages from one publisher arrive in publish order.
 * - A publisher's own subscribers on the same node receive its messages too (directly, not via the network).
 * - `subscribe` with the same handler twice is one subscription; `unsubscribe` of an unknown pair is a no-op.
 * - A handler that throws is logged and does not affect other handlers.
 */
export interface Bus {
  publish(topic: string, message: BusMessage): Promise<void>;
  subscribe(topic: string, handler: BusHandler): void;
  unsubscribe(topic: string, handler: BusHandler): void;
  /**
   * Registers the node's handler for the bus's own events (one; a second call replaces it). An outage that began
   * before is reported to it at once with `lost`. A handler that throws is logged.
   */
  setEventHandler(handler: BusEventHandler): void;
  /** Resolves when the bus can carry messages; for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

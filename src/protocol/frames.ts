import { z } from 'zod';
import type { ErrorBody } from './errors.js';
import { AttachmentIds, bodyOrAttachments, BodyOrEmpty, ClientMsgId, Id, Seq } from './model.js';
import type {
  Announcement,
  MyRoom,
  NotifyLevel,
  PresenceStatus,
  PublicUser,
  RoomEvent,
  UserProfile,
  UserSettings,
} from './model.js';

/**
 * WebSocket frames. Every frame is a JSON object with a `type`. The server may also send a JSON array of
 * frames in one WebSocket message (batching under load); clients must accept both.
 * A client frame may carry `ref`, a string the server echoes in the ack or error it causes.
 */

const Ref = z.string().max(64).optional();
/** Room ids one `view` frame may carry at most, whatever the server's MAX_VIEWED_ROOMS. */
export const MAX_VIEW_ROOM_IDS = 1000;

export const HelloFrame = z.strictObject({
  type: z.literal('hello'),
  v: z.number().int(),
  token: z.string().min(1).max(200),
  /**
   * Last sequence seen per room: listed rooms replay every event after it (never from before the current
   * membership began); rooms not listed start live at their current `lastSeq` (load history over HTTP).
   */
  resume: z.record(Id, Seq).optional(),
  ref: Ref,
});
export const SendFrame = z
  .strictObject({
    type: z.literal('send'),
    roomId: Id,
    clientMsgId: ClientMsgId,
    body: BodyOrEmpty,
    /** A reply: the seq of a message of the same room (see docs/protocol.md, replies and threads). */
    replyTo: Seq.min(1).optional(),
    /** With `replyTo`: a thread reply that main timelines hide. */
    threadOnly: z.boolean().optional(),
    /** Ids of files the sender uploaded (`POST /api/v1/files`); with them `body` may be ''. */
    attachments: AttachmentIds.optional(),
    ref: Ref,
  })
  .refine(...bodyOrAttachments);
export const TypingFrame = z.strictObject({ type: z.literal('typing'), roomId: Id, ref: Ref });
export const PresenceFrame = z.strictObject({
  type: z.literal('presence'),
  status: z.enum(['online', 'away']),
  ref: Ref,
});
export const PingFrame = z.strictObject({ type: z.literal('ping'), ref: Ref });
/**
 * The rooms this connection shows (an open conversation, its member list): in rooms above the server's presence
 * fan-out size only viewers hear who came and went. Replaces the previous set; `[]` views nothing. The server's
 * `MAX_VIEWED_ROOMS` (at most this hard cap) bounds it.
 */
export const ViewFrame = z.strictObject({
  type: z.literal('view'),
  roomIds: z.array(Id).max(MAX_VIEW_ROOM_IDS),
  ref: Ref,
});

export const ClientFrame = z.discriminatedUnion('type', [
  HelloFrame,
  SendFrame,
  TypingFrame,
  PresenceFrame,
  PingFrame,
  ViewFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type HelloFrame = z.infer<typeof HelloFrame>;
export type SendFrame = z.infer<typeof SendFrame>;
export type ViewFrame = z.infer<typeof ViewFrame>;

/** A room in `welcome`: no embedded member list; a DM names its other members by id (see `profiles`). */
export type WelcomeRoom = Omit<MyRoom, 'members'> & { memberIds?: string[] };

/** Server → client frames. */
export interface WelcomeFrame {
  type: 'welcome';
  v: number;
  connId: string;
  sessionId: string;
  user: PublicUser;
  /** Rooms the user is a member of, with their current last sequence. Replay follows as `event` frames. */
  rooms: WelcomeRoom[];
  /** Names of every user a DM in `rooms` lists in `memberIds`, once each, by id. */
  profiles: Record<string, Omit<UserProfile, 'id'>>;
  heartbeatMs: number;
  /** Limits a client should know before it tries: a frame, a message body, an upload, a message's attachments. */
  limits: { maxFrameBytes: number; maxMessageChars: number; maxUploadBytes: number; maxAttachmentsPerMessage: number };
  /** Optional parts this server runs: `assistant` when the built-in assistant is configured (issue 16). */
  features: { assistant: boolean };
  online: number;
}
export interface EventFrame {
  type: 'event';
  event: RoomEvent;
}
/** Replay for `roomId` is complete up to `seq`; live events follow. Sent once per room after hello. */
export interface SyncedFrame {
  type: 'synced';
  roomId: string;
  seq: number;
}
export interface AckFrame {
  type: 'ack';
  ref?: string;
  clientMsgId: string;
  roomId: string;
  id: string;
  seq: number;
  createdAt: string;
  /** True when this clientMsgId was already stored: the earlier message is returned, nothing new was created. */
  duplicate: boolean;
}
export interface ErrorFrame extends ErrorBody {
  type: 'error';
  ref?: string;
  clientMsgId?: string;
  roomId?: string;
}
export interface TypingNotice {
  type: 'typing';
  roomId: string;
  userId: string;
  username: string;
}
export interface PresenceNotice {
  type: 'presence';
  roomId: string;
  /**
   * Members whose status changed, latest status each. Empty in a count-only frame: rooms above the server's
   * presence fan-out size tell who changed only to connections viewing them (`view`).
   */
  changes: { userId: string; status: PresenceStatus }[];
  /** Members of this room online now. */
  online: number;
  /** Users online on the whole server now. */
  serverOnline: number;
}
/** You joined (or were added to) a room; its events follow. */
export interface RoomAddedFrame {
  type: 'room.added';
  room: MyRoom;
}
/** You left or were removed from a room; no more events from it. */
export interface RoomRemovedFrame {
  type: 'room.removed';
  roomId: string;
  reason: 'left' | 'removed' | 'banned';
}
export interface InviteFrame {
  type: 'invite';
  roomId: string;
  roomName: string;
  inviter: PublicUser;
}
export interface AnnouncementFrame {
  type: 'announcement';
  announcement: Announcement;
}
/**
 * A user's public profile changed (display name, status text). Live only, like presence: not replayed on resume,
 * so a client re-reads the profiles it shows after `welcome`.
 */
export interface ProfileNotice {
  type: 'profile';
  user: PublicUser;
}
/**
 * Your read marker in a room moved (on this or another of your devices). Live only: `welcome` carries the current
 * `readSeq` of every room, so nothing needs replaying.
 */
export interface ReadNotice {
  type: 'read';
  roomId: string;
  readSeq: number;
}
/**
 * Your notification level for a room changed (on this or another of your devices). Live only: `welcome` carries
 * every room's `notify`.
 */
export interface NotifyNotice {
  type: 'notify';
  roomId: string;
  level: NotifyLevel;
}
/** Your private settings changed (on this or another of your devices): all of them. Live only, like `read`. */
export interface SettingsNotice {
  type: 'settings';
  settings: UserSettings;
}

/**
 * A message that mentions you was stored (or an edit added you to its mentions): sent to every connection of yours,
 * whatever the room's notification level. Live only: `welcome` carries `unreadMentions` per room and
 * `GET /api/v1/me/mentions` lists them, so nothing needs replaying.
 */
export interface MentionNotice {
  type: 'mention';
  roomId: string;
  /** The message's seq. */
  seq: number;
  /** Who wrote it. */
  from: UserProfile;
  roomName: string;
  /** How it reached you: by your name, by `@room` or by `@here`. */
  via: 'user' | 'room' | 'here';
  /** The message's start (up to 200 characters), for a notification. */
  snippet: string;
}

/**
 * You blocked (`blocked: true`, `since` set) or unblocked someone, on this or another of your devices. Live only: a
 * client reads `GET /api/v1/me/blocks` after `welcome`. Only the blocker's connections get it.
 */
export interface BlockNotice {
  type: 'block';
  blocked: boolean;
  user: PublicUser;
  since: string | null;
}

export interface PongFrame {
  type: 'pong';
  ref?: string;
  time: string;
}

/**
 * An answer of the built-in assistant as it is written (issue 16): sent to the room's connections, not stored and
 * not on the room sequence. `streaming` frames carry the whole text so far (throttled); the last frame of an answer
 * is `done` (the answer was posted as an ordinary message at `seq`) or `error` (`error` says why; `seq` is the
 * posted error notice, absent when nothing was posted, e.g. `assistant_over_budget`).
 */
export interface AssistantStreamFrame {
  type: 'assistant.stream';
  roomId: string;
  /** One answer's frames share it. */
  answerId: string;
  /** The seq of the question the assistant answers. */
  replyTo: number;
  state: 'streaming' | 'done' | 'error';
  text: string;
  seq?: number;
  error?: ErrorBody;
}

/**
 * A slash command for a bot (issue 16), sent to the bot's connections: `/name args` typed by `user` in `roomId`.
 * The bot answers by posting normally.
 */
export interface BotCommandFrame {
  type: 'command';
  invocationId: string;
  roomId: string;
  name: string;
  args: string;
  user: UserProfile;
}

export type ServerFrame =
  | BotCommandFrame
  | WelcomeFrame
  | EventFrame
  | SyncedFrame
  | AckFrame
  | ErrorFrame
  | TypingNotice
  | PresenceNotice
  | RoomAddedFrame
  | RoomRemovedFrame
  | InviteFrame
  | AnnouncementFrame
  | ProfileNotice
  | ReadNotice
  | MentionNotice
  | BlockNotice
  | NotifyNotice
  | SettingsNotice
  | AssistantStreamFrame
  | PongFrame;

export type ServerFrameType = ServerFrame['type'];
/** Maps a frame type to its frame, for typed listeners. */
export type ServerFrameOf<T extends ServerFrameType> = Extract<ServerFrame, { type: T }>;

export { TYPING_TTL_MS } from './timing.js';

import { z } from 'zod';

/** Limits that are part of the protocol itself (the server's configurable limits sit below these). */
export const PROTOCOL_LIMITS = {
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 256,
  displayNameMax: 64,
  statusTextMax: 140,
  roomNameMax: 80,
  topicMax: 500,
  clientMsgIdMax: 64,
  /** Hard cap on a message body; the server's `maxMessageChars` setting is at most this. */
  bodyMaxHard: 16_000,
  searchQueryMax: 100,
  pageMax: 200,
} as const;

// Control characters (C0, DEL, C1) and bidi overrides never belong in names: they spoof or break layouts.
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
// Message bodies may hold newlines and tabs, nothing else from C0/C1.
const BODY_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

const noControl = (s: string) => !NAME_FORBIDDEN.test(s);

export const Username = z
  .string()
  .min(PROTOCOL_LIMITS.usernameMin)
  .max(PROTOCOL_LIMITS.usernameMax)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-" only, starting with a letter or digit');
export const Password = z.string().min(PROTOCOL_LIMITS.passwordMin).max(PROTOCOL_LIMITS.passwordMax);
export const DisplayName = z
  .string()
  .trim()
  .min(1)
  .max(PROTOCOL_LIMITS.displayNameMax)
  .refine(noControl, 'must not contain control characters');
export const StatusText = z
  .string()
  .max(PROTOCOL_LIMITS.statusTextMax)
  .refine(noControl, 'must not contain control characters');
export const RoomName = z
  .string()
  .trim()
  .min(1)
  .max(PROTOCOL_LIMITS.roomNameMax)
  .refine(noControl, 'must not contain control characters');
export const Topic = z.string().max(PROTOCOL_LIMITS.topicMax).refine(noControl, 'must not contain control characters');
export const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
export const ClientMsgId = z
  .string()
  .min(1)
  .max(PROTOCOL_LIMITS.clientMsgIdMax)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and "_.:-" only');
export const Body = z
  .string()
  .min(1)
  .max(PROTOCOL_LIMITS.bodyMaxHard)
  .refine((s) => !BODY_FORBIDDEN.test(s), 'must not contain control characters other than newline and tab')
  .refine((s) => s.trim().length > 0, 'must not be blank');
export const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export type ServerRole = 'admin' | 'user';
export type RoomKind = 'public' | 'private' | 'dm';
export type MemberRole = 'owner' | 'admin' | 'member';
export type PresenceStatus = 'online' | 'away' | 'offline';

/** A user as others see them. */
export interface PublicUser {
  id: string;
  username: string;
  displayName: string;
  statusText: string;
  role: ServerRole;
  createdAt: string;
}

/** A room's metadata. `lastSeq` is the sequence number of its newest event (0 = no events yet). */
export interface Room {
  id: string;
  kind: RoomKind;
  name: string;
  topic: string;
  createdBy: string;
  createdAt: string;
  lastSeq: number;
  memberCount: number;
}

/** A room from its member's point of view. */
export interface MyRoom extends Room {
  myRole: MemberRole;
  /** Seq of the `member.joined` event that began your current membership. Resume never goes before it. */
  joinedSeq: number;
  /** For DMs: the other members, so a client can title the conversation. */
  members?: PublicUser[];
}

export interface Member {
  user: PublicUser;
  role: MemberRole;
  joinedAt: string;
  presence: PresenceStatus;
}

export interface Invite {
  room: Room;
  inviter: PublicUser;
  createdAt: string;
}

export interface SessionInfo {
  id: string;
  label: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string;
  current: boolean;
}

/**
 * Everything that happens in a room is an event on the room's one sequence: messages and membership alike,
 * so resume replays both. Sequence numbers start at 1 and are gap-free per room.
 */
export type RoomEventType =
  'message' | 'room.created' | 'room.updated' | 'member.joined' | 'member.left' | 'member.invited' | 'member.role';

export interface RoomEvent {
  id: string;
  roomId: string;
  seq: number;
  type: RoomEventType;
  /** Who caused the event (the author of a message, the actor of a membership change). */
  senderId: string;
  /** Message text; null for non-message events. */
  body: string | null;
  /** The sender's idempotency key; null for non-message events. */
  clientMsgId: string | null;
  /** Type-specific details, e.g. `{userId}` for member events, `{name, topic}` for room.updated. */
  data: Record<string, unknown> | null;
  createdAt: string;
}

/** A message is a room event of type `message`. */
export type Message = RoomEvent & { type: 'message'; body: string; clientMsgId: string };

export interface Announcement {
  id: string;
  body: string;
  from: PublicUser;
  createdAt: string;
}

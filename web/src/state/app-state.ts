/**
 * The shape of the app's state, one flat object in one store (`Store<AppState>`), and what a session starts from.
 * Each part is owned by one module that writes it (see the comments); components read any of it with `useApp`.
 */
import type { ConnectionState } from '../../../src/client/chat-client.js';
import type {
  Announcement,
  Block,
  Member,
  MyRoom,
  Pin,
  PresenceStatus,
  PublicUser,
  UserSettings,
} from '../../../src/protocol/model.js';
import type { FileInfo } from '../../../src/protocol/model.js';
import type { AssistantStreamFrame } from '../../../src/protocol/frames.js';
import type { Locale, MsgKey } from '../i18n/index.js';
import type { UiMessage } from './messages.js';
import type { Permission } from './notify-policy.js';

export interface RoomView {
  /** Stored messages in seq order, then this user's pending/failed ones in the order sent. */
  messages: UiMessage[];
  hasMore: boolean;
  loading: boolean;
  loaded: boolean;
  /**
   * The messages are a window around a message jumped to far back (search, a quote), not joined to the room's newest:
   * newer pages load as the reader scrolls down, until they meet what arrived live meanwhile (timeline.ts).
   */
  detached?: boolean;
}

export interface PendingInvite {
  roomId: string;
  roomName: string;
  inviter: PublicUser;
}

export interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'error' | 'success';
}

export type Dialog =
  | { kind: 'directory' }
  | { kind: 'create' }
  | { kind: 'dm' }
  | { kind: 'invite'; roomId: string }
  | { kind: 'leave'; roomId: string }
  | { kind: 'pins'; roomId: string }
  | { kind: 'notify'; roomId: string }
  | { kind: 'mentions' }
  | { kind: 'search'; roomId?: string }
  | { kind: 'profile'; userId: string }
  | { kind: 'settings' }
  // Moderation and administration: their views load on first use (app/Moderation.tsx, app/Admin.tsx).
  | { kind: 'roomSettings'; roomId: string }
  | { kind: 'member'; roomId: string; userId: string }
  | { kind: 'report'; roomId: string; seq: number }
  | { kind: 'deleteMessage'; roomId: string; seq: number }
  | { kind: 'reports' }
  | { kind: 'admin' }
  | null;

export type Theme = 'light' | 'dark';

/** Session (session.ts): who is signed in, and the socket's state. */
export interface SessionState {
  me: PublicUser | null;
  conn: ConnectionState;
  maxChars: number;
  /** The server's upload limits (welcome): a file over the size, or one too many, is refused before it is sent. */
  maxUploadBytes: number;
  maxAttachments: number;
  /** Whether the server runs the built-in assistant (welcome.features): its room settings show only then. */
  assistant: boolean;
}

/** Rooms (rooms.ts): the user's rooms and what the sidebar shows of them. */
export interface RoomsState {
  rooms: Record<string, MyRoom>;
  /** Time of the latest message per room (ms), for "latest activity first". */
  activity: Record<string, number>;
  previews: Record<string, { senderId: string; body: string }>;
  active: string | null;
  invites: PendingInvite[];
  /** Public rooms this user asked to join that need a moderator's approval (answered 202 pending). */
  requested: Record<string, true>;
  drafts: Record<string, string>;
}

/** Timeline (timeline.ts): per room, its events merged by seq, and how many of them are unread. */
export interface TimelineState {
  views: Record<string, RoomView>;
  unread: Record<string, number>;
  /** Of those, how many mention the user (the server's `unreadMentions`, then `mention` frames). */
  unreadMentions: Record<string, number>;
}

/** Receipts (receipts.ts): the user's private settings, and per room the members' read markers when shared. */
export interface ReceiptsState {
  settings: UserSettings | null;
  /** Rooms with an unread message that mentions this user (or any unread DM message), from live messages. */
  mentioned: Record<string, true>;
  receipts: Record<string, Record<string, number>>;
}

/** Pins (pins.ts): per room opened, its pinned messages, newest pin first. */
export interface PinsState {
  pins: Record<string, Pin[]>;
}

/** Blocks (blocks.ts): the users this user blocked, by id, and the collapsed messages they chose to show. */
export interface BlocksState {
  blocked: Record<string, Block>;
  /** Timeline keys (`UiMessage.key`) of messages from blocked users shown after all. */
  shownBlocked: Record<string, true>;
}

/** A "joined" / "left" line of the conversation (membership.ts), from a `member.joined` / `member.left` event. */
export interface MemberLine {
  seq: number;
  /** `added` / `removed`: by someone else (`actorId`), e.g. an invite's owner or a kick. */
  kind: 'joined' | 'added' | 'left' | 'removed';
  userId: string;
  actorId: string;
  createdAt: string;
}

/** Membership lines (membership.ts): per room opened, its lines in seq order. */
export interface MembershipState {
  memberLines: Record<string, MemberLine[]>;
}

/** Outbox (outbox.ts): sends waiting on the room's slow mode (pending messages live in their room's view). */
export interface OutboxState {
  /** Per room: when slow mode lets this user post again (epoch ms). */
  slowUntil: Record<string, number>;
}

/** A file waiting to go with the next message (uploads.ts). */
export interface PendingUpload {
  key: string;
  name: string;
  size: number;
  /** The browser's guess (for the chip's icon); the server decides the real type from the bytes. */
  type: string;
  /** 0..1 of the request sent. */
  progress: number;
  status: 'uploading' | 'done' | 'failed';
  /** The stored file, once uploaded. */
  file?: FileInfo;
  error?: string;
}

/** Uploads waiting for the next message, per room (uploads.ts). */
export interface UploadsState {
  uploads: Record<string, PendingUpload[]>;
}

/** People (people.ts): the user directory, member lists, presence, online counts and who is typing. */
export interface PeopleState {
  users: Record<string, PublicUser>;
  members: Record<string, Member[]>;
  /** Cursor of the next page of a room's members (null: all loaded). */
  membersNext: Record<string, string | null>;
  /** Per room: members online. */
  online: Record<string, number>;
  serverOnline: number;
  presence: Record<string, PresenceStatus>;
  typing: Record<string, Record<string, number>>;
  /** Per room: the assistant's answer being written (its latest `assistant.stream` frame). */
  assistantStreams: Record<string, AssistantStreamFrame>;
}

/** The thread side panel (threads.ts): one thread at a time, its root and replies as loaded and received live. */
export interface ThreadPanel {
  roomId: string;
  rootSeq: number;
  root: UiMessage | null;
  replies: UiMessage[];
  loading: boolean;
  /** Older replies than the first loaded exist. */
  hasMore: boolean;
}

/** Replies and threads (threads.ts). */
export interface ThreadsState {
  /** The message the composer replies to (its quote shows above the input). */
  replying: { roomId: string; seq: number } | null;
  thread: ThreadPanel | null;
  /** A message just jumped to: scrolled into view and highlighted for a moment. */
  highlight: { roomId: string; seq: number } | null;
  /** Per `roomId:rootSeq` of a thread this user follows: the newest reply seen (ISO `lastReplyAt`), saved. */
  threadSeen: Record<string, string>;
}

/** UI of a session (ui.ts): what is open and what is being announced. */
export interface SessionUiState {
  dialog: Dialog;
  /** The message whose inline editor is open (one at a time). */
  editing: { roomId: string; seq: number } | null;
  sidebarOpen: boolean;
  toasts: Toast[];
  announcements: Announcement[];
}

/** What belongs to this browser, not to whoever is signed in: it survives a sign-out (ui.ts, session.ts). */
export interface DeviceState {
  phase: 'boot' | 'auth' | 'connecting' | 'ready';
  /** Why the sign-in screen is showing (the server ended the session), if it says. */
  authNotice: MsgKey | null;
  theme: Theme;
  locale: Locale;
  /** The member list beside the conversation (a layout preference, saved). */
  membersOpen: boolean;
  /** A short tone with each notification, on this device (notifier.ts; saved, off by default). */
  sound: boolean;
  /** The browser's permission for desktop notifications. */
  permission: Permission;
}

export type SignedInState = SessionState &
  RoomsState &
  TimelineState &
  ReceiptsState &
  PinsState &
  BlocksState &
  MembershipState &
  OutboxState &
  UploadsState &
  PeopleState &
  SessionUiState &
  ThreadsState;

export type AppState = SignedInState & DeviceState;

const freeze = <T extends object>(o: T): Readonly<T> => Object.freeze(o);
const emptyList = <T>(): T[] => Object.freeze([]) as unknown as T[];

/**
 * Everything that belongs to a signed-in user, as it is before the first byte from the server. Signing in starts
 * from it and signing out returns to it, so a second user on the same page sees nothing of the first.
 * Frozen, so that no code can change it in place.
 */
export const SESSION_START: Readonly<SignedInState> = freeze({
  me: null,
  conn: 'idle',
  maxChars: 4000,
  maxUploadBytes: 25 * 1024 * 1024,
  maxAttachments: 10,
  assistant: false,
  rooms: freeze({}),
  activity: freeze({}),
  previews: freeze({}),
  active: null,
  invites: emptyList<PendingInvite>(),
  requested: freeze({}),
  drafts: freeze({}),
  views: freeze({}),
  unread: freeze({}),
  unreadMentions: freeze({}),
  settings: null,
  mentioned: freeze({}),
  receipts: freeze({}),
  pins: freeze({}),
  blocked: freeze({}),
  shownBlocked: freeze({}),
  memberLines: freeze({}),
  slowUntil: freeze({}),
  uploads: freeze({}),
  users: freeze({}),
  members: freeze({}),
  membersNext: freeze({}),
  online: freeze({}),
  serverOnline: 0,
  presence: freeze({}),
  typing: freeze({}),
  assistantStreams: freeze({}),
  dialog: null,
  editing: null,
  replying: null,
  thread: null,
  highlight: null,
  threadSeen: freeze({}),
  sidebarOpen: false,
  toasts: emptyList<Toast>(),
  announcements: emptyList<Announcement>(),
});

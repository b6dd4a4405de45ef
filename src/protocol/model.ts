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
  sessionLabelMax: 64,
  pageMax: 200,
  /** A reply's quote of its target: the target's body cut to this many characters at send time. */
  quoteChars: 200,
  /** Longest `:emoji` of a reaction route (an emoji or a shortcode), in UTF-16 units. */
  emojiMaxChars: 64,
  /** A bot's slash command (issue 16): its name (without the `/`), description and argument hint. */
  botCommandNameMax: 32,
  botCommandDescriptionMax: 200,
  botCommandArgsHintMax: 100,
} as const;

// Control characters (C0, DEL, C1) and bidi overrides never belong in names: they spoof or break layouts.
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
// Message bodies may hold newlines and tabs, nothing else from C0/C1.
const BODY_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

const noControl = (s: string) => !NAME_FORBIDDEN.test(s);

/**
 * A session label as it may be stored when it comes from a header (the User-Agent) rather than a checked field:
 * characters names may not hold dropped, cut to the label length without splitting a surrogate pair.
 */
export function cleanSessionLabel(s: string): string {
  const clean = s.replace(new RegExp(NAME_FORBIDDEN.source, 'gu'), '').replace(/\p{Surrogate}/gu, '');
  return Array.from(clean).slice(0, PROTOCOL_LIMITS.sessionLabelMax).join('').trim();
}

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
/**
 * Search text (room directory, user search): what names may hold, so no control characters — a NUL would end the
 * pattern early in SQLite (matching everything) and is an error in PostgreSQL.
 */
export const SearchQuery = z
  .string()
  .max(PROTOCOL_LIMITS.searchQueryMax)
  .refine(noControl, 'must not contain control characters');
/** A label for the session list ("laptop", a browser name): the rules of other names. */
export const SessionLabel = z
  .string()
  .max(PROTOCOL_LIMITS.sessionLabelMax)
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
/** File ids one message may name: the server's MAX_ATTACHMENTS_PER_MESSAGE (at most this hard cap) bounds them. */
export const MAX_ATTACHMENT_IDS = 100;
export const AttachmentIds = z
  .array(z.string().min(1).max(64))
  .max(MAX_ATTACHMENT_IDS)
  .refine((ids) => new Set(ids).size === ids.length, 'must not name a file twice');
/** A message body, which may be empty ('') when the message carries attachments. */
export const BodyOrEmpty = z.union([Body, z.literal('')]);
/** A send without attachments needs a body. */
export const bodyOrAttachments: [
  (m: { body: string; attachments?: readonly string[] | undefined }) => boolean,
  { message: string; path: string[] },
] = [
  (m) => m.body !== '' || (m.attachments?.length ?? 0) > 0,
  { message: 'must not be empty without attachments', path: ['body'] },
];

export type ServerRole = 'admin' | 'user';
export type RoomKind = 'public' | 'private' | 'dm';
/** Room roles, most powerful first. What each may do is one table: ROOM_PERMISSIONS in src/core/permissions.ts. */
export type MemberRole = 'owner' | 'admin' | 'moderator' | 'member';
export const MEMBER_ROLES = ['owner', 'admin', 'moderator', 'member'] as const satisfies readonly MemberRole[];
export type PresenceStatus = 'online' | 'away' | 'offline';

/** A user as others see them. */
export interface PublicUser {
  id: string;
  username: string;
  displayName: string;
  statusText: string;
  role: ServerRole;
  createdAt: string;
  /** Their picture (`GET` it as it is: no token needed, immutable); absent when they have none. */
  avatarUrl?: string;
  /** Present (true) only on bot accounts (issue 16): clients mark them wherever a name appears. */
  bot?: true;
  /** Present (true) only on deleted accounts (issue 18): clients show "deleted user" for them. */
  deleted?: true;
}

/** A user's names and picture: all a client needs to title a DM or show who is in it. */
export type UserProfile = Pick<PublicUser, 'id' | 'username' | 'displayName' | 'avatarUrl' | 'bot'>;

export function toProfile(u: UserProfile): UserProfile {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    ...(u.avatarUrl ? { avatarUrl: u.avatarUrl } : {}),
    ...(u.bot ? { bot: true as const } : {}),
  };
}

/** Where an avatar is served: its id is random and a new picture gets a new one, so the URL never goes stale. */
export const avatarUrl = (avatarId: string): string => `/api/v1/avatars/${avatarId}`;

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
  settings: RoomSettings;
  /** The room's picture (see PublicUser.avatarUrl); absent when it has none. */
  avatarUrl?: string;
  /** The hash of the room's newest event (the head of its hash chain); absent while no event is hashed. */
  headHash?: string;
  /** The seq of the room's first hashed event (1, or the first event after migration 18 in an older room). */
  chainFrom?: number;
}

/** Per-room moderation settings, changed by room owners and admins. */
export interface RoomSettings {
  /** Announcement room: only moderators and above may post. */
  readOnly: boolean;
  /** Slow mode: a member (below moderator) may post once per this many seconds; 0 = off. */
  slowModeSeconds: number;
  /** Joining this public room needs a moderator's approval (a join request). */
  joinApproval: boolean;
  /**
   * The least room role whose `@room` / `@here` mentions everyone (or everyone online); from anyone below, the text
   * stays and mentions nobody. Default `moderator`.
   */
  mentionAllRole: MemberRole;
  /**
   * The server fetches a preview of the first link of each message (when LINK_PREVIEWS is on): `message.preview`
   * events. Default on; owners and admins turn it off for the room.
   */
  linkPreviews: boolean;
}

export const DEFAULT_ROOM_SETTINGS: RoomSettings = {
  readOnly: false,
  slowModeSeconds: 0,
  joinApproval: false,
  mentionAllRole: 'moderator',
  linkPreviews: true,
};

/** A room from its member's point of view. */
export interface MyRoom extends Room {
  myRole: MemberRole;
  /** Seq of the `member.joined` event that began your current membership. Resume never goes before it. */
  joinedSeq: number;
  /** For DMs: the other members' names, so a client can title the conversation. */
  members?: UserProfile[];
  /**
   * Your read marker: the seq of the last message you have read (`PUT …/read`), never before `joinedSeq`. Shared by
   * all your devices.
   */
  readSeq: number;
  /** Messages from others after `readSeq`, not deleted and not thread-only replies; counted up to UNREAD_COUNT_MAX. */
  unread: number;
  /**
   * Of those, the ones that mention you (by `@username`, or by `@room` / `@here` when it reached you), thread-only
   * replies included; counted up to UNREAD_COUNT_MAX.
   */
  unreadMentions: number;
  /** Your notification level for the room (`PUT …/notifications`), shared by all your devices; 'all' by default. */
  notify: NotifyLevel;
}

/**
 * How much of a room's traffic notifies you: every message from others (`all`, the default), only messages that
 * mention you, `@room` / `@here`, and every DM message (`mentions`), or nothing (`none`). A client policy: the server
 * delivers every event whatever the level.
 */
export type NotifyLevel = 'all' | 'mentions' | 'none';
export const NOTIFY_LEVELS: readonly NotifyLevel[] = ['all', 'mentions', 'none'];

/** `unread` counts stop here (a client shows "999+"): counting further would scan a long-unread room's history. */
export const UNREAD_COUNT_MAX = 1000;

/** A member's read marker, as read receipts show it (`GET …/receipts`, `member.read` events). */
export interface ReadReceipt {
  userId: string;
  readSeq: number;
}

/** A pinned message (`GET …/pins`): who pinned it when, and the message as it stands. */
export interface Pin {
  seq: number;
  pinnedBy: string;
  pinnedAt: string;
  message: RoomEvent;
}

/**
 * A user I blocked (`GET /api/v1/me/blocks`): who, and since when. Private to the blocker: nobody else, the blocked
 * user included, is told.
 */
export interface Block {
  user: PublicUser;
  since: string;
}

/** Private account settings (`GET/PATCH /api/v1/me/settings`). */
export interface UserSettings {
  /**
   * Read receipts: on (the default), your read marker is shown to the members of DMs and small rooms and you see
   * theirs; off, neither (reciprocal, as in Signal and WhatsApp).
   */
  readReceipts: boolean;
  /**
   * Do not disturb until this time (epoch ms; FOREVER_MS = until turned off), null = off. A client policy: clients
   * raise no desktop notification or sound while it lasts; the server still delivers everything.
   */
  dndUntil: number | null;
}

export interface Member {
  user: PublicUser;
  role: MemberRole;
  joinedAt: string;
  presence: PresenceStatus;
  /** When the member's mute ends; null = not muted. A far-future date (year 9999) means indefinitely. */
  mutedUntil: string | null;
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
  | 'message'
  | 'message.deleted'
  | 'message.edited'
  | 'reaction.added'
  | 'reaction.removed'
  | 'room.created'
  | 'room.updated'
  | 'member.joined'
  | 'member.left'
  | 'member.invited'
  | 'member.role'
  | 'member.muted'
  | 'member.unmuted'
  | 'member.read'
  | 'message.pinned'
  | 'message.unpinned'
  | 'message.preview';

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
  /**
   * A message's reactions as they stand, in history pages (`GET …/messages`) only; absent when it has none. Live and
   * replayed events do not carry it: the `reaction.added` / `reaction.removed` events after the message do.
   */
  reactions?: Reaction[];
  /** A message's attached files (`attachments` on send), in the order sent; absent when it has none. */
  attachments?: FileInfo[];
  /**
   * History integrity (docs/protocol.md "History integrity"): this event's link in its room's hash chain, hex
   * SHA-256 of `prevHash` and its canonical header. Absent on events stored before the chain began (migration 18).
   */
  hash?: string;
  /** The hash of the event before it (seq − 1), or the genesis hash (64 zeros) at the start of the room's chain. */
  prevHash?: string;
  /** SHA-256 of the canonical content (body and stored data) as appended: kept when the content is later erased. */
  contentHash?: string;
  /** On `message.edited` / `message.deleted` / `message.preview`: the content hash of the message after the change. */
  targetHash?: string;
}

/** One emoji's reactions on a message: who, in the order they reacted. Emojis are listed first-reacted first. */
export interface Reaction {
  /** The canonical form (src/core/emoji.ts): the emoji as the emojibase dataset writes it. */
  emoji: string;
  count: number;
  userIds: string[];
}

/** A message is a room event of type `message`. */
export type Message = RoomEvent & { type: 'message'; body: string; clientMsgId: string };

/**
 * One edit of a message (`GET …/messages/:seq/edits`): who changed it when, from what to what. `editSeq` is the seq of
 * the `message.edited` event the edit appended.
 */
export interface MessageEdit {
  editSeq: number;
  editorId: string;
  previousBody: string;
  body: string;
  editedAt: string;
}

/** The reply fields of a message (`data` of a `message` sent with `replyTo`), as stored at send time. */
export interface ReplyData {
  /** The seq of the message replied to (same room). */
  replyTo: number;
  /** The seq of the thread's root: the target's `threadRoot` if it has one, else `replyTo` (threads are flat). */
  threadRoot: number;
  /** Sent from a thread panel only: still on the room sequence, but main timelines do not show it. */
  threadOnly: boolean;
  /** The target as it was when the reply was sent: author and body cut to `quoteChars`; '' once it is deleted. */
  quote: { senderId: string; body: string; deleted?: true };
}

/**
 * A message's mentions, in its `data` (and in `message.edited` data, for the new text): absent when there are none.
 * `mentions` are the ids of the members named by `@username` (deduplicated, not the sender, at most MAX_MENTIONS);
 * `mentionAll` says the sender used `@room` or `@here` and was allowed to (the room's `mentionAllRole`).
 */
export interface MentionData {
  mentions?: string[];
  mentionAll?: 'room' | 'here';
}

/**
 * A link preview (issue 15): what the server found at the first http(s) link of a message — only the page's title,
 * description and image (Open Graph / Twitter card / `<title>` / meta description), plain text, length-capped. It
 * reaches clients as a `message.preview` event `{seq, messageId, preview}` on the room sequence, and history pages
 * carry it in the message's `data.preview`.
 */
export interface LinkPreview {
  /** The link as it appears in the message (http or https). */
  url: string;
  /** At most LINK_PREVIEW_TITLE_MAX characters; null when the page has none. */
  title: string | null;
  /** At most LINK_PREVIEW_DESCRIPTION_MAX characters; null when the page has none. */
  description: string | null;
  /**
   * The page's image (`og:image` / `twitter:image`), fetched once by the server and stored as a file readable by the
   * room: show its `thumbnail` variant (`GET /api/v1/files/:id/link?variant=thumbnail`), never the page's own URL.
   * Absent when the page names none, or it could not be fetched or is not a PNG, JPEG, GIF or WebP image.
   */
  image?: FileInfo;
}

/** The longest `LinkPreview.title` and `description` (code points; longer text is cut with an ellipsis). */
export const LINK_PREVIEW_TITLE_MAX = 200;
export const LINK_PREVIEW_DESCRIPTION_MAX = 500;

/** One entry of the mentions inbox (`GET /api/v1/me/mentions`): a message that mentions you, as it stands now. */
export interface MentionItem {
  /** The inbox cursor: pass the last one as `before` for the next page. */
  id: number;
  roomId: string;
  roomName: string;
  roomKind: RoomKind;
  message: RoomEvent;
}

/**
 * One result of `GET /api/v1/search`: a message as it stands now, its room, and a snippet of its text around the
 * match with each matched part between SEARCH_HIGHLIGHT_START (U+E000) and SEARCH_HIGHLIGHT_END (U+E001).
 */
export interface SearchResult {
  message: RoomEvent;
  roomName: string;
  roomKind: RoomKind;
  snippet: string;
}
export const SEARCH_HIGHLIGHT_START = '\u{e000}';
export const SEARCH_HIGHLIGHT_END = '\u{e001}';

/** What a thread root carries in history and in `GET …/thread` (`data.replyCount`, `data.lastReplyAt`). */
export interface ThreadSummary {
  replyCount: number;
  lastReplyAt: string | null;
}

export interface Announcement {
  id: string;
  body: string;
  from: PublicUser;
  createdAt: string;
}

/** A user as server admins see them. */
export interface AdminUser extends PublicUser {
  deactivated: boolean;
  /** When a server-wide ban ends; null = not banned. Year 9999 = indefinitely. */
  bannedUntil: string | null;
}

export type ReportStatus = 'open' | 'resolved';
export type ReportResolution = 'dismissed' | 'deleted' | 'muted' | 'banned';

/** A member's report of a message or a user, for the moderation queue. */
export interface Report {
  id: string;
  reporterId: string;
  /** The room the report is about (a message's room); null for a report about a user in general. */
  roomId: string | null;
  /** The reported message's seq in `roomId`; null for a user report. */
  seq: number | null;
  /** The reported user (the message's author for a message report). */
  targetUserId: string;
  reason: string;
  /** The message text when the report was filed, so deleting the message does not erase the evidence. */
  excerpt: string | null;
  status: ReportStatus;
  resolution: ReportResolution | null;
  resolvedBy: string | null;
  createdAt: string;
  resolvedAt: string | null;
}

/** One moderation or admin action, for the audit log. */
export interface AuditEntry {
  id: string;
  actorId: string;
  /** e.g. `room.kick`, `room.ban`, `message.delete`, `user.deactivate`; the full list is in docs/protocol.md. */
  action: string;
  roomId: string | null;
  targetUserId: string | null;
  data: Record<string, unknown> | null;
  createdAt: string;
}

/** Mutes and bans "until forever" are stored with this end time (9999-12-31T23:59:59Z). */
export const FOREVER_MS = 253_402_300_799_000;

/** A figure over the last 10 seconds and the last minute (less just after the node started). */
export interface StatsWindows<T> {
  last10s: T;
  last60s: T;
}

/** Delivery latency over a window: how many events were measured, and their median and 99th percentile (ms). */
export interface LatencyWindow {
  samples: number;
  /** null when no event was delivered in the window. */
  p50: number | null;
  p99: number | null;
}

/** One node's headline figures over its last 10 seconds, as it posted them for the others (`AdminStats.nodes`). */
export interface NodeSummary {
  id: string;
  startedAt: string;
  /** When the node posted this, by its own clock; a cluster's nodes post every 2 s. */
  postedAt: string;
  connections: number;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
  deliveryLatencyP99Ms: number | null;
  eventLoopDelayP99Ms: number;
  eventLoopUtilization: number;
}

/**
 * `GET /api/v1/admin/stats`: the operations dashboard of the node that answered. The figures are about that node
 * except `onlineUsers` (the whole deployment) and `nodes` (every live node's summary).
 */
export interface AdminStats {
  node: { id: string; clustered: boolean; startedAt: string; uptimeSec: number };
  sampledAt: string;
  /**
   * Distinct users online or away on any node. While Redis is unreachable presence falls back to this node's view,
   * and so does this count (`nodes` is null then); null if presence could not be read at all.
   */
  onlineUsers: number | null;
  /** Authenticated WebSocket connections on this node. */
  connections: number;
  /** Open WebSockets on this node, authenticated or not. */
  websockets: number;
  /** Messages stored through this node: since it started, and per second. */
  messages: { stored: number; perSecond: StatsWindows<number> };
  /** Room events written to this node's connections (one per event per recipient). */
  deliveries: { total: number; perSecond: StatsWindows<number> };
  /** From a live event being stored to its write to this node's connections. */
  deliveryLatencyMs: StatsWindows<LatencyWindow>;
  eventLoop: {
    /** The highest per-second p99 event-loop delay in the window, in ms beyond the 10 ms probe interval. */
    delayP99Ms: StatsWindows<number>;
    /** Share of time the event loop was busy (0–1). */
    utilization: StatsWindows<number>;
    /** BUSY_UTILIZATION_PERCENT as 0–1: above it the node gathers writes, and it is near capacity. */
    busyAbove: number;
  };
  /**
   * Every live node of the deployment (just this one when embedded), by id, this node's entry as of now; null
   * when the other nodes' entries could not be read (Redis down).
   */
  nodes: NodeSummary[] | null;
}

/**
 * An uploaded file (`POST /api/v1/files`). `contentType` is what the server detected from the bytes (magic numbers),
 * `application/octet-stream` when unknown; images (PNG, JPEG, GIF, WebP) have their pixel `width` and `height`.
 */
export interface FileInfo {
  id: string;
  name: string;
  size: number;
  contentType: string;
  width?: number;
  height?: number;
}

// ---- webhooks (issue 16) ----

/** Room event types an outgoing webhook may subscribe to (every type on the room sequence). */
export const WEBHOOK_EVENT_TYPES = [
  'message',
  'message.deleted',
  'message.edited',
  'reaction.added',
  'reaction.removed',
  'room.created',
  'room.updated',
  'member.joined',
  'member.left',
  'member.invited',
  'member.role',
  'member.muted',
  'member.unmuted',
  'member.read',
  'message.pinned',
  'message.unpinned',
  'message.preview',
] as const satisfies readonly RoomEventType[];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * Who a message posted through an incoming webhook is shown as: `data.integration` of the message. Clients show
 * `name` (and `iconUrl`) with an app badge instead of the sender's name; `senderId` is the webhook's creator.
 */
export interface IntegrationRef {
  id: string;
  name: string;
  iconUrl: string | null;
}

/** An incoming webhook of a room. `url` and `signingSecret` are present only in the answer that created it. */
export interface IncomingWebhook {
  id: string;
  roomId: string;
  name: string;
  iconUrl: string | null;
  /** Whether posts must carry a valid signature (X-Relaychat-Timestamp + X-Relaychat-Signature). */
  signed: boolean;
  createdBy: string;
  createdAt: string;
  url?: string;
  signingSecret?: string;
}

/** An outgoing webhook (event subscription): per room, or server-wide (`roomId` null: every public room). */
export interface WebhookSubscription {
  id: string;
  roomId: string | null;
  url: string;
  events: string[];
  createdBy: string;
  createdAt: string;
  /** The signing secret: present only in the answer that created it. */
  secret?: string;
}

/** One entry of a subscription's delivery log: an event and how its delivery went. */
export interface WebhookDelivery {
  subscriptionId: string;
  eventId: string;
  roomId: string;
  seq: number;
  eventType: string;
  /** `retrying`: an attempt failed and another is scheduled; `failed`: every attempt failed. */
  status: 'delivered' | 'retrying' | 'failed';
  attempts: number;
  /** The receiver's HTTP status on the last attempt (null: no answer). */
  lastStatus: number | null;
  /** Why the last attempt failed (timeout, refused by the SSRF guard, status …); null when delivered. */
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

// ---- bots (issue 16) ----

/** What a bot token may do: read its rooms, post, react, register slash commands. */
export type BotScope = 'read' | 'post' | 'react' | 'commands';
export const BOT_SCOPES = ['read', 'post', 'react', 'commands'] as const satisfies readonly BotScope[];

/** A bot as the people who manage it see it (`GET /api/v1/bots`). */
export interface BotInfo {
  bot: PublicUser;
  /** The room a room bot belongs to; null for a server-wide bot. */
  roomId: string | null;
  /** Who created it. */
  createdBy: string;
  scopes: BotScope[];
}

/** A slash command a bot registered (`PUT /api/v1/bots/me/commands`). */
export interface BotCommand {
  name: string;
  description: string;
  argsHint?: string;
}

// ---- slash commands (issue 16) ----
/**
 * An action message (`/me waves`): its `data.emote` is true and the body is the action alone ("waves"); clients show
 * it as "* Alice waves". Clients that do not know it show the body as plain text.
 */
export interface EmoteData {
  emote?: true;
}

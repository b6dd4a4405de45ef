import type {
  AuditEntry,
  Block,
  Invite,
  LinkPreview,
  MemberRole,
  MentionItem,
  MessageEdit,
  NotifyLevel,
  MyRoom,
  Pin,
  Reaction,
  PublicUser,
  ReadReceipt,
  Report,
  ReportResolution,
  Room,
  RoomEvent,
  RoomKind,
  RoomSettings,
  ServerRole,
  ThreadSummary,
  BotCommand,
  BotScope,
  FileInfo,
  WebhookDelivery,
} from '../protocol/model.js';
import type { QueryPart } from './search-text.js';

/**
 * Storage, split by concern. An implementation (SQLite embedded, PostgreSQL clustered) must pass the
 * conformance suite in test/ports/contract/store-contract.ts. All methods are async so a networked store fits.
 *
 * Durability: a method's promise resolves only after its writes are durable (committed, fsynced per the
 * engine's settings). A rejected promise means nothing was written.
 */

export type MemberRow = { user: PublicUser; role: MemberRole; joinedAt: string; mutedUntil: number | null };
/** A page of a room's members: those after (`joinedAt` ms, `userId`) in join order. */
export interface MemberPage {
  after?: { joinedAt: number; userId: string };
  limit: number;
}

export interface UserRecord extends PublicUser {
  passwordHash: string;
  deactivated: boolean;
  /** End of a server-wide ban (epoch ms; FOREVER_MS = indefinitely); null = not banned. Callers compare to now. */
  bannedUntil: number | null;
  /** The read-receipts privacy switch (UserSettings). */
  readReceipts: boolean;
  /** Do not disturb until (epoch ms), null = off (UserSettings). */
  dndUntil: number | null;
  /** Set only on bot accounts (issue 16): who manages it and what its tokens may do. */
  botOf?: BotOf;
}

/** A bot account's management facts (issue 16). */
export interface BotOf {
  /** The room of a room bot; null for a server-wide bot. */
  roomId: string | null;
  createdBy: string;
  /** The scopes every token of this bot gets. */
  scopes: BotScope[];
}

export interface SessionRecord {
  id: string;
  userId: string;
  tokenHash: string;
  label: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number;
  /** A bot token's scopes (issue 16); null or absent = a person's session, which may do all its user may. */
  scopes?: BotScope[] | null;
}

export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
}

export interface AccountStore {
  /**
   * Creates a user. Usernames are unique ignoring case: a clash throws ChatError `username_taken`.
   * The very first user of an empty store gets role `admin` when `adminIfFirst` is set (atomically).
   */
  createUser(user: NewUser, opts: { adminIfFirst: boolean; role?: ServerRole }): Promise<UserRecord>;
  getUser(id: string): Promise<UserRecord | null>;
  /** Case-insensitive lookup. */
  getUserByUsername(username: string): Promise<UserRecord | null>;
  /** Users by id, in no particular order; unknown ids are skipped. */
  getUsers(ids: readonly string[]): Promise<PublicUser[]>;
  /** Prefix match on username or display name, case-insensitive, active users only, by username. */
  searchUsers(q: string, limit: number): Promise<PublicUser[]>;
  updateProfile(id: string, patch: { displayName?: string; statusText?: string }): Promise<UserRecord>;
  setPasswordHash(id: string, hash: string): Promise<void>;
  setServerRole(id: string, role: ServerRole): Promise<void>;
  /** Admin directory: prefix match like searchUsers but including deactivated users, by username, paged. */
  listUsers(q: string, limit: number, cursor?: string): Promise<{ users: UserRecord[]; nextCursor: string | null }>;
  setDeactivated(id: string, deactivated: boolean): Promise<void>;
  /** Sets or clears (null) a server-wide ban. */
  setBannedUntil(id: string, until: number | null): Promise<void>;

  createSession(session: SessionRecord): Promise<void>;
  /** The session with this token hash and its user, or null. Expired sessions are returned; callers check. */
  getSessionByTokenHash(tokenHash: string): Promise<{ session: SessionRecord; user: UserRecord } | null>;
  touchSession(id: string, lastUsedAt: number, expiresAt: number): Promise<void>;
  listSessions(userId: string): Promise<SessionRecord[]>;
  /** Deletes one session of this user; false when it did not exist. */
  deleteSession(userId: string, sessionId: string): Promise<boolean>;
  /** Deletes all of a user's sessions except `exceptId`; returns the ids deleted. */
  deleteSessions(userId: string, exceptId?: string): Promise<string[]>;
}

export interface NewRoom {
  id: string;
  kind: RoomKind;
  name: string;
  topic: string;
  createdBy: string;
  /** For DMs: the canonical member set (sorted user ids joined by ","). Unique across rooms. */
  dmKey?: string;
  /** Initial members and roles. The creator first. */
  members: { userId: string; role: MemberRole }[];
}

export interface RoomPage {
  rooms: Room[];
  nextCursor: string | null;
}

export interface RoomStore {
  /**
   * Creates a room with its initial members and appends `room.created` then one `member.joined` per member,
   * atomically. For a DM whose `dmKey` exists already, creates nothing and returns the existing room
   * with `created: false` and no events.
   */
  createRoom(room: NewRoom): Promise<{ room: Room; events: RoomEvent[]; created: boolean }>;
  getRoom(id: string): Promise<Room | null>;
  /** The DM with this canonical member set (`NewRoom.dmKey`), or null. */
  getDmByKey(dmKey: string): Promise<Room | null>;
  /** Public rooms whose name or topic contains `q` (case-insensitive), by name then id, paged by cursor. */
  searchPublicRooms(q: string, limit: number, cursor?: string): Promise<RoomPage>;
  /** Rooms the user belongs to, newest activity first. */
  listRoomsOf(userId: string): Promise<MyRoom[]>;
  countRoomsOf(userId: string): Promise<number>;
  /**
   * Updates name/topic/settings and appends `room.updated` (data: the changed fields, settings flattened as
   * `readOnly`, `slowModeSeconds`, `joinApproval`), atomically.
   */
  updateRoom(
    roomId: string,
    patch: { name?: string; topic?: string; settings?: Partial<RoomSettings> },
    actorId: string,
  ): Promise<{ room: Room; event: RoomEvent }>;

  getRole(roomId: string, userId: string): Promise<MemberRole | null>;
  /** One membership with its moderation state (one read: the send path uses it). */
  getMember(roomId: string, userId: string): Promise<MemberRecord | null>;
  /**
   * Members in join order (ties by user id). With `page`: at most `limit` of them, after the member `after` names
   * (keyset pagination: stable while members join and leave).
   */
  listMembers(roomId: string, page?: MemberPage): Promise<MemberRow[]>;
  listMemberIds(roomId: string): Promise<string[]>;
  countRole(roomId: string, role: MemberRole): Promise<number>;
  /**
   * Adds a member and appends `member.joined`, atomically; also clears a pending invite and join request.
   * Returns null (and appends nothing) when the user is already a member.
   */
  addMember(roomId: string, userId: string, role: MemberRole, actorId: string): Promise<RoomEvent | null>;
  /** Removes a member and appends `member.left` (data `{userId, reason}`); null when the user was not a member. */
  removeMember(roomId: string, userId: string, actorId: string, reason: 'left' | 'removed'): Promise<RoomEvent | null>;
  /** Changes a member's role and appends `member.role`; null when not a member. */
  setMemberRole(roomId: string, userId: string, role: MemberRole, actorId: string): Promise<RoomEvent | null>;

  /** Records an invite and appends `member.invited`; null when one is pending already. */
  createInvite(roomId: string, userId: string, inviterId: string): Promise<RoomEvent | null>;
  hasInvite(roomId: string, userId: string): Promise<boolean>;
  listInvites(userId: string): Promise<Invite[]>;
  /** Deletes a pending invite; false when there was none. */
  deleteInvite(roomId: string, userId: string): Promise<boolean>;
}

export interface MemberRecord {
  role: MemberRole;
  /** Epoch ms; null = not muted. Callers compare with now (an expired mute is no mute). */
  mutedUntil: number | null;
  joinedSeq: number;
}

export interface RoomBan {
  userId: string;
  /** Epoch ms; FOREVER_MS = indefinitely. Callers compare with now. */
  until: number;
  reason: string;
  actorId: string;
  createdAt: number;
}

/** Report and audit ids come from newTimeId (src/core/ids.ts): they sort by creation time, so "newest first" is id order. */
export interface NewReport {
  id: string;
  reporterId: string;
  roomId: string | null;
  seq: number | null;
  targetUserId: string;
  reason: string;
  excerpt: string | null;
}

export interface NewAuditEntry {
  id: string;
  actorId: string;
  action: string;
  roomId: string | null;
  targetUserId: string | null;
  data: Record<string, unknown> | null;
}

/**
 * Moderation state: mutes, room bans, deleted messages, join requests, reports and the audit log.
 * Event-producing methods append to the room's one sequence, atomically with their change, like RoomStore's.
 */
export interface ModerationStore {
  /** Sets a member's mute end (epoch ms) and appends `member.muted` `{userId, until}` (ISO); null when not a member. */
  muteMember(roomId: string, userId: string, until: number, actorId: string): Promise<RoomEvent | null>;
  /** Clears a mute and appends `member.unmuted` `{userId}`; null when not a member or not muted. */
  unmuteMember(roomId: string, userId: string, actorId: string): Promise<RoomEvent | null>;
  /**
   * Records (or replaces) a room ban; if the user is a member, removes them and appends `member.left` with
   * `{userId, reason: 'banned'}`, atomically. Also drops their pending invite and join request.
   * Returns the event, or null when they were not a member (the ban is recorded either way).
   */
  banFromRoom(
    roomId: string,
    userId: string,
    ban: { until: number; reason: string },
    actorId: string,
  ): Promise<RoomEvent | null>;
  /** Lifts a room ban; false when there was none. */
  unbanFromRoom(roomId: string, userId: string): Promise<boolean>;
  /** The ban row, expired or not (callers compare `until` with now); null when none. */
  getRoomBan(roomId: string, userId: string): Promise<RoomBan | null>;
  listRoomBans(roomId: string): Promise<RoomBan[]>;

  /** One event by seq, or null. */
  getEvent(roomId: string, seq: number): Promise<RoomEvent | null>;
  /**
   * Redacts the message at `seq` (its body becomes '' and its data `{deleted: true, deletedBy}`) and appends
   * `message.deleted` `{seq, messageId}`, atomically. Null when there is no message at `seq` or it was deleted.
   * The message's edits go with it: its edit history is dropped and its `message.edited` events' bodies become ''.
   * So do its reactions (their events stay: they carry an emoji, not the message's text).
   */
  deleteMessage(roomId: string, seq: number, actorId: string): Promise<RoomEvent | null>;
  /**
   * Replaces the body of the message at `seq` and appends `message.edited` (body: the new text; data
   * `{seq, messageId, editedAt}`), recording the edit (previous and new body) in its history, atomically; the message
   * then reads with `data.editedAt`. When `body` equals the stored body nothing is written and `event` is null (a
   * retried edit). With `mentions`, the message's mention fields and rows follow the new text (and the event's data
   * carries the new fields); `mentioned` lists the users the edit newly mentions. Rejects with `room_not_found`, `not_found` (no message at `seq`), `message_deleted`, or
   * `forbidden` when `editorId` is not the author; nothing is written then.
   */
  editMessage(
    roomId: string,
    seq: number,
    editorId: string,
    body: string,
    mentions?: MentionUpdate,
  ): Promise<{ message: RoomEvent; event: RoomEvent | null; mentioned: string[] }>;
  /** The edits of the message at `seq`, oldest first (empty when never edited or deleted). */
  listMessageEdits(roomId: string, seq: number): Promise<MessageEdit[]>;

  /**
   * Records a request to join a room that needs approval; false when one is pending already. Rejects with
   * `room_not_found` / `user_not_found` for an unknown room or user.
   */
  createJoinRequest(roomId: string, userId: string): Promise<boolean>;
  listJoinRequests(roomId: string): Promise<{ user: PublicUser; createdAt: string }[]>;
  hasJoinRequest(roomId: string, userId: string): Promise<boolean>;
  /** Deletes a pending join request; false when there was none. */
  deleteJoinRequest(roomId: string, userId: string): Promise<boolean>;

  createReport(report: NewReport): Promise<Report>;
  getReport(id: string): Promise<Report | null>;
  /**
   * Reports newest first, paged by `before` (a report id from the previous page). `roomIds` restricts to reports
   * about those rooms (a room moderator's queue); omitted = all (a server admin's queue).
   */
  listReports(query: {
    status?: Report['status'];
    roomIds?: readonly string[];
    limit: number;
    before?: string;
  }): Promise<Report[]>;
  /** Marks an open report resolved; null when it does not exist or is resolved already (first resolver wins). */
  resolveReport(id: string, resolution: ReportResolution, resolvedBy: string): Promise<Report | null>;

  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first, paged by `before` (an entry id from the previous page); `roomId` filters to one room. */
  listAudit(query: { roomId?: string; limit: number; before?: string }): Promise<AuditEntry[]>;
}

export interface NewMessage {
  id: string;
  roomId: string;
  senderId: string;
  clientMsgId: string;
  body: string;
  /** Stored as the message's `data` (a reply's fields, ReplyData; MentionData); none for a plain message. */
  data?: Record<string, unknown>;
  /**
   * The users this message mentions (by name, `@room` or `@here`): a mention row each, in the message's own
   * transaction (the unread-mention counts and the inbox read them). None for most messages.
   */
  mentionTargets?: readonly string[];
  /**
   * Files attached (checked by the send steps: they exist and are the sender's): an attachment row each, in the
   * message's own transaction, and the list in the stored event. A file gone by then fails this message only, with
   * `attachment_not_found`.
   */
  attachments?: readonly FileInfo[];
}

/** How an edit changes a message's mentions (see ModerationStore.editMessage). */
export interface MentionUpdate {
  /** The message's new mention fields (MentionData); the old ones are dropped. */
  data: Record<string, unknown>;
  /** The users the new text mentions. */
  targets: readonly string[];
  /** Keep the rows of users mentioned before (an `@here` that stays `@here`: those were here then). */
  keepExisting: boolean;
}

/** Mentions: who is named, and each user's inbox. */
export interface MentionStore {
  /** The ids of the room's members with these usernames (any case); others are left out. */
  findMemberIds(roomId: string, usernames: readonly string[]): Promise<string[]>;
  /**
   * The messages that mention `userId`, newest mention first, in rooms they are a member of; `before` is an
   * exclusive MentionItem.id cursor. Deleted messages are not there (deleteMessage drops their rows).
   */
  listMentions(userId: string, q: { before?: number; limit: number }): Promise<MentionItem[]>;
}

/**
 * A filter on a room's events: `messages` (type `message`), or `membership` (`member.joined`, `member.left`: the
 * "joined" / "left" lines of a conversation).
 */
export type EventKinds = 'messages' | 'membership';

export interface EventStore {
  /**
   * Appends a message to its room's sequence. Idempotent per (senderId, clientMsgId): a repeat returns the
   * stored message with `duplicate: true` and writes nothing; the same key in another room throws
   * ChatError `client_msg_id_reused`. Sequence numbers per room are strictly increasing with no gaps,
   * shared with every other event type of the room. Implementations may group concurrent appends into one
   * transaction; each promise still resolves only after its own message is durable.
   */
  appendMessage(message: NewMessage): Promise<{ event: RoomEvent; duplicate: boolean }>;
  /** The message this sender stored under `clientMsgId` (any room), or null: what `appendMessage` would return as a duplicate. */
  findMessageByClientMsgId(senderId: string, clientMsgId: string): Promise<RoomEvent | null>;
  /**
   * Events of a room in ascending seq order. `after`/`before` are exclusive; with neither, the newest
   * `limit` events. `kinds` keeps only messages or only membership changes (the page may then span more than
   * `limit` seqs).
   */
  listEvents(
    roomId: string,
    query: { after?: number; before?: number; limit: number; kinds?: EventKinds },
  ): Promise<RoomEvent[]>;
}

/** Replies and threads: a reply is a message whose `data` holds ReplyData (see NewMessage.data). */
export interface ThreadStore {
  /**
   * The replies of the thread rooted at `rootSeq` (messages whose `data.threadRoot` is it, deleted ones included,
   * redacted), ascending by seq; `after`/`before` exclusive, with neither the newest `limit`. Like listEvents.
   */
  listThread(
    roomId: string,
    rootSeq: number,
    query: { after?: number; before?: number; limit: number },
  ): Promise<RoomEvent[]>;
  /**
   * For each of `rootSeqs` that has replies not deleted: how many, and when the last was sent. Roots without any are
   * absent from the map.
   */
  threadSummaries(roomId: string, rootSeqs: readonly number[]): Promise<Map<number, ThreadSummary>>;
}

export interface ReadStore {
  /**
   * Moves the member's read marker forward to the last message at or before `seq` (clamped to the room's last seq).
   * With `announce`, a move also appends `member.read` `{userId, readSeq}` on the room sequence (a read receipt),
   * atomically, without lifting the room's activity time. `moved` is false (and `event` null) when the marker did
   * not move (a repeat, or `seq` at or behind it): markers never go back. Rejects with `not_member`, or `room_not_found` when announcing.
   */
  markRead(
    roomId: string,
    userId: string,
    seq: number,
    announce: boolean,
  ): Promise<{ readSeq: number; moved: boolean; event: RoomEvent | null }>;
  /** The read markers of the room's members who share read receipts, by user id. */
  listReadReceipts(roomId: string): Promise<ReadReceipt[]>;
  /** Changes private settings; rejects with `user_not_found`. */
  updateUserSettings(id: string, patch: { readReceipts?: boolean; dndUntil?: number | null }): Promise<UserRecord>;
  /**
   * Sets the member's notification level for the room (`MyRoom.notify`); `changed` is false when it already was.
   * Rejects with `not_member`.
   */
  setNotifyLevel(roomId: string, userId: string, level: NotifyLevel): Promise<{ changed: boolean }>;
}

export interface PinStore {
  /**
   * Pins the message at `seq` and appends `message.pinned` `{seq, messageId}`, atomically. `event` is null when it
   * was pinned already (nothing written). Rejects with `room_not_found`, `not_found` (no message at `seq`),
   * `message_deleted`, or `too_many_pins` when the room has `maxPins` pins; nothing is written then.
   */
  pinMessage(roomId: string, seq: number, actorId: string, maxPins: number): Promise<{ event: RoomEvent | null }>;
  /** Unpins it and appends `message.unpinned` `{seq, messageId}`; `event` null when it was not pinned. */
  unpinMessage(roomId: string, seq: number, actorId: string): Promise<{ event: RoomEvent | null }>;
  /** The room's pinned messages, newest pin first. A deleted message is not pinned (deleteMessage drops its pin). */
  listPins(roomId: string): Promise<Pin[]>;
}

/** Blocks between users: a row per (blocker, blocked), private to the blocker. */
export interface BlockStore {
  /**
   * Records that `userId` blocks `blockedId`. `created` is false when the block existed (nothing written; `block.since`
   * is then the original time). Rejects with `user_not_found` for an unknown `blockedId`, or `too_many_blocks` when
   * `userId` has `max` blocks already; nothing is written then.
   */
  blockUser(userId: string, blockedId: string, max: number): Promise<{ block: Block; created: boolean }>;
  /** Lifts the block; false when there was none. */
  unblockUser(userId: string, blockedId: string): Promise<boolean>;
  /** The users `userId` blocked, with their public profile, newest block first. */
  listBlocks(userId: string): Promise<Block[]>;
  /** Whether there is a block, in either direction, between `userId` and any of `others`. */
  blockBetween(userId: string, others: readonly string[]): Promise<boolean>;
  /** Whether `userId` blocked `blockedId` (one direction). */
  hasBlocked(userId: string, blockedId: string): Promise<boolean>;
  /** Whether there is a block, in either direction, between `userId` and a member of the room (one query). */
  blockWithMember(roomId: string, userId: string): Promise<boolean>;
}

/**
 * Pictures of users and rooms: small images kept by a random id, which a change replaces (never rewrites), so a URL
 * naming one never goes stale. Replacing or clearing a picture deletes the old one in the same transaction.
 */
export interface AvatarStore {
  /** Sets (`avatar`) or clears (null) the user's picture; the updated user. `user_not_found` if unknown. */
  setUserAvatar(userId: string, avatar: { id: string; bytes: Uint8Array } | null): Promise<UserRecord>;
  /**
   * Sets or clears the room's picture and appends `room.updated` `{avatarUrl}` (null when cleared) on its sequence;
   * `room_not_found` if unknown.
   */
  setRoomAvatar(
    roomId: string,
    avatar: { id: string; bytes: Uint8Array } | null,
    actorId: string,
  ): Promise<{ room: Room; event: RoomEvent }>;
  /** A picture's bytes, or null when there is none by that id. */
  getAvatar(id: string): Promise<Uint8Array | null>;
}

/** Reactions to messages: a row per (message, emoji, user), each change an event on the room sequence. */
export interface ReactionStore {
  /**
   * Adds `userId`'s reaction `emoji` (canonical) to the message at `seq` and appends `reaction.added` (data
   * `{seq, messageId, emoji, userId}`), atomically. Null when that reaction is there already (nothing written).
   * Rejects with `room_not_found`, `not_found` (no message at `seq`), `message_deleted`, or `too_many_reactions` when
   * the emoji is new on the message and it has `maxDistinct` different ones already; nothing is written then.
   */
  addReaction(
    roomId: string,
    seq: number,
    userId: string,
    emoji: string,
    maxDistinct: number,
  ): Promise<RoomEvent | null>;
  /**
   * Removes `userId`'s reaction `emoji` and appends `reaction.removed` (same data), atomically. Null when there was
   * none (nothing written). Rejects with `room_not_found`, `not_found` or `message_deleted`.
   */
  removeReaction(roomId: string, seq: number, userId: string, emoji: string): Promise<RoomEvent | null>;
  /**
   * The reactions of the messages with seqs from `fromSeq` to `toSeq` (inclusive), by message seq: emojis first-reacted
   * first, each with its users in the order they reacted. Messages without reactions are absent.
   */
  listReactions(roomId: string, fromSeq: number, toSeq: number): Promise<Map<number, Reaction[]>>;
}

/** A stored file's metadata (the bytes are the blob `sha256` of the BlobStore). */
export interface FileRecord extends FileInfo {
  ownerId: string;
  sha256: string;
  /** An image's thumbnail blob, or null. */
  thumbSha256: string | null;
  thumbSize: number | null;
  /** 'upload' (collected when never attached) or a feature's own kind (kept until it deletes the file). */
  kind: string;
  createdAt: number;
}

/** Files and message attachments (migration 13). */
export interface FileStore {
  /**
   * Records a file, unless the owner's files (of every kind) would then add up to more than `quotaBytes`: rejects
   * with `quota_exceeded` then, and writes nothing. Concurrent uploads of one owner are serialized on the owner.
   */
  createFile(file: Omit<FileRecord, 'createdAt'>, quotaBytes: number): Promise<FileRecord>;
  getFile(id: string): Promise<FileRecord | null>;
  /** Files by id, in no particular order; unknown ids are skipped. */
  getFiles(ids: readonly string[]): Promise<FileRecord[]>;
  /** The bytes the owner's files take (the quota's measure). */
  fileUsage(ownerId: string): Promise<number>;
  /** The rooms with a message (not deleted) this file is attached to, at most `limit`. */
  attachmentRooms(fileId: string, limit: number): Promise<string[]>;
  /** Deletes a file unless a message has it attached (false then, or when there was none). */
  deleteFile(id: string): Promise<boolean>;
  /** Files of kind 'upload' created before `createdBefore` (epoch ms) that no message has attached, oldest first. */
  unattachedFiles(createdBefore: number, limit: number): Promise<FileRecord[]>;
  /** Whether any file's bytes or thumbnail are this blob. */
  blobInUse(sha256: string): Promise<boolean>;
  /**
   * The server secret named `name`: the stored one, or `candidate` stored now when there is none (the first node to
   * ask wins; every node then gets the same value).
   */
  serverSecret(name: string, candidate: string): Promise<string>;
}

/** Link previews (issue 15): the preview rides its message's data and the room sequence. */
export interface LinkPreviewStore {
  /**
   * Stores `preview` in the message's `data.preview` and appends `message.preview` (sender: the message's author; data
   * `{seq, messageId, preview}`), atomically, without lifting the room's activity time. Null (nothing written) when
   * the room or message is gone, the message was deleted, or it has a preview already. With `preview.image`, the file
   * is attached to the message (a message_attachments row, not in its `attachments` list) in the same transaction, so
   * the room's readers may read it and it lives as long as the message; an unknown file id is dropped from the preview.
   */
  setLinkPreview(roomId: string, seq: number, preview: LinkPreview): Promise<RoomEvent | null>;
}

/**
 * A message search (SearchStore.searchMessages). `parts` come from parseQuery (src/core/search-text.ts): all must
 * match. Dates are epoch ms, `after`/`before` exclusive.
 */
export interface MessageSearch {
  userId: string;
  parts: readonly QueryPart[];
  roomId?: string;
  senderId?: string;
  after?: number;
  before?: number;
  has?: 'link' | 'file';
  /** true: thread replies only; false: no thread replies. */
  inThread?: boolean;
  sort: 'newest' | 'relevance';
  limit: number;
  /** Newest: the `position` of the previous page's last hit (results continue below it). Relevance: hits to skip. */
  cursor?: number;
}

export interface SearchHit {
  message: RoomEvent;
  roomName: string;
  roomKind: RoomKind;
  /** Where the hit sits in newest-first order (an opaque number for the next page's cursor). */
  position: number;
}

/**
 * Full-text search over messages. The index is kept by the writers themselves: appendMessage indexes a message,
 * editMessage re-indexes it and deleteMessage drops it, each in its own transaction, so a search never finds a word a
 * message no longer has.
 */
export interface SearchStore {
  /**
   * The messages matching the search in rooms `userId` may read (rooms they are a member of, and public rooms they
   * are not banned from), deleted ones never; newest first, or best match first (then newest). At most `limit`.
   */
  searchMessages(search: MessageSearch): Promise<SearchHit[]>;
}

/** An incoming webhook as stored: the URL's token only as its hash; the signing secret as is (HMAC needs it). */
export interface IncomingWebhookRecord {
  id: string;
  roomId: string;
  name: string;
  iconUrl: string | null;
  tokenHash: string;
  /** null: posts need no signature. */
  signingSecret: string | null;
  createdBy: string;
  createdAt: number;
}

/** An outgoing webhook as stored, with its signing secret. `roomId` null: server-wide (public rooms). */
export interface SubscriptionRecord {
  id: string;
  roomId: string | null;
  url: string;
  events: string[];
  secret: string;
  createdBy: string;
  createdAt: number;
}

/**
 * A subscription's position in one room's sequence, claimed by one node for a lease: the events after `lastSeq` are
 * that node's to deliver, in order, until it completes the claim or the lease runs out.
 */
export interface DeliveryClaim {
  subscription: SubscriptionRecord;
  roomId: string;
  lastSeq: number;
  /** Failed attempts at the event after `lastSeq` so far. */
  attempts: number;
}

/** What became of the first event of a claim that the subscription wants (the delivery log's entry). */
export interface DeliveryOutcome {
  eventId: string;
  seq: number;
  eventType: string;
  status: 'delivered' | 'retrying' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}

/**
 * Webhooks (migration 17). Outgoing deliveries are a durable queue without a queue table: each subscription keeps a
 * cursor per room over the room's own sequence (which is durable already), so nothing committed can be missed, a
 * restart resumes at the cursor, and events go out in sequence order. A node claims a cursor with a lease (PostgreSQL:
 * `FOR UPDATE SKIP LOCKED`), so no two nodes work on one at once, and moves it only while it holds the lease.
 */
export interface WebhookStore {
  /** Rejects with `too_many_webhooks` when the room has `max` incoming webhooks already; nothing is written then. */
  createIncomingWebhook(hook: Omit<IncomingWebhookRecord, 'createdAt'>, max: number): Promise<IncomingWebhookRecord>;
  getIncomingWebhookByTokenHash(tokenHash: string): Promise<IncomingWebhookRecord | null>;
  listIncomingWebhooks(roomId: string): Promise<IncomingWebhookRecord[]>;
  /** False when the room has no such webhook. Its remembered signatures go with it. */
  deleteIncomingWebhook(roomId: string, id: string): Promise<boolean>;
  /**
   * Remembers a signature of a signed post until `expiresAt` (epoch ms); false when it was remembered already (a
   * replay). Forgets the webhook's expired signatures on the way.
   */
  rememberSignature(webhookId: string, signature: string, expiresAt: number): Promise<boolean>;

  /**
   * Records a subscription with its cursors at the end of the room's sequence (server-wide: of every public room), so
   * it gets the events from now on. Rejects with `room_not_found`, or `too_many_webhooks` when its room (or the
   * server-wide list) has `max` already.
   */
  createSubscription(sub: Omit<SubscriptionRecord, 'createdAt'>, max: number): Promise<SubscriptionRecord>;
  getSubscription(id: string): Promise<SubscriptionRecord | null>;
  /** A room's subscriptions, or (null) the server-wide ones; oldest first. */
  listSubscriptions(roomId: string | null): Promise<SubscriptionRecord[]>;
  /** Deletes it with its cursors and log; false when there was none. */
  deleteSubscription(id: string): Promise<boolean>;
  /**
   * Claims up to `limit` cursors that have events to deliver and are due (not leased by a live lease, retry time
   * reached), leasing them to `nodeId` until now + `leaseMs`, oldest due first. Public rooms created after a
   * server-wide subscription get their cursor here, at the start of their sequence.
   */
  claimDeliveries(nodeId: string, leaseMs: number, limit: number): Promise<DeliveryClaim[]>;
  /**
   * Ends a claim (only while `nodeId` still holds it and the cursor is at `fromSeq`; false otherwise, writing nothing):
   * moves the cursor to `toSeq`, records `outcome` in the log when there is one, sets the failed-attempt count and
   * when the cursor is next due (`retryAt`, epoch ms; null = now), and releases the lease unless `keepLease` (the node
   * goes on to the next event under the same lease).
   */
  completeDelivery(
    claim: { subscriptionId: string; roomId: string; nodeId: string; fromSeq: number },
    toSeq: number,
    outcome: DeliveryOutcome | null,
    next: { attempts: number; retryAt: number | null; keepLease?: boolean },
  ): Promise<boolean>;
  /** A subscription's delivery log, newest first; `before` an `updatedAt` (epoch ms) from the previous page. */
  listDeliveries(subscriptionId: string, query: { limit: number; before?: number }): Promise<WebhookDelivery[]>;
  /** Drops log entries last updated before `before` (epoch ms); how many. */
  pruneDeliveries(before: number): Promise<number>;
}

export interface Store
  extends
    AccountStore,
    RoomStore,
    EventStore,
    ModerationStore,
    ReactionStore,
    ReadStore,
    PinStore,
    ThreadStore,
    MentionStore,
    BlockStore,
    LinkPreviewStore,
    FileStore,
    SearchStore,
    AvatarStore,
    WebhookStore,
    BotStore,
    KeepStore,
    ChainStore {
  /** Resolves when the store can serve; rejects otherwise. For readiness checks. */
  ping(): Promise<void>;
  /** Flushes pending writes and releases resources. Idempotent. */
  close(): Promise<void>;
}

// ---- bots (issue 16) ----

export interface NewBot extends NewUser {
  bot: BotOf;
}

/** A bot's registered command, with the bot it dispatches to. */
export interface BotCommandRow extends BotCommand {
  botId: string;
}

/** Bot accounts and their slash commands. A bot is a user (UserRecord.botOf set); its tokens are sessions with scopes. */
export interface BotStore {
  /** Creates a bot user (no usable password). A username clash throws `username_taken`. */
  createBot(bot: NewBot): Promise<UserRecord>;
  /** Active bots, by username: all of them, or (with `roomIds`) the room bots of those rooms. */
  listBots(query: { roomIds?: readonly string[] }): Promise<UserRecord[]>;
  /** Replaces the bot's commands (in the given order). */
  setBotCommands(botId: string, commands: readonly BotCommand[]): Promise<void>;
  /** The commands of the active bots that are members of the room, by name then bot id. */
  listRoomBotCommands(roomId: string): Promise<BotCommandRow[]>;
}

// ---- keeping and leaving (issue 18) ----

/** An admin-issued one-time password reset link (only the token's hash is stored). */
export interface PasswordResetRecord {
  tokenHash: string;
  userId: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
}

/** Account deletion, password reset links, own-data export. */
export interface KeepStore {
  /**
   * Marks the account deleted, atomically: `deleted_at` and `deactivated_at` set, the username replaced by
   * `placeholder` (freeing the name), display name `Deleted user`, status and avatar cleared, the password hash
   * unusable, and every session and reset link of the user dropped. Returns the ids of the sessions dropped; null
   * when there is no such user or it is deleted already.
   */
  markUserDeleted(id: string, placeholder: string): Promise<string[] | null>;
  /**
   * The user's messages not deleted, ordered by (roomId, seq), after the exclusive keyset `after`; at most `limit`.
   * Messages only (type `message`), in every room, whether or not the user is still a member.
   */
  listOwnMessages(userId: string, after: { roomId: string; seq: number } | null, limit: number): Promise<RoomEvent[]>;
  createPasswordReset(reset: PasswordResetRecord): Promise<void>;
  /** The link with this token hash, expired or not (callers compare), or null. */
  getPasswordReset(tokenHash: string): Promise<PasswordResetRecord | null>;
  /**
   * Uses a link: when it exists and `expiresAt > now`, sets the user's password hash, deletes every reset link of
   * the user and all their sessions, atomically; returns the user id and the ids of the sessions dropped. Null (and
   * nothing written) when the link is unknown, used or expired. Two concurrent uses: one wins.
   */
  consumePasswordReset(
    tokenHash: string,
    now: number,
    passwordHash: string,
  ): Promise<{ userId: string; sessionIds: string[] } | null>;
}

// ---- history integrity (issue 18) ----

/** A stored event as the chain covers it: `data` in its stored form (attachments inside it), hashes as stored. */
export interface ChainRow {
  seq: number;
  id: string;
  type: string;
  senderId: string;
  body: string | null;
  clientMsgId: string | null;
  data: Record<string, unknown> | null;
  createdAt: string;
  hash: string | null;
  prevHash: string | null;
  contentHash: string | null;
  targetHash: string | null;
}

/** What the room row says about its chain. */
export interface ChainHead {
  roomId: string;
  lastSeq: number;
  chainFrom: number;
  headHash: string | null;
}

export interface ChainStore {
  getChainHead(roomId: string): Promise<ChainHead | null>;
  /** Stored events with seq > afterSeq, ascending, at most `limit`: the rows as they are, for the verifier. */
  listChainRows(roomId: string, afterSeq: number, limit: number): Promise<ChainRow[]>;
  /** Every room's id after `afterId` (any kind), in id order, at most `limit`. */
  listRoomIds(afterId: string, limit: number): Promise<string[]>;
}

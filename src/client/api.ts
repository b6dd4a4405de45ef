import type { ErrorBody, ErrorCode } from '../protocol/errors.js';
import type { CommandInfo, CommandResult } from '../protocol/commands.js';
import type {
  Block,
  BotCommand,
  BotInfo,
  BotScope,
  AdminStats,
  AdminUser,
  AuditEntry,
  FileInfo,
  Invite,
  Member,
  MemberRole,
  Message,
  MessageEdit,
  NotifyLevel,
  MyRoom,
  MentionItem,
  Pin,
  PublicUser,
  ReadReceipt,
  Report,
  Room,
  RoomEvent,
  RoomSettings,
  SearchResult,
  ServerRole,
  SessionInfo,
  UserSettings,
  IncomingWebhook,
  WebhookDelivery,
  WebhookEventType,
  WebhookSubscription,
} from '../protocol/model.js';
import type { ChainReport, ChainSummary } from '../protocol/chain.js';
import { uploadMultipart, UploadFailure, type UploadOptions } from './upload.js';

/** The JSON of an answer, or its error as an ApiError (code and message from the catalogue body). */
function answerOf<T>(status: number, text: string, statusText = ''): T {
  if (status === 204) return undefined as T;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(status, 'internal', `Non-JSON response (${status})`, status >= 500);
  }
  if (status < 200 || status >= 300) {
    const e = (json as { error?: ErrorBody } | undefined)?.error;
    throw new ApiError(
      status,
      e?.code ?? 'internal',
      e?.message ?? (statusText || `HTTP ${status}`),
      e?.retryable ?? false,
      e?.retryAfterMs,
      e?.issues,
    );
  }
  return json as T;
}

/** An error answered by the server, with its stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /**
     * `join_pending`: `join` on a room that needs approval; the join request was recorded (HTTP 202).
     * `aborted`: an upload cancelled through its signal.
     */
    readonly code: ErrorCode | 'network_error' | 'join_pending' | 'aborted',
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    /** With `validation_failed`: which fields failed and why, as the server said. */
    readonly issues?: readonly { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A page of `GET /rooms/:roomId/members`: `online` counts the whole room; `nextCursor` is null on the last page. */
export interface MembersPage {
  members: Member[];
  online: number;
  nextCursor: string | null;
}

export interface AuthResult {
  token: string;
  user: PublicUser;
  sessionId: string;
}

type Query = Record<string, string | number | undefined>;

/** The parameters of `GET /api/v1/search` (dates as `YYYY-MM-DD` or ISO 8601 date-times with a zone). */
export interface MessageSearchParams {
  q: string;
  roomId?: string;
  /** An author's username. */
  from?: string;
  after?: string;
  before?: string;
  has?: 'file' | 'link';
  inThread?: boolean;
  sort?: 'newest' | 'relevance';
  limit?: number;
  cursor?: string;
}

/** A timed sanction (mute, ban): no `durationSec` = until lifted. */
export interface Sanction {
  durationSec?: number;
  reason?: string;
}

export interface RoomBanInfo {
  user: PublicUser;
  /** ISO; year 9999 = indefinitely. */
  until: string;
  reason: string;
  actorId: string;
  createdAt: string;
}

export interface JoinRequest {
  user: PublicUser;
  createdAt: string;
}

export type ReportAction = 'dismiss' | 'delete' | 'mute' | 'ban';

/** The HTTP API, typed. Works wherever `fetch` exists (browsers, Node >= 18). */
export class ChatApi {
  token: string | undefined;
  readonly baseUrl: string;

  constructor(baseUrl: string, token?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.token = token;
  }

  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const qs = query
      ? Object.entries(query)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join('&')
      : '';
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    // A form (an upload) sets its own multipart content type, boundary included.
    const form = typeof FormData !== 'undefined' && body instanceof FormData;
    if (body !== undefined && !form) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}${qs ? `?${qs}` : ''}`, {
        method,
        headers,
        ...(body !== undefined ? { body: form ? (body as FormData) : JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new ApiError(0, 'network_error', (err as Error).message, true);
    }
    return answerOf<T>(res.status, await res.text(), res.statusText);
  }

  /** Sends one file as multipart to `path` and reads the JSON answer (progress and cancel: UploadOptions). */
  async sendFile<T>(method: 'POST' | 'PUT', path: string, blob: Blob, name: string, opts: UploadOptions = {}) {
    let raw;
    try {
      raw = await uploadMultipart({ url: `${this.baseUrl}${path}`, token: this.token, method, blob, name }, opts);
    } catch (err) {
      if (err instanceof UploadFailure && err.reason === 'aborted')
        throw new ApiError(0, 'aborted', err.message, false);
      throw new ApiError(0, 'network_error', (err as Error).message, true);
    }
    return answerOf<T>(raw.status, raw.text);
  }

  /**
   * Uploads a file (streamed by the server, its type read from its bytes); attach the answer's `id` to a message. A
   * browser `File` is a Blob; in Node, `fs.openAsBlob(path)` streams it from disk. `onProgress` reports bytes sent;
   * aborting `signal` cancels it (rejects with code `aborted`). (The one upload call: `uploadFile` was the same.)
   */
  upload = (blob: Blob, name: string, opts: UploadOptions = {}) =>
    this.sendFile<{ file: FileInfo }>('POST', '/api/v1/files', blob, name, opts).then((r) => r.file);

  async register(username: string, password: string, displayName?: string): Promise<AuthResult> {
    const r = await this.request<AuthResult>('POST', '/api/v1/auth/register', {
      username,
      password,
      ...(displayName ? { displayName } : {}),
    });
    this.token = r.token;
    return r;
  }
  async login(username: string, password: string, label?: string): Promise<AuthResult> {
    const r = await this.request<AuthResult>('POST', '/api/v1/auth/login', {
      username,
      password,
      ...(label ? { label } : {}),
    });
    this.token = r.token;
    return r;
  }
  logout = () => this.request<void>('POST', '/api/v1/auth/logout');
  logoutEverywhere = () => this.request<{ revoked: number }>('POST', '/api/v1/auth/logout-all');
  sessions = () => this.request<{ sessions: SessionInfo[] }>('GET', '/api/v1/auth/sessions').then((r) => r.sessions);
  revokeSession = (id: string) => this.request<void>('DELETE', `/api/v1/auth/sessions/${id}`);
  changePassword = (currentPassword: string, newPassword: string) =>
    this.request<void>('POST', '/api/v1/auth/password', { currentPassword, newPassword });
  me = () => this.request<{ user: PublicUser }>('GET', '/api/v1/me').then((r) => r.user);
  /** Sets your picture (PNG, JPEG, GIF or WebP; the server crops it square and resizes it); others see it live. */
  setAvatar = (blob: Blob, name = 'avatar', opts: UploadOptions = {}) =>
    this.sendFile<{ user: PublicUser }>('PUT', '/api/v1/me/avatar', blob, name, opts).then((r) => r.user);
  clearAvatar = () => this.request<{ user: PublicUser }>('DELETE', '/api/v1/me/avatar').then((r) => r.user);
  /** Sets a room's picture (owners and admins); members get `room.updated` with the new `avatarUrl`. */
  setRoomAvatar = (roomId: string, blob: Blob, name = 'avatar', opts: UploadOptions = {}) =>
    this.sendFile<{ room: Room }>('PUT', `/api/v1/rooms/${roomId}/avatar`, blob, name, opts).then((r) => r.room);
  clearRoomAvatar = (roomId: string) =>
    this.request<{ room: Room }>('DELETE', `/api/v1/rooms/${roomId}/avatar`).then((r) => r.room);
  updateProfile = (patch: { displayName?: string; statusText?: string }) =>
    this.request<{ user: PublicUser }>('PATCH', '/api/v1/me', patch).then((r) => r.user);
  user = (id: string) =>
    this.request<{ user: PublicUser; presence: 'online' | 'away' | 'offline' }>('GET', `/api/v1/users/${id}`);
  searchUsers = (q = '', limit?: number) =>
    this.request<{ users: PublicUser[] }>('GET', '/api/v1/users', undefined, { q, limit }).then((r) => r.users);

  createRoom = (name: string, visibility: 'public' | 'private' = 'public', topic?: string) =>
    this.request<{ room: Room }>('POST', '/api/v1/rooms', { name, visibility, ...(topic ? { topic } : {}) }).then(
      (r) => r.room,
    );
  searchRooms = (q = '', opts: { limit?: number; cursor?: string } = {}) =>
    this.request<{ rooms: Room[]; nextCursor: string | null }>('GET', '/api/v1/rooms', undefined, { q, ...opts });
  myRooms = () => this.request<{ rooms: MyRoom[] }>('GET', '/api/v1/me/rooms').then((r) => r.rooms);
  invites = () => this.request<{ invites: Invite[] }>('GET', '/api/v1/me/invites').then((r) => r.invites);
  room = (roomId: string) => this.request<{ room: Room }>('GET', `/api/v1/rooms/${roomId}`).then((r) => r.room);
  /** The built-in assistant (issue 16): who it is; whether it is in a room; add or remove it (room admins). */
  assistant = () =>
    this.request<{ assistant: { user: PublicUser; backend: string; answersPerHour: number } }>(
      'GET',
      '/api/v1/assistant',
    );
  roomAssistant = (roomId: string, method: 'GET' | 'PUT' | 'DELETE' = 'GET') =>
    this.request<{ assistant: { added: boolean; user: PublicUser; backend: string; answersPerHour: number } }>(
      method,
      `/api/v1/rooms/${encodeURIComponent(roomId)}/assistant`,
    ).then((r) => r.assistant);
  updateRoom = (roomId: string, patch: { name?: string; topic?: string; settings?: Partial<RoomSettings> }) =>
    this.request<{ room: Room }>('PATCH', `/api/v1/rooms/${roomId}`, patch).then((r) => r.room);
  /** Joins a public room, or — when it needs approval — records a join request (`{pending: true}`). */
  requestJoin = (roomId: string) =>
    this.request<{ room: Room } | { pending: true }>('POST', `/api/v1/rooms/${roomId}/join`);
  /** Joins a public room; rejects with `join_pending` when it needs approval (the request is then recorded). */
  join = (roomId: string) =>
    this.requestJoin(roomId).then((r) => {
      if ('room' in r) return r.room;
      throw new ApiError(202, 'join_pending', 'This room needs approval: your join request was sent.', false);
    });
  leave = (roomId: string) => this.request<void>('POST', `/api/v1/rooms/${roomId}/leave`);
  invite = (roomId: string, username: string) =>
    this.request<void>('POST', `/api/v1/rooms/${roomId}/invites`, { username });
  acceptInvite = (roomId: string) =>
    this.request<{ room: Room }>('POST', `/api/v1/rooms/${roomId}/invite/accept`).then((r) => r.room);
  declineInvite = (roomId: string) => this.request<void>('POST', `/api/v1/rooms/${roomId}/invite/decline`);
  /** One page of members in join order (default 100, at most 200); pass `nextCursor` back for the next. */
  members = (roomId: string, page: { limit?: number; cursor?: string } = {}) =>
    this.request<MembersPage>('GET', `/api/v1/rooms/${roomId}/members`, undefined, page);
  /** Every member, page by page, up to `max` (default 5000): for small rooms and tools, not for huge ones. */
  allMembers = async (roomId: string, max = 5000): Promise<MembersPage> => {
    const first = await this.members(roomId, { limit: 200 });
    const members = [...first.members];
    let cursor = first.nextCursor;
    while (cursor && members.length < max) {
      const next = await this.members(roomId, { limit: 200, cursor });
      members.push(...next.members);
      cursor = next.nextCursor;
    }
    return { members, online: first.online, nextCursor: cursor };
  };
  setRole = (roomId: string, userId: string, role: MemberRole) =>
    this.request<void>('PUT', `/api/v1/rooms/${roomId}/members/${userId}/role`, { role });

  // Room moderation (moderators and up; see docs/protocol.md for who may do what).
  kick = (roomId: string, userId: string, reason?: string) =>
    this.request<void>('POST', `/api/v1/rooms/${roomId}/members/${userId}/kick`, reason ? { reason } : {});
  ban = (roomId: string, userId: string, opts: Sanction = {}) =>
    this.request<void>('PUT', `/api/v1/rooms/${roomId}/bans/${userId}`, opts);
  unban = (roomId: string, userId: string) => this.request<void>('DELETE', `/api/v1/rooms/${roomId}/bans/${userId}`);
  bans = (roomId: string) =>
    this.request<{ bans: RoomBanInfo[] }>('GET', `/api/v1/rooms/${roomId}/bans`).then((r) => r.bans);
  mute = (roomId: string, userId: string, opts: Sanction = {}) =>
    this.request<void>('PUT', `/api/v1/rooms/${roomId}/mutes/${userId}`, opts);
  unmute = (roomId: string, userId: string) => this.request<void>('DELETE', `/api/v1/rooms/${roomId}/mutes/${userId}`);
  /** Deletes a message (yours, or any as a moderator); everyone sees `message.deleted`. */
  deleteMessage = (roomId: string, seq: number) =>
    this.request<void>('DELETE', `/api/v1/rooms/${roomId}/messages/${seq}`);
  joinRequests = (roomId: string) =>
    this.request<{ requests: JoinRequest[] }>('GET', `/api/v1/rooms/${roomId}/requests`).then((r) => r.requests);
  approveJoin = (roomId: string, userId: string) =>
    this.request<void>('POST', `/api/v1/rooms/${roomId}/requests/${userId}/approve`);
  rejectJoin = (roomId: string, userId: string) =>
    this.request<void>('POST', `/api/v1/rooms/${roomId}/requests/${userId}/reject`);
  roomAudit = (roomId: string, q: { limit?: number; before?: string } = {}) =>
    this.request<{ entries: AuditEntry[] }>('GET', `/api/v1/rooms/${roomId}/audit`, undefined, q).then(
      (r) => r.entries,
    );

  // Reports: anyone may report; moderators see their rooms' reports, server admins all.
  report = (target: { roomId: string; seq: number; reason: string } | { userId: string; reason: string }) =>
    this.request<{ report: Report }>('POST', '/api/v1/reports', target).then((r) => r.report);
  reports = (q: { status?: 'open' | 'resolved'; limit?: number; before?: string } = {}) =>
    this.request<{ reports: Report[]; users: PublicUser[] }>('GET', '/api/v1/reports', undefined, q);
  resolveReport = (id: string, action: ReportAction, durationSec?: number) =>
    this.request<{ report: Report }>('POST', `/api/v1/reports/${id}/resolve`, {
      action,
      ...(durationSec !== undefined ? { durationSec } : {}),
    }).then((r) => r.report);

  // Server administration (server admins only).
  adminUsers = (q: { q?: string; limit?: number; cursor?: string } = {}) =>
    this.request<{ users: AdminUser[]; nextCursor: string | null }>('GET', '/api/v1/admin/users', undefined, q);
  deactivateUser = (id: string) => this.request<void>('POST', `/api/v1/admin/users/${id}/deactivate`);
  reactivateUser = (id: string) => this.request<void>('POST', `/api/v1/admin/users/${id}/reactivate`);
  /** Ends every session of the user (their sockets close); returns how many were revoked. */
  forceLogout = (id: string) =>
    this.request<{ revoked: number }>('POST', `/api/v1/admin/users/${id}/logout`).then((r) => r.revoked);
  setServerRole = (id: string, role: ServerRole) =>
    this.request<void>('PUT', `/api/v1/admin/users/${id}/role`, { role });
  serverBan = (id: string, opts: Sanction = {}) => this.request<void>('PUT', `/api/v1/admin/users/${id}/ban`, opts);
  serverUnban = (id: string) => this.request<void>('DELETE', `/api/v1/admin/users/${id}/ban`);
  /** The operations dashboard's figures of the node that answers (see docs/protocol.md). */
  adminStats = () => this.request<AdminStats>('GET', '/api/v1/admin/stats');
  audit = (q: { roomId?: string; limit?: number; before?: string } = {}) =>
    this.request<{ entries: AuditEntry[] }>('GET', '/api/v1/admin/audit', undefined, q).then((r) => r.entries);
  openDm = (...usernames: string[]) =>
    this.request<{ room: MyRoom }>('POST', '/api/v1/dms', { usernames }).then((r) => r.room);

  /**
   * `reply`: makes it a reply to the message at `replyTo` (`threadOnly`: shown in the thread, not the room).
   * `attachments`: ids of files you uploaded (`upload`); with them `body` may be ''.
   */
  sendMessage = (roomId: string, body: string, clientMsgId: string, reply?: ReplyOptions, attachments?: string[]) =>
    this.request<{ message: Message; duplicate: boolean }>('POST', `/api/v1/rooms/${roomId}/messages`, {
      body,
      clientMsgId,
      ...replyFields(reply),
      ...(attachments && attachments.length > 0 ? { attachments } : {}),
    });

  // ---- files (docs/protocol.md §3.12) ----
  fileInfo = (id: string) =>
    this.request<{ file: FileInfo }>('GET', `/api/v1/files/${encodeURIComponent(id)}/info`).then((r) => r.file);
  /**
   * A short-lived signed URL of a file (absolute, on this API's base URL) that works without a token: for
   * `<img src>`, `<audio src>`, `<a download>`. `thumbnail`: images only.
   */
  fileLink = async (id: string, variant: 'original' | 'thumbnail' = 'original') => {
    const r = await this.request<{ url: string; expiresAt: string }>(
      'GET',
      `/api/v1/files/${encodeURIComponent(id)}/link`,
      undefined,
      { variant },
    );
    return { url: `${this.baseUrl}${r.url}`, expiresAt: r.expiresAt };
  };
  /** Downloads a file: the response, whose `body` streams the bytes (or the `range`, inclusive). */
  async downloadFile(
    id: string,
    opts: { variant?: 'original' | 'thumbnail'; range?: { start: number; end?: number } } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.range) headers.range = `bytes=${opts.range.start}-${opts.range.end ?? ''}`;
    const q = opts.variant ? `?variant=${opts.variant}` : '';
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/v1/files/${encodeURIComponent(id)}${q}`, { headers });
    } catch (err) {
      throw new ApiError(0, 'network_error', (err as Error).message, true);
    }
    if (!res.ok) {
      const e = ((await res.json().catch(() => undefined)) as { error?: ErrorBody } | undefined)?.error;
      throw new ApiError(res.status, e?.code ?? 'internal', e?.message ?? res.statusText, e?.retryable ?? false);
    }
    return res;
  }
  /**
   * A thread: its root (with `data.replyCount` / `data.lastReplyAt`) and a page of its replies, oldest first; the seq
   * of a reply answers its root's thread. Paged like `messages`.
   */
  thread = (roomId: string, seq: number, q: { after?: number; before?: number; limit?: number } = {}) =>
    this.request<{ root: Message; messages: Message[] }>(
      'GET',
      `/api/v1/rooms/${roomId}/messages/${seq}/thread`,
      undefined,
      q,
    );
  /**
   * Edits your own message; everyone sees `message.edited`. Safe to retry with the same body: a body equal to the
   * stored one appends nothing and answers `edited: false`.
   */
  editMessage = (roomId: string, seq: number, body: string) =>
    this.request<{ message: Message; edited: boolean }>('PATCH', `/api/v1/rooms/${roomId}/messages/${seq}`, { body });
  /**
   * Moves your read marker forward to the last message at or before `seq` (never back; `moved: false` if it did not
   * move). Your other devices get a `read` frame; in small rooms members see a `member.read` receipt.
   */
  markRead = (roomId: string, seq: number) =>
    this.request<{ readSeq: number; moved: boolean }>('PUT', `/api/v1/rooms/${roomId}/read`, { seq });
  /** Members' read markers, for those who share them; `shared: false` when you do not, or the room is too big. */
  readReceipts = (roomId: string) =>
    this.request<{ shared: boolean; receipts: ReadReceipt[] }>('GET', `/api/v1/rooms/${roomId}/receipts`);
  settings = () => this.request<{ settings: UserSettings }>('GET', '/api/v1/me/settings').then((r) => r.settings);
  updateSettings = (patch: Partial<UserSettings>) =>
    this.request<{ settings: UserSettings }>('PATCH', '/api/v1/me/settings', patch).then((r) => r.settings);
  /** Sets your notification level for a room; your other devices get a `notify` frame. */
  setNotifyLevel = (roomId: string, level: NotifyLevel) =>
    this.request<{ level: NotifyLevel }>('PUT', `/api/v1/rooms/${roomId}/notifications`, { level }).then(
      (r) => r.level,
    );
  /** Pins a message (moderators; either member of a DM); `pinned: false` when it was pinned already. */
  pin = (roomId: string, seq: number) =>
    this.request<{ pinned: boolean }>('PUT', `/api/v1/rooms/${roomId}/messages/${seq}/pin`);
  unpin = (roomId: string, seq: number) =>
    this.request<{ unpinned: boolean }>('DELETE', `/api/v1/rooms/${roomId}/messages/${seq}/pin`);
  /** The room's pinned messages, newest pin first. */
  pins = (roomId: string) => this.request<{ pins: Pin[] }>('GET', `/api/v1/rooms/${roomId}/pins`).then((r) => r.pins);
  /** Blocks a user (by id): no DMs or invites from them; idempotent (`created: false` when blocked already). */
  block = (userId: string) =>
    this.request<{ block: Block; created: boolean }>('PUT', `/api/v1/me/blocks/${encodeURIComponent(userId)}`);
  unblock = (userId: string) =>
    this.request<{ unblocked: boolean }>('DELETE', `/api/v1/me/blocks/${encodeURIComponent(userId)}`);
  /** The users I blocked, newest first, with since when. */
  blocks = () => this.request<{ blocks: Block[] }>('GET', '/api/v1/me/blocks').then((r) => r.blocks);
  /** My mentions inbox, newest first; `before` is the last item's `id` of the previous page. */
  mentions = (q: { before?: number; limit?: number } = {}) => {
    const params = new URLSearchParams();
    if (q.before !== undefined) params.set('before', String(q.before));
    if (q.limit !== undefined) params.set('limit', String(q.limit));
    const qs = params.toString();
    return this.request<{ mentions: MentionItem[] }>('GET', `/api/v1/me/mentions${qs ? `?${qs}` : ''}`).then(
      (r) => r.mentions,
    );
  };
  /** A message's edits, oldest first (who, when, previous and new body). */
  messageEdits = (roomId: string, seq: number) =>
    this.request<{ edits: MessageEdit[] }>('GET', `/api/v1/rooms/${roomId}/messages/${seq}/edits`).then((r) => r.edits);
  /**
   * Adds your reaction to a message; `emoji` is a Unicode emoji or a shortcode (`thumbsup`, `:tada:`), sent
   * URL-encoded. The answer's `emoji` is the server's canonical form. Idempotent: `added` is false when you had it.
   */
  react = (roomId: string, seq: number, emoji: string) =>
    this.request<{ emoji: string; added: boolean; seq?: number }>(
      'PUT',
      `/api/v1/rooms/${roomId}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`,
    );
  /** Removes your reaction; idempotent: `removed` is false when you had none. */
  unreact = (roomId: string, seq: number, emoji: string) =>
    this.request<{ emoji: string; removed: boolean; seq?: number }>(
      'DELETE',
      `/api/v1/rooms/${roomId}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`,
    );
  messages = (roomId: string, q: { after?: number; before?: number; limit?: number } = {}) =>
    this.request<{ messages: Message[] }>('GET', `/api/v1/rooms/${roomId}/messages`, undefined, q).then(
      (r) => r.messages,
    );
  /** A page of the room's sequence; `kinds: 'membership'` keeps only joins and leaves. */
  events = (roomId: string, q: { after?: number; before?: number; limit?: number; kinds?: 'membership' } = {}) =>
    this.request<{ events: RoomEvent[] }>('GET', `/api/v1/rooms/${roomId}/events`, undefined, q).then((r) => r.events);
  /** A page of the room's messages centred on `around` (it included): "jump to the message in context". */
  messagesAround = (roomId: string, around: number, limit?: number) =>
    this.request<{ messages: Message[] }>('GET', `/api/v1/rooms/${roomId}/messages`, undefined, {
      around,
      limit,
    }).then((r) => r.messages);
  // ---- bots (issue 16) ----
  /** Creates a bot: server-wide (server admins) or, with `roomId`, in that room (its owners). The token shows once. */
  createBot = (input: { username: string; displayName?: string; roomId?: string; scopes: BotScope[] }) =>
    this.request<{ bot: PublicUser; token: string }>('POST', '/api/v1/bots', input);
  /** The bots the caller manages. */
  bots = () => this.request<{ bots: BotInfo[] }>('GET', '/api/v1/bots').then((r) => r.bots);
  /** A new token for the bot; the old one stops working at once. */
  rotateBotToken = (botId: string) =>
    this.request<{ token: string }>('POST', `/api/v1/bots/${botId}/token`).then((r) => r.token);
  deleteBot = (botId: string) => this.request<void>('DELETE', `/api/v1/bots/${botId}`);
  /** As a bot (scope `commands`): replaces its slash commands. */
  setBotCommands = (commands: BotCommand[]) =>
    this.request<{ commands: BotCommand[] }>('PUT', '/api/v1/bots/me/commands', { commands }).then((r) => r.commands);
  // ---- webhooks (issue 16) ----
  /**
   * Creates an incoming webhook (room owners and admins). The answer alone carries its secret `url` (and, when
   * `signed`, its `signingSecret`): neither can be read again.
   */
  createWebhook = (roomId: string, input: { name: string; iconUrl?: string; signed?: boolean }) =>
    this.request<{ webhook: IncomingWebhook & { url: string } }>(
      'POST',
      `/api/v1/rooms/${encodeURIComponent(roomId)}/webhooks`,
      input,
    ).then((r) => r.webhook);
  /** The room's incoming webhooks (no URLs or secrets). */
  webhooks = (roomId: string) =>
    this.request<{ webhooks: IncomingWebhook[] }>('GET', `/api/v1/rooms/${encodeURIComponent(roomId)}/webhooks`).then(
      (r) => r.webhooks,
    );
  /** Revokes an incoming webhook: its URL answers `webhook_not_found` at once. */
  revokeWebhook = (roomId: string, webhookId: string) =>
    this.request<void>(
      'DELETE',
      `/api/v1/rooms/${encodeURIComponent(roomId)}/webhooks/${encodeURIComponent(webhookId)}`,
    );
  /**
   * Posts to an incoming webhook's secret URL (what an outside system does; no session needed). A signed webhook
   * needs `signature` = {timestamp, signature} (see docs/integrations.md); `idempotencyKey` makes a retry safe.
   */
  postToWebhook = async (
    url: string,
    input: { text: string; displayName?: string; iconUrl?: string },
    opts: { idempotencyKey?: string; timestamp?: string; signature?: string; rawBody?: string } = {},
  ) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    if (opts.timestamp) headers['x-relaychat-timestamp'] = opts.timestamp;
    if (opts.signature) headers['x-relaychat-signature'] = opts.signature;
    let res: Response;
    try {
      // The signature covers the exact bytes: a caller that signed `rawBody` sends those.
      res = await fetch(url, { method: 'POST', headers, body: opts.rawBody ?? JSON.stringify(input) });
    } catch (err) {
      throw new ApiError(0, 'network_error', (err as Error).message, true);
    }
    return answerOf<{ message: Message; duplicate: boolean }>(res.status, await res.text(), res.statusText);
  };
  /**
   * Subscribes `url` to event types of one room (room owners and admins) or, with `roomId` null, of every public
   * room (server admins). The answer alone carries the signing `secret`.
   */
  subscribe = (roomId: string | null, input: { url: string; events: WebhookEventType[] }) =>
    this.request<{ subscription: WebhookSubscription & { secret: string } }>(
      'POST',
      subscriptionsPath(roomId),
      input,
    ).then((r) => r.subscription);
  subscriptions = (roomId: string | null) =>
    this.request<{ subscriptions: WebhookSubscription[] }>('GET', subscriptionsPath(roomId)).then(
      (r) => r.subscriptions,
    );
  unsubscribe = (roomId: string | null, subscriptionId: string) =>
    this.request<void>('DELETE', `${subscriptionsPath(roomId)}/${encodeURIComponent(subscriptionId)}`);
  /**
   * A subscription's delivery log, most recently changed first (default 50, at most 100). `before`: the previous
   * page's last entry's `updatedAt` (ISO or epoch ms).
   */
  deliveries = (roomId: string | null, subscriptionId: string, q: { limit?: number; before?: string | number } = {}) =>
    this.request<{ deliveries: WebhookDelivery[] }>(
      'GET',
      `${subscriptionsPath(roomId)}/${encodeURIComponent(subscriptionId)}/deliveries`,
      undefined,
      {
        limit: q.limit,
        before: typeof q.before === 'string' ? Date.parse(q.before) : q.before,
      },
    ).then((r) => r.deliveries);

  /** Full-text message search (`GET /api/v1/search`); pass the previous page's `nextCursor` for more. */
  search = (q: MessageSearchParams) =>
    this.request<{ results: SearchResult[]; nextCursor: string | null }>('GET', '/api/v1/search', undefined, {
      ...q,
      inThread: q.inThread === undefined ? undefined : String(q.inThread),
    });
  announce = (body: string) =>
    this.request<{ announcement: { id: string } }>('POST', '/api/v1/announcements', { body });
  online = () => this.request<{ online: number }>('GET', '/api/v1/presence').then((r) => r.online);

  // ---- slash commands (issue 16) ----
  /** The room's commands: built-ins, then its bots' commands (`source: 'bot'`). */
  commands = (roomId: string) =>
    this.request<{ commands: CommandInfo[] }>('GET', `/api/v1/rooms/${roomId}/commands`).then((r) => r.commands);
  /**
   * Runs composer text starting with `/` (`/me waves`, `/kick @bob spam`); `//text` posts `/text`. Rejects with
   * `unknown_command` (nothing posted) or `command_usage` (the message ends in the usage line).
   */
  runCommand = (roomId: string, text: string, clientMsgId?: string) =>
    this.request<{ result: CommandResult }>('POST', `/api/v1/rooms/${roomId}/commands`, {
      text,
      ...(clientMsgId ? { clientMsgId } : {}),
    }).then((r) => r.result);

  // ---- keeping and leaving (issue 18) ----
  /**
   * Deletes the signed-in account (needs its password). `keep`: messages stay, shown as a deleted user; `erase`: each
   * is deleted on its room's sequence. Every session ends at once, this one too.
   */
  deleteAccount = (password: string, messages: 'keep' | 'erase') =>
    this.request<{ erased: number; roomsLeft: number }>('DELETE', '/api/v1/me', { password, messages });
  /** One's own data (profile, rooms, messages, attached files' metadata) as the export document. */
  exportMine = () => this.request<AccountExport>('GET', '/api/v1/me/export');
  /** Admins: a one-time password reset link for a user; `path` (`/reset#<token>`) goes after the server's origin. */
  createResetLink = (userId: string) =>
    this.request<{ token: string; path: string; expiresAt: string }>(
      'POST',
      `/api/v1/admin/users/${userId}/reset-link`,
      {},
    );
  /** Whose reset link this is (`reset_link_invalid` when unknown, used or expired). */
  checkResetLink = (token: string) =>
    this.request<{ username: string; expiresAt: string }>('POST', '/api/v1/auth/reset/check', { token });
  /** Sets a new password through a reset link; every session of the account ends. */
  resetPassword = (token: string, newPassword: string) =>
    this.request<void>('POST', '/api/v1/auth/reset', { token, newPassword });
  // ---- history integrity (issue 18) ----
  /** Walks the room's stored hash chain (room admins and owners, server admins); names the first broken link. */
  verifyRoom = (roomId: string) =>
    this.request<{ report: ChainReport }>('GET', `/api/v1/rooms/${roomId}/verify`).then((r) => r.report);
  /** Walks every room's chain (server admins). */
  verifyAllRooms = () => this.request<ChainSummary>('GET', '/api/v1/admin/verify');
}

/** `GET /api/v1/me/export` (issue 18). */
export interface AccountExport {
  format: 'relaychat-export/1';
  exportedAt: string;
  profile: PublicUser;
  rooms: { id: string; kind: string; name: string }[];
  messages: {
    roomId: string;
    seq: number;
    id: string;
    createdAt: string;
    body: string;
    data?: Record<string, unknown>;
    attachments?: string[];
  }[];
  files: (FileInfo & { path: string })[];
}

/** Makes a send a reply: `replyTo` is the seq of a message of the same room; `threadOnly` keeps it out of the room. */
export interface ReplyOptions {
  replyTo: number;
  threadOnly?: boolean;
}

/** The send fields of a reply (none for a plain message). */
export function replyFields(reply: ReplyOptions | undefined): { replyTo?: number; threadOnly?: boolean } {
  if (!reply) return {};
  return { replyTo: reply.replyTo, ...(reply.threadOnly ? { threadOnly: true } : {}) };
}

/** Where a room's subscriptions live, or the server-wide ones (`roomId` null). */
function subscriptionsPath(roomId: string | null): string {
  return roomId === null
    ? '/api/v1/webhooks/subscriptions'
    : `/api/v1/rooms/${encodeURIComponent(roomId)}/subscriptions`;
}

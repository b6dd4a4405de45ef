import type {
  AuditEntry,
  BotScope,
  FileInfo,
  MemberRole,
  MessageEdit,
  PublicUser,
  Report,
  ReportResolution,
  ReportStatus,
  Room,
  RoomEvent,
  RoomEventType,
  ServerRole,
} from '../../protocol/model.js';
import { avatarUrl } from '../../protocol/model.js';
import { ChatError } from '../../core/chat-error.js';
import type { BotOf, MemberRecord, RoomBan, RoomPage, SessionRecord, UserRecord } from '../../core/store.js';

/**
 * Row → domain mapping shared by the SQL stores: both use the same column names and store times as epoch ms.
 * `data` arrives as JSON text from SQLite and already parsed (jsonb) from PostgreSQL.
 */
export type Row = Record<string, unknown>;

export const iso = (ms: unknown) => new Date(ms as number).toISOString();

export function toUser(r: Row): UserRecord {
  return {
    id: r.id as string,
    username: r.username as string,
    displayName: r.display_name as string,
    statusText: r.status_text as string,
    role: r.role as ServerRole,
    createdAt: iso(r.created_at),
    passwordHash: r.password_hash as string,
    deactivated: r.deactivated_at != null,
    bannedUntil: r.banned_until == null ? null : Number(r.banned_until),
    // SQLite stores booleans as 0/1; rows from before migration 7 (none in practice) read as on.
    readReceipts: r.read_receipts == null ? true : Boolean(r.read_receipts),
    dndUntil: r.dnd_until == null ? null : Number(r.dnd_until),
    ...(r.avatar_id ? { avatarUrl: avatarUrl(r.avatar_id as string) } : {}),
    // SQLite stores the flag as 0/1, PostgreSQL as a boolean; rows from before migration 16 have none.
    ...(r.bot ? { bot: true as const, botOf: toBotOf(r) } : {}),
    // Rows from before migration 19 have no deleted_at (undefined), like live accounts (null).
    ...(r.deleted_at != null ? { deleted: true as const } : {}),
  };
}

function toBotOf(r: Row): BotOf {
  return {
    roomId: (r.bot_room_id as string | null) ?? null,
    createdBy: r.bot_created_by as string,
    scopes: parseScopes(r.bot_scopes) ?? [],
  };
}

/** Scopes are stored as comma-separated text; null = none recorded (a person's session). */
export function parseScopes(v: unknown): BotScope[] | null {
  if (typeof v !== 'string') return null;
  return v === '' ? [] : (v.split(',') as BotScope[]);
}

export const scopesText = (scopes: readonly BotScope[] | null | undefined): string | null =>
  scopes ? scopes.join(',') : null;

export function toPublic(r: Row): PublicUser {
  const {
    passwordHash: _p,
    deactivated: _d,
    bannedUntil: _b,
    readReceipts: _r,
    dndUntil: _d2,
    botOf: _bo,
    ...pub
  } = toUser(r);
  return pub;
}

export function toRoom(r: Row): Room {
  return {
    id: r.id as string,
    kind: r.kind as Room['kind'],
    name: r.name as string,
    topic: r.topic as string,
    createdBy: r.created_by as string,
    createdAt: iso(r.created_at),
    lastSeq: r.last_seq as number,
    memberCount: r.member_count as number,
    settings: {
      // SQLite stores booleans as 0/1, PostgreSQL as booleans.
      readOnly: Boolean(r.read_only),
      slowModeSeconds: Number(r.slow_mode_s ?? 0),
      joinApproval: Boolean(r.join_approval),
      // Rows from before migration 9 (none in practice) read as the default.
      mentionAllRole: (r.mention_all_role as MemberRole | undefined) ?? 'moderator',
      // Rows from before migration 14 read as the default (on).
      linkPreviews: r.link_previews === undefined || r.link_previews === null ? true : Boolean(r.link_previews),
    },
    ...(r.avatar_id ? { avatarUrl: avatarUrl(r.avatar_id as string) } : {}),
    // History integrity (migration 18): absent while the room has no hashed event.
    ...(typeof r.head_hash === 'string' ? { headHash: r.head_hash } : {}),
    ...(r.chain_from != null ? { chainFrom: Number(r.chain_from) } : {}),
  };
}

export function toEvent(r: Row): RoomEvent {
  const data = typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data;
  const event: RoomEvent = {
    id: r.id as string,
    roomId: r.room_id as string,
    seq: r.seq as number,
    type: r.type as RoomEventType,
    senderId: r.sender_id as string,
    body: (r.body as string | null) ?? null,
    clientMsgId: (r.client_msg_id as string | null) ?? null,
    data: (data as Record<string, unknown> | null | undefined) ?? null,
    createdAt: iso(r.created_at),
  };
  // History integrity (migration 18): events stored before it have no hashes.
  if (typeof r.hash === 'string') {
    event.hash = r.hash;
    event.prevHash = r.prev_hash as string;
    event.contentHash = r.content_hash as string;
    if (typeof r.target_hash === 'string') event.targetHash = r.target_hash;
  }
  return (data as Record<string, unknown> | null)?.attachments !== undefined ? liftAttachments(event) : event;
}

/**
 * A message's attachments are stored in its `data` (so every read of the event brings them, replay included) and
 * carried as `attachments` beside it on the wire; `data` keeps the rest (null when nothing is left).
 */
export function liftAttachments(event: RoomEvent): RoomEvent {
  const { attachments, ...rest } = event.data ?? {};
  if (!Array.isArray(attachments)) return event;
  return {
    ...event,
    data: Object.keys(rest).length > 0 ? rest : null,
    ...(attachments.length > 0 ? { attachments: attachments as FileInfo[] } : {}),
  };
}

export function toEdit(r: Row): MessageEdit {
  return {
    editSeq: Number(r.edit_seq),
    editorId: r.editor_id as string,
    previousBody: r.previous_body as string,
    body: r.body as string,
    editedAt: iso(r.created_at),
  };
}

export function toSession(r: Row): SessionRecord {
  const session: SessionRecord = {
    id: r.id as string,
    userId: r.user_id as string,
    tokenHash: r.token_hash as string,
    label: r.label as string,
    createdAt: r.created_at as number,
    expiresAt: r.expires_at as number,
    lastUsedAt: r.last_used_at as number,
  };
  // Only a bot token has scopes (absent = a person's session).
  const scopes = parseScopes(r.scopes);
  return scopes === null ? session : { ...session, scopes };
}

/**
 * The public-room directory is ordered by (name_key, id); a page's cursor is the last row's pair, opaque to
 * clients (base64url JSON). No cursor starts at the beginning; a malformed one is a validation error.
 */
export function decodeRoomCursor(cursor: string | undefined): [string, string] {
  if (!cursor) return ['', ''];
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((x) => typeof x === 'string')) {
      return parsed as [string, string];
    }
  } catch {
    // fall through
  }
  throw new ChatError('validation_failed', { message: 'Invalid cursor.' });
}

/** Rows fetched with LIMIT `limit + 1`: the page, and a cursor when there is more. */
export function roomPage(rows: Row[], limit: number): RoomPage {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > limit && last ? Buffer.from(JSON.stringify([last.name_key, last.id])).toString('base64url') : null;
  return { rooms: page.map(toRoom), nextCursor };
}

/** `reports` row → Report. Columns: id, reporter_id, room_id, seq, target_user_id, reason, excerpt, status,
 * resolution, resolved_by, created_at, resolved_at (times epoch ms). */
export function toReport(r: Row): Report {
  return {
    id: r.id as string,
    reporterId: r.reporter_id as string,
    roomId: (r.room_id as string | null) ?? null,
    seq: r.seq == null ? null : Number(r.seq),
    targetUserId: r.target_user_id as string,
    reason: r.reason as string,
    excerpt: (r.excerpt as string | null) ?? null,
    status: r.status as ReportStatus,
    resolution: (r.resolution as ReportResolution | null) ?? null,
    resolvedBy: (r.resolved_by as string | null) ?? null,
    createdAt: iso(Number(r.created_at)),
    resolvedAt: r.resolved_at == null ? null : iso(Number(r.resolved_at)),
  };
}

/** `audit_log` row → AuditEntry. Columns: id, actor_id, action, room_id, target_user_id, data (JSON), created_at. */
export function toAudit(r: Row): AuditEntry {
  const data = typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data;
  return {
    id: r.id as string,
    actorId: r.actor_id as string,
    action: r.action as string,
    roomId: (r.room_id as string | null) ?? null,
    targetUserId: (r.target_user_id as string | null) ?? null,
    data: (data as Record<string, unknown> | null | undefined) ?? null,
    createdAt: iso(Number(r.created_at)),
  };
}

/** `room_bans` row → RoomBan. Columns: room_id, user_id, until, reason, actor_id, created_at (epoch ms). */
export function toRoomBan(r: Row): RoomBan {
  return {
    userId: r.user_id as string,
    until: Number(r.until),
    reason: r.reason as string,
    actorId: r.actor_id as string,
    createdAt: Number(r.created_at),
  };
}

/** `members` row (role, muted_until, joined_seq) → MemberRecord. */
export function toMember(r: Row): MemberRecord {
  return {
    role: r.role as MemberRole,
    mutedUntil: r.muted_until == null ? null : Number(r.muted_until),
    joinedSeq: Number(r.joined_seq),
  };
}

/** Admin-directory cursor: the last row's (username_key, id), opaque to clients (base64url JSON). */
export const encodeUserCursor = (usernameKey: string, id: string) =>
  Buffer.from(JSON.stringify([usernameKey, id])).toString('base64url');
/** Decodes an admin-directory cursor; a malformed one is a validation error. Same shape as the room cursor. */
export const decodeUserCursor = (cursor: string | undefined): [string, string] => decodeRoomCursor(cursor);

import type { QueryResultRow } from 'pg';
import { UNREAD_COUNT_MAX, type RoomEvent } from '../../protocol/model.js';
import type { AuditQuery, ReportQuery } from '../sql/moderation.js';
import { compileParams, valuesOf } from '../sql/params.js';
import type { Queries } from '../sql/queries.js';
import { scopesText, type Row } from '../sql/rows.js';
import type { FileRecord, SessionRecord } from '../../core/store.js';
import type { SearchRow } from '../sql/search.js';
import type { SeqRow } from '../sql/events.js';
import type { MessageSearch } from '../../core/store.js';
import { tsQuery, tsVector } from '../../core/search-text.js';

/** A pool or one checked-out connection: reads and one-statement writes use the pool, transactions one client. */
export interface Queryable {
  query<R extends QueryResultRow = Row>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** The engine's form of each named query: the same arguments and result, asynchronously, on a connection. */
export type PgQueries = {
  [K in keyof Queries]: (c: Queryable, args: Parameters<Queries[K]>[0]) => Promise<ReturnType<Queries[K]>>;
};

/** A statement with `@name` parameters; `map` turns the recipe's arguments into them where they differ. */
function compile<A extends object>(sql: string, map?: (args: A) => object) {
  const { text, names } = compileParams(sql, 'numbered');
  return async <R extends QueryResultRow>(c: Queryable, args: A) =>
    c.query<R>(text, valuesOf(names, map ? map(args) : args));
}

/** At most one row. */
const one = <R extends QueryResultRow = Row, A extends object = object>(sql: string, map?: (args: A) => object) => {
  const q = compile(sql, map);
  return async (c: Queryable, a: A) => (await q<R>(c, a)).rows[0];
};
const all = <R extends QueryResultRow = Row, A extends object = object>(sql: string, map?: (args: A) => object) => {
  const q = compile(sql, map);
  return async (c: Queryable, a: A) => (await q<R>(c, a)).rows;
};
/** Rows changed. */
const run = <A extends object = object>(sql: string, map?: (args: A) => object) => {
  const q = compile(sql, map);
  return async (c: Queryable, a: A) => (await q(c, a)).rowCount ?? 0;
};
/** An INSERT … RETURNING of exactly one row. */
const inserted = <A extends object = object>(sql: string, map?: (args: A) => object) => {
  const q = compile(sql, map);
  return async (c: Queryable, a: A) => (await q<Row>(c, a)).rows[0] as Row;
};
const exists = (sql: string) => {
  const q = compile(sql);
  return async (c: Queryable, a: object) => (await q(c, a)).rows.length > 0;
};
const count = (sql: string) => {
  const q = compile(sql);
  return async (c: Queryable, a: object) => (await q<{ n: number }>(c, a)).rows[0]?.n ?? 0;
};

/** Events as the columns of an unnest(): any number of rows in one statement. */
const eventArrays = ({ events, now }: { events: readonly RoomEvent[]; now: number }) => ({
  roomIds: events.map((e) => e.roomId),
  seqs: events.map((e) => e.seq),
  ids: events.map((e) => e.id),
  types: events.map((e) => e.type),
  senderIds: events.map((e) => e.senderId),
  bodies: events.map((e) => e.body),
  clientMsgIds: events.map((e) => e.clientMsgId),
  datas: events.map((e) => (e.data ? JSON.stringify(e.data) : null)),
  hashes: events.map((e) => e.hash ?? null),
  prevHashes: events.map((e) => e.prevHash ?? null),
  contentHashes: events.map((e) => e.contentHash ?? null),
  targetHashes: events.map((e) => e.targetHash ?? null),
  now,
});
const insertEvents = `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at,
    hash, prev_hash, content_hash, target_hash)
  SELECT room_id, seq, id, type, sender_id, body, client_msg_id, data::jsonb, @now,
    hash, prev_hash, content_hash, target_hash
  FROM unnest(@roomIds::text[], @seqs::bigint[], @ids::text[], @types::text[], @senderIds::text[], @bodies::text[],
              @clientMsgIds::text[], @datas::text[], @hashes::text[], @prevHashes::text[], @contentHashes::text[],
              @targetHashes::text[])
    AS x(room_id, seq, id, type, sender_id, body, client_msg_id, data, hash, prev_hash, content_hash, target_hash)`;
/**
 * The same, moving each room's head hash to its newest inserted event in the same statement (a data-modifying CTE:
 * no round trip more). The room row is locked already, by the seq this transaction took.
 */
const insertEventsMovingHeads = `WITH heads AS (
    UPDATE rooms AS r SET head_hash = h.hash
    FROM (SELECT DISTINCT ON (room_id) room_id, hash
          FROM unnest(@roomIds::text[], @seqs::bigint[], @hashes::text[]) AS y(room_id, seq, hash)
          ORDER BY room_id, seq DESC) AS h
    WHERE r.id = h.room_id
  )
  ${insertEvents}`;

const sessionWithUser = one(
  'SELECT s.*, to_json(u) AS u FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = @tokenHash',
);
const membersInsert = run(
  `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq)
   SELECT @roomId, user_id, role, @now, joined_seq FROM unnest(@userIds::text[], @roles::text[], @joinedSeqs::bigint[])
     AS x(user_id, role, joined_seq)
   ON CONFLICT DO NOTHING`,
  (a: { roomId: string; now: number; members: readonly { userId: string; role: string; joinedSeq: number }[] }) => ({
    roomId: a.roomId,
    now: a.now,
    userIds: a.members.map((m) => m.userId),
    roles: a.members.map((m) => m.role),
    joinedSeqs: a.members.map((m) => m.joinedSeq),
  }),
);
/** Takes the room row's lock and its next seq (see roomNextSeq in src/storage/sql/events.ts). */
const nextSeq = one<SeqRow>(
  `UPDATE rooms SET last_seq = last_seq + 1, last_event_at = GREATEST(last_event_at, @now),
     member_count = member_count + @memberDelta
   WHERE id = @roomId RETURNING last_seq, head_hash`,
);

/** Like nextSeq, without lifting the room's activity time (read receipts). */
const nextSeqQuiet = one<SeqRow>(
  'UPDATE rooms SET last_seq = last_seq + 1 WHERE id = @roomId RETURNING last_seq, head_hash',
);

/**
 * Reports and audit entries: newest first by (created_at, id); `before` names the previous page's last row, whose
 * position is looked up in the same statement (an unknown id yields an empty page).
 */
function newestFirst(c: Queryable, table: string, where: string[], params: unknown[], before?: string, limit = 0) {
  const param = (v: unknown) => `$${params.push(v)}`;
  if (before !== undefined) {
    where.push(`(created_at, id) < (SELECT created_at, id FROM ${table} WHERE id = ${param(before)})`);
  }
  return c.query(
    `SELECT * FROM ${table} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT ${param(limit)}`,
    params,
  );
}

/**
 * The SQL of every named query (src/storage/sql/queries.ts) for PostgreSQL.
 *
 * Differences from SQLite that live here: the `*_key` columns hold folded text (COLLATE "C", so comparisons and
 * ORDER BY are byte order, like SQLite's); `FOR NO KEY UPDATE` and `UPDATE … RETURNING` take the row locks that
 * serialize a room's writers across nodes; `GREATEST` keeps a room's activity time monotonic when nodes' clocks
 * differ; `ON CONFLICT` settles races with other nodes; arrays (`unnest`, `ANY`) make a batch one statement.
 */
export const pgQueries: PgQueries = {
  // ---- keeping and leaving (issue 18) ----
  userMarkDeleted: run(
    `UPDATE users SET username = @username, username_key = @usernameKey, display_name = 'Deleted user',
       display_name_key = 'deleted user', status_text = '', avatar_id = NULL, password_hash = '!',
       deactivated_at = COALESCE(deactivated_at, @now), deleted_at = @now
     WHERE id = @id AND deleted_at IS NULL`,
  ),
  resetsDeleteOfUser: run('DELETE FROM password_resets WHERE user_id = @userId'),
  ownMessagesAfter: all(
    `SELECT * FROM events
     WHERE sender_id = @userId AND type = 'message' AND (room_id, seq) > (@afterRoom, @afterSeq)
       AND (data IS NULL OR data->'deleted' IS DISTINCT FROM 'true'::jsonb)
     ORDER BY room_id, seq LIMIT @limit`,
  ),
  resetInsert: run(
    `INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at)
     VALUES (@tokenHash, @userId, @createdBy, @createdAt, @expiresAt)`,
  ),
  resetByTokenHash: one('SELECT * FROM password_resets WHERE token_hash = @tokenHash'),
  resetTake: one('DELETE FROM password_resets WHERE token_hash = @tokenHash AND expires_at > @now RETURNING *'),
  // ---- history integrity (issue 18) ----
  chainHead: one('SELECT last_seq, chain_from, head_hash FROM rooms WHERE id = @roomId'),
  chainRows: all('SELECT * FROM events WHERE room_id = @roomId AND seq > @seq ORDER BY seq LIMIT @limit'),
  roomIdsAfter: all<{ id: string }>('SELECT id FROM rooms WHERE id > @afterId ORDER BY id LIMIT @limit'),

  // ---- bots (issue 16) ----
  botInsert: one(
    `INSERT INTO users (id, username, username_key, display_name, display_name_key, role, password_hash, created_at,
                        bot, bot_room_id, bot_created_by, bot_scopes)
     VALUES (@id, @username, @usernameKey, @displayName, @displayNameKey, 'user', @passwordHash, @now,
             true, @roomId, @createdBy, @scopes)
     ON CONFLICT (username_key) DO NOTHING RETURNING *`,
  ),
  botsAll: all('SELECT * FROM users WHERE bot AND deactivated_at IS NULL ORDER BY username_key'),
  botsOfRooms: all(
    `SELECT * FROM users WHERE bot AND deactivated_at IS NULL AND bot_room_id = ANY(@roomIds::text[])
     ORDER BY username_key`,
  ),
  botCommandsDelete: run('DELETE FROM bot_commands WHERE bot_id = @botId'),
  botCommandInsert: run(
    `INSERT INTO bot_commands (bot_id, name, description, args_hint, position)
     VALUES (@botId, @name, @description, @argsHint, @position)`,
  ),
  roomBotCommands: all(
    `SELECT c.* FROM bot_commands c JOIN members m ON m.user_id = c.bot_id AND m.room_id = @roomId
     JOIN users u ON u.id = c.bot_id AND u.deactivated_at IS NULL
     ORDER BY c.name, c.bot_id`,
  ),

  // ---- accounts ----
  userById: one('SELECT * FROM users WHERE id = @id'),
  userByUsernameKey: one('SELECT * FROM users WHERE username_key = @usernameKey'),
  usersByIds: all('SELECT * FROM users WHERE id = ANY(@ids::text[])'),
  usersSearch: all(
    `SELECT * FROM users WHERE deactivated_at IS NULL
       AND (username_key LIKE @like ESCAPE '!' OR display_name_key LIKE @like ESCAPE '!')
     ORDER BY username_key LIMIT @limit`,
  ),
  usersDirectory: all(
    `SELECT * FROM users
     WHERE (username_key LIKE @like ESCAPE '!' OR display_name_key LIKE @like ESCAPE '!')
       AND (username_key, id) > (@afterKey, @afterId)
     ORDER BY username_key, id LIMIT @limit`,
  ),
  // People only: a bot made before anyone registered (the assistant) does not make the first person an ordinary user.
  usersExist: exists('SELECT 1 FROM users WHERE NOT bot LIMIT 1'),
  // Transaction-scoped advisory lock: concurrent first registrations queue here; each re-checks after the previous
  // one committed (READ COMMITTED: the next statement sees it).
  firstUserLock: async (c) => {
    await c.query("SELECT pg_advisory_xact_lock(hashtext('relaychat:first-user'))");
  },
  userInsert: one(
    `INSERT INTO users (id, username, username_key, display_name, display_name_key, role, password_hash, created_at)
     VALUES (@id, @username, @usernameKey, @displayName, @displayNameKey, @role, @passwordHash, @now)
     ON CONFLICT (username_key) DO NOTHING RETURNING *`,
  ),
  userUpdateProfile: one(
    `UPDATE users SET display_name = COALESCE(@displayName, display_name),
       display_name_key = COALESCE(@displayNameKey, display_name_key), status_text = COALESCE(@statusText, status_text)
     WHERE id = @id RETURNING *`,
  ),
  userSetPasswordHash: run('UPDATE users SET password_hash = @hash WHERE id = @id'),
  userSetRole: run('UPDATE users SET role = @role WHERE id = @id'),
  userDeactivate: run('UPDATE users SET deactivated_at = COALESCE(deactivated_at, @now) WHERE id = @id'),
  userReactivate: run('UPDATE users SET deactivated_at = NULL WHERE id = @id'),
  userSetBannedUntil: run('UPDATE users SET banned_until = @until WHERE id = @id'),

  sessionInsert: run(
    `INSERT INTO sessions (id, user_id, token_hash, label, created_at, expires_at, last_used_at, scopes)
     VALUES (@id, @userId, @tokenHash, @label, @createdAt, @expiresAt, @lastUsedAt, @scopes)`,
    (a: SessionRecord) => ({ ...a, scopes: scopesText(a.scopes) }),
  ),
  sessionByTokenHash: async (c, a) => {
    const r = await sessionWithUser(c, a);
    return r ? { session: r, user: r.u as Row } : undefined;
  },
  sessionTouch: run('UPDATE sessions SET last_used_at = @lastUsedAt, expires_at = @expiresAt WHERE id = @id'),
  sessionsOf: all('SELECT * FROM sessions WHERE user_id = @userId ORDER BY created_at, id'),
  sessionDelete: run('DELETE FROM sessions WHERE id = @id AND user_id = @userId'),
  sessionsDeleteExcept: all<{ id: string }>(
    'DELETE FROM sessions WHERE user_id = @userId AND id IS DISTINCT FROM @exceptId RETURNING id',
  ),

  // ---- rooms ----
  roomById: one('SELECT * FROM rooms WHERE id = @id'),
  roomByDmKey: one('SELECT * FROM rooms WHERE dm_key = @dmKey'),
  roomNameTaken: exists("SELECT 1 FROM rooms WHERE kind = 'public' AND name_key = @nameKey AND id <> @roomId"),
  roomInsert: one(
    `INSERT INTO rooms (id, kind, name, name_key, topic, topic_key, created_by, created_at, last_seq,
       last_event_at, member_count, dm_key)
     VALUES (@id, @kind, @name, @nameKey, @topic, @topicKey, @createdBy, @now, @lastSeq, @now, @memberCount, @dmKey)
     ON CONFLICT (dm_key) DO NOTHING RETURNING *`,
  ),
  // name_key and id are COLLATE "C": the row comparison and ORDER BY use byte order, like SQLite's.
  roomsSearch: all(
    `SELECT * FROM rooms WHERE kind = 'public'
       AND (name_key LIKE @like ESCAPE '!' OR topic_key LIKE @like ESCAPE '!')
       AND (name_key, id) > (@afterKey, @afterId)
     ORDER BY name_key, id LIMIT @limit`,
  ),
  // One statement, one snapshot: the DMs' other members come along as JSON.
  roomsOf: all(
    `SELECT r.*, m.role AS my_role, m.joined_seq, m.notify, GREATEST(m.read_seq, m.joined_seq) AS read_seq,
       (SELECT count(*)::int FROM (
          SELECT 1 FROM events e
          WHERE e.room_id = r.id AND e.seq > GREATEST(m.read_seq, m.joined_seq) AND e.type = 'message'
            AND e.sender_id <> @userId
            AND (e.data IS NULL OR (e.data->'deleted' IS DISTINCT FROM 'true'::jsonb
                                    AND e.data->'threadOnly' IS DISTINCT FROM 'true'::jsonb))
          LIMIT ${UNREAD_COUNT_MAX}) AS u) AS unread,
       (SELECT count(*)::int FROM (
          SELECT 1 FROM mentions mn
          WHERE mn.user_id = @userId AND mn.room_id = r.id AND mn.seq > GREATEST(m.read_seq, m.joined_seq)
          LIMIT ${UNREAD_COUNT_MAX}) AS um) AS unread_mentions,
       CASE WHEN r.kind = 'dm' THEN (
         SELECT coalesce(json_agg(to_json(u) ORDER BY om.joined_seq, om.user_id), '[]'::json)
         FROM members om JOIN users u ON u.id = om.user_id
         WHERE om.room_id = r.id AND om.user_id <> @userId
       ) END AS dm_members
     FROM members m JOIN rooms r ON r.id = m.room_id
     WHERE m.user_id = @userId
     ORDER BY r.last_event_at DESC, r.id`,
  ),
  roomCountOf: count('SELECT count(*) AS n FROM members WHERE user_id = @userId'),
  // The room lock, the new seq and the change in one statement.
  roomUpdate: one(
    `UPDATE rooms SET last_seq = last_seq + 1, last_event_at = GREATEST(last_event_at, @now),
       name = COALESCE(@name, name), name_key = COALESCE(@nameKey, name_key),
       topic = COALESCE(@topic, topic), topic_key = COALESCE(@topicKey, topic_key),
       read_only = COALESCE(@readOnly, read_only), slow_mode_s = COALESCE(@slowModeSeconds, slow_mode_s),
       join_approval = COALESCE(@joinApproval, join_approval),
       mention_all_role = COALESCE(@mentionAllRole, mention_all_role),
       link_previews = COALESCE(@linkPreviews, link_previews)
     WHERE id = @roomId RETURNING *`,
  ),

  memberGet: one('SELECT role, muted_until, joined_seq FROM members WHERE room_id = @roomId AND user_id = @userId'),
  membersOf: all(
    `SELECT u.*, m.role AS member_role, m.joined_at, m.muted_until FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.room_id = @roomId ORDER BY m.joined_at, m.user_id`,
  ),
  membersPage: all(
    `SELECT u.*, m.role AS member_role, m.joined_at, m.muted_until FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.room_id = @roomId AND (m.joined_at, m.user_id) > (@afterJoinedAt, @afterUserId)
     ORDER BY m.joined_at, m.user_id LIMIT @limit`,
  ),
  memberIdsOf: all<{ user_id: string }>('SELECT user_id FROM members WHERE room_id = @roomId'),
  memberCountWithRole: count('SELECT count(*) AS n FROM members WHERE room_id = @roomId AND role = @role'),
  memberInsert: run(
    `INSERT INTO members (room_id, user_id, role, joined_at, joined_seq)
     VALUES (@roomId, @userId, @role, @now, @joinedSeq) ON CONFLICT DO NOTHING`,
  ),
  membersInsert: async (c, a) => {
    await membersInsert(c, a);
  },
  memberDelete: run('DELETE FROM members WHERE room_id = @roomId AND user_id = @userId'),
  memberSetRole: run('UPDATE members SET role = @role WHERE room_id = @roomId AND user_id = @userId'),

  inviteInsert: run(
    `INSERT INTO invites (room_id, user_id, inviter_id, created_at) VALUES (@roomId, @userId, @inviterId, @now)
     ON CONFLICT DO NOTHING`,
  ),
  inviteExists: exists('SELECT 1 FROM invites WHERE room_id = @roomId AND user_id = @userId'),
  invitesOf: all(
    `SELECT r.*, i.created_at AS invited_at, to_json(u) AS inviter
     FROM invites i JOIN rooms r ON r.id = i.room_id JOIN users u ON u.id = i.inviter_id
     WHERE i.user_id = @userId ORDER BY i.created_at DESC, i.room_id`,
  ),
  inviteDelete: run('DELETE FROM invites WHERE room_id = @roomId AND user_id = @userId'),
  joinRequestDelete: run('DELETE FROM join_requests WHERE room_id = @roomId AND user_id = @userId'),

  // ---- moderation ----
  memberMute: run('UPDATE members SET muted_until = @until WHERE room_id = @roomId AND user_id = @userId'),
  memberUnmute: run(
    'UPDATE members SET muted_until = NULL WHERE room_id = @roomId AND user_id = @userId AND muted_until IS NOT NULL',
  ),
  roomLock: exists('SELECT 1 FROM rooms WHERE id = @roomId FOR NO KEY UPDATE'),
  banUpsert: run(
    `INSERT INTO room_bans (room_id, user_id, until, reason, actor_id, created_at)
     VALUES (@roomId, @userId, @until, @reason, @actorId, @now)
     ON CONFLICT (room_id, user_id) DO UPDATE SET until = excluded.until, reason = excluded.reason,
       actor_id = excluded.actor_id, created_at = excluded.created_at`,
  ),
  banDelete: run('DELETE FROM room_bans WHERE room_id = @roomId AND user_id = @userId'),
  banGet: one('SELECT * FROM room_bans WHERE room_id = @roomId AND user_id = @userId'),
  bansOf: all('SELECT * FROM room_bans WHERE room_id = @roomId ORDER BY created_at DESC, user_id'),
  messageRedact: one(
    // A reply keeps its place (replyTo, threadRoot, threadOnly) so clients still file it; its quote goes.
    `UPDATE events SET body = '', data = jsonb_build_object('deleted', true, 'deletedBy', @actorId::text)
       || CASE WHEN data ? 'threadRoot' THEN jsonb_build_object('replyTo', data->'replyTo',
            'threadRoot', data->'threadRoot', 'threadOnly', data->'threadOnly') ELSE '{}'::jsonb END
     WHERE room_id = @roomId AND seq = @seq AND type = 'message'
       AND (data IS NULL OR data->'deleted' IS DISTINCT FROM 'true'::jsonb)
     RETURNING *`,
  ),
  editEventsRedact: run(
    `UPDATE events SET body = ''
     WHERE room_id = @roomId AND type = 'message.edited'
       AND seq IN (SELECT edit_seq FROM message_edits WHERE room_id = @roomId AND seq = @seq)`,
  ),
  editsDelete: run('DELETE FROM message_edits WHERE room_id = @roomId AND seq = @seq'),
  // ---- mentions (migration 9) ----
  memberIdsByUsernameKeys: all<{ id: string }>(
    `SELECT u.id FROM users u JOIN members m ON m.user_id = u.id AND m.room_id = @roomId
     WHERE u.username_key = ANY(@keys::text[])`,
  ),
  mentionsInsert: run(
    `INSERT INTO mentions (user_id, room_id, seq, created_at)
     SELECT user_id, room_id, seq, @now FROM unnest(@userIds::text[], @roomIds::text[], @seqs::bigint[])
       AS x(user_id, room_id, seq)
     ON CONFLICT (user_id, room_id, seq) DO NOTHING`,
    (a: { rows: readonly { userId: string; roomId: string; seq: number }[]; now: number }) => ({
      userIds: a.rows.map((r) => r.userId),
      roomIds: a.rows.map((r) => r.roomId),
      seqs: a.rows.map((r) => r.seq),
      now: a.now,
    }),
  ),
  mentionUsersOf: all<{ user_id: string }>('SELECT user_id FROM mentions WHERE room_id = @roomId AND seq = @seq'),
  mentionsDeleteOf: run('DELETE FROM mentions WHERE room_id = @roomId AND seq = @seq'),
  mentionsDeleteUsers: run(
    'DELETE FROM mentions WHERE room_id = @roomId AND seq = @seq AND user_id = ANY(@userIds::text[])',
  ),
  messageDataSet: run(
    `UPDATE events SET data = @data::jsonb WHERE room_id = @roomId AND seq = @seq AND type = 'message'`,
    (a: { roomId: string; seq: number; data: Record<string, unknown> | null }) => ({
      ...a,
      data: a.data ? JSON.stringify(a.data) : null,
    }),
  ),
  mentionsInbox: all(
    `SELECT e.*, mn.id AS mn_id, r.name AS r_name, r.kind AS r_kind
     FROM mentions mn
     JOIN members m ON m.room_id = mn.room_id AND m.user_id = mn.user_id
     JOIN events e ON e.room_id = mn.room_id AND e.seq = mn.seq
     JOIN rooms r ON r.id = mn.room_id
     WHERE mn.user_id = @userId AND mn.id < @before
     ORDER BY mn.id DESC LIMIT @limit`,
  ),
  messageRewrite: run(
    `UPDATE events SET body = @body, data = coalesce(data, '{}'::jsonb) || jsonb_build_object('editedAt', @editedAt::text)
     WHERE room_id = @roomId AND seq = @seq AND type = 'message'`,
  ),
  editInsert: run(
    `INSERT INTO message_edits (room_id, seq, edit_seq, editor_id, previous_body, body, created_at)
     VALUES (@roomId, @seq, @editSeq, @editorId, @previousBody, @body, @now)`,
  ),
  editsOf: all('SELECT * FROM message_edits WHERE room_id = @roomId AND seq = @seq ORDER BY edit_seq'),
  reactionExists: exists(
    'SELECT 1 FROM reactions WHERE room_id = @roomId AND seq = @seq AND emoji = @emoji AND user_id = @userId',
  ),
  reactionEmojiExists: exists(
    'SELECT 1 FROM reactions WHERE room_id = @roomId AND seq = @seq AND emoji = @emoji LIMIT 1',
  ),
  reactionEmojiCount: count('SELECT count(DISTINCT emoji) AS n FROM reactions WHERE room_id = @roomId AND seq = @seq'),
  reactionInsert: run(
    `INSERT INTO reactions (room_id, seq, emoji, user_id, event_seq, created_at)
     VALUES (@roomId, @seq, @emoji, @userId, @eventSeq, @now)`,
  ),
  reactionDelete: run(
    'DELETE FROM reactions WHERE room_id = @roomId AND seq = @seq AND emoji = @emoji AND user_id = @userId',
  ),
  reactionsDeleteOf: run('DELETE FROM reactions WHERE room_id = @roomId AND seq = @seq'),
  // An emoji's place is its earliest remaining reaction; its users in the order they reacted.
  reactionsBetween: all(
    `SELECT r.seq, r.emoji, r.user_id FROM reactions r
       JOIN (SELECT seq, emoji, min(event_seq) AS first_seq FROM reactions
              WHERE room_id = @roomId AND seq BETWEEN @fromSeq AND @toSeq GROUP BY seq, emoji) f
         ON f.seq = r.seq AND f.emoji = r.emoji
      WHERE r.room_id = @roomId AND r.seq BETWEEN @fromSeq AND @toSeq
      ORDER BY r.seq, f.first_seq, r.event_seq`,
  ),
  joinRequestInsert: run(
    'INSERT INTO join_requests (room_id, user_id, created_at) VALUES (@roomId, @userId, @now) ON CONFLICT DO NOTHING',
  ),
  joinRequestsOf: all(
    `SELECT u.*, j.created_at AS requested_at FROM join_requests j JOIN users u ON u.id = j.user_id
     WHERE j.room_id = @roomId ORDER BY j.created_at, u.username_key`,
  ),
  joinRequestExists: exists('SELECT 1 FROM join_requests WHERE room_id = @roomId AND user_id = @userId'),
  reportInsert: inserted(
    `INSERT INTO reports (id, reporter_id, room_id, seq, target_user_id, reason, excerpt, created_at)
     VALUES (@id, @reporterId, @roomId, @seq, @targetUserId, @reason, @excerpt, @now) RETURNING *`,
  ),
  reportById: one('SELECT * FROM reports WHERE id = @id'),
  reportsList: async (c, q: ReportQuery) => {
    const params: unknown[] = [];
    const where: string[] = [];
    const param = (v: unknown) => `$${params.push(v)}`;
    if (q.status !== undefined) where.push(`status = ${param(q.status)}`);
    if (q.roomIds !== undefined) where.push(`room_id = ANY(${param([...q.roomIds])}::text[])`);
    return (await newestFirst(c, 'reports', where, params, q.before, q.limit)).rows;
  },
  // Concurrent resolvers: the row lock makes the second UPDATE wait, re-check status, and match nothing.
  reportResolve: one(
    `UPDATE reports SET status = 'resolved', resolution = @resolution, resolved_by = @resolvedBy, resolved_at = @now
     WHERE id = @id AND status = 'open' RETURNING *`,
  ),
  auditInsert: inserted(
    `INSERT INTO audit_log (id, actor_id, action, room_id, target_user_id, data, created_at)
     VALUES (@id, @actorId, @action, @roomId, @targetUserId, @data::jsonb, @now) RETURNING *`,
    (a: { data: Record<string, unknown> | null }) => ({ ...a, data: a.data ? JSON.stringify(a.data) : null }),
  ),
  auditList: async (c, q: AuditQuery) => {
    const params: unknown[] = [];
    const where: string[] = [];
    if (q.roomId !== undefined) where.push(`room_id = $${params.push(q.roomId)}`);
    return (await newestFirst(c, 'audit_log', where, params, q.before, q.limit)).rows;
  },

  // ---- events ----
  roomNextSeq: async (c, a) => (await nextSeq(c, a)) ?? null,
  roomNextSeqQuiet: async (c, a) => (await nextSeqQuiet(c, a)) ?? null,
  readMarkerGet: one(
    `SELECT GREATEST(m.read_seq, m.joined_seq) AS read_seq, r.last_seq FROM members m JOIN rooms r ON r.id = m.room_id
     WHERE m.room_id = @roomId AND m.user_id = @userId`,
  ),
  lastMessageSeqUpTo: count(
    `SELECT coalesce(max(seq), 0)::bigint AS n FROM events WHERE room_id = @roomId AND seq <= @seq AND type = 'message'`,
  ),
  readMarkerAdvance: run(
    'UPDATE members SET read_seq = @seq WHERE room_id = @roomId AND user_id = @userId AND read_seq < @seq',
  ),
  receiptsOf: all(
    `SELECT m.user_id, GREATEST(m.read_seq, m.joined_seq) AS read_seq FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.room_id = @roomId AND u.read_receipts ORDER BY m.user_id`,
  ),
  pinInsert: run(
    `INSERT INTO pins (room_id, seq, pinned_by, pinned_at) VALUES (@roomId, @seq, @pinnedBy, @now)
     ON CONFLICT DO NOTHING`,
  ),
  pinDelete: run('DELETE FROM pins WHERE room_id = @roomId AND seq = @seq'),
  pinCount: count('SELECT count(*)::int AS n FROM pins WHERE room_id = @roomId'),
  pinsOf: all(
    `SELECT e.*, p.pinned_by AS p_pinned_by, p.pinned_at AS p_pinned_at
     FROM pins p JOIN events e ON e.room_id = p.room_id AND e.seq = p.seq
     WHERE p.room_id = @roomId ORDER BY p.pinned_at DESC, p.seq DESC`,
  ),
  // ---- avatars ----
  avatarInsert: run('INSERT INTO avatars (id, bytes, created_at) VALUES (@id, @bytes, @now)'),
  avatarGet: one('SELECT bytes FROM avatars WHERE id = @id'),
  avatarDelete: run('DELETE FROM avatars WHERE id = @id'),
  userSetAvatar: one('UPDATE users SET avatar_id = @avatarId WHERE id = @id RETURNING *'),
  roomSetAvatar: one('UPDATE rooms SET avatar_id = @avatarId WHERE id = @roomId RETURNING *'),

  blockInsert: run(
    `INSERT INTO blocks (user_id, blocked_id, created_at) VALUES (@userId, @blockedId, @now) ON CONFLICT DO NOTHING`,
  ),
  blockDelete: run('DELETE FROM blocks WHERE user_id = @userId AND blocked_id = @blockedId'),
  blockCount: count('SELECT count(*)::int AS n FROM blocks WHERE user_id = @userId'),
  blockGet: one('SELECT * FROM blocks WHERE user_id = @userId AND blocked_id = @blockedId'),
  blocksOf: all(
    `SELECT u.*, b.created_at AS b_created_at FROM blocks b JOIN users u ON u.id = b.blocked_id
     WHERE b.user_id = @userId ORDER BY b.created_at DESC, b.blocked_id`,
  ),
  blockEither: exists(
    `SELECT 1 FROM blocks WHERE (user_id = @a AND blocked_id = @b) OR (user_id = @b AND blocked_id = @a)`,
  ),
  blockWithMemberOf: exists(
    `SELECT 1 FROM members m JOIN blocks b
       ON (b.user_id = @userId AND b.blocked_id = m.user_id) OR (b.blocked_id = @userId AND b.user_id = m.user_id)
     WHERE m.room_id = @roomId LIMIT 1`,
  ),
  userSettingsUpdate: one(
    `UPDATE users SET read_receipts = coalesce(@readReceipts::boolean, read_receipts),
       dnd_until = CASE WHEN @dndOff::boolean THEN NULL ELSE coalesce(@dndUntil::bigint, dnd_until) END
     WHERE id = @id RETURNING *`,
  ),
  notifyLevelGet: one('SELECT notify FROM members WHERE room_id = @roomId AND user_id = @userId'),
  notifyLevelSet: run('UPDATE members SET notify = @level WHERE room_id = @roomId AND user_id = @userId'),
  // ---- message search (migration 12) ----
  searchIndexInsert: run(
    `INSERT INTO message_search (room_id, seq, sender_id, created_at, has_link, has_file, thread_root, terms)
     SELECT r, s, u, c, l, f, t, v::tsvector
     FROM unnest(@roomIds::text[], @seqs::bigint[], @senderIds::text[], @createdAts::bigint[], @links::boolean[],
       @files::boolean[], @roots::bigint[], @vectors::text[]) AS x(r, s, u, c, l, f, t, v)`,
    ({ rows }: { rows: readonly SearchRow[] }) => ({
      roomIds: rows.map((r) => r.roomId),
      seqs: rows.map((r) => r.seq),
      senderIds: rows.map((r) => r.senderId),
      createdAts: rows.map((r) => r.createdAt),
      links: rows.map((r) => r.hasLink),
      files: rows.map((r) => r.hasFile),
      roots: rows.map((r) => r.threadRoot),
      vectors: rows.map((r) => tsVector(r.terms)),
    }),
  ),
  searchIndexUpdate: run(
    `UPDATE message_search SET terms = @vector::tsvector, has_link = @hasLink, has_file = @hasFile
     WHERE room_id = @roomId AND seq = @seq`,
    ({ row }: { row: SearchRow }) => ({ ...row, vector: tsVector(row.terms) }),
  ),
  searchIndexDelete: run('DELETE FROM message_search WHERE room_id = @roomId AND seq = @seq'),
  searchMessages: async (c, q) => {
    if (q.sort === 'relevance') {
      const { sql, args } = searchSql(q);
      return (await c.query(sql, args)).rows;
    }
    // Newest first, in docid windows from the top, each 16 times wider than the last, until the page is full. The
    // planner cannot tell how many rows a phrase (CJK) query matches: asked for the whole table, it takes every row
    // the GIN index offers (tens of thousands for a common phrase), rechecks each one's positions, then sorts them
    // for the newest 20. A window ANDs the GIN bitmap with a docid range first, so only its rows are rechecked.
    //
    // A query of several terms that many messages match (a common CJK phrase and a word) is the costly case even so:
    // the GIN index merges every row's entry of each term before the window cuts them (tens of milliseconds at a
    // million messages). Such a query's matches are dense, so it first reads the newest SEARCH_SCAN rows one by one,
    // which finds a page of dense matches in a fraction of a millisecond; the windows go on below what it read.
    let hi = q.cursor ?? Number((await c.query<{ top: string | null }>(TOP_DOCID)).rows[0]?.top ?? 0) + 1;
    const out: Row[] = [];
    if (severalTerms(q.parts) && hi > 1) {
      const lo = Math.max(1, hi - SEARCH_SCAN);
      const { sql, args } = searchSql(q, { lo, hi, scan: true });
      out.push(...(await c.query(sql, args)).rows);
      hi = lo;
    }
    for (let width = SEARCH_WINDOW; out.length < q.limit && hi > 1; width *= 16) {
      const lo = Math.max(1, hi - width);
      const { sql, args } = searchSql({ ...q, limit: q.limit - out.length }, { lo, hi });
      out.push(...(await c.query(sql, args)).rows);
      hi = lo;
    }
    return out;
  },
  eventsInsert: run(insertEventsMovingHeads, eventArrays),
  messagesInsertNew: run(
    `${insertEvents} ON CONFLICT (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING`,
    eventArrays,
  ),
  eventBySeq: one('SELECT * FROM events WHERE room_id = @roomId AND seq = @seq'),
  eventByClientMsgId: one('SELECT * FROM events WHERE sender_id = @senderId AND client_msg_id = @clientMsgId'),
  eventsByClientMsgIds: all(
    `SELECT e.* FROM unnest(@senderIds::text[], @clientMsgIds::text[]) AS k(sender_id, client_msg_id)
     JOIN events e ON e.sender_id = k.sender_id AND e.client_msg_id = k.client_msg_id
     WHERE e.client_msg_id IS NOT NULL`,
    (a: { keys: readonly { senderId: string; clientMsgId: string }[] }) => ({
      senderIds: a.keys.map((k) => k.senderId),
      clientMsgIds: a.keys.map((k) => k.clientMsgId),
    }),
  ),
  // Locked in id order, so two batches never deadlock on each other's rooms.
  roomsLockSeqs: all<{ id: string; last_seq: number; head_hash: string | null }>(
    'SELECT id, last_seq, head_hash FROM rooms WHERE id = ANY(@roomIds::text[]) ORDER BY id FOR NO KEY UPDATE',
  ),
  roomsAdvanceSeqs: all<
    { id: string; last_seq: number },
    { bumps: readonly { id: string; n: number; head: string }[]; now: number }
  >(
    `UPDATE rooms AS r SET last_seq = r.last_seq + b.n, head_hash = b.head,
       last_event_at = GREATEST(r.last_event_at, @now)
     FROM unnest(@ids::text[], @ns::bigint[], @heads::text[]) AS b(id, n, head)
     WHERE r.id = b.id RETURNING r.id, r.last_seq`,
    (a) => ({
      ids: a.bumps.map((b) => b.id),
      ns: a.bumps.map((b) => b.n),
      heads: a.bumps.map((b) => b.head),
      now: a.now,
    }),
  ),
  eventsAfter: all('SELECT * FROM events WHERE room_id = @roomId AND seq > @seq ORDER BY seq LIMIT @limit'),
  eventsBefore: all('SELECT * FROM events WHERE room_id = @roomId AND seq < @seq ORDER BY seq DESC LIMIT @limit'),
  messagesAfter: all(
    "SELECT * FROM events WHERE room_id = @roomId AND seq > @seq AND type = 'message' ORDER BY seq LIMIT @limit",
  ),
  messagesBefore: all(
    "SELECT * FROM events WHERE room_id = @roomId AND seq < @seq AND type = 'message' ORDER BY seq DESC LIMIT @limit",
  ),
  membershipAfter: all(
    `SELECT * FROM events WHERE room_id = @roomId AND seq > @seq AND type IN ('member.joined', 'member.left')
       ORDER BY seq LIMIT @limit`,
  ),
  membershipBefore: all(
    `SELECT * FROM events WHERE room_id = @roomId AND seq < @seq AND type IN ('member.joined', 'member.left')
       ORDER BY seq DESC LIMIT @limit`,
  ),
  // ---- threads: the expressions match migration 6's indexes ----
  threadAfter: all(
    `SELECT * FROM events WHERE room_id = @roomId AND (data->>'threadRoot')::bigint = @root
       AND (data->>'threadRoot')::bigint IS NOT NULL
       AND seq > @seq ORDER BY seq LIMIT @limit`,
  ),
  threadBefore: all(
    `SELECT * FROM events WHERE room_id = @roomId AND (data->>'threadRoot')::bigint = @root
       AND (data->>'threadRoot')::bigint IS NOT NULL
       AND seq < @seq ORDER BY seq DESC LIMIT @limit`,
  ),
  threadSummaries: all<{ root: number; n: number; last_at: number }, { roomId: string; roots: readonly number[] }>(
    `SELECT (data->>'threadRoot')::bigint AS root, count(*)::int AS n, max(created_at) AS last_at FROM events
     WHERE room_id = @roomId AND (data->>'threadRoot')::bigint = ANY(@roots::bigint[])
       AND (data->>'threadRoot')::bigint IS NOT NULL
       AND data->'deleted' IS DISTINCT FROM 'true'::jsonb
     GROUP BY 1`,
  ),
  quotesRedact: run(
    `UPDATE events SET data = jsonb_set(jsonb_set(data, '{quote,body}', '""'::jsonb), '{quote,deleted}', 'true'::jsonb)
     WHERE room_id = @roomId AND (data->>'replyTo')::bigint = @seq
       AND (data->>'replyTo')::bigint IS NOT NULL`,
  ),
  // ---- files and attachments (migration 13) ----
  fileOwnerLock: exists('SELECT 1 FROM users WHERE id = @ownerId FOR NO KEY UPDATE'),
  fileBytesOf: count('SELECT coalesce(sum(size), 0)::bigint AS n FROM files WHERE owner_id = @ownerId'),
  fileInsert: run(
    `INSERT INTO files (id, owner_id, name, size, content_type, sha256, width, height, thumb_sha256, thumb_size,
       kind, created_at)
     VALUES (@id, @ownerId, @name, @size, @contentType, @sha256, @width, @height, @thumbSha256, @thumbSize,
       @kind, @createdAt)`,
    ({ file }: { file: FileRecord }) => ({ width: null, height: null, ...file }),
  ),
  fileById: one('SELECT * FROM files WHERE id = @id'),
  filesByIds: all('SELECT * FROM files WHERE id = ANY(@ids::text[])'),
  // KEY SHARE: a concurrent delete of the file (the collector) waits for the message's commit, then finds it attached.
  filesLockForAttach: all('SELECT * FROM files WHERE id = ANY(@ids::text[]) ORDER BY id FOR KEY SHARE'),
  attachmentsInsert: run(
    `INSERT INTO message_attachments (room_id, seq, file_id, position)
     SELECT room_id, seq, file_id, position
     FROM unnest(@roomIds::text[], @seqs::bigint[], @fileIds::text[], @positions::int[]) AS x(room_id, seq, file_id, position)
     ON CONFLICT DO NOTHING`,
    (a: { rows: readonly { roomId: string; seq: number; fileId: string; position: number }[] }) => ({
      roomIds: a.rows.map((r) => r.roomId),
      seqs: a.rows.map((r) => r.seq),
      fileIds: a.rows.map((r) => r.fileId),
      positions: a.rows.map((r) => r.position),
    }),
  ),
  attachmentsDeleteOf: run('DELETE FROM message_attachments WHERE room_id = @roomId AND seq = @seq'),
  attachmentRoomsOf: all<{ room_id: string }>(
    'SELECT DISTINCT room_id FROM message_attachments WHERE file_id = @fileId ORDER BY room_id LIMIT @limit',
  ),
  fileDeleteUnattached: run(
    'DELETE FROM files WHERE id = @id AND NOT EXISTS (SELECT 1 FROM message_attachments WHERE file_id = @id)',
  ),
  filesUnattached: all(
    `SELECT * FROM files f WHERE kind = 'upload' AND created_at < @before
       AND NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.file_id = f.id)
     ORDER BY created_at LIMIT @limit`,
  ),
  blobReferenced: exists(
    'SELECT 1 FROM files WHERE sha256 = @sha256 UNION ALL SELECT 1 FROM files WHERE thumb_sha256 = @sha256 LIMIT 1',
  ),
  secretInsert: run(
    'INSERT INTO server_secrets (name, value, created_at) VALUES (@name, @value, @now) ON CONFLICT (name) DO NOTHING',
  ),
  secretGet: one<{ value: string }>('SELECT value FROM server_secrets WHERE name = @name'), // ---- webhooks (migration 17) ----
  // The room row locked: two creates cannot both pass the per-room cap.
  webhookRoomLock: exists('SELECT 1 FROM rooms WHERE id = @roomId FOR NO KEY UPDATE'),
  incomingCount: count('SELECT count(*)::int AS n FROM incoming_webhooks WHERE room_id = @roomId'),
  incomingInsert: run(
    `INSERT INTO incoming_webhooks (id, room_id, name, icon_url, token_hash, signing_secret, created_by, created_at)
     VALUES (@id, @roomId, @name, @iconUrl, @tokenHash, @signingSecret, @createdBy, @now)`,
    (a: { hook: object; now: number }) => ({ ...a.hook, now: a.now }),
  ),
  incomingByTokenHash: one('SELECT * FROM incoming_webhooks WHERE token_hash = @tokenHash'),
  incomingOf: all('SELECT * FROM incoming_webhooks WHERE room_id = @roomId ORDER BY created_at, id'),
  incomingDelete: run('DELETE FROM incoming_webhooks WHERE room_id = @roomId AND id = @id'),
  signaturesPrune: run('DELETE FROM webhook_signatures WHERE webhook_id = @webhookId AND expires_at < @now'),
  signatureInsert: run(
    `INSERT INTO webhook_signatures (webhook_id, signature, expires_at) VALUES (@webhookId, @signature, @expiresAt)
     ON CONFLICT DO NOTHING`,
  ),
  signaturesDeleteOf: run('DELETE FROM webhook_signatures WHERE webhook_id = @webhookId'),
  // No row to lock for the server-wide list: a transaction-scoped advisory lock (key: "webhooks" as bytes).
  subscriptionLockServerWide: exists("SELECT pg_advisory_xact_lock(hashtext('relaychat-webhooks-server'))"),
  subscriptionCount: count(
    'SELECT count(*)::int AS n FROM webhook_subscriptions WHERE room_id IS NOT DISTINCT FROM @roomId::text',
  ),
  subscriptionInsert: run(
    `INSERT INTO webhook_subscriptions (id, room_id, url, events, secret, created_by, created_at)
     VALUES (@id, @roomId, @url, @events, @secret, @createdBy, @now)`,
    (a: { sub: { events: string[] }; now: number }) => ({ ...a.sub, events: JSON.stringify(a.sub.events), now: a.now }),
  ),
  subscriptionById: one('SELECT * FROM webhook_subscriptions WHERE id = @id'),
  subscriptionsByIds: all('SELECT * FROM webhook_subscriptions WHERE id = ANY(@ids::text[])'),
  subscriptionsOf: all(
    `SELECT * FROM webhook_subscriptions WHERE room_id IS NOT DISTINCT FROM @roomId::text ORDER BY created_at, id`,
  ),
  subscriptionDelete: run('DELETE FROM webhook_subscriptions WHERE id = @id'),
  cursorInsertForRoom: run(
    `INSERT INTO webhook_cursors (subscription_id, room_id, last_seq)
     SELECT @subscriptionId, id, last_seq FROM rooms WHERE id = @roomId ON CONFLICT DO NOTHING`,
  ),
  cursorsInsertPublic: run(
    `INSERT INTO webhook_cursors (subscription_id, room_id, last_seq)
     SELECT @subscriptionId, id, last_seq FROM rooms WHERE kind = 'public' ON CONFLICT DO NOTHING`,
  ),
  cursorsDiscover: run(
    `INSERT INTO webhook_cursors (subscription_id, room_id, last_seq)
     SELECT s.id, r.id, 0 FROM webhook_subscriptions s JOIN rooms r ON r.kind = 'public' AND r.created_at >= s.created_at
     WHERE s.room_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM webhook_cursors c WHERE c.subscription_id = s.id AND c.room_id = r.id)
     ON CONFLICT DO NOTHING`,
  ),
  cursorsDeleteOf: run('DELETE FROM webhook_cursors WHERE subscription_id = @subscriptionId'),
  // SKIP LOCKED: nodes claiming at once take different cursors instead of waiting on each other; the lease keeps them
  // from taking one another's after this transaction commits. Only the cursor rows are locked (not the hot rooms).
  cursorsClaim: all(
    `UPDATE webhook_cursors w SET lease_owner = @nodeId, lease_until = @leaseUntil
     FROM (SELECT c.subscription_id, c.room_id FROM webhook_cursors c JOIN rooms r ON r.id = c.room_id
           WHERE r.last_seq > c.last_seq AND c.next_at <= @now AND c.lease_until <= @now
           ORDER BY c.next_at LIMIT @limit FOR UPDATE OF c SKIP LOCKED) due
     WHERE w.subscription_id = due.subscription_id AND w.room_id = due.room_id
     RETURNING w.*`,
  ),
  cursorComplete: run(
    `UPDATE webhook_cursors SET last_seq = @toSeq, attempts = @attempts, next_at = @nextAt,
       lease_owner = CASE WHEN @keep::boolean THEN lease_owner ELSE NULL END,
       lease_until = CASE WHEN @keep::boolean THEN lease_until ELSE 0 END
     WHERE subscription_id = @subscriptionId AND room_id = @roomId AND lease_owner = @nodeId AND last_seq = @fromSeq`,
  ),
  deliveryUpsert: run(
    `INSERT INTO webhook_deliveries (subscription_id, event_id, room_id, seq, event_type, status, attempts,
       last_status, last_error, created_at, updated_at)
     VALUES (@subscriptionId, @eventId, @roomId, @seq, @eventType, @status, @attempts, @lastStatus, @lastError,
       @now, @now)
     ON CONFLICT (subscription_id, event_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
       last_status = excluded.last_status, last_error = excluded.last_error, updated_at = excluded.updated_at`,
    (a: { subscriptionId: string; roomId: string; outcome: object; now: number }) => ({
      subscriptionId: a.subscriptionId,
      roomId: a.roomId,
      now: a.now,
      ...a.outcome,
    }),
  ),
  deliveriesOf: all(
    `SELECT * FROM webhook_deliveries WHERE subscription_id = @subscriptionId AND updated_at < @before
     ORDER BY updated_at DESC, seq DESC LIMIT @limit`,
  ),
  deliveriesDeleteOf: run('DELETE FROM webhook_deliveries WHERE subscription_id = @subscriptionId'),
  deliveriesPrune: run('DELETE FROM webhook_deliveries WHERE updated_at < @before'),
};

/**
 * The SQL of a message search: the tsquery (a literal: no parser or dictionary), the rooms the user may read (member
 * of, or public), the filters, newest first (docid) or by ts_rank. Numbered arguments.
 */
/**
 * The first docid window of a newest-first search (see searchMessages); each next one is 16 times wider, so a million
 * messages take at most three queries (each window re-reads the terms' GIN entries: few windows, not many small ones).
 */
const SEARCH_WINDOW = 50_000;
const TOP_DOCID = 'SELECT max(docid) AS top FROM message_search';
/**
 * How many of the newest docids a query of several terms first reads row by row (see searchMessages): at most a few
 * milliseconds when it finds fewer than a page there.
 */
const SEARCH_SCAN = 20_000;
/** A query of more than one GIN term: several parts, or a CJK phrase of three or more characters (two bigrams). */
const severalTerms = (parts: MessageSearch['parts']): boolean =>
  parts.length > 1 || parts.some((p) => p.kind === 'phrase' && p.terms.length > 2);

function searchSql(
  q: MessageSearch & { now: number },
  window?: { lo: number; hi: number; scan?: boolean },
): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  const match = arg(tsQuery(q.parts));
  const where = [
    // ts_match_vq is what @@ calls; written as a function, no index can answer it, so the rows are read newest first
    // by docid and each is matched until the page is full.
    window?.scan ? `ts_match_vq(s.terms, ${match}::tsquery)` : `s.terms @@ ${match}::tsquery`,
    // A public room refuses its banned users (a ban ends membership, so members' rooms need no such check).
    `s.room_id IN (SELECT room_id FROM members WHERE user_id = ${arg(q.userId)}
       UNION ALL SELECT id FROM rooms WHERE kind = 'public'
         AND id NOT IN (SELECT room_id FROM room_bans WHERE user_id = ${arg(q.userId)} AND until > ${arg(q.now)}))`,
  ];
  if (q.roomId !== undefined) where.push(`s.room_id = ${arg(q.roomId)}`);
  if (q.senderId !== undefined) where.push(`s.sender_id = ${arg(q.senderId)}`);
  if (q.after !== undefined) where.push(`s.created_at > ${arg(q.after)}`);
  if (q.before !== undefined) where.push(`s.created_at < ${arg(q.before)}`);
  if (q.has === 'link') where.push('s.has_link');
  if (q.has === 'file') where.push('s.has_file');
  if (q.inThread !== undefined) where.push(q.inThread ? 's.thread_root IS NOT NULL' : 's.thread_root IS NULL');
  const relevance = q.sort === 'relevance';
  if (window) where.push(`s.docid >= ${arg(window.lo)} AND s.docid < ${arg(window.hi)}`);
  else if (!relevance && q.cursor !== undefined) where.push(`s.docid < ${arg(q.cursor)}`);
  const order = relevance
    ? `ORDER BY ts_rank(s.terms, ${match}::tsquery) DESC, s.docid DESC LIMIT ${arg(q.limit)} OFFSET ${arg(q.cursor ?? 0)}`
    : `ORDER BY s.docid DESC LIMIT ${arg(q.limit)}`;
  const sql = `SELECT e.*, s.docid AS s_docid, r.name AS r_name, r.kind AS r_kind FROM message_search s
    JOIN events e ON e.room_id = s.room_id AND e.seq = s.seq
    JOIN rooms r ON r.id = s.room_id
    WHERE ${where.join(' AND ')} ${order}`;
  return { sql, args };
}

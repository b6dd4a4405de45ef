import type Database from 'better-sqlite3';
import { UNREAD_COUNT_MAX, type RoomEvent } from '../../protocol/model.js';
import type { AuditQuery, ReportQuery } from '../sql/moderation.js';
import { compileParams, valuesOf } from '../sql/params.js';
import type { Queries } from '../sql/queries.js';
import { scopesText, type Row } from '../sql/rows.js';
import type { FileRecord } from '../../core/store.js';
import type { SearchRow } from '../sql/search.js';
import type { SeqRow } from '../sql/events.js';
import type { MessageSearch } from '../../core/store.js';
import { fts5Match } from '../../core/search-text.js';

/**
 * The SQL of every named query (src/storage/sql/queries.ts) for SQLite, as prepared better-sqlite3 statements with
 * `@name` parameters bound from the recipe's argument object (keys a statement does not name are ignored).
 *
 * Differences from PostgreSQL that live here: `fold()` (a JS function registered on the connection) folds display
 * names and topics at query time, where PostgreSQL stores `*_key` columns; booleans are bound as 0/1; JSON is text;
 * locks are no-ops, since every write runs in an IMMEDIATE transaction that holds the database's one write lock.
 */
export function sqliteQueries(db: Database.Database): Queries {
  /** A statement with `@name` parameters, bound positionally from the recipe's argument object. */
  const prepare = (sql: string) => {
    const { text, names } = compileParams(sql, 'positional');
    const s = db.prepare(text);
    return { s, values: (a: object) => valuesOf(names, a) };
  };
  const one = <R = Row>(sql: string) => {
    const { s, values } = prepare(sql);
    return (a: object) => s.get(values(a)) as R | undefined;
  };
  const all = <R = Row>(sql: string) => {
    const { s, values } = prepare(sql);
    return (a: object) => s.all(values(a)) as R[];
  };
  /** Rows changed. */
  const run = (sql: string) => {
    const { s, values } = prepare(sql);
    return (a: object) => s.run(values(a)).changes;
  };
  /** An INSERT … RETURNING of exactly one row. */
  const inserted = (sql: string) => {
    const { s, values } = prepare(sql);
    return (a: object) => s.get(values(a)) as Row;
  };
  const exists = (sql: string) => {
    const { s, values } = prepare(sql);
    return (a: object) => s.get(values(a)) !== undefined;
  };
  const count = (sql: string) => {
    const { s, values } = prepare(sql);
    return (a: object) => (s.get(values(a)) as { n: number }).n;
  };

  /** Statements whose text varies (IN-lists, optional filters), compiled once per text. */
  const dynamic = new Map<string, Database.Statement>();
  const prepareDynamic = (sql: string) => {
    let s = dynamic.get(sql);
    if (!s) {
      // Bounded: IN-lists of many lengths must not grow it forever.
      if (dynamic.size >= 500) dynamic.clear();
      dynamic.set(sql, (s = db.prepare(sql)));
    }
    return s;
  };
  const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(',');
  const present = <T>(rows: (T | undefined)[]) => rows.filter((r): r is T => r !== undefined);
  const bit = (b: boolean | null) => (b === null ? null : b ? 1 : 0);
  const json = (data: Record<string, unknown> | null) => (data ? JSON.stringify(data) : null);

  const searchArgs = (r: SearchRow) => ({
    ...r,
    terms: r.terms.join(' '),
    hasLink: bit(r.hasLink),
    hasFile: bit(r.hasFile),
  });
  const searchInsert = run(
    `INSERT INTO message_search (room_id, seq, sender_id, created_at, has_link, has_file, thread_root, terms)
     VALUES (@roomId, @seq, @senderId, @createdAt, @hasLink, @hasFile, @threadRoot, @terms)`,
  );
  const searchUpdate = run(
    `UPDATE message_search SET terms = @terms, has_link = @hasLink, has_file = @hasFile
     WHERE room_id = @roomId AND seq = @seq`,
  );

  const userById = one('SELECT * FROM users WHERE id = @id');
  const bumpSeq = one<SeqRow>(
    `UPDATE rooms SET last_seq = last_seq + 1, last_event_at = @now, member_count = member_count + @memberDelta
     WHERE id = @roomId RETURNING last_seq, head_hash`,
  );
  const bumpSeqQuiet = one<SeqRow>(
    'UPDATE rooms SET last_seq = last_seq + 1 WHERE id = @roomId RETURNING last_seq, head_hash',
  );
  const settingsUpdate = one(
    `UPDATE users SET read_receipts = coalesce(@readReceipts, read_receipts),
       dnd_until = CASE WHEN @dndOff THEN NULL ELSE coalesce(@dndUntil, dnd_until) END
     WHERE id = @id RETURNING *`,
  );
  const eventByClientMsgId = one('SELECT * FROM events WHERE sender_id = @senderId AND client_msg_id = @clientMsgId');
  const roomSeq = one<{ id: string; last_seq: number; head_hash: string | null }>(
    'SELECT id, last_seq, head_hash FROM rooms WHERE id = @id',
  );
  const advanceSeq = one<{ id: string; last_seq: number }>(
    `UPDATE rooms SET last_seq = last_seq + @n, head_hash = @head, last_event_at = @now WHERE id = @id
     RETURNING id, last_seq`,
  );
  const headSet = run('UPDATE rooms SET head_hash = @hash WHERE id = @roomId');
  const insertEvents = (sql: string, moveHead: boolean) => {
    const { s, values } = prepare(sql);
    return (a: { events: readonly RoomEvent[]; now: number }) => {
      let n = 0;
      const heads = new Map<string, RoomEvent>();
      for (const e of a.events) {
        n += s.run(
          values({
            ...e,
            data: json(e.data),
            createdAt: a.now,
            hash: e.hash ?? null,
            prevHash: e.prevHash ?? null,
            contentHash: e.contentHash ?? null,
            targetHash: e.targetHash ?? null,
          }),
        ).changes;
        const h = heads.get(e.roomId);
        if (!h || h.seq < e.seq) heads.set(e.roomId, e);
      }
      // One writer: the head follows its room's newest event (messages move it with the seq: roomsAdvanceSeqs).
      if (moveHead) for (const e of heads.values()) headSet({ roomId: e.roomId, hash: e.hash ?? null });
      return n;
    };
  };
  const eventColumns = `INSERT INTO events (room_id, seq, id, type, sender_id, body, client_msg_id, data, created_at,
      hash, prev_hash, content_hash, target_hash)
    VALUES (@roomId, @seq, @id, @type, @senderId, @body, @clientMsgId, @data, @createdAt,
      @hash, @prevHash, @contentHash, @targetHash)`;
  const memberInsert = run(
    `INSERT OR IGNORE INTO members (room_id, user_id, role, joined_at, joined_seq)
     VALUES (@roomId, @userId, @role, @now, @joinedSeq)`,
  );
  const roomUpdate = one(
    `UPDATE rooms SET last_seq = last_seq + 1, last_event_at = @now,
       name = coalesce(@name, name), name_key = coalesce(@nameKey, name_key), topic = coalesce(@topic, topic),
       read_only = coalesce(@readOnly, read_only), slow_mode_s = coalesce(@slowModeSeconds, slow_mode_s),
       join_approval = coalesce(@joinApproval, join_approval),
       mention_all_role = coalesce(@mentionAllRole, mention_all_role),
       link_previews = coalesce(@linkPreviews, link_previews)
     WHERE id = @roomId RETURNING *`,
  );
  // Unread: others' messages after the marker, not deleted, counted up to UNREAD_COUNT_MAX (a range scan of the
  // room's events from the marker, bounded).
  const roomsOf = all(
    `SELECT r.*, m.role AS my_role, m.joined_seq, m.notify, max(m.read_seq, m.joined_seq) AS read_seq,
       (SELECT count(*) FROM (
          SELECT 1 FROM events e
          WHERE e.room_id = r.id AND e.seq > max(m.read_seq, m.joined_seq) AND e.type = 'message'
            AND e.sender_id <> @userId
            AND (e.data IS NULL OR (json_extract(e.data, '$.deleted') IS NOT 1
                                    AND json_extract(e.data, '$.threadOnly') IS NOT 1))
          LIMIT ${UNREAD_COUNT_MAX})) AS unread,
       (SELECT count(*) FROM (
          SELECT 1 FROM mentions mn
          WHERE mn.user_id = @userId AND mn.room_id = r.id AND mn.seq > max(m.read_seq, m.joined_seq)
          LIMIT ${UNREAD_COUNT_MAX})) AS unread_mentions
     FROM members m JOIN rooms r ON r.id = m.room_id
     WHERE m.user_id = @userId ORDER BY r.last_event_at DESC, r.id`,
  );
  const mentionInsert = run(
    `INSERT OR IGNORE INTO mentions (user_id, room_id, seq, created_at) VALUES (@userId, @roomId, @seq, @now)`,
  );
  const messageDataSet = run(
    `UPDATE events SET data = @data WHERE room_id = @roomId AND seq = @seq AND type = 'message'`,
  );
  const sessionByTokenHash = one('SELECT * FROM sessions WHERE token_hash = @tokenHash');
  const sessionInsert = run(
    `INSERT INTO sessions (id, user_id, token_hash, label, created_at, expires_at, last_used_at, scopes)
     VALUES (@id, @userId, @tokenHash, @label, @createdAt, @expiresAt, @lastUsedAt, @scopes)`,
  );
  const invitesOf = all(
    `SELECT i.created_at AS invited_at, i.inviter_id, r.* FROM invites i JOIN rooms r ON r.id = i.room_id
     WHERE i.user_id = @userId ORDER BY i.created_at DESC`,
  );
  const auditInsert = inserted(
    `INSERT INTO audit_log (id, actor_id, action, room_id, target_user_id, data, created_at)
     VALUES (@id, @actorId, @action, @roomId, @targetUserId, @data, @now) RETURNING *`,
  );

  const botsOfRooms = all(
    `SELECT * FROM users WHERE bot = 1 AND deactivated_at IS NULL
       AND bot_room_id IN (SELECT value FROM json_each(@roomIds)) ORDER BY username_key`,
  );

  /** `(created_at, id) < …` of the row `before` names: newest-first pages of reports and the audit log. */
  const newestFirst = (table: string, where: string[], args: unknown[], before: string | undefined, limit: number) => {
    if (before !== undefined) {
      where.push(`(created_at, id) < (SELECT created_at, id FROM ${table} WHERE id = ?)`);
      args.push(before);
    }
    return prepareDynamic(
      `SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    ).all(...args, limit) as Row[];
  };

  return {
    // ---- keeping and leaving (issue 18) ----
    userMarkDeleted: run(
      `UPDATE users SET username = @username, username_key = @usernameKey, display_name = 'Deleted user',
         status_text = '', avatar_id = NULL, password_hash = '!', deactivated_at = coalesce(deactivated_at, @now),
         deleted_at = @now
       WHERE id = @id AND deleted_at IS NULL`,
    ),
    resetsDeleteOfUser: run('DELETE FROM password_resets WHERE user_id = @userId'),
    ownMessagesAfter: all(
      `SELECT * FROM events INDEXED BY events_by_sender
       WHERE sender_id = @userId AND type = 'message' AND (room_id, seq) > (@afterRoom, @afterSeq)
         AND (data IS NULL OR json_extract(data, '$.deleted') IS NOT 1)
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
      `INSERT INTO users (id, username, username_key, display_name, role, password_hash, created_at,
                          bot, bot_room_id, bot_created_by, bot_scopes)
       VALUES (@id, @username, @usernameKey, @displayName, 'user', @passwordHash, @now, 1, @roomId, @createdBy, @scopes)
       ON CONFLICT (username_key) DO NOTHING RETURNING *`,
    ),
    botsAll: all('SELECT * FROM users WHERE bot = 1 AND deactivated_at IS NULL ORDER BY username_key'),
    botsOfRooms: (a) => botsOfRooms({ roomIds: JSON.stringify(a.roomIds) }),
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
    userById,
    userByUsernameKey: one('SELECT * FROM users WHERE username_key = @usernameKey'),
    usersByIds: ({ ids }) => {
      const rows: Row[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        rows.push(
          ...(prepareDynamic(`SELECT * FROM users WHERE id IN (${placeholders(chunk.length)})`).all(...chunk) as Row[]),
        );
      }
      return rows;
    },
    usersSearch: all(
      `SELECT * FROM users WHERE deactivated_at IS NULL
         AND (username_key LIKE @like ESCAPE '!' OR fold(display_name) LIKE @like ESCAPE '!')
       ORDER BY username_key LIMIT @limit`,
    ),
    usersDirectory: all(
      `SELECT * FROM users
       WHERE (username_key LIKE @like ESCAPE '!' OR fold(display_name) LIKE @like ESCAPE '!')
         AND (username_key, id) > (@afterKey, @afterId)
       ORDER BY username_key, id LIMIT @limit`,
    ),
    // People only: a bot made before anyone registered (the assistant) does not make the first person an ordinary user.
    usersExist: exists('SELECT 1 FROM users WHERE bot = 0 LIMIT 1'),
    firstUserLock: () => {},
    userInsert: one(
      `INSERT INTO users (id, username, username_key, display_name, role, password_hash, created_at)
       VALUES (@id, @username, @usernameKey, @displayName, @role, @passwordHash, @now)
       ON CONFLICT (username_key) DO NOTHING RETURNING *`,
    ),
    userUpdateProfile: one(
      `UPDATE users SET display_name = coalesce(@displayName, display_name), status_text = coalesce(@statusText, status_text)
       WHERE id = @id RETURNING *`,
    ),
    userSetPasswordHash: run('UPDATE users SET password_hash = @hash WHERE id = @id'),
    userSetRole: run('UPDATE users SET role = @role WHERE id = @id'),
    userDeactivate: run('UPDATE users SET deactivated_at = coalesce(deactivated_at, @now) WHERE id = @id'),
    userReactivate: run('UPDATE users SET deactivated_at = NULL WHERE id = @id'),
    userSetBannedUntil: run('UPDATE users SET banned_until = @until WHERE id = @id'),

    sessionInsert: (a) => sessionInsert({ ...a, scopes: scopesText(a.scopes) }),
    sessionByTokenHash: (a) => {
      const session = sessionByTokenHash(a);
      const user = session && userById({ id: session.user_id });
      return session && user ? { session, user } : undefined;
    },
    sessionTouch: run('UPDATE sessions SET last_used_at = @lastUsedAt, expires_at = @expiresAt WHERE id = @id'),
    sessionsOf: all('SELECT * FROM sessions WHERE user_id = @userId ORDER BY created_at'),
    sessionDelete: run('DELETE FROM sessions WHERE id = @id AND user_id = @userId'),
    sessionsDeleteExcept: all<{ id: string }>(
      'DELETE FROM sessions WHERE user_id = @userId AND id IS NOT @exceptId RETURNING id',
    ),

    // ---- rooms ----
    roomById: one('SELECT * FROM rooms WHERE id = @id'),
    roomByDmKey: one('SELECT * FROM rooms WHERE dm_key = @dmKey'),
    roomNameTaken: exists("SELECT 1 FROM rooms WHERE kind = 'public' AND name_key = @nameKey AND id <> @roomId"),
    roomInsert: one(
      `INSERT INTO rooms (id, kind, name, name_key, topic, created_by, created_at, last_seq, last_event_at,
         member_count, dm_key)
       VALUES (@id, @kind, @name, @nameKey, @topic, @createdBy, @now, @lastSeq, @now, @memberCount, @dmKey)
       ON CONFLICT (dm_key) DO NOTHING RETURNING *`,
    ),
    roomsSearch: all(
      `SELECT * FROM rooms WHERE kind = 'public'
         AND (name_key LIKE @like ESCAPE '!' OR fold(topic) LIKE @like ESCAPE '!')
         AND (name_key, id) > (@afterKey, @afterId)
       ORDER BY name_key, id LIMIT @limit`,
    ),
    roomsOf: ({ userId }) => {
      const rows = roomsOf({ userId });
      const dms = rows.filter((r) => r.kind === 'dm');
      if (dms.length > 0) {
        const members = prepareDynamic(
          `SELECT m.room_id AS member_room, u.* FROM members m JOIN users u ON u.id = m.user_id
           WHERE m.room_id IN (${placeholders(dms.length)}) AND m.user_id != ?`,
        ).all(...dms.map((d) => d.id), userId) as Row[];
        for (const dm of dms) dm.dm_members = members.filter((m) => m.member_room === dm.id);
      }
      return rows;
    },
    roomCountOf: count('SELECT count(*) AS n FROM members WHERE user_id = @userId'),
    roomUpdate: (a) =>
      roomUpdate({
        ...a,
        readOnly: bit(a.readOnly),
        joinApproval: bit(a.joinApproval),
        linkPreviews: bit(a.linkPreviews),
      }),

    memberGet: one('SELECT role, muted_until, joined_seq FROM members WHERE room_id = @roomId AND user_id = @userId'),
    membersOf: all(
      `SELECT u.*, m.role AS member_role, m.joined_at, m.muted_until FROM members m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = @roomId ORDER BY m.joined_at, m.user_id`,
    ),
    membersPage: all(
      `SELECT u.*, m.role AS member_role, m.joined_at, m.muted_until FROM members m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = @roomId
         AND (m.joined_at > @afterJoinedAt OR (m.joined_at = @afterJoinedAt AND m.user_id > @afterUserId))
       ORDER BY m.joined_at, m.user_id LIMIT @limit`,
    ),
    memberIdsOf: all<{ user_id: string }>('SELECT user_id FROM members WHERE room_id = @roomId'),
    memberCountWithRole: count('SELECT count(*) AS n FROM members WHERE room_id = @roomId AND role = @role'),
    memberInsert,
    membersInsert: ({ roomId, now, members }) => {
      for (const m of members) memberInsert({ roomId, now, ...m });
    },
    memberDelete: run('DELETE FROM members WHERE room_id = @roomId AND user_id = @userId'),
    memberSetRole: run('UPDATE members SET role = @role WHERE room_id = @roomId AND user_id = @userId'),

    inviteInsert: run(
      `INSERT OR IGNORE INTO invites (room_id, user_id, inviter_id, created_at)
       VALUES (@roomId, @userId, @inviterId, @now)`,
    ),
    inviteExists: exists('SELECT 1 FROM invites WHERE room_id = @roomId AND user_id = @userId'),
    invitesOf: (a) =>
      invitesOf(a).flatMap((r) => {
        const inviter = userById({ id: r.inviter_id as string });
        return inviter ? [{ ...r, inviter }] : [];
      }),
    inviteDelete: run('DELETE FROM invites WHERE room_id = @roomId AND user_id = @userId'),
    joinRequestDelete: run('DELETE FROM join_requests WHERE room_id = @roomId AND user_id = @userId'),

    // ---- moderation ----
    memberMute: run('UPDATE members SET muted_until = @until WHERE room_id = @roomId AND user_id = @userId'),
    memberUnmute: run(
      'UPDATE members SET muted_until = NULL WHERE room_id = @roomId AND user_id = @userId AND muted_until IS NOT NULL',
    ),
    roomLock: exists('SELECT 1 FROM rooms WHERE id = @roomId'),
    banUpsert: run(
      `INSERT INTO room_bans (room_id, user_id, until, reason, actor_id, created_at)
       VALUES (@roomId, @userId, @until, @reason, @actorId, @now)
       ON CONFLICT (room_id, user_id) DO UPDATE SET
         until = excluded.until, reason = excluded.reason, actor_id = excluded.actor_id, created_at = excluded.created_at`,
    ),
    banDelete: run('DELETE FROM room_bans WHERE room_id = @roomId AND user_id = @userId'),
    banGet: one('SELECT * FROM room_bans WHERE room_id = @roomId AND user_id = @userId'),
    bansOf: all('SELECT * FROM room_bans WHERE room_id = @roomId ORDER BY created_at DESC, user_id'),
    messageRedact: one(
      // A reply keeps its place (replyTo, threadRoot, threadOnly) so clients still file it; its quote goes.
      `UPDATE events SET body = '', data = CASE WHEN json_extract(data, '$.threadRoot') IS NULL
         THEN json_object('deleted', json('true'), 'deletedBy', @actorId)
         ELSE json_object('deleted', json('true'), 'deletedBy', @actorId, 'replyTo', json_extract(data, '$.replyTo'),
           'threadRoot', json_extract(data, '$.threadRoot'),
           'threadOnly', json(CASE WHEN json_extract(data, '$.threadOnly') THEN 'true' ELSE 'false' END)) END
       WHERE room_id = @roomId AND seq = @seq AND type = 'message'
         AND (data IS NULL OR json_extract(data, '$.deleted') IS NOT 1)
       RETURNING *`,
    ),
    editEventsRedact: run(
      `UPDATE events SET body = ''
       WHERE room_id = @roomId AND type = 'message.edited'
         AND seq IN (SELECT edit_seq FROM message_edits WHERE room_id = @roomId AND seq = @seq)`,
    ),
    editsDelete: run('DELETE FROM message_edits WHERE room_id = @roomId AND seq = @seq'),
    // ---- mentions (migration 9) ----
    memberIdsByUsernameKeys: ({ roomId, keys }) =>
      prepareDynamic(
        `SELECT u.id FROM users u JOIN members m ON m.user_id = u.id AND m.room_id = ?
         WHERE u.username_key IN (${placeholders(keys.length)})`,
      ).all(roomId, ...keys) as { id: string }[],
    mentionsInsert: ({ rows, now }) => {
      let n = 0;
      for (const r of rows) n += mentionInsert({ ...r, now });
      return n;
    },
    mentionUsersOf: all<{ user_id: string }>('SELECT user_id FROM mentions WHERE room_id = @roomId AND seq = @seq'),
    mentionsDeleteOf: run('DELETE FROM mentions WHERE room_id = @roomId AND seq = @seq'),
    mentionsDeleteUsers: ({ roomId, seq, userIds }) =>
      prepareDynamic(
        `DELETE FROM mentions WHERE room_id = ? AND seq = ? AND user_id IN (${placeholders(userIds.length)})`,
      ).run(roomId, seq, ...userIds).changes,
    messageDataSet: (a) => messageDataSet({ ...a, data: json(a.data) }),
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
      `UPDATE events SET body = @body, data = json_set(coalesce(data, '{}'), '$.editedAt', @editedAt)
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
    reactionEmojiCount: count(
      'SELECT count(DISTINCT emoji) AS n FROM reactions WHERE room_id = @roomId AND seq = @seq',
    ),
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
      'INSERT OR IGNORE INTO join_requests (room_id, user_id, created_at) VALUES (@roomId, @userId, @now)',
    ),
    joinRequestsOf: all(
      `SELECT u.*, j.created_at AS requested_at FROM join_requests j JOIN users u ON u.id = j.user_id
       WHERE j.room_id = @roomId ORDER BY j.created_at, u.username_key`,
    ),
    joinRequestExists: exists('SELECT 1 FROM join_requests WHERE room_id = @roomId AND user_id = @userId'),
    reportInsert: inserted(
      `INSERT INTO reports (id, reporter_id, room_id, seq, target_user_id, reason, excerpt, status, created_at)
       VALUES (@id, @reporterId, @roomId, @seq, @targetUserId, @reason, @excerpt, 'open', @now) RETURNING *`,
    ),
    reportById: one('SELECT * FROM reports WHERE id = @id'),
    reportsList: (q: ReportQuery) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.status !== undefined) {
        where.push('status = ?');
        args.push(q.status);
      }
      if (q.roomIds) {
        where.push(`room_id IN (${placeholders(q.roomIds.length)})`);
        args.push(...q.roomIds);
      }
      return newestFirst('reports', where, args, q.before, q.limit);
    },
    reportResolve: one(
      `UPDATE reports SET status = 'resolved', resolution = @resolution, resolved_by = @resolvedBy, resolved_at = @now
       WHERE id = @id AND status = 'open' RETURNING *`,
    ),
    auditInsert: (a) => auditInsert({ ...a, data: json(a.data) }),
    auditList: (q: AuditQuery) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.roomId !== undefined) {
        where.push('room_id = ?');
        args.push(q.roomId);
      }
      return newestFirst('audit_log', where, args, q.before, q.limit);
    },

    // ---- events ----
    roomNextSeq: (a) => bumpSeq(a) ?? null,
    roomNextSeqQuiet: (a) => bumpSeqQuiet(a) ?? null,
    readMarkerGet: one(
      `SELECT max(m.read_seq, m.joined_seq) AS read_seq, r.last_seq FROM members m JOIN rooms r ON r.id = m.room_id
       WHERE m.room_id = @roomId AND m.user_id = @userId`,
    ),
    lastMessageSeqUpTo: count(
      `SELECT coalesce(max(seq), 0) AS n FROM events WHERE room_id = @roomId AND seq <= @seq AND type = 'message'`,
    ),
    readMarkerAdvance: run(
      'UPDATE members SET read_seq = @seq WHERE room_id = @roomId AND user_id = @userId AND read_seq < @seq',
    ),
    receiptsOf: all(
      `SELECT m.user_id, max(m.read_seq, m.joined_seq) AS read_seq FROM members m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = @roomId AND u.read_receipts = 1 ORDER BY m.user_id`,
    ),
    pinInsert: run(
      `INSERT OR IGNORE INTO pins (room_id, seq, pinned_by, pinned_at) VALUES (@roomId, @seq, @pinnedBy, @now)`,
    ),
    pinDelete: run('DELETE FROM pins WHERE room_id = @roomId AND seq = @seq'),
    pinCount: count('SELECT count(*) AS n FROM pins WHERE room_id = @roomId'),
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
      'INSERT OR IGNORE INTO blocks (user_id, blocked_id, created_at) VALUES (@userId, @blockedId, @now)',
    ),
    blockDelete: run('DELETE FROM blocks WHERE user_id = @userId AND blocked_id = @blockedId'),
    blockCount: count('SELECT count(*) AS n FROM blocks WHERE user_id = @userId'),
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
    userSettingsUpdate: (a) =>
      settingsUpdate({
        ...a,
        readReceipts: a.readReceipts === null ? null : bit(a.readReceipts),
        dndOff: bit(a.dndOff),
      }),
    notifyLevelGet: one('SELECT notify FROM members WHERE room_id = @roomId AND user_id = @userId'),
    notifyLevelSet: run('UPDATE members SET notify = @level WHERE room_id = @roomId AND user_id = @userId'),
    // ---- message search (migration 12; message_fts follows message_search by its triggers) ----
    searchIndexInsert: ({ rows }) => {
      let n = 0;
      for (const r of rows) n += searchInsert(searchArgs(r));
      return n;
    },
    searchIndexUpdate: ({ row }) => searchUpdate(searchArgs(row)),
    searchIndexDelete: run('DELETE FROM message_search WHERE room_id = @roomId AND seq = @seq'),
    searchMessages: (q) => {
      const { sql, args } = searchSql(q);
      return prepareDynamic(sql).all(...args) as Row[];
    },
    eventsInsert: insertEvents(eventColumns, true),
    messagesInsertNew: insertEvents(
      `${eventColumns} ON CONFLICT (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING`,
      false,
    ),
    eventBySeq: one('SELECT * FROM events WHERE room_id = @roomId AND seq = @seq'),
    eventByClientMsgId,
    // One statement per key/room: in-process SQLite statements cost microseconds, not round trips.
    eventsByClientMsgIds: ({ keys }) => present(keys.map((k) => eventByClientMsgId(k))),
    roomsLockSeqs: ({ roomIds }) => present(roomIds.map((id) => roomSeq({ id }))),
    roomsAdvanceSeqs: ({ bumps, now }) => present(bumps.map((b) => advanceSeq({ ...b, now }))),
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

    // ---- threads: the expressions match migration 6's indexes; INDEXED BY, as without statistics SQLite takes
    // the primary key (room_id, seq) and filters a whole room's history instead ----
    threadAfter: all(
      `SELECT * FROM events INDEXED BY events_thread
       WHERE room_id = @roomId AND json_extract(data, '$.threadRoot') = @root
         AND json_extract(data, '$.threadRoot') IS NOT NULL
         AND seq > @seq ORDER BY seq LIMIT @limit`,
    ),
    threadBefore: all(
      `SELECT * FROM events INDEXED BY events_thread
       WHERE room_id = @roomId AND json_extract(data, '$.threadRoot') = @root
         AND json_extract(data, '$.threadRoot') IS NOT NULL
         AND seq < @seq ORDER BY seq DESC LIMIT @limit`,
    ),
    threadSummaries: (() => {
      const q = all<{ root: number; n: number; last_at: number }>(
        `SELECT json_extract(data, '$.threadRoot') AS root, count(*) AS n, max(created_at) AS last_at
         FROM events INDEXED BY events_thread
         WHERE room_id = @roomId AND json_extract(data, '$.threadRoot') IN (SELECT value FROM json_each(@roots))
           AND json_extract(data, '$.threadRoot') IS NOT NULL
           AND json_extract(data, '$.deleted') IS NOT 1
         GROUP BY 1`,
      );
      return (a: { roomId: string; roots: readonly number[] }) =>
        q({ roomId: a.roomId, roots: JSON.stringify(a.roots) });
    })(),
    quotesRedact: run(
      `UPDATE events INDEXED BY events_reply_to SET data = json_set(data, '$.quote.body', '', '$.quote.deleted', json('true'))
       WHERE room_id = @roomId AND json_extract(data, '$.replyTo') = @seq AND json_extract(data, '$.replyTo') IS NOT NULL`,
    ),
    // ---- files and attachments (migration 13) ----
    fileOwnerLock: () => true,
    fileBytesOf: count('SELECT coalesce(sum(size), 0) AS n FROM files WHERE owner_id = @ownerId'),
    fileInsert: (() => {
      const q = run(
        `INSERT INTO files (id, owner_id, name, size, content_type, sha256, width, height, thumb_sha256, thumb_size,
           kind, created_at)
         VALUES (@id, @ownerId, @name, @size, @contentType, @sha256, @width, @height, @thumbSha256, @thumbSize,
           @kind, @createdAt)`,
      );
      return ({ file }: { file: FileRecord }) => q({ width: null, height: null, ...file });
    })(),
    fileById: one('SELECT * FROM files WHERE id = @id'),
    filesByIds: (() => {
      const q = all('SELECT * FROM files WHERE id IN (SELECT value FROM json_each(@ids))');
      return (a: { ids: readonly string[] }) => q({ ids: JSON.stringify(a.ids) });
    })(),
    filesLockForAttach: (() => {
      const q = all('SELECT * FROM files WHERE id IN (SELECT value FROM json_each(@ids))');
      return (a: { ids: readonly string[] }) => q({ ids: JSON.stringify(a.ids) });
    })(),
    attachmentsInsert: (() => {
      const q = run(
        'INSERT OR IGNORE INTO message_attachments (room_id, seq, file_id, position) VALUES (@roomId, @seq, @fileId, @position)',
      );
      return (a: { rows: readonly { roomId: string; seq: number; fileId: string; position: number }[] }) => {
        let n = 0;
        for (const r of a.rows) n += q(r);
        return n;
      };
    })(),
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
    secretInsert: run('INSERT OR IGNORE INTO server_secrets (name, value, created_at) VALUES (@name, @value, @now)'),
    secretGet: one<{ value: string }>('SELECT value FROM server_secrets WHERE name = @name'), // ---- webhooks (migration 17) ----
    webhookRoomLock: exists('SELECT 1 FROM rooms WHERE id = @roomId'),
    incomingCount: count('SELECT count(*) AS n FROM incoming_webhooks WHERE room_id = @roomId'),
    incomingInsert: (() => {
      const q = run(
        `INSERT INTO incoming_webhooks (id, room_id, name, icon_url, token_hash, signing_secret, created_by, created_at)
         VALUES (@id, @roomId, @name, @iconUrl, @tokenHash, @signingSecret, @createdBy, @now)`,
      );
      return (a: { hook: object; now: number }) => q({ ...a.hook, now: a.now });
    })(),
    incomingByTokenHash: one('SELECT * FROM incoming_webhooks WHERE token_hash = @tokenHash'),
    incomingOf: all('SELECT * FROM incoming_webhooks WHERE room_id = @roomId ORDER BY created_at, id'),
    incomingDelete: run('DELETE FROM incoming_webhooks WHERE room_id = @roomId AND id = @id'),
    signaturesPrune: run('DELETE FROM webhook_signatures WHERE webhook_id = @webhookId AND expires_at < @now'),
    signatureInsert: run(
      `INSERT OR IGNORE INTO webhook_signatures (webhook_id, signature, expires_at)
       VALUES (@webhookId, @signature, @expiresAt)`,
    ),
    signaturesDeleteOf: run('DELETE FROM webhook_signatures WHERE webhook_id = @webhookId'),
    // One writer: nothing to lock.
    subscriptionLockServerWide: () => true,
    subscriptionCount: count('SELECT count(*) AS n FROM webhook_subscriptions WHERE room_id IS @roomId'),
    subscriptionInsert: (() => {
      const q = run(
        `INSERT INTO webhook_subscriptions (id, room_id, url, events, secret, created_by, created_at)
         VALUES (@id, @roomId, @url, @events, @secret, @createdBy, @now)`,
      );
      return (a: { sub: { events: string[] }; now: number }) =>
        q({ ...a.sub, events: JSON.stringify(a.sub.events), now: a.now });
    })(),
    subscriptionById: one('SELECT * FROM webhook_subscriptions WHERE id = @id'),
    subscriptionsByIds: (a: { ids: readonly string[] }) =>
      prepareDynamic(`SELECT * FROM webhook_subscriptions WHERE id IN (${placeholders(a.ids.length)})`).all(
        ...a.ids,
      ) as Row[],
    subscriptionsOf: all('SELECT * FROM webhook_subscriptions WHERE room_id IS @roomId ORDER BY created_at, id'),
    subscriptionDelete: run('DELETE FROM webhook_subscriptions WHERE id = @id'),
    cursorInsertForRoom: run(
      `INSERT OR IGNORE INTO webhook_cursors (subscription_id, room_id, last_seq)
       SELECT @subscriptionId, id, last_seq FROM rooms WHERE id = @roomId`,
    ),
    cursorsInsertPublic: run(
      `INSERT OR IGNORE INTO webhook_cursors (subscription_id, room_id, last_seq)
       SELECT @subscriptionId, id, last_seq FROM rooms WHERE kind = 'public'`,
    ),
    cursorsDiscover: run(
      `INSERT OR IGNORE INTO webhook_cursors (subscription_id, room_id, last_seq)
       SELECT s.id, r.id, 0 FROM webhook_subscriptions s JOIN rooms r ON r.kind = 'public' AND r.created_at >= s.created_at
       WHERE s.room_id IS NULL
         AND NOT EXISTS (SELECT 1 FROM webhook_cursors c WHERE c.subscription_id = s.id AND c.room_id = r.id)`,
    ),
    cursorsDeleteOf: run('DELETE FROM webhook_cursors WHERE subscription_id = @subscriptionId'),
    // The IMMEDIATE transaction holds the one write lock: no other claim runs meanwhile.
    cursorsClaim: all(
      `UPDATE webhook_cursors SET lease_owner = @nodeId, lease_until = @leaseUntil
       WHERE (subscription_id, room_id) IN (
         SELECT c.subscription_id, c.room_id FROM webhook_cursors c JOIN rooms r ON r.id = c.room_id
         WHERE r.last_seq > c.last_seq AND c.next_at <= @now AND c.lease_until <= @now
         ORDER BY c.next_at LIMIT @limit)
       RETURNING *`,
    ),
    cursorComplete: (() => {
      const q = run(
        `UPDATE webhook_cursors SET last_seq = @toSeq, attempts = @attempts, next_at = @nextAt,
           lease_owner = CASE WHEN @keep = 1 THEN lease_owner ELSE NULL END,
           lease_until = CASE WHEN @keep = 1 THEN lease_until ELSE 0 END
         WHERE subscription_id = @subscriptionId AND room_id = @roomId AND lease_owner = @nodeId
           AND last_seq = @fromSeq`,
      );
      return (a: { keep: boolean }) => q({ ...a, keep: a.keep ? 1 : 0 });
    })(),
    deliveryUpsert: (() => {
      const q = run(
        `INSERT INTO webhook_deliveries (subscription_id, event_id, room_id, seq, event_type, status, attempts,
           last_status, last_error, created_at, updated_at)
         VALUES (@subscriptionId, @eventId, @roomId, @seq, @eventType, @status, @attempts, @lastStatus, @lastError,
           @now, @now)
         ON CONFLICT (subscription_id, event_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
           last_status = excluded.last_status, last_error = excluded.last_error, updated_at = excluded.updated_at`,
      );
      return (a: { subscriptionId: string; roomId: string; outcome: object; now: number }) =>
        q({ subscriptionId: a.subscriptionId, roomId: a.roomId, now: a.now, ...a.outcome });
    })(),
    deliveriesOf: all(
      `SELECT * FROM webhook_deliveries WHERE subscription_id = @subscriptionId AND updated_at < @before
       ORDER BY updated_at DESC, seq DESC LIMIT @limit`,
    ),
    deliveriesDeleteOf: run('DELETE FROM webhook_deliveries WHERE subscription_id = @subscriptionId'),
    deliveriesPrune: run('DELETE FROM webhook_deliveries WHERE updated_at < @before'),
  };
}

/**
 * The SQL of a message search: the FTS5 match, the rooms the user may read (member of, or public), the filters, in
 * docid order (newest first, walked straight off the full-text index) or by bm25 rank. Positional arguments.
 */
function searchSql(q: MessageSearch & { now: number }): { sql: string; args: unknown[] } {
  const args: unknown[] = [fts5Match(q.parts), q.userId, q.userId, q.now];
  const where = [
    'message_fts MATCH ?',
    // A public room refuses its banned users (a ban ends membership, so members' rooms need no such check).
    `s.room_id IN (SELECT room_id FROM members WHERE user_id = ? UNION ALL SELECT id FROM rooms WHERE kind = 'public'
       AND id NOT IN (SELECT room_id FROM room_bans WHERE user_id = ? AND until > ?))`,
  ];
  const filter = (clause: string, ...values: unknown[]) => {
    where.push(clause);
    args.push(...values);
  };
  if (q.roomId !== undefined) filter('s.room_id = ?', q.roomId);
  if (q.senderId !== undefined) filter('s.sender_id = ?', q.senderId);
  if (q.after !== undefined) filter('s.created_at > ?', q.after);
  if (q.before !== undefined) filter('s.created_at < ?', q.before);
  if (q.has === 'link') where.push('s.has_link = 1');
  if (q.has === 'file') where.push('s.has_file = 1');
  if (q.inThread !== undefined) where.push(q.inThread ? 's.thread_root IS NOT NULL' : 's.thread_root IS NULL');
  const relevance = q.sort === 'relevance';
  if (!relevance && q.cursor !== undefined) filter('f.rowid < ?', q.cursor);
  const order = relevance ? 'ORDER BY f.rank, f.rowid DESC LIMIT ? OFFSET ?' : 'ORDER BY f.rowid DESC LIMIT ?';
  args.push(q.limit);
  if (relevance) args.push(q.cursor ?? 0);
  const sql = `SELECT e.*, s.docid AS s_docid, r.name AS r_name, r.kind AS r_kind FROM message_fts f
    JOIN message_search s ON s.docid = f.rowid
    JOIN events e ON e.room_id = s.room_id AND e.seq = s.seq
    JOIN rooms r ON r.id = s.room_id
    WHERE ${where.join(' AND ')} ${order}`;
  return { sql, args };
}

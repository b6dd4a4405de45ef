/**
 * SQLite schema, as an ordered list of migrations. Append only: never edit a migration that has shipped.
 * Applied in one transaction each at start; `schema_migrations` records what ran.
 */
export const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL,
  username_key  TEXT NOT NULL UNIQUE,          -- lower(username): uniqueness ignores case
  display_name  TEXT NOT NULL,
  status_text   TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL DEFAULT 'user',  -- 'admin' | 'user'
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  deactivated_at INTEGER
);

CREATE TABLE sessions (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash   TEXT NOT NULL UNIQUE,
  label        TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE rooms (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,                 -- 'public' | 'private' | 'dm'
  name          TEXT NOT NULL,
  name_key      TEXT NOT NULL,                 -- lower(name), for search and ordering
  topic         TEXT NOT NULL DEFAULT '',
  created_by    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_seq      INTEGER NOT NULL DEFAULT 0,    -- the room's sequence: seq of its newest event
  last_event_at INTEGER NOT NULL,
  member_count  INTEGER NOT NULL DEFAULT 0,
  dm_key        TEXT UNIQUE                    -- sorted member ids for DMs: one DM per member set
);
CREATE INDEX rooms_directory ON rooms(kind, name_key, id);

CREATE TABLE members (
  room_id   TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role      TEXT NOT NULL,                     -- 'owner' | 'admin' | 'member'
  joined_at INTEGER NOT NULL,
  joined_seq INTEGER NOT NULL DEFAULT 0,       -- seq of the member.joined event that began this membership
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members(user_id);

CREATE TABLE invites (
  room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  inviter_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX invites_by_user ON invites(user_id);

-- Every room event, clustered by (room, seq) so history and resume are range scans.
CREATE TABLE events (
  room_id       TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  id            TEXT NOT NULL UNIQUE,
  type          TEXT NOT NULL,
  sender_id     TEXT NOT NULL,
  body          TEXT,
  client_msg_id TEXT,
  data          TEXT,                          -- JSON
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_idempotency ON events(sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
`,
  },
  {
    version: 2,
    name: 'moderation',
    sql: `
ALTER TABLE users ADD COLUMN banned_until INTEGER;                 -- server-wide ban end (epoch ms); NULL = none
ALTER TABLE rooms ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;  -- 0/1
ALTER TABLE rooms ADD COLUMN slow_mode_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN join_approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN muted_until INTEGER;                -- mute end (epoch ms); NULL = not muted

CREATE TABLE room_bans (
  room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  until      INTEGER NOT NULL,                 -- epoch ms; FOREVER_MS = indefinitely
  reason     TEXT NOT NULL DEFAULT '',
  actor_id   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (room_id, user_id)               -- also the by-room index
) WITHOUT ROWID;

CREATE TABLE join_requests (
  room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;

-- Reports and the audit log are evidence: no foreign keys, so they outlive what they mention.
-- Ids are random; pages go newest first by (created_at, id).
CREATE TABLE reports (
  id             TEXT PRIMARY KEY,
  reporter_id    TEXT NOT NULL,
  room_id        TEXT,                         -- NULL for a report about a user
  seq            INTEGER,
  target_user_id TEXT NOT NULL,
  reason         TEXT NOT NULL,
  excerpt        TEXT,
  status         TEXT NOT NULL DEFAULT 'open', -- 'open' | 'resolved'
  resolution     TEXT,                         -- 'dismissed' | 'deleted' | 'muted' | 'banned'
  resolved_by    TEXT,
  created_at     INTEGER NOT NULL,
  resolved_at    INTEGER
);
CREATE INDEX reports_by_created ON reports(created_at, id);
CREATE INDEX reports_by_status ON reports(status, created_at, id);
CREATE INDEX reports_by_room ON reports(room_id, created_at, id) WHERE room_id IS NOT NULL;

CREATE TABLE audit_log (
  id             TEXT PRIMARY KEY,
  actor_id       TEXT NOT NULL,
  action         TEXT NOT NULL,
  room_id        TEXT,
  target_user_id TEXT,
  data           TEXT,                         -- JSON
  created_at     INTEGER NOT NULL
);
CREATE INDEX audit_by_created ON audit_log(created_at, id);
CREATE INDEX audit_by_room ON audit_log(room_id, created_at, id) WHERE room_id IS NOT NULL;
`,
  },
  {
    version: 3,
    name: 'unique public room names',
    sql: `
-- Public room names are unique ignoring case (names are trimmed on input). Rooms that already share a name keep
-- the oldest as it is; the others get their id appended, so they stay findable and the index can be built.
UPDATE rooms SET name = rooms.name || ' (' || rooms.id || ')', name_key = fold(rooms.name || ' (' || rooms.id || ')')
  FROM (SELECT id, row_number() OVER (PARTITION BY name_key ORDER BY created_at, id) AS rn
          FROM rooms WHERE kind = 'public') AS d
 WHERE rooms.id = d.id AND d.rn > 1;
CREATE UNIQUE INDEX rooms_public_name_unique ON rooms(name_key) WHERE kind = 'public';
`,
  },
  {
    version: 4,
    name: 'message edits',
    sql: `
-- One row per edit of a message: its history (GET …/messages/:seq/edits). edit_seq is the seq of the edit's
-- message.edited event. A deleted message's rows are dropped with its text. The message row itself carries the
-- current body and data.editedAt.
CREATE TABLE message_edits (
  room_id       TEXT NOT NULL,
  seq           INTEGER NOT NULL,              -- the edited message
  edit_seq      INTEGER NOT NULL,              -- its message.edited event
  editor_id     TEXT NOT NULL,
  previous_body TEXT NOT NULL,
  body          TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (room_id, seq, edit_seq)
) WITHOUT ROWID;
`,
  },
  {
    version: 5,
    name: 'reactions',
    sql: `
-- One row per (message, emoji, user): who reacted with what. emoji is the canonical form (src/core/emoji.ts);
-- event_seq is the seq of the reaction.added event, which orders a message's emojis and their users. A deleted
-- message's rows are dropped with it.
CREATE TABLE reactions (
  room_id    TEXT NOT NULL,
  seq        INTEGER NOT NULL,                 -- the message
  emoji      TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  event_seq  INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (room_id, seq, emoji, user_id)
) WITHOUT ROWID;
`,
  },
  {
    version: 6,
    name: 'replies and threads',
    sql: `
-- A reply keeps replyTo, threadRoot, threadOnly and its quote in events.data. Partial indexes: a plain message
-- (data NULL) is in neither, so sends without a reply maintain nothing more. The thread queries and the quote
-- redaction of a deleted message use these expressions verbatim.
CREATE INDEX events_thread ON events(room_id, json_extract(data, '$.threadRoot'), seq)
  WHERE json_extract(data, '$.threadRoot') IS NOT NULL;
CREATE INDEX events_reply_to ON events(room_id, json_extract(data, '$.replyTo'))
  WHERE json_extract(data, '$.replyTo') IS NOT NULL;
`,
  },
  {
    version: 7,
    name: 'read markers and read receipts',
    sql: `
-- A member's read marker: the seq of the last message they have read (PUT …/read); the marker in effect is
-- max(read_seq, joined_seq), so a new membership starts read up to its join. Existing members start read up to now,
-- rather than with their whole history unread.
ALTER TABLE members ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
UPDATE members SET read_seq = (SELECT last_seq FROM rooms WHERE rooms.id = members.room_id);
-- The privacy switch of read receipts (on by default).
ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1;
`,
  },
  {
    version: 8,
    name: 'pinned messages',
    sql: `
-- One row per pinned message (PUT …/messages/:seq/pin); its message.pinned / message.unpinned events are on the room's
-- sequence. A deleted message's row goes with its text.
CREATE TABLE pins (
  room_id   TEXT NOT NULL,
  seq       INTEGER NOT NULL,                -- the pinned message
  pinned_by TEXT NOT NULL,
  pinned_at INTEGER NOT NULL,
  PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
`,
  },
  {
    version: 9,
    name: 'mentions',
    sql: `
-- One row per (user, message) that mentions them: by @username, or by @room / @here (every member / the members
-- online at send time). Written in the message's own transaction; an edit adds and drops rows as its new text
-- says, a delete drops them all. id orders the mentions inbox (newest first); (user_id, room_id, seq) counts the
-- unread mentions of a room past the read marker. Plain messages write nothing here.
CREATE TABLE mentions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id    TEXT NOT NULL,
  room_id    TEXT NOT NULL,
  seq        INTEGER NOT NULL,                 -- the message
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX mentions_by_room ON mentions(user_id, room_id, seq);
CREATE INDEX mentions_by_message ON mentions(room_id, seq);
CREATE INDEX mentions_inbox ON mentions(user_id, id);
-- Who may use @room / @here in the room: this role and above.
ALTER TABLE rooms ADD COLUMN mention_all_role TEXT NOT NULL DEFAULT 'moderator';
`,
  },
  {
    version: 10,
    name: 'notification levels and do not disturb',
    sql: `
-- A member's notification level for the room (PUT …/notifications): 'all' (the default), 'mentions' or 'none'. A
-- client policy the server only keeps, shared by the member's devices.
ALTER TABLE members ADD COLUMN notify TEXT NOT NULL DEFAULT 'all' CHECK (notify IN ('all', 'mentions', 'none'));
-- Do not disturb until this time (epoch ms; FOREVER_MS = until turned off), NULL = off.
ALTER TABLE users ADD COLUMN dnd_until INTEGER;
`,
  },
  {
    version: 11,
    name: 'blocked users',
    sql: `
-- One row per (blocker, blocked): PUT /api/v1/me/blocks/:userId. Private to the blocker. A new table only, so it
-- applies after 9 and 10 whatever they add. blocks_by_blocked serves the other direction of the DM check.
CREATE TABLE blocks (
  user_id    TEXT NOT NULL,                  -- the blocker
  blocked_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX blocks_by_blocked ON blocks(blocked_id, user_id);
`,
  },
  {
    version: 12,
    name: 'message search',
    sql: `
-- The message search index (src/core/search-text.ts says how text becomes terms). One row per message that is not
-- deleted: appendMessage inserts it, editMessage rewrites it, deleteMessage drops it, each in its own transaction.
-- docid is the FTS5 rowid and grows with time, so newest first is docid descending (an edit keeps its docid).
-- terms: the message's index terms, ASCII, space-separated, in order (CJK characters are one term each).
CREATE TABLE message_search (
  docid       INTEGER PRIMARY KEY,
  room_id     TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  sender_id   TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  has_link    INTEGER NOT NULL DEFAULT 0,
  has_file    INTEGER NOT NULL DEFAULT 0,      -- set by the files feature (attachments); 0 until then
  thread_root INTEGER,                         -- a thread reply's root seq; NULL otherwise
  terms       TEXT NOT NULL
);
CREATE UNIQUE INDEX message_search_by_message ON message_search(room_id, seq);
-- External content: the terms live once, in message_search; the triggers keep the full-text index in step.
CREATE VIRTUAL TABLE message_fts USING fts5(
  terms, content='message_search', content_rowid='docid', tokenize='unicode61', prefix='2 3 4', detail='full'
);
CREATE TRIGGER message_search_ai AFTER INSERT ON message_search BEGIN
  INSERT INTO message_fts(rowid, terms) VALUES (new.docid, new.terms);
END;
CREATE TRIGGER message_search_ad AFTER DELETE ON message_search BEGIN
  INSERT INTO message_fts(message_fts, rowid, terms) VALUES ('delete', old.docid, old.terms);
END;
CREATE TRIGGER message_search_au AFTER UPDATE OF terms ON message_search BEGIN
  INSERT INTO message_fts(message_fts, rowid, terms) VALUES ('delete', old.docid, old.terms);
  INSERT INTO message_fts(rowid, terms) VALUES (new.docid, new.terms);
END;
-- The messages stored before this migration, oldest first (so docid order is time order), in this same transaction.
-- search_terms() and search_has_link() are JavaScript functions the store registers (src/core/search-text.ts).
INSERT INTO message_search (room_id, seq, sender_id, created_at, has_link, has_file, thread_root, terms)
SELECT room_id, seq, sender_id, created_at, search_has_link(body), 0, json_extract(data, '$.threadRoot'),
  search_terms(body)
FROM events
WHERE type = 'message' AND (data IS NULL OR json_extract(data, '$.deleted') IS NOT 1)
ORDER BY created_at, room_id, seq;
`,
  },
  {
    version: 13,
    name: 'files and message attachments',
    sql: `
-- Uploaded files (POST /api/v1/files): the bytes are a blob (src/core/blobs.ts) named by sha256; many files may
-- share one blob (the same content uploaded twice is stored once). An image has its dimensions and a thumbnail blob.
-- kind 'upload' is collected when no message took it within FILE_GC_GRACE_SECONDS; other kinds (a feature's own
-- files: avatars, link preview images) live until that feature deletes them.
CREATE TABLE files (
  id           TEXT PRIMARY KEY,
  owner_id     TEXT NOT NULL,
  name         TEXT NOT NULL,
  size         INTEGER NOT NULL,
  content_type TEXT NOT NULL,                -- detected from the bytes, never the client's word
  sha256       TEXT NOT NULL,
  width        INTEGER,
  height       INTEGER,
  thumb_sha256 TEXT,
  thumb_size   INTEGER,
  kind         TEXT NOT NULL DEFAULT 'upload',
  created_at   INTEGER NOT NULL
);
CREATE INDEX files_by_owner ON files(owner_id);
CREATE INDEX files_by_sha256 ON files(sha256);
CREATE INDEX files_by_thumb ON files(thumb_sha256) WHERE thumb_sha256 IS NOT NULL;
CREATE INDEX files_by_created ON files(created_at) WHERE kind = 'upload';
-- A message's attachments, written in the message's own transaction (the FileInfo list also rides in the event's
-- data). Who may read the message may read the file; a deleted message drops its rows.
CREATE TABLE message_attachments (
  room_id  TEXT NOT NULL,
  seq      INTEGER NOT NULL,
  file_id  TEXT NOT NULL REFERENCES files(id),
  position INTEGER NOT NULL,
  PRIMARY KEY (room_id, seq, file_id)
) WITHOUT ROWID;
CREATE INDEX attachments_by_file ON message_attachments(file_id, room_id);
-- Secrets the server makes itself and every node must share (the signing key of file links), unless configured.
CREATE TABLE server_secrets (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
`,
  },
  {
    version: 14,
    name: 'link previews room setting',
    sql: `
-- The room's link-preview switch (RoomSettings.linkPreviews, on by default). A preview itself is kept in its
-- message's data (data.preview) with a message.preview event on the sequence, so it needs no table. One column only,
-- so it applies whatever 12, 13 and 15 add, in any order.
ALTER TABLE rooms ADD COLUMN link_previews INTEGER NOT NULL DEFAULT 1;
`,
  },
  {
    version: 15,
    name: 'avatars',
    sql: `
-- A user's or a room's picture: a small square WebP made by the server (PUT …/avatar), served at
-- /api/v1/avatars/:id without a token. The id is random and a new picture gets a new one, so a URL is immutable.
-- Pictures are a few kilobytes, so they are kept here rather than in the blob store (no garbage collection needed:
-- replacing or clearing one deletes the old row in the same transaction).
CREATE TABLE avatars (
  id         TEXT PRIMARY KEY,
  bytes      BLOB NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE users ADD COLUMN avatar_id TEXT;
ALTER TABLE rooms ADD COLUMN avatar_id TEXT;
`,
  },
  {
    version: 16,
    name: 'bots',
    sql: `
-- Bot accounts (issue 16): a bot is a user with bot = 1, managed by whoever may manage its room (bot_room_id) or,
-- server-wide (bot_room_id NULL), by server admins. Its tokens are sessions whose scopes are set (comma-separated);
-- a person's session has scopes NULL. Self-contained, so it applies whatever 17-19 add, in any order.
ALTER TABLE users ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN bot_room_id TEXT;
ALTER TABLE users ADD COLUMN bot_created_by TEXT;
ALTER TABLE users ADD COLUMN bot_scopes TEXT;
ALTER TABLE sessions ADD COLUMN scopes TEXT;
CREATE INDEX users_bots ON users(bot_room_id) WHERE bot = 1;
-- The slash commands a bot registered (PUT /api/v1/bots/me/commands replaces them all).
CREATE TABLE bot_commands (
  bot_id      TEXT NOT NULL REFERENCES users(id),
  name        TEXT NOT NULL,
  description TEXT NOT NULL,
  args_hint   TEXT,
  position    INTEGER NOT NULL,
  PRIMARY KEY (bot_id, name)
) WITHOUT ROWID;
`,
  },
  {
    version: 17,
    name: 'webhooks',
    sql: `
-- Incoming webhooks: a room's secret URLs. The URL's token is kept only as its SHA-256; the signing secret as is
-- (verifying an HMAC needs it). Signatures seen are remembered until they are too old to be accepted anyway.
CREATE TABLE incoming_webhooks (
  id             TEXT PRIMARY KEY,
  room_id        TEXT NOT NULL,
  name           TEXT NOT NULL,
  icon_url       TEXT,
  token_hash     TEXT NOT NULL UNIQUE,
  signing_secret TEXT,
  created_by     TEXT NOT NULL,
  created_at     INTEGER NOT NULL
);
CREATE INDEX incoming_webhooks_by_room ON incoming_webhooks(room_id, created_at);
CREATE TABLE webhook_signatures (
  webhook_id TEXT NOT NULL,
  signature  TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (webhook_id, signature)
) WITHOUT ROWID;
-- Outgoing webhooks. room_id NULL: server-wide (every public room). events: JSON array of event types.
CREATE TABLE webhook_subscriptions (
  id         TEXT PRIMARY KEY,
  room_id    TEXT,
  url        TEXT NOT NULL,
  events     TEXT NOT NULL,
  secret     TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX webhook_subscriptions_by_room ON webhook_subscriptions(room_id, created_at);
-- The delivery queue: a subscription's cursor per room over the room's own sequence (durable already), leased by
-- the node delivering it. next_at: when it is due (a retry's backoff); attempts: failures at the event after last_seq.
CREATE TABLE webhook_cursors (
  subscription_id TEXT NOT NULL,
  room_id         TEXT NOT NULL,
  last_seq        INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_at         INTEGER NOT NULL DEFAULT 0,
  lease_owner     TEXT,
  lease_until     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (subscription_id, room_id)
) WITHOUT ROWID;
CREATE INDEX webhook_cursors_by_room ON webhook_cursors(room_id);
-- The delivery log: one row per (subscription, event), updated by each attempt.
CREATE TABLE webhook_deliveries (
  subscription_id TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  room_id         TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  event_type      TEXT NOT NULL,
  status          TEXT NOT NULL,
  attempts        INTEGER NOT NULL,
  last_status     INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (subscription_id, event_id)
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries(subscription_id, updated_at);
CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries(updated_at);
`,
  },
  {
    version: 18,
    name: 'history integrity: hash chain',
    sql: `
-- Every event appended from here on is a link of its room's hash chain (docs/protocol.md "History integrity"):
-- hash = SHA-256(prev_hash ‖ canonical header with content_hash). target_hash: on an event that changes another
-- event (an edit, a delete, a link preview), that event's content hash after the change. Hex text.
ALTER TABLE events ADD COLUMN hash TEXT;
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN content_hash TEXT;
ALTER TABLE events ADD COLUMN target_hash TEXT;
-- head_hash: the hash of the room's newest event (NULL: none hashed yet), read and written with last_seq under the
-- room's write lock. chain_from: the seq of the room's first hashed event. A room that has events already when this
-- runs keeps them unhashed: its chain is anchored at its next event, whose prev_hash is the genesis hash.
ALTER TABLE rooms ADD COLUMN head_hash TEXT;
ALTER TABLE rooms ADD COLUMN chain_from INTEGER NOT NULL DEFAULT 1;
UPDATE rooms SET chain_from = last_seq + 1;
`,
  },
  {
    version: 19,
    name: 'account deletion and password reset links',
    sql: `
-- Issue 18. A deleted account keeps its row (its messages and events still name it) with deleted_at set; its
-- username is replaced by a placeholder no one can register, so the name is free again.
ALTER TABLE users ADD COLUMN deleted_at INTEGER;
-- Admin-issued one-time password reset links: only the token's hash is stored; using one deletes it.
CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX password_resets_by_user ON password_resets(user_id);
-- A user's own messages, for erasing them at deletion and for their export.
CREATE INDEX events_by_sender ON events(sender_id, room_id, seq) WHERE type = 'message';
`,
  },
];

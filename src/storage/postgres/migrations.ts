import type { ClientBase } from 'pg';
import { addCjkBigrams, indexStoredMessages } from './search-backfill.js';
/**
 * PostgreSQL schema, as an ordered list of migrations. Append only: never edit a migration that has shipped.
 * Applied by migrate.ts, each in its own transaction, under an advisory lock; `schema_migrations` records what ran.
 *
 * The same logical schema as SQLite's (src/storage/sqlite/migrations.ts), in PostgreSQL terms:
 * - Times are bigint milliseconds since the epoch (the domain's unit), sequence numbers bigint.
 * - Ids and search keys are `text COLLATE "C"`: byte order, whatever the database's locale, so ordering and the
 *   directory cursor behave exactly as in SQLite, and btree indexes serve `LIKE 'prefix%'`.
 * - The `*_key` columns hold the JS-folded (`toLowerCase()`) text that search and uniqueness compare. Folding in
 *   the application, not with SQL lower(), keeps search Unicode-aware even on a C-locale cluster (where lower()
 *   folds ASCII only) and identical to the embedded store's. SQLite folds display names and topics at query
 *   time with an application function; PostgreSQL cannot call back into the app, so they are stored too.
 * - A room's sequence is its row's `last_seq`, bumped under the row lock (see PgStore) — never a SEQUENCE. (The one
 *   SEQUENCE, mentions.id, only orders each user's mentions inbox.)
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Work SQL cannot do (text through JavaScript), run after `sql` in the migration's own transaction. */
  then?: (client: ClientBase) => Promise<void>;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE users (
  id               text COLLATE "C" PRIMARY KEY,
  username         text NOT NULL,
  username_key     text COLLATE "C" NOT NULL,         -- folded username: uniqueness ignores case
  display_name     text NOT NULL,
  display_name_key text COLLATE "C" NOT NULL,         -- folded display name, for search
  status_text      text NOT NULL DEFAULT '',
  role             text NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
  password_hash    text NOT NULL,
  created_at       bigint NOT NULL,
  deactivated_at   bigint,
  CONSTRAINT users_username_key_unique UNIQUE (username_key)
);

CREATE TABLE sessions (
  id           text COLLATE "C" PRIMARY KEY,
  user_id      text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash   text COLLATE "C" NOT NULL UNIQUE,
  label        text NOT NULL DEFAULT '',
  created_at   bigint NOT NULL,
  expires_at   bigint NOT NULL,
  last_used_at bigint NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Every message bumps its room's row (last_seq, last_event_at): none of those columns is indexed, and the
-- fillfactor leaves room on each page, so the updates are HOT (no index churn, little bloat).
CREATE TABLE rooms (
  id            text COLLATE "C" PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('public', 'private', 'dm')),
  name          text NOT NULL,
  name_key      text COLLATE "C" NOT NULL,            -- folded name, for search and directory order
  topic         text NOT NULL DEFAULT '',
  topic_key     text COLLATE "C" NOT NULL DEFAULT '', -- folded topic, for search
  created_by    text COLLATE "C" NOT NULL,
  created_at    bigint NOT NULL,
  last_seq      bigint NOT NULL DEFAULT 0,            -- the room's sequence: seq of its newest event
  last_event_at bigint NOT NULL,
  member_count  integer NOT NULL DEFAULT 0,
  dm_key        text COLLATE "C" UNIQUE               -- sorted member ids for DMs: one DM per member set
) WITH (fillfactor = 70);
-- The public directory, in the order searchPublicRooms pages through it.
CREATE INDEX rooms_directory ON rooms (name_key, id) WHERE kind = 'public';

CREATE TABLE members (
  room_id    text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at  bigint NOT NULL,
  joined_seq bigint NOT NULL DEFAULT 0,               -- seq of the member.joined event that began this membership
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE invites (
  room_id    text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  inviter_id text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX invites_by_user ON invites (user_id, created_at);

-- Every room event. The primary key (room_id, seq) makes history and resume index range scans, and rejects
-- a second event at one position outright.
CREATE TABLE events (
  room_id       text COLLATE "C" NOT NULL,
  seq           bigint NOT NULL CHECK (seq > 0),
  id            text COLLATE "C" NOT NULL UNIQUE,
  type          text NOT NULL,
  sender_id     text COLLATE "C" NOT NULL,
  body          text,
  client_msg_id text COLLATE "C",
  data          jsonb,
  created_at    bigint NOT NULL,
  PRIMARY KEY (room_id, seq)
);
-- Idempotency: one message per (sender, clientMsgId), across all rooms and all nodes.
CREATE UNIQUE INDEX events_idempotency ON events (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
`,
  },
  {
    version: 2,
    name: 'moderation',
    sql: `
-- Room roles gain 'moderator' (between admin and member).
ALTER TABLE members DROP CONSTRAINT members_role_check;
ALTER TABLE members ADD CONSTRAINT members_role_check CHECK (role IN ('owner', 'admin', 'moderator', 'member'));
ALTER TABLE members ADD COLUMN muted_until bigint;   -- end of the member's mute; null = not muted

ALTER TABLE users ADD COLUMN banned_until bigint;    -- end of a server-wide ban; null = not banned

-- Constant defaults: adding these is a catalog change, no table rewrite. None is indexed (updates stay HOT).
ALTER TABLE rooms ADD COLUMN read_only boolean NOT NULL DEFAULT false;
ALTER TABLE rooms ADD COLUMN slow_mode_s integer NOT NULL DEFAULT 0 CHECK (slow_mode_s >= 0);
ALTER TABLE rooms ADD COLUMN join_approval boolean NOT NULL DEFAULT false;

CREATE TABLE room_bans (
  room_id    text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  until      bigint NOT NULL,                       -- FOREVER_MS = indefinitely; expired rows stay until lifted
  reason     text NOT NULL DEFAULT '',
  actor_id   text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (room_id, user_id)
);

CREATE TABLE join_requests (
  room_id    text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at bigint NOT NULL,
  PRIMARY KEY (room_id, user_id)
);

-- Reports and the audit log are evidence: no foreign keys, so they outlive what they mention. Ids are random;
-- pages go newest first by (created_at, id), ids in byte order (COLLATE "C") as in SQLite.
CREATE TABLE reports (
  id             text COLLATE "C" PRIMARY KEY,
  reporter_id    text COLLATE "C" NOT NULL,
  room_id        text COLLATE "C",                  -- null for a report about a user in general
  seq            bigint,                            -- the reported message's seq in room_id
  target_user_id text COLLATE "C" NOT NULL,
  reason         text NOT NULL,
  excerpt        text,                              -- the message text when reported: kept if it is deleted
  status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  resolution     text CHECK (resolution IN ('dismissed', 'deleted', 'muted', 'banned')),
  resolved_by    text COLLATE "C",
  created_at     bigint NOT NULL,
  resolved_at    bigint
);
CREATE INDEX reports_by_created ON reports (created_at, id);
CREATE INDEX reports_by_status ON reports (status, created_at, id);
CREATE INDEX reports_by_room ON reports (room_id, created_at, id) WHERE room_id IS NOT NULL;

CREATE TABLE audit_log (
  id             text COLLATE "C" PRIMARY KEY,
  actor_id       text COLLATE "C" NOT NULL,
  action         text NOT NULL,
  room_id        text COLLATE "C",
  target_user_id text COLLATE "C",
  data           jsonb,
  created_at     bigint NOT NULL
);
CREATE INDEX audit_by_created ON audit_log (created_at, id);
CREATE INDEX audit_by_room ON audit_log (room_id, created_at, id) WHERE room_id IS NOT NULL;
`,
  },
  {
    version: 3,
    name: 'unique public room names',
    sql: `
-- Public room names are unique ignoring case (names are trimmed on input). Rooms that already share a name keep
-- the oldest as it is; the others get their id appended (ids are ASCII, so lower() folds them like the store's
-- fold()), so they stay findable and the index can be built.
UPDATE rooms r SET name = r.name || ' (' || r.id || ')', name_key = r.name_key || ' (' || lower(r.id) || ')'
  FROM (SELECT id, row_number() OVER (PARTITION BY name_key ORDER BY created_at, id) AS rn
          FROM rooms WHERE kind = 'public') AS d
 WHERE r.id = d.id AND d.rn > 1;
CREATE UNIQUE INDEX rooms_public_name_unique ON rooms (name_key) WHERE kind = 'public';
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
  room_id       text COLLATE "C" NOT NULL,
  seq           bigint NOT NULL,                   -- the edited message
  edit_seq      bigint NOT NULL,                   -- its message.edited event
  editor_id     text COLLATE "C" NOT NULL,
  previous_body text NOT NULL,
  body          text NOT NULL,
  created_at    bigint NOT NULL,
  PRIMARY KEY (room_id, seq, edit_seq)
);
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
  room_id    text COLLATE "C" NOT NULL,
  seq        bigint NOT NULL,                  -- the message
  emoji      text COLLATE "C" NOT NULL,
  user_id    text COLLATE "C" NOT NULL,
  event_seq  bigint NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (room_id, seq, emoji, user_id)
);
`,
  },
  {
    version: 6,
    name: 'replies and threads',
    sql: `
-- A reply keeps replyTo, threadRoot, threadOnly and its quote in events.data. Partial indexes: a plain message
-- (data NULL) is in neither, so sends without a reply maintain nothing more. The thread queries and the quote
-- redaction of a deleted message use these expressions verbatim.
CREATE INDEX events_thread ON events (room_id, ((data->>'threadRoot')::bigint), seq)
  WHERE (data->>'threadRoot')::bigint IS NOT NULL;
CREATE INDEX events_reply_to ON events (room_id, ((data->>'replyTo')::bigint))
  WHERE (data->>'replyTo')::bigint IS NOT NULL;
`,
  },
  {
    version: 7,
    name: 'read markers and read receipts',
    sql: `
-- A member's read marker: the seq of the last message they have read (PUT …/read); the marker in effect is
-- GREATEST(read_seq, joined_seq), so a new membership starts read up to its join. Existing members start read up to
-- now, rather than with their whole history unread.
ALTER TABLE members ADD COLUMN read_seq bigint NOT NULL DEFAULT 0;
UPDATE members SET read_seq = rooms.last_seq FROM rooms WHERE rooms.id = members.room_id;
-- The privacy switch of read receipts (on by default).
ALTER TABLE users ADD COLUMN read_receipts boolean NOT NULL DEFAULT true;
`,
  },
  {
    version: 8,
    name: 'pinned messages',
    sql: `
-- One row per pinned message (PUT …/messages/:seq/pin); its message.pinned / message.unpinned events are on the room's
-- sequence. A deleted message's row goes with its text.
CREATE TABLE pins (
  room_id   text COLLATE "C" NOT NULL,
  seq       bigint NOT NULL,                 -- the pinned message
  pinned_by text COLLATE "C" NOT NULL,
  pinned_at bigint NOT NULL,
  PRIMARY KEY (room_id, seq)
);
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
  id         bigserial PRIMARY KEY,
  user_id    text COLLATE "C" NOT NULL,
  room_id    text COLLATE "C" NOT NULL,
  seq        bigint NOT NULL,                  -- the message
  created_at bigint NOT NULL
);
CREATE UNIQUE INDEX mentions_by_room ON mentions (user_id, room_id, seq);
CREATE INDEX mentions_by_message ON mentions (room_id, seq);
CREATE INDEX mentions_inbox ON mentions (user_id, id);
-- Who may use @room / @here in the room: this role and above.
ALTER TABLE rooms ADD COLUMN mention_all_role text NOT NULL DEFAULT 'moderator'
  CHECK (mention_all_role IN ('owner', 'admin', 'moderator', 'member'));
`,
  },
  {
    version: 10,
    name: 'notification levels and do not disturb',
    sql: `
-- A member's notification level for the room (PUT …/notifications): 'all' (the default), 'mentions' or 'none'. A
-- client policy the server only keeps, shared by the member's devices.
ALTER TABLE members ADD COLUMN notify text NOT NULL DEFAULT 'all' CHECK (notify IN ('all', 'mentions', 'none'));
-- Do not disturb until this time (epoch ms; FOREVER_MS = until turned off), NULL = off.
ALTER TABLE users ADD COLUMN dnd_until bigint;
`,
  },
  {
    version: 11,
    name: 'blocked users',
    sql: `
-- One row per (blocker, blocked): PUT /api/v1/me/blocks/:userId. Private to the blocker. A new table only, so it
-- applies after 9 and 10 whatever they add. blocks_by_blocked serves the other direction of the DM check.
CREATE TABLE blocks (
  user_id    text COLLATE "C" NOT NULL,      -- the blocker
  blocked_id text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (user_id, blocked_id)
);
CREATE INDEX blocks_by_blocked ON blocks (blocked_id, user_id);
`,
  },
  {
    version: 12,
    name: 'message search',
    sql: `
-- The message search index (src/core/search-text.ts says how text becomes terms). One row per message that is not
-- deleted: appendMessage inserts it, editMessage rewrites it, deleteMessage drops it, each in its own transaction.
-- docid grows with time, so newest first is docid descending (an edit keeps its docid).
-- terms: a tsvector built by the store from the message's ASCII index terms with their positions (CJK characters
-- are one term each, so a CJK word is a phrase query): no text search parser, dictionary or locale is involved.
CREATE TABLE message_search (
  docid       bigserial PRIMARY KEY,
  room_id     text COLLATE "C" NOT NULL,
  seq         bigint NOT NULL,
  sender_id   text COLLATE "C" NOT NULL,
  created_at  bigint NOT NULL,
  has_link    boolean NOT NULL DEFAULT false,
  has_file    boolean NOT NULL DEFAULT false,  -- set by the files feature (attachments); false until then
  thread_root bigint,                          -- a thread reply's root seq; NULL otherwise
  terms       tsvector NOT NULL
);
CREATE UNIQUE INDEX message_search_by_message ON message_search (room_id, seq);
CREATE INDEX message_search_terms ON message_search USING gin (terms);
-- The messages stored before this migration are indexed by indexStoredMessages (search-backfill.ts), oldest first, in
-- this same transaction.
`,
    then: indexStoredMessages,
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
  id           text COLLATE "C" PRIMARY KEY,
  owner_id     text COLLATE "C" NOT NULL,
  name         text NOT NULL,
  size         bigint NOT NULL,
  content_type text NOT NULL,                -- detected from the bytes, never the client's word
  sha256       text COLLATE "C" NOT NULL,
  width        integer,
  height       integer,
  thumb_sha256 text COLLATE "C",
  thumb_size   bigint,
  kind         text NOT NULL DEFAULT 'upload',
  created_at   bigint NOT NULL
);
CREATE INDEX files_by_owner ON files (owner_id);
CREATE INDEX files_by_sha256 ON files (sha256);
CREATE INDEX files_by_thumb ON files (thumb_sha256) WHERE thumb_sha256 IS NOT NULL;
CREATE INDEX files_by_created ON files (created_at) WHERE kind = 'upload';
-- A message's attachments, written in the message's own transaction (the FileInfo list also rides in the event's
-- data). Who may read the message may read the file; a deleted message drops its rows.
CREATE TABLE message_attachments (
  room_id  text COLLATE "C" NOT NULL,
  seq      bigint NOT NULL,
  file_id  text COLLATE "C" NOT NULL REFERENCES files(id),
  position integer NOT NULL,
  PRIMARY KEY (room_id, seq, file_id)
);
CREATE INDEX attachments_by_file ON message_attachments (file_id, room_id);
-- Secrets the server makes itself and every node must share (the signing key of file links), unless configured.
CREATE TABLE server_secrets (
  name       text COLLATE "C" PRIMARY KEY,
  value      text NOT NULL,
  created_at bigint NOT NULL
);
-- The cluster's blob store (src/storage/blobs/pg-blob-store.ts): a blob row once complete, its bytes in 256 KiB
-- chunks. A put writes its chunks under a temporary key and renames them in the transaction that adds the row.
CREATE TABLE blobs (
  sha256     text COLLATE "C" PRIMARY KEY,
  size       bigint NOT NULL,
  written_at bigint NOT NULL                 -- last put of this content: the garbage collector's clock
);
CREATE TABLE blob_chunks (
  blob text COLLATE "C" NOT NULL,
  n    integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (blob, n)
);
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL; -- already compressed media: skip TOAST compression
`,
  },
  {
    version: 14,
    name: 'link previews room setting',
    sql: `
-- The room's link-preview switch (RoomSettings.linkPreviews, on by default). A preview itself is kept in its
-- message's data (data.preview) with a message.preview event on the sequence, so it needs no table. One column only,
-- so it applies whatever 12, 13 and 15 add, in any order.
ALTER TABLE rooms ADD COLUMN link_previews boolean NOT NULL DEFAULT true;
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
  id         text COLLATE "C" PRIMARY KEY,
  bytes      bytea NOT NULL,
  created_at bigint NOT NULL
);
ALTER TABLE users ADD COLUMN avatar_id text;
ALTER TABLE rooms ADD COLUMN avatar_id text;
`,
  },
  {
    version: 16,
    name: 'bots',
    sql: `
-- Bot accounts (issue 16): a bot is a user with bot = true, managed by whoever may manage its room (bot_room_id)
-- or, server-wide (bot_room_id NULL), by server admins. Its tokens are sessions whose scopes are set
-- (comma-separated); a person's session has scopes NULL. Self-contained, so it applies whatever 17-19 add.
ALTER TABLE users ADD COLUMN bot boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN bot_room_id text COLLATE "C";
ALTER TABLE users ADD COLUMN bot_created_by text COLLATE "C";
ALTER TABLE users ADD COLUMN bot_scopes text;
ALTER TABLE sessions ADD COLUMN scopes text;
CREATE INDEX users_bots ON users(bot_room_id) WHERE bot;
-- The slash commands a bot registered (PUT /api/v1/bots/me/commands replaces them all).
CREATE TABLE bot_commands (
  bot_id      text COLLATE "C" NOT NULL REFERENCES users(id),
  name        text COLLATE "C" NOT NULL,
  description text NOT NULL,
  args_hint   text,
  position    integer NOT NULL,
  PRIMARY KEY (bot_id, name)
);
`,
  },
  {
    version: 17,
    name: 'webhooks',
    sql: `
-- Incoming webhooks: a room's secret URLs. The URL's token is kept only as its SHA-256; the signing secret as is
-- (verifying an HMAC needs it). Signatures seen are remembered until they are too old to be accepted anyway.
CREATE TABLE incoming_webhooks (
  id             text COLLATE "C" PRIMARY KEY,
  room_id        text COLLATE "C" NOT NULL,
  name           text NOT NULL,
  icon_url       text,
  token_hash     text COLLATE "C" NOT NULL UNIQUE,
  signing_secret text,
  created_by     text COLLATE "C" NOT NULL,
  created_at     bigint NOT NULL
);
CREATE INDEX incoming_webhooks_by_room ON incoming_webhooks(room_id, created_at);
CREATE TABLE webhook_signatures (
  webhook_id text COLLATE "C" NOT NULL,
  signature  text COLLATE "C" NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (webhook_id, signature)
);
-- Outgoing webhooks. room_id NULL: server-wide (every public room). events: JSON array of event types.
CREATE TABLE webhook_subscriptions (
  id         text COLLATE "C" PRIMARY KEY,
  room_id    text COLLATE "C",
  url        text NOT NULL,
  events     text NOT NULL,
  secret     text NOT NULL,
  created_by text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX webhook_subscriptions_by_room ON webhook_subscriptions(room_id, created_at);
-- The delivery queue: a subscription's cursor per room over the room's own sequence (durable already), leased by
-- the node delivering it (claimed FOR UPDATE SKIP LOCKED). next_at: when it is due (a retry's backoff); attempts:
-- failures at the event after last_seq.
CREATE TABLE webhook_cursors (
  subscription_id text COLLATE "C" NOT NULL,
  room_id         text COLLATE "C" NOT NULL,
  last_seq        bigint NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_at         bigint NOT NULL DEFAULT 0,
  lease_owner     text,
  lease_until     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (subscription_id, room_id)
);
CREATE INDEX webhook_cursors_by_room ON webhook_cursors(room_id);
-- The delivery log: one row per (subscription, event), updated by each attempt.
CREATE TABLE webhook_deliveries (
  subscription_id text COLLATE "C" NOT NULL,
  event_id        text COLLATE "C" NOT NULL,
  room_id         text COLLATE "C" NOT NULL,
  seq             bigint NOT NULL,
  event_type      text NOT NULL,
  status          text NOT NULL,
  attempts        integer NOT NULL,
  last_status     integer,
  last_error      text,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  PRIMARY KEY (subscription_id, event_id)
);
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
ALTER TABLE events ADD COLUMN hash text COLLATE "C";
ALTER TABLE events ADD COLUMN prev_hash text COLLATE "C";
ALTER TABLE events ADD COLUMN content_hash text COLLATE "C";
ALTER TABLE events ADD COLUMN target_hash text COLLATE "C";
-- head_hash: the hash of the room's newest event (NULL: none hashed yet), read and written with last_seq under the
-- room row's lock (UPDATE … RETURNING sees the latest committed head, which a subquery on events would not).
-- chain_from: the seq of the room's first hashed event. A room that has events already when this runs keeps them
-- unhashed: its chain is anchored at its next event, whose prev_hash is the genesis hash.
ALTER TABLE rooms ADD COLUMN head_hash text COLLATE "C";
ALTER TABLE rooms ADD COLUMN chain_from bigint NOT NULL DEFAULT 1;
UPDATE rooms SET chain_from = last_seq + 1;
`,
  },
  {
    version: 19,
    name: 'account deletion and password reset links',
    sql: `
-- Issue 18. A deleted account keeps its row (its messages and events still name it) with deleted_at set; its
-- username is replaced by a placeholder no one can register, so the name is free again.
ALTER TABLE users ADD COLUMN deleted_at bigint;
-- Admin-issued one-time password reset links: only the token's hash is stored; using one deletes it.
CREATE TABLE password_resets (
  token_hash text COLLATE "C" PRIMARY KEY,
  user_id    text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_by text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX password_resets_by_user ON password_resets(user_id);
-- A user's own messages, for erasing them at deletion and for their export.
CREATE INDEX events_by_sender ON events (sender_id, room_id, seq) WHERE type = 'message';
`,
  },
  {
    version: 20,
    name: 'search: CJK bigrams',
    sql: `
-- PostgreSQL only (SQLite's FTS5 keeps positions in its index and needs no bigrams): message_search.terms gains a
-- term per two adjacent CJK characters (src/core/search-text.ts, tsVector), so a CJK phrase is found through rare
-- terms instead of rechecking every row holding its single characters. addCjkBigrams rewrites the stored rows in
-- this same transaction. Numbered after 16-19, which other features take on both engines.
SELECT 1;
`,
    then: addCjkBigrams,
  },
];

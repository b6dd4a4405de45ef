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
];

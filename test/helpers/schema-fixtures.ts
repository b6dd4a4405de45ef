/**
 * Data as older releases stored it, for the schema-upgrade tests (issue 18): a database is built migration by
 * migration, and after each migration that has a chunk below, that chunk's rows are written in the schema of that
 * moment — the way a deployment that lived through every release would hold them. The same rows serve SQLite and
 * PostgreSQL: a writer keeps only the columns the table has at that version (so PostgreSQL's extra `*_key` columns
 * can ride along) and stores booleans as each engine does.
 *
 * Append a chunk when a migration adds something people keep (rows a later release must still read); the upgrade
 * test then checks it from every earlier version.
 */
import { hashToken } from '../../src/core/tokens.js';

export type FixtureValue = string | number | boolean | null;
export interface FixtureRow {
  table: string;
  values: Record<string, FixtureValue>;
}
export interface FixtureChunk {
  /** Written right after this migration is applied. */
  version: number;
  rows: FixtureRow[];
  /** Plain SQL valid on both engines (literals only), run after the rows. */
  sql?: string[];
}

export const T0 = 1_700_000_000_000;
const at = (minutes: number) => T0 + minutes * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Who lives in the fixture, with the passwords the upgraded server must still accept. */
export const PEOPLE = {
  alice: { id: 'u_fx_alice', username: 'alice', password: 'alice-password-1' },
  bob: { id: 'u_fx_bob', username: 'bob', password: 'bob-password-12' },
  carol: { id: 'u_fx_carol', username: 'carol', password: 'carol-password-1' },
} as const;
export const ROOMS = { town: 'r_fx_town', secret: 'r_fx_secret', dm: 'r_fx_dm' } as const;
/** The bot's token (v16) and the incoming webhook's URL token (v17), shaped like newToken()'s: only hashes are stored. */
export const BOT_TOKEN = 'Zml4dHVyZSBib3QgdG9rZW4sIDMyIGJ5dGVzIGxvbmc';
export const HOOK_TOKEN = 'Zml4dHVyZSBob29rIHVybCB0b2tlbiwgMzIgYnl0ZXM';

function user(id: string, username: string, displayName: string, hash: string, role: 'admin' | 'user', t: number) {
  return {
    table: 'users',
    values: {
      id,
      username,
      username_key: username.toLowerCase(),
      display_name: displayName,
      display_name_key: displayName.toLowerCase(),
      role,
      password_hash: hash,
      created_at: t,
    },
  };
}

function room(id: string, kind: string, name: string, createdBy: string, lastSeq: number, members: number, t: number) {
  return {
    table: 'rooms',
    values: {
      id,
      kind,
      name,
      name_key: name.toLowerCase(),
      topic: '',
      topic_key: '',
      created_by: createdBy,
      created_at: t,
      last_seq: lastSeq,
      last_event_at: t,
      member_count: members,
      dm_key: kind === 'dm' ? [PEOPLE.alice.id, PEOPLE.bob.id].sort().join(',') : null,
    },
  };
}

function member(roomId: string, userId: string, role: string, joinedSeq: number, t: number): FixtureRow {
  return { table: 'members', values: { room_id: roomId, user_id: userId, role, joined_at: t, joined_seq: joinedSeq } };
}

function event(
  roomId: string,
  seq: number,
  type: string,
  senderId: string,
  t: number,
  opts: { body?: string; clientMsgId?: string; data?: Record<string, unknown> } = {},
): FixtureRow {
  return {
    table: 'events',
    values: {
      room_id: roomId,
      seq,
      id: `e_fx_${roomId}_${seq}`,
      type,
      sender_id: senderId,
      body: opts.body ?? null,
      client_msg_id: opts.clientMsgId ?? null,
      data: opts.data ? JSON.stringify(opts.data) : null,
      created_at: t,
    },
  };
}

const joined = (roomId: string, seq: number, userId: string, role: string, t: number) =>
  event(roomId, seq, 'member.joined', userId, t, { data: { userId, role } });

/** What the fixture's messages say once every chunk up to the latest is in (the upgrade test compares). */
export const TEXT = {
  hello: 'hello town',
  helloEdited: 'hello town, edited before the upgrade',
  bob: 'bob says 你好世界 before any upgrade',
  secret: 'secret plans for the fixture',
  dm: 'psst bob, a direct message',
};

/** The chunks, oldest first. `hashes` are password hashes made by the caller (cheap scrypt parameters). */
export function fixtureChunks(hashes: Record<keyof typeof PEOPLE, string>): FixtureChunk[] {
  const { alice, bob, carol } = PEOPLE;
  const { town, secret, dm } = ROOMS;
  return [
    {
      version: 1,
      rows: [
        user(alice.id, alice.username, 'Alice', hashes.alice, 'admin', at(0)),
        user(bob.id, bob.username, 'Bob', hashes.bob, 'user', at(1)),
        user(carol.id, carol.username, 'Carol', hashes.carol, 'user', at(2)),
        room(town, 'public', 'Town', alice.id, 4, 2, at(3)),
        member(town, alice.id, 'owner', 1, at(3)),
        member(town, bob.id, 'member', 2, at(4)),
        joined(town, 1, alice.id, 'owner', at(3)),
        joined(town, 2, bob.id, 'member', at(4)),
        event(town, 3, 'message', alice.id, at(5), { body: TEXT.hello, clientMsgId: 'fx-1' }),
        event(town, 4, 'message', bob.id, at(6), { body: TEXT.bob, clientMsgId: 'fx-2' }),
        room(secret, 'private', 'Secret', alice.id, 3, 2, at(7)),
        member(secret, alice.id, 'owner', 1, at(7)),
        member(secret, carol.id, 'member', 2, at(8)),
        joined(secret, 1, alice.id, 'owner', at(7)),
        joined(secret, 2, carol.id, 'member', at(8)),
        event(secret, 3, 'message', carol.id, at(9), { body: TEXT.secret, clientMsgId: 'fx-3' }),
        room(dm, 'dm', '', alice.id, 3, 2, at(10)),
        member(dm, alice.id, 'member', 1, at(10)),
        member(dm, bob.id, 'member', 2, at(10)),
        joined(dm, 1, alice.id, 'member', at(10)),
        joined(dm, 2, bob.id, 'member', at(10)),
        event(dm, 3, 'message', alice.id, at(11), { body: TEXT.dm, clientMsgId: 'fx-4' }),
      ],
    },
    {
      // Message edits: alice rewrote her first message (the row holds the new text; the edit event and history row
      // hold both).
      version: 4,
      rows: [
        {
          table: 'message_edits',
          values: {
            room_id: town,
            seq: 3,
            edit_seq: 5,
            editor_id: alice.id,
            previous_body: TEXT.hello,
            body: TEXT.helloEdited,
            created_at: at(12),
          },
        },
        event(town, 5, 'message.edited', alice.id, at(12), {
          body: TEXT.helloEdited,
          data: { seq: 3, messageId: `e_fx_${town}_3`, editedAt: iso(at(12)) },
        }),
      ],
      sql: [
        `UPDATE events SET body = '${TEXT.helloEdited}', data = '{"editedAt":"${iso(at(12))}"}' ` +
          `WHERE room_id = '${town}' AND seq = 3`,
        `UPDATE rooms SET last_seq = 5, last_event_at = ${at(12)} WHERE id = '${town}'`,
      ],
    },
    {
      version: 5,
      rows: [
        {
          table: 'reactions',
          values: { room_id: town, seq: 4, emoji: '👍', user_id: alice.id, event_seq: 6, created_at: at(13) },
        },
        event(town, 6, 'reaction.added', alice.id, at(13), {
          data: { seq: 4, messageId: `e_fx_${town}_4`, emoji: '👍', userId: alice.id },
        }),
      ],
      sql: [`UPDATE rooms SET last_seq = 6 WHERE id = '${town}'`],
    },
    {
      version: 8,
      rows: [
        { table: 'pins', values: { room_id: town, seq: 4, pinned_by: alice.id, pinned_at: at(14) } },
        event(town, 7, 'message.pinned', alice.id, at(14), { data: { seq: 4, messageId: `e_fx_${town}_4` } }),
      ],
      sql: [`UPDATE rooms SET last_seq = 7 WHERE id = '${town}'`],
    },
    {
      version: 11,
      rows: [{ table: 'blocks', values: { user_id: bob.id, blocked_id: carol.id, created_at: at(15) } }],
    },
    {
      // A room bot of Town, with a live token.
      version: 16,
      rows: [
        {
          table: 'users',
          values: {
            ...user('u_fx_helper', 'helper', 'Helper', '!bot', 'user', at(16)).values,
            bot: true,
            bot_room_id: town,
            bot_created_by: alice.id,
            bot_scopes: 'read,post',
          },
        },
        member(town, 'u_fx_helper', 'member', 8, at(16)),
        joined(town, 8, 'u_fx_helper', 'member', at(16)),
        {
          table: 'sessions',
          values: {
            id: 's_fx_helper',
            user_id: 'u_fx_helper',
            token_hash: hashToken(BOT_TOKEN),
            label: 'bot',
            created_at: at(16),
            expires_at: 32_503_680_000_000,
            last_used_at: at(16),
            scopes: 'read,post',
          },
        },
      ],
      sql: [`UPDATE rooms SET last_seq = 8, member_count = 3 WHERE id = '${town}'`],
    },
    {
      version: 17,
      rows: [
        {
          table: 'incoming_webhooks',
          values: {
            id: 'wh_fx_ci',
            room_id: town,
            name: 'CI',
            icon_url: null,
            token_hash: hashToken(HOOK_TOKEN),
            signing_secret: null,
            created_by: alice.id,
            created_at: at(17),
          },
        },
      ],
    },
  ];
}

/** How a town event count grows with the chunks in: the last seq of Town after building up to `version`. */
export function townLastSeq(version: number): number {
  if (version >= 16) return 8;
  if (version >= 8) return 7;
  if (version >= 5) return 6;
  if (version >= 4) return 5;
  return 4;
}

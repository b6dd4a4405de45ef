import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MemberRole, RoomKind } from '../../src/protocol/model.js';
import { can, mayGrant, outranks, rank, READ_ONLY_POSTER, type RoomAction } from '../../src/protocol/permissions.js';

/**
 * The permission rules against their specification: the table and footnotes of docs/protocol.md section 7, read
 * from the document itself. The end-to-end matrix (authorization-matrix.test.ts) proves the server applies
 * `can()`; this proves `can()`, `outranks()` and `mayGrant()` say what the documentation promises, cell by cell,
 * so a changed table entry or rank fails here in milliseconds.
 */

const KINDS: readonly RoomKind[] = ['public', 'private', 'dm'];
const ROLES: readonly (MemberRole | null)[] = [null, 'member', 'moderator', 'admin', 'owner'];

/** Which documented row each action is. Rows not listed (see, join, leave, …) are not `can()` actions. */
const ROW_OF: Record<RoomAction, string> = {
  read: 'Read history, events, threads, member list (HTTP)',
  post: 'Post (`send`, `POST …/messages`, replies), typing',
  invite: 'Invite',
  update: 'Rename, topic, settings',
  setRole: 'Change member roles',
  kick: 'Kick, ban, unban, mute, unmute',
  ban: 'Kick, ban, unban, mute, unmute',
  mute: 'Kick, ban, unban, mute, unmute',
  deleteMessage: 'Delete any message (own: always)',
  editMessage: 'Edit own message (`PATCH …/messages/:seq`)',
  markRead: 'Move your read marker, see read receipts (`PUT …/read`, `GET …/receipts`)',
  notify: 'Set your notification level (`PUT …/notifications`)',
  pin: 'Pin and unpin messages (`PUT`/`DELETE …/messages/:seq/pin`)',
  react: 'React (`PUT`/`DELETE …/reactions/:emoji`)',
  approveJoin: 'Approve / reject join requests',
  viewReports: "See the room's reports",
  viewAudit: 'Room audit log',
  manageWebhooks: 'Webhooks and their delivery logs (`…/webhooks`, `…/subscriptions`)',
  manageAssistant: 'Add or remove the assistant (`PUT`/`DELETE …/assistant`)',
};

interface DocRow {
  cells: Record<RoomKind, string>;
  serverAdmin: string;
}

/** The rows of the section 7 table, by action label, with footnote marks stripped. */
function documentedTable(): Map<string, DocRow> {
  const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## 7. Permissions'));
  const rows = new Map<string, DocRow>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| ')) {
      if (rows.size > 0) break; // the table ended
      continue;
    }
    const cols = line
      .split('|')
      .slice(1, -1)
      .map((c) =>
        c
          .trim()
          .replace(/[¹²³⁴⁵⁶⁷⁸⁹]/g, '')
          .trim(),
      );
    if (cols[0] === 'Action' || /^-+$/.test(cols[0]!)) continue;
    rows.set(cols[0]!, { cells: { public: cols[1]!, private: cols[2]!, dm: cols[3]! }, serverAdmin: cols[4]! });
  }
  return rows;
}

/** A documented cell as the least room role that may act; null = no room role may. */
function leastRole(cell: string): MemberRole | 'anyone' | null {
  if (cell === 'any user') return 'anyone';
  if (cell.startsWith('never')) return null;
  if (['member', 'moderator', 'admin', 'owner'].includes(cell)) return cell as MemberRole;
  throw new Error(`unreadable permission cell: ${cell}`);
}

const ORDER: readonly MemberRole[] = ['member', 'moderator', 'admin', 'owner'];
const atLeast = (role: MemberRole | null, least: MemberRole) =>
  role !== null && ORDER.indexOf(role) >= ORDER.indexOf(least);

describe('permission rules match docs/protocol.md section 7', () => {
  const table = documentedTable();

  it('every action has its documented row', () => {
    for (const [action, row] of Object.entries(ROW_OF)) expect(table.has(row), `${action}: ${row}`).toBe(true);
  });

  it('can(): each action × room kind × room role, without and with server admin rights', () => {
    const wrong: string[] = [];
    for (const [action, label] of Object.entries(ROW_OF) as [RoomAction, string][]) {
      const row = table.get(label)!;
      for (const kind of KINDS) {
        const least = leastRole(row.cells[kind]);
        const adminAnywhere = row.serverAdmin === 'yes';
        const adminInRooms = adminAnywhere || row.serverAdmin === 'yes, not in DMs';
        if (!adminAnywhere && !adminInRooms && row.serverAdmin !== 'no') {
          throw new Error(`unreadable server admin cell: ${row.serverAdmin}`);
        }
        const adminMay = adminAnywhere || (adminInRooms && kind !== 'dm');
        for (const role of ROLES) {
          const byRole = least === 'anyone' || (least !== null && atLeast(role, least));
          const cases: [boolean, boolean][] = [
            [false, byRole],
            [true, byRole || adminMay],
          ];
          for (const [serverAdmin, want] of cases) {
            const got = can(action, kind, role, serverAdmin);
            if (got !== want) wrong.push(`${action} ${kind} ${role ?? 'non-member'} admin=${serverAdmin}: ${got}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('ranks: owner > admin > moderator > member > non-member', () => {
    const ranks = [null, ...ORDER].map((r) => rank(r));
    for (let i = 1; i < ranks.length; i++) expect(ranks[i]).toBeGreaterThan(ranks[i - 1]!);
  });

  it('footnote 2: in a read-only room (and past slow mode) posting takes a moderator', () => {
    expect(READ_ONLY_POSTER).toBe('moderator');
  });

  it('footnote 5: acting on a member needs a strictly higher rank; owners act on co-owners; server admins on anyone', () => {
    for (const actor of ROLES) {
      for (const target of ROLES) {
        const want =
          actor === 'owner' || (actor !== null && ORDER.indexOf(actor) > (target ? ORDER.indexOf(target) : -1));
        expect(outranks(actor, false, target), `${actor} on ${target}`).toBe(want);
        expect(outranks(actor, true, target), `server admin (${actor}) on ${target}`).toBe(true);
      }
    }
  });

  it('footnote 4: owners give any role, others only roles below their own; server admins any', () => {
    for (const actor of ROLES) {
      for (const role of ORDER) {
        const want = actor === 'owner' || (actor !== null && ORDER.indexOf(actor) > ORDER.indexOf(role));
        expect(mayGrant(actor, false, role), `${actor} grants ${role}`).toBe(want);
        expect(mayGrant(actor, true, role), `server admin (${actor}) grants ${role}`).toBe(true);
      }
    }
  });
});

import fs from 'node:fs';
import type { RoomAction } from '../../src/protocol/permissions.js';
import type { RoomKind } from '../../src/protocol/model.js';

/**
 * The expected room permissions, written out cell by cell and kept apart from the code on purpose: the server
 * decides with ROOM_PERMISSIONS (src/protocol/permissions.ts), and a test that took its expectations from that
 * same table would move with any wrong cell. test/unit/permissions-oracle.test.ts pins this grid to the code and to the
 * table in docs/protocol.md §7; test/e2e/authorization-matrix.test.ts checks the running server against it.
 *
 * Columns: the caller's standing in the room. `nonMember` is any signed-in user outside it; `serverAdmin` is a
 * server admin who is not a member. `·` marks cells that cannot exist (DMs have no roles above member).
 */
export const CALLERS = ['nonMember', 'member', 'moderator', 'roomAdmin', 'owner', 'serverAdmin'] as const;
export type Caller = (typeof CALLERS)[number];

const GRID = `
action         kind     nonMember member moderator roomAdmin owner serverAdmin
read           public   y         y      y         y         y     y
read           private  n         y      y         y         y     n
read           dm       n         y      ·         ·         ·     n
post           public   n         y      y         y         y     n
post           private  n         y      y         y         y     n
post           dm       n         y      ·         ·         ·     n
invite         public   n         y      y         y         y     n
invite         private  n         n      n         y         y     n
invite         dm       n         n      ·         ·         ·     n
update         public   n         n      n         y         y     y
update         private  n         n      n         y         y     y
update         dm       n         n      ·         ·         ·     n
setRole        public   n         n      n         y         y     y
setRole        private  n         n      n         y         y     y
setRole        dm       n         n      ·         ·         ·     n
kick           public   n         n      y         y         y     y
kick           private  n         n      y         y         y     y
kick           dm       n         n      ·         ·         ·     y
ban            public   n         n      y         y         y     y
ban            private  n         n      y         y         y     y
ban            dm       n         n      ·         ·         ·     y
mute           public   n         n      y         y         y     y
mute           private  n         n      y         y         y     y
mute           dm       n         n      ·         ·         ·     y
deleteMessage  public   n         n      y         y         y     y
deleteMessage  private  n         n      y         y         y     y
deleteMessage  dm       n         n      ·         ·         ·     y
editMessage    public   n         y      y         y         y     n
editMessage    private  n         y      y         y         y     n
editMessage    dm       n         y      ·         ·         ·     n
markRead       public   n         y      y         y         y     n
markRead       private  n         y      y         y         y     n
markRead       dm       n         y      ·         ·         ·     n
notify         public   n         y      y         y         y     n
notify         private  n         y      y         y         y     n
notify         dm       n         y      ·         ·         ·     n
pin            public   n         n      y         y         y     y
pin            private  n         n      y         y         y     y
pin            dm       n         y      ·         ·         ·     n
react          public   n         y      y         y         y     n
react          private  n         y      y         y         y     n
react          dm       n         y      ·         ·         ·     n
approveJoin    public   n         n      y         y         y     y
approveJoin    private  n         n      y         y         y     y
approveJoin    dm       n         n      ·         ·         ·     n
viewReports    public   n         n      y         y         y     y
viewReports    private  n         n      y         y         y     y
viewReports    dm       n         n      ·         ·         ·     y
viewAudit      public   n         n      n         y         y     y
viewAudit      private  n         n      n         y         y     y
viewAudit      dm       n         n      ·         ·         ·     y
manageWebhooks public   n         n      n         y         y     n
manageWebhooks private  n         n      n         y         y     n
manageWebhooks dm       n         n      ·         ·         ·     n
manageAssistant public  n         n      n         y         y     y
manageAssistant private n         n      n         y         y     y
manageAssistant dm      n         n      ·         ·         ·     n
`;

export const ACTIONS = [
  'read',
  'post',
  'invite',
  'update',
  'setRole',
  'kick',
  'ban',
  'mute',
  'deleteMessage',
  'editMessage',
  'markRead',
  'notify',
  'pin',
  'react',
  'approveJoin',
  'viewReports',
  'viewAudit',
  'manageWebhooks',
  'manageAssistant',
] as const satisfies readonly RoomAction[];
export const KINDS = ['public', 'private', 'dm'] as const satisfies readonly RoomKind[];

type Cell = boolean | null;
const ORACLE = new Map<string, Cell>();
{
  const [header, ...rows] = GRID.trim().split('\n');
  const cols = header!.trim().split(/\s+/).slice(2);
  if (cols.join() !== CALLERS.join()) throw new Error(`permission grid header: ${cols.join()}`);
  for (const row of rows) {
    const [action, kind, ...cells] = row.trim().split(/\s+/);
    if (cells.length !== CALLERS.length) throw new Error(`permission grid row: ${row}`);
    cells.forEach((c, i) => ORACLE.set(`${action}/${kind}/${CALLERS[i]}`, c === 'y' ? true : c === 'n' ? false : null));
  }
  if (ORACLE.size !== ACTIONS.length * KINDS.length * CALLERS.length) throw new Error('permission grid incomplete');
}

/** Whether `caller` may do `action` in a room of `kind`, as written in the grid above. */
export function may(action: RoomAction, kind: RoomKind, caller: Caller): boolean {
  const cell = ORACLE.get(`${action}/${kind}/${caller}`);
  if (cell === undefined) throw new Error(`no permission cell ${action}/${kind}/${caller}`);
  if (cell === null) throw new Error(`permission cell ${action}/${kind}/${caller} cannot exist`);
  return cell;
}

/**
 * Files (issue 15): who may download a file someone else uploaded and attached to a message in a room of `kind`.
 * Written out on its own, not derived from `read` above (it happens to match it: a file is readable exactly by those
 * who may read the message it is in). Anyone else gets `404 not_found`, so file ids reveal nothing. A file's
 * uploader may always download it (test/e2e/files.test.ts).
 */
const FILE_GRID = `
kind     nonMember member moderator roomAdmin owner serverAdmin
public   y         y      y         y         y     y
private  n         y      y         y         y     n
dm       n         y      ·         ·         ·     n
`;
const FILE_ORACLE = new Map<string, boolean | null>();
for (const row of FILE_GRID.trim().split('\n').slice(1)) {
  const [kind, ...cols] = row.trim().split(/\s+/);
  cols.forEach((c, i) => FILE_ORACLE.set(`${kind}/${CALLERS[i]}`, c === 'y' ? true : c === 'n' ? false : null));
}

/** Whether `caller` may download a file attached to a message in a room of `kind` (FILE_GRID). */
export function mayDownloadAttachment(kind: RoomKind, caller: Caller): boolean {
  const cell = FILE_ORACLE.get(`${kind}/${caller}`);
  if (cell === undefined || cell === null) throw new Error(`no file cell ${kind}/${caller}`);
  return cell;
}

/** Every cell that exists, for tests that walk them all. */
export function cells(): { action: RoomAction; kind: RoomKind; caller: Caller; allowed: boolean }[] {
  const out = [];
  for (const action of ACTIONS) {
    for (const kind of KINDS) {
      for (const caller of CALLERS) {
        const cell = ORACLE.get(`${action}/${kind}/${caller}`);
        if (cell !== null && cell !== undefined) out.push({ action, kind, caller, allowed: cell });
      }
    }
  }
  return out;
}

/** One row of the docs' table in its own words: least role per kind, and the server-admin column. */
export interface DocRow {
  public: string;
  private: string;
  dm: string;
  serverAdmin: string;
}

const ROOM_ROLES = ['member', 'moderator', 'roomAdmin', 'owner'] as const;
const DOC_ROLE: Record<(typeof ROOM_ROLES)[number], string> = {
  member: 'member',
  moderator: 'moderator',
  roomAdmin: 'admin',
  owner: 'owner',
};

/**
 * The grid in the words docs/protocol.md §7 uses: `any user` when non-members may, else the least room role that
 * may (the roles above it must all be allowed: the grid is checked to be monotone), else `never`; the last column
 * says where a server admin may act without a role beyond what any user may: `yes`, `yes, not in DMs` or `no`.
 */
export function asDocRow(action: RoomAction): DocRow {
  const least = (kind: RoomKind): string => {
    if (may(action, kind, 'nonMember')) {
      for (const r of ROOM_ROLES) {
        if (ORACLE.get(`${action}/${kind}/${r}`) === false)
          throw new Error(`${action}/${kind}: ${r} below a non-member`);
      }
      return 'any user';
    }
    let found: string | null = null;
    for (const r of ROOM_ROLES) {
      const c = ORACLE.get(`${action}/${kind}/${r}`);
      if (c === true) found ??= DOC_ROLE[r];
      else if (c === false && found) throw new Error(`${action}/${kind}: ${r} refused above ${found}`);
    }
    return found ?? 'never';
  };
  const override = (kind: RoomKind) => may(action, kind, 'serverAdmin') && !may(action, kind, 'nonMember');
  const refusedOverride = (kind: RoomKind) => !may(action, kind, 'serverAdmin') && may(action, kind, 'nonMember');
  if (KINDS.some(refusedOverride)) throw new Error(`${action}: a server admin is refused what any user may do`);
  let serverAdmin = 'no';
  if (override('public') && override('private')) serverAdmin = override('dm') ? 'yes' : 'yes, not in DMs';
  else if (KINDS.some(override)) throw new Error(`${action}: server admin override in some room kinds only`);
  return { public: least('public'), private: least('private'), dm: least('dm'), serverAdmin };
}

/** Which docs row speaks for which action (rows without a RoomAction — join, leave, directory — are not here). */
export const DOC_ROW_OF: Record<RoomAction, string> = {
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

/**
 * The permissions table of docs/protocol.md §7, row label → cells, with footnote marks and parenthesised codes
 * dropped (`member²` → `member`, "never (`forbidden`)" → `never`).
 */
export function parseDocsTable(markdown: string): Map<string, DocRow> {
  const start = markdown.indexOf('## 7. Permissions');
  if (start < 0) throw new Error('docs/protocol.md has no "## 7. Permissions"');
  const section = markdown.slice(start, markdown.indexOf('\n## ', start + 1));
  const lines = section.split('\n').filter((l) => l.startsWith('|'));
  const [header, rule, ...rows] = lines;
  const split = (l: string) =>
    l
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  if (split(header!).join('|') !== 'Action|Public room|Private room|DM|Server admin without the role') {
    throw new Error(`unexpected §7 table header: ${header}`);
  }
  if (!/^\|[\s|:-]+\|$/.test(rule!)) throw new Error('§7 table has no header rule');
  const clean = (c: string) =>
    c
      .replace(/\(`[^`]*`\)/g, '')
      .replace(/[¹²³⁴⁵⁶⁷⁸⁹⁰]/g, '')
      .replace(/\s+/g, ' ')
      .trim();
  const out = new Map<string, DocRow>();
  for (const row of rows) {
    const [label, pub, priv, dm, admin] = split(row);
    if (out.has(label!)) throw new Error(`§7 table has the row "${label}" twice`);
    out.set(label!, { public: clean(pub!), private: clean(priv!), dm: clean(dm!), serverAdmin: clean(admin!) });
  }
  return out;
}

export function readDocsTable(): Map<string, DocRow> {
  return parseDocsTable(fs.readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8'));
}

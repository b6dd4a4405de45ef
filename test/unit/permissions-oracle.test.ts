import { describe, expect, it } from 'vitest';
import type { MemberRole } from '../../src/protocol/model.js';
import { can } from '../../src/protocol/permissions.js';
import { ACTIONS, asDocRow, cells, DOC_ROW_OF, readDocsTable, type Caller } from '../helpers/permission-oracle.js';

/**
 * Code, tests and docs pinned together: the literal grid in test/helpers/permission-oracle.ts (which the
 * authorization matrix checks the running server against) must equal both ROOM_PERMISSIONS through `can()` and
 * the table printed in docs/protocol.md §7. A wrong cell in any one of the three fails here.
 */

const AS_CODE: Record<Caller, { role: MemberRole | null; serverAdmin: boolean }> = {
  nonMember: { role: null, serverAdmin: false },
  member: { role: 'member', serverAdmin: false },
  moderator: { role: 'moderator', serverAdmin: false },
  roomAdmin: { role: 'admin', serverAdmin: false },
  owner: { role: 'owner', serverAdmin: false },
  serverAdmin: { role: null, serverAdmin: true },
};

describe('the permission oracle', () => {
  it('equals the code: can() answers every cell of the literal grid the same', () => {
    const all = cells();
    expect(all.length).toBe(19 * (2 * 6 + 3));
    const differ = all
      .filter((c) => can(c.action, c.kind, AS_CODE[c.caller].role, AS_CODE[c.caller].serverAdmin) !== c.allowed)
      .map((c) => `${c.action} × ${c.kind} × ${c.caller}: grid says ${c.allowed ? 'allowed' : 'refused'}`);
    expect(differ).toEqual([]);
  });

  it('equals docs/protocol.md §7: every action row of the printed table says what the grid says', () => {
    const docs = readDocsTable();
    for (const action of ACTIONS) {
      const label = DOC_ROW_OF[action];
      expect(docs.has(label), `docs §7 has the row "${label}"`).toBe(true);
      expect({ action, ...docs.get(label) }).toEqual({ action, ...asDocRow(action) });
    }
    // And nothing else: a row no action maps to (a stale copy a merge left behind, say) is a claim nobody checks.
    // The rows the table does not decide (visibility, delivery, joining and leaving rules of their own) are the
    // authorization matrix's (test/e2e/authorization-matrix.test.ts) to check, scenario by scenario.
    const elsewhere = [
      'See it (`GET /rooms/:roomId`)',
      'Appears in the directory (`GET /rooms`)',
      'Receive its events over WebSocket (live and resume)',
      'Join',
      'Leave',
    ];
    const known = new Set([...ACTIONS.map((a) => DOC_ROW_OF[a]), ...elsewhere]);
    expect([...docs.keys()].filter((label) => !known.has(label))).toEqual([]);
  });
});

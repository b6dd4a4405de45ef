import { describe, expect, it } from 'vitest';
import { appendMessages, type Outcome } from '../../src/storage/sql/events.js';
import { oneStatement, query, runAsync, runSync, type Op, type Recipe } from '../../src/storage/sql/recipe.js';

/**
 * The recipe drivers both SQL engines use (src/storage/sql/recipe.ts). The store contract suite runs every recipe
 * on both engines; this pins what the drivers themselves promise, with a fake executor.
 */

/** Looks up two users and reports whether the second lookup failed (a recipe may catch a query's error). */
function* twoLookups(): Recipe<{ first: unknown; second: unknown; caught: string | null }> {
  const first = yield* query('userById', { id: 'u1' });
  let second: unknown = null;
  let caught: string | null = null;
  try {
    second = yield* query('userById', { id: 'u2' });
  } catch (err) {
    caught = (err as Error).message;
  }
  return { first, second, caught };
}

const rows: Record<string, { id: string }> = { u1: { id: 'u1' }, u2: { id: 'u2' } };
const lookup = (op: Op) => {
  const { id } = op.args as { id: string };
  if (id === 'u2' && failU2) throw new Error('connection lost');
  return rows[id];
};
let failU2 = false;

describe('recipe drivers', () => {
  it('runSync hands each query its arguments and the recipe its result, in order', () => {
    failU2 = false;
    const seen: Op[] = [];
    const out = runSync(twoLookups(), (op) => {
      seen.push(op);
      return lookup(op);
    });
    expect(seen).toEqual([
      { name: 'userById', args: { id: 'u1' } },
      { name: 'userById', args: { id: 'u2' } },
    ]);
    expect(out).toEqual({ first: { id: 'u1' }, second: { id: 'u2' }, caught: null });
  });

  it('runSync throws a failed query into the recipe, like await would', () => {
    failU2 = true;
    expect(runSync(twoLookups(), lookup)).toEqual({ first: { id: 'u1' }, second: null, caught: 'connection lost' });
  });

  it('runAsync does the same with an asynchronous executor', async () => {
    failU2 = false;
    expect(await runAsync(twoLookups(), async (op) => lookup(op))).toEqual({
      first: { id: 'u1' },
      second: { id: 'u2' },
      caught: null,
    });
    failU2 = true;
    expect(await runAsync(twoLookups(), async (op) => lookup(op))).toEqual({
      first: { id: 'u1' },
      second: null,
      caught: 'connection lost',
    });
  });

  it('an error the recipe does not catch rejects the run', async () => {
    const boom = (): never => {
      throw new Error('boom');
    };
    expect(() => runSync(query('userById', { id: 'u1' }), boom)).toThrow('boom');
    await expect(runAsync(query('userById', { id: 'u1' }), async () => boom())).rejects.toThrow('boom');
  });

  it('oneStatement refuses a second query: a write of several statements must ask for a transaction', () => {
    failU2 = false;
    const exec = oneStatement(lookup);
    expect(exec({ name: 'userById', args: { id: 'u1' } })).toEqual({ id: 'u1' });
    expect(() => exec({ name: 'userById', args: { id: 'u2' } })).toThrow(/second statement needs transaction/);
    // Thrown into the recipe, the refusal surfaces like any query error.
    expect(runSync(twoLookups(), oneStatement(lookup)).caught).toMatch(/second statement needs transaction/);
  });
});

/**
 * The group-commit recipe's guard on the room sequence (src/storage/sql/events.ts): the seqs it hands out are the
 * rooms' last_seq plus one, two, ...; if advancing the rooms does not land exactly where it counted (a room gone,
 * or moved by a writer the lock should have kept out), a gap or a reused seq would follow silently, so the batch
 * fails instead. No engine can produce that state under its lock, so a fake executor does.
 */
describe('appendMessages: the room sequence guard', () => {
  const msg = (roomId: string, clientMsgId: string) => ({
    id: `e_${clientMsgId}`,
    roomId,
    senderId: 'u1',
    clientMsgId,
    body: clientMsgId,
  });
  const batch = [msg('r1', 'a'), msg('r2', 'b'), msg('r1', 'c')];
  /** An executor whose rooms start at r1 = 5, r2 = 9 and advance to `advanced` (default: as counted). */
  const engine = (advanced?: { id: string; last_seq: number }[]) => {
    const ran: string[] = [];
    const exec = (op: Op): unknown => {
      ran.push(op.name);
      const args = op.args as Record<string, unknown>;
      switch (op.name) {
        case 'eventsByClientMsgIds':
          return [];
        case 'roomsLockSeqs':
          return [
            { id: 'r1', last_seq: 5 },
            { id: 'r2', last_seq: 9 },
          ];
        case 'roomsAdvanceSeqs': {
          const bumps = args.bumps as { id: string; n: number }[];
          const start: Record<string, number> = { r1: 5, r2: 9 };
          return advanced ?? bumps.map((b) => ({ id: b.id, last_seq: start[b.id]! + b.n }));
        }
        case 'messagesInsertNew':
          return (args.events as unknown[]).length;
        case 'searchIndexInsert':
          return (args.rows as unknown[]).length;
        default:
          throw new Error(`unexpected query ${op.name}`);
      }
    };
    return { exec, ran };
  };
  const seqs = (outcomes: Outcome[]) =>
    outcomes.map((o) => (o.ok ? `${o.value.event.roomId}:${o.value.event.seq}` : 'x'));

  it('hands out each room’s next seqs, in submission order, when the rooms advance as counted', () => {
    const { exec, ran } = engine();
    expect(seqs(runSync(appendMessages(batch, 0), exec))).toEqual(['r1:6', 'r2:10', 'r1:7']);
    expect(ran).toContain('messagesInsertNew');
    // The messages are searchable from their own transaction on.
    expect(ran.at(-1)).toBe('searchIndexInsert');
  });

  it('fails the batch, before inserting, if a room advanced elsewhere than counted', () => {
    // r1 moved by one more than this batch counted (another writer got in); r2 as counted.
    const { exec, ran } = engine([
      { id: 'r1', last_seq: 8 },
      { id: 'r2', last_seq: 10 },
    ]);
    expect(() => runSync(appendMessages(batch, 0), exec)).toThrow('room sequence changed under its lock');
    expect(ran).not.toContain('messagesInsertNew');
  });

  it('fails the batch if a room it counted on did not advance at all (gone)', () => {
    const { exec, ran } = engine([{ id: 'r2', last_seq: 10 }]);
    expect(() => runSync(appendMessages(batch, 0), exec)).toThrow('room sequence changed under its lock');
    expect(ran).not.toContain('messagesInsertNew');
  });
});

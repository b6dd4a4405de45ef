import { describe, expect, it } from 'vitest';
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

import type { Queries } from './queries.js';

/**
 * Recipes: store operations written once for both SQL engines.
 *
 * A recipe is a generator that yields named queries and gets their results back:
 *
 *     const removed = yield* query('memberDelete', { roomId, userId });
 *
 * It never sees SQL, a connection or a driver. Each engine supplies the SQL of every named query
 * (src/storage/sqlite/queries.ts, src/storage/postgres/queries.ts) and drives the recipe: SQLite (better-sqlite3)
 * synchronously inside one `db.transaction()`, PostgreSQL asynchronously on one pooled connection. That is why a
 * recipe is a generator and not an async function: better-sqlite3 transactions must run to completion without
 * awaiting, and a synchronous run also means nothing else on SQLite's single connection can interleave with it.
 */
export type QueryName = keyof Queries;
export type QueryArgs<K extends QueryName> = Parameters<Queries[K]>[0];
export type QueryResult<K extends QueryName> = ReturnType<Queries[K]>;

/** One named query with its arguments, as yielded by a recipe. */
export interface Op {
  readonly name: QueryName;
  readonly args: object;
}

export type Recipe<T> = Generator<Op, T, unknown>;

/** Runs a named query: `const row = yield* query('userById', { id })`. */
export function* query<K extends QueryName>(name: K, args: QueryArgs<K>): Recipe<QueryResult<K>> {
  return (yield { name, args }) as QueryResult<K>;
}

/** Thrown by a recipe inside `transaction` to roll back and return `value` (a no-op: "already a member"). */
export class Rollback<T> {
  constructor(readonly value: T) {}
}

/**
 * A recipe function: given the operation's clock reading `now` (taken by the engine when the work starts; for a
 * transaction, after it began) and the store method's arguments, the recipe to drive.
 */
export type RecipeFn<A extends unknown[], T> = (now: number, ...args: A) => Recipe<T>;

/**
 * How a recipe runs: what each engine supplies (SqliteStore, PgStore). The engine calls `recipe(now, ...args)` and
 * drives the generator it returns.
 */
export interface UnitOfWork {
  /** Reads. PostgreSQL runs each query on the pool, so a read recipe that needs one snapshot issues one query. */
  read<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T>;
  /** One write statement, atomic by itself: PostgreSQL sends it without BEGIN/COMMIT. */
  write<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T>;
  /** All or nothing. Throwing a Rollback undoes everything and resolves with its value. */
  transaction<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T>;
}

/** A store operation: its recipe and how it runs (a UnitOfWork method). */
export interface Operation<A extends unknown[], T> {
  readonly mode: keyof UnitOfWork;
  readonly recipe: RecipeFn<A, T>;
}

/*
 * No recipe is created per store call: recipes are generator functions created once, at module load, and the
 * engine calls them with the call's arguments directly. A call allocates its arguments array, its generators and
 * the query objects they yield. (A generator function created per call, as a closure, would cost much more: each
 * gets a fresh prototype object, and its generators a fresh shape. The send path reads the store for every message.)
 */
export const read = <A extends unknown[], T>(recipe: RecipeFn<A, T>): Operation<A, T> => ({ mode: 'read', recipe });
export const write = <A extends unknown[], T>(recipe: RecipeFn<A, T>): Operation<A, T> => ({ mode: 'write', recipe });
export const transaction = <A extends unknown[], T>(recipe: RecipeFn<A, T>): Operation<A, T> => ({
  mode: 'transaction',
  recipe,
});

/** The operations implementing a store interface: one per method, with the method's arguments and result. */
export type Operations<I> = {
  [K in keyof I]: I[K] extends (...args: infer A) => Promise<infer T> ? Operation<A, T> : never;
};

/**
 * Wraps an executor for `write`: without BEGIN/COMMIT only a single statement is atomic, so a second query is a
 * bug in the recipe (it should ask for a transaction). Both engines enforce it, so either engine's tests catch it.
 */
export function oneStatement<R>(exec: (op: Op) => R): (op: Op) => R {
  let statements = 0;
  return (op) => {
    if (++statements > 1) throw new Error(`write ${op.name}: a second statement needs transaction()`);
    return exec(op);
  };
}

/** Drives a recipe with a synchronous executor. A query's error is thrown into the recipe, like `await` would. */
export function runSync<T>(recipe: Recipe<T>, exec: (op: Op) => unknown): T {
  let step = recipe.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = exec(step.value);
    } catch (err) {
      step = recipe.throw(err);
      continue;
    }
    step = recipe.next(result);
  }
  return step.value;
}

/** Drives a recipe with an asynchronous executor, one query at a time. */
export async function runAsync<T>(recipe: Recipe<T>, exec: (op: Op) => Promise<unknown>): Promise<T> {
  let step = recipe.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = await exec(step.value);
    } catch (err) {
      step = recipe.throw(err);
      continue;
    }
    step = recipe.next(result);
  }
  return step.value;
}

// @ts-check
/* global process */
/**
 * What `npm run mutation` mutates, and which tests judge each part. Shared by stryker.config.mjs (what to mutate)
 * and vitest.mutation.config.ts (which test files run). `MUTATION_TARGET=<name>` runs one target; unset, all.
 *
 * A target's tests are the fast suites that exercise it: unit and contract tests, and the embedded end-to-end
 * suites on its path (no browser, no cluster processes), listed fastest first (they run in this order). Per-test
 * coverage then runs, for each mutant, only the tests that reached it.
 */
import { readFileSync } from 'node:fs';

/**
 * @typedef {{ file: string, methods: string[] }} MethodSlice  Only these members of the file's classes (and its
 *   named functions, constants and object members) are mutated: the part of a file that is on the path under test.
 * @typedef {{ mutate: (string | MethodSlice)[], tests: string[], why: string }} Target
 */

/** The shared recipes of the room sequence and its events (src/storage/sql/events.ts). */
const EVENT_RECIPES = ['nextSeq', 'insertEvent', 'settle', 'appendMessages', 'findMessageByClientMsgId', 'listEvents'];

/** The named queries those recipes run (EventQueries in src/storage/sql/events.ts), as each engine writes them. */
const EVENT_QUERIES = [
  'roomNextSeq',
  'eventsInsert',
  'messagesInsertNew',
  'eventBySeq',
  'eventByClientMsgId',
  'eventsByClientMsgIds',
  'roomsLockSeqs',
  'roomsAdvanceSeqs',
  'eventsAfter',
  'eventsBefore',
  'messagesAfter',
  'messagesBefore',
];

/** @type {Record<string, Target>} */
export const TARGETS = {
  delivery: {
    why: 'ordering, gap-free and exactly-once delivery to sockets; resume; batching of writes',
    mutate: ['src/core/delivery/**/*.ts'],
    tests: [
      'test/unit/write-scheduler.test.ts',
      'test/unit/hub.test.ts',
      'test/unit/hub-rejoin.test.ts',
      'test/unit/hub-resync.test.ts',
      'test/e2e/delivery.test.ts',
      'test/e2e/chat.test.ts',
      'test/e2e/rooms.test.ts',
      'test/e2e/session-end.test.ts',
    ],
  },
  messages: {
    why: 'the send path: checks before storing, durable before ack, idempotency, publish after commit',
    // messages.ts drives the pipeline; send/ holds the pipeline and the shipped steps and after-commit hooks.
    mutate: ['src/core/messages.ts', 'src/core/send/pipeline.ts', 'src/core/send/standard-steps.ts'],
    tests: [
      'test/unit/messages.test.ts',
      'test/unit/send-pipeline.test.ts',
      'test/e2e/delivery.test.ts',
      'test/e2e/protocol.test.ts',
      'test/e2e/moderation.test.ts',
      'test/e2e/moderation-content.test.ts',
      'test/e2e/message-edits.test.ts',
      'test/e2e/replies.test.ts',
      'test/e2e/reports-audit.test.ts',
    ],
  },
  // The stores' message path: group commit, seq assignment, idempotency lookup, durability, event reads. Since the
  // stores share their SQL recipes (src/storage/sql/), the path is the engine's group commit and unit of work, the
  // shared recipes of the room sequence (events.ts) and their drivers (recipe.ts), and the engine's event queries.
  sqlite: {
    why: "the embedded store's message path",
    mutate: [
      {
        file: 'src/storage/sqlite/sqlite-store.ts',
        methods: [
          'constructor',
          'read',
          'write',
          'transaction',
          'run',
          'durable',
          'syncNext',
          'appendMessage',
          'flush',
          'close',
        ],
      },
      { file: 'src/storage/sql/events.ts', methods: EVENT_RECIPES },
      { file: 'src/storage/sql/recipe.ts', methods: ['query', 'oneStatement', 'runSync'] },
      { file: 'src/storage/sql/sql-store.ts', methods: ['perform', 'findMessageByClientMsgId', 'listEvents'] },
      {
        file: 'src/storage/sqlite/queries.ts',
        methods: [...EVENT_QUERIES, 'bumpSeq', 'roomSeq', 'advanceSeq', 'insertEvents', 'eventColumns', 'present'],
      },
    ],
    tests: ['test/unit/sql-recipe.test.ts', 'test/ports/sqlite-store.test.ts'],
  },
  postgres: {
    why: "the cluster store's message path (slow: the suite runs against a real PostgreSQL)",
    mutate: [
      {
        file: 'src/storage/postgres/pg-store.ts',
        methods: [
          'toStoreError',
          'rethrowAsStoreError',
          'op',
          'track',
          'tx',
          'exec',
          'read',
          'write',
          'transaction',
          'appendMessage',
          'drain',
          'commitBatch',
          'writeBatch',
          'close',
        ],
      },
      { file: 'src/storage/sql/events.ts', methods: EVENT_RECIPES },
      { file: 'src/storage/sql/recipe.ts', methods: ['query', 'oneStatement', 'runAsync'] },
      { file: 'src/storage/sql/sql-store.ts', methods: ['perform', 'findMessageByClientMsgId', 'listEvents'] },
      {
        file: 'src/storage/postgres/queries.ts',
        methods: [...EVENT_QUERIES, 'nextSeq', 'eventArrays', 'insertEvents'],
      },
    ],
    tests: ['test/unit/sql-recipe.test.ts', 'test/ports/pg-store.test.ts'],
  },
  permissions: {
    why: 'authorization: the permission table, ranks, who may act on whom',
    mutate: ['src/protocol/permissions.ts'],
    tests: [
      'test/unit/permissions.test.ts',
      'test/unit/permissions-oracle.test.ts',
      'test/e2e/authorization-matrix.test.ts',
    ],
  },
};

/**
 * The targets selected by MUTATION_TARGET (comma-separated names), or all of them. MUTATION_TESTS (comma-separated
 * test files) judges them with only those files instead of their list: a quicker run whose score is a lower bound
 * (a mutant it lets through may still be killed by the full list).
 */
export function selectedTargets(env = process.env) {
  const names = (env.MUTATION_TARGET ?? '').split(',').filter(Boolean);
  for (const n of names) {
    if (!(n in TARGETS))
      throw new Error(`MUTATION_TARGET: unknown target ${n} (one of ${Object.keys(TARGETS).join(', ')})`);
  }
  const tests = (env.MUTATION_TESTS ?? '').split(',').filter(Boolean);
  return (names.length > 0 ? names : Object.keys(TARGETS)).map((name) => ({
    name,
    ...TARGETS[name],
    ...(tests.length > 0 ? { tests } : {}),
  }));
}

/**
 * Stryker mutate patterns for the targets: globs as they are, method slices as `file:start-end` line ranges found
 * in the current source (so edits to the file do not leave the ranges stale). Throws if a method is missing.
 * @param {Target[]} targets
 */
export async function mutatePatterns(targets) {
  const ts = (await import('typescript')).default;
  /** @type {string[]} */
  const out = [];
  for (const t of targets) {
    for (const m of t.mutate) {
      if (typeof m === 'string') {
        out.push(m);
        continue;
      }
      const text = readFileSync(m.file, 'utf8');
      const source = ts.createSourceFile(m.file, text, ts.ScriptTarget.Latest, true);
      const wanted = new Set(m.methods);
      /** @type {Map<string, [number, number][]>} */
      const found = new Map();
      /** @param {import('typescript').Node} node */
      const visit = (node) => {
        // Methods, functions, constants, class fields and object members (a query table's entries) by name; a
        // class's constructor as `constructor`.
        const named =
          ts.isMethodDeclaration(node) ||
          ts.isFunctionDeclaration(node) ||
          ts.isVariableDeclaration(node) ||
          ts.isPropertyDeclaration(node) ||
          ts.isPropertyAssignment(node) ||
          ts.isShorthandPropertyAssignment(node);
        const name = ts.isConstructorDeclaration(node)
          ? 'constructor'
          : named && node.name && ts.isIdentifier(node.name)
            ? node.name.text
            : undefined;
        if (name && wanted.has(name)) {
          const line = (/** @type {number} */ pos) => source.getLineAndCharacterOfPosition(pos).line + 1;
          const ranges = found.get(name) ?? [];
          ranges.push([line(node.getStart(source)), line(node.getEnd())]);
          found.set(name, ranges);
          return;
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
      const missing = m.methods.filter((n) => !found.has(n));
      if (missing.length > 0) throw new Error(`${m.file}: no ${missing.join(', ')} to mutate (renamed?)`);
      for (const ranges of found.values()) for (const [a, b] of ranges) out.push(`${m.file}:${a}-${b}`);
    }
  }
  return out;
}

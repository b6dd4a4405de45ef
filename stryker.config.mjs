// @ts-check
/* global process */
/**
 * Mutation testing (`npm run mutation`, StrykerJS with its vitest runner): see docs/testing.md. Slow — hours for
 * every target on two cores — so it is not part of CI. `MUTATION_TARGET=delivery|messages|sqlite|postgres|permissions`
 * runs one target (comma-separate several); `-- --mutate <file>` narrows further. Reports go to
 * reports/mutation/ (ignored by git).
 */
import { mutatePatterns, selectedTargets } from './test/mutation/targets.mjs';

const targets = selectedTargets();
// A run judged by MUTATION_TESTS only gets its own report name, so it does not pass for a full run.
const name = (targets.length === 1 ? targets[0].name : 'all') + (process.env.MUTATION_TESTS ? '-quick' : '');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  coverageAnalysis: 'perTest',
  mutate: await mutatePatterns(targets),
  // A shared 2-core machine: one test runner per core at most.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  // Generous: on a shared, loaded machine a mutant that merely runs slow must not pass for one that hangs (a
  // timeout counts as detected). End-to-end tests poll with their own bounds, so a real hang still ends.
  timeoutMS: 60_000,
  timeoutFactor: 3,
  dryRunTimeoutMinutes: 20,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  // What the sandbox copies do not need (the tests run src/ from source; docs/ stays: a test reads it).
  ignorePatterns: ['dist', 'data', 'web', 'bench', 'bench-results', 'test-artifacts', 'deploy', 'coverage'],
  thresholds: { high: 90, low: 75, break: null },
};

import { defineConfig } from 'vitest/config';

/** The end-to-end suites that also run against the cluster backends (PostgreSQL + Redis): see test/helpers/harness.ts. */
const CLUSTER_BACKEND_SUITES = [
  'test/delivery.test.ts',
  'test/rooms.test.ts',
  'test/accounts.test.ts',
  'test/protocol.test.ts',
  'test/brute-force.test.ts',
  'test/authorization-matrix.test.ts',
  'test/moderation.test.ts',
  'test/moderation-content.test.ts',
  'test/reports-audit.test.ts',
  'test/session-end.test.ts',
  'test/admin-stats.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts', 'src/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'cluster', include: CLUSTER_BACKEND_SUITES, env: { RELAYCHAT_TEST_BACKEND: 'cluster' } },
      },
    ],
  },
});

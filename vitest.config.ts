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
  'test/limits.test.ts',
  'test/presence.test.ts',
  'test/admin-stats.test.ts',
];

/**
 * Suites that run programs besides Node.js (Chromium, PostgreSQL, Redis, HAProxy, nginx): `npm test` checks for
 * them first (scripts/test.ts). Everything else needs only Node.js and is the `embedded` project
 * (`npm run test:embedded`), where the launchers refuse to start a service, so a suite listed in the wrong place
 * fails loudly instead of quietly depending on one.
 */
const SERVICE_SUITES = [
  'test/web/**/*.test.ts',
  'test/cluster/**/*.test.ts',
  'test/pg-store.test.ts',
  'test/redis-*.test.ts',
  'test/node-directory.test.ts',
  'test/deploy.test.ts',
  'test/bench-smoke.test.ts',
  'test/transport-security.test.ts',
  'test/crash-durability.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'embedded',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          exclude: SERVICE_SUITES,
          env: { RELAYCHAT_TEST_EMBEDDED_ONLY: '1' },
        },
      },
      { extends: true, test: { name: 'services', include: SERVICE_SUITES } },
      {
        extends: true,
        test: { name: 'cluster', include: CLUSTER_BACKEND_SUITES, env: { RELAYCHAT_TEST_BACKEND: 'cluster' } },
      },
    ],
  },
});

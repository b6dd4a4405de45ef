import { defineConfig } from 'vitest/config';

/** The end-to-end suites that also run against the cluster backends (PostgreSQL + Redis): see test/helpers/harness.ts. */
const CLUSTER_BACKEND_SUITES = [
  'test/e2e/delivery.test.ts',
  'test/e2e/rooms.test.ts',
  'test/e2e/accounts.test.ts',
  'test/e2e/protocol.test.ts',
  'test/e2e/brute-force.test.ts',
  'test/e2e/authorization-matrix.test.ts',
  'test/e2e/moderation.test.ts',
  'test/e2e/moderation-content.test.ts',
  'test/e2e/message-edits.test.ts',
  'test/e2e/replies.test.ts',
  'test/e2e/read-state.test.ts',
  'test/e2e/pins.test.ts',
  'test/e2e/mentions.test.ts',
  'test/e2e/blocks.test.ts',
  'test/e2e/notifications.test.ts',
  'test/e2e/reactions.test.ts',
  'test/e2e/reports-audit.test.ts',
  'test/e2e/session-end.test.ts',
  'test/e2e/limits.test.ts',
  'test/e2e/presence.test.ts',
  'test/e2e/admin-stats.test.ts',
  'test/e2e/files.test.ts',
  'test/e2e/avatars.test.ts',
  'test/e2e/link-previews.test.ts',
  'test/e2e/search.test.ts',
  'test/e2e/webhooks.test.ts',
  'test/e2e/assistant.test.ts',
  'test/e2e/bots.test.ts',
  'test/e2e/slash-commands.test.ts',
  'test/e2e/schema-upgrades.test.ts',
  'test/e2e/keep.test.ts',
  'test/e2e/history-integrity.test.ts',
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
  'test/ports/pg-store.test.ts',
  'test/ports/pg-blob-store.test.ts',
  'test/ports/redis-*.test.ts',
  'test/ports/node-directory.test.ts',
  'test/e2e/deploy.test.ts',
  'test/e2e/bench-smoke.test.ts',
  'test/e2e/transport-security.test.ts',
  'test/e2e/crash-durability.test.ts',
  'test/e2e/backup.test.ts',
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

// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Dependencies point one way: protocol ← core ← storage/server; client ← protocol. */
const layer = (files, banned, why) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: banned.map((group) => ({ group: [group], message: why })) }],
  },
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'data/**',
      'test-artifacts/**',
      'bench-results/**',
      'bin/**',
      '.stryker-tmp/**',
      'reports/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-control-regex': 'off',
    },
  },
  layer(
    ['src/protocol/**'],
    ['**/core/**', '**/server/**', '**/storage/**', '**/client/**', 'node:*', 'ws', 'fastify'],
    'protocol is shared by every side and uses no platform or server code',
  ),
  layer(
    ['src/core/**'],
    ['**/server/**', '**/storage/**', '**/client/**', 'ws', 'fastify', 'better-sqlite3', 'pg', 'ioredis'],
    'the domain knows ports, not transports or engines',
  ),
  layer(
    ['src/client/**'],
    ['**/core/**', '**/server/**', '**/storage/**', 'node:*', 'ws', 'fastify', 'better-sqlite3'],
    'the SDK runs in browsers: protocol only',
  ),
  layer(
    ['web/**'],
    ['**/core/**', '**/server/**', '**/storage/**', '**/cli/**', 'node:*', 'ws', 'fastify', 'better-sqlite3', 'zod'],
    'the web client runs in browsers and reaches the server only through the SDK (src/client)',
  ),
  layer(
    ['src/storage/**'],
    ['**/server/**', '**/client/**'],
    'storage implements core ports; it does not know transports',
  ),
);

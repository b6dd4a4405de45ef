/**
 * The programs the full test suite runs for real, how each is found, and the Debian package that provides it.
 * `npm test` (scripts/test.ts) checks them before running anything; the launchers in this folder find them
 * the same way.
 */
import fs from 'node:fs';

export interface Requirement {
  /** What a person calls it. */
  name: string;
  /** Which tests need it. */
  what: string;
  /** The Debian package. */
  pkg: string;
}

interface Finders {
  findPostgresBin(): string | null;
  hasCommand(cmd: string): boolean;
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The colour emoji font most Linux desktops have: the web client's font stack is tested against it. */
export const EMOJI_FONT_PATH = '/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf';

/** What is missing on this machine, in a stable order (empty when everything is there). */
export function missingRequirements(find: Finders): Requirement[] {
  const checks: [boolean, Requirement][] = [
    [fs.existsSync(CHROMIUM_PATH), { name: 'Chromium', what: 'web client tests', pkg: 'chromium' }],
    [
      fs.existsSync(EMOJI_FONT_PATH),
      { name: 'Noto Color Emoji', what: 'web font tests', pkg: 'fonts-noto-color-emoji' },
    ],
    [find.findPostgresBin() !== null, { name: 'PostgreSQL 15 server', what: 'cluster tests', pkg: 'postgresql-15' }],
    [
      find.hasCommand(process.env.REDIS_SERVER ?? 'redis-server'),
      { name: 'redis-server', what: 'cluster tests', pkg: 'redis-server' },
    ],
    [find.hasCommand(process.env.HAPROXY ?? 'haproxy'), { name: 'HAProxy', what: 'cluster tests', pkg: 'haproxy' }],
    [find.hasCommand(process.env.NGINX ?? 'nginx'), { name: 'nginx', what: 'load balancer tests', pkg: 'nginx' }],
    [find.hasCommand('openssl'), { name: 'openssl', what: 'TLS tests', pkg: 'openssl' }],
  ];
  return checks.filter(([present]) => !present).map(([, r]) => r);
}

/**
 * `npm test`: the whole suite, on a machine that may have nothing but Node.js.
 *
 * The suite runs real programs (Chromium for the web client, PostgreSQL, Redis, HAProxy and nginx for the cluster,
 * openssl for TLS certificates). First it checks that each is installed. What is missing is installed with
 * apt-get when this runs as root on Debian/Ubuntu (one line says so); otherwise it stops before running anything,
 * naming what is missing and the one command that installs it. Then vitest runs with the arguments given
 * (`npm test -- test/e2e/rooms.test.ts`). `npm run test:embedded` runs the suites that need only Node.js and skips
 * all of this. `.ci/run` calls `npm test`, so CI checks exactly what a newcomer gets.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPostgresBin } from './lib/postgres.js';
import { hasCommand } from './lib/proc.js';
import { missingRequirements, type Requirement } from './lib/requirements.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stdout.write(`[test] ${line}\n`);

const isRoot = process.getuid?.() === 0;
const hasApt = hasCommand('apt-get');

/** Debian names PostgreSQL 15's server package `postgresql-15`; where that is not on offer, the distribution's default. */
function postgresPackage(): string {
  const r = spawnSync('apt-cache', ['show', '--no-all-versions', 'postgresql-15'], { stdio: 'ignore' });
  return r.status === 0 ? 'postgresql-15' : 'postgresql';
}

function packagesFor(missing: Requirement[]): string[] {
  return missing.map((r) => (r.pkg === 'postgresql-15' && hasApt ? postgresPackage() : r.pkg));
}

function aptInstall(pkgs: string[]): void {
  const log = path.join(os.tmpdir(), `relaychat-apt-${process.pid}.log`);
  say(`installing what the tests need with apt-get (about a minute): ${pkgs.join(' ')} — log in ${log}`);
  const fd = fs.openSync(log, 'w');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) => spawnSync('apt-get', args, { stdio: ['ignore', fd, fd], env, timeout: 900_000 });
  const ok =
    run(['update', '-qq']).status === 0 &&
    run(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]).status === 0;
  fs.closeSync(fd);
  if (!ok) {
    const tail = fs.readFileSync(log, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    process.stderr.write(`[test] apt-get failed:\n${tail}\n`);
    process.exit(1);
  }
}

function stopWith(missing: Requirement[]): never {
  const names = missing.map((r) => `${r.name} (${r.what})`).join(', ');
  const pkgs = packagesFor(missing).join(' ');
  const install = hasApt
    ? `${isRoot ? '' : 'sudo '}apt-get install -y ${pkgs}`
    : `install with your package manager: ${pkgs}`;
  process.stderr.write(
    `[test] npm test runs these for real and they are missing: ${names}.\n` +
      `[test] ${install}\n` +
      `[test] (or \`npm run test:embedded\`: the suites that need only Node.js)\n`,
  );
  process.exit(1);
}

let missing = missingRequirements({ findPostgresBin, hasCommand });
if (missing.length > 0) {
  if (!isRoot || !hasApt) stopWith(missing);
  aptInstall(packagesFor(missing));
  missing = missingRequirements({ findPostgresBin, hasCommand });
  if (missing.length > 0) stopWith(missing);
}

const vitest = spawn(
  process.execPath,
  [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => vitest.kill(signal));
vitest.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

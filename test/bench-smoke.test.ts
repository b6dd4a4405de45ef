import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Runs `npm run bench -- --quick` (the smoke variant of the benchmark instrument) as a child process: every
 * scenario must run, relaychat must lose and duplicate nothing, and the command must exit 0.
 */
const repo = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'relaychat-bench-smoke-'));

interface Line {
  scenario: string;
  server: string;
  label: string;
  lost?: number;
  duplicated?: number;
  gaps?: number;
  delivered?: number;
  expected?: number;
}

function runQuick(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(repo, 'node_modules/tsx/dist/cli.mjs'), 'bench/run.ts', '--quick', '--no-docs', '--out-dir', out],
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Bounded: the bench has its own watchdog, this is the backstop (SIGINT lets it kill its children).
    const timer = setTimeout(() => child.kill('SIGINT'), 140_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run bench -- --quick', () => {
  let run: { code: number | null; stdout: string; stderr: string };
  let lines: Line[];

  beforeAll(async () => {
    if (!existsSync(join(repo, 'dist/server/main.js'))) {
      execFileSync('npm', ['run', 'build'], { cwd: repo, stdio: 'ignore', timeout: 180_000 });
    }
    run = await runQuick();
    lines = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
  }, 300_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('exits 0', () => {
    expect(run.code, run.stderr.split('\n').slice(-30).join('\n')).toBe(0);
  });

  it('runs every scenario against relaychat', () => {
    const scenarios = new Set(
      lines.filter((l) => l.server === 'relaychat' && l.label !== 'error').map((l) => l.scenario),
    );
    expect([...scenarios].sort()).toEqual(['big-room', 'history', 'idle', 'reconnect', 'small-rooms']);
    expect(lines.some((l) => l.server === 'baseline')).toBe(true);
  });

  it('loses and duplicates nothing (relaychat)', () => {
    const ours = lines.filter((l) => l.server === 'relaychat' && (l.lost !== undefined || l.delivered !== undefined));
    // Every scenario reports at least one delivery check.
    expect(new Set(ours.map((l) => l.scenario)).size).toBe(5);
    for (const l of ours) {
      const at = `${l.scenario} ${l.label}`;
      expect({ at, lost: l.lost, duplicated: l.duplicated, gaps: l.gaps ?? 0 }).toEqual({
        at,
        lost: 0,
        duplicated: 0,
        gaps: 0,
      });
      if (l.delivered !== undefined) expect({ at, delivered: l.delivered }).toEqual({ at, delivered: l.expected });
    }
  });

  it('writes the JSON lines to its output directory', () => {
    const file = join(out, 'latest.jsonl');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBe(lines.length);
  });
});

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Runs `npm run bench -- --quick` (the smoke variant of the benchmark instrument) as a child process: every
 * scenario must run, relaychat must lose and duplicate nothing, and the command must exit 0. Then the same with
 * `--cluster` (PostgreSQL, Redis, 2 nodes and HAProxy per scenario; without the baseline, which the first run
 * covers), which must also stop every process of every cluster it started.
 */
const repo = fileURLToPath(new URL('../..', import.meta.url));

interface Line {
  scenario: string;
  server: string;
  label: string;
  lost?: number;
  duplicated?: number;
  gaps?: number;
  delivered?: number;
  expected?: number;
  nodes?: number;
  pids?: Record<string, number[]>;
  offeredRate?: number;
  serverElu?: number | null;
  serverLoopDelayP99Ms?: number | null;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: Line[];
}

function runQuick(outDir: string, extra: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(repo, 'node_modules/tsx/dist/cli.mjs'),
        'bench/run.ts',
        '--quick',
        '--no-docs',
        '--out-dir',
        outDir,
        ...extra,
      ],
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Bounded: the bench has its own watchdog, this is the backstop (SIGINT lets it kill its children). The cluster
    // run starts five fresh clusters; on a loaded 2-core machine that alone took 130 s once, hence the headroom.
    const timer = setTimeout(() => child.kill('SIGINT'), 260_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Line);
      resolve({ code, stdout, stderr, lines });
    });
  });
}

function ensureBuilt(): void {
  if (!existsSync(join(repo, 'dist/server/main.js'))) {
    execFileSync('npm', ['run', 'build'], { cwd: repo, stdio: 'ignore', timeout: 180_000 });
  }
}

/** Every delivery check of `server` lost, duplicated and skipped nothing; one per scenario at least. */
function expectNothingLost(lines: Line[], server: string): void {
  const ours = lines.filter((l) => l.server === server && (l.lost !== undefined || l.delivered !== undefined));
  // Every scenario reports at least one delivery check.
  expect(new Set(ours.map((l) => l.scenario)).size).toBe(6);
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
}

const SCENARIOS = ['big-room', 'history', 'idle', 'reconnect', 'search', 'small-rooms'];

/**
 * Runs the quick bench once for the enclosing describe block (into a temporary output directory, removed after),
 * and checks that it exited 0. The returned object's fields are set once the run is done.
 */
function quickRun(prefix: string, args: string[] = []): { out: string; run: Run } {
  const fx = {} as { out: string; run: Run };
  beforeAll(async () => {
    ensureBuilt();
    fx.out = mkdtempSync(join(tmpdir(), prefix));
    fx.run = await runQuick(fx.out, args);
  }, 330_000);
  afterAll(() => {
    if (fx.out) rmSync(fx.out, { recursive: true, force: true });
  });
  it('exits 0', () => {
    expect(fx.run.code, fx.run.stderr.split('\n').slice(-30).join('\n')).toBe(0);
  });
  return fx;
}

describe('npm run bench -- --quick', () => {
  const fx = quickRun('relaychat-bench-smoke-');
  let lines: Line[];
  beforeAll(() => {
    lines = fx.run.lines;
  });

  it('runs every scenario against relaychat', () => {
    const scenarios = new Set(
      lines.filter((l) => l.server === 'relaychat' && l.label !== 'error').map((l) => l.scenario),
    );
    expect([...scenarios].sort()).toEqual(SCENARIOS);
    expect(lines.some((l) => l.server === 'baseline')).toBe(true);
  });

  it('loses and duplicates nothing (relaychat)', () => {
    expectNothingLost(lines, 'relaychat');
  });

  it("reads the server's event-loop utilisation and delay from its /metrics for every relaychat rate step", () => {
    const steps = lines.filter(
      (l) => l.server === 'relaychat' && (l.scenario === 'big-room' || l.scenario === 'small-rooms') && l.offeredRate,
    );
    expect(steps.length).toBeGreaterThan(0);
    for (const l of steps) {
      expect(l.serverElu, String(l.label)).toBeGreaterThan(0);
      expect(l.serverElu, String(l.label)).toBeLessThanOrEqual(1);
      expect(l.serverLoopDelayP99Ms, String(l.label)).toBeGreaterThanOrEqual(0);
    }
    // The baseline has no such endpoint: its cells stay empty rather than invented.
    expect(lines.filter((l) => l.server === 'baseline').every((l) => l.serverElu == null)).toBe(true);
  });

  it('writes the JSON lines to its output directory', () => {
    const file = join(fx.out, 'latest.jsonl');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBe(lines.length);
  });
});

describe('npm run bench -- --quick --cluster', () => {
  const fx = quickRun('relaychat-bench-smoke-cluster-', ['--cluster', '--no-baseline']);

  it('runs every scenario against a fresh 2-node cluster, labelled as such', () => {
    const ours = fx.run.lines.filter((l) => l.server === 'relaychat-cluster' && l.label !== 'error');
    expect([...new Set(ours.filter((l) => l.scenario !== 'cluster').map((l) => l.scenario))].sort()).toEqual(SCENARIOS);
    expect(ours.every((l) => l.nodes === 2)).toBe(true);
    // One cluster per scenario.
    expect(
      ours
        .filter((l) => l.scenario === 'cluster')
        .map((l) => l.label)
        .sort(),
    ).toEqual(SCENARIOS);
    expect(fx.run.lines.some((l) => l.server === 'relaychat')).toBe(false);
  });

  it('loses and duplicates nothing', () => {
    expectNothingLost(fx.run.lines, 'relaychat-cluster');
  });

  it('leaves no process of any cluster running', () => {
    const pids = fx.run.lines
      .filter((l) => l.scenario === 'cluster')
      .flatMap((l) => Object.values(l.pids ?? {}).flat());
    // nodes, PostgreSQL (postmaster and children), Redis, HAProxy: 2 + at least 1 + 1 + 1 per cluster
    expect(pids.length).toBeGreaterThanOrEqual(5 * 5);
    const alive = pids.filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [, comm, state] = /\((.*)\) (\S)/.exec(stat) ?? [];
        // A pid the kernel gave to someone else since, or a zombie, is not one of ours running.
        return state !== 'Z' && ['node', 'postgres', 'redis-server', 'haproxy'].includes(comm ?? '');
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });
});

import { readdirSync, readFileSync } from 'node:fs';

/** Linux clock ticks per second for /proc/<pid>/stat utime/stime (USER_HZ is 100 on every Linux ABI in use). */
const CLK_TCK = 100;

export interface ProcReading {
  /** Monotonic ms (performance.now) when read. */
  at: number;
  /** utime + stime of the process (all threads), seconds. */
  cpuSec: number;
  rssBytes: number;
  /** Peak RSS since the process started (VmHWM). */
  hwmBytes: number;
}

/** The fields of /proc/<pid>/stat after comm: [0] is field 3 (state). Null once the process is gone. */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Reads CPU and memory of a process from /proc/<pid>/stat and /proc/<pid>/status. Null once it is gone. */
export function readProc(pid: number): ProcReading | null {
  try {
    const fields = statFields(pid);
    if (!fields) return null;
    // utime is field 14, stime field 15.
    const cpuSec = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return { at: performance.now(), cpuSec, rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** The sum of `readProc` over several processes (a cluster's nodes); null once any of them is gone. */
function readAll(pids: number[]): ProcReading | null {
  let sum: ProcReading | null = null;
  for (const pid of pids) {
    const r = readProc(pid);
    if (!r) return null;
    sum = sum
      ? {
          at: r.at,
          cpuSec: sum.cpuSec + r.cpuSec,
          rssBytes: sum.rssBytes + r.rssBytes,
          hwmBytes: sum.hwmBytes + r.hwmBytes,
        }
      : r;
  }
  return sum;
}

/**
 * Samples a process (or the sum of several: a cluster's nodes) every `everyMs` (100–250 ms) and keeps what the
 * report needs: the latest reading and the peak RSS seen in the current window. Windows are opened with `mark()`;
 * readings at window edges are taken on the spot so CPU deltas do not depend on sampling phase.
 */
export class ProcSampler {
  private timer: NodeJS.Timeout;
  last: ProcReading | null;
  private windowPeak = 0;
  private readonly rssLog: { at: number; rss: number }[] = [];
  private readonly pids: number[];

  constructor(pid: number | number[], everyMs = 200) {
    this.pids = typeof pid === 'number' ? [pid] : pid;
    this.last = readAll(this.pids);
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): ProcReading | null {
    const r = readAll(this.pids);
    if (r) {
      this.last = r;
      if (r.rssBytes > this.windowPeak) this.windowPeak = r.rssBytes;
      this.rssLog.push({ at: r.at, rss: r.rssBytes });
      if (this.rssLog.length > 600) this.rssLog.splice(0, this.rssLog.length - 600);
    }
    return r;
  }

  /** Reads now and starts a new peak window. */
  mark(): ProcReading {
    const r = this.sample() ?? this.last;
    if (!r) throw new Error(`process ${this.pids.join(', ')} is gone`);
    this.windowPeak = r.rssBytes;
    return r;
  }

  /** Reads now; returns the reading and the peak RSS since the last mark(). */
  read(): ProcReading & { windowPeakBytes: number } {
    const r = this.sample() ?? this.last;
    if (!r) throw new Error(`process ${this.pids.join(', ')} is gone`);
    return { ...r, windowPeakBytes: Math.max(this.windowPeak, r.rssBytes) };
  }

  /** Median RSS of the samples taken in the last `ms` milliseconds (a steadier "RSS now" than one reading). */
  medianRss(ms: number): number {
    const since = performance.now() - ms;
    const xs = this.rssLog.filter((s) => s.at >= since).map((s) => s.rss);
    if (xs.length === 0) return this.read().rssBytes;
    xs.sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)]!;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The live children of a process (every /proc/<pid>/stat whose ppid, field 4, is `pid`). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && Number(statFields(entry)?.[1]) === pid) out.push(Number(entry));
  }
  return out;
}

/**
 * CPU seconds of a process and its children, reaped ones included: its utime + stime + cutime + cstime plus the
 * same of each live child (for PostgreSQL: the postmaster, its backends and its workers). Null once it is gone.
 */
export function treeCpuSec(pid: number): number | null {
  // utime, stime, cutime, cstime are fields 14–17.
  const total = (f: string[] | null) =>
    f ? (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK : 0;
  const own = statFields(pid);
  if (!own) return null;
  return childPids(pid).reduce((sec, child) => sec + total(statFields(child)), total(own));
}

/** This process's hard limit on open files (its children inherit it), from /proc/self/limits; Infinity if unknown. */
export function openFilesHardLimit(): number {
  try {
    const m = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const n = Number(m?.[1]);
    return Number.isFinite(n) && n > 0 ? n : Infinity;
  } catch {
    return Infinity;
  }
}

/** CPU seconds (user + system) of this process, all threads included. */
export function selfCpuSec(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Busy CPU seconds of the whole machine so far (all cores; /proc/stat, excluding idle and iowait). */
export function machineBusySec(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
    return (total - (v[3] ?? 0) - (v[4] ?? 0)) / CLK_TCK;
  } catch {
    return NaN;
  }
}

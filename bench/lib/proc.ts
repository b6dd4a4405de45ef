import { readFileSync } from 'node:fs';

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

/** Reads CPU and memory of a process from /proc/<pid>/stat and /proc/<pid>/status. Null once it is gone. */
export function readProc(pid: number): ProcReading | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
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

/**
 * Samples a process every `everyMs` (100–250 ms) and keeps what the report needs: the latest reading and the
 * peak RSS seen in the current window. Windows are opened with `mark()`; readings at window edges are taken on
 * the spot so CPU deltas do not depend on sampling phase.
 */
export class ProcSampler {
  private timer: NodeJS.Timeout;
  last: ProcReading | null;
  private windowPeak = 0;
  private readonly rssLog: { at: number; rss: number }[] = [];

  constructor(
    readonly pid: number,
    everyMs = 200,
  ) {
    this.last = readProc(pid);
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): ProcReading | null {
    const r = readProc(this.pid);
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
    if (!r) throw new Error(`process ${this.pid} is gone`);
    this.windowPeak = r.rssBytes;
    return r;
  }

  /** Reads now; returns the reading and the peak RSS since the last mark(). */
  read(): ProcReading & { windowPeakBytes: number } {
    const r = this.sample() ?? this.last;
    if (!r) throw new Error(`process ${this.pid} is gone`);
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

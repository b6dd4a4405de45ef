import { Worker } from 'node:worker_threads';
import { Histogram } from './histogram.js';
import {
  emptyStats,
  mergeStats,
  type ClientSpec,
  type Command,
  type ConnectResult,
  type Reply,
  type SendResult,
  type ServerKind,
  type Stats,
  type StepReport,
  type StormResult,
  type WorkerInit,
} from './wire.js';

function spawnWorker(script: string, data: WorkerInit): Worker {
  return new Worker(script, { workerData: data });
}

class WorkerHandle {
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;
  private dead: Error | undefined;

  constructor(readonly worker: Worker) {
    this.ready = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('client worker did not start within 30 s')), 30_000);
      worker.on('message', (m: Reply | { ready: true }) => {
        if ('ready' in m) {
          clearTimeout(t);
          return resolve();
        }
        const call = this.calls.get(m.id);
        if (!call) return;
        this.calls.delete(m.id);
        if (m.ok) call.resolve(m.result);
        else call.reject(new Error(`client worker: ${m.error}`));
      });
      worker.on('error', (err) => this.fail(err, reject));
      worker.on('exit', (code) => this.fail(new Error(`client worker exited with code ${code}`), reject));
    });
  }

  private fail(err: Error, reject: (e: Error) => void): void {
    this.dead ??= err;
    reject(err);
    for (const c of this.calls.values()) c.reject(err);
    this.calls.clear();
  }

  call<T>(cmd: Command, timeoutMs: number): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.calls.delete(id);
        reject(new Error(`client worker: ${cmd.op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.calls.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.worker.postMessage({ id, cmd });
    });
  }
}

export interface PoolOptions {
  /** The transpiled client worker (see buildRuntime). */
  workerScript: string;
  kind: ServerKind;
  wsUrl: string;
  clients: ClientSpec[];
  workers: number;
  bodyBytes: number;
  tag: string;
  reconnect: boolean;
}

export interface MergedReport extends Stats {
  e2e: Histogram;
  ack: Histogram;
  elu: number[];
}

/** The simulated clients, spread round-robin over worker threads; every call is bounded in time. */
export class ClientPool {
  private constructor(
    private readonly handles: WorkerHandle[],
    private readonly workerOf: Map<number, number>,
  ) {}

  static async start(opts: PoolOptions): Promise<ClientPool> {
    const n = Math.max(1, Math.min(opts.workers, opts.clients.length || 1));
    const shares: ClientSpec[][] = Array.from({ length: n }, () => []);
    const workerOf = new Map<number, number>();
    opts.clients.forEach((c, i) => {
      shares[i % n]!.push(c);
      workerOf.set(c.id, i % n);
    });
    const handles = shares.map(
      (clients) =>
        new WorkerHandle(
          spawnWorker(opts.workerScript, {
            kind: opts.kind,
            wsUrl: opts.wsUrl,
            clients,
            bodyBytes: opts.bodyBytes,
            tag: opts.tag,
            reconnect: opts.reconnect,
          }),
        ),
    );
    const pool = new ClientPool(handles, workerOf);
    try {
      await Promise.all(handles.map((h) => h.ready));
    } catch (err) {
      await pool.terminate();
      throw err;
    }
    return pool;
  }

  get workers(): number {
    return this.handles.length;
  }

  private all<T>(cmd: Command, timeoutMs: number): Promise<T[]> {
    return Promise.all(this.handles.map((h) => h.call<T>(cmd, timeoutMs)));
  }

  async connect(concurrency: number, timeoutMs: number, budgetMs: number): Promise<ConnectResult> {
    const per = Math.max(1, Math.ceil(concurrency / this.handles.length));
    const rs = await this.all<ConnectResult>({ op: 'connect', concurrency: per, timeoutMs }, budgetMs);
    const out: ConnectResult = { ok: 0, failed: 0, errors: {} };
    for (const r of rs) {
      out.ok += r.ok;
      out.failed += r.failed;
      for (const [k, v] of Object.entries(r.errors)) out.errors[k] = (out.errors[k] ?? 0) + v;
    }
    return out;
  }

  async beginStep(): Promise<void> {
    await this.all({ op: 'beginStep' }, 30_000);
  }

  /** Sends `rate` msgs/s in total from `senders` (client ids) for `durationMs`; each worker gets its share. */
  async send(rate: number, durationMs: number, senders: number[]): Promise<SendResult> {
    const mine: number[][] = this.handles.map(() => []);
    for (const id of senders) mine[this.workerOf.get(id)!]!.push(id);
    const rs = await Promise.all(
      this.handles.map((h, i) =>
        h.call<SendResult>(
          { op: 'send', rate: (rate * mine[i]!.length) / Math.max(1, senders.length), durationMs, senders: mine[i]! },
          durationMs + 30_000,
        ),
      ),
    );
    return {
      sent: rs.reduce((a, r) => a + r.sent, 0),
      skipped: rs.reduce((a, r) => a + r.skipped, 0),
      firstSendUs: Math.min(...rs.map((r) => r.firstSendUs)),
      lastSendUs: Math.max(...rs.map((r) => r.lastSendUs)),
    };
  }

  async stats(finals?: Record<string, number>): Promise<Stats> {
    const rs = await this.all<Stats>({ op: 'stats', ...(finals ? { finals } : {}) }, 30_000);
    return rs.reduce(mergeStats, emptyStats());
  }

  async endStep(finals?: Record<string, number>): Promise<MergedReport> {
    const rs = await this.all<StepReport>({ op: 'endStep', ...(finals ? { finals } : {}) }, 30_000);
    const merged = rs.reduce<Stats>(mergeStats, emptyStats());
    const e2e = new Histogram();
    const ack = new Histogram();
    for (const r of rs) {
      e2e.add(r.e2e);
      ack.add(r.ack);
    }
    return { ...merged, e2e, ack, elu: rs.flatMap((r) => r.elu) };
  }

  async storm(targets: Record<string, number>, concurrency: number, timeoutMs: number): Promise<StormResult> {
    const per = Math.max(1, Math.ceil(concurrency / this.handles.length));
    const rs = await this.all<StormResult>(
      { op: 'storm', targets, concurrency: per, timeoutMs },
      timeoutMs * 2 + 30_000,
    );
    return {
      clients: rs.reduce((a, r) => a + r.clients, 0),
      reconnected: rs.reduce((a, r) => a + r.reconnected, 0),
      caughtUp: rs.reduce((a, r) => a + r.caughtUp, 0),
      failed: rs.reduce((a, r) => a + r.failed, 0),
      readyMs: rs.flatMap((r) => r.readyMs),
      caughtUpMs: rs.flatMap((r) => r.caughtUpMs),
    };
  }

  /** Closes every socket (bounded), then stops the workers. Never throws. */
  async close(): Promise<void> {
    await this.all({ op: 'closeAll', timeoutMs: 5000 }, 10_000).catch(() => {});
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.worker.terminate().catch(() => 0)));
  }
}

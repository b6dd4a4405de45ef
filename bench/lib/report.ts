import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem, availableParallelism } from 'node:os';
import type { Result } from './measure.js';

const dash = '–';
const f = (v: unknown, digits?: number): string => {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return dash;
  if (typeof v === 'number') {
    if (digits !== undefined) return v.toFixed(digits);
    return Math.abs(v) >= 10000 ? Math.round(v).toLocaleString('en-US') : String(v);
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') {
    const e = Object.entries(v as Record<string, number>);
    return e.length ? e.map(([k, n]) => `${k}:${n}`).join(' ') : dash;
  }
  return String(v);
};

function table(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** Cluster runs: one more column, the CPU of PostgreSQL, Redis and HAProxy (cores), after the server's. */
const infraHead = (rs: Result[]) => (rs.some((r) => r.infraCores) ? ['PostgreSQL / Redis / HAProxy cores'] : []);
const infraCell = (rs: Result[], r: Result) =>
  infraHead(rs).length
    ? [r.infraCores ? ['postgres', 'redis', 'haproxy'].map((k) => f(r.infraCores?.[k])).join(' / ') : dash]
    : [];

const isStep = (r: Result) =>
  (r.scenario === 'big-room' || r.scenario === 'small-rooms') && r.label !== 'summary' && r.label !== 'connect';

/** Rate steps (big-room, small-rooms) and the idle delivery checks: the full delivery table. */
export function deliveryTable(results: Result[]): string {
  const rows = results
    .filter((r) => isStep(r) || (r.scenario === 'idle' && r.label === 'delivery check'))
    .map((r) => [
      r.scenario,
      r.server,
      f(r.clients),
      f(r.rooms),
      f(r.senders),
      f(r.offeredRate),
      f(r.sent),
      f(r.acked),
      f(r.expected),
      f(r.delivered),
      f(r.lost),
      f(r.duplicated),
      f(r.deliveriesPerSec),
      `${f(r.e2eP50Ms)} / ${f(r.e2eP95Ms)} / ${f(r.e2eP99Ms)} / ${f(r.e2eMaxMs)}`,
      r.server === 'baseline' ? 'n/a' : `${f(r.ackP50Ms)} / ${f(r.ackP99Ms)}`,
      `${f(r.serverCpuSec)} (${f(r.serverCores)})`,
      r.serverElu == null ? dash : `${f(r.serverElu)} / ${f(r.serverLoopDelayP99Ms)}`,
      f(r.serverPeakRssMB),
      ...infraCell(results, r),
      `${f(r.genCores)} (elu ${(r.genElu ?? []).map((x) => x.toFixed(2)).join(',') || dash})`,
      f(r.otherCores),
      [
        /\((retry|refine)\)/.exec(String(r.label))?.[1] ?? '',
        r.drainTimedOut ? 'drain timed out' : '',
        Object.keys(r.serverCloses ?? {}).length ? `server closed ${f(r.serverCloses)}` : '',
      ]
        .filter(Boolean)
        .join('; ') || '',
    ]);
  return table(
    [
      'scenario',
      'server',
      'clients',
      'rooms',
      'senders',
      'offered msg/s',
      'sent',
      'acked',
      'deliveries expected',
      'delivered',
      'lost',
      'dup',
      'deliveries/s',
      'e2e ms p50 / p95 / p99 / max',
      'ack ms p50 / p99',
      'server CPU s (cores)',
      'server event loop: ELU / delay p99 ms',
      'server peak RSS MB',
      ...infraHead(results),
      'generator cores (worker ELU)',
      'other processes cores',
      'notes',
    ],
    rows,
  );
}

/** What the rate scenarios' clients received as presence while they connected and the server settled. */
export function connectTable(results: Result[]): string {
  const rows = results
    .filter((r) => r.label === 'connect')
    .map((r) => [
      r.scenario,
      r.server,
      f(r.clients),
      f(r.rooms),
      f(r.connectSec),
      f(r.presenceFrames),
      f(r.presenceMB),
    ]);
  return table(['scenario', 'server', 'clients', 'rooms', 'connect s', 'presence frames', 'presence MB'], rows);
}

export function idleTable(results: Result[]): string {
  const rows = results
    .filter((r) => r.scenario === 'idle' && r.label !== 'summary' && r.label !== 'delivery check')
    .map((r) => [
      r.server,
      f(r.clients),
      r.server === 'baseline' ? 'n/a' : `${f(r.users)} × ${f(r.connectionsPerUser)}`,
      f(r.rssBeforeMB),
      f(r.rssAfterMB),
      f(r.memPerConnKB),
      f(r.serverPeakRssMB),
      `${f(r.connectSec)} s (${f(r.connectsPerSec)}/s)`,
      `${f(r.presenceFrames)} / ${f(r.presenceMB)}`,
    ]);
  return table(
    [
      'server',
      'connections',
      'users × conns',
      'RSS before MB',
      'RSS after MB',
      'memory per connection KB',
      'peak RSS MB',
      'connect time',
      'presence frames / MB received while connecting',
    ],
    rows,
  );
}

export function searchTable(results: Result[]): string {
  const rows = results
    .filter((r) => r.scenario === 'search' && r.label !== 'error')
    .map((r) => [
      String(r.label),
      f(r.storedMessages),
      f(r.requests),
      f(r.errors),
      f(r.requestsPerSec),
      `${f(r.p50Ms)} / ${f(r.p95Ms)} / ${f(r.p99Ms)} / ${f(r.maxMs)}`,
      `${f(r.seedSec)} s, ${f(r.dbMB)} MB`,
    ]);
  return table(
    ['query', 'stored messages', 'requests', 'errors', 'req/s', 'latency ms p50 / p95 / p99 / max', 'seeding'],
    rows,
  );
}

export function historyTable(results: Result[]): string {
  const rows = results
    .filter((r) => r.scenario === 'history')
    .map((r) => [
      f(r.storedMessages),
      f(r.concurrency),
      f(r.requests),
      f(r.errors),
      f(r.requestsPerSec),
      `${f(r.p50Ms)} / ${f(r.p95Ms)} / ${f(r.p99Ms)} / ${f(r.maxMs)}`,
      `${f(r.serverCpuSec)} (${f(r.serverCores)})`,
      ...infraCell(results, r),
      f(r.genCores),
      f(r.otherCores),
      `${f(r.seedSec)} s, ${f(r.dbMB)} MB`,
    ]);
  return table(
    [
      'stored messages',
      'concurrency',
      'requests',
      'errors',
      'req/s',
      'latency ms p50 / p95 / p99 / max',
      'server CPU s (cores)',
      ...infraHead(results),
      'generator cores',
      'other processes cores',
      'seed time, db size',
    ],
    rows,
  );
}

export function reconnectTable(results: Result[]): string {
  const rows = results
    .filter((r) => r.scenario === 'reconnect')
    .map((r) => [
      `${f(r.stormClients)} (+${f(r.senders)} senders)`,
      f(r.rooms),
      f(r.offeredRate),
      f(r.stormConcurrency),
      `${f(r.reconnected)} / ${f(r.caughtUp)}`,
      f(r.allCaughtUpMs),
      `${f(r.caughtUpP50Ms)} / ${f(r.caughtUpP99Ms)}`,
      f(r.resyncedMaxMs),
      `${f(r.expected)} / ${f(r.delivered)}`,
      `${f(r.lost)} / ${f(r.duplicated)} / ${f(r.gaps)}`,
      `${f(r.e2eP50Ms)} / ${f(r.e2eP99Ms)} / ${f(r.e2eMaxMs)}`,
      `${f(r.serverCpuSec)} (${f(r.serverCores)})`,
      f(r.serverPeakRssMB),
      ...infraCell(results, r),
      f(r.otherCores),
      f(r.presenceMB),
    ]);
  return table(
    [
      'clients dropped',
      'rooms',
      'msg/s during storm',
      'reconnect concurrency',
      'resynced / caught up',
      'all caught up ms',
      'caught up ms p50 / p99',
      'last synced ms',
      'deliveries expected / delivered',
      'lost / dup / gaps',
      'e2e ms p50 / p99 / max',
      'server CPU s (cores)',
      'server peak RSS MB',
      ...infraHead(results),
      'other processes cores',
      'presence MB received',
    ],
    rows,
  );
}

/** The headline figures against the issue's targets; `ours` names relaychat's column. */
export function summaryTable(results: Result[], ours = 'relaychat'): string {
  const rows: string[][] = [];
  const sum = (scenario: string) => results.find((r) => r.scenario === scenario && r.label === 'summary');
  const met = (ok: boolean | null) => (ok === null ? dash : ok ? 'yes' : 'no');
  const big = sum('big-room');
  if (big) {
    rows.push([
      `big room (${f(big.clients)} clients): sustained deliveries/s at p99 ≤ ${f(big.p99LimitMs)} ms`,
      `${f(big.relaychatSustainedDeliveriesPerSec)} (at ${f(big.relaychatSustainedAtRate)} msg/s)`,
      `${f(big.baselineSustainedDeliveriesPerSec)} (at ${f(big.baselineSustainedAtRate)} msg/s)`,
      f(big.ratioToBaseline),
      '≥ 2x',
      met(typeof big.ratioToBaseline === 'number' ? big.ratioToBaseline >= 2 : null),
    ]);
  }
  const small = sum('small-rooms');
  if (small) {
    rows.push([
      `small rooms (${f(small.clients)} clients, ${f(small.rooms)} rooms): sustained deliveries/s at p99 ≤ ${f(small.p99LimitMs)} ms`,
      `${f(small.relaychatSustainedDeliveriesPerSec)} (at ${f(small.relaychatSustainedAtRate)} msg/s)`,
      `${f(small.baselineSustainedDeliveriesPerSec)} (at ${f(small.baselineSustainedAtRate)} msg/s)`,
      f(small.ratioToBaseline),
      '≥ 1.0x',
      met(typeof small.ratioToBaseline === 'number' ? small.ratioToBaseline >= 1 : null),
    ]);
  }
  const idle = sum('idle');
  if (idle) {
    rows.push([
      `idle (${f(idle.clients)} connections): memory per connection KB`,
      f(idle.relaychatMemPerConnKB),
      f(idle.baselineMemPerConnKB),
      f(idle.ratioToBaseline),
      '≤ 1.5x',
      met(typeof idle.ratioToBaseline === 'number' ? idle.ratioToBaseline <= 1.5 : null),
    ]);
  }
  for (const h of results.filter((r) => r.scenario === 'history')) {
    rows.push([
      `history (${f(h.storedMessages)} stored, concurrency ${f(h.concurrency)}): p99 ms`,
      `${f(h.p99Ms)} (${f(h.requestsPerSec)} req/s)`,
      'n/a',
      dash,
      // The target is the latency of one reader; higher concurrency shows throughput and queueing.
      h.concurrency === 1 ? '< 10 ms' : '– (load, for information)',
      h.concurrency === 1 ? met(typeof h.p99Ms === 'number' ? h.p99Ms < 10 : null) : dash,
    ]);
  }
  for (const r of results.filter((x) => x.scenario === 'reconnect')) {
    const ok =
      typeof r.allCaughtUpMs === 'number' &&
      r.allCaughtUpMs <= 10_000 &&
      r.lost === 0 &&
      r.duplicated === 0 &&
      r.gaps === 0;
    rows.push([
      `reconnect storm (${f(r.stormClients)} clients): all caught up, no gap`,
      `${f(r.allCaughtUpMs)} ms, ${f(r.caughtUp)}/${f(r.stormClients)}, gaps ${f(r.gaps)}`,
      'n/a',
      dash,
      '≤ 10 s',
      met(ok),
    ]);
  }
  return table(['measure', ours, 'baseline', 'ratio', 'target', 'met'], rows);
}

export function allTables(results: Result[], ours = 'relaychat'): string {
  const parts: string[] = [];
  const has = (s: string) => results.some((r) => r.scenario === s);
  parts.push('### Against the targets\n\n' + summaryTable(results, ours));
  if (has('big-room') || has('small-rooms') || has('idle')) {
    parts.push('### Delivery (rate steps and checks)\n\n' + deliveryTable(results));
  }
  if (results.some((r) => r.label === 'connect')) {
    parts.push('### Presence while connecting\n\n' + connectTable(results));
  }
  if (has('idle')) parts.push('### Idle connections\n\n' + idleTable(results));
  if (has('history')) parts.push('### History\n\n' + historyTable(results));
  if (has('reconnect')) parts.push('### Reconnect storm\n\n' + reconnectTable(results));
  if (has('search')) parts.push('### Message search\n\n' + searchTable(results));
  const errors = results.filter((r) => r.label === 'error');
  if (errors.length) {
    parts.push('### Errors\n\n' + errors.map((r) => `- ${r.scenario}: ${String(r.error).split('\n')[0]}`).join('\n'));
  }
  return parts.join('\n\n');
}

// ---- chart ----

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * p50 and p99 end-to-end latency (log scale) against measured deliveries/s, for relaychat and the baseline,
 * one point per rate step of the big-room scenario. Hand-written SVG, no chart library.
 */
export function bigRoomChart(results: Result[], limitMs: number, subtitle: string, ours = 'relaychat'): string {
  const steps = results
    .filter((r) => r.scenario === 'big-room' && r.label !== 'summary' && r.e2eP99Ms != null)
    .sort((a, b) => (a.offeredRate ?? 0) - (b.offeredRate ?? 0));
  const W = 820;
  const H = 480;
  const m = { l: 70, r: 180, t: 50, b: 60 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const xs = steps.map((r) => r.deliveriesPerSec ?? 0).filter((v) => v > 0);
  const ys = steps.flatMap((r) => [r.e2eP50Ms ?? 0, r.e2eP99Ms ?? 0]).filter((v) => v > 0);
  // Both axes logarithmic: offered load doubles per step, and latency spans orders of magnitude.
  const xLo = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...xs, 1e9) / 1.5)));
  const xHi = 10 ** Math.ceil(Math.log10(Math.max(xLo * 10, ...xs) * 1.05));
  const yLo = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(limitMs, ...ys))));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(limitMs * 2, ...ys)));
  const X = (v: number) => m.l + ((Math.log10(Math.max(v, xLo)) - Math.log10(xLo)) / Math.log10(xHi / xLo)) * pw;
  const Y = (v: number) => m.t + ph - ((Math.log10(Math.max(v, yLo)) - Math.log10(yLo)) / Math.log10(yHi / yLo)) * ph;
  const num = (v: number) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1000 ? `${v / 1000}k` : String(v));
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
  );
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  o.push(
    `<text x="${m.l}" y="22" font-size="15" font-weight="600">Big room: end-to-end latency vs delivered load</text>`,
  );
  o.push(`<text x="${m.l}" y="38" fill="#555">${esc(subtitle)}</text>`);
  // grid and axes: decades labelled, 2 and 5 as minor lines
  for (let d = xLo; d <= xHi * 1.001; d *= 10) {
    for (const k of [1, 2, 5]) {
      const v = d * k;
      if (v > xHi * 1.001) break;
      o.push(`<line x1="${X(v)}" y1="${m.t}" x2="${X(v)}" y2="${m.t + ph}" stroke="${k === 1 ? '#ddd' : '#f3f3f3'}"/>`);
      o.push(`<text x="${X(v)}" y="${m.t + ph + 18}" text-anchor="middle">${num(v)}</text>`);
    }
  }
  for (let d = yLo; d <= yHi * 1.001; d *= 10) {
    for (const k of [1, 2, 5]) {
      const v = d * k;
      if (v > yHi * 1.001) break;
      o.push(`<line x1="${m.l}" y1="${Y(v)}" x2="${m.l + pw}" y2="${Y(v)}" stroke="${k === 1 ? '#ddd' : '#f3f3f3'}"/>`);
      if (k === 1 || k === 5) o.push(`<text x="${m.l - 8}" y="${Y(v) + 4}" text-anchor="end">${v}</text>`);
    }
  }
  o.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  o.push(
    `<text x="${m.l + pw / 2}" y="${H - 18}" text-anchor="middle">deliveries per second, measured at the receivers (log scale)</text>`,
  );
  o.push(
    `<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">end-to-end latency, ms (log scale)</text>`,
  );
  // the limit
  o.push(
    `<line x1="${m.l}" y1="${Y(limitMs)}" x2="${m.l + pw}" y2="${Y(limitMs)}" stroke="#c00" stroke-dasharray="6 4"/>`,
  );
  o.push(`<text x="${m.l + 6}" y="${Y(limitMs) - 5}" fill="#c00">p99 limit ${limitMs} ms</text>`);
  const series: { server: string; key: 'e2eP99Ms' | 'e2eP50Ms'; color: string; dash: string; name: string }[] = [
    { server: ours, key: 'e2eP99Ms', color: '#1f5fbf', dash: '', name: `${ours} p99` },
    { server: ours, key: 'e2eP50Ms', color: '#1f5fbf', dash: '5 4', name: `${ours} p50` },
    { server: 'baseline', key: 'e2eP99Ms', color: '#d9822b', dash: '', name: 'baseline p99' },
    { server: 'baseline', key: 'e2eP50Ms', color: '#d9822b', dash: '5 4', name: 'baseline p50' },
  ];
  series.forEach((s, i) => {
    const pts = steps
      .filter((r) => r.server === s.server && (r[s.key] ?? 0) > 0)
      .map((r) => ({ x: X(r.deliveriesPerSec ?? 0), y: Y(r[s.key] as number), rate: r.offeredRate }));
    if (pts.length) {
      o.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''} points="${pts
          .map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`)
          .join(' ')}"/>`,
      );
      for (const p of pts) {
        o.push(
          `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="3.5" fill="${s.dash ? '#fff' : s.color}" stroke="${s.color}" stroke-width="1.5"><title>${esc(
            `${s.name}: ${p.rate} msg/s offered`,
          )}</title></circle>`,
        );
        if (s.key === 'e2eP99Ms') {
          o.push(
            // relaychat labels above the point, baseline labels below, so they do not collide
            `<text x="${(p.x + 5).toFixed(1)}" y="${(p.y + (s.server === 'baseline' ? 14 : -6)).toFixed(1)}" font-size="10" fill="${s.color}">${p.rate}/s</text>`,
          );
        }
      }
    }
    const ly = m.t + 10 + i * 22;
    const lx = m.l + pw + 16;
    o.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 30}" y2="${ly}" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    o.push(`<text x="${lx + 38}" y="${ly + 4}">${s.name}</text>`);
  });
  o.push(`<text x="${m.l + pw + 16}" y="${m.t + 110}" font-size="10" fill="#555">labels: offered msg/s</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}

// ---- environment and docs ----

export interface Machine {
  nproc: number;
  cpuModel: string;
  ramGiB: number;
  node: string;
  kernel: string;
  commit: string;
  /** The CPUs this process (the load generator) may run on, from /proc/self/status; null off Linux. */
  generatorCpus: string | null;
}

export function machine(): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux
  }
  let generatorCpus: string | null = null;
  try {
    generatorCpus = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? null;
  } catch {
    // not Linux
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    if (dirty) commit += ' (with uncommitted changes under src/)';
  } catch {
    // not a git checkout
  }
  return {
    nproc: availableParallelism(),
    cpuModel,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    commit,
    generatorCpus,
  };
}

/**
 * The generated sections of docs/performance.md: the embedded run's, then the cluster run's (`--cluster`). A
 * section is found by the start of its begin marker (`open`), so the marker's wording may change.
 */
const MARKERS = {
  embedded: {
    open: '<!-- bench:begin',
    begin: '<!-- bench:begin — generated by `npm run bench`; edits between these markers are overwritten -->',
    end: '<!-- bench:end -->',
  },
  cluster: {
    open: '<!-- bench:cluster:begin',
    begin:
      '<!-- bench:cluster:begin — generated by `npm run bench -- --cluster`; edits between these markers are overwritten -->',
    end: '<!-- bench:cluster:end -->',
  },
};

/**
 * Puts `block` between the markers of its section (`which`) of an existing docs page, keeping everything else as
 * it is. Without markers yet, the embedded section goes right after the page title, the cluster section right
 * after the embedded one (or the title).
 */
export function mergeDocs(existing: string | null, block: string, which: 'embedded' | 'cluster' = 'embedded'): string {
  const { open, begin, end } = MARKERS[which];
  const wrapped = `${begin}\n\n${block.trim()}\n\n${end}`;
  if (existing === null || existing.trim() === '') return `# Performance\n\n${wrapped}\n`;
  const b = existing.indexOf(open);
  const e = existing.indexOf(end);
  if (b >= 0 && e > b) return existing.slice(0, b) + wrapped + existing.slice(e + end.length);
  const after = which === 'cluster' ? existing.indexOf(MARKERS.embedded.end) : -1;
  if (after >= 0) {
    const at = after + MARKERS.embedded.end.length;
    return `${existing.slice(0, at)}\n\n${wrapped}\n${existing.slice(at)}`;
  }
  // No markers yet: our sections go right after the page title; the rest of the page follows unchanged.
  const lines = existing.split('\n');
  const h1 = lines.findIndex((l) => /^# /.test(l));
  if (h1 >= 0) {
    return [...lines.slice(0, h1 + 1), '', wrapped, '', ...lines.slice(h1 + 1)].join('\n').replace(/\n{3,}/g, '\n\n');
  }
  return `# Performance\n\n${wrapped}\n\n${existing}`;
}

export function readIfExists(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

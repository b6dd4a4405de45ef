/**
 * relaychat's benchmark instrument: `npm run bench` (full run, a few minutes) or `npm run bench -- --quick`
 * (smoke run, seconds). Starts the servers it measures as child processes on loopback — relaychat embedded, or
 * with `--cluster` as a local cluster (PostgreSQL, Redis, nodes, HAProxy) — drives them with raw WebSocket clients
 * in worker threads, and writes bench-results/ (JSON lines, chart) and docs/performance.md (each mode its section).
 * Exit status: 0 when every scenario ran and relaychat lost and duplicated nothing; 1 otherwise; 2 on bad flags.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as prettier from 'prettier';
import { join, relative, resolve } from 'node:path';
import { parseOptions, USAGE, UsageError, type Options, type Scenario } from './lib/args.js';
import { benchServerEnv, buildRuntime, installCleanup, pinServersTo, REPO, shutdown } from './lib/children.js';
import { CLUSTER_ENV, clusterVersions } from './lib/cluster.js';
import { limitedBy, type Result } from './lib/measure.js';
import { openFilesHardLimit } from './lib/proc.js';
import { allTables, bigRoomChart, machine, mergeDocs, readIfExists, type Machine } from './lib/report.js';
import { bigRoom } from './scenarios/big-room.js';
import { passes, type Ctx } from './scenarios/common.js';
import { history } from './scenarios/history.js';
import { idle } from './scenarios/idle.js';
import { reconnect } from './scenarios/reconnect.js';
import { search } from './scenarios/search.js';
import { smallRooms } from './scenarios/small-rooms.js';

const RUNNERS: Record<Scenario, (ctx: Ctx) => Promise<Result[]>> = {
  'big-room': bigRoom,
  'small-rooms': smallRooms,
  idle,
  history,
  reconnect,
  search,
};

function fail(code: number, msg: string): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(code);
}

let opts: Options;
try {
  const o = parseOptions(process.argv.slice(2));
  if (o === 'help') {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  opts = o;
} catch (err) {
  if (err instanceof UsageError) fail(2, `${err.message}\n\n${USAGE}`);
  throw err;
}

if (!existsSync(join(REPO, 'dist/server/main.js')))
  fail(2, 'dist/server/main.js is missing: run `npm run build` first.');

installCleanup();
pinServersTo(opts.pinServer);
// The whole run is bounded: a wedged step cannot hold CI or a terminal forever.
const watchdogMs = opts.quick ? 240_000 : 45 * 60_000;
setTimeout(() => {
  process.stderr.write(`bench: still running after ${watchdogMs / 1000} s; giving up\n`);
  void shutdown(1); // kills every child, stops a running cluster
}, watchdogMs).unref();

const outDir = resolve(opts.outDir);
const logDir = join(outDir, 'logs');
mkdirSync(logDir, { recursive: true });
const tmpRoot = mkdtempSync(join(tmpdir(), 'relaychat-bench-'));
process.on('exit', () => rmSync(tmpRoot, { recursive: true, force: true }));
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const results: Result[] = [];
const tStart = performance.now();
const log = (msg: string) =>
  process.stderr.write(
    msg.trim() ? `[${((performance.now() - tStart) / 1000).toFixed(1).padStart(5)}s] ${msg}\n` : '\n',
  );

// With --cluster, relaychat's lines say so (server and node count), in the JSON and in every table.
const ours = opts.cluster ? 'relaychat-cluster' : 'relaychat';
const oursTitle = opts.cluster ? `relaychat cluster (${opts.cluster.nodes} nodes)` : 'relaychat';
const runtime = buildRuntime();
const ctx: Ctx = {
  opts,
  emit: (r) => results.push(r.server === 'relaychat' ? Object.assign(r, { server: ours, ...clusterField() }) : r),
  log,
  tmpRoot,
  logDir,
  baselineScript: runtime.baseline,
  workerScript: runtime.worker,
  tag: `b${Date.now().toString(36)}`,
};

function clusterField() {
  return opts.cluster ? { nodes: opts.cluster.nodes } : {};
}

const env = machine();
const loadStart = loadavg()[0]!;
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
log(
  `relaychat bench (${opts.quick ? 'quick' : 'full'}${opts.cluster ? `, ${oursTitle}` : ''}): ${opts.scenarios.join(', ')} — ${env.nproc} cores, ` +
    `${env.cpuModel}, ${env.ramGiB} GiB, node ${env.node}, ${opts.workers} client worker(s), load average ${loadStart}`,
);
if (opts.pinServer) log(`pinned: servers on CPU ${opts.pinServer}, load generator on CPU ${env.generatorCpus ?? '?'}`);
if (loadStart > 0.5 && !opts.quick) {
  log(`warning: the machine is not idle (1-minute load average ${loadStart}); other processes skew the figures`);
}
const t0 = performance.now();
let failed = false;
for (const s of opts.scenarios) {
  const ts = performance.now();
  try {
    await RUNNERS[s](ctx);
    log(`${s} done in ${((performance.now() - ts) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    failed = true;
    log(`${s} FAILED: ${(err as Error).stack ?? err}\n`);
    ctx.emit({ scenario: s, server: 'relaychat', label: 'error', error: String((err as Error).message ?? err) });
  }
}
const totalSec = (performance.now() - t0) / 1000;
const loadEnd = loadavg()[0]!;
results.unshift({
  scenario: 'environment',
  server: 'both',
  label: 'run',
  command,
  ...env,
  cluster: opts.cluster,
  serverCpus: opts.pinServer,
  clientWorkers: opts.workers,
  loadAverageStart: loadStart,
  loadAverageEnd: loadEnd,
  totalSec: Math.round(totalSec),
});

// ---- output ----
const jsonl = results.map((r) => JSON.stringify({ ...r, quick: opts.quick })).join('\n') + '\n';
writeFileSync(join(outDir, `results-${stamp}.jsonl`), jsonl);
writeFileSync(join(outDir, 'latest.jsonl'), jsonl);
const tables = allTables(results, oursTitle);
process.stdout.write(`\n${tables}\n\n`);
process.stdout.write(jsonl);

let chart: string | null = null;
if (results.some((r) => r.scenario === 'big-room' && r.label !== 'summary' && r.label !== 'error')) {
  const big = opts.bigRoom;
  chart = join(outDir, 'big-room.svg');
  writeFileSync(
    chart,
    bigRoomChart(
      results,
      opts.p99LimitMs,
      `${big.clients} clients in one room, ${big.senders} senders, ${opts.stepSec} s per step — ${env.nproc} × ${env.cpuModel}, node ${env.node}`,
      ours,
    ),
  );
}
if (opts.docs) await writeDocs(env, tables, chart);

// Our guarantee, checked in every scenario: nothing lost, nothing duplicated, no gap.
const bad = results.filter(
  (r) => r.server !== 'baseline' && ((r.lost ?? 0) > 0 || (r.duplicated ?? 0) > 0 || (Number(r.gaps) || 0) > 0),
);
for (const r of bad) {
  log(`LOSS CHECK FAILED: ${r.scenario} ${r.label}: lost ${r.lost}, duplicated ${r.duplicated}, gaps ${r.gaps}`);
}
log(
  `bench finished in ${totalSec.toFixed(0)} s; results in ${relative(process.cwd(), outDir) || '.'}/latest.jsonl` +
    (opts.docs ? ', docs/performance.md' : ''),
);
process.exit(failed || bad.length > 0 ? 1 : 0);

async function writeDocs(m: Machine, tablesMd: string, chartFile: string | null): Promise<void> {
  const docsDir = join(REPO, 'docs');
  const svg = opts.cluster ? 'performance-cluster-big-room.svg' : 'performance-big-room.svg';
  if (chartFile) copyFileSync(chartFile, join(docsDir, svg));
  const serverEnv = { ...benchServerEnv(), ...opts.serverEnv };
  const header = `| | |
| --- | --- |
| command | \`npm run build && ${command}\` |
| CPU | ${m.nproc} × ${m.cpuModel} (\`nproc\` = ${m.nproc}) |
| RAM | ${m.ramGiB} GiB |
| Node.js | ${m.node} |
| kernel | Linux ${m.kernel} |
| relaychat | commit ${m.commit} |
${opts.cluster ? `| cluster | ${opts.cluster.nodes} relaychat nodes, ${clusterVersions()}, all on this machine |\n` : ''}| date | ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, run took ${Math.round(totalSec)} s |
| other processes | ${otherLine()} |
| client worker threads | ${opts.workers} |${opts.pinServer ? `\n| pinning | servers on CPU ${opts.pinServer}, load generator on CPU ${m.generatorCpus ?? '?'} (taskset) |` : ''}`;
  const chartLine = chartFile
    ? `\n![Big room: p50 and p99 latency against delivered load, ${oursTitle} and the baseline](${svg})\n`
    : '';
  const block = opts.cluster
    ? clusterSection(opts.cluster.nodes, header, tablesMd, chartLine)
    : `## Benchmarks

Numbers from one run of the bench instrument (\`bench/\`), on this machine:

${header}

The server and the load generator share these ${m.nproc} cores, so read "server cores" and "generator cores" in
the tables to see which side ran out first. "Other processes cores" is the CPU the rest of the machine used
during the same window (from \`/proc/stat\`): where it is well above 0, other work competed for the cores and the
step's figures are pessimistic.

${tablesMd}
${chartLine}
${saturationNotes()}

### How it is measured

- **Servers.** relaychat is the embedded default, \`node dist/server/main.js\`, started by the bench as a child
  process on 127.0.0.1 with a fresh temporary \`DATA_DIR\` per scenario and this environment:
  ${Object.entries(serverEnv)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(', ')} (plus \`MAX_CONNECTIONS_PER_USER\` raised in the idle scenario).
  **\`SCRYPT_LOG2N=10\`** (instead of the default 17) only so that registering thousands of bench users takes
  seconds; it does not touch the message path. The **baseline** is \`bench/baseline/naive-ws-server.ts\`: the naive
  \`ws\` broadcast loop (on each message, \`send\` to every client of the room; no auth, no storage, no sequence, no
  acks), with a one-message join so it has the same rooms; its header comment says exactly what it does. It runs
  as plain \`node\` too, under the identical workload.
- **Clients.** Raw \`ws\` sockets (not the SDK) in ${opts.workers} worker thread(s) (\`--workers\`), opened ${opts.connectConcurrency} at a
  time; relaychat clients register over HTTP (50 in flight; every user is in the lobby), say \`hello\`, and are
  counted connected once \`synced\` for every room. Senders send open-loop at a fixed total rate, the send time
  (monotonic µs) in the message body; every receiver records end-to-end latency, senders record ack latency.
- **Delivery check.** A delivery is (client, room, seq). Every client checks its rooms' sequences are contiguous;
  at the end of a step the bench waits until every send is acked and every client has reached its rooms' last
  seq (bounded), and counts deliveries expected / delivered / lost / duplicated. The baseline has no seq: its
  deliveries are counted by the (sender, number) id in the body. A relaychat client the server disconnects
  (for example as a slow consumer) reconnects and resumes, as a real client would.
- **Generator threads.** One client worker is the default on 2 cores: server + generator are then two busy threads
  on two cores, so a saturated server always has a whole core. With \`--workers 2\` the generator can also use what
  the server leaves idle (it helps when relaychat's server is far from a full core, as in the big room), but it then
  competes with a saturated server for CPU. Receiving costs the generator about as much CPU per delivery as the
  naive server spends sending it, so on this machine the generator's worker ELU is reported next to every figure.
- **Load steps.** big-room and small-rooms double the offered rate each step of ${opts.stepSec} s until e2e p99 passes
  ${opts.p99LimitMs} ms (or anything is lost, or the drain times out; a failed step is run once more to confirm) or deliveries/s
  grow less than 10 %, then two bisection steps between the last good and the failed rate refine it; the
  headline figure is the best deliveries/s among steps that stayed within the limit. Deliveries/s = deliveries /
  (last delivery − first send).
- **Small rooms.** Rooms are created over HTTP by their first member and joined by the others;
  ${opts.smallRooms.leaveLobby ? 'the bench users then leave the lobby (`--leave-lobby`), so each client is in exactly one room of ' + opts.smallRooms.roomSize + ' (the reconnect scenario does the same)' : 'the users stay in the lobby as well, as every user of a real deployment is (the reconnect scenario too; `--leave-lobby` makes them leave it). The bench clients send no `view` frame, so in the lobby they get its online count, not who came and went'}.
- **Server resources.** CPU (utime + stime) and RSS come from \`/proc/<pid>/stat\` and \`/proc/<pid>/status\` of
  the server child, sampled every 200 ms; peak RSS is the window maximum (idle: \`VmHWM\`). Generator CPU is the
  bench process (all threads); worker ELU is each client thread's event-loop utilisation (1.0 = saturated).
  The server's own event-loop utilisation and event-loop delay p99 over each step come from its \`GET /metrics\`
  (scraped right before and after the step; \`METRICS_TOKEN\` is set for that), relaychat embedded only.
- **Idle memory.** (server RSS with N connections open and settled − RSS before any connection) / N, each RSS the
  median of one second of samples after the server went quiet.
- **History.** A first server registers the reader and creates the room and is stopped; the bench then writes the
  rows straight into its SQLite file in one transaction with one prepared \`INSERT\` (consecutive seqs after the
  room's \`last_seq\`, which is updated in the same transaction), and starts the measured server on that file.
  \`GET /api/v1/rooms/:id/messages?limit=50\` runs closed-loop over keep-alive connections after 200 warm-up requests.
- **Reconnect storm.** Every storm client's socket is cut at once (no closing handshake) while the senders keep
  sending, and all reconnect immediately with \`hello.resume\` = the last seq they saw per room. A client has caught
  up when it is synced and has seen every room's last seq from before the drop; contiguity is checked across the
  drop.

Raw results: \`bench-results/latest.jsonl\` (one JSON object per step or measurement; gitignored). Server logs:
\`bench-results/logs/\`. Other flags: \`npm run bench -- --help\`; \`--cluster\` runs the same scenarios against a
local cluster (the next section); \`taskset -c 1 npm run bench -- --pin-server 0\` gives the server(s) and the
load generator a core each, for before/after comparisons that the other side's scheduling must not blur.`;
  const file = join(docsDir, 'performance.md');
  // Formatted with the repo's prettier config, as `npm run format:check` expects (the rest of the page is
  // already formatted, so only our block changes).
  const merged = mergeDocs(readIfExists(file), block, opts.cluster ? 'cluster' : 'embedded');
  const config = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(merged, { ...config, filepath: file }));
  log(`wrote docs/performance.md${chartFile ? ` and docs/${svg}` : ''}`);
}

/** The `--cluster` section of docs/performance.md: what differs from the embedded run is explained here. */
function clusterSection(nodes: number, header: string, tablesMd: string, chartLine: string): string {
  const fileLimit = openFilesHardLimit();
  return `## Benchmarks: local cluster

The same scenarios with relaychat deployed as a cluster (\`npm run bench -- --cluster\`): ${nodes} nodes behind
HAProxy, with PostgreSQL and Redis, every process on this machine. Numbers from one run:

${header}

Everything shares these ${env.nproc} cores — the nodes, PostgreSQL, Redis, HAProxy and the load generator — so the
figures show what the cluster's extra work costs on one machine (a PostgreSQL commit and a Redis publish per
message, a proxy hop for every frame), not what a cluster of machines sustains. "Server" CPU and RSS are summed
over the nodes; "PostgreSQL / Redis / HAProxy cores" is the CPU each used over the same window; "other processes"
is the rest of the machine. The baseline is the same single naive process as in the embedded section.

${tablesMd}
${chartLine}
${saturationNotes()}

### How the cluster run is measured

As the embedded run above (clients, delivery check, load steps, small rooms, reconnect storm, the baseline), except:

- **Cluster.** Each scenario gets a fresh cluster from \`scripts/lib/cluster.ts\` (the launcher of \`npm run cluster\`
  and the fault tests), all on 127.0.0.1: PostgreSQL (a new \`initdb\`, fsync and \`synchronous_commit\` on,
  \`shared_buffers=64MB\`, migrated by \`npm run migrate\`), Redis (no persistence), ${nodes} nodes
  (\`node dist/server/main.js\` with \`DATABASE_URL\`, \`REDIS_URL\`, \`TRUST_PROXY=127.0.0.1\`, \`NODE_ID\`, the
  embedded run's environment and ${Object.entries(CLUSTER_ENV)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(', ')}), and HAProxy with \`deploy/haproxy.cfg\` as deployed but for its listen address and node list
  (\`balance leastconn\`, health checks on \`/readyz\`). Every client connection and HTTP call goes through HAProxy.
  The bench stops it all after the scenario (nodes, HAProxy, Redis, PostgreSQL), on Ctrl-C and on a crash too.
- **Resources.** Server CPU and RSS are the sums over the nodes' \`/proc/<pid>\` (peak RSS: the peak of the sum;
  idle: the sum of each node's \`VmHWM\`). PostgreSQL's CPU is the postmaster's and all its children's (backends,
  WAL writer, checkpointer…), exited ones included (\`cutime\`, \`cstime\`); Redis's and HAProxy's their process's;
  each read at the window's edges. "Other processes" leaves all of them out.
- **Idle memory.** (summed node RSS with N connections open − before) / N: the nodes' memory only; HAProxy's (two
  sockets and their buffers per connection) and Redis's are not in it. HAProxy sizes its connection limit from the
  open-files limit (${Number.isFinite(fileLimit) ? fileLimit.toLocaleString('en-US') : 'unlimited'} here; two descriptors per proxied connection), so without
  \`--clients\` the idle scenario opens 10,000 connections or, where that limit is lower, fewer: ${opts.idle.connections.toLocaleString('en-US')} in this run.
- **History.** The reader and the room are created through the cluster, then one SQL statement seeds PostgreSQL,
  taking the room row's lock and moving its \`last_seq\` as the store does:
  \`WITH bump AS (UPDATE rooms SET last_seq = last_seq + n … RETURNING last_seq - n AS start)\`
  \`INSERT INTO events … SELECT … FROM bump, generate_series(1, n)\`, then \`VACUUM ANALYZE events\` (so that
  autovacuum does not run during the measurement instead). The same cluster is measured: a node reads history from
  PostgreSQL on every request, so there is no cache to refresh.
- **Where it saturated.** For the cluster, "the server was saturated" means the machine's cores were at least 90 %
  busy (the nodes, PostgreSQL, Redis, HAProxy, the generator and the rest together).

Raw results and logs as for the embedded run (the cluster's in \`bench-results/logs/<scenario>-cluster-*.log\`); a
\`cluster\` line per scenario records its processes and how long it took to start and stop.`;
}

/** How much the rest of the machine competed with the bench, from the measurement windows and the load average. */
function otherLine(): string {
  const xs = results.map((r) => r.otherCores).filter((x): x is number => typeof x === 'number');
  const max = xs.length ? Math.max(...xs) : NaN;
  const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  const cpu = xs.length
    ? `used at most ${max.toFixed(2)} cores (mean ${mean.toFixed(2)}) during the measurement windows`
    : 'not measured';
  return `${cpu}; 1-minute load average ${loadStart} at the start, ${loadEnd} at the end (the bench's own processes included)`;
}

/** Which side ran out first, per saturation search, from the step that ended it. */
function saturationNotes(): string {
  const out: string[] = [];
  const words: Record<string, string> = {
    both: 'both the server and the generator were saturated',
    server: 'the server was saturated (a full core)',
    generator: 'the load generator was saturated, not the server: the real limit is higher than measured',
    neither: 'neither process was at a full core (CPU shared with other processes, or latency bound)',
  };
  // For a cluster, limitedBy judges the machine's cores, not one process.
  const clusterWords: Record<string, string> = {
    ...words,
    both: "the generator was saturated and the machine's cores were busy",
    server: "the machine's cores were busy (nodes, PostgreSQL, Redis, HAProxy and the generator)",
    neither: "neither the generator nor the machine's cores were saturated (latency bound)",
  };
  for (const scenario of ['big-room', 'small-rooms']) {
    for (const server of [ours, 'baseline']) {
      const steps = results.filter(
        (r) => r.scenario === scenario && r.server === server && r.label !== 'summary' && r.label !== 'connect',
      );
      const l = limitedBy(steps, (r) => passes(r, opts.p99LimitMs));
      if (!l) continue;
      const s = l.step;
      out.push(
        `- ${scenario}, ${server}: judged at ${s.offeredRate} msg/s (${s.deliveriesPerSec} deliveries/s, p99 ${s.e2eP99Ms} ms): ` +
          `server ${s.serverCores} cores${infraNote(s)}, generator ${s.genCores} cores (worker ELU ${(s.genElu ?? []).join(', ')}), ` +
          `other processes ${s.otherCores} cores — ` +
          `${(s.infraCores ? clusterWords : words)[l.who] ?? l.who}.`,
      );
    }
  }
  return out.length ? `### Where it saturated\n\n${out.join('\n')}` : '';
}

function infraNote(r: Result): string {
  const c = r.infraCores;
  return c
    ? ` (${r.nodes} nodes), PostgreSQL ${c.postgres} cores, Redis ${c.redis} cores, HAProxy ${c.haproxy} cores`
    : '';
}

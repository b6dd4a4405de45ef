/**
 * `npm run cluster`: a relaychat cluster on this machine, for trying things by hand.
 *
 * Starts, on loopback: PostgreSQL (a fresh cluster in a temp dir, as the `postgres` OS user when run as root),
 * Redis, 3 relaychat nodes (`node dist/server/main.js` with DATABASE_URL, REDIS_URL, …), and a load balancer in
 * front — HAProxy (deploy/haproxy.cfg) or nginx (deploy/nginx.conf), with the real ports and the chosen strategy
 * from deploy/balance/ — then prints the URL. Ctrl-C (or SIGTERM) stops everything it started, in order; so does a
 * failure while starting. Nothing is kept: the data lives in temp dirs.
 *
 *   npm run build && npm run cluster              # 3 nodes on a free port, HAProxy, leastconn
 *   npm run cluster -- --nodes 5 --port 8080
 *   npm run cluster -- --balance hash --lb nginx
 *   npm run cluster -- --balance weighted --weights 1,2,4
 */
import { parseArgs } from 'node:util';
import { BALANCE_STRATEGIES, BALANCERS, isBalanceStrategy, isBalancerKind } from './lib/balance.js';
import { resolveBalancer, startCluster, type Cluster } from './lib/cluster.js';

const USAGE =
  `usage: npm run cluster -- [--nodes 1..16] [--port N] [--balance ${BALANCE_STRATEGIES.join('|')}]\n` +
  `                          [--lb ${BALANCERS.join('|')}] [--weights W1,W2,… (with --balance weighted)]\n`;

function fail(line: string): never {
  process.stderr.write(`[cluster] ${line}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      port: { type: 'string', default: '0' },
      balance: { type: 'string', default: 'leastconn' },
      lb: { type: 'string', default: 'haproxy' },
      weights: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
} catch (err) {
  fail((err as Error).message);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const nodes = Number(values.nodes);
const port = Number(values.port);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) fail(`--nodes: 1..16, got "${values.nodes}"`);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: 0..65535, got "${values.port}"`);
if (!isBalanceStrategy(values.balance)) {
  fail(`--balance: unknown strategy "${values.balance}" (one of ${BALANCE_STRATEGIES.join(', ')})`);
}
if (!isBalancerKind(values.lb)) fail(`--lb: unknown load balancer "${values.lb}" (one of ${BALANCERS.join(', ')})`);
const balance = values.balance;
const balancer = values.lb;
const weights = values.weights?.split(',').map((w) => Number(w.trim()));
let resolved: ReturnType<typeof resolveBalancer>;
try {
  resolved = resolveBalancer({ balancer, balance, ...(weights ? { weights } : {}) }, nodes);
} catch (err) {
  fail(`--weights: ${(err as Error).message}`);
}

const say = (line: string) => process.stdout.write(`[cluster] ${line}\n`);
let cluster: Cluster | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say(`stopping: nodes drain and close, then ${balancer === 'nginx' ? 'nginx' : 'HAProxy'}, Redis, PostgreSQL…`);
    await cluster?.stop();
    say('stopped.');
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    void shutdown(0);
  });
}

try {
  cluster = await startCluster({
    nodes,
    ...(port ? { port } : {}),
    balancer,
    balance,
    ...(resolved.weights ? { weights: resolved.weights } : {}),
    log: say,
    // Short drain for a demo cluster (the production default is 3 s).
    settings: { DRAIN_DELAY_MS: '1000' },
  });
} catch (err) {
  process.stderr.write(`[cluster] ${(err as Error).message}\n`);
  process.exit(1);
}
if (stopping) await new Promise(() => {}); // a signal arrived while starting: shutdown() exits

const c = cluster;
say(`PostgreSQL  ${c.databaseUrl}`);
say(`Redis       ${c.redis.url}`);
for (const n of c.nodes) say(`${n.name.padEnd(11)} ${n.url}  (pid ${n.pid}, log ${n.logFile})`);
const lb = c.lb;
const strategy = `${lb.balance}${c.weights ? ` (weights ${c.nodes.map((n, i) => `${n.name}=${c.weights![i]}`).join(' ')})` : ''}`;
if (lb.kind === 'haproxy') say(`HAProxy     ${strategy}, stats at ${lb.statsUrl}, config ${lb.configFile}`);
else say(`nginx       ${strategy}, config ${lb.configFile}, log ${lb.logFile}`);
process.stdout.write(`\nrelaychat cluster ready: ${c.url}\n`);
process.stdout.write(`  open ${c.url} in a browser, or: npx chat register alice --server ${c.url}\n`);
process.stdout.write(`  WebSocket: ${c.url.replace(/^http/, 'ws')}/ws    Ctrl-C stops everything.\n\n`);

// A node that dies is reported once (it is not restarted: this is for watching failures too).
const reported = new Set<string>();
const watch = setInterval(() => {
  for (const n of c.nodes) {
    if (!n.running && !stopping && !reported.has(n.name)) {
      reported.add(n.name);
      say(`${n.name} is not running (see ${n.logFile}); clients moved to the others`);
    }
  }
}, 1000);
watch.unref();
await new Promise(() => {}); // until a signal

/**
 * `npm run cluster`: a relaychat cluster on this machine, for trying things by hand.
 *
 * Starts, on loopback: PostgreSQL (a fresh cluster in a temp dir, as the `postgres` OS user when run as root),
 * Redis, 3 relaychat nodes (`node dist/server/main.js` with DATABASE_URL, REDIS_URL, …), and HAProxy in front
 * (deploy/haproxy.cfg with the real ports), then prints the URL. Ctrl-C (or SIGTERM) stops everything it started,
 * in order; so does a failure while starting. Nothing is kept: the data lives in temp dirs.
 *
 *   npm run build && npm run cluster              # 3 nodes on a free port
 *   npm run cluster -- --nodes 5 --port 8080
 */
import { parseArgs } from 'node:util';
import { startCluster, type Cluster } from './lib/cluster.js';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '3' }, port: { type: 'string', default: '0' } },
  allowPositionals: false,
});
const nodes = Number(values.nodes);
const port = Number(values.port);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16 || !Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('usage: npm run cluster -- [--nodes 1..16] [--port N]\n');
  process.exit(2);
}

const say = (line: string) => process.stdout.write(`[cluster] ${line}\n`);
let cluster: Cluster | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping: nodes drain and close, then HAProxy, Redis, PostgreSQL…');
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
say(`HAProxy     stats at ${c.haproxy.statsUrl}`);
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

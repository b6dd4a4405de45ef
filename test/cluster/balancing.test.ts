/**
 * Every balancing strategy of deploy/balance/, on HAProxy and on nginx, in front of one real cluster: the load
 * balancer is restarted per strategy (`useBalancer`), PostgreSQL, Redis and the 3 nodes stay. Each test checks
 * that connections spread as the strategy says and that the delivery contract holds under it.
 *
 * Where a connection landed is read from the server side, not from the load balancer: its `welcome` names its
 * connId, and the node that serves it registered `<nodeId>:<connId>` in the user's presence hash in Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatApi, type AuthResult } from '../../src/client/api.js';
import { ChatClient, type ChatClientOptions } from '../../src/client/chat-client.js';
import { BALANCERS } from '../../scripts/lib/balance.js';
import type { Cluster } from '../../scripts/lib/cluster.js';
import { report, sleep, Traffic, until, useCluster } from './fixture.js';

/** HAProxy's hash-balance-factor in deploy/balance/haproxy/hash.cfg: no node above 150 % of the average. */
const BALANCE_FACTOR = 1.5;

describe('cluster: load balancing strategies', () => {
  const cluster = useCluster({ MAX_CONNECTIONS_PER_USER: '100' });
  let redis: Redis;
  /** Users registered once, reused by every strategy. */
  const users: AuthResult[] = [];
  /** Everything a test opened; closed after it. */
  let open: { close(): void }[] = [];

  beforeAll(async () => {
    const c = cluster();
    redis = new Redis(c.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    const api = new ChatApi(c.url);
    for (let i = 0; i < 20; i++) users.push(await api.register(`lb${i}x${process.pid}`, 'correct horse battery'));
  }, 60_000);
  afterAll(async () => {
    await redis?.quit();
  });
  // A test that failed half-way leaves no client behind to reconnect through the next load balancer.
  afterEach(() => {
    for (const o of open) o.close();
    open = [];
  });

  /** An SDK client through the load balancer, naming its user on the upgrade (`?u=`) as the web client does. */
  async function client(c: Cluster, user: AuthResult): Promise<ChatClient> {
    const cl = new ChatClient({
      url: c.url,
      token: user.token,
      userId: user.user.id,
      WebSocket: WebSocket as unknown as ChatClientOptions['WebSocket'],
      backoff: { minMs: 50, maxMs: 300 },
    });
    open.push(cl);
    await cl.connect();
    return cl;
  }

  /** A bare socket through the load balancer, without `?u=`, that is never reconnected (background load). */
  async function rawSocket(c: Cluster, user: AuthResult): Promise<void> {
    const ws = new WebSocket(`${c.url.replace(/^http/, 'ws')}/ws`, { origin: c.url });
    ws.on('error', () => {});
    open.push({ close: () => ws.terminate() });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('close', reject);
    });
    const welcome = new Promise((resolve) =>
      ws.on('message', (d) => String(d).includes('"welcome"') && resolve(undefined)),
    );
    ws.send(JSON.stringify({ type: 'hello', v: 1, token: user.token }));
    await welcome;
  }

  /** The node serving a client's current connection, from the presence entry it wrote before `welcome`. */
  async function nodeOf(cl: ChatClient): Promise<string> {
    const w = cl.welcome!;
    const fields = await redis.hkeys(`relaychat:presence:user:${w.user.id}`);
    const field = fields.find((f) => f.endsWith(`:${w.connId}`));
    if (!field) throw new Error(`no presence entry for ${w.connId} (${fields.join(', ')})`);
    return field.slice(0, -(w.connId.length + 1));
  }

  /** Connections per node (every node listed, 0 included). */
  async function spread(c: Cluster, clients: ChatClient[]): Promise<Record<string, number>> {
    const out = Object.fromEntries(c.nodes.map((n) => [n.name, 0]));
    for (const cl of clients) out[await nodeOf(cl)]! += 1;
    return out;
  }

  /** Opens `n` connections one at a time, user i for the i-th. */
  async function connectMany(c: Cluster, n: number): Promise<ChatClient[]> {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await client(c, users[i % users.length]!));
    return out;
  }

  /** Closes what the test opened and waits until no node holds a connection, so the next test starts even. */
  async function closeAll(c: Cluster): Promise<void> {
    for (const o of open) o.close();
    open = [];
    await until(
      async () => {
        const counts = await Promise.all(
          c.nodes.map(async (n) => {
            const res = await fetch(`${n.url}/readyz`, { signal: AbortSignal.timeout(2000) });
            return ((await res.json()) as { connections: number }).connections;
          }),
        );
        return counts.every((k) => k === 0);
      },
      10_000,
      'every node to see its connections closed',
    );
  }

  /** Which node the load balancer sends a request to now (`/readyz` names the node that answered). */
  async function routedTo(c: Cluster, query = ''): Promise<string> {
    const res = await fetch(`${c.url}/readyz${query}`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { node?: string };
    return res.ok && body.node ? body.node : `status ${res.status}`;
  }

  let deliveryRuns = 0;
  /** A short send stream through the current load balancer: every acked message reaches every member once, in order. */
  async function deliveryHolds(c: Cluster, title: string): Promise<void> {
    const traffic = new Traffic(c.url);
    await traffic.setup({ users: 4, rooms: 1, tag: `lbd${++deliveryRuns}-` });
    traffic.start({ senders: 2, intervalMs: 30 });
    await sleep(1200);
    await traffic.stop();
    await traffic.drain();
    const members = await spread(
      c,
      traffic.members.map((m) => m.client),
    );
    const figures = await traffic.verify(new ChatApi(c.url, traffic.members[0]!.token));
    traffic.close();
    report(`delivery under ${title}`, figures, { 'members per node': JSON.stringify(members) });
  }

  const max = (r: Record<string, number>) => Math.max(...Object.values(r));
  const min = (r: Record<string, number>) => Math.min(...Object.values(r));

  for (const kind of BALANCERS) {
    describe(kind, () => {
      it(`${kind} roundrobin: new connections take the nodes in turn (an even spread); delivery holds`, async () => {
        const c = cluster();
        await c.useBalancer({ balancer: kind, balance: 'roundrobin' });
        const clients = await connectMany(c, 12);
        const counts = await spread(c, clients);
        expect(max(counts) - min(counts), JSON.stringify(counts)).toBeLessThanOrEqual(1);
        // Blind to live connections: empty one node, and the next three still go one to each node (leastconn
        // would send all three to the empty one).
        const emptied = c.nodes[0]!.name;
        for (const cl of clients) if ((await nodeOf(cl)) === emptied) cl.close();
        const next = [];
        for (let i = 0; i < 3; i++) next.push(await client(c, users[12 + i]!));
        const nextCounts = await spread(c, next);
        expect(max(nextCounts), `after emptying ${emptied}: ${JSON.stringify(nextCounts)}`).toBe(1);
        process.stdout.write(
          `== ${kind} roundrobin: 12 connections went ${JSON.stringify(counts)}; with ${emptied} emptied the ` +
            `next 3 went ${JSON.stringify(nextCounts)}\n`,
        );
        await closeAll(c);
        await deliveryHolds(c, `${kind} roundrobin`);
        await closeAll(c);
      }, 60_000);

      it(`${kind} random(2): every node gets connections and the spread stays bounded; delivery holds`, async () => {
        const c = cluster();
        await c.useBalancer({ balancer: kind, balance: 'random' });
        const counts = await spread(c, await connectMany(c, 18));
        // Two random draws, the less loaded wins: a node falls behind only while it is left out of the draw
        // again and again ((1/3)^k). Pure random would leave one node 5+ behind about half the time.
        expect(min(counts), JSON.stringify(counts)).toBeGreaterThan(0);
        expect(max(counts) - min(counts), JSON.stringify(counts)).toBeLessThanOrEqual(5);
        process.stdout.write(`== ${kind} random(2): 18 connections went ${JSON.stringify(counts)}\n`);
        await closeAll(c);
        await deliveryHolds(c, `${kind} random`);
        await closeAll(c);
      }, 60_000);

      it(`${kind} weighted: open connections settle in proportion to the weights; delivery holds`, async () => {
        const c = cluster();
        const weights = [1, 2, 3];
        await c.useBalancer({ balancer: kind, balance: 'weighted', weights });
        const n = 18;
        const counts = await spread(c, await connectMany(c, n));
        const total = weights.reduce((a, b) => a + b, 0);
        c.nodes.forEach((node, i) => {
          expect(
            counts[node.name],
            `${node.name} (weight ${weights[i]}): ${JSON.stringify(counts)}`,
          ).toBeGreaterThanOrEqual((n * weights[i]!) / total - 1);
          expect(counts[node.name]).toBeLessThanOrEqual((n * weights[i]!) / total + 1);
        });
        process.stdout.write(`== ${kind} weighted 1:2:3: ${n} connections went ${JSON.stringify(counts)}\n`);
        await closeAll(c);
        await deliveryHolds(c, `${kind} weighted 1:2:3`);
        await closeAll(c);
      }, 60_000);

      it(`${kind} leastconn: a node that restarts is refilled first; delivery holds`, async () => {
        const c = cluster();
        await c.useBalancer({ balancer: kind, balance: 'leastconn' });
        const clients = await connectMany(c, 9);
        const before = await spread(c, clients);
        expect(max(before) - min(before), JSON.stringify(before)).toBeLessThanOrEqual(1);

        const victim = c.nodes[1]!;
        const orphans: ChatClient[] = [];
        for (const cl of clients) if ((await nodeOf(cl)) === victim.name) orphans.push(cl);
        const killedAt = Date.now();
        victim.kill('SIGKILL');
        await victim.exited();
        // Its clients reconnect (through the load balancer) to the two others.
        await until(
          () => orphans.every((cl) => cl.state === 'open' && cl.stats.reconnects > 0),
          15_000,
          'the victim’s clients to reconnect',
        );
        await victim.start();
        // Once the load balancer uses it again, an idle node is where leastconn sends the next request.
        await until(async () => (await routedTo(c)) === victim.name, 20_000, `${kind} to route to ${victim.name}`);
        const after = await spread(c, clients);
        expect(after[victim.name]).toBe(0);
        const others = c.nodes.filter((n) => n !== victim).map((n) => after[n.name]!);
        const fresh = [];
        for (let i = 0; i < Math.min(...others); i++) fresh.push(await client(c, users[10 + i]!));
        const refill = await spread(c, fresh);
        expect(refill[victim.name], `new connections after the restart: ${JSON.stringify(refill)}`).toBe(fresh.length);
        process.stdout.write(
          `== ${kind} leastconn: before ${JSON.stringify(before)}, after ${victim.name} restarted ` +
            `${JSON.stringify(after)} (${((Date.now() - killedAt) / 1000).toFixed(1)} s), the next ` +
            `${fresh.length} went ${JSON.stringify(refill)}\n`,
        );
        await closeAll(c);
        await deliveryHolds(c, `${kind} leastconn`);
        await closeAll(c);
      }, 90_000);

      it(`${kind} hash: a user's connections share one node while it is up, move together when it is down and come back; ${kind === 'haproxy' ? 'bounded load caps a node' : 'no bounded load'}; delivery holds`, async () => {
        const c = cluster();
        await c.useBalancer({ balancer: kind, balance: 'hash' });
        // Background load without `?u=` (round robin), so HAProxy's bound (1.5 x average) leaves room for a few
        // users' connections on one node even if they all hash there.
        for (let i = 0; i < 36; i++) await rawSocket(c, users[17 + (i % 3)]!);
        const hashed = users.slice(0, 4);
        const byUser = new Map<string, ChatClient[]>();
        for (let round = 0; round < 2; round++) {
          for (const u of hashed) {
            const cl = await client(c, u);
            byUser.set(u.user.id, [...(byUser.get(u.user.id) ?? []), cl]);
          }
        }
        const home = new Map<string, string>();
        for (const u of hashed) {
          const nodes = await Promise.all(byUser.get(u.user.id)!.map(nodeOf));
          expect(new Set(nodes).size, `${u.user.username}'s connections: ${nodes.join(', ')}`).toBe(1);
          home.set(u.user.id, nodes[0]!);
        }
        // A reconnect (a new connection of the same user) lands on the same node.
        for (const u of hashed) {
          const [first, second] = byUser.get(u.user.id)!;
          first!.close();
          const again = await client(c, u);
          byUser.set(u.user.id, [second!, again]);
          expect(await nodeOf(again), `${u.user.username} reconnected`).toBe(home.get(u.user.id));
        }

        // The home node of the first user dies: that user's connections move, together, to one other node.
        const a = hashed[0]!;
        const aClients = byUser.get(a.user.id)!;
        const victim = c.nodes.find((n) => n.name === home.get(a.user.id))!;
        victim.kill('SIGKILL');
        await victim.exited();
        await until(
          () => aClients.every((cl) => cl.state === 'open' && cl.stats.reconnects > 0),
          15_000,
          `${a.user.username}'s clients to reconnect`,
        );
        const moved = await Promise.all(aClients.map(nodeOf));
        expect(moved[0], 'moved off the dead node').not.toBe(victim.name);
        expect(moved[1], `moved together: ${moved.join(', ')}`).toBe(moved[0]);
        // It comes back: the load balancer routes the user there again, and a new connection lands there.
        await victim.start();
        await until(
          async () => (await routedTo(c, `?u=${a.user.id}`)) === victim.name,
          20_000,
          `${kind} to route ${a.user.username} home to ${victim.name} again`,
        );
        expect(await nodeOf(await client(c, a)), 'back home').toBe(victim.name);
        await closeAll(c);

        // One user with many connections: HAProxy's bounded load spreads them past 1.5 x the average; nginx has
        // no bound, so they all stay on the user's node.
        const heavy = users[5]!;
        const n = 15;
        const many = [];
        for (let i = 0; i < n; i++) many.push(await client(c, heavy));
        const counts = await spread(c, many);
        if (kind === 'haproxy') {
          expect(max(counts), `bounded: ${JSON.stringify(counts)}`).toBeLessThanOrEqual(
            Math.ceil((BALANCE_FACTOR * n) / c.nodes.length) + 1,
          );
          expect(min(counts), `only past the bound: ${JSON.stringify(counts)}`).toBeLessThan(n / c.nodes.length);
        } else {
          expect(max(counts), `unbounded: ${JSON.stringify(counts)}`).toBe(n);
        }
        process.stdout.write(`== ${kind} hash: ${n} connections of one user went ${JSON.stringify(counts)}\n`);
        await closeAll(c);
        await deliveryHolds(c, `${kind} hash`);
        await closeAll(c);
      }, 120_000);
    });
  }
});

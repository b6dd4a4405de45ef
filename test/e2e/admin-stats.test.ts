import { describe, expect, it } from 'vitest';
import type { AdminStats } from '../../src/protocol/model.js';
import { backend, connect, registerUser, startServer, waitFor } from '../helpers/harness.js';

const TOKEN = 'metrics-token-for-tests-0123456789';

async function get(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/api/v1/admin/stats`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

/** One sample's value from Prometheus text. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no sample ${name}`);
  return Number(line.slice(name.length + 1));
}

describe('GET /api/v1/admin/stats', () => {
  it('is for server admins: 401 without a session, 403 for others', async () => {
    const srv = await startServer();
    const admin = await registerUser(srv.url); // the first account is the server admin
    const user = await registerUser(srv.url);
    const anon = await get(srv.url);
    expect(anon.status).toBe(401);
    expect((anon.body as { error: { code: string } }).error.code).toBe('unauthorized');
    const bad = await get(srv.url, 'no-such-session-token');
    expect(bad.status).toBe(401);
    const other = await get(srv.url, user.token);
    expect(other.status).toBe(403);
    expect((other.body as { error: { code: string } }).error.code).toBe('forbidden');
    expect((await get(srv.url, admin.token)).status).toBe(200);
  });

  it('reports this node: online users, connections, messages per second, delivery latency, event loop', async () => {
    const srv = await startServer({ metricsToken: TOKEN });
    const admin = await registerUser(srv.url); // the first account is the server admin
    const bob = await registerUser(srv.url);
    const read = async () => {
      const r = await get(srv.url, admin.token);
      expect(r.status).toBe(200);
      return r.body as AdminStats;
    };
    const scrape = async () =>
      (await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();

    const before = await read();
    expect(before.node.id).toBe(srv.server.nodeId);
    expect(before.node.uptimeSec).toBeGreaterThanOrEqual(0);
    expect(Date.parse(before.node.startedAt)).toBeLessThanOrEqual(Date.parse(before.sampledAt));
    expect(before.onlineUsers).toBe(0);
    expect(before.connections).toBe(0);
    expect(before.messages.stored).toBe(0);
    expect(before.messages.perSecond).toEqual({ last10s: 0, last60s: 0 });
    expect(before.deliveryLatencyMs.last10s).toEqual({ samples: 0, p50: null, p99: null });
    for (const w of ['last10s', 'last60s'] as const) {
      expect(before.eventLoop.utilization[w]).toBeGreaterThanOrEqual(0);
      expect(before.eventLoop.utilization[w]).toBeLessThanOrEqual(1);
      expect(before.eventLoop.delayP99Ms[w]).toBeGreaterThanOrEqual(0);
    }

    const a = await connect(srv.url, admin.token);
    await connect(srv.url, bob.token);
    const N = 20;
    const latencyCountBefore = sample(await scrape(), 'relaychat_delivery_latency_seconds_count');
    for (let i = 0; i < N; i++) await a.send('lobby', `hello ${i}`);
    let after!: AdminStats;
    await waitFor(async () => {
      after = await read();
      return after.deliveries.total - before.deliveries.total >= 2 * N;
    });
    expect(after.onlineUsers).toBe(2);
    expect(after.connections).toBe(2);
    expect(after.websockets).toBe(2);
    expect(after.messages.stored).toBe(N);
    // N messages stored within the last few seconds: the 10 s rate covers all of them (the window is shorter
    // only if the server is younger than 10 s, which makes the rate higher, not lower).
    expect(after.messages.perSecond.last10s).toBeGreaterThanOrEqual(N / 10);
    expect(after.messages.perSecond.last60s).toBeGreaterThan(0);
    expect(after.deliveries.perSecond.last10s).toBeGreaterThanOrEqual((2 * N) / 10);
    // One latency sample per event, not per recipient: two connections, N samples.
    const lat = after.deliveryLatencyMs.last10s;
    expect(lat.samples).toBe(N);
    expect(lat.p50).not.toBeNull();
    expect(lat.p99!).toBeGreaterThanOrEqual(lat.p50!);
    expect(lat.p99!).toBeLessThan(10_000);
    expect(after.deliveryLatencyMs.last60s.samples).toBe(N);
    // The same histogram is what Prometheus scrapes.
    const text = await scrape();
    expect(sample(text, 'relaychat_delivery_latency_seconds_count') - latencyCountBefore).toBe(N);
    expect(text).toContain('relaychat_delivery_latency_seconds_bucket{le="0.001"}');
    // The node list: this node, with the same figures.
    expect(after.nodes?.map((n) => n.id)).toEqual([srv.server.nodeId]);
    expect(after.nodes![0]).toMatchObject({ connections: 2, messagesPerSecond: after.messages.perSecond.last10s });
  });

  it.runIf(backend === 'cluster')('in a cluster, lists every node with its own figures', async () => {
    const one = await startServer({ nodeId: 'node-one' });
    // A second node of the same deployment: same database, same Redis prefix.
    const two = await startServer({
      nodeId: 'node-two',
      databaseUrl: one.config.databaseUrl,
      redisPrefix: one.config.redisPrefix,
    });
    const admin = await registerUser(one.url);
    const users = [await registerUser(two.url), await registerUser(two.url)];
    await connect(one.url, admin.token);
    for (const u of users) await connect(two.url, u.token);
    let stats!: AdminStats;
    await waitFor(
      async () => {
        stats = (await get(one.url, admin.token)).body as AdminStats;
        return stats.nodes?.find((n) => n.id === 'node-two')?.connections === 2;
      },
      10_000,
      'node-two to post its two connections',
    );
    expect(stats.node.id).toBe('node-one');
    expect(stats.node.clustered).toBe(true);
    expect(stats.connections).toBe(1);
    expect(stats.onlineUsers).toBe(3); // cluster-wide
    expect(stats.nodes!.map((n) => [n.id, n.connections])).toEqual([
      ['node-one', 1],
      ['node-two', 2],
    ]);
    // A node that shuts down leaves the list at once.
    await two.stop();
    stats = (await get(one.url, admin.token)).body as AdminStats;
    expect(stats.nodes!.map((n) => n.id)).toEqual(['node-one']);
  });
});

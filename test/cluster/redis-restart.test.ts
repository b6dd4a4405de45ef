import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { connectionsPerNode, report, sleep, Traffic, until, useCluster } from './fixture.js';

describe('cluster: Redis restarts', () => {
  const cluster = useCluster();

  it('fan-out resumes by itself, and nothing acknowledged is lost', async () => {
    const c = cluster();
    const traffic = new Traffic(c.url);
    await traffic.setup({ users: 9, rooms: 2, tag: 'redis' });
    const spread = await connectionsPerNode(c);
    expect(
      Object.values(spread).every((n) => n > 0),
      `clients on every node: ${JSON.stringify(spread)}`,
    ).toBe(true);

    traffic.start({ senders: 6, intervalMs: 40 });
    await sleep(2000);
    const stoppedAt = Date.now();
    // Redis runs without persistence: it comes back empty, as after a crash.
    await c.redis.stop();
    await sleep(1500);
    // The last sends happen while Redis is down, and nothing is sent after it returns: only the recovery path
    // (resync from the store when the bus reconnects, republishing what could not be published) can deliver them
    // to the members on other nodes.
    await traffic.stop();
    const ackedDuringOutage = [...traffic.acks.values()].filter((a) => a.at > stoppedAt).length;
    const targets = traffic.maxAcked();
    const missingBefore = traffic.members.filter((m) => !traffic.caughtUp(targets, [m])).length;
    await c.redis.start();
    const backAt = Date.now();
    await until(() => traffic.caughtUp(targets), 20_000, 'every member to get every message acknowledged so far');
    const recoveredAt = Date.now();
    // And live fan-out across nodes works again: a message sent now reaches everyone.
    const probe = await traffic.members[0]!.client.send(traffic.rooms[0]!, 'after the restart', 'probe-after');
    traffic.sent++;
    traffic.acks.set('probe-after', { roomId: traffic.rooms[0]!, seq: probe.seq, sender: 'probe', at: Date.now() });
    const probeSentAt = Date.now();
    await until(
      () => traffic.caughtUp(new Map([[traffic.rooms[0]!, probe.seq]])),
      10_000,
      'the probe to reach every member',
    );
    const probeMs = Date.now() - probeSentAt;

    await traffic.drain();
    // /readyz failed on every node while Redis was away, so the load balancer took them all out (open
    // WebSockets stayed); it puts them back after two good checks.
    await until(
      async () => Object.values(await c.haproxy.serverStates()).every((s) => s === 'UP'),
      15_000,
      'the load balancer to mark every node up again',
    );
    const lbBackAt = Date.now();
    const figures = await traffic.verify(new ChatApi(c.url, traffic.members[0]!.token));
    traffic.close();
    report('Redis stopped for 1.5 s and restarted empty', figures, {
      'clients per node': JSON.stringify(spread),
      'messages acked while Redis was down (stored; fanned out on their own node only)': ackedDuringOutage,
      'members missing some of them when Redis came back': `${missingBefore} of ${traffic.members.length}`,
      'recovery: every member had every acked message after Redis was back (s)': (
        (recoveredAt - backAt) /
        1000
      ).toFixed(2),
      'then a new message reached every member in (ms)': probeMs,
      'load balancer had every node up again after (s)': ((lbBackAt - backAt) / 1000).toFixed(2),
    });
    expect(missingBefore).toBeGreaterThan(0);
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { ChatApi, type ApiError } from '../../src/client/api.js';
import { ChatClient, type ChatClientOptions } from '../../src/client/chat-client.js';
import { WebSocket } from 'ws';
import { connectionsPerNode, report, sleep, Traffic, until, useCluster } from './fixture.js';

const OUTAGE_MS = 10_000;
/**
 * Bound on each wait below: a hang detector, not a speed requirement. During the outage Redis stays down until the
 * waits end (the outage only lasts at least OUTAGE_MS); after it, each wait is for something the recovery must do.
 */
const HANG_MS = 60_000;

/** Each running node's /readyz: HTTP status and the `degraded` list of its body. */
async function readiness(nodes: { name: string; url: string }[]) {
  const out: Record<string, { status: number; degraded: string[] }> = {};
  for (const n of nodes) {
    const res = await fetch(`${n.url}/readyz`, { signal: AbortSignal.timeout(3000) });
    out[n.name] = { status: res.status, degraded: ((await res.json()) as { degraded?: string[] }).degraded ?? [] };
  }
  return out;
}

/** A login attempt's HTTP status (401 wrong password, 429 locked out). */
async function loginStatus(url: string, username: string, password: string): Promise<number> {
  try {
    await new ChatApi(url).login(username, password);
    return 200;
  } catch (err) {
    return (err as ApiError).status;
  }
}

describe('cluster: Redis outage', () => {
  const cluster = useCluster();

  it('a degraded mode: nodes keep serving, limits hold per node, and every client catches up when Redis returns', async () => {
    const c = cluster();
    const [node1, node2, node3] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0], (typeof c.nodes)[0]];
    const traffic = new Traffic(c.url);
    await traffic.setup({ users: 9, rooms: 2, tag: 'redis' });
    const spread = await connectionsPerNode(c);
    expect(
      Object.values(spread).every((n) => n > 0),
      `clients on every node: ${JSON.stringify(spread)}`,
    ).toBe(true);
    const lb = new ChatApi(c.url);
    // Pinned to node1: joins a room during the outage through node2, so node2's room.added cannot reach it.
    const joinerAccount = await lb.register(`joiner${process.pid}`, 'correct horse battery');
    const joiner = await traffic.addMember({
      name: joinerAccount.user.username,
      token: joinerAccount.token,
      userId: joinerAccount.user.id,
      url: node1.url,
      rooms: [],
    });
    // Pinned to node1 too: logs out through node2 during the outage, so the bus's revocation is lost.
    const leaverAccount = await lb.register(`leaver${process.pid}`, 'correct horse battery');
    const leaverCloses: number[] = [];
    const leaver = new ChatClient({
      url: node1.url,
      token: leaverAccount.token,
      WebSocket: WebSocket as unknown as ChatClientOptions['WebSocket'],
      backoff: { minMs: 50, maxMs: 500 },
    });
    leaver.on('disconnect', (d) => leaverCloses.push(d.code));
    await leaver.connect();
    const victim = `victim${process.pid}`;
    await lb.register(victim, 'correct horse battery');

    // Presence frames naming the joiner online that arrive after Redis returns (each node re-announces its users).
    let returnedAt = Number.POSITIVE_INFINITY;
    const announced = new Set<string>();
    for (const m of traffic.members.slice(0, 9)) {
      m.client.on('presence', (f) => {
        const online = f.changes.some((ch) => ch.userId === joinerAccount.user.id && ch.status === 'online');
        if (online && Date.now() >= returnedAt) announced.add(m.name);
      });
    }
    const presenceVia = async (url: string) =>
      (await new ChatApi(url, joinerAccount.token).user(joinerAccount.user.id)).presence;

    traffic.start({ senders: 6, intervalMs: 40 });
    await sleep(2000);
    const stoppedAt = Date.now();
    // Redis runs without persistence: it comes back empty, as after a crash.
    await c.redis.stop();

    // Every node stays ready, saying it is degraded, so the load balancer keeps them all.
    await until(
      async () => Object.values(await readiness(c.nodes)).every((r) => r.status === 200 && r.degraded[0] === 'redis'),
      HANG_MS,
      'every node to report degraded: ["redis"] with 200',
    );
    const ready = await readiness(c.nodes);

    // A new user registers, connects and sends through the load balancer, and is served.
    const newcomerAccount = await lb.register(`newcomer${process.pid}`, 'correct horse battery');
    await new ChatApi(c.url, newcomerAccount.token).join(traffic.rooms[1]!);
    const newcomer = await traffic.addMember({
      name: newcomerAccount.user.username,
      token: newcomerAccount.token,
      userId: newcomerAccount.user.id,
      rooms: [traffic.rooms[1]!],
    });
    const newAck = await newcomer.client.send(traffic.rooms[1]!, 'hello from the outage', 'newcomer-1');
    traffic.sent++;
    traffic.acks.set('newcomer-1', { roomId: traffic.rooms[1]!, seq: newAck.seq, sender: 'newcomer', at: Date.now() });

    // The joiner (on node1) joins through node2: node1 learns it from the store and attaches the room.
    joiner.rooms.add(traffic.rooms[0]!);
    await new ChatApi(node2.url, joinerAccount.token).join(traffic.rooms[0]!);
    const joinedAt = Date.now();
    await until(
      () => joiner.added.includes(traffic.rooms[0]!),
      HANG_MS,
      'the joiner to get room.added during the outage',
    );
    const addedAfterMs = Date.now() - joinedAt;

    // Presence is per node now: the joiner is online on its own node, offline as seen from another.
    const presenceDuring = { node1: await presenceVia(node1.url), node2: await presenceVia(node2.url) };

    // The leaver's session ends through node2; the revocation cannot cross the bus now.
    await new ChatApi(node2.url, leaverAccount.token).logout();

    // Login lockout, per node: LOGIN_LOCKOUT_FAILURES (5) wrong passwords on one node lock the name there.
    const direct: number[] = [];
    for (let i = 0; i < 6; i++) direct.push(await loginStatus(node3.url, victim, 'wrong password'));
    // Through the load balancer a flood is locked out too, after at most 3 nodes x 5 failures.
    const flood: number[] = [];
    for (let i = 0; i < 16 && flood.at(-1) !== 429; i++) {
      flood.push(await loginStatus(c.url, `flood${process.pid}`, 'wrong password'));
    }

    // Messages from other nodes still arrive during the outage (read from the store, BUS_OUTAGE_POLL_MS).
    const duringTargets = traffic.maxAcked();
    const duringFrom = Date.now();
    await until(
      () => traffic.caughtUp(duringTargets),
      HANG_MS,
      'every member to get, during the outage, what was acked',
    );
    const duringMs = Date.now() - duringFrom;

    await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
    const lbStates = await c.haproxy.serverStates();
    const ackedDuringOutage = [...traffic.acks.values()].filter((a) => a.at > stoppedAt).length;
    const targetsAtReturn = traffic.maxAcked();
    const missingAtReturn = traffic.members.filter((m) => !traffic.caughtUp(targetsAtReturn, [m])).length;
    await c.redis.start();
    const backAt = Date.now();
    returnedAt = backAt;
    // Recovery: every member gets everything acknowledged so far (report() below then checks that no acknowledged
    // message was lost, doubled or misordered, and the store holds each at its acked seq).
    await until(() => traffic.caughtUp(traffic.maxAcked()), HANG_MS, 'every member to catch up after Redis is back');
    const recoveredMs = Date.now() - backAt;
    // The revocation lost on the bus takes effect at the recovery's session re-check.
    await until(() => leaverCloses.includes(4003), HANG_MS, 'the logged-out socket to close with 4003');
    const revokedMs = Date.now() - backAt;
    await until(
      () => announced.size === 9,
      HANG_MS,
      'every member to be told the joiner is online after Redis is back',
    );
    const announcedMs = Date.now() - backAt;
    await until(
      async () => (await presenceVia(node2.url)) === 'online',
      HANG_MS,
      'the joiner online as seen from another node again',
    );
    await until(
      async () => Object.values(await readiness(c.nodes)).every((r) => r.degraded.length === 0),
      HANG_MS,
      'every node to report nothing degraded',
    );

    // Live fan-out across nodes again: a message sent now reaches everyone.
    const probe = await traffic.members[0]!.client.send(traffic.rooms[0]!, 'after the outage', 'probe-after');
    traffic.sent++;
    traffic.acks.set('probe-after', { roomId: traffic.rooms[0]!, seq: probe.seq, sender: 'probe', at: Date.now() });
    const probeSentAt = Date.now();
    await until(
      () => traffic.caughtUp(new Map([[traffic.rooms[0]!, probe.seq]])),
      HANG_MS,
      'the probe to reach every member',
    );
    const probeMs = Date.now() - probeSentAt;

    await traffic.stop();
    await traffic.drain();
    const figures = await traffic.verify(new ChatApi(c.url, traffic.members[0]!.token));
    traffic.close();
    leaver.close();
    report('Redis stopped for 10 s under send load, restarted empty', figures, {
      'clients per node': JSON.stringify(spread),
      '/readyz during the outage': JSON.stringify(ready),
      'load balancer states at the end of the outage': JSON.stringify(lbStates),
      'messages acked while Redis was down': ackedDuringOutage,
      'room.added reached the joiner (on another node) during the outage after (ms)': addedAfterMs,
      'during the outage, every member had what was acked after (ms)': duringMs,
      'login attempts on one node (wrong password)': direct.join(' '),
      'login flood through the load balancer': flood.join(' '),
      'members missing something when Redis came back': `${missingAtReturn} of ${traffic.members.length}`,
      'recovery: every member had every acked message after Redis was back (ms)': recoveredMs,
      'a session revoked during the outage was closed after Redis was back (ms)': revokedMs,
      'presence of a node1 user during the outage, via node1 / node2': `${presenceDuring.node1} / ${presenceDuring.node2}`,
      'every member told that user is online after Redis was back (ms)': announcedMs,
      'then a new message reached every member in (ms)': probeMs,
    });
    expect(Object.values(ready)).toEqual(c.nodes.map(() => ({ status: 200, degraded: ['redis'] })));
    expect(Object.values(lbStates)).toEqual(c.nodes.map(() => 'UP'));
    expect(ackedDuringOutage).toBeGreaterThan(0);
    expect(direct).toEqual([401, 401, 401, 401, 401, 429]);
    expect(flood.at(-1)).toBe(429);
    // Nobody was disconnected by the outage, and nothing reached a client twice.
    expect(figures.reconnects).toBe(0);
    expect(figures.sdkDuplicatesDropped).toBe(0);
    expect(joiner.added).toEqual([traffic.rooms[0]]);
    expect(presenceDuring).toEqual({ node1: 'online', node2: 'offline' });
  }, 600_000);
});

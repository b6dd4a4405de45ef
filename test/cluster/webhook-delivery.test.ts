import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import type { WebhookSubscription } from '../../src/protocol/model.js';
import { webhookReceiver } from '../helpers/webhook-receiver.js';
import { until, useCluster } from './fixture.js';

/**
 * Outgoing webhooks in the cluster (issue 16): three nodes deliver from the same PostgreSQL queue. The node holding a
 * subscription's lease is killed with SIGKILL mid-stream; another node takes the queue over once the lease runs out.
 * Every event arrives — exactly once by idempotency key (a delivery cut off by the kill may arrive twice, with the
 * same key) — and in sequence order per subscription.
 */
describe('cluster: outgoing webhooks when a node is killed (kill -9)', () => {
  const cluster = useCluster({
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_POLL_MS: '50',
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_LEASE_MS: '2500',
    WEBHOOK_RETRY_DELAYS_SECONDS: '0.2,0.2,0.2,0.2,0.2',
  });

  it('another node resumes the killed node’s deliveries: each event once by key, in order', async () => {
    const c = cluster();
    // A slow receiver (150 ms per answer) keeps a backlog queued across the kill.
    const rxs = await Promise.all([0, 1, 2].map(() => webhookReceiver({ delayMs: () => 150 })));
    const api = new ChatApi(c.url);
    const owner = await api.register(`whkill${process.pid}`, 'correct horse battery');
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) {
      const room = await api.createRoom(`whkill-${process.pid}-${i}`);
      rooms.push(room.id);
      const res = await fetch(`${c.url}/api/v1/rooms/${room.id}/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: rxs[i]!.url, events: ['message'] }),
      });
      expect(res.status).toBe(201);
      rxs[i]!.setSecret(
        ((await res.json()) as { subscription: WebhookSubscription & { secret: string } }).subscription.secret,
      );
    }
    const sent: string[][] = [[], [], []];
    const send = async (n: number) => {
      for (let i = 0; i < 3; i++) {
        const { message } = await api.sendMessage(rooms[i]!, `m${n}`, `k${i}-${n}`);
        sent[i]!.push(message.id);
      }
    };
    for (let n = 0; n < 40; n++) await send(n);

    // The node holding a lease right now is the victim.
    const db = new pg.Client({ connectionString: c.databaseUrl });
    await db.connect();
    let owners: string[] = [];
    await until(
      async () => {
        const r = await db.query<{ lease_owner: string }>(
          'SELECT DISTINCT lease_owner FROM webhook_cursors WHERE lease_owner IS NOT NULL',
        );
        owners = r.rows.map((row) => row.lease_owner);
        return owners.length > 0 && rxs.some((rx) => rx.got.length >= 3);
      },
      20_000,
      'a node delivering',
    );
    const victim = c.nodes.find((n) => n.name === owners[0])!;
    expect(victim, `lease owner ${owners[0]} among ${c.nodes.map((n) => n.name).join(',')}`).toBeDefined();
    const beforeKill = rxs.map((rx) => rx.unique().length);
    // The kill lands with events still queued (not all delivered yet).
    expect(beforeKill.some((n, i) => n < sent[i]!.length)).toBe(true);
    victim.kill('SIGKILL');
    await victim.exited();
    // More events after the kill, through the load balancer (the survivors).
    for (let n = 40; n < 50; n++) await send(n);

    await until(() => rxs.every((rx, i) => rx.unique().length >= sent[i]!.length), 60_000, 'every event delivered');
    await db.end();
    for (let i = 0; i < 3; i++) {
      expect(rxs[i]!.unique().map((r) => r.key)).toEqual(sent[i]);
      expect(rxs[i]!.got.every((r) => r.verified)).toBe(true);
      // Arrivals in order too: a repeat (the cut-off delivery sent again) is only ever of the latest key.
      const firstSeen = rxs[i]!.got.map((r) => sent[i]!.indexOf(r.key));
      for (let k = 1; k < firstSeen.length; k++) expect(firstSeen[k]!).toBeGreaterThanOrEqual(firstSeen[k - 1]!);
    }
    process.stdout.write(
      `webhooks kill -9: victim ${victim.name} (held ${owners.join(',')}); unique before kill ${beforeKill.join('/')}; ` +
        `repeats ${rxs.map((rx) => rx.got.length - rx.unique().length).join('/')}\n`,
    );
  }, 120_000);
});

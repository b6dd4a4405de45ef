import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatApi, type ApiError } from '../../src/client/api.js';
import { connectionsPerNode, report, sleep, Traffic, until, useCluster } from './fixture.js';

describe('cluster: PostgreSQL restarts', () => {
  const cluster = useCluster();

  // immediate: a crash (the restart runs WAL recovery); fast: an orderly restart, as for an upgrade.
  it.each(['immediate', 'fast'] as const)(
    '%s stop: sends during the outage get a retryable error, never a false ack; the outboxes succeed after; nothing is lost',
    async (mode) => {
      const c = cluster();
      const traffic = new Traffic(c.url);
      await traffic.setup({ users: 9, rooms: 2, tag: `pg${mode[0]}` });
      const spread = await connectionsPerNode(c);
      expect(
        Object.values(spread).every((n) => n > 0),
        `clients on every node: ${JSON.stringify(spread)}`,
      ).toBe(true);
      const node = c.nodes[0]!;
      const probeUser = traffic.members[0]!;

      // A raw socket straight to a node, to read the exact answer to a send during the outage.
      const raw = new WebSocket(`${node.url.replace('http', 'ws')}/ws`, { origin: new URL(node.url).origin });
      const rawFrames: Record<string, unknown>[] = [];
      raw.on('message', (d) => {
        const parsed = JSON.parse(String(d)) as Record<string, unknown> | Record<string, unknown>[];
        rawFrames.push(...(Array.isArray(parsed) ? parsed : [parsed]));
      });
      raw.on('error', () => {});
      await new Promise((r) => raw.once('open', r));
      raw.send(JSON.stringify({ type: 'hello', v: 1, token: probeUser.token }));
      await until(() => rawFrames.some((f) => f.type === 'welcome'), 10_000, 'raw socket welcome');

      // How long each client waits before re-sending after the store refused a send: what decides how soon after the
      // store's return the outboxes drain (the SDK caps a wait without a server hint at 5 s, jittered).
      const retryWaits: number[] = [];
      for (const m of traffic.members) {
        m.client.on('send.delayed', (d) => {
          if (d.code === 'unavailable') retryWaits.push(d.retryAfterMs);
        });
      }

      traffic.start({ senders: 6, intervalMs: 40 });
      await sleep(2000);
      const downAt = Date.now();
      await c.pg.stop({ mode });

      // Over WebSocket and over HTTP, a send now is refused as retryable: `unavailable`, never acknowledged. The raw
      // socket is still open: a catch-up read that fails meanwhile is retried, not a reason to close.
      let wsAnswer: Record<string, unknown> | undefined;
      let httpError: ApiError | undefined;
      let pendingDuringOutage: number;
      try {
        expect(raw.readyState, 'raw socket still open').toBe(WebSocket.OPEN);
        raw.send(JSON.stringify({ type: 'send', roomId: traffic.rooms[0], clientMsgId: 'during-outage', body: 'x' }));
        await until(
          () => rawFrames.some((f) => f.clientMsgId === 'during-outage'),
          10_000,
          'an answer to the send during the outage',
        );
        wsAnswer = rawFrames.find((f) => f.clientMsgId === 'during-outage')!;
        try {
          await new ChatApi(node.url, probeUser.token).sendMessage(traffic.rooms[0]!, 'y', 'during-outage-http');
        } catch (err) {
          httpError = err as ApiError;
        }
        await sleep(1500);
        pendingDuringOutage = traffic.members.reduce((n, m) => n + m.client.pending.length, 0);
      } finally {
        await c.pg.start(); // also when an assertion above failed: the next test needs it
      }
      const backAt = Date.now();
      const outageMs = backAt - downAt;

      // The sends waiting in outboxes when PostgreSQL is back (the senders keep sending: later ones come and go).
      const waiting = traffic.members.flatMap((m) => m.client.pending.map((p) => p.clientMsgId));
      await until(
        () => waiting.every((id) => traffic.acks.has(id)),
        30_000,
        `the ${waiting.length} sends waiting in outboxes to be acknowledged`,
      );
      const outboxesEmptyAt = Date.now();
      const lastErrorAt = Math.max(...traffic.members.map((m) => m.lastErrorAt));
      const targets = traffic.maxAcked();
      await until(() => traffic.caughtUp(targets), 30_000, 'every member to catch up');
      const recoveredAt = Date.now();

      await sleep(1500);
      await traffic.stop();
      await traffic.drain();
      const api = new ChatApi(c.url, probeUser.token);
      const figures = await traffic.verify(api);
      traffic.close();
      raw.terminate();

      report(`PostgreSQL stopped (${mode}) and restarted under send load`, figures, {
        'clients per node': JSON.stringify(spread),
        'outage (s)': (outageMs / 1000).toFixed(2),
        'WebSocket answer to a send during the outage': JSON.stringify({
          type: wsAnswer.type,
          code: wsAnswer.code,
          retryable: wsAnswer.retryable,
        }),
        'HTTP answer to a send during the outage': httpError
          ? `${httpError.status} ${httpError.code} retryable=${httpError.retryable}`
          : 'none',
        'sends waiting in outboxes during the outage': pendingDuringOutage,
        'last error frame a client got, after PostgreSQL was back (s)': ((lastErrorAt - backAt) / 1000).toFixed(2),
        'sends waiting when PostgreSQL was back': waiting.length,
        'they were all acknowledged after (s)': ((outboxesEmptyAt - backAt) / 1000).toFixed(2),
        'recovery: every member caught up after PostgreSQL was back (s)': ((recoveredAt - backAt) / 1000).toFixed(2),
        'retries after a retryable send error; longest wait (ms)': `${retryWaits.length}; ${Math.max(0, ...retryWaits)}`,
      });
      expect(wsAnswer).toMatchObject({ type: 'error', code: 'unavailable', retryable: true });
      expect(httpError).toMatchObject({ status: 503, code: 'unavailable', retryable: true });
      // Neither refused send was stored.
      const history = [
        ...(await api.events(traffic.rooms[0]!, { after: 0, limit: 200 })),
        ...(await api.messages(traffic.rooms[0]!, { limit: 200 })),
      ];
      expect(history.some((e) => e.clientMsgId === 'during-outage' || e.clientMsgId === 'during-outage-http')).toBe(
        false,
      );
      expect(pendingDuringOutage).toBeGreaterThan(0);
      // Soon after the return without timing it: no client was told (or chose) to wait more than 5 s before a retry,
      // and every member caught up (the wait above; its bound only detects a hang).
      expect(retryWaits.length, 'sends were refused and retried during the outage').toBeGreaterThan(0);
      expect(Math.max(...retryWaits), 'longest wait before a retry (ms)').toBeLessThanOrEqual(5000);
      // Open sockets live through the restart (nothing in it is a reason to close them).
      expect(figures.reconnects).toBe(0);
      expect(figures.sdkDuplicatesDropped).toBe(0);
    },
    150_000,
  );
});

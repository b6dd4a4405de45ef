import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus, BusHandler, BusMessage } from '../../../src/core/bus.js';
import { topics } from '../../../src/core/bus.js';
import type { RoomEvent } from '../../../src/protocol/model.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * Two nodes' views of one bus. For an in-process bus both are the same instance; for a networked bus they
 * are two clients (two "nodes") of the same broker.
 */
export interface BusesUnderTest {
  a: Bus;
  b: Bus;
  /** Closes both nodes (tolerating an earlier close) and releases the broker resources. */
  cleanup(): Promise<void>;
}

const PROBE_ROOM = '__probe__';

/** A message only used to learn that a subscription has taken effect; recorders keep it apart. */
const probe = (nonce: string): BusMessage => ({ kind: 'typing', roomId: PROBE_ROOM, userId: 'probe', username: nonce });
const isProbe = (m: BusMessage): m is Extract<BusMessage, { kind: 'typing' }> =>
  m.kind === 'typing' && m.roomId === PROBE_ROOM;

/** A test message; `from` names the publisher so per-publisher order can be checked. */
function note(from: string, n: number): BusMessage {
  return {
    kind: 'announcement',
    announcement: {
      id: `${from}-${n}`,
      body: `message ${n} from ${from}`,
      from: {
        id: `u_${from}`,
        username: from,
        displayName: `Node ${from}`,
        statusText: '',
        role: 'admin',
        createdAt: '2024-01-01T00:00:00.000Z',
      },
      createdAt: '2024-01-01T00:00:00.000Z',
    },
  };
}

const idOf = (m: BusMessage) => (m.kind === 'announcement' ? m.announcement.id : JSON.stringify(m));

function recorder() {
  const got: BusMessage[] = [];
  const probes = new Set<string>();
  const handler: BusHandler = (m) => {
    if (isProbe(m)) probes.add(m.username);
    else got.push(m);
  };
  return {
    handler,
    got,
    probes,
    ids: () => got.map(idOf),
    has: (id: string) => got.some((m) => idOf(m) === id),
    count: (id: string) => got.filter((m) => idOf(m) === id).length,
  };
}
type Recorder = ReturnType<typeof recorder>;

let nonces = 0;
let topicCounter = 0;
const freshTopic = () => topics.room(`r_bus_${++topicCounter}_${Math.random().toString(36).slice(2, 8)}`);

/**
 * Delivery is at most once and a networked subscription may take a moment to become effective, so before a
 * test relies on delivery it publishes probes from `publisher` until every recorder has seen one.
 */
async function settle(publisher: Bus, topic: string, recorders: readonly Recorder[]): Promise<void> {
  await waitFor(
    async () => {
      const nonce = `probe-${++nonces}`;
      await publisher.publish(topic, probe(nonce));
      return waitFor(() => recorders.every((r) => r.probes.has(nonce)), { timeoutMs: 250 }).then(
        () => true,
        () => false,
      );
    },
    { timeoutMs: 10_000, intervalMs: 0, what: `subscriptions to ${topic} to take effect` },
  );
}

/**
 * The Bus conformance suite: every clause of the Bus contract in src/core/bus.ts, except loss (delivery is
 * at most once; a healthy bus in a test is expected to deliver).
 */
export function busContract(name: string, makeBuses: () => Promise<BusesUnderTest>): void {
  describe(`Bus contract: ${name}`, () => {
    let a: Bus;
    let b: Bus;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ a, b, cleanup } = await makeBuses());
    });

    afterEach(async () => {
      await cleanup();
    });

    it('delivers to subscribers on both nodes what is published on either node, intact', async () => {
      const topic = freshTopic();
      const onA = recorder();
      const onB = recorder();
      a.subscribe(topic, onA.handler);
      b.subscribe(topic, onB.handler);
      await settle(a, topic, [onA, onB]);
      await settle(b, topic, [onA, onB]);

      const event: RoomEvent = {
        id: 'e_1',
        roomId: 'r_1',
        seq: 42,
        type: 'message',
        senderId: 'u_1',
        body: 'héllo\nwörld 🎉',
        clientMsgId: 'c-1',
        data: null,
        createdAt: '2024-05-06T07:08:09.010Z',
      };
      const fromA: BusMessage = { kind: 'event', event };
      const fromB = note('b', 1);
      await a.publish(topic, fromA);
      await b.publish(topic, fromB);
      for (const r of [onA, onB]) {
        await waitFor(() => r.got.length >= 2, { what: 'both messages' });
        expect(r.got).toHaveLength(2);
        expect(r.got).toContainEqual(fromA);
        expect(r.got).toContainEqual(fromB);
      }
    });

    it("delivers every user-topic kind across nodes (read, notify, settings, …), not only the room's", async () => {
      const topic = topics.user(`u_bus_${++topicCounter}`);
      const onB = recorder();
      b.subscribe(topic, onB.handler);
      await settle(a, topic, [onB]);
      const sent: BusMessage[] = [
        { kind: 'read', userId: 'u_1', roomId: 'r_1', readSeq: 7 },
        { kind: 'notify', userId: 'u_1', roomId: 'r_1', level: 'mentions' },
        { kind: 'settings', userId: 'u_1', settings: { readReceipts: false, dndUntil: 1_900_000_000_000 } },
        {
          kind: 'invite',
          userId: 'u_1',
          roomId: 'r_1',
          roomName: 'general',
          inviter: (note('a', 0) as Extract<BusMessage, { kind: 'announcement' }>).announcement.from,
        },
        { kind: 'revoke', userId: 'u_1', sessionIds: ['s_1'] },
      ];
      for (const m of sent) await a.publish(topic, m);
      await waitFor(() => onB.got.length >= sent.length, { what: 'every user-topic message on the other node' });
      expect(onB.got).toEqual(sent);
    });

    it('preserves publish order per publisher and topic', async () => {
      const topic = freshTopic();
      const onA = recorder();
      const onB = recorder();
      a.subscribe(topic, onA.handler);
      b.subscribe(topic, onB.handler);
      await settle(a, topic, [onA, onB]);
      await settle(b, topic, [onA, onB]);

      const n = 200;
      const publishes: Promise<void>[] = [];
      // Publish without awaiting each one: order is the order of the publish calls.
      for (let i = 0; i < n; i++) {
        publishes.push(a.publish(topic, note('a', i)));
        publishes.push(b.publish(topic, note('b', i)));
      }
      await Promise.all(publishes);
      for (const r of [onA, onB]) {
        await waitFor(() => r.got.length >= 2 * n, { what: `${2 * n} messages` });
        const ids = r.ids();
        expect(ids).toHaveLength(2 * n);
        for (const from of ['a', 'b']) {
          expect(ids.filter((id) => id.startsWith(`${from}-`))).toEqual(
            Array.from({ length: n }, (_, i) => `${from}-${i}`),
          );
        }
      }
    });

    it('delivers only to subscribers of the topic (no prefix or pattern matching)', async () => {
      const topic = freshTopic();
      const longer = `${topic}0`; // shares the prefix
      const onTopic = recorder();
      const onLonger = recorder();
      b.subscribe(topic, onTopic.handler);
      b.subscribe(longer, onLonger.handler);
      await settle(a, topic, [onTopic]);
      await settle(a, longer, [onLonger]);

      await a.publish(longer, note('a', 1));
      await a.publish(topic, note('a', 2));
      await a.publish(topics.all, note('a', 3));
      await waitFor(() => onLonger.has('a-1') && onTopic.has('a-2'), { what: 'both deliveries' });
      expect(onTopic.ids()).toEqual(['a-2']);
      expect(onLonger.ids()).toEqual(['a-1']);
      // Probes of one topic did not leak into the other either.
      for (const p of onTopic.probes) expect(onLonger.probes.has(p)).toBe(false);
    });

    it('subscribing the same handler twice is one subscription', async () => {
      const topic = freshTopic();
      const twice = recorder();
      const witness = recorder();
      b.subscribe(topic, twice.handler);
      b.subscribe(topic, twice.handler);
      b.subscribe(topic, witness.handler);
      await settle(a, topic, [twice, witness]);
      await a.publish(topic, note('a', 1));
      await a.publish(topic, note('a', 2));
      await waitFor(() => twice.has('a-2') && witness.has('a-2'), { what: 'delivery' });
      expect(twice.ids()).toEqual(['a-1', 'a-2']);

      // One unsubscribe ends it.
      b.unsubscribe(topic, twice.handler);
      await a.publish(topic, note('a', 3));
      await a.publish(topic, note('a', 4));
      await waitFor(() => witness.has('a-4'), { what: 'delivery to the witness' });
      expect(twice.ids()).toEqual(['a-1', 'a-2']);
    });

    it('unsubscribe stops delivery to that handler on that topic only', async () => {
      const topic = freshTopic();
      const other = freshTopic();
      const leaver = recorder();
      const stayer = recorder();
      const localLeaver = recorder();
      b.subscribe(topic, leaver.handler);
      b.subscribe(other, leaver.handler);
      b.subscribe(topic, stayer.handler);
      a.subscribe(topic, localLeaver.handler);
      await settle(a, topic, [leaver, stayer, localLeaver]);
      await settle(a, other, [leaver]);

      b.unsubscribe(topic, leaver.handler);
      a.unsubscribe(topic, localLeaver.handler);
      await a.publish(topic, note('a', 1));
      await b.publish(topic, note('b', 1));
      await a.publish(other, note('a', 2));
      await waitFor(() => stayer.has('a-1') && stayer.has('b-1') && leaver.has('a-2'), { what: 'deliveries' });
      expect(leaver.ids()).toEqual(['a-2']);
      expect(localLeaver.ids()).toEqual([]);
      expect(stayer.ids().sort()).toEqual(['a-1', 'b-1']);
    });

    it('unsubscribing an unknown topic or handler is a no-op', async () => {
      const topic = freshTopic();
      const r = recorder();
      const stranger: BusHandler = () => {};
      expect(() => a.unsubscribe(freshTopic(), stranger)).not.toThrow();
      expect(() => b.unsubscribe(freshTopic(), r.handler)).not.toThrow();
      b.subscribe(topic, r.handler);
      expect(() => b.unsubscribe(topic, stranger)).not.toThrow();
      expect(() => a.unsubscribe(topic, stranger)).not.toThrow();
      await settle(a, topic, [r]);
      await a.publish(topic, note('a', 1));
      await waitFor(() => r.has('a-1'), { what: 'delivery' });
      expect(r.ids()).toEqual(['a-1']);
    });

    it('a handler can subscribe again after unsubscribing (its node had no other handler)', async () => {
      const topic = freshTopic();
      const r = recorder();
      b.subscribe(topic, r.handler);
      await settle(a, topic, [r]);
      b.unsubscribe(topic, r.handler);
      b.subscribe(topic, r.handler);
      await settle(a, topic, [r]);
      await a.publish(topic, note('a', 1));
      await waitFor(() => r.has('a-1'), { what: 'delivery after resubscribing' });
      await a.publish(topic, note('a', 2));
      await waitFor(() => r.has('a-2'), { what: 'second delivery' });
      expect(r.ids()).toEqual(['a-1', 'a-2']);
    });

    it('a throwing handler does not affect other handlers or the publisher', async () => {
      const topic = freshTopic();
      let thrown = 0;
      const thrower: BusHandler = () => {
        thrown++;
        throw new Error('handler failure (expected by the test)');
      };
      const onA = recorder();
      const onB = recorder();
      a.subscribe(topic, thrower);
      a.subscribe(topic, onA.handler);
      b.subscribe(topic, thrower);
      b.subscribe(topic, onB.handler);
      await settle(a, topic, [onA, onB]);
      await settle(b, topic, [onA, onB]);

      await expect(a.publish(topic, note('a', 1))).resolves.toBeUndefined();
      await expect(b.publish(topic, note('b', 1))).resolves.toBeUndefined();
      await expect(a.publish(topic, note('a', 2))).resolves.toBeUndefined();
      for (const r of [onA, onB]) {
        await waitFor(() => r.got.length >= 3, { what: 'deliveries despite the throwing handler' });
        expect(r.ids().sort()).toEqual(['a-1', 'a-2', 'b-1']);
      }
      expect(thrown).toBeGreaterThanOrEqual(3);
    });

    it('ping resolves on both nodes', async () => {
      await expect(a.ping()).resolves.toBeUndefined();
      await expect(b.ping()).resolves.toBeUndefined();
    });

    it('close resolves on both nodes', async () => {
      await expect(a.close()).resolves.toBeUndefined();
      if (b !== a) await expect(b.close()).resolves.toBeUndefined();
    });
  });
}

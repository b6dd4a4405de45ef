import { describe, expect, it } from 'vitest';
import { FallbackPresence } from '../../src/core/fallback-presence.js';
import { InMemoryPresence } from '../../src/core/in-memory-presence.js';
import type { Presence } from '../../src/core/presence.js';
import { presenceContract } from './contract/presence-contract.js';

/** A cluster presence that can be made unreachable; it records the changes that reached it. */
class FlakyPresence implements Presence {
  down = false;
  readonly real = new InMemoryPresence();
  readonly received: string[] = [];
  private gate(): void {
    if (this.down) throw new Error('redis presence connection is reconnecting');
  }
  setEventHandler() {}
  async connect(u: string, c: string) {
    this.received.push(`connect ${u}`);
    this.gate();
    return this.real.connect(u, c);
  }
  async setStatus(u: string, c: string, s: 'online' | 'away') {
    this.received.push(`${s} ${u}`);
    this.gate();
    return this.real.setStatus(u, c, s);
  }
  async disconnect(u: string, c: string) {
    this.received.push(`disconnect ${u}`);
    this.gate();
    return this.real.disconnect(u, c);
  }
  async statusOf(ids: readonly string[]) {
    this.gate();
    return this.real.statusOf(ids);
  }
  async onlineCount() {
    this.gate();
    return this.real.onlineCount();
  }
  close() {
    return this.real.close();
  }
}

const quiet = { warn: () => {} };

// With the cluster presence down for good, one node's fallback still follows the presence rules.
presenceContract('FallbackPresence, cluster presence unreachable', () => {
  const inner = new FlakyPresence();
  inner.down = true;
  const node = new FallbackPresence(inner, quiet);
  return Promise.resolve({ a: node, b: node, cleanup: () => node.close() });
});

describe('FallbackPresence', () => {
  it('answers from the cluster while it is up; from this node’s own users while it is down; back when it returns', async () => {
    let now = 0;
    const inner = new FlakyPresence();
    const node = new FallbackPresence(inner, quiet, { now: () => now, retryMs: 1000 });
    // Another node's user, known only to the cluster presence.
    await inner.real.connect('elsewhere', 'c0');
    expect(await node.connect('alice', 'c1')).toEqual({ status: 'online', changed: true });
    expect(await node.statusOf(['alice', 'elsewhere'])).toEqual(
      new Map([
        ['alice', 'online'],
        ['elsewhere', 'online'],
      ]),
    );
    expect(await node.onlineCount()).toBe(2);

    inner.down = true;
    // A connection is never refused for presence: the answer is this node's view.
    expect(await node.connect('bob', 'c2')).toEqual({ status: 'online', changed: true });
    expect(await node.setStatus('alice', 'c1', 'away')).toEqual({ status: 'away', changed: true });
    expect(node.degraded).toBe(true);
    expect(await node.statusOf(['alice', 'bob', 'elsewhere'])).toEqual(
      new Map([
        ['alice', 'away'],
        ['bob', 'online'],
        ['elsewhere', 'offline'],
      ]),
    );
    expect(await node.onlineCount()).toBe(2);
    expect(node.localUsers()).toEqual(
      new Map([
        ['alice', 'away'],
        ['bob', 'online'],
      ]),
    );
    // Every change still went to the cluster presence (the Redis one keeps them to rewrite after the outage).
    expect(inner.received).toEqual(['connect alice', 'connect bob', 'away alice']);

    inner.down = false;
    await inner.real.connect('bob', 'c2');
    await inner.real.setStatus('alice', 'c1', 'away');
    // Reads wait for the next probe (at most one per retry interval), then the cluster answers again.
    expect((await node.statusOf(['elsewhere'])).get('elsewhere')).toBe('offline');
    now += 1000;
    await node.statusOf(['elsewhere']);
    await new Promise((r) => setImmediate(r));
    expect(node.degraded).toBe(false);
    expect((await node.statusOf(['elsewhere'])).get('elsewhere')).toBe('online');
    expect(await node.onlineCount()).toBe(3);
    await node.close();
  });

  it('probeNow switches back at once when the cluster presence answers', async () => {
    const inner = new FlakyPresence();
    const node = new FallbackPresence(inner, quiet);
    inner.down = true;
    await node.connect('alice', 'c1');
    expect(await node.probeNow()).toBe(false);
    expect(node.degraded).toBe(true);
    inner.down = false;
    expect(await node.probeNow()).toBe(true);
    expect(node.degraded).toBe(false);
    await node.close();
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Presence } from '../../../src/core/presence.js';

/**
 * Two nodes' views of one presence registry (the same instance for an in-memory one). A connection lives on
 * one node: the suite always sends a connection's calls to the node it connected on.
 */
export interface PresenceUnderTest {
  a: Presence;
  b: Presence;
  /** Closes both nodes (tolerating an earlier close) and releases shared resources. */
  cleanup(): Promise<void>;
}

let counter = 0;
const fresh = (prefix: string) => `${prefix}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;

/** The Presence conformance suite: the status rules and change flags of src/core/presence.ts. */
export function presenceContract(name: string, makePresence: () => Promise<PresenceUnderTest>): void {
  describe(`Presence contract: ${name}`, () => {
    let a: Presence;
    let b: Presence;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ a, b, cleanup } = await makePresence());
    });

    afterEach(async () => {
      await cleanup();
    });

    const statusOn = async (node: Presence, userId: string) => (await node.statusOf([userId])).get(userId);

    it('an unknown user is offline; statusOf answers for exactly the ids asked', async () => {
      const u = fresh('u');
      const v = fresh('u');
      expect((await a.statusOf([])).size).toBe(0);
      const m = await a.statusOf([u, v]);
      expect([...m.entries()].sort()).toEqual(
        [
          [u, 'offline'],
          [v, 'offline'],
        ].sort(),
      );
      expect(await statusOn(b, u)).toBe('offline');
    });

    it('connecting makes a user online; further connections change nothing', async () => {
      const u = fresh('u');
      expect(await a.connect(u, fresh('c'))).toEqual({ status: 'online', changed: true });
      expect(await b.connect(u, fresh('c'))).toEqual({ status: 'online', changed: false });
      expect(await a.connect(u, fresh('c'))).toEqual({ status: 'online', changed: false });
      expect(await statusOn(a, u)).toBe('online');
      expect(await statusOn(b, u)).toBe('online');
    });

    it('a user is online if any connection is online, away only when all are away', async () => {
      const u = fresh('u');
      const c1 = fresh('c');
      const c2 = fresh('c');
      await a.connect(u, c1);
      await b.connect(u, c2);
      expect(await a.setStatus(u, c1, 'away')).toEqual({ status: 'online', changed: false });
      expect(await statusOn(b, u)).toBe('online');
      expect(await b.setStatus(u, c2, 'away')).toEqual({ status: 'away', changed: true });
      expect(await statusOn(a, u)).toBe('away');
      expect(await statusOn(b, u)).toBe('away');
      expect(await b.setStatus(u, c2, 'away')).toEqual({ status: 'away', changed: false });
      expect(await a.setStatus(u, c1, 'online')).toEqual({ status: 'online', changed: true });
      expect(await a.setStatus(u, c1, 'online')).toEqual({ status: 'online', changed: false });
      // A new connection starts online, which makes an away user online.
      expect(await a.setStatus(u, c1, 'away')).toEqual({ status: 'away', changed: true });
      expect(await b.connect(u, fresh('c'))).toEqual({ status: 'online', changed: true });
    });

    it('disconnecting: status follows the remaining connections; offline with none', async () => {
      const u = fresh('u');
      const online = fresh('c');
      const away = fresh('c');
      const last = fresh('c');
      await a.connect(u, online);
      await b.connect(u, away);
      await b.setStatus(u, away, 'away');
      await a.connect(u, last);
      expect(await a.disconnect(u, last)).toEqual({ status: 'online', changed: false });
      expect(await a.disconnect(u, online)).toEqual({ status: 'away', changed: true });
      expect(await statusOn(a, u)).toBe('away');
      expect(await b.disconnect(u, away)).toEqual({ status: 'offline', changed: true });
      expect(await statusOn(a, u)).toBe('offline');
      expect(await statusOn(b, u)).toBe('offline');
      // Disconnecting again, or an unknown connection, changes nothing.
      expect(await b.disconnect(u, away)).toEqual({ status: 'offline', changed: false });
      expect(await a.disconnect(fresh('u'), fresh('c'))).toEqual({ status: 'offline', changed: false });
      // The user can come back.
      expect(await a.connect(u, fresh('c'))).toEqual({ status: 'online', changed: true });
    });

    it('setStatus of a connection that does not exist creates nothing', async () => {
      const u = fresh('u');
      expect(await a.setStatus(u, fresh('c'), 'away')).toEqual({ status: 'offline', changed: false });
      expect(await a.setStatus(u, fresh('c'), 'online')).toEqual({ status: 'offline', changed: false });
      expect(await statusOn(a, u)).toBe('offline');
      const c = fresh('c');
      await a.connect(u, c);
      expect(await a.setStatus(u, fresh('c'), 'away')).toEqual({ status: 'online', changed: false });
      expect(await statusOn(a, u)).toBe('online');
    });

    it('users are independent of each other', async () => {
      const u = fresh('u');
      const v = fresh('u');
      const cu = fresh('c');
      await a.connect(u, cu);
      expect(await statusOn(a, v)).toBe('offline');
      expect(await b.connect(v, fresh('c'))).toEqual({ status: 'online', changed: true });
      await a.setStatus(u, cu, 'away');
      expect(await statusOn(b, v)).toBe('online');
      await a.disconnect(u, cu);
      const m = await b.statusOf([u, v]);
      expect(m.get(u)).toBe('offline');
      expect(m.get(v)).toBe('online');
    });

    it('onlineCount counts distinct users online or away, across nodes', async () => {
      const base = await a.onlineCount();
      const u = fresh('u');
      const v = fresh('u');
      const w = fresh('u');
      const cu1 = fresh('c');
      const cu2 = fresh('c');
      const cv = fresh('c');
      const cw = fresh('c');
      await a.connect(u, cu1);
      await b.connect(u, cu2);
      expect(await a.onlineCount()).toBe(base + 1);
      await b.connect(v, cv);
      await b.setStatus(v, cv, 'away');
      await a.connect(w, cw);
      expect(await a.onlineCount()).toBe(base + 3);
      expect(await b.onlineCount()).toBe(base + 3);
      await a.disconnect(w, cw);
      expect(await a.onlineCount()).toBe(base + 2);
      await a.disconnect(u, cu1);
      expect(await b.onlineCount()).toBe(base + 2);
      await b.disconnect(u, cu2);
      await b.disconnect(v, cv);
      expect(await a.onlineCount()).toBe(base);
    });

    it('close resolves on both nodes', async () => {
      await a.connect(fresh('u'), fresh('c'));
      await expect(a.close()).resolves.toBeUndefined();
      if (b !== a) await expect(b.close()).resolves.toBeUndefined();
    });
  });
}

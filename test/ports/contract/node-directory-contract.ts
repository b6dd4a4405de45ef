import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeDirectory } from '../../../src/core/node-directory.js';
import type { NodeSummary } from '../../../src/protocol/model.js';
import { waitFor } from '../../helpers/wait.js';

export interface NodeDirectoryUnderTest {
  /** This node's directory, node id `node-a`. */
  a: NodeDirectory;
  /** Another node's (`node-b`) sharing the deployment, for implementations that span nodes; none when embedded. */
  b?: NodeDirectory;
  cleanup(): Promise<void>;
}

export const summary = (id: string, connections = 0): NodeSummary => ({
  id,
  startedAt: '2026-01-01T00:00:00.000Z',
  postedAt: new Date().toISOString(),
  connections,
  messagesPerSecond: 1.5,
  deliveriesPerSecond: 3,
  deliveryLatencyP99Ms: null,
  eventLoopDelayP99Ms: 0.4,
  eventLoopUtilization: 0.02,
});

/** The NodeDirectory conformance suite (src/core/node-directory.ts). */
export function nodeDirectoryContract(name: string, make: () => Promise<NodeDirectoryUnderTest>): void {
  describe(`NodeDirectory contract: ${name}`, () => {
    let h: NodeDirectoryUnderTest;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('lists nothing before a post, then the latest post, whole', async () => {
      expect(await h.a.list()).toEqual([]);
      await h.a.post(summary('node-a', 1), 10_000);
      expect(await h.a.list()).toEqual([summary('node-a', 1)].map((s) => ({ ...s, postedAt: expect.any(String) })));
      await h.a.post(summary('node-a', 7), 10_000);
      const [only, ...rest] = await h.a.list();
      expect(rest).toEqual([]);
      expect(only!.connections).toBe(7);
    });

    it('drops an entry that was not posted again within its ttl', async () => {
      await h.a.post(summary('node-a'), 150);
      expect((await h.a.list()).map((n) => n.id)).toEqual(['node-a']);
      await waitFor(async () => (await h.a.list()).length === 0, { timeoutMs: 3000, what: 'the entry to expire' });
    });

    it('sees every node, ordered by id, and a closed node leaves at once', async () => {
      if (!h.b) return; // one process, one node
      await h.b.post(summary('node-b', 2), 10_000);
      await h.a.post(summary('node-a', 1), 10_000);
      expect((await h.a.list()).map((n) => [n.id, n.connections])).toEqual([
        ['node-a', 1],
        ['node-b', 2],
      ]);
      expect((await h.b.list()).map((n) => n.id)).toEqual(['node-a', 'node-b']);
      await h.b.close();
      expect((await h.a.list()).map((n) => n.id)).toEqual(['node-a']);
    });

    it('refuses use after close', async () => {
      await h.a.post(summary('node-a'), 10_000);
      await h.a.close();
      await expect(h.a.list()).rejects.toThrow(/closed/);
      await expect(h.a.post(summary('node-a'), 10_000)).rejects.toThrow(/closed/);
    });
  });
}

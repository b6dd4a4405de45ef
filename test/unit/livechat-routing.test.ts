import { describe, expect, it } from 'vitest';
import {
  estimateWait,
  hasRoom,
  pickAgent,
  type AgentLoad,
  type RouterState,
  type RoutingStrategy,
} from '../../src/core/livechat/routing.js';

/**
 * Livechat routing (issue 17): the load-balancing algorithms of the design documents applied to agents. Each
 * strategy is checked for the property that makes it worth choosing, over long runs with a seeded generator.
 */

/** A small seeded PRNG (mulberry32), so every run draws the same numbers. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const agent = (agentId: string, over: Partial<AgentLoad> = {}): AgentLoad => ({
  agentId,
  available: true,
  open: 0,
  capacity: 5,
  ...over,
});

/** Assigns `n` visitors one by one, updating loads as a store would; returns the picks in order. */
function run(strategy: RoutingStrategy, agents: AgentLoad[], n: number, random?: () => number, now = () => 0) {
  let state: RouterState = {};
  const picks: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const got = pickAgent(strategy, agents, state, random);
    state = got.state;
    picks.push(got.agentId);
    const a = agents.find((x) => x.agentId === got.agentId);
    if (a) {
      a.open++;
      a.lastAssignedAt = now();
    }
  }
  return picks;
}

describe('livechat routing', () => {
  it('round robin: each agent with room in turn, skipping the away and the full, wrapping around', () => {
    const agents = [agent('c'), agent('a'), agent('b', { available: false }), agent('d', { capacity: 1 })];
    expect(run('round_robin', agents, 7)).toEqual(['a', 'c', 'd', 'a', 'c', 'a', 'c']);
    // The cursor survives an agent leaving: the next one after it takes over.
    expect(pickAgent('round_robin', [agent('a'), agent('c')], { cursor: 'b' }).agentId).toBe('c');
  });

  it('least busy: 1,000 visitors over 20 agents keep the spread of open chats within 1 at every step', () => {
    const agents = Array.from({ length: 20 }, (_, i) => agent(`agent-${String(i).padStart(2, '0')}`, { capacity: 60 }));
    let t = 0;
    let worst = 0;
    let state: RouterState = {};
    for (let i = 0; i < 1000; i++) {
      const got = pickAgent('least_busy', agents, state);
      state = got.state;
      const a = agents.find((x) => x.agentId === got.agentId)!;
      a.open++;
      a.lastAssignedAt = ++t;
      const opens = agents.map((x) => x.open);
      worst = Math.max(worst, Math.max(...opens) - Math.min(...opens));
    }
    expect(worst).toBe(1);
    expect(agents.map((a) => a.open)).toEqual(Array(20).fill(50));
  });

  it('least busy with chats closing at random: the pick always has the fewest open, ties to the longest idle', () => {
    const rnd = seeded(7);
    const agents = Array.from({ length: 8 }, (_, i) => agent(`a${i}`, { capacity: 4 + (i % 3) }));
    let t = 0;
    for (let i = 0; i < 2000; i++) {
      if (rnd() < 0.5) {
        const busy = agents.filter((a) => a.open > 0);
        const a = busy[Math.floor(rnd() * busy.length)];
        if (a) a.open--;
      }
      const got = pickAgent('least_busy', agents).agentId;
      const withRoom = agents.filter(hasRoom);
      if (withRoom.length === 0) {
        expect(got).toBeNull();
        continue;
      }
      const least = Math.min(...withRoom.map((a) => a.open));
      const chosen = agents.find((a) => a.agentId === got)!;
      expect(chosen.open).toBe(least);
      const tied = withRoom.filter((a) => a.open === least && a.open / a.capacity === chosen.open / chosen.capacity);
      expect(chosen.lastAssignedAt ?? 0).toBe(Math.min(...tied.map((a) => a.lastAssignedAt ?? 0)));
      chosen.open++;
      chosen.lastAssignedAt = ++t;
    }
  });

  it('weighted: shares follow capacity, interleaved (nginx smooth weighted round robin)', () => {
    const agents = [agent('a', { capacity: 50 }), agent('b', { capacity: 10 }), agent('c', { capacity: 10 })];
    // nginx's documented sequence for weights 5, 1, 1 (here 50, 10, 10): a a b a c a a.
    expect(run('weighted', agents, 7)).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
    const big = [agent('x', { capacity: 300 }), agent('y', { capacity: 200 }), agent('z', { capacity: 100 })];
    const picks = run('weighted', big, 600);
    const count = (id: string) => picks.filter((p) => p === id).length;
    expect([count('x'), count('y'), count('z')]).toEqual([300, 200, 100]);
    // No agent gets a long burst while others with room wait.
    let longest = 1;
    for (let i = 1, n = 1; i < picks.length; i++)
      longest = Math.max(longest, (n = picks[i] === picks[i - 1] ? n + 1 : 1));
    expect(longest).toBeLessThanOrEqual(2);
  });

  it('random: uniform among agents with room, never one without', () => {
    const agents = [
      agent('a', { capacity: 10_000 }),
      agent('b', { capacity: 10_000 }),
      agent('c', { capacity: 10_000 }),
      agent('off', { available: false, capacity: 10_000 }),
      agent('full', { capacity: 0 }),
    ];
    const picks = run('random', agents, 6000, seeded(42));
    for (const id of ['a', 'b', 'c']) {
      const n = picks.filter((p) => p === id).length;
      expect(n).toBeGreaterThan(1800);
      expect(n).toBeLessThan(2200);
    }
    expect(picks.filter((p) => p === 'off' || p === 'full')).toEqual([]);
  });

  it('manual never assigns; nobody with room means the queue, with the state untouched', () => {
    const state = { cursor: 'a' };
    expect(pickAgent('manual', [agent('a')], state)).toEqual({ agentId: null, state });
    for (const s of ['round_robin', 'least_busy', 'weighted', 'random'] as const) {
      expect(pickAgent(s, [agent('a', { open: 5 }), agent('b', { available: false })], state)).toEqual({
        agentId: null,
        state,
      });
    }
  });

  it('estimated wait: zero while slots are free, then rounds of the average chat; unknown with nobody available', () => {
    const agents = [agent('a', { capacity: 2, open: 1 }), agent('b', { capacity: 2, open: 2 })];
    expect(estimateWait(1, agents, 60_000)).toEqual({ position: 1, waitMs: 0 });
    expect(estimateWait(2, agents, 60_000)).toEqual({ position: 2, waitMs: 60_000 });
    expect(estimateWait(5, agents, 60_000)).toEqual({ position: 5, waitMs: 60_000 });
    expect(estimateWait(6, agents, 60_000)).toEqual({ position: 6, waitMs: 120_000 });
    expect(estimateWait(1, [agent('a', { available: false })], 60_000)).toEqual({ position: 1, waitMs: null });
  });
});

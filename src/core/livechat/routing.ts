/**
 * Who gets the next visitor: the design documents' load-balancing algorithms (round robin, random, weighted round
 * robin) plus least busy, applied to a department's agents instead of servers (issue 17).
 *
 * Pure: the caller passes the agents' load and the department's router state and stores the state it gets back in
 * the same transaction as the assignment, so every node of a cluster routes as one (the state is a few bytes per
 * department: the round-robin cursor and the weighted credits). Nothing here reads a clock or draws a random number
 * unless given one, so every strategy is reproducible in tests.
 */

export const ROUTING_STRATEGIES = ['round_robin', 'least_busy', 'weighted', 'random', 'manual'] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

export interface AgentLoad {
  agentId: string;
  /** The agent set themselves available (not away, and signed in). */
  available: boolean;
  /** Conversations they have open now. */
  open: number;
  /** The most they take at once (their setting, within the department's cap); at least 1 to receive any. */
  capacity: number;
  /** When they were last given a conversation (ms), to break ties towards whoever waited longest. */
  lastAssignedAt?: number;
}

/** What a department remembers between assignments. */
export interface RouterState {
  /** round_robin: the agent who got the last visitor. */
  cursor?: string;
  /** weighted: each agent's running credit (smooth weighted round robin, as nginx balances upstreams). */
  credits?: Record<string, number>;
}

export interface Pick {
  /** The agent to assign, or null: nobody can take one now (or the department picks up by hand), so queue. */
  agentId: string | null;
  state: RouterState;
}

/** An agent who can take one more now. */
export const hasRoom = (a: AgentLoad): boolean => a.available && a.capacity > 0 && a.open < a.capacity;

const byId = (a: AgentLoad, b: AgentLoad) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0);

/**
 * Picks the agent for the next visitor.
 * - `round_robin`: the next agent with room after the last one picked, in a fixed (id) order.
 * - `least_busy`: fewest open conversations; ties go to the lower load relative to capacity, then to whoever has
 *   waited longest since their last one, then by id. Keeps the spread of open conversations within 1 while every
 *   agent has room.
 * - `weighted`: smooth weighted round robin with capacity as weight: over any run, each agent gets a share
 *   proportional to their capacity, interleaved rather than in bursts.
 * - `random`: uniform among agents with room (`random()` returns [0, 1), Math.random by default).
 * - `manual`: never assigns; agents pick up from the queue.
 */
export function pickAgent(
  strategy: RoutingStrategy,
  agents: readonly AgentLoad[],
  state: RouterState = {},
  random: () => number = Math.random,
): Pick {
  const eligible = agents.filter(hasRoom).sort(byId);
  if (strategy === 'manual' || eligible.length === 0) return { agentId: null, state };
  switch (strategy) {
    case 'round_robin': {
      const cursor = state.cursor;
      const next = (cursor === undefined ? undefined : eligible.find((a) => a.agentId > cursor)) ?? eligible[0]!;
      return { agentId: next.agentId, state: { ...state, cursor: next.agentId } };
    }
    case 'least_busy': {
      let best = eligible[0]!;
      for (const a of eligible.slice(1)) if (lessBusy(a, best)) best = a;
      return { agentId: best.agentId, state };
    }
    case 'weighted': {
      // nginx's smooth weighted round robin: everyone gains their weight, the richest is picked and pays the total.
      const credits: Record<string, number> = {};
      let total = 0;
      let best: AgentLoad | null = null;
      for (const a of eligible) {
        const credit = (state.credits?.[a.agentId] ?? 0) + a.capacity;
        credits[a.agentId] = credit;
        total += a.capacity;
        if (!best || credit > credits[best.agentId]!) best = a;
      }
      credits[best!.agentId]! -= total;
      return { agentId: best!.agentId, state: { ...state, credits } };
    }
    case 'random': {
      const i = Math.min(eligible.length - 1, Math.floor(random() * eligible.length));
      return { agentId: eligible[i]!.agentId, state };
    }
  }
}

function lessBusy(a: AgentLoad, b: AgentLoad): boolean {
  if (a.open !== b.open) return a.open < b.open;
  const ra = a.open / a.capacity;
  const rb = b.open / b.capacity;
  if (ra !== rb) return ra < rb;
  const la = a.lastAssignedAt ?? 0;
  const lb = b.lastAssignedAt ?? 0;
  if (la !== lb) return la < lb;
  return a.agentId < b.agentId;
}

/**
 * What a waiting visitor is told: their place in the queue (1 = next) and a rough wait. With `free` slots open the
 * first `free` in line are about to be assigned; after that, each slot frees every `averageChatMs` spread over
 * `slots` slots. Null when no agent of the department is available at all (the wait is unknown, not zero).
 */
export function estimateWait(
  position: number,
  agents: readonly AgentLoad[],
  averageChatMs: number,
): { position: number; waitMs: number | null } {
  const on = agents.filter((a) => a.available && a.capacity > 0);
  if (on.length === 0) return { position, waitMs: null };
  const slots = on.reduce((n, a) => n + a.capacity, 0);
  const free = on.reduce((n, a) => n + Math.max(0, a.capacity - a.open), 0);
  if (position <= free) return { position, waitMs: 0 };
  return { position, waitMs: Math.ceil((position - free) / slots) * averageChatMs };
}

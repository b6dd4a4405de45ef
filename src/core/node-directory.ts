import type { NodeSummary } from '../protocol/model.js';

/**
 * Where the nodes of a deployment find each other's latest figures, for the admin dashboard. One instance per
 * node. Contract:
 * - `post` replaces this node's entry; the entry is listed until `ttlMs` after its last post, then drops out by
 *   itself (a node that dies leaves within `ttlMs`).
 * - `list` gives every listed entry, this node's included once it has posted, ordered by node id.
 * - `close` removes this node's entry at once (a clean shutdown); later calls reject.
 * Losing an entry is harmless: the next post writes it again.
 */
export interface NodeDirectory {
  post(summary: NodeSummary, ttlMs: number): Promise<void>;
  list(): Promise<NodeSummary[]>;
  close(): Promise<void>;
}

/** One process is one node: the directory is its own latest entry. */
export class InMemoryNodeDirectory implements NodeDirectory {
  private entry: { summary: NodeSummary; until: number } | undefined;
  private closed = false;

  constructor(private readonly now: () => number = Date.now) {}

  post(summary: NodeSummary, ttlMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('node directory is closed'));
    this.entry = { summary, until: this.now() + ttlMs };
    return Promise.resolve();
  }

  list(): Promise<NodeSummary[]> {
    if (this.closed) return Promise.reject(new Error('node directory is closed'));
    return Promise.resolve(this.entry && this.entry.until > this.now() ? [this.entry.summary] : []);
  }

  close(): Promise<void> {
    this.closed = true;
    this.entry = undefined;
    return Promise.resolve();
  }
}

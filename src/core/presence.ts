import type { PresenceStatus } from '../protocol/model.js';

/**
 * Who is online. A user is `online` if any of their connections is online, `away` if all are away,
 * `offline` with none. Contract:
 * - `connect`/`disconnect`/`setStatus` return the user's status after the change and whether it changed.
 * - Counts include every node of the deployment (the cluster implementation expires a dead node's entries).
 */
export interface Presence {
  connect(userId: string, connId: string): Promise<PresenceChange>;
  setStatus(userId: string, connId: string, status: 'online' | 'away'): Promise<PresenceChange>;
  disconnect(userId: string, connId: string): Promise<PresenceChange>;
  statusOf(userIds: readonly string[]): Promise<Map<string, PresenceStatus>>;
  /** Distinct users online or away. */
  onlineCount(): Promise<number>;
  /** Registers the node's handler for presence events (one; a second call replaces it). */
  setEventHandler(handler: PresenceEventHandler): void;
  close(): Promise<void>;
}

export interface PresenceChange {
  status: PresenceStatus;
  changed: boolean;
}

/** What presence tells the node, pushed to the one handler registered at start. */
export interface PresenceEventHandler {
  /**
   * Users whose status changed because a dead node's connections expired (each change reported by one node of
   * the deployment): their rooms should be told. Presence within one process never expires anything.
   */
  expired(changes: { userId: string; status: PresenceStatus }[]): void;
}

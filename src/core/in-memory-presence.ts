import type { PresenceStatus } from '../protocol/model.js';
import type { Presence, PresenceChange, PresenceEventHandler } from './presence.js';

/** Presence for one process: user → connection → status. */
export class InMemoryPresence implements Presence {
  private readonly users = new Map<string, Map<string, 'online' | 'away'>>();

  private status(userId: string): PresenceStatus {
    const conns = this.users.get(userId);
    if (!conns || conns.size === 0) return 'offline';
    for (const s of conns.values()) if (s === 'online') return 'online';
    return 'away';
  }

  private change(userId: string, mutate: () => void): Promise<PresenceChange> {
    const before = this.status(userId);
    mutate();
    const after = this.status(userId);
    return Promise.resolve({ status: after, changed: before !== after });
  }

  /** One process has no other node whose connections could expire: nothing to report. */
  setEventHandler(_handler: PresenceEventHandler): void {}

  connect(userId: string, connId: string): Promise<PresenceChange> {
    return this.change(userId, () => {
      let conns = this.users.get(userId);
      if (!conns) this.users.set(userId, (conns = new Map()));
      conns.set(connId, 'online');
    });
  }

  setStatus(userId: string, connId: string, status: 'online' | 'away'): Promise<PresenceChange> {
    return this.change(userId, () => {
      const conns = this.users.get(userId);
      if (conns?.has(connId)) conns.set(connId, status);
    });
  }

  disconnect(userId: string, connId: string): Promise<PresenceChange> {
    return this.change(userId, () => {
      const conns = this.users.get(userId);
      if (!conns) return;
      conns.delete(connId);
      if (conns.size === 0) this.users.delete(userId);
    });
  }

  statusOf(userIds: readonly string[]): Promise<Map<string, PresenceStatus>> {
    return Promise.resolve(new Map(userIds.map((id) => [id, this.status(id)])));
  }

  onlineCount(): Promise<number> {
    return Promise.resolve(this.users.size);
  }

  /** Every user with a connection here, with their status. */
  snapshot(): Map<string, PresenceStatus> {
    return new Map([...this.users.keys()].map((id) => [id, this.status(id)]));
  }

  close(): Promise<void> {
    this.users.clear();
    return Promise.resolve();
  }
}

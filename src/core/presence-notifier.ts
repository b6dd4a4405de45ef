import type { PresenceStatus } from '../protocol/model.js';
import { topics, type Bus } from './bus.js';
import type { Presence } from './presence.js';
import type { Store } from './store.js';

/**
 * Tells rooms about presence changes of their members, coalesced: changes are collected and published at
 * most once per room every `flushMs`, so a reconnect storm costs one frame per room per window instead of
 * one per user per member.
 */
export class PresenceNotifier {
  private readonly pending = new Map<string, Map<string, PresenceStatus>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { store: Store; bus: Bus; presence: Presence; flushMs: number },
    private readonly onError: (err: unknown) => void,
  ) {}

  changed(userId: string, status: PresenceStatus, roomIds: Iterable<string>): void {
    for (const roomId of roomIds) {
      let changes = this.pending.get(roomId);
      if (!changes) this.pending.set(roomId, (changes = new Map()));
      changes.set(userId, status);
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(this.onError);
    }, this.deps.flushMs);
  }

  async flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    if (batch.length === 0) return;
    const serverOnline = await this.deps.presence.onlineCount();
    for (const [roomId, changes] of batch) {
      const memberIds = await this.deps.store.listMemberIds(roomId);
      const status = await this.deps.presence.statusOf(memberIds);
      let online = 0;
      for (const s of status.values()) if (s !== 'offline') online++;
      await this.deps.bus.publish(topics.room(roomId), {
        kind: 'presence',
        roomId,
        changes: [...changes].map(([userId, s]) => ({ userId, status: s })),
        online,
        serverOnline,
      });
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}

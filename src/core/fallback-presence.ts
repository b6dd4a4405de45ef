import type { PresenceStatus } from '../protocol/model.js';
import { InMemoryPresence } from './in-memory-presence.js';
import { OutageSwitch } from './outage-switch.js';
import type { Presence, PresenceChange, PresenceEventHandler } from './presence.js';

/**
 * Cluster presence (Redis) that degrades to this node's own view instead of failing: a connection must not be
 * refused, nor a member list go unanswered, because presence is unreachable.
 *
 * Every change is applied to an in-process presence of this node's connections and passed on to `inner` (which
 * keeps its own copy to rewrite when it is back). When `inner` fails, the answer comes from this node's view:
 * users connected to this node have their real status, everyone else reads `offline`, and online counts are this
 * node's. Reads do not ask `inner` while it is down (one probe at most every `retryMs` decides when it is back),
 * so nothing waits for a timeout. Whoever was told a wrong status meanwhile is corrected by the presence
 * announcement every node makes after an outage (see `announceAll` in server/cluster.ts).
 */
export class FallbackPresence implements Presence {
  private readonly local = new InMemoryPresence();
  private readonly outage: OutageSwitch;

  constructor(
    private readonly inner: Presence,
    log: { warn(obj: object, msg: string): void },
    opts: { retryMs?: number; now?: () => number } = {},
  ) {
    this.outage = new OutageSwitch({
      ...opts,
      probe: () => inner.onlineCount(),
      onDown: (err) => log.warn({ err }, 'presence unreachable: showing this node’s users only until it is back'),
      onUp: () => log.warn({}, 'presence reachable again'),
    });
  }

  /** True while presence answers from this node's view only. */
  get degraded(): boolean {
    return this.outage.down;
  }

  connect(userId: string, connId: string): Promise<PresenceChange> {
    return this.change(this.local.connect(userId, connId), () => this.inner.connect(userId, connId));
  }

  setStatus(userId: string, connId: string, status: 'online' | 'away'): Promise<PresenceChange> {
    return this.change(this.local.setStatus(userId, connId, status), () =>
      this.inner.setStatus(userId, connId, status),
    );
  }

  disconnect(userId: string, connId: string): Promise<PresenceChange> {
    return this.change(this.local.disconnect(userId, connId), () => this.inner.disconnect(userId, connId));
  }

  statusOf(userIds: readonly string[]): Promise<Map<string, PresenceStatus>> {
    return this.read(
      () => this.inner.statusOf(userIds),
      () => this.local.statusOf(userIds),
    );
  }

  onlineCount(): Promise<number> {
    return this.read(
      () => this.inner.onlineCount(),
      () => this.local.onlineCount(),
    );
  }

  /** Expiries are found by the shared presence; this node's own view never expires anyone. */
  setEventHandler(handler: PresenceEventHandler): void {
    this.inner.setEventHandler(handler);
  }

  /** This node's users and their statuses (what it announces after an outage). */
  localUsers(): Map<string, PresenceStatus> {
    return this.local.snapshot();
  }

  async close(): Promise<void> {
    await Promise.all([this.local.close(), this.inner.close()]);
  }

  /** Changes always reach `inner` too (it keeps this node's connections to rewrite after an outage). */
  private async change(local: Promise<PresenceChange>, shared: () => Promise<PresenceChange>): Promise<PresenceChange> {
    const mine = await local;
    try {
      const r = await shared();
      this.outage.up();
      return r;
    } catch (err) {
      this.outage.failed(err);
      return mine;
    }
  }

  private read<T>(shared: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    return this.outage.call(shared, fallback);
  }

  /** Asks `inner` now whether it is back (after an outage ended); resolves to whether it answered. */
  probeNow(): Promise<boolean> {
    return this.outage.probeNow();
  }
}

import type { NotifyLevel, UserSettings } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import type { RoomService } from './rooms.js';

/**
 * Notification preferences: each member's level per room and the user's private settings (read receipts, do not
 * disturb). The server keeps them and tells every device of the user when they change; whether a message raises a
 * desktop notification or a sound is the client's decision from them (it delivers every event whatever they say).
 */
export class NotificationService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {}

  /** Sets the caller's level for the room; every device of theirs hears of a change (`notify` frame). */
  async setLevel(auth: AuthContext, roomId: string, level: NotifyLevel): Promise<{ level: NotifyLevel }> {
    await this.rooms.requireAllowed(auth, roomId, 'notify');
    await this.take(auth);
    const { changed } = await this.ctx.store.setNotifyLevel(roomId, auth.user.id, level);
    if (changed)
      await this.ctx.bus.publish(topics.user(auth.user.id), { kind: 'notify', userId: auth.user.id, roomId, level });
    return { level };
  }

  settings(auth: AuthContext): UserSettings {
    return this.view(auth.user.readReceipts, auth.user.dndUntil);
  }

  /**
   * Changes the caller's settings; every device of theirs hears the result (`settings` frame). A `dndUntil` already
   * past is stored as off.
   */
  async updateSettings(auth: AuthContext, patch: Partial<UserSettings>): Promise<UserSettings> {
    await this.take(auth);
    const dndUntil =
      patch.dndUntil === undefined || patch.dndUntil === null || patch.dndUntil > this.ctx.now()
        ? patch.dndUntil
        : null;
    const user = await this.ctx.store.updateUserSettings(auth.user.id, { readReceipts: patch.readReceipts, dndUntil });
    const settings = this.view(user.readReceipts, user.dndUntil);
    await this.ctx.bus.publish(topics.user(auth.user.id), { kind: 'settings', userId: auth.user.id, settings });
    return settings;
  }

  /** An expired do-not-disturb reads as off. */
  private view(readReceipts: boolean, dndUntil: number | null): UserSettings {
    return { readReceipts, dndUntil: dndUntil !== null && dndUntil > this.ctx.now() ? dndUntil : null };
  }

  private async take(auth: AuthContext): Promise<void> {
    const rate = await this.ctx.limiter.take(`settings:${auth.user.id}`, this.ctx.limits.rates.settings);
    if (!rate.ok) throw new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
  }
}

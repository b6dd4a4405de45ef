import type { AuthContext, AccountService } from './accounts.js';
import { toPublicUser } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import { newTimeId } from './ids.js';
import type { RoomService } from './rooms.js';

/** What happens to a deleted account's messages. */
export type KeepOrErase = 'keep' | 'erase';

/** Messages erased per store read; each is its own delete on its room's sequence. */
const ERASE_BATCH = 200;

/**
 * The username a deleted account gets: `~` is outside the Username alphabet, so no one can register it, and the
 * id makes it unique. The old name is free again at once.
 */
export const deletedPlaceholder = (userId: string) => `deleted~${userId}`;

/**
 * Deleting one's own account (issue 18). The row stays (events and audit entries name it), marked deleted and
 * renamed; sessions end and sockets close (4006) at once, on every node, before anything else happens; then, with
 * `erase`, each of the user's messages is deleted like a delete by its author (a `message.deleted` on its room's
 * sequence, so clients see it go); last, the user leaves every room they are in (`member.left`).
 */
export class AccountDeletion {
  constructor(
    private readonly ctx: DomainContext,
    private readonly accounts: AccountService,
    private readonly rooms: RoomService,
  ) {}

  async deleteAccount(
    auth: AuthContext,
    password: string,
    messages: KeepOrErase,
  ): Promise<{ erased: number; roomsLeft: number }> {
    // A bot's account is managed by whoever created it (DELETE …/bots/:id); a bot token cannot delete anything here.
    if (auth.session.scopes != null || auth.user.botOf) throw new ChatError('forbidden');
    await this.accounts.checkPassword(auth, password);
    const userId = auth.user.id;
    const sessionIds = await this.ctx.store.markUserDeleted(userId, deletedPlaceholder(userId));
    if (sessionIds === null) throw new ChatError('unauthorized'); // deleted meanwhile by another request
    await this.ctx.bus.publish(topics.user(userId), { kind: 'revoke', userId, sessionIds, disabled: true });
    const erased = messages === 'erase' ? await this.erase(userId) : 0;
    let roomsLeft = 0;
    for (const room of await this.ctx.store.listRoomsOf(userId)) {
      const event = await this.ctx.store.removeMember(room.id, userId, userId, 'left');
      if (event) {
        roomsLeft++;
        await this.rooms.publish([event]);
      }
    }
    const user = await this.ctx.store.getUser(userId);
    if (user) await this.ctx.bus.publish(topics.all, { kind: 'profile', user: toPublicUser(user) });
    await this.ctx.store.appendAudit({
      id: newTimeId('al'),
      actorId: userId,
      action: 'user.delete',
      roomId: null,
      targetUserId: userId,
      data: { messages, erased },
    });
    return { erased, roomsLeft };
  }

  /** Deletes every message of the user, batch by batch; the keyset moves on even past one that would not go. */
  private async erase(userId: string): Promise<number> {
    let erased = 0;
    let after: { roomId: string; seq: number } | null = null;
    for (;;) {
      const batch = await this.ctx.store.listOwnMessages(userId, after, ERASE_BATCH);
      for (const message of batch) {
        const event = await this.ctx.store.deleteMessage(message.roomId, message.seq, userId);
        if (event) {
          erased++;
          await this.rooms.publish([event]);
        }
      }
      const last = batch.at(-1);
      if (!last || batch.length < ERASE_BATCH) return erased;
      after = { roomId: last.roomId, seq: last.seq };
    }
  }
}

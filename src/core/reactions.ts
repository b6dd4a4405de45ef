import type { RoomEvent } from '../protocol/model.js';
import { can } from '../protocol/permissions.js';
import type { AuthContext } from './accounts.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import { canonicalEmoji } from './emoji.js';
import type { RoomService } from './rooms.js';

/**
 * Reactions to messages. Each change is a `reaction.added` / `reaction.removed` event on the room sequence, stored
 * before it is answered or fanned out, so reactions get the delivery contract of every room event (ordered,
 * gap-free, replayed exactly once on resume). The send path is not involved.
 */
export class ReactionService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {}

  /**
   * Adds the caller's reaction to the message at `seq`. Idempotent: when it is there already nothing is appended and
   * `added` is false. Members may react (the `react` permission) unless muted; read-only rooms allow it.
   */
  async add(
    auth: AuthContext,
    roomId: string,
    seq: number,
    emojiInput: string,
  ): Promise<{ emoji: string; added: boolean; event: RoomEvent | null }> {
    const emoji = this.canonical(emojiInput);
    await this.requireReactor(auth, roomId);
    await this.takeRate(auth);
    const event = await this.ctx.store.addReaction(
      roomId,
      seq,
      auth.user.id,
      emoji,
      this.ctx.limits.maxReactionsPerMessage,
    );
    if (event) await this.rooms.publish([event]);
    return { emoji, added: event !== null, event };
  }

  /** Removes the caller's reaction; `removed` is false (nothing appended) when there was none. */
  async remove(
    auth: AuthContext,
    roomId: string,
    seq: number,
    emojiInput: string,
  ): Promise<{ emoji: string; removed: boolean; event: RoomEvent | null }> {
    const emoji = this.canonical(emojiInput);
    await this.requireReactor(auth, roomId);
    await this.takeRate(auth);
    const event = await this.ctx.store.removeReaction(roomId, seq, auth.user.id, emoji);
    if (event) await this.rooms.publish([event]);
    return { emoji, removed: event !== null, event };
  }

  /** History pages carry each message's reactions as they stand (one range query per page). */
  async attach(roomId: string, messages: RoomEvent[]): Promise<RoomEvent[]> {
    if (messages.length === 0) return messages;
    const bySeq = await this.ctx.store.listReactions(roomId, messages[0]!.seq, messages.at(-1)!.seq);
    if (bySeq.size === 0) return messages;
    return messages.map((m) => {
      const reactions = bySeq.get(m.seq);
      return reactions ? { ...m, reactions } : m;
    });
  }

  private canonical(input: string): string {
    const emoji = canonicalEmoji(input);
    if (!emoji) throw new ChatError('invalid_emoji');
    return emoji;
  }

  private async requireReactor(auth: AuthContext, roomId: string): Promise<void> {
    const { room, role, member } = await this.rooms.requireMember(auth, roomId);
    if (!can('react', room.kind, role, false)) throw new ChatError('forbidden');
    await this.rooms.requireDmOpen(room, auth.user.id);
    // Muted members do not react either (as a Discord timeout); a read-only room still takes reactions (as Slack).
    const mutedUntil = member.mutedUntil;
    if (mutedUntil !== null && mutedUntil > this.ctx.now()) {
      throw new ChatError('muted', {
        message: `You are muted in this room until ${new Date(mutedUntil).toISOString()}.`,
      });
    }
  }

  private async takeRate(auth: AuthContext): Promise<void> {
    const rate = await this.ctx.limiter.take(`react:${auth.user.id}`, this.ctx.limits.rates.reaction);
    if (!rate.ok) throw new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
  }
}

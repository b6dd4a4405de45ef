import type { RoomEvent } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { toPublicUser } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import { newId } from './ids.js';
import type { RoomService } from './rooms.js';

/** Sending and reading messages, and server-wide announcements. */
export class MessageService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {}

  /**
   * Stores a message and fans it out. Resolves only after the message is durable, so an ack built from the
   * result never lies. Idempotent per clientMsgId: a retry returns the stored message with `duplicate: true`.
   */
  async send(
    auth: AuthContext,
    input: { roomId: string; clientMsgId: string; body: string },
  ): Promise<{ event: RoomEvent; duplicate: boolean }> {
    if (input.body.length > this.ctx.limits.maxMessageChars) {
      throw new ChatError('message_too_long', {
        message: `A message has at most ${this.ctx.limits.maxMessageChars} characters.`,
      });
    }
    await this.rooms.requireMember(auth, input.roomId);
    const rate = await this.ctx.limiter.take(`msg:${auth.user.id}`, this.ctx.limits.rates.message);
    if (!rate.ok) throw new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
    const result = await this.ctx.store.appendMessage({
      id: newId('e'),
      roomId: input.roomId,
      senderId: auth.user.id,
      clientMsgId: input.clientMsgId,
      body: input.body,
    });
    // A duplicate is published again too: if the first attempt died between commit and publish, this heals
    // live delivery; receivers drop what they already have by seq.
    await this.ctx.bus.publish(topics.room(input.roomId), { kind: 'event', event: result.event });
    return result;
  }

  async history(
    auth: AuthContext,
    roomId: string,
    query: { after?: number | undefined; before?: number | undefined; limit: number },
    messagesOnly: boolean,
  ): Promise<RoomEvent[]> {
    await this.rooms.requireReadable(auth, roomId);
    return this.ctx.store.listEvents(roomId, {
      ...(query.after !== undefined ? { after: query.after } : {}),
      ...(query.before !== undefined ? { before: query.before } : {}),
      limit: query.limit,
      messagesOnly,
    });
  }

  /** A server-wide announcement from an admin to every online user (not stored). */
  async announce(auth: AuthContext, body: string): Promise<{ id: string; createdAt: string }> {
    if (auth.user.role !== 'admin') throw new ChatError('forbidden');
    const announcement = {
      id: newId('a'),
      body,
      from: toPublicUser(auth.user),
      createdAt: new Date(this.ctx.now()).toISOString(),
    };
    await this.ctx.bus.publish(topics.all, { kind: 'announcement', announcement });
    return { id: announcement.id, createdAt: announcement.createdAt };
  }
}

import type { MemberRole, Room, RoomEvent } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { toPublicUser } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import { SYSTEM_USER_ID, type DomainContext } from './context.js';
import { newId, newTimeId } from './ids.js';
import { FloodGuard } from './moderation/flood-guard.js';
import { READ_ONLY_POSTER, rank } from '../protocol/permissions.js';
import type { RoomService } from './rooms.js';
import type { MemberRecord } from './store.js';

/** Sending and reading messages, and server-wide announcements. */
export class MessageService {
  /** Messages stored (duplicates not counted), for metrics. */
  readonly stats = { stored: 0 };
  /** Repeated-message and mention limits: per node (a flood spread over nodes is caught by the rate limit). */
  private readonly flood: FloodGuard;

  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {
    this.flood = new FloodGuard(
      { repeats: ctx.limits.flood.repeats, windowMs: ctx.limits.flood.windowMs, maxMentions: ctx.limits.maxMentions },
      ctx.now,
    );
  }

  /**
   * Whether the caller may post in the room now: a member, not muted, a moderator in a read-only room.
   * Used by send and by typing (a user who may not post does not type either).
   */
  async requirePoster(
    auth: AuthContext,
    roomId: string,
  ): Promise<{ room: Room; role: MemberRole; member: MemberRecord }> {
    const found = await this.rooms.requireMember(auth, roomId);
    const { room, role, member } = found;
    if (member.mutedUntil !== null && member.mutedUntil > this.ctx.now()) {
      const until = new Date(member.mutedUntil).toISOString();
      throw new ChatError('muted', { message: `You are muted in this room until ${until}.` });
    }
    if (room.settings.readOnly && rank(role) < rank(READ_ONLY_POSTER)) throw new ChatError('read_only');
    return found;
  }

  /** Tells the room the caller is typing (not stored); refused like a send when they may not post. */
  async typing(auth: AuthContext, roomId: string): Promise<void> {
    // Checked against the store each time: a muted member or one in a read-only room does not type.
    await this.requirePoster(auth, roomId);
    await this.ctx.bus.publish(topics.room(roomId), {
      kind: 'typing',
      roomId,
      userId: auth.user.id,
      username: auth.user.username,
    });
  }

  /**
   * Stores a message and fans it out. Resolves only after the message is durable, so an ack built from the
   * result never lies. Idempotent per clientMsgId: a retry returns the stored message with `duplicate: true`.
   */
  async send(
    auth: AuthContext,
    input: { roomId: string; clientMsgId: string; body: string },
  ): Promise<{ event: RoomEvent; duplicate: boolean }> {
    const { stored } = await this.submit(auth, input);
    return stored;
  }

  /**
   * `send` in two steps, for a connection that pipelines: resolves once the message passed every check and is
   * queued in the store (stores keep call order, so a connection that submits one message after the previous
   * one resolved gets its messages stored in the order sent), with `stored`, which settles like `send`. The
   * next message can be checked while this one waits for its commit: waiting for durability one message at a
   * time would cap a sender at one message per commit round trip.
   */
  async submit(
    auth: AuthContext,
    input: { roomId: string; clientMsgId: string; body: string },
  ): Promise<{ stored: Promise<{ event: RoomEvent; duplicate: boolean }> }> {
    if (input.body.length > this.ctx.limits.maxMessageChars) {
      throw new ChatError('message_too_long', {
        message: `A message has at most ${this.ctx.limits.maxMessageChars} characters.`,
      });
    }
    const { room, role } = await this.requirePoster(auth, input.roomId);
    const verdict = this.ctx.filter.check(input.body);
    if (verdict.blocked.length > 0) throw new ChatError('content_blocked');
    const refused = await this.throttle(auth, room, role, input);
    if (refused) {
      // Throttles count new messages. A retry of one already stored (its ack lost, perhaps on another node) gets
      // its ack as a duplicate instead of a refusal; only refusals pay for this lookup.
      const earlier = await this.ctx.store.findMessageByClientMsgId(auth.user.id, input.clientMsgId);
      if (!earlier || earlier.roomId !== input.roomId) throw refused;
      const stored = this.ctx.bus
        .publish(topics.room(input.roomId), { kind: 'event', event: earlier })
        .then(() => ({ event: earlier, duplicate: true }));
      stored.catch(() => {});
      return { stored };
    }
    const appended = this.ctx.store.appendMessage({
      id: newId('e'),
      roomId: input.roomId,
      senderId: auth.user.id,
      clientMsgId: input.clientMsgId,
      body: verdict.text,
    });
    const stored = appended.then(async (result) => {
      if (!result.duplicate) this.stats.stored++;
      if (verdict.flagged.length > 0 && !result.duplicate) {
        // Flagged words pass, and land in the moderation queue as a report by the server itself.
        await this.ctx.store.createReport({
          id: newTimeId('rp'),
          reporterId: SYSTEM_USER_ID,
          roomId: input.roomId,
          seq: result.event.seq,
          targetUserId: auth.user.id,
          reason: `keyword filter: ${verdict.flagged.join(', ')}`,
          excerpt: result.event.body,
        });
      }
      // A duplicate is published again too: if the first attempt died between commit and publish, this heals
      // live delivery; receivers drop what they already have by seq.
      await this.ctx.bus.publish(topics.room(input.roomId), { kind: 'event', event: result.event });
      return result;
    });
    // The caller handles `stored` once this resolves; until then a failure must not count as unhandled.
    stored.catch(() => {});
    return { stored };
  }

  /** The rate limit, slow mode and flood guard, in that order: the refusal, or null to go ahead. */
  private async throttle(
    auth: AuthContext,
    room: Room,
    role: MemberRole,
    input: { roomId: string; clientMsgId: string; body: string },
  ): Promise<ChatError | null> {
    const rate = await this.ctx.limiter.take(`msg:${auth.user.id}`, this.ctx.limits.rates.message);
    if (!rate.ok) return new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
    if (room.settings.slowModeSeconds > 0 && rank(role) < rank(READ_ONLY_POSTER)) {
      const slow = await this.ctx.limiter.take(`slow:${room.id}:${auth.user.id}`, {
        burst: 1,
        perSecond: 1 / room.settings.slowModeSeconds,
      });
      if (!slow.ok) return new ChatError('slow_mode', { retryAfterMs: slow.retryAfterMs });
    }
    // Last before storing, as FloodGuard asks: it counts what it lets through, so a send refused above (and
    // re-sent by the SDK after retryAfterMs) must not count as a repeat.
    return this.flood.check(auth.user.id, input.roomId, input.body, input.clientMsgId);
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
    await this.ctx.store.appendAudit({
      id: newTimeId('al'),
      actorId: auth.user.id,
      action: 'announcement',
      roomId: null,
      targetUserId: null,
      data: { body: body.slice(0, 200) },
    });
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

import type { MemberRole, MessageEdit, Room, RoomEvent } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { toPublicUser } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import { SYSTEM_USER_ID, type DomainContext } from './context.js';
import { newId, newTimeId } from './ids.js';
import { MentionService } from './mentions.js';
import { FloodGuard, mentionsOf } from './moderation/flood-guard.js';
import { SendPipeline, type SendDraft, type SendInput } from './send/pipeline.js';
import { requireLength, requirePostingRights, standardHooks, standardSteps } from './send/standard-steps.js';
import type { RoomService } from './rooms.js';
import type { EventKinds, MemberRecord } from './store.js';

const NONE: readonly string[] = [];

/** Sending and reading messages, and server-wide announcements. */
export class MessageService {
  /** Messages stored (duplicates not counted), for metrics. */
  readonly stats = { stored: 0 };
  /** The send steps and after-commit hooks (src/core/send/): features plug in with addStep / addHook. */
  readonly pipeline: SendPipeline;
  /** Resolving, storing and announcing @mentions; also the mentions inbox. */
  readonly mentions: MentionService;

  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {
    // Repeated-message and mention limits: per node (a flood spread over nodes is caught by the rate limit).
    const flood = new FloodGuard(
      { repeats: ctx.limits.flood.repeats, windowMs: ctx.limits.flood.windowMs, maxMentions: ctx.limits.maxMentions },
      ctx.now,
    );
    this.pipeline = new SendPipeline(standardSteps(ctx, rooms, flood), standardHooks(ctx, this.stats));
    this.mentions = new MentionService(ctx);
    // Last of the steps (a refused message costs no lookup) and after the room's publish (the message first).
    this.pipeline.addStep(this.mentions.step());
    this.pipeline.addHook(this.mentions.hook(), { after: 'publish' });
  }

  /**
   * Whether the caller may post in the room now: a member, not muted, a moderator in a read-only room — the
   * `membership` and `posting rights` steps of a send. Typing asks the same (a user who may not post does not type).
   */
  async requirePoster(
    auth: AuthContext,
    roomId: string,
  ): Promise<{ room: Room; role: MemberRole; member: MemberRecord }> {
    const found = await this.rooms.requireMember(auth, roomId);
    requirePostingRights(this.ctx, found);
    await this.rooms.requireDmOpen(found.room, auth.user.id);
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
  async send(auth: AuthContext, input: SendInput): Promise<{ event: RoomEvent; duplicate: boolean }> {
    const { stored } = await this.submit(auth, input);
    return stored;
  }

  /**
   * `send` in two steps, for a connection that pipelines: resolves once the message passed every send step and
   * is queued in the store (stores keep call order, so a connection that submits one message after the previous
   * one resolved gets its messages stored in the order sent), with `stored`, which settles like `send` after the
   * after-commit hooks. The next message can be checked while this one waits for its commit: waiting for
   * durability one message at a time would cap a sender at one message per commit round trip.
   */
  async submit(
    auth: AuthContext,
    input: SendInput,
  ): Promise<{ stored: Promise<{ event: RoomEvent; duplicate: boolean }> }> {
    const draft: SendDraft = { auth, input, body: input.body, flagged: NONE };
    await this.pipeline.check(draft);
    const result = draft.earlier
      ? Promise.resolve({ event: draft.earlier, duplicate: true })
      : this.ctx.store.appendMessage({
          id: newId('e'),
          roomId: input.roomId,
          senderId: auth.user.id,
          clientMsgId: input.clientMsgId,
          body: draft.body,
          ...(draft.reply || draft.mentions || input.integration || input.emote
            ? {
                data: {
                  ...draft.reply,
                  ...draft.mentions?.data,
                  ...(input.integration ? { integration: input.integration } : {}),
                  ...(input.emote ? { emote: true } : {}),
                },
              }
            : {}),
          ...(draft.mentions ? { mentionTargets: [...draft.mentions.targets.keys()] } : {}),
          ...(draft.attachments && draft.attachments.length > 0 ? { attachments: draft.attachments } : {}),
        });
    const stored = this.afterCommit(draft, result);
    // The caller handles `stored` once this resolves; until then a failure must not count as unhandled.
    stored.catch(() => {});
    return { stored };
  }

  private async afterCommit(
    draft: SendDraft,
    result: Promise<{ event: RoomEvent; duplicate: boolean }>,
  ): Promise<{ event: RoomEvent; duplicate: boolean }> {
    const r = await result;
    await this.pipeline.committed(draft, r);
    return r;
  }

  /**
   * Edits the caller's own message at `seq`: the send rules apply to the new body (length, posting rights, keyword
   * filter, the message rate) and `EDIT_WINDOW_SECONDS` to the message's age. Appends `message.edited` and fans it
   * out, once durable. Idempotent by content: when the (filtered) body equals the stored one nothing is written and
   * `edited` is false, so a retry of an edit whose answer was lost does not append twice.
   */
  async editMessage(
    auth: AuthContext,
    roomId: string,
    seq: number,
    body: string,
  ): Promise<{ message: RoomEvent; edited: boolean }> {
    requireLength(this.ctx, body);
    const found = await this.rooms.requireMember(auth, roomId);
    const message = await this.ctx.store.getEvent(roomId, seq);
    if (!message || message.type !== 'message') throw new ChatError('not_found');
    if (message.data?.deleted) throw new ChatError('message_deleted');
    // Author only: moderators and server admins delete, they do not rewrite what someone else said.
    if (message.senderId !== auth.user.id) throw new ChatError('forbidden');
    requirePostingRights(this.ctx, found);
    await this.rooms.requireDmOpen(found.room, auth.user.id);
    const windowS = this.ctx.limits.editWindowSeconds;
    if (windowS > 0 && this.ctx.now() - Date.parse(message.createdAt) > windowS * 1000) {
      throw new ChatError('edit_window_closed', {
        message: `A message may be edited within ${windowS} seconds of sending.`,
      });
    }
    const verdict = this.ctx.filter.check(body);
    if (verdict.blocked.length > 0) throw new ChatError('content_blocked');
    // A retry (or an edit to the same text) costs nothing and is answered with the message as it stands.
    if (verdict.text === message.body) return { message, edited: false };
    // The send path's mention limit, which the flood guard applies to sends.
    if (body.includes('@') && mentionsOf(body).size > this.ctx.limits.maxMentions) {
      throw new ChatError('too_many_mentions');
    }
    const rate = await this.ctx.limiter.take(`msg:${auth.user.id}`, this.ctx.limits.rates.message);
    if (!rate.ok) throw new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
    // An edit re-reads its mentions: only when the old or the new text has some (a plain edit pays nothing).
    const resolved = await this.mentions.resolve(found.room, auth.user.id, found.role, verdict.text);
    const hadMentions = message.data?.mentions !== undefined || message.data?.mentionAll !== undefined;
    const mentionUpdate =
      resolved || hadMentions
        ? {
            data: resolved?.data ?? {},
            targets: [...(resolved?.targets.keys() ?? [])],
            // An @here that stays @here keeps those who were here when it was sent.
            keepExisting: message.data?.mentionAll === 'here' && resolved?.data.mentionAll === 'here',
          }
        : undefined;
    const {
      message: updated,
      event,
      mentioned,
    } = await this.ctx.store.editMessage(roomId, seq, auth.user.id, verdict.text, mentionUpdate);
    if (!event) return { message: updated, edited: false };
    if (verdict.flagged.length > 0) {
      await this.ctx.store.createReport({
        id: newTimeId('rp'),
        reporterId: SYSTEM_USER_ID,
        roomId,
        seq,
        targetUserId: auth.user.id,
        reason: `keyword filter: ${verdict.flagged.join(', ')}`,
        excerpt: verdict.text,
      });
    }
    await this.rooms.publish([event]);
    // Those the edit newly mentions hear of it like those of a new message.
    if (resolved && mentioned.length > 0) {
      const added = new Set(mentioned);
      const targets = [...resolved.targets].filter(([id]) => added.has(id));
      await this.mentions.notify(auth, found.room, updated, targets);
    }
    return { message: updated, edited: true };
  }

  /** The edit history of a message, oldest first, for anyone who may read the room; none for a deleted one. */
  async listEdits(auth: AuthContext, roomId: string, seq: number): Promise<MessageEdit[]> {
    await this.rooms.requireReadable(auth, roomId);
    const message = await this.ctx.store.getEvent(roomId, seq);
    if (!message || message.type !== 'message') throw new ChatError('not_found');
    if (message.data?.deleted) throw new ChatError('message_deleted');
    return this.ctx.store.listMessageEdits(roomId, seq);
  }

  async history(
    auth: AuthContext,
    roomId: string,
    query: { after?: number | undefined; before?: number | undefined; around?: number | undefined; limit: number },
    kinds: EventKinds | undefined,
  ): Promise<RoomEvent[]> {
    await this.rooms.requireReadable(auth, roomId);
    if (query.around !== undefined) {
      // Centred: the message and up to half a page before it (older), the rest after it.
      const older = Math.max(1, Math.ceil(query.limit / 2));
      const upTo = await this.ctx.store.listEvents(roomId, {
        before: query.around + 1,
        limit: older,
        ...(kinds ? { kinds } : {}),
      });
      const newer =
        query.limit - upTo.length > 0
          ? await this.ctx.store.listEvents(roomId, {
              after: query.around,
              limit: query.limit - upTo.length,
              ...(kinds ? { kinds } : {}),
            })
          : [];
      return this.withThreadSummaries(roomId, [...upTo, ...newer]);
    }
    const page = await this.ctx.store.listEvents(roomId, {
      ...(query.after !== undefined ? { after: query.after } : {}),
      ...(query.before !== undefined ? { before: query.before } : {}),
      limit: query.limit,
      ...(kinds ? { kinds } : {}),
    });
    return this.withThreadSummaries(roomId, page);
  }

  /**
   * A thread: its root (with replyCount and lastReplyAt) and a page of its replies in seq order, paged like history.
   * The seq of a reply answers its root's thread (threads are flat). Anyone who may read the room may read it.
   */
  async thread(
    auth: AuthContext,
    roomId: string,
    seq: number,
    query: { after?: number | undefined; before?: number | undefined; limit: number },
  ): Promise<{ root: RoomEvent; messages: RoomEvent[] }> {
    await this.rooms.requireReadable(auth, roomId);
    let root = await this.ctx.store.getEvent(roomId, seq);
    if (!root || root.type !== 'message') throw new ChatError('not_found');
    const up = root.data?.threadRoot;
    if (typeof up === 'number' && up !== seq) {
      root = await this.ctx.store.getEvent(roomId, up);
      if (!root || root.type !== 'message') throw new ChatError('not_found');
    }
    const messages = await this.ctx.store.listThread(roomId, root.seq, {
      ...(query.after !== undefined ? { after: query.after } : {}),
      ...(query.before !== undefined ? { before: query.before } : {}),
      limit: query.limit,
    });
    const [withSummary] = await this.withThreadSummaries(roomId, [root]);
    return { root: withSummary!, messages };
  }

  /** Messages that are thread roots (deleted ones too: their thread stays) get `data.replyCount` and `data.lastReplyAt` (computed, not stored). */
  private async withThreadSummaries(roomId: string, page: RoomEvent[]): Promise<RoomEvent[]> {
    const seqs = page.filter((e) => e.type === 'message').map((e) => e.seq);
    if (seqs.length === 0) return page;
    const summaries = await this.ctx.store.threadSummaries(roomId, seqs);
    if (summaries.size === 0) return page;
    return page.map((e) => {
      const s = summaries.get(e.seq);
      return s && e.type === 'message' ? { ...e, data: { ...e.data, ...s } } : e;
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

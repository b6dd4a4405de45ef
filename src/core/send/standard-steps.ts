import { PROTOCOL_LIMITS, type ReplyData, type RoomEvent } from '../../protocol/model.js';
import { READ_ONLY_POSTER, rank } from '../../protocol/permissions.js';
import { topics } from '../bus.js';
import { ChatError } from '../chat-error.js';
import { SYSTEM_USER_ID, type DomainContext } from '../context.js';
import { newTimeId } from '../ids.js';
import type { FloodGuard } from '../moderation/flood-guard.js';
import type { RoomService } from '../rooms.js';
import type { AfterCommitHook, SendDraft, SendStep } from './pipeline.js';

/**
 * The send path as it ships, in order. The order is part of the protocol (tests pin which error a message that
 * breaks two rules gets): checks first (length, membership, posting rights, keyword filter), then the throttles,
 * which count new messages (rate limit, slow mode, flood guard), then the duplicate lookup for a refused retry.
 */
export function standardSteps(ctx: DomainContext, rooms: RoomService, flood: FloodGuard): SendStep[] {
  return [
    {
      name: 'length',
      run: (d) => requireLength(ctx, d.input.body),
    },
    {
      name: 'membership',
      async run(d) {
        const { room, role, member } = await rooms.requireMember(d.auth, d.input.roomId);
        d.room = room;
        d.role = role;
        d.member = member;
      },
    },
    { name: 'posting rights', run: (d) => requirePostingRights(ctx, d) },
    {
      // One indexed query, for one-to-one DMs only: a block either way closes the DM to both. A refusal, not a
      // throw, so the retry of a message stored before the block still gets its ack.
      name: 'dm block',
      async run(d) {
        if (d.room!.kind !== 'dm' || d.room!.memberCount > 2) return;
        if (await ctx.store.blockWithMember(d.room!.id, d.auth.user.id)) d.refused = new ChatError('dm_unavailable');
      },
    },
    {
      name: 'keyword filter',
      run(d) {
        const verdict = ctx.filter.check(d.input.body);
        if (verdict.blocked.length > 0) throw new ChatError('content_blocked');
        d.body = verdict.text;
        d.flagged = verdict.flagged;
      },
    },
    {
      // One indexed lookup, for replies only. A bad target is a refusal, not a throw: the retry of a reply stored
      // before its target was deleted still gets its ack (the duplicate lookup below), not an error.
      name: 'reply target',
      async run(d) {
        const replyTo = d.input.replyTo;
        if (replyTo === undefined) {
          if (d.input.threadOnly) throw new ChatError('validation_failed', { message: 'threadOnly needs replyTo.' });
          return;
        }
        const target = await ctx.store.getEvent(d.input.roomId, replyTo);
        if (!target || target.type !== 'message') d.refused = new ChatError('reply_target_not_found');
        else if (target.data?.deleted) d.refused = new ChatError('message_deleted');
        else d.reply = replyData(target, d.input.threadOnly === true);
      },
    },
    {
      name: 'rate limit',
      async run(d) {
        // An incoming webhook's post is limited per webhook (WEBHOOK_POSTS_PER_MINUTE, before the send), not as its
        // creator's own messages.
        if (d.input.integration) return;
        const rate = await ctx.limiter.take(`msg:${d.auth.user.id}`, ctx.limits.rates.message);
        if (!rate.ok) d.refused = new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
      },
    },
    {
      name: 'slow mode',
      async run(d) {
        const seconds = d.room!.settings.slowModeSeconds;
        if (seconds <= 0 || rank(d.role!) >= rank(READ_ONLY_POSTER)) return;
        const slow = await ctx.limiter.take(`slow:${d.room!.id}:${d.auth.user.id}`, {
          burst: 1,
          perSecond: 1 / seconds,
        });
        if (!slow.ok) d.refused = new ChatError('slow_mode', { retryAfterMs: slow.retryAfterMs });
      },
    },
    {
      // Last of the throttles, as FloodGuard asks: it counts what it lets through, so a send refused above (and
      // re-sent by the SDK after retryAfterMs) must not count as a repeat.
      name: 'flood guard',
      run(d) {
        // Files make a message different: three photos sent with no text in a row are not a repeat.
        const files = d.input.attachments;
        const text = files && files.length > 0 ? `${d.input.body}\u0000${files.join(',')}` : d.input.body;
        // A webhook repeats itself by nature ("build passed"): integrations are not flood-checked as their creator.
        const refused = d.input.integration
          ? null
          : flood.check(d.auth.user.id, d.input.roomId, text, d.input.clientMsgId);
        if (refused) d.refused = refused;
      },
    },
    {
      // Throttles count new messages. A retry of one already stored (its ack lost, perhaps on another node) gets
      // its ack as a duplicate instead of a refusal; only refusals pay for this lookup.
      name: 'duplicate lookup',
      onRefusal: true,
      async run(d) {
        const earlier = await ctx.store.findMessageByClientMsgId(d.auth.user.id, d.input.clientMsgId);
        if (earlier && earlier.roomId === d.input.roomId) d.earlier = earlier;
      },
    },
  ];
}

/** A reply's stored fields: threads are flat, so a reply to a reply joins its target's thread. */
export function replyData(target: RoomEvent, threadOnly: boolean): ReplyData {
  const root = target.data?.threadRoot;
  return {
    replyTo: target.seq,
    threadRoot: typeof root === 'number' ? root : target.seq,
    threadOnly,
    quote: { senderId: target.senderId, body: [...(target.body ?? '')].slice(0, PROTOCOL_LIMITS.quoteChars).join('') },
  };
}

/** MAX_MESSAGE_CHARS, for sends and edits. */
export function requireLength(ctx: DomainContext, body: string): void {
  const max = ctx.limits.maxMessageChars;
  if (body.length > max)
    throw new ChatError('message_too_long', { message: `A message has at most ${max} characters.` });
}

/** Muted members do not post; in a read-only room only moderators do. (Typing follows the same rule.) */
export function requirePostingRights(ctx: DomainContext, d: Pick<SendDraft, 'role' | 'member' | 'room'>): void {
  const mutedUntil = d.member!.mutedUntil;
  if (mutedUntil !== null && mutedUntil > ctx.now()) {
    const until = new Date(mutedUntil).toISOString();
    throw new ChatError('muted', { message: `You are muted in this room until ${until}.` });
  }
  if (d.room!.settings.readOnly && rank(d.role!) < rank(READ_ONLY_POSTER)) throw new ChatError('read_only');
}

/** What follows a commit, in order: count it, report flagged words, fan it out. */
export function standardHooks(ctx: DomainContext, stats: { stored: number }): AfterCommitHook[] {
  return [
    {
      name: 'count',
      run(_d, result) {
        if (!result.duplicate) stats.stored++;
      },
    },
    {
      // Flagged words pass, and land in the moderation queue as a report by the server itself.
      name: 'flagged report',
      run(d, { event, duplicate }) {
        if (d.flagged.length === 0 || duplicate) return;
        return fileReport(ctx, d, event);
      },
    },
    {
      // A duplicate is published again too: if the first attempt died between commit and publish, this heals
      // live delivery; receivers drop what they already have by seq.
      name: 'publish',
      run: (_d, { event }) => ctx.bus.publish(topics.room(event.roomId), { kind: 'event', event }),
    },
  ];
}

async function fileReport(ctx: DomainContext, d: SendDraft, event: RoomEvent): Promise<void> {
  await ctx.store.createReport({
    id: newTimeId('rp'),
    reporterId: SYSTEM_USER_ID,
    roomId: d.input.roomId,
    seq: event.seq,
    targetUserId: d.auth.user.id,
    reason: `keyword filter: ${d.flagged.join(', ')}`,
    excerpt: event.body,
  });
}

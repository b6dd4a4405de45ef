import type { MentionNotice } from '../protocol/frames.js';
import { PROTOCOL_LIMITS, type MemberRole, type MentionItem, type Room, type RoomEvent } from '../protocol/model.js';
import { rank } from '../protocol/permissions.js';
import type { AuthContext } from './accounts.js';
import { topics } from './bus.js';
import type { DomainContext } from './context.js';
import { mentionsOf } from './moderation/flood-guard.js';
import type { AfterCommitHook, SendDraft, SendStep } from './send/pipeline.js';

/** How a mention reached a user. */
export type MentionVia = 'user' | 'room' | 'here';

/** What a message's text mentions, resolved against the room: its `data` fields and who it reaches. */
export interface ResolvedMentions {
  /** MentionData: `mentions` (named member ids) and `mentionAll`, each only when present. */
  data: { mentions?: string[]; mentionAll?: 'room' | 'here' };
  /** Every user the message reaches, and how (a name beats `@room` / `@here`). Never the sender. */
  targets: Map<string, MentionVia>;
}

/** The words `@room` and `@here` address the room, not a user of that name. */
const ALL_WORDS = new Set(['room', 'here']);

/**
 * Mentions: `@username` of a member, and `@room` / `@here` from members the room allows (RoomSettings.mentionAllRole).
 * A message's mentions are resolved once, when it is sent (or edited), and stored with it: the message's
 * `data.mentions` / `data.mentionAll`, and one mention row per user reached, in the same transaction as the
 * message. Those rows give each room's `unreadMentions` and the inbox (`GET /me/mentions`); each user reached also
 * gets a live `mention` frame after the commit.
 */
export class MentionService {
  constructor(private readonly ctx: DomainContext) {}

  /**
   * The mentions of `body` sent by `senderId` (holding `role`) in `room`. Null when it mentions nobody — and
   * without a store read when it has no `@` at all, the common case. Names that are not current members, and the
   * sender's own, mention nobody; so do `@room` / `@here` below the room's `mentionAllRole` (the text stays).
   * `@here` reaches the members online now. At most MAX_MENTIONS names count (the send path refuses more).
   */
  async resolve(room: Room, senderId: string, role: MemberRole, body: string): Promise<ResolvedMentions | null> {
    if (!body.includes('@')) return null;
    const words = mentionsOf(body);
    if (words.size === 0) return null;
    const names = [...words].filter((w) => !ALL_WORDS.has(w)).slice(0, this.ctx.limits.maxMentions);
    const mayAll = rank(role) >= rank(room.settings.mentionAllRole);
    const all = !mayAll ? undefined : words.has('room') ? 'room' : words.has('here') ? 'here' : undefined;

    const targets = new Map<string, MentionVia>();
    const named = (await this.ctx.store.findMemberIds(room.id, names)).filter((id) => id !== senderId).sort();
    if (all) {
      const members = (await this.ctx.store.listMemberIds(room.id)).filter((id) => id !== senderId);
      let reached = members;
      if (all === 'here') {
        const status = await this.ctx.presence.statusOf(members);
        reached = members.filter((id) => status.get(id) === 'online');
      }
      for (const id of reached) targets.set(id, all);
    }
    for (const id of named) targets.set(id, 'user');
    if (named.length === 0 && !all) return null;
    return {
      data: { ...(named.length > 0 ? { mentions: named } : {}), ...(all ? { mentionAll: all } : {}) },
      targets,
    };
  }

  /** The caller's mentions inbox, newest first. */
  inbox(auth: AuthContext, q: { before?: number | undefined; limit: number }): Promise<MentionItem[]> {
    return this.ctx.store.listMentions(auth.user.id, {
      ...(q.before !== undefined ? { before: q.before } : {}),
      limit: q.limit,
    });
  }

  /** Tells each user in `targets` (by `via`) of the stored message: a `mention` frame to their connections. */
  async notify(
    auth: AuthContext,
    room: Room,
    message: RoomEvent,
    targets: Iterable<[string, MentionVia]>,
  ): Promise<void> {
    const from = { id: auth.user.id, username: auth.user.username, displayName: auth.user.displayName };
    const snippet = [...(message.body ?? '')].slice(0, PROTOCOL_LIMITS.quoteChars).join('');
    const sends: Promise<void>[] = [];
    for (const [userId, via] of targets) {
      const notice: MentionNotice = {
        type: 'mention',
        roomId: room.id,
        seq: message.seq,
        from,
        roomName: room.name,
        via,
        snippet,
      };
      sends.push(this.ctx.bus.publish(topics.user(userId), { kind: 'mention', userId, notice }));
    }
    await Promise.all(sends);
  }

  /**
   * The send step: last of all, so a message a throttle refused costs no lookup. Its result becomes the message's
   * data and mention rows (MessageService.submit).
   */
  step(): SendStep {
    return {
      name: 'mentions',
      run: async (d: SendDraft) => {
        const found = await this.resolve(d.room!, d.auth.user.id, d.role!, d.body);
        if (found) d.mentions = found;
      },
    };
  }

  /** The after-commit hook: the live frames, after the room's own publish. Not for a retry's duplicate. */
  hook(): AfterCommitHook {
    return {
      name: 'mention notify',
      run: (d, { event, duplicate }) => {
        if (duplicate || !d.mentions) return;
        return this.notify(d.auth, d.room!, event, d.mentions.targets);
      },
    };
  }
}

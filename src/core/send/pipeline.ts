import type { FileInfo, IntegrationRef, MemberRole, ReplyData, Room, RoomEvent } from '../../protocol/model.js';
import type { AuthContext } from '../accounts.js';
import type { ChatError } from '../chat-error.js';
import type { ResolvedMentions } from '../mentions.js';
import type { MemberRecord } from '../store.js';

export interface SendInput {
  roomId: string;
  clientMsgId: string;
  body: string;
  /** A reply to the message at this seq of the same room. */
  replyTo?: number | undefined;
  /** With replyTo: a thread reply main timelines hide. */
  threadOnly?: boolean | undefined;
  /** Ids of files the sender uploaded, to attach (checked by the `attachments` step). */
  attachments?: readonly string[] | undefined;
  /** Posted by an incoming webhook: stored as the message's `data.integration` (issue 16). */
  integration?: IntegrationRef | undefined;
  /** An action message (`/me waves`): stored with `data.emote: true`, shown as "* alice waves". */
  emote?: boolean | undefined;
}

/**
 * One message on its way through the send steps: what the client sent, and what steps found out (the room and
 * the sender's membership, the body as it will be stored). One object per message, passed to every step.
 */
export interface SendDraft {
  readonly auth: AuthContext;
  readonly input: SendInput;
  /** Set by the `membership` step. */
  room?: Room;
  role?: MemberRole;
  member?: MemberRecord;
  /** The body to store: the input's, masked by the keyword filter. */
  body: string;
  /** Set by the `reply target` step for a reply: stored as the message's `data`. */
  reply?: ReplyData;
  /** Set by the `mentions` step when the message mentions someone: stored with it (data and mention rows). */
  mentions?: ResolvedMentions;
  /** Set by the `attachments` step: the files the message carries. */
  attachments?: FileInfo[];
  /** Flagged words: the message passes and moderators get a report (an after-commit hook). */
  flagged: readonly string[];
  /** A throttle's refusal. Later steps are skipped, except those that run `onRefusal`. */
  refused?: ChatError;
  /** A refused retry of a message already stored: it is acknowledged as a duplicate instead of refused. */
  earlier?: RoomEvent;
}

/**
 * One named step of the send path, run in order before the message is stored. A step refuses a message by
 * throwing a ChatError (checks: the message is wrong, whatever happened before) or by setting `draft.refused`
 * (throttles: too many, too fast, which a retry of an already stored message is exempt from). A step may return
 * a promise; synchronous ones cost no extra turn.
 */
export interface SendStep {
  readonly name: string;
  /** Runs only after a throttle refused the message (a step that can turn the refusal into something else). */
  readonly onRefusal?: boolean;
  run(draft: SendDraft): void | Promise<void>;
}

/** Runs, in order, after a message is durable (duplicates included, so a hook checks `duplicate` itself). */
export interface AfterCommitHook {
  readonly name: string;
  run(draft: SendDraft, result: { event: RoomEvent; duplicate: boolean }): void | Promise<void>;
}

/**
 * The send path as two ordered lists: steps before the store, hooks after the commit. A feature (mentions, bots,
 * webhooks, a hash chain) plugs in as one step or hook at its place.
 */
export class SendPipeline {
  private readonly steps: SendStep[] = [];
  private readonly hooks: AfterCommitHook[] = [];

  constructor(steps: readonly SendStep[] = [], hooks: readonly AfterCommitHook[] = []) {
    for (const s of steps) this.addStep(s);
    for (const h of hooks) this.addHook(h);
  }

  /** Step names in the order they run. */
  get stepNames(): string[] {
    return this.steps.map((s) => s.name);
  }

  get hookNames(): string[] {
    return this.hooks.map((h) => h.name);
  }

  /** Adds a step at the end, or right after the step named `after`. */
  addStep(step: SendStep, where: { after?: string } = {}): void {
    this.steps.splice(this.indexAfter(this.steps, where.after), 0, step);
  }

  /** Adds an after-commit hook at the end, or right after the hook named `after`. */
  addHook(hook: AfterCommitHook, where: { after?: string } = {}): void {
    this.hooks.splice(this.indexAfter(this.hooks, where.after), 0, hook);
  }

  /** Runs the steps; throws the refusal a throttle left standing. */
  async check(draft: SendDraft): Promise<void> {
    for (const step of this.steps) {
      if ((draft.refused !== undefined) !== (step.onRefusal === true)) continue;
      const pending = step.run(draft);
      if (pending) await pending;
    }
    if (draft.refused && !draft.earlier) throw draft.refused;
  }

  /** Runs the after-commit hooks in order. */
  async committed(draft: SendDraft, result: { event: RoomEvent; duplicate: boolean }): Promise<void> {
    for (const hook of this.hooks) {
      const pending = hook.run(draft, result);
      if (pending) await pending;
    }
  }

  private indexAfter(list: readonly { name: string }[], after: string | undefined): number {
    if (after === undefined) return list.length;
    const i = list.findIndex((s) => s.name === after);
    if (i < 0) throw new Error(`no send step or hook named ${after}`);
    return i + 1;
  }
}

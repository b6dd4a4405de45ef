/**
 * The built-in assistant: a user account (created at start, in `ensureUser`, the one place that makes it) that a
 * room's admins add as a member or remove. It answers messages that @mention it in rooms it belongs to, and every
 * message in a one-to-one DM with it, from its backend (src/core/assistant/backend.ts), with the room's recent
 * messages as context and within a per-room budget (ASSISTANT_ANSWERS_PER_HOUR).
 *
 * An answer in progress is shown as `assistant.stream` frames to the room's connections — not stored, not on the
 * sequence, throttled to one per ASSISTANT_STREAM_INTERVAL_MS, each carrying the whole text so far — and ends as one
 * ordinary message from the assistant through the normal send path (a reply to the question, clientMsgId derived
 * from the question, so a retry cannot post twice). History and resume therefore see exactly the final answer.
 * The assistant never answers itself or a bot, so two assistants cannot talk in a loop.
 */
import type { PublicUser, RoomEvent } from '../../protocol/model.js';
import type { AssistantStreamFrame } from '../../protocol/frames.js';
import { ERRORS, type ErrorCode } from '../../protocol/errors.js';
import type { AuthContext } from '../accounts.js';
import { toPublicUser } from '../accounts.js';
import { topics } from '../bus.js';
import { ChatError } from '../chat-error.js';
import { SYSTEM_USER_ID, type DomainContext } from '../context.js';
import { newId, newTimeId } from '../ids.js';
import type { MessageService } from '../messages.js';
import type { RateRule } from '../rate-limiter.js';
import type { RoomService } from '../rooms.js';
import type { AfterCommitHook, SendDraft } from '../send/pipeline.js';
import type { UserRecord } from '../store.js';
import { AssistantBackendError, type AssistantBackend, type AssistantOutcome, type ContextLine } from './backend.js';

export interface AssistantOptions {
  username: string;
  displayName: string;
  /** Answers per room per hour (a token bucket: a burst of this many, refilled over the hour). */
  answersPerHour: number;
  /** Messages before the question given as context. */
  contextMessages: number;
  /** Least time between two `assistant.stream` frames of one answer. */
  streamIntervalMs: number;
  /** Called when something fails that no user is told about (logged by the server). */
  onError: (err: unknown) => void;
  /** Called with every outcome (the customer-service hand-over can act on `unknown`). */
  onOutcome?: (roomId: string, question: RoomEvent, outcome: AssistantOutcome) => void;
}

/** What a room's settings show of the assistant. */
export interface AssistantStatus {
  /** The assistant is a member of the room (it answers mentions there). */
  added: boolean;
  user: PublicUser;
  backend: 'faq' | 'openai';
  answersPerHour: number;
}

export class AssistantService {
  private user: UserRecord | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly budget: RateRule;

  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
    private readonly messages: MessageService,
    private readonly backend: AssistantBackend,
    private readonly opts: AssistantOptions,
  ) {
    this.budget = { burst: opts.answersPerHour, perSecond: opts.answersPerHour / 3600 };
  }

  /**
   * Finds or creates the assistant's account: the one place that makes it. It is a bot account (issue 16: `bot`
   * on its profile, no password, no login) managed by the server itself; it holds no token — the server acts as
   * it directly. A person's account under ASSISTANT_USERNAME is never taken over: the server refuses to start.
   */
  async ensureUser(): Promise<UserRecord> {
    if (this.user) return this.user;
    let user = await this.ctx.store.getUserByUsername(this.opts.username);
    if (!user) {
      try {
        user = await this.ctx.store.createBot({
          id: newId('u'),
          username: this.opts.username,
          displayName: this.opts.displayName,
          passwordHash: '!assistant',
          bot: { roomId: null, createdBy: SYSTEM_USER_ID, scopes: ['read', 'post'] },
        });
      } catch (err) {
        // Cluster nodes starting at once race to create it: the loser finds the winner's.
        user = await this.ctx.store.getUserByUsername(this.opts.username);
        if (!user) throw err;
      }
    }
    if (!user.botOf) {
      throw new Error(
        `ASSISTANT_USERNAME "${this.opts.username}" is a person's account: choose another username for the assistant`,
      );
    }
    this.user = user;
    return user;
  }

  /** At start, on every node: finds or makes its account (a bot, so it never counts as the first user). */
  async start(): Promise<void> {
    await this.ensureUser();
  }

  private get me(): UserRecord {
    if (!this.user) throw new ChatError('unavailable', { message: 'The assistant is starting.' });
    return this.user;
  }

  private auth(): AuthContext {
    const now = this.ctx.now();
    return {
      user: this.me,
      session: {
        id: 'assistant',
        userId: this.me.id,
        tokenHash: '',
        label: 'assistant',
        createdAt: now,
        expiresAt: now,
        lastUsedAt: now,
      },
    };
  }

  /** The assistant's public profile and backend, for clients that want to open a DM with it. */
  info(): { user: PublicUser; backend: 'faq' | 'openai'; answersPerHour: number } {
    return { user: toPublicUser(this.me), backend: this.backend.name, answersPerHour: this.opts.answersPerHour };
  }

  async status(auth: AuthContext, roomId: string): Promise<AssistantStatus> {
    const { room } = await this.rooms.requireVisible(auth, roomId);
    const role = await this.ctx.store.getRole(room.id, this.me.id);
    return { added: role !== null, ...this.info() };
  }

  /** Who may add or remove it: `manageAssistant` of the permissions table (room admins; not in DMs). */
  private requireManager(auth: AuthContext, roomId: string) {
    return this.rooms.requireAllowed(auth, roomId, 'manageAssistant');
  }

  /** Adds the assistant to the room (a `member.joined` event on the sequence). Adding it twice changes nothing. */
  async add(auth: AuthContext, roomId: string): Promise<AssistantStatus> {
    const { room } = await this.requireManager(auth, roomId);
    if (await this.rooms.isBanned(room.id, this.me.id)) throw new ChatError('banned');
    const event = await this.ctx.store.addMember(room.id, this.me.id, 'member', auth.user.id);
    if (event) {
      await this.rooms.publish([event]);
      await this.audit(auth, room.id, 'assistant.add');
    }
    // Not status(): a server admin may manage a private room they cannot see as a member.
    return { added: true, ...this.info() };
  }

  /** Removes it (a `member.left` event). Removing it when it is not there changes nothing. */
  async remove(auth: AuthContext, roomId: string): Promise<AssistantStatus> {
    const { room } = await this.requireManager(auth, roomId);
    const event = await this.ctx.store.removeMember(room.id, this.me.id, auth.user.id, 'removed');
    if (event) {
      await this.rooms.publish([event]);
      await this.audit(auth, room.id, 'assistant.remove');
    }
    return { added: false, ...this.info() };
  }

  private async audit(auth: AuthContext, roomId: string, action: string): Promise<void> {
    await this.ctx.store.appendAudit({
      id: newTimeId('al'),
      actorId: auth.user.id,
      action,
      roomId,
      targetUserId: this.me.id,
      data: {},
    });
  }

  /** The after-commit hook that notices questions; the answer runs in the background (the ack does not wait). */
  hook(): AfterCommitHook {
    return {
      name: 'assistant',
      run: async (draft, result) => {
        if (result.duplicate || !this.user || result.event.type !== 'message') return;
        if (!(await this.isQuestion(draft))) return;
        const task = this.respond(result.event).catch((err: unknown) => this.opts.onError(err));
        this.inFlight.add(task);
        void task.finally(() => this.inFlight.delete(task));
      },
    };
  }

  /** Mentioned by name (not by @room / @here), or any message in a one-to-one DM with it. Never itself or a bot. */
  private async isQuestion(draft: SendDraft): Promise<boolean> {
    const sender = draft.auth.user;
    if (sender.id === this.me.id || sender.botOf) return false;
    if (draft.mentions?.data.mentions?.includes(this.me.id)) return true;
    const room = draft.room;
    if (!room || room.kind !== 'dm' || room.memberCount !== 2) return false;
    return (await this.ctx.store.getRole(room.id, this.me.id)) !== null;
  }

  private publish(frame: AssistantStreamFrame): Promise<void> {
    return this.ctx.bus.publish(topics.room(frame.roomId), { kind: 'assistant.stream', frame });
  }

  private async respond(question: RoomEvent): Promise<void> {
    const roomId = question.roomId;
    const answerId = newId('as');
    const base = { type: 'assistant.stream' as const, roomId, answerId, replyTo: question.seq };
    const spent = await this.ctx.limiter.take(`assistant:${roomId}`, this.budget);
    if (!spent.ok) {
      // Nothing is stored: the room is told, once per question, and the assistant says nothing on the record.
      await this.publish({
        ...base,
        state: 'error',
        text: '',
        error: errorOf('assistant_over_budget', undefined, spent.retryAfterMs),
      });
      return;
    }
    const context = await this.contextFor(question);
    const mention = new RegExp(`@${this.me.username}\\b`, 'gi');
    const text = (question.body ?? '').replace(mention, '').trim();

    // Partial frames: the latest text, at most one per interval; the last one waits for the timer.
    let latest = '';
    let sentAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const flush = () => {
      timer = undefined;
      if (ended) return;
      sentAt = Date.now();
      void this.publish({ ...base, state: 'streaming', text: latest }).catch(this.opts.onError);
    };
    const onText = (soFar: string) => {
      latest = soFar;
      if (timer || ended) return;
      const wait = this.opts.streamIntervalMs - (Date.now() - sentAt);
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait);
    };

    let body: string;
    let failure: ChatErrorBody | undefined;
    try {
      const outcome = await this.backend.answer({ question: text, context, signal: this.stopping.signal }, onText);
      this.opts.onOutcome?.(roomId, question, outcome);
      body = outcome.text;
    } catch (err) {
      if (!(err instanceof AssistantBackendError)) throw err;
      if (this.stopping.signal.aborted) return; // the server is stopping: the store may be gone, say nothing
      failure = errorOf(err.code, err.message);
      body = `⚠️ ${err.message} (${err.code})`;
    } finally {
      ended = true;
      clearTimeout(timer);
    }
    const max = this.ctx.limits.maxMessageChars;
    if (body.length > max) body = `${body.slice(0, max - 1)}…`;
    let seq: number | undefined;
    try {
      const { event } = await this.messages.send(this.auth(), {
        roomId,
        clientMsgId: `assistant-${question.id}`,
        body,
        replyTo: question.seq,
      });
      seq = event.seq;
    } catch (err) {
      // Removed from the room meanwhile, muted, rate-limited: the room hears why no answer is coming.
      failure ??= err instanceof ChatError ? errorOf(err.code, err.message) : errorOf('internal');
      if (!(err instanceof ChatError)) this.opts.onError(err);
    }
    await this.publish({
      ...base,
      state: failure ? 'error' : 'done',
      text: body,
      ...(seq !== undefined ? { seq } : {}),
      ...(failure ? { error: failure } : {}),
    });
  }

  /** The messages before the question (not deleted ones), oldest first, with their authors' usernames. */
  private async contextFor(question: RoomEvent): Promise<ContextLine[]> {
    if (this.opts.contextMessages === 0) return [];
    const events = await this.ctx.store.listEvents(question.roomId, {
      before: question.seq,
      limit: this.opts.contextMessages,
      kinds: 'messages',
    });
    const live = events.filter((e) => e.type === 'message' && !e.data?.deleted && e.body);
    const users = new Map(
      (await this.rooms.usersById([...new Set(live.map((e) => e.senderId))])).map((u) => [u.id, u.username]),
    );
    return live.map((e) => ({
      author: users.get(e.senderId) ?? 'someone',
      body: e.body ?? '',
      assistant: e.senderId === this.me.id,
    }));
  }

  /** Aborts answers in progress and waits for them (each then posts its error, or fails quietly if closing). */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}

type ChatErrorBody = NonNullable<AssistantStreamFrame['error']>;

function errorOf(code: ErrorCode, message?: string, retryAfterMs?: number): ChatErrorBody {
  const e = ERRORS[code];
  return {
    code,
    message: message ?? e.message,
    retryable: e.retryable,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

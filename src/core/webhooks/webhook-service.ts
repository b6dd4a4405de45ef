import { createHash, randomBytes } from 'node:crypto';
import type {
  IncomingWebhook,
  IntegrationRef,
  RoomEvent,
  WebhookDelivery,
  WebhookSubscription,
} from '../../protocol/model.js';
import type { AuthContext } from '../accounts.js';
import { ChatError } from '../chat-error.js';
import type { DomainContext } from '../context.js';
import { newId } from '../ids.js';
import type { MessageService } from '../messages.js';
import type { RateRule } from '../rate-limiter.js';
import type { RoomService } from '../rooms.js';
import type { IncomingWebhookRecord, SubscriptionRecord } from '../store.js';
import { verifySignature } from './signature.js';

/** Checks an outgoing webhook's target against the SSRF policy: null when allowed, else why not. A port. */
export type TargetCheck = (url: string) => Promise<string | null>;

export interface WebhookLimits {
  /** Incoming webhooks per room, and subscriptions per room (and server-wide). MAX_WEBHOOKS_PER_ROOM. */
  maxPerRoom: number;
  /** Posts per incoming webhook. WEBHOOK_POSTS_PER_MINUTE. */
  posts: RateRule;
  /** WEBHOOK_SIGNATURE_TTL_SECONDS in ms. */
  signatureMaxAgeMs: number;
}

/** What an incoming webhook's POST carries (validated by the route). */
export interface IncomingPost {
  text: string;
  displayName?: string | undefined;
  iconUrl?: string | undefined;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const secret = () => randomBytes(32).toString('base64url');

function incomingView(h: IncomingWebhookRecord): IncomingWebhook {
  return {
    id: h.id,
    roomId: h.roomId,
    name: h.name,
    iconUrl: h.iconUrl,
    signed: h.signingSecret !== null,
    createdBy: h.createdBy,
    createdAt: new Date(h.createdAt).toISOString(),
  };
}

function subscriptionView(s: SubscriptionRecord): WebhookSubscription {
  return {
    id: s.id,
    roomId: s.roomId,
    url: s.url,
    events: s.events,
    createdBy: s.createdBy,
    createdAt: new Date(s.createdAt).toISOString(),
  };
}

/**
 * Incoming webhooks (a secret URL that posts into a room as a named integration) and outgoing ones (subscriptions to
 * a room's events, or server-wide to every public room's, delivered by DeliveryWorker). Managed by the room's
 * admins (`manageWebhooks`), server-wide ones by server admins.
 */
export class WebhookService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
    private readonly messages: MessageService,
    private readonly limits: WebhookLimits,
    private readonly checkTarget: TargetCheck,
  ) {}

  // ---- incoming ----

  /**
   * Creates an incoming webhook; the answer alone carries its URL path token (`token`) and, when `signed`, its signing
   * secret: neither can be read again (the token is kept only as a hash).
   */
  async createIncoming(
    auth: AuthContext,
    roomId: string,
    input: { name: string; iconUrl?: string | undefined; signed?: boolean | undefined },
  ): Promise<{ webhook: IncomingWebhook; token: string }> {
    await this.rooms.requireAllowed(auth, roomId, 'manageWebhooks');
    const token = secret();
    const record = await this.ctx.store.createIncomingWebhook(
      {
        id: newId('wh'),
        roomId,
        name: this.rooms.cleanText(input.name),
        iconUrl: input.iconUrl ?? null,
        tokenHash: sha256(token),
        signingSecret: input.signed ? secret() : null,
        createdBy: auth.user.id,
      },
      this.limits.maxPerRoom,
    );
    const webhook = incomingView(record);
    if (record.signingSecret) webhook.signingSecret = record.signingSecret;
    return { webhook, token };
  }

  async listIncoming(auth: AuthContext, roomId: string): Promise<IncomingWebhook[]> {
    await this.rooms.requireAllowed(auth, roomId, 'manageWebhooks');
    return (await this.ctx.store.listIncomingWebhooks(roomId)).map(incomingView);
  }

  async revokeIncoming(auth: AuthContext, roomId: string, id: string): Promise<void> {
    await this.rooms.requireAllowed(auth, roomId, 'manageWebhooks');
    if (!(await this.ctx.store.deleteIncomingWebhook(roomId, id))) throw new ChatError('webhook_not_found');
  }

  /**
   * A POST to an incoming webhook's URL: checks the signature (signed webhooks), the webhook's rate, then sends the
   * text through the normal send path as its creator, marked `data.integration`. `idempotencyKey` makes a retry
   * return the stored message. The creator must still be a member allowed to post: the webhook acts with their rights.
   */
  async post(
    token: string,
    rawBody: Buffer,
    input: IncomingPost,
    headers: { timestamp?: string | undefined; signature?: string | undefined; idempotencyKey?: string | undefined },
  ): Promise<{ event: RoomEvent; duplicate: boolean }> {
    const hook = await this.ctx.store.getIncomingWebhookByTokenHash(sha256(token));
    if (!hook) throw new ChatError('webhook_not_found');
    if (hook.signingSecret) {
      const now = this.ctx.now();
      const check = verifySignature(
        hook.signingSecret,
        rawBody,
        headers.timestamp,
        headers.signature,
        now,
        this.limits.signatureMaxAgeMs,
      );
      if (check === 'invalid') throw new ChatError('bad_signature');
      if (check === 'stale') throw new ChatError('signature_stale');
      // Remembered as long as its timestamp could pass the age check, so a replay is caught for as long as it matters.
      const expiresAt = Number(headers.timestamp) * 1000 + this.limits.signatureMaxAgeMs;
      if (!(await this.ctx.store.rememberSignature(hook.id, headers.signature!, expiresAt))) {
        throw new ChatError('signature_replayed');
      }
    }
    const rate = await this.ctx.limiter.take(`hook:${hook.id}`, this.limits.posts);
    if (!rate.ok) throw new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
    const user = await this.ctx.store.getUser(hook.createdBy);
    if (!user || user.deactivated || (user.bannedUntil !== null && user.bannedUntil > this.ctx.now())) {
      throw new ChatError('forbidden', { message: "The webhook's creator may no longer post." });
    }
    const auth: AuthContext = {
      user,
      session: {
        id: `webhook:${hook.id}`,
        userId: user.id,
        tokenHash: '',
        label: 'webhook',
        createdAt: hook.createdAt,
        expiresAt: Number.MAX_SAFE_INTEGER,
        lastUsedAt: this.ctx.now(),
      },
    };
    const integration: IntegrationRef = {
      id: hook.id,
      name: input.displayName ? this.rooms.cleanText(input.displayName) : hook.name,
      iconUrl: input.iconUrl ?? hook.iconUrl,
    };
    return this.messages.send(auth, {
      roomId: hook.roomId,
      // Per webhook: the same key from two webhooks (or a person) never collides.
      clientMsgId: `wh:${hook.id}:${headers.idempotencyKey ?? newId('e')}`,
      body: input.text,
      integration,
    });
  }

  // ---- outgoing ----

  private async requireSubscriptionOwner(auth: AuthContext, roomId: string | null): Promise<void> {
    if (roomId === null) {
      if (auth.user.role !== 'admin') throw new ChatError('forbidden');
    } else {
      await this.rooms.requireAllowed(auth, roomId, 'manageWebhooks');
    }
  }

  /** Creates a subscription; the answer alone carries its signing `secret`. The target must pass the SSRF guard. */
  async subscribe(
    auth: AuthContext,
    roomId: string | null,
    input: { url: string; events: string[] },
  ): Promise<WebhookSubscription> {
    await this.requireSubscriptionOwner(auth, roomId);
    const refusal = await this.checkTarget(input.url);
    if (refusal) throw new ChatError('webhook_target_refused', { message: `Target refused: ${refusal}.` });
    const record = await this.ctx.store.createSubscription(
      {
        id: newId('ws'),
        roomId,
        url: input.url,
        events: [...new Set(input.events)],
        secret: secret(),
        createdBy: auth.user.id,
      },
      this.limits.maxPerRoom,
    );
    return { ...subscriptionView(record), secret: record.secret };
  }

  async listSubscriptions(auth: AuthContext, roomId: string | null): Promise<WebhookSubscription[]> {
    await this.requireSubscriptionOwner(auth, roomId);
    return (await this.ctx.store.listSubscriptions(roomId)).map(subscriptionView);
  }

  /** The subscription if the caller manages it; `webhook_not_found` otherwise (also for another room's). */
  private async ownSubscription(auth: AuthContext, roomId: string | null, id: string): Promise<SubscriptionRecord> {
    await this.requireSubscriptionOwner(auth, roomId);
    const sub = await this.ctx.store.getSubscription(id);
    if (!sub || sub.roomId !== roomId) throw new ChatError('webhook_not_found');
    return sub;
  }

  async unsubscribe(auth: AuthContext, roomId: string | null, id: string): Promise<void> {
    await this.ownSubscription(auth, roomId, id);
    if (!(await this.ctx.store.deleteSubscription(id))) throw new ChatError('webhook_not_found');
  }

  async deliveries(
    auth: AuthContext,
    roomId: string | null,
    id: string,
    q: { limit: number; before?: number | undefined },
  ): Promise<WebhookDelivery[]> {
    await this.ownSubscription(auth, roomId, id);
    return this.ctx.store.listDeliveries(id, {
      limit: q.limit,
      ...(q.before !== undefined ? { before: q.before } : {}),
    });
  }
}

import { ChatError } from '../../core/chat-error.js';
import type {
  DeliveryClaim,
  DeliveryOutcome,
  IncomingWebhookRecord,
  SubscriptionRecord,
  WebhookStore,
} from '../../core/store.js';
import type { WebhookDelivery } from '../../protocol/model.js';
import { query, read, transaction, write, type Operations } from './recipe.js';
import { iso, type Row } from './rows.js';

/** The named queries of webhooks (migration 17). Counts are rows changed. */
export interface WebhookQueries {
  /** Whether the room exists; on PostgreSQL also locks its row until the transaction ends (the per-room cap). */
  webhookRoomLock(a: { roomId: string }): boolean;
  incomingCount(a: { roomId: string }): number;
  incomingInsert(a: { hook: Omit<IncomingWebhookRecord, 'createdAt'>; now: number }): number;
  incomingByTokenHash(a: { tokenHash: string }): Row | undefined;
  incomingOf(a: { roomId: string }): Row[];
  incomingDelete(a: { roomId: string; id: string }): number;
  signaturesPrune(a: { webhookId: string; now: number }): number;
  /** Inserts unless remembered already. */
  signatureInsert(a: { webhookId: string; signature: string; expiresAt: number }): number;
  signaturesDeleteOf(a: { webhookId: string }): number;
  /** Server-wide subscriptions (roomId null) on PostgreSQL serialize on an advisory lock instead (no room row). */
  subscriptionLockServerWide(a: Record<string, never>): boolean;
  subscriptionCount(a: { roomId: string | null }): number;
  subscriptionInsert(a: { sub: Omit<SubscriptionRecord, 'createdAt'>; now: number }): number;
  subscriptionById(a: { id: string }): Row | undefined;
  subscriptionsByIds(a: { ids: readonly string[] }): Row[];
  subscriptionsOf(a: { roomId: string | null }): Row[];
  subscriptionDelete(a: { id: string }): number;
  /** A cursor at the room's last seq. */
  cursorInsertForRoom(a: { subscriptionId: string; roomId: string }): number;
  /** A cursor at each public room's last seq. */
  cursorsInsertPublic(a: { subscriptionId: string }): number;
  /** Cursors (at seq 0) for public rooms created since a server-wide subscription that have none yet. */
  cursorsDiscover(a: Record<string, never>): number;
  cursorsDeleteOf(a: { subscriptionId: string }): number;
  /** Leases due cursors with events after them (see WebhookStore.claimDeliveries); the cursor rows. */
  cursorsClaim(a: { nodeId: string; now: number; leaseUntil: number; limit: number }): Row[];
  /** Moves and releases a cursor still leased to `nodeId` at `fromSeq`. */
  cursorComplete(a: {
    subscriptionId: string;
    roomId: string;
    nodeId: string;
    fromSeq: number;
    toSeq: number;
    attempts: number;
    nextAt: number;
    /** Keep the lease (the node goes on); else release it. */
    keep: boolean;
  }): number;
  deliveryUpsert(a: { subscriptionId: string; roomId: string; outcome: DeliveryOutcome; now: number }): number;
  deliveriesOf(a: { subscriptionId: string; limit: number; before: number }): Row[];
  deliveriesDeleteOf(a: { subscriptionId: string }): number;
  deliveriesPrune(a: { before: number }): number;
}

function toIncoming(r: Row): IncomingWebhookRecord {
  return {
    id: r.id as string,
    roomId: r.room_id as string,
    name: r.name as string,
    iconUrl: (r.icon_url as string | null) ?? null,
    tokenHash: r.token_hash as string,
    signingSecret: (r.signing_secret as string | null) ?? null,
    createdBy: r.created_by as string,
    createdAt: Number(r.created_at),
  };
}

function toSubscription(r: Row): SubscriptionRecord {
  return {
    id: r.id as string,
    roomId: (r.room_id as string | null) ?? null,
    url: r.url as string,
    events: JSON.parse(r.events as string) as string[],
    secret: r.secret as string,
    createdBy: r.created_by as string,
    createdAt: Number(r.created_at),
  };
}

function toDelivery(r: Row): WebhookDelivery {
  return {
    subscriptionId: r.subscription_id as string,
    eventId: r.event_id as string,
    roomId: r.room_id as string,
    seq: Number(r.seq),
    eventType: r.event_type as string,
    status: r.status as WebhookDelivery['status'],
    attempts: Number(r.attempts),
    lastStatus: r.last_status == null ? null : Number(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
    createdAt: iso(Number(r.created_at)),
    updatedAt: iso(Number(r.updated_at)),
  };
}

export const webhooks = {
  createIncomingWebhook: transaction(function* (now, hook: Omit<IncomingWebhookRecord, 'createdAt'>, max: number) {
    if (!(yield* query('webhookRoomLock', { roomId: hook.roomId }))) throw new ChatError('room_not_found');
    if ((yield* query('incomingCount', { roomId: hook.roomId })) >= max) throw new ChatError('too_many_webhooks');
    yield* query('incomingInsert', { hook, now });
    return { ...hook, createdAt: now };
  }),

  getIncomingWebhookByTokenHash: read(function* (_now, tokenHash: string) {
    const row = yield* query('incomingByTokenHash', { tokenHash });
    return row ? toIncoming(row) : null;
  }),

  listIncomingWebhooks: read(function* (_now, roomId: string) {
    return (yield* query('incomingOf', { roomId })).map(toIncoming);
  }),

  deleteIncomingWebhook: transaction(function* (_now, roomId: string, id: string) {
    if (!(yield* query('incomingDelete', { roomId, id }))) return false;
    yield* query('signaturesDeleteOf', { webhookId: id });
    return true;
  }),

  rememberSignature: transaction(function* (now, webhookId: string, signature: string, expiresAt: number) {
    yield* query('signaturesPrune', { webhookId, now });
    return (yield* query('signatureInsert', { webhookId, signature, expiresAt })) > 0;
  }),

  createSubscription: transaction(function* (now, sub: Omit<SubscriptionRecord, 'createdAt'>, max: number) {
    if (sub.roomId === null) yield* query('subscriptionLockServerWide', {});
    else if (!(yield* query('webhookRoomLock', { roomId: sub.roomId }))) throw new ChatError('room_not_found');
    if ((yield* query('subscriptionCount', { roomId: sub.roomId })) >= max) throw new ChatError('too_many_webhooks');
    yield* query('subscriptionInsert', { sub, now });
    // From now on: the cursors start at the end of each sequence, in the same transaction as the subscription.
    if (sub.roomId === null) yield* query('cursorsInsertPublic', { subscriptionId: sub.id });
    else yield* query('cursorInsertForRoom', { subscriptionId: sub.id, roomId: sub.roomId });
    return { ...sub, createdAt: now };
  }),

  getSubscription: read(function* (_now, id: string) {
    const row = yield* query('subscriptionById', { id });
    return row ? toSubscription(row) : null;
  }),

  listSubscriptions: read(function* (_now, roomId: string | null) {
    return (yield* query('subscriptionsOf', { roomId })).map(toSubscription);
  }),

  deleteSubscription: transaction(function* (_now, id: string) {
    if (!(yield* query('subscriptionDelete', { id }))) return false;
    yield* query('cursorsDeleteOf', { subscriptionId: id });
    yield* query('deliveriesDeleteOf', { subscriptionId: id });
    return true;
  }),

  claimDeliveries: transaction(function* (now, nodeId: string, leaseMs: number, limit: number) {
    yield* query('cursorsDiscover', {});
    const rows = yield* query('cursorsClaim', { nodeId, now, leaseUntil: now + leaseMs, limit });
    if (rows.length === 0) return [];
    const ids = [...new Set(rows.map((r) => r.subscription_id as string))];
    const subs = new Map((yield* query('subscriptionsByIds', { ids })).map((r) => [r.id as string, toSubscription(r)]));
    return rows.flatMap((r): DeliveryClaim[] => {
      const subscription = subs.get(r.subscription_id as string);
      return subscription
        ? [{ subscription, roomId: r.room_id as string, lastSeq: Number(r.last_seq), attempts: Number(r.attempts) }]
        : [];
    });
  }),

  completeDelivery: transaction(function* (
    now,
    claim: { subscriptionId: string; roomId: string; nodeId: string; fromSeq: number },
    toSeq: number,
    outcome: DeliveryOutcome | null,
    next: { attempts: number; retryAt: number | null; keepLease?: boolean },
  ) {
    const moved = yield* query('cursorComplete', {
      ...claim,
      toSeq,
      attempts: next.attempts,
      nextAt: next.retryAt ?? now,
      keep: next.keepLease ?? false,
    });
    if (!moved) return false;
    if (outcome) {
      yield* query('deliveryUpsert', { subscriptionId: claim.subscriptionId, roomId: claim.roomId, outcome, now });
    }
    return true;
  }),

  listDeliveries: read(function* (_now, subscriptionId: string, q: { limit: number; before?: number }) {
    const rows = yield* query('deliveriesOf', {
      subscriptionId,
      limit: q.limit,
      before: q.before ?? Number.MAX_SAFE_INTEGER,
    });
    return rows.map(toDelivery);
  }),

  pruneDeliveries: write(function* (_now, before: number) {
    return yield* query('deliveriesPrune', { before });
  }),
} satisfies Operations<WebhookStore>;

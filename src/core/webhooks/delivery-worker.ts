import type { RoomEvent } from '../../protocol/model.js';
import type { DomainContext } from '../context.js';
import type { DeliveryClaim, DeliveryOutcome } from '../store.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signPayload } from './signature.js';

/**
 * Sends one delivery: a POST of `body` with `headers` to `url`, under the SSRF policy and the timeout. Resolves with
 * the receiver's status for any answer (2xx = delivered); rejects only when there was none (refused, timed out,
 * connection failed), with the reason as the message. A port: the domain does no network I/O itself.
 */
export interface WebhookSender {
  post(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number }>;
}

export interface DeliveryWorkerOptions {
  nodeId: string;
  /** How often a node looks for due deliveries (WEBHOOK_POLL_MS). */
  pollMs: number;
  /** How long a claim is a node's alone (WEBHOOK_LEASE_MS); longer than one delivery's timeout. */
  leaseMs: number;
  /** One delivery's time limit (WEBHOOK_TIMEOUT_MS): no new delivery starts unless it fits in the lease. */
  timeoutMs: number;
  /** Cursors claimed per poll (WEBHOOK_CONCURRENCY): deliveries in flight per node. */
  concurrency: number;
  /** The waits before each retry after a failure (WEBHOOK_RETRY_DELAYS_SECONDS); after the last, the event is failed. */
  retryDelaysMs: readonly number[];
  /** Delivery log entries are dropped this long after their last attempt (WEBHOOK_LOG_RETENTION_DAYS). */
  logRetentionMs: number;
  onError?: (err: unknown) => void;
}

/** Events a claim delivers at most before it lets other cursors have a turn. */
const EVENTS_PER_CLAIM = 50;
const PAGE = 100;
const PRUNE_EVERY_MS = 60_000;

/**
 * Delivers outgoing webhooks from the store's durable cursors (WebhookStore): every node runs one. Each poll claims
 * due cursors under a lease, and for each sends the subscription's next wanted events in sequence order, one at a
 * time, moving the cursor after each answer — so a node that dies mid-delivery leaves the cursor where it was and
 * the next claim (after the lease) sends that event again, with the same event id as its idempotency key.
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private closed = false;
  private lastPrune = 0;
  readonly stats = { delivered: 0, failedAttempts: 0, failed: 0 };

  constructor(
    private readonly ctx: DomainContext,
    private readonly sender: WebhookSender,
    private readonly opts: DeliveryWorkerOptions,
  ) {}

  start(): void {
    if (this.closed || this.timer) return;
    const loop = () => {
      this.running = this.tick()
        .catch((err: unknown) => this.opts.onError?.(err))
        .finally(() => {
          this.running = null;
          if (!this.closed) this.timer = setTimeout(loop, this.opts.pollMs);
        });
    };
    this.timer = setTimeout(loop, this.opts.pollMs);
  }

  /** One pass: claim what is due and deliver it. Exposed for tests that drive the worker themselves. */
  async tick(): Promise<void> {
    const now = this.ctx.now();
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await this.ctx.store.pruneDeliveries(now - this.opts.logRetentionMs);
    }
    const claims = await this.ctx.store.claimDeliveries(this.opts.nodeId, this.opts.leaseMs, this.opts.concurrency);
    await Promise.all(
      claims.map((c) => this.work(c, now + this.opts.leaseMs).catch((e: unknown) => this.opts.onError?.(e))),
    );
  }

  private async work(claim: DeliveryClaim, leaseUntil: number): Promise<void> {
    const sub = claim.subscription;
    const key = { subscriptionId: sub.id, roomId: claim.roomId, nodeId: this.opts.nodeId };
    let at = claim.lastSeq;
    let attempts = claim.attempts;
    for (let sent = 0; sent < EVENTS_PER_CLAIM && !this.closed;) {
      const events = await this.ctx.store.listEvents(claim.roomId, { after: at, limit: PAGE });
      if (events.length === 0) break;
      const target = events.find((e) => sub.events.includes(e.type));
      if (!target) {
        // Nothing wanted in this page: skip it (the cursor moves, the lease stays).
        if (!(await this.complete(key, at, events.at(-1)!.seq, null, 0, null, true))) return;
        at = events.at(-1)!.seq;
        continue;
      }
      // No delivery starts that could outlive the lease (another node could then send it at the same time).
      if (this.ctx.now() + this.opts.timeoutMs + 1000 > leaseUntil) break;
      attempts++;
      sent++;
      const result = await this.deliver(sub.id, sub.url, sub.secret, target, attempts);
      const outcome: DeliveryOutcome = {
        eventId: target.id,
        seq: target.seq,
        eventType: target.type,
        status: 'delivered',
        attempts,
        lastStatus: result.status,
        lastError: result.error,
      };
      if (result.error === null) {
        this.stats.delivered++;
        if (!(await this.complete(key, at, target.seq, outcome, 0, null, true))) return;
        at = target.seq;
        attempts = 0;
        continue;
      }
      this.stats.failedAttempts++;
      const delay = this.opts.retryDelaysMs[attempts - 1];
      if (delay === undefined) {
        // Out of retries: marked failed, and the subscription moves on to its next event.
        this.stats.failed++;
        if (!(await this.complete(key, at, target.seq, { ...outcome, status: 'failed' }, 0, null, true))) return;
        at = target.seq;
        attempts = 0;
        continue;
      }
      // Wait for the retry: the cursor stays before the event (in order: nothing after it goes first).
      await this.complete(
        key,
        at,
        target.seq - 1,
        { ...outcome, status: 'retrying' },
        attempts,
        this.ctx.now() + delay,
        false,
      );
      return;
    }
    await this.complete(key, at, at, null, attempts, null, false);
  }

  private complete(
    key: { subscriptionId: string; roomId: string; nodeId: string },
    fromSeq: number,
    toSeq: number,
    outcome: DeliveryOutcome | null,
    attempts: number,
    retryAt: number | null,
    keepLease: boolean,
  ): Promise<boolean> {
    return this.ctx.store.completeDelivery({ ...key, fromSeq }, toSeq, outcome, { attempts, retryAt, keepLease });
  }

  /** One attempt: error null when the receiver answered 2xx. */
  private async deliver(
    subscriptionId: string,
    url: string,
    secret: string,
    event: RoomEvent,
    attempt: number,
  ): Promise<{ status: number | null; error: string | null }> {
    const body = Buffer.from(JSON.stringify({ subscriptionId, event }));
    const timestamp = Math.floor(this.ctx.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'relaychat-webhooks/1',
      'idempotency-key': event.id,
      'x-relaychat-event': event.type,
      'x-relaychat-delivery-attempt': String(attempt),
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signPayload(secret, timestamp, body),
    };
    try {
      const { status } = await this.sender.post(url, body, headers);
      return status >= 200 && status < 300 ? { status, error: null } : { status, error: `status ${status}` };
    } catch (err) {
      return { status: null, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Stops polling and waits for the deliveries in flight (each bounded by the timeout). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

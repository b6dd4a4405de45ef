/**
 * Fault tests on a real cluster: PostgreSQL, Redis, 3 `node dist/server/main.js` processes and HAProxy in front
 * (scripts/lib/cluster.ts, the same launcher `npm run cluster` uses), with SDK clients spread over the nodes
 * through the load balancer and a steady stream of sends into shared rooms. `Traffic` keeps the books: what was
 * sent, acknowledged and delivered to whom, and checks that every acknowledged message reached every member
 * exactly once, in room order, and is in the store.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import { ChatApi } from '../../src/client/api.js';
import { ChatClient, type ChatClientOptions } from '../../src/client/chat-client.js';
import type { RoomEvent } from '../../src/protocol/model.js';
import { startCluster, type Cluster } from '../../scripts/lib/cluster.js';

/** Node settings for the fault tests: generous limits, cheap hashing, fast presence expiry, short drain. */
export const FAULT_TEST_SETTINGS: Record<string, string> = {
  LOG_LEVEL: 'info',
  SCRYPT_LOG2N: '10',
  MESSAGES_PER_SECOND: '100000',
  MESSAGE_BURST: '100000',
  LOGINS_PER_MINUTE: '100000',
  PASSWORD_HASH_QUEUE: '10000',
  LOGIN_FAILURES_PER_MINUTE: '1000000',
  MEMBERSHIP_CHANGES_PER_MINUTE: '100000',
  ROOM_MEMBERSHIP_CHANGES_PER_MINUTE: '1000000',
  REGISTRATIONS_PER_HOUR: '1000000',
  ROOMS_PER_MINUTE: '100000',
  INVITES_PER_MINUTE: '100000',
  PRESENCE_HEARTBEAT_MS: '1000',
  PRESENCE_TTL_MS: '3000',
  PRESENCE_FLUSH_MS: '200',
  HEARTBEAT_MS: '5000',
  DRAIN_DELAY_MS: '1500',
  SHUTDOWN_GRACE_MS: '2000',
  LINK_PREVIEWS: 'off',
};

/** One cluster for the calling test file (beforeAll/afterAll); logs are kept when a test failed. */
export function useCluster(settings: Record<string, string> = {}): () => Cluster {
  let cluster: Cluster | undefined;
  let failed = false;
  beforeAll(async () => {
    cluster = await startCluster({ settings: { ...FAULT_TEST_SETTINGS, ...settings } });
  }, 120_000);
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    if (failed && cluster) process.stdout.write(`cluster logs kept in ${cluster.dir}\n${cluster.logTails()}\n`);
    await cluster?.stop({ keepLogs: failed });
  }, 60_000);
  return () => {
    if (!cluster) throw new Error('cluster not started');
    return cluster;
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `check` is truthy; fails after `timeoutMs` with `what`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

/** `ws` wrapped to count the frames a client receives (for error frames the SDK handles silently). */
function tappedWebSocket(onFrame: (f: { type: string; code?: string; retryable?: boolean }) => void) {
  return class extends WebSocket {
    constructor(url: string, options?: ClientOptions) {
      super(url, options); // options carry the Origin header the server requires
      this.on('message', (data) => {
        try {
          const parsed = JSON.parse(String(data)) as { type: string } | { type: string }[];
          for (const f of Array.isArray(parsed) ? parsed : [parsed]) onFrame(f);
        } catch {
          /* not ours to judge */
        }
      });
    }
  } as unknown as ChatClientOptions['WebSocket'];
}

export interface Member {
  name: string;
  token: string;
  userId: string;
  client: ChatClient;
  /** The traffic rooms this member belongs to: the ones whose deliveries are checked. */
  rooms: Set<string>;
  /** The rooms `room.added` announced, in order. */
  added: string[];
  /** Delivered events per room, as the SDK emitted them (after its dedupe). */
  seen: Map<string, RoomEvent[]>;
  /** The room's last seq at welcome (or, for a room added later, the seq before the join): delivery starts after it. */
  startSeq: Map<string, number>;
  /** When each `welcome` arrived (ms since epoch): reconnects are the later ones. */
  welcomes: number[];
  disconnects: { at: number; code: number }[];
  /** Error frames received, by code (retryable ones are retried by the SDK). */
  errors: Map<string, number>;
  /** When the last error frame arrived (ms since epoch; 0 = none). */
  lastErrorAt: number;
}

export interface Figures {
  sent: number;
  acked: number;
  failed: number;
  deliveriesExpected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  sdkDuplicatesDropped: number;
  reconnects: number;
  retryableErrors: number;
}

/**
 * Users in shared rooms, each with an SDK client through `url` (the load balancer); some of them send steadily.
 */
export class Traffic {
  readonly members: Member[] = [];
  readonly rooms: string[] = [];
  /** clientMsgId → what the server acknowledged. */
  readonly acks = new Map<string, { roomId: string; seq: number; sender: string; at: number }>();
  sent = 0;
  failed = 0;
  readonly failures: string[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly url: string) {}

  /** Registers `users` users, creates `rooms` rooms that all of them join, and connects a client for each. */
  async setup(opts: { users: number; rooms: number; tag: string }): Promise<void> {
    const api = new ChatApi(this.url);
    const accounts = [];
    for (let i = 0; i < opts.users; i++) {
      accounts.push(await api.register(`${opts.tag}${i}x${process.pid}`, 'correct horse battery'));
    }
    const owner = new ChatApi(this.url, accounts[0]!.token);
    for (let r = 0; r < opts.rooms; r++) this.rooms.push((await owner.createRoom(`${opts.tag}-room${r}`)).id);
    for (const a of accounts.slice(1)) {
      const userApi = new ChatApi(this.url, a.token);
      for (const roomId of this.rooms) await userApi.join(roomId);
    }
    // One at a time, so leastconn spreads them evenly over the nodes.
    for (const a of accounts) {
      this.members.push(await this.connect(a.user.username, a.token, a.user.id, this.url, this.rooms));
    }
  }

  /**
   * Connects one more member whose deliveries are checked in `rooms` (those it belongs to now; `expectRoom` adds
   * one it joins later). `url` may be one node's, to pin the member there.
   */
  async addMember(opts: { name: string; token: string; userId: string; url?: string; rooms: string[] }) {
    const m = await this.connect(opts.name, opts.token, opts.userId, opts.url ?? this.url, opts.rooms);
    this.members.push(m);
    return m;
  }

  private async connect(name: string, token: string, userId: string, url: string, rooms: string[]): Promise<Member> {
    const m: Member = {
      name,
      token,
      userId,
      client: undefined as unknown as ChatClient,
      rooms: new Set(rooms),
      added: [],
      seen: new Map(),
      startSeq: new Map(),
      welcomes: [],
      disconnects: [],
      errors: new Map(),
      lastErrorAt: 0,
    };
    m.client = new ChatClient({
      url,
      token,
      userId,
      WebSocket: tappedWebSocket((f) => {
        if (f.type === 'error' && f.code) {
          m.errors.set(f.code, (m.errors.get(f.code) ?? 0) + 1);
          m.lastErrorAt = Date.now();
        }
      }),
      backoff: { minMs: 50, maxMs: 500 },
      sendTimeoutMs: 120_000,
    });
    m.client.on('welcome', (w) => {
      m.welcomes.push(Date.now());
      for (const r of w.rooms) if (!m.startSeq.has(r.id)) m.startSeq.set(r.id, r.lastSeq);
    });
    m.client.on('room.added', (f) => {
      m.added.push(f.room.id);
      if (!m.startSeq.has(f.room.id)) m.startSeq.set(f.room.id, f.room.joinedSeq - 1);
    });
    m.client.on('event', (e) => {
      let list = m.seen.get(e.roomId);
      if (!list) m.seen.set(e.roomId, (list = []));
      list.push(e);
    });
    m.client.on('disconnect', (d) => m.disconnects.push({ at: Date.now(), code: d.code }));
    await m.client.connect();
    return m;
  }

  /** Every `senders` first members sends one message every `intervalMs`, round robin over the rooms. */
  start(opts: { senders: number; intervalMs: number; maxInflight?: number }): void {
    this.running = true;
    const maxInflight = opts.maxInflight ?? 20;
    this.loops = this.members.slice(0, opts.senders).map(async (m, i) => {
      let k = 0;
      let mine = 0;
      while (this.running) {
        if (mine < maxInflight) {
          const roomId = this.rooms[k % this.rooms.length]!;
          const clientMsgId = `${m.name}-${k}`;
          k++;
          mine++;
          this.sent++;
          const p = m.client.send(roomId, `m ${clientMsgId}`, clientMsgId).then(
            (ack) => this.acks.set(clientMsgId, { roomId, seq: ack.seq, sender: m.name, at: Date.now() }),
            (err: Error) => {
              this.failed++;
              this.failures.push(`${clientMsgId}: ${err.message}`);
            },
          );
          this.inflight.add(p);
          void p.finally(() => {
            this.inflight.delete(p);
            mine--;
          });
        }
        await sleep(opts.intervalMs + (i % 3));
      }
    });
  }

  /** Stops sending and waits (bounded) until every send is acknowledged or has failed. */
  async stop(timeoutMs = 60_000): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await until(() => this.inflight.size === 0, timeoutMs, `${this.inflight.size} sends still unacknowledged`);
  }

  /** The highest acknowledged seq per room. */
  maxAcked(): Map<string, number> {
    const max = new Map<string, number>();
    for (const a of this.acks.values()) max.set(a.roomId, Math.max(max.get(a.roomId) ?? 0, a.seq));
    return max;
  }

  /** The last seq a member has delivered in a room (its start seq if none yet). */
  lastDelivered(m: Member, roomId: string): number {
    const list = m.seen.get(roomId);
    return list && list.length > 0 ? list[list.length - 1]!.seq : (m.startSeq.get(roomId) ?? 0);
  }

  /** Whether every member has delivered up to `targets` (per room) and is connected. */
  caughtUp(targets: Map<string, number>, members: Member[] = this.members): boolean {
    return members.every(
      (m) =>
        m.client.state === 'open' &&
        [...targets].every(([roomId, seq]) => !m.rooms.has(roomId) || this.lastDelivered(m, roomId) >= seq),
    );
  }

  /** Waits (bounded) until everything acknowledged has reached every member. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const targets = this.maxAcked();
    await until(() => this.caughtUp(targets), timeoutMs, 'every member to receive every acknowledged message');
  }

  /**
   * Counts and checks: per member and room, the delivered seqs after the start are exactly start+1..last (no
   * gap, no repeat, ascending), and every acknowledged message is among them with its clientMsgId; the store's
   * history (read through `api`) has each clientMsgId once and agrees with every ack.
   */
  async verify(api: ChatApi): Promise<Figures> {
    let deliveriesExpected = 0;
    let delivered = 0;
    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    const byRoom = new Map<string, { seq: number; id: string }[]>();
    for (const [id, a] of this.acks) {
      let list = byRoom.get(a.roomId);
      if (!list) byRoom.set(a.roomId, (list = []));
      list.push({ seq: a.seq, id });
    }
    for (const m of this.members) {
      for (const roomId of m.rooms) {
        const events = m.seen.get(roomId) ?? [];
        const seqs = events.map((e) => e.seq);
        const seen = new Map<number, RoomEvent>();
        for (let i = 0; i < events.length; i++) {
          const e = events[i]!;
          if (seen.has(e.seq)) duplicated++;
          seen.set(e.seq, e);
          if (i > 0 && e.seq !== seqs[i - 1]! + 1) outOfOrder++;
        }
        // A member never told about a room it belongs to (no welcome listing it, no room.added) misses it all.
        const start = m.startSeq.get(roomId) ?? 0;
        if (seqs.length > 0 && seqs[0] !== start + 1) outOfOrder++;
        for (const { seq, id } of byRoom.get(roomId) ?? []) {
          if (seq <= start) continue; // acknowledged before this member connected
          deliveriesExpected++;
          if (seen.get(seq)?.clientMsgId === id) delivered++;
          else lost++;
        }
      }
    }
    // The store: each clientMsgId once, at the seq its ack named; seqs gap-free.
    for (const roomId of this.rooms) {
      const history = await readAll(api, roomId);
      const seqs = history.map((e) => e.seq);
      expect(seqs, `store seqs of ${roomId}`).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      const ids = history.filter((e) => e.clientMsgId).map((e) => e.clientMsgId!);
      expect(new Set(ids).size, `each clientMsgId stored once in ${roomId}`).toBe(ids.length);
      const atSeq = new Map(history.map((e) => [e.seq, e]));
      for (const { seq, id } of byRoom.get(roomId) ?? []) {
        expect(atSeq.get(seq)?.clientMsgId, `ack ${id} → seq ${seq} is in the store`).toBe(id);
      }
    }
    return {
      sent: this.sent,
      acked: this.acks.size,
      failed: this.failed,
      deliveriesExpected,
      delivered,
      lost,
      duplicated,
      outOfOrder,
      sdkDuplicatesDropped: this.members.reduce((n, m) => n + m.client.stats.duplicatesDropped, 0),
      reconnects: this.members.reduce((n, m) => n + m.client.stats.reconnects, 0),
      retryableErrors: this.members.reduce((n, m) => n + (m.errors.get('unavailable') ?? 0), 0),
    };
  }

  close(): void {
    for (const m of this.members) m.client.close();
  }
}

/** A room's whole history (every event type), oldest first, page by page. */
export async function readAll(api: ChatApi, roomId: string): Promise<RoomEvent[]> {
  const out: RoomEvent[] = [];
  for (;;) {
    const after = out.length > 0 ? out[out.length - 1]!.seq : 0;
    const page = await api.events(roomId, { after, limit: 200 });
    out.push(...page);
    if (page.length < 200) return out;
  }
}

/** Prints the figures as one block and asserts the guarantees. */
export function report(title: string, f: Figures, extra: Record<string, string | number> = {}): void {
  const lines = [
    `== ${title}`,
    `   messages sent ${f.sent}, acked ${f.acked}, failed ${f.failed}`,
    `   deliveries expected ${f.deliveriesExpected}, delivered ${f.delivered}, lost ${f.lost}, ` +
      `duplicated after SDK dedupe ${f.duplicated}, out of order ${f.outOfOrder}`,
    `   duplicates dropped by the SDK ${f.sdkDuplicatesDropped}, client reconnects ${f.reconnects}, ` +
      `retryable errors seen ${f.retryableErrors}`,
    ...Object.entries(extra).map(([k, v]) => `   ${k}: ${v}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  expect(f.lost, 'acknowledged deliveries lost').toBe(0);
  expect(f.duplicated, 'duplicates after SDK dedupe').toBe(0);
  // No fault test injects duplicates: any the SDK dropped were sent twice by the server (a resume off by one).
  expect(f.sdkDuplicatesDropped, 'duplicates the SDK had to drop').toBe(0);
  expect(f.outOfOrder, 'deliveries out of order').toBe(0);
  expect(f.failed, 'sends that failed for good').toBe(0);
  expect(f.acked, 'every send acknowledged').toBe(f.sent);
  expect(f.delivered).toBe(f.deliveriesExpected);
}

/** Open WebSocket connections per node, from each node's /readyz. */
export async function connectionsPerNode(cluster: Cluster): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of cluster.nodes) {
    if (!n.running) continue;
    try {
      const res = await fetch(`${n.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      out[n.name] = ((await res.json()) as { connections?: number }).connections ?? -1;
    } catch {
      out[n.name] = -1;
    }
  }
  return out;
}

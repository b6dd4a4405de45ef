/**
 * A worker thread holding a share of the simulated clients: raw `ws` sockets, one small state object each,
 * every WebSocket message parsed once. It sends at the rate the main thread asks for, stamps every message
 * with its send time, and at every receiver checks delivery (per room sequence contiguity for relaychat,
 * per-sender message numbers for the baseline) and records end-to-end and ack latency.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { WebSocket, type RawData } from 'ws';
import { Histogram } from './histogram.js';
import {
  emptyStats,
  nowUs,
  type ClientSpec,
  type Command,
  type ConnectResult,
  type Reply,
  type SendResult,
  type Stats,
  type StepReport,
  type StormResult,
  type WorkerInit,
} from './wire.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const relay = init.kind === 'relaychat';
/** The server's own origin (ws://host:port/ws → http://host:port), sent as Origin on every handshake. */
const origin = new URL(init.wsUrl.replace(/^ws/, 'http')).origin;

const MAX_RECONNECTS_PER_CLIENT = 20;
const RECONNECT_DELAY_MS = 200;
const PRESENCE_PREFIX = Buffer.from('{"type":"presence"');

interface Client {
  readonly spec: ClientSpec;
  ws: WebSocket | null;
  ready: boolean;
  /** Closing on purpose (drop, closeAll): no reconnect. */
  intentional: boolean;
  syncWanted: number;
  syncGot: number;
  onReady: (() => void) | null;
  onFail: ((why: string) => void) | null;
  /** relaychat: last seq received per room (contiguous). */
  cur: Map<string, number>;
  /** baseline: last message number received per sender. */
  bySender: Map<number, number> | null;
  /** Send times awaiting their ack, in send order (acks come back in order on one connection). */
  sendQ: number[];
  qHead: number;
  nextN: number;
  reconnects: number;
  /** Reconnect storm bookkeeping. */
  stormPending: number;
  readyAt: number;
  caughtAt: number;
}

const clients: Client[] = init.clients.map((spec) => ({
  spec,
  ws: null,
  ready: false,
  intentional: false,
  syncWanted: -1,
  syncGot: 0,
  onReady: null,
  onFail: null,
  cur: new Map(),
  bySender: relay ? null : new Map(),
  sendQ: [],
  qHead: 0,
  nextN: 1,
  reconnects: 0,
  stormPending: 0,
  readyAt: 0,
  caughtAt: 0,
}));
const byId = new Map(clients.map((c) => [c.spec.id, c]));

let stats: Stats = emptyStats();
const e2e = new Histogram();
const ackH = new Histogram();
let eluStart = performance.eventLoopUtilization();
/** Per room at beginStep: sum of cursors and number of cursors, for "deliveries expected". */
let baseSum = new Map<string, number>();
let baseCount = new Map<string, number>();
let closingAll = false;
let stormTargets: Map<string, number> | null = null;
let stormT0 = 0;

const pad = Math.max(0, init.bodyBytes);
const bodyPad = 'x'.repeat(pad);

// ---- receiving ----

function sendTimeOf(body: string): number {
  const a = body.indexOf(' ');
  if (a < 0) return NaN;
  const b = body.indexOf(' ', a + 1);
  return Number(body.slice(a + 1, b < 0 ? undefined : b));
}

function markReady(c: Client, now: number): void {
  if (c.ready) return;
  c.ready = true;
  c.readyAt = now;
  if (stormTargets && c.stormPending === 0 && c.caughtAt === 0) c.caughtAt = now;
  const f = c.onReady;
  c.onReady = c.onFail = null;
  f?.();
}

interface EventLike {
  roomId: string;
  seq: number;
  type: string;
  body: string | null;
}

function onEvent(c: Client, ev: EventLike, now: number): void {
  const last = c.cur.get(ev.roomId);
  if (last === undefined) {
    stats.unexpected++;
    return;
  }
  const seq = ev.seq;
  if (seq <= last) {
    stats.duplicates++;
    return;
  }
  if (seq !== last + 1) {
    stats.gaps++;
    stats.gapMissing += seq - last - 1;
  }
  c.cur.set(ev.roomId, seq);
  stats.delivered++;
  stats.lastDeliveryUs = now;
  if ((stats.maxSeen[ev.roomId] ?? 0) < seq) stats.maxSeen[ev.roomId] = seq;
  if (ev.type === 'message' && ev.body) {
    const t = sendTimeOf(ev.body);
    if (t > 0) e2e.record(now - t);
  }
  if (c.stormPending > 0 && stormTargets) {
    const target = stormTargets.get(ev.roomId);
    if (target !== undefined && last < target && seq >= target) {
      c.stormPending--;
      if (c.stormPending === 0 && c.ready && c.caughtAt === 0) c.caughtAt = now;
    }
  }
}

interface Frame {
  type?: string;
  event?: EventLike;
  rooms?: { id: string; lastSeq: number }[];
  roomId?: string;
  seq?: number;
  clientMsgId?: string;
  code?: string;
  body?: string;
}

function popSend(c: Client): number {
  if (c.qHead >= c.sendQ.length) return NaN;
  const t = c.sendQ[c.qHead++]!;
  if (c.qHead > 1024 && c.qHead * 2 > c.sendQ.length) {
    c.sendQ = c.sendQ.slice(c.qHead);
    c.qHead = 0;
  }
  stats.pendingAcks--;
  return t;
}

function onRelayFrame(c: Client, f: Frame, now: number): void {
  switch (f.type) {
    case 'event':
      if (f.event) onEvent(c, f.event, now);
      return;
    case 'ack': {
      const t = popSend(c);
      stats.acked++;
      if (t > 0) ackH.record(now - t);
      if (f.roomId && f.seq !== undefined && (stats.maxAcked[f.roomId] ?? 0) < f.seq) stats.maxAcked[f.roomId] = f.seq;
      return;
    }
    case 'error': {
      if (f.clientMsgId) popSend(c);
      const code = f.code ?? 'unknown';
      stats.ackErrors[code] = (stats.ackErrors[code] ?? 0) + 1;
      return;
    }
    case 'welcome': {
      const rooms = f.rooms ?? [];
      for (const r of rooms) if (!c.cur.has(r.id)) c.cur.set(r.id, r.lastSeq);
      c.syncWanted = rooms.length;
      if (c.syncGot >= c.syncWanted) markReady(c, now);
      return;
    }
    case 'synced':
      c.syncGot++;
      if (c.syncWanted >= 0 && c.syncGot >= c.syncWanted) markReady(c, now);
      return;
    case 'presence':
      // Inside a batch (a JSON array written under load): counted by its re-encoded size.
      stats.presenceFrames++;
      stats.presenceBytes += Buffer.byteLength(JSON.stringify(f));
      return;
    default:
      return; // pong, typing, room.added, announcements: not part of the measurement
  }
}

function onBaselineFrame(c: Client, f: Frame, now: number): void {
  if (f.type === 'joined') return markReady(c, now);
  if (f.type !== 'send' || typeof f.body !== 'string') {
    stats.unexpected++;
    return;
  }
  const body = f.body;
  const dot = body.indexOf('.');
  const sp = body.indexOf(' ');
  const sender = Number(body.slice(1, dot));
  const n = Number(body.slice(dot + 1, sp));
  const map = c.bySender!;
  const last = map.get(sender) ?? 0;
  if (n <= last) {
    stats.duplicates++;
    return;
  }
  if (n !== last + 1) {
    stats.gaps++;
    stats.gapMissing += n - last - 1;
  }
  map.set(sender, n);
  stats.delivered++;
  stats.lastDeliveryUs = now;
  const t = sendTimeOf(body);
  if (t > 0) e2e.record(now - t);
}

function onMessage(c: Client, data: RawData): void {
  const now = nowUs();
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  stats.framesIn++;
  stats.bytesIn += buf.length;
  // Presence frames are ephemeral and can be large (every change in the window): counted, not parsed (those in
  // a batch are parsed with it and counted in onRelayFrame).
  if (
    relay &&
    buf.length > PRESENCE_PREFIX.length &&
    buf.compare(PRESENCE_PREFIX, 0, PRESENCE_PREFIX.length, 0, PRESENCE_PREFIX.length) === 0
  ) {
    stats.presenceFrames++;
    stats.presenceBytes += buf.length;
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch {
    stats.unexpected++;
    return;
  }
  const handle = relay ? onRelayFrame : onBaselineFrame;
  if (Array.isArray(parsed)) for (const f of parsed as Frame[]) handle(c, f, now);
  else handle(c, parsed as Frame, now);
}

// ---- connecting ----

function helloOf(c: Client): string {
  if (!relay) return JSON.stringify({ join: c.spec.room });
  const hello: Record<string, unknown> = { type: 'hello', v: 1, token: c.spec.token };
  if (c.cur.size > 0) hello.resume = Object.fromEntries(c.cur);
  return JSON.stringify(hello);
}

function onClose(c: Client, ws: WebSocket, code: number): void {
  if (c.ws !== ws) return; // an older socket of this client
  c.ws = null;
  const wasReady = c.ready;
  c.ready = false;
  c.syncGot = 0;
  c.syncWanted = -1;
  const pending = c.sendQ.length - c.qHead;
  if (pending > 0) {
    stats.unacked += pending;
    stats.pendingAcks -= pending;
  }
  c.sendQ = [];
  c.qHead = 0;
  if (c.onFail) {
    const f = c.onFail;
    c.onReady = c.onFail = null;
    f(`closed ${code} before ready`);
  }
  if (c.intentional || closingAll) return;
  stats.closes[code] = (stats.closes[code] ?? 0) + 1;
  if (relay && init.reconnect && wasReady && c.reconnects < MAX_RECONNECTS_PER_CLIENT) {
    c.reconnects++;
    stats.reconnects++;
    setTimeout(() => {
      if (!closingAll && !c.ws && !c.intentional) open(c, 15_000).catch(() => {});
    }, RECONNECT_DELAY_MS).unref();
  }
}

/** Opens the client's socket and resolves once it is ready (relaychat: welcome + synced for every room). */
function open(c: Client, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    c.intentional = false;
    c.ready = false;
    c.syncGot = 0;
    c.syncWanted = -1;
    const ws = new WebSocket(init.wsUrl, {
      origin, // relaychat refuses upgrades without an allowed Origin (the naive baseline ignores it)
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: timeoutMs,
    });
    c.ws = ws;
    const timer = setTimeout(() => {
      if (c.onFail) {
        const f = c.onFail;
        c.onReady = c.onFail = null;
        f('timeout');
        ws.terminate();
      }
    }, timeoutMs);
    c.onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    c.onFail = (why) => {
      clearTimeout(timer);
      reject(new Error(why));
    };
    ws.on('open', () => ws.send(helloOf(c)));
    ws.on('message', (data) => onMessage(c, data));
    ws.on('error', () => {}); // a close follows; its code is what we count
    ws.on('close', (code) => onClose(c, ws, code));
  });
}

async function mapLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
}

async function connect(concurrency: number, timeoutMs: number): Promise<ConnectResult> {
  const out: ConnectResult = { ok: 0, failed: 0, errors: {} };
  await mapLimit(
    clients.filter((c) => !c.ready),
    concurrency,
    async (c) => {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await open(c, timeoutMs);
          out.ok++;
          return;
        } catch (err) {
          if (attempt === 1) {
            out.failed++;
            const why = (err as Error).message;
            out.errors[why] = (out.errors[why] ?? 0) + 1;
          } else await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
  );
  return out;
}

// ---- sending ----

function sendOne(c: Client): void {
  const n = c.nextN++;
  const t = Math.round(nowUs());
  const body = `s${c.spec.id}.${n} ${t} ${bodyPad}`;
  const frame = `{"type":"send","roomId":"${c.spec.room}","clientMsgId":"${init.tag}.${c.spec.id}.${n}","body":"${body}"}`;
  c.ws!.send(frame);
  stats.sent++;
  if (t < stats.firstSendUs) stats.firstSendUs = t;
  stats.lastSendUs = t;
  stats.sentPerRoom[c.spec.room] = (stats.sentPerRoom[c.spec.room] ?? 0) + 1;
  if (relay) {
    c.sendQ.push(t);
    stats.pendingAcks++;
  }
}

/** Open loop: `rate` messages per second spread round-robin over `senders`, for `durationMs`. */
function send(rate: number, durationMs: number, senderIds: number[]): Promise<SendResult> {
  const senders = senderIds.map((id) => byId.get(id)!).filter(Boolean);
  const total = senders.length === 0 ? 0 : Math.round((rate * durationMs) / 1000);
  const t0 = performance.now();
  const before = { sent: stats.sent, skipped: stats.skipped };
  let done = 0;
  return new Promise((resolve) => {
    const finish = () =>
      resolve({
        sent: stats.sent - before.sent,
        skipped: stats.skipped - before.skipped,
        firstSendUs: stats.firstSendUs,
        lastSendUs: stats.lastSendUs,
      });
    const tick = () => {
      const elapsed = performance.now() - t0;
      const due = Math.min(total, Math.floor((rate * Math.min(elapsed, durationMs)) / 1000));
      while (done < due) {
        const c = senders[done % senders.length]!;
        done++;
        if (c.ws && c.ready && c.ws.readyState === WebSocket.OPEN) sendOne(c);
        else stats.skipped++;
      }
      // Bounded in count (total) and in time (duration + 2 s even if the loop lags badly).
      if (done >= total || elapsed > durationMs + 2000) return finish();
      setTimeout(tick, 5);
    };
    tick();
  });
}

// ---- steps and reports ----

function beginStep(): void {
  stats = emptyStats();
  e2e.reset();
  ackH.reset();
  eluStart = performance.eventLoopUtilization();
  baseSum = new Map();
  baseCount = new Map();
  for (const c of clients) {
    for (const [room, seq] of c.cur) {
      baseSum.set(room, (baseSum.get(room) ?? 0) + seq);
      baseCount.set(room, (baseCount.get(room) ?? 0) + 1);
    }
  }
}

function snapshot(finals?: Record<string, number>): Stats {
  let open = 0;
  for (const c of clients) if (c.ready) open++;
  stats.open = open;
  if (finals && relay) {
    let pending = 0;
    let expected = 0;
    for (const [room, final] of Object.entries(finals)) {
      expected += (baseCount.get(room) ?? 0) * final - (baseSum.get(room) ?? 0);
    }
    for (const c of clients) {
      for (const [room, seq] of c.cur) {
        const final = finals[room];
        if (final !== undefined && final > seq) pending += final - seq;
      }
    }
    stats.pending = pending;
    stats.expected = expected;
  }
  return { ...stats, pendingAcks: Math.max(0, stats.pendingAcks) };
}

function endStep(finals?: Record<string, number>): StepReport {
  const s = snapshot(finals);
  const elu = performance.eventLoopUtilization(eluStart).utilization;
  return { ...s, e2e: e2e.toData(), ack: ackH.toData(), elu: [elu] };
}

// ---- reconnect storm ----

async function storm(targets: Record<string, number>, concurrency: number, timeoutMs: number): Promise<StormResult> {
  const group = clients.filter((c) => c.spec.storm);
  stormTargets = new Map(Object.entries(targets));
  stormT0 = nowUs();
  // Drop: cut every socket at once, no closing handshake (as when a network path dies).
  for (const c of group) {
    c.intentional = true;
    c.ready = false;
    c.readyAt = 0;
    c.caughtAt = 0;
    c.stormPending = 0;
    for (const [room, target] of stormTargets) {
      const seen = c.cur.get(room);
      if (seen !== undefined && seen < target) c.stormPending++;
    }
    c.ws?.terminate();
  }
  let failed = 0;
  await mapLimit(group, concurrency, async (c) => {
    try {
      await open(c, timeoutMs);
    } catch {
      failed++;
    }
  });
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && group.some((c) => c.caughtAt === 0 && c.ws)) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const rel = (t: number) => (t > 0 ? (t - stormT0) / 1000 : NaN);
  stormTargets = null;
  return {
    clients: group.length,
    reconnected: group.filter((c) => c.readyAt > 0).length,
    caughtUp: group.filter((c) => c.caughtAt > 0).length,
    failed,
    readyMs: group.map((c) => rel(c.readyAt)),
    caughtUpMs: group.map((c) => rel(c.caughtAt)),
  };
}

async function closeAll(timeoutMs: number): Promise<void> {
  closingAll = true;
  for (const c of clients) {
    c.intentional = true;
    c.ws?.close(1000, 'bench done');
  }
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && clients.some((c) => c.ws && c.ws.readyState !== WebSocket.CLOSED)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const c of clients) c.ws?.terminate();
}

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.op) {
    case 'connect':
      return connect(cmd.concurrency, cmd.timeoutMs);
    case 'beginStep':
      return beginStep();
    case 'send':
      return send(cmd.rate, cmd.durationMs, cmd.senders);
    case 'stats':
      return snapshot(cmd.finals);
    case 'endStep':
      return endStep(cmd.finals);
    case 'storm':
      return storm(cmd.targets, cmd.concurrency, cmd.timeoutMs);
    case 'closeAll':
      return closeAll(cmd.timeoutMs);
  }
}

port.on('message', (msg: { id: number; cmd: Command }) => {
  handle(msg.cmd).then(
    (result) => port.postMessage({ id: msg.id, ok: true, result } satisfies Reply),
    (err: unknown) =>
      port.postMessage({ id: msg.id, ok: false, error: String((err as Error)?.stack ?? err) } satisfies Reply),
  );
});
port.postMessage({ ready: true });

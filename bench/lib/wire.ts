import type { HistogramData } from './histogram.js';

/** Which server a client pool talks to: relaychat's protocol, or the naive baseline's join-then-broadcast. */
export type ServerKind = 'relaychat' | 'baseline';

/** One simulated client. `room` is the room it sends to (relaychat) or joins (baseline). */
export interface ClientSpec {
  id: number;
  token: string;
  room: string;
  /** Takes part in the reconnect storm (drops and resumes); others keep their connection. */
  storm?: boolean;
}

export interface WorkerInit {
  kind: ServerKind;
  wsUrl: string;
  clients: ClientSpec[];
  bodyBytes: number;
  /** Prefix of clientMsgIds, unique per run. */
  tag: string;
  /** relaychat: a connection the server closes is reopened with resume (bounded attempts). */
  reconnect: boolean;
}

export type Command =
  | { op: 'connect'; concurrency: number; timeoutMs: number }
  | { op: 'beginStep' }
  | { op: 'send'; rate: number; durationMs: number; senders: number[] }
  | { op: 'stats'; finals?: Record<string, number> }
  | { op: 'endStep'; finals?: Record<string, number> }
  | { op: 'storm'; targets: Record<string, number>; concurrency: number; timeoutMs: number }
  | { op: 'closeAll'; timeoutMs: number };

export interface ConnectResult {
  ok: number;
  failed: number;
  errors: Record<string, number>;
}

export interface SendResult {
  sent: number;
  skipped: number;
  firstSendUs: number;
  lastSendUs: number;
}

/** Counters since beginStep, per worker; the pool merges them. */
export interface Stats {
  open: number;
  sent: number;
  skipped: number;
  acked: number;
  ackErrors: Record<string, number>;
  pendingAcks: number;
  /** Sends whose connection closed before an ack or error came back. */
  unacked: number;
  delivered: number;
  duplicates: number;
  gaps: number;
  gapMissing: number;
  /** Events for a room the client did not know (relaychat) or frames it did not expect. */
  unexpected: number;
  /** relaychat, with finals: deliveries still owed (sum over clients and rooms of final − cursor). */
  pending: number;
  /** relaychat, with finals: deliveries owed for this step (sum over clients of final − cursor at beginStep). */
  expected: number;
  maxSeen: Record<string, number>;
  maxAcked: Record<string, number>;
  /** baseline: messages sent per room (deliveries expected = this × the room's clients). */
  sentPerRoom: Record<string, number>;
  firstSendUs: number;
  lastSendUs: number;
  lastDeliveryUs: number;
  closes: Record<string, number>;
  reconnects: number;
  presenceFrames: number;
  presenceBytes: number;
  framesIn: number;
  bytesIn: number;
}

export interface StepReport extends Stats {
  e2e: HistogramData;
  ack: HistogramData;
  /** Event-loop utilisation of each worker over the step (1 = saturated). */
  elu: number[];
}

export interface StormResult {
  clients: number;
  reconnected: number;
  caughtUp: number;
  failed: number;
  /** Per client, ms from the drop to its `synced` for every room (NaN if never). */
  readyMs: number[];
  /** Per client, ms from the drop until it had seen every target seq (NaN if never). */
  caughtUpMs: number[];
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Monotonic microseconds, the same clock in every thread and process (CLOCK_MONOTONIC). */
export function nowUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
}

export function emptyStats(): Stats {
  return {
    open: 0,
    sent: 0,
    skipped: 0,
    acked: 0,
    ackErrors: {},
    pendingAcks: 0,
    unacked: 0,
    delivered: 0,
    duplicates: 0,
    gaps: 0,
    gapMissing: 0,
    unexpected: 0,
    pending: 0,
    expected: 0,
    maxSeen: {},
    maxAcked: {},
    sentPerRoom: {},
    firstSendUs: Infinity,
    lastSendUs: 0,
    lastDeliveryUs: 0,
    closes: {},
    reconnects: 0,
    presenceFrames: 0,
    presenceBytes: 0,
    framesIn: 0,
    bytesIn: 0,
  };
}

const addTo = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};
const maxInto = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into[k] = Math.max(into[k] ?? 0, v);
};

/** Sums counters, maxes maxima; used to merge workers. */
export function mergeStats(into: Stats, s: Stats): Stats {
  into.open += s.open;
  into.sent += s.sent;
  into.skipped += s.skipped;
  into.acked += s.acked;
  addTo(into.ackErrors, s.ackErrors);
  into.pendingAcks += s.pendingAcks;
  into.unacked += s.unacked;
  into.delivered += s.delivered;
  into.duplicates += s.duplicates;
  into.gaps += s.gaps;
  into.gapMissing += s.gapMissing;
  into.unexpected += s.unexpected;
  into.pending += s.pending;
  into.expected += s.expected;
  maxInto(into.maxSeen, s.maxSeen);
  maxInto(into.maxAcked, s.maxAcked);
  addTo(into.sentPerRoom, s.sentPerRoom);
  into.firstSendUs = Math.min(into.firstSendUs, s.firstSendUs);
  into.lastSendUs = Math.max(into.lastSendUs, s.lastSendUs);
  into.lastDeliveryUs = Math.max(into.lastDeliveryUs, s.lastDeliveryUs);
  addTo(into.closes, s.closes);
  into.reconnects += s.reconnects;
  into.presenceFrames += s.presenceFrames;
  into.presenceBytes += s.presenceBytes;
  into.framesIn += s.framesIn;
  into.bytesIn += s.bytesIn;
  return into;
}

import { isUtf8 } from 'node:buffer';
import { randomBytes, randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it, onTestFailed } from 'vitest';
import { WebSocket } from 'ws';
import { ChatApi } from '../../src/client/api.js';
import type { ChatClient, ChatClientOptions } from '../../src/client/chat-client.js';
import { CLOSE_CODES } from '../../src/protocol/close-codes.js';
import { ERRORS, type ErrorCode } from '../../src/protocol/errors.js';
import { ClientFrame } from '../../src/protocol/frames.js';
import {
  Body,
  ClientMsgId,
  DisplayName,
  Id,
  RoomName,
  StatusText,
  Topic,
  Username,
  type RoomEventType,
} from '../../src/protocol/model.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import {
  applyEdits,
  deepJson,
  editsFor,
  invalidJsonText,
  KINDS,
  POISON_KEYS,
  poisoned,
  type Edit,
  type Shape,
} from '../helpers/fuzz-inputs.js';
import { connect, recordEvents, registerUser, startServer, waitFor, type TestServer } from '../helpers/harness.js';

/**
 * Throws thousands of random and malformed WebSocket frames, HTTP requests and raw TCP bytes at one live server
 * while two bystanders chat. The server must answer every bad input with an error (or a documented close), keep
 * its memory, store nothing malformed, and deliver the bystanders' messages exactly once, in order.
 *
 * Every run draws a new seed (so the suite keeps exploring), prints it first, and puts it at the head of any
 * failure: FUZZ_SEED=<n> replays that run's inputs. FUZZ_SCALE=<k> multiplies the run counts; FUZZ_SHRINK=1 shrinks
 * a failing input to a minimal one (slower).
 *
 * No latency or speed is asserted (a busy machine is slow, not broken): the bystanders' send times are printed
 * for information, and waiting is bounded only by ANSWER_MS, a hang detector. Performance is `npm run bench`.
 */
const SEED = fuzzSeed(process.env.FUZZ_SEED);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const SHRINK = process.env.FUZZ_SHRINK === '1';
const WS_WORKERS = 6;
const WS_RUNS = Math.round(1000 * SCALE);
const HTTP_WORKERS = 8;
const HTTP_RUNS = Math.round(300 * SCALE);
const TCP_RUNS = Math.round(150 * SCALE);
/** How long any single input (or bystander send) may wait for its answer before the test calls it a hang. */
const ANSWER_MS = 30_000;
/** Frames above this are refused by `ws` with close 1009 (gateway.ts HARD_FRAME_CAP). */
const HARD_FRAME_CAP = 1 << 20;
/**
 * Heap growth over the run, after full GCs: a leak per input (socket, request) adds up over thousands of them.
 * Not a timing: what the run allocates depends on its inputs, not on the machine's speed (a few MiB seen).
 */
const HEAP_GROWTH_LIMIT = 64 << 20;

/** FUZZ_SEED if given (an integer), else a fresh random one; fast-check seeds are 32-bit, and we add up to 300. */
function fuzzSeed(given: string | undefined): number {
  if (given === undefined || given === '') return randomInt(0, 2 ** 31 - 1000);
  const seed = Number(given);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not ${given}`);
  return seed;
}

/** Frames that answer a client frame; anything else (events, presence, typing) is broadcast traffic. */
const ANSWERS = new Set(['error', 'ack', 'pong', 'welcome']);
const BAD_INPUT_CODES = new Set<string>(['bad_json', 'validation_failed', 'payload_too_large']);
const SERVER_FAULT_CODES = new Set<string>(['internal', 'unavailable']);
/** Close codes a fuzzed socket may see: the documented table, plus 1007, which `ws` sends for invalid UTF-8. */
const ALLOWED_CLOSES = new Set<number>([...Object.values(CLOSE_CODES).map((c) => c.code), 1007]);

type Frame = Record<string, unknown> & { type?: unknown; ref?: unknown; code?: unknown };

const inc = <K>(m: Map<K, number>, k: K, by = 1) => m.set(k, (m.get(k) ?? 0) + by);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `p`, or a rejection if it has not settled within ANSWER_MS: a hang is a failure, slowness is not. */
function hangGuard<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ANSWER_MS} ms`)), ANSWER_MS);
  });
  return Promise.race([p, hung]).finally(() => clearTimeout(timer));
}

const stats = {
  wsFrames: 0,
  wsBad: 0,
  wsSockets: 0,
  wsErrors: new Map<string, number>(),
  wsCloses: new Map<number, number>(),
  httpRequests: 0,
  httpMustReject: 0,
  httpStatus: new Map<number, number>(),
  httpErrors: new Map<string, number>(),
  tcp: 0,
};
/** Broken invariants seen in event handlers, where throwing would go nowhere; checked after every input. */
const violations: string[] = [];

/** FRAME_ERRORS_PER_MINUTE of the server under test. */
let policyAllowance = 0;
/** The server's own origin: WebSocket upgrades without an allowed Origin are refused (403). */
let origin = '';
class OriginWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { origin });
  }
}

/** A raw socket that records every frame, checks each error frame against the catalog, and waits for answers. */
class Peer {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  /** We hung up ourselves: the close that follows is ours, not the server's. */
  retired = false;
  /** The last input on this socket was malformed (so a close 1008 may be on its way). */
  lastWasBad = false;
  /** Malformed frames sent on this socket: close 1008 must not come before the configured allowance. */
  badFrames = 0;
  private wake: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    readonly name: string,
    /** Rooms this user may hear from: an event of any other room is a leak. */
    readonly rooms: ReadonlySet<string>,
  ) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) violations.push(`${name}: server sent a binary frame`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(data));
      } catch {
        violations.push(`${name}: server sent invalid JSON: ${String(data).slice(0, 100)}`);
        return;
      }
      for (const f of (Array.isArray(parsed) ? parsed : [parsed]) as Frame[]) this.check(f);
      this.notify();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      if (this.retired) return;
      inc(stats.wsCloses, code);
      if (code === CLOSE_CODES.POLICY.code && this.badFrames <= policyAllowance) {
        violations.push(`${name}: closed 1008 after only ${this.badFrames} bad frames`);
      }
      if (!ALLOWED_CLOSES.has(code)) violations.push(`${name}: undocumented close code ${code} (${reason})`);
      this.notify();
    });
    ws.on('error', () => {});
  }

  private check(f: Frame): void {
    this.frames.push(f);
    if (f.type === 'error') {
      const code = String(f.code);
      inc(stats.wsErrors, code);
      if (!(code in ERRORS)) violations.push(`${this.name}: error code not in ERRORS: ${code}`);
      else if (f.retryable !== ERRORS[code as ErrorCode].retryable) violations.push(`${this.name}: ${code} retryable`);
      if (typeof f.message !== 'string') violations.push(`${this.name}: error without a message`);
      if (SERVER_FAULT_CODES.has(code)) violations.push(`${this.name}: server fault ${JSON.stringify(f)}`);
    }
    const roomId =
      f.type === 'event' ? (f.event as { roomId?: string } | undefined)?.roomId : f.roomId && String(f.roomId);
    if (f.type !== 'error' && typeof roomId === 'string' && !this.rooms.has(roomId)) {
      violations.push(`${this.name}: ${String(f.type)} frame of a room it is not in: ${roomId}`);
    }
    if (f.type === 'room.added') violations.push(`${this.name}: unexpected room.added ${JSON.stringify(f)}`);
  }

  private notify(): void {
    const w = this.wake;
    this.wake = [];
    for (const fn of w) fn();
  }

  static open(url: string, name: string, rooms: ReadonlySet<string>): Promise<Peer> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { origin });
    stats.wsSockets++;
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Peer(ws, name, rooms)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  /** Waits for a frame (from index `from`) matching `pred`; resolves `closed` if the socket closes first. */
  async until(pred: (f: Frame) => boolean, from: number, what: string): Promise<Frame | 'closed'> {
    const deadline = Date.now() + ANSWER_MS;
    for (;;) {
      const found = this.frames.slice(from).find(pred);
      if (found) return found;
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no answer within ${ANSWER_MS} ms (${what})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends bytes as one frame, or as `fragments` continuation frames. Never throws (a closing socket drops it). */
  sendRaw(data: Buffer, binary: boolean, fragments = 1): void {
    const ignore = () => {};
    if (fragments <= 1 || data.length < fragments) return this.ws.send(data, { binary }, ignore);
    const step = Math.ceil(data.length / fragments);
    for (let i = 0; i < data.length; i += step) {
      this.ws.send(data.subarray(i, i + step), { binary, fin: i + step >= data.length }, ignore);
    }
  }

  send(frame: unknown): void {
    this.sendRaw(Buffer.from(JSON.stringify(frame)), false);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// WebSocket inputs

type WsTemplate = 'hello' | 'send' | 'typing' | 'presence' | 'ping' | 'view';
const WS_SHAPES: Record<WsTemplate, Shape> = {
  hello: {
    fields: { type: 'frameType', v: 'version', token: 'token', resume: 'resume', ref: 'ref' },
    required: ['type', 'v', 'token'],
    strict: true,
  },
  send: {
    fields: { type: 'frameType', roomId: 'id', clientMsgId: 'clientMsgId', body: 'body', ref: 'ref' },
    required: ['type', 'roomId', 'clientMsgId', 'body'],
    strict: true,
  },
  typing: { fields: { type: 'frameType', roomId: 'id', ref: 'ref' }, required: ['type', 'roomId'], strict: true },
  presence: {
    fields: { type: 'frameType', status: 'presenceStatus', ref: 'ref' },
    required: ['type', 'status'],
    strict: true,
  },
  ping: { fields: { type: 'frameType', ref: 'ref' }, required: ['type'], strict: true },
  view: { fields: { type: 'frameType', roomIds: 'roomIds', ref: 'ref' }, required: ['type', 'roomIds'], strict: true },
};
// The `type` field is the discriminator: an ok edit of it swaps in another valid type, which our oracle
// (ClientFrame itself) then judges; only the `bad` edits are certain, and only while the type is the template's
// (applyEdits with 'type').

const WS_EDITS = Object.fromEntries(Object.entries(WS_SHAPES).map(([t, shape]) => [t, editsFor(shape)])) as Record<
  WsTemplate,
  fc.Arbitrary<Edit[]>
>;

type WsInput =
  | { kind: 'frame'; template: WsTemplate; room: number; edits: Edit[]; fragments: number }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string; fragments: number }
  | { kind: 'bytes'; bytes: Uint8Array; binary: boolean }
  | { kind: 'big'; size: number; binary: boolean };

const wsInput: fc.Arbitrary<WsInput> = fc.oneof(
  {
    weight: 55,
    arbitrary: fc
      .constantFrom<WsTemplate>('hello', 'send', 'send', 'typing', 'presence', 'ping', 'view')
      .chain((template) =>
        fc.record({
          kind: fc.constant('frame' as const),
          template: fc.constant(template),
          room: fc.nat(3),
          edits: WS_EDITS[template],
          fragments: fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 4 })),
        }),
      ),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('json' as const),
      value: fc.oneof(
        fc.jsonValue(),
        fc.constant([{ type: 'ping' }]),
        fc.constant(poisoned({ type: 'ping' })),
        fc.dictionary(fc.constantFrom('type', 'ref', ...POISON_KEYS), fc.jsonValue(), { maxKeys: 4 }),
      ),
    }),
  },
  {
    weight: 14,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: fc.oneof(invalidJsonText, deepJson),
      fragments: fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 4 })),
    }),
  },
  {
    weight: 14,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      bytes: fc.uint8Array({ minLength: 0, maxLength: 600 }),
      // Text frames of random bytes are mostly invalid UTF-8, which ends the socket (1007): fewer of those.
      binary: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('big' as const),
      size: fc.oneof(
        { weight: 12, arbitrary: fc.integer({ min: 65_537, max: 100_000 }) },
        fc.integer({ min: HARD_FRAME_CAP + 1, max: HARD_FRAME_CAP + 1000 }),
      ),
      binary: fc.boolean(),
    }),
  },
);

/** What the server must answer to one frame; computed from the bytes with the protocol's own schema. */
type WsExpect =
  | { t: 'bad'; code: 'bad_json' | 'validation_failed' | 'payload_too_large'; ref?: string }
  | { t: 'close'; code: number }
  | { t: 'welcome' }
  | { t: 'refused'; code: ErrorCode; close: number }
  | { t: 'unauthorized'; ref: string | undefined }
  | { t: 'ack'; clientMsgId: string }
  | { t: 'pong'; ref: string | undefined }
  | { t: 'not_member' }
  | { t: 'quiet' };

interface WsLive {
  token: string;
  /** [lobby, the shared fuzz room, a private room the fuzzer is not in, a room that does not exist] */
  rooms: string[];
  memberRooms: ReadonlySet<string>;
  maxFrameBytes: number;
}

function encodeWs(input: WsInput, live: WsLive): { data: Buffer; binary: boolean; fragments: number; bad: boolean } {
  switch (input.kind) {
    case 'frame': {
      const room = live.rooms[input.room]!;
      const bases: Record<WsTemplate, Record<string, unknown>> = {
        hello: { type: 'hello', v: PROTOCOL_VERSION, token: live.token, resume: { [room]: 0 } },
        send: { type: 'send', roomId: room, clientMsgId: `fz${randomBytes(6).toString('hex')}`, body: 'fuzz says hi' },
        typing: { type: 'typing', roomId: room },
        presence: { type: 'presence', status: 'away' },
        ping: { type: 'ping', ref: 'p' },
        view: { type: 'view', roomIds: [room] },
      };
      const { value, mustReject } = applyEdits(bases[input.template], input.edits, 'type');
      return { data: Buffer.from(JSON.stringify(value)), binary: false, fragments: input.fragments, bad: mustReject };
    }
    case 'json':
      return { data: Buffer.from(JSON.stringify(input.value) ?? 'null'), binary: false, fragments: 1, bad: false };
    case 'text':
      return { data: Buffer.from(input.text), binary: false, fragments: input.fragments, bad: false };
    case 'bytes':
      return { data: Buffer.from(input.bytes), binary: input.binary, fragments: 1, bad: false };
    case 'big': {
      const data = Buffer.alloc(input.size, 'a');
      data.write('{"type":"send","body":"');
      return { data, binary: input.binary, fragments: 1, bad: true };
    }
  }
}

function expectWs(data: Buffer, binary: boolean, authed: boolean, live: WsLive): WsExpect {
  if (data.length > HARD_FRAME_CAP) return { t: 'close', code: CLOSE_CODES.TOO_BIG.code };
  if (!binary && !isUtf8(data)) return { t: 'close', code: 1007 };
  if (data.length > live.maxFrameBytes) return { t: 'bad', code: 'payload_too_large' };
  if (binary) return { t: 'bad', code: 'bad_json' };
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    return { t: 'bad', code: 'bad_json' };
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) {
    const ref = (json as { ref?: unknown } | null)?.ref;
    return { t: 'bad', code: 'validation_failed', ...(typeof ref === 'string' ? { ref: ref.slice(0, 64) } : {}) };
  }
  const f = parsed.data;
  if (f.type === 'hello') {
    if (authed) return { t: 'bad', code: 'validation_failed', ...(f.ref !== undefined ? { ref: f.ref } : {}) };
    if (f.v !== PROTOCOL_VERSION) return { t: 'refused', code: 'unsupported_version', close: 4005 };
    if (f.token !== live.token) return { t: 'refused', code: 'unauthorized', close: 4001 };
    return { t: 'welcome' };
  }
  if (!authed) return { t: 'unauthorized', ref: f.ref };
  switch (f.type) {
    case 'send':
      return { t: 'ack', clientMsgId: f.clientMsgId };
    case 'typing':
      return live.memberRooms.has(f.roomId) ? { t: 'quiet' } : { t: 'not_member' };
    case 'presence':
    case 'view':
      return { t: 'quiet' };
    case 'ping':
      return { t: 'pong', ref: f.ref };
  }
}

/** One fuzzing connection pair per worker: a socket that never said hello, and an authenticated one. */
class WsWorker {
  private pre: Peer | undefined;
  private preBorn = 0;
  private authed: Peer | undefined;
  private marker = 0;

  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly live: WsLive,
  ) {}

  private async socket(authed: boolean): Promise<Peer> {
    if (!authed) {
      // Recycle well before the hello timeout (10 s), so a 4002 never races an input.
      if (this.pre && (this.pre.closed || Date.now() - this.preBorn > 4000)) this.drop('pre');
      if (!this.pre) {
        this.pre = await Peer.open(this.url, `${this.name}/pre`, this.live.memberRooms);
        this.preBorn = Date.now();
      }
      return this.pre;
    }
    if (this.authed?.closed) this.drop('authed');
    if (!this.authed) {
      const peer = await Peer.open(this.url, `${this.name}/authed`, this.live.memberRooms);
      peer.send({ type: 'hello', v: PROTOCOL_VERSION, token: this.live.token });
      const welcome = await peer.until((f) => f.type === 'welcome' || f.type === 'error', 0, 'hello');
      if (welcome === 'closed' || welcome.type !== 'welcome') throw new Error(`${this.name}: hello refused`);
      this.authed = peer;
    }
    return this.authed;
  }

  drop(which: 'pre' | 'authed'): void {
    const peer = this[which];
    if (peer) peer.retired = true;
    peer?.ws.terminate();
    this[which] = undefined;
  }

  async run(input: WsInput, authed: boolean): Promise<void> {
    const { data, binary, fragments, bad } = encodeWs(input, this.live);
    const expected = expectWs(data, binary, authed, this.live);
    if (bad && expected.t !== 'bad' && expected.t !== 'close') {
      throw new Error(`schema accepted an input built to be invalid: ${data.toString('utf8').slice(0, 300)}`);
    }
    let peer: Peer;
    let answer: Frame | 'closed';
    let marker: string | undefined;
    for (let attempt = 0; ; attempt++) {
      peer = await this.socket(authed);
      stats.wsFrames++;
      if (expected.t === 'bad' || expected.t === 'close') stats.wsBad++;
      // Every input is answered before the next is sent, so the first answer after it is its own: an extra or a
      // missing answer shows up as a mismatch here or on the next input.
      peer.frames.length = 0;
      peer.sendRaw(data, binary, fragments);
      if (expected.t === 'quiet') {
        // Nothing answers a valid typing, presence or view frame: a ping behind it proves nothing else did.
        marker = `~mark~${this.name}~${++this.marker}`;
        peer.send({ type: 'ping', ref: marker });
      }
      answer = await peer.until((f) => ANSWERS.has(String(f.type)), 0, `answer to ${expected.t}`);
      // The previous bad frame was one too many: its error came, and its close 1008 was still on the way.
      const lateClose = answer === 'closed' && peer.closed?.code === CLOSE_CODES.POLICY.code && peer.lastWasBad;
      if (!lateClose || attempt > 0) break;
    }
    peer.lastWasBad = expected.t === 'bad';
    if (expected.t === 'bad') peer.badFrames++;
    const fail = (why: string) => {
      throw new Error(
        `${why}; expected ${JSON.stringify(expected)}, got ${JSON.stringify(peer.frames).slice(0, 600)}, ` +
          `close ${peer.closed?.code} for input ${data.toString('utf8').slice(0, 300)}`,
      );
    };
    const closeCode = async () => {
      if (!peer.closed) await peer.until(() => false, 0, 'close');
      return peer.closed?.code;
    };
    const is = (type: string, extra: (f: Frame) => boolean = () => true) =>
      answer !== 'closed' && answer.type === type && extra(answer);
    switch (expected.t) {
      case 'bad':
        if (!is('error', (f) => f.code === expected.code)) fail('a bad frame got no error frame');
        if (expected.ref !== undefined && !is('error', (f) => f.ref === expected.ref)) fail('the error lost ref');
        // The error may be followed by close 1008 (too many bad frames): see the next input.
        break;
      case 'close':
        if (answer !== 'closed' || (await closeCode()) !== expected.code) fail('wrong close');
        break;
      case 'welcome':
        if (!is('welcome')) fail('hello failed');
        this.drop('pre'); // it is authenticated now: the next pre-hello input gets a fresh socket
        break;
      case 'refused':
        if (!is('error', (f) => f.code === expected.code) || (await closeCode()) !== expected.close)
          fail('not refused');
        break;
      case 'unauthorized':
        if (!is('error', (f) => f.code === 'unauthorized' && f.ref === expected.ref)) fail('not unauthorized');
        break;
      case 'ack':
        if (!is('ack') && !is('error', (f) => !BAD_INPUT_CODES.has(String(f.code)))) fail('a valid send got no ack');
        if (answer !== 'closed' && answer.clientMsgId !== expected.clientMsgId) fail('answer for another send');
        break;
      case 'pong':
        if (!is('pong', (f) => f.ref === expected.ref)) fail('a valid ping got no pong');
        break;
      case 'not_member':
        if (!is('error', (f) => f.code === 'not_member')) fail('typing outside a room');
        break;
      case 'quiet':
        if (!is('pong', (f) => f.ref === marker)) fail('a valid frame was refused');
        break;
    }
    if (violations.length) throw new Error(`invariant broken: ${violations.join('; ')}`);
  }

  close(): void {
    this.drop('pre');
    this.drop('authed');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP inputs

interface Route {
  method: string;
  path: string;
  params: string[];
}

/** Every route the API declares, read from the route files, so routes added later are fuzzed too. */
function discoverRoutes(): Route[] {
  const dir = new URL('../../src/server/http/routes/', import.meta.url);
  const routes: Route[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    for (const m of text.matchAll(/\bapp\.(get|post|put|patch|delete)\(\s*'([^']+)'/g)) {
      const path = m[2]!;
      routes.push({ method: m[1]!.toUpperCase(), path, params: [...path.matchAll(/:(\w+)/g)].map((p) => p[1]!) });
    }
  }
  return routes;
}

/** Live values an input refers to by name; filled in when it is sent. */
interface HttpLive {
  rooms: string[];
  victims: { id: string; username: string }[];
  reportIds: string[];
  fresh(): string;
}

interface BodyTemplate {
  shape: Shape;
  base: (l: HttpLive) => Record<string, unknown>;
}
const body = (fields: Shape['fields'], required: string[], base: BodyTemplate['base']): BodyTemplate => ({
  shape: { fields, required, strict: true },
  base,
});
const wrongPassword = 'not the password at all';
const duration = { durationSec: 'int', reason: 'reason' } as const;

/** Request bodies of the API (src/protocol/http.ts and the moderation routes of docs/protocol.md). */
const BODIES: Record<string, BodyTemplate> = {
  'POST /api/v1/auth/register': body(
    { username: 'username', password: 'password', displayName: 'displayName' },
    ['username', 'password'],
    (l) => ({ username: l.fresh(), password: 'correct horse battery', displayName: 'Fuzzy Person' }),
  ),
  'POST /api/v1/auth/login': body(
    { username: 'loginName', password: 'password', label: 'label' },
    ['username', 'password'],
    (l) => ({ username: l.victims[0]!.username, password: wrongPassword, label: 'fuzz' }),
  ),
  'POST /api/v1/auth/password': body(
    { currentPassword: 'password', newPassword: 'password' },
    ['currentPassword', 'newPassword'],
    () => ({ currentPassword: wrongPassword, newPassword: 'a brand new password' }),
  ),
  'PATCH /api/v1/me': body({ displayName: 'displayName', statusText: 'statusText' }, [], () => ({
    displayName: 'Fuzz Name',
    statusText: 'fuzzing',
  })),
  'POST /api/v1/rooms': body({ name: 'roomName', visibility: 'visibility', topic: 'topic' }, ['name'], () => ({
    name: 'fuzz room',
    visibility: 'public',
    topic: 'a topic',
  })),
  'PATCH /api/v1/rooms/:roomId': body({ name: 'roomName', topic: 'topic', settings: 'settings' }, [], () => ({
    name: 'renamed room',
    topic: 'new topic',
  })),
  'POST /api/v1/rooms/:roomId/invites': body({ username: 'username' }, ['username'], (l) => ({
    username: l.victims[0]!.username,
  })),
  'PUT /api/v1/rooms/:roomId/members/:userId/role': body({ role: 'roomRole' }, ['role'], () => ({ role: 'member' })),
  'POST /api/v1/dms': body({ usernames: 'usernames' }, ['usernames'], (l) => ({ usernames: [l.victims[1]!.username] })),
  'POST /api/v1/rooms/:roomId/messages': body(
    { body: 'body', clientMsgId: 'clientMsgId' },
    ['body', 'clientMsgId'],
    (l) => ({
      body: 'hello from http',
      clientMsgId: l.fresh(),
    }),
  ),
  'POST /api/v1/announcements': body({ body: 'body' }, ['body'], () => ({ body: 'an announcement' })),
  'POST /api/v1/rooms/:roomId/members/:userId/kick': body({ reason: 'reason' }, [], () => ({ reason: 'spam' })),
  'PUT /api/v1/rooms/:roomId/bans/:userId': body(duration, [], () => ({ durationSec: 60, reason: 'spam' })),
  'PUT /api/v1/rooms/:roomId/mutes/:userId': body(duration, [], () => ({ durationSec: 60, reason: 'spam' })),
  'POST /api/v1/reports': body({ roomId: 'id', seq: 'seq', userId: 'id', reason: 'reason' }, ['reason'], (l) => ({
    roomId: l.rooms[1],
    seq: 1,
    reason: 'spam',
  })),
  'POST /api/v1/reports/:id/resolve': body({ action: 'reportAction', durationSec: 'int' }, ['action'], () => ({
    action: 'dismiss',
  })),
  'PUT /api/v1/admin/users/:id/role': body({ role: 'serverRole' }, ['role'], () => ({ role: 'user' })),
  'PUT /api/v1/admin/users/:id/ban': body(duration, [], () => ({ durationSec: 60, reason: 'spam' })),
};

/** Query values are strings (or repeated keys); their kinds are separate from JSON ones. */
type QKind = 'limit' | 'seq' | 'search' | 'cursor' | 'status' | 'id' | 'kinds';
const badLimit = fc.constantFrom('0', '-1', '201', '1.5', 'abc', '1e309', '', ' ', '0x10');
const repeated = fc.constant(['1', '2']);
const QKINDS: Record<QKind, { ok: fc.Arbitrary<unknown>; bad: fc.Arbitrary<unknown> }> = {
  limit: { ok: fc.integer({ min: 1, max: 200 }).map(String), bad: fc.oneof(badLimit, repeated) },
  seq: {
    ok: fc.integer({ min: 0, max: 1000 }).map(String),
    bad: fc.oneof(fc.constantFrom('-1', '1.5', 'abc', '9007199254740993', '1e400'), repeated),
  },
  search: {
    ok: fc.string({ unit: 'grapheme', maxLength: 100 }),
    bad: fc.oneof(
      fc.string({ minLength: 101, maxLength: 400 }).map((s) => s.padEnd(101, 'q')),
      repeated,
    ),
  },
  cursor: { ok: fc.string({ maxLength: 100 }), bad: fc.oneof(fc.constant('c'.repeat(1001)), repeated) },
  kinds: {
    ok: fc.constant('membership'),
    bad: fc.oneof(fc.constantFrom('messages', 'MEMBERSHIP', '', 'all'), repeated),
  },
  status: {
    ok: fc.constantFrom('open', 'resolved'),
    bad: fc.oneof(fc.constantFrom('OPEN', 'closed', '', 'all'), repeated),
  },
  id: {
    ok: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    bad: fc.oneof(fc.constantFrom('', 'a b', 'x'.repeat(65)), repeated),
  },
};
interface QueryTemplate {
  fields: Record<string, QKind>;
  base: Record<string, string>;
}
const QUERIES: Record<string, QueryTemplate> = {
  'GET /api/v1/users': { fields: { q: 'search', limit: 'limit' }, base: { q: 'vic', limit: '5' } },
  'GET /api/v1/rooms': { fields: { q: 'search', limit: 'limit', cursor: 'cursor' }, base: { q: 'fuzz', limit: '5' } },
  'GET /api/v1/rooms/:roomId/messages': {
    fields: { after: 'seq', before: 'seq', limit: 'limit' },
    base: { limit: '5' },
  },
  'GET /api/v1/rooms/:roomId/events': {
    fields: { after: 'seq', before: 'seq', limit: 'limit', kinds: 'kinds' },
    base: { after: '0' },
  },
  'GET /api/v1/reports': {
    fields: { status: 'status', limit: 'limit', before: 'cursor' },
    base: { status: 'open', limit: '5' },
  },
  'GET /api/v1/admin/users': { fields: { q: 'search', limit: 'limit', cursor: 'cursor' }, base: { limit: '5' } },
  'GET /api/v1/admin/audit': { fields: { roomId: 'id', limit: 'limit', before: 'cursor' }, base: { limit: '5' } },
};

function queryEdits(t: QueryTemplate): fc.Arbitrary<Edit[]> {
  const keys = Object.keys(t.fields);
  const edit: fc.Arbitrary<Edit> = fc.oneof(
    ...keys.flatMap((key) => [
      QKINDS[t.fields[key]!].ok.map((value): Edit => ({ op: 'set', key, value, bad: false })),
      QKINDS[t.fields[key]!].bad.map((value): Edit => ({ op: 'set', key, value, bad: true })),
    ]),
    fc.constantFrom(...keys).map((key): Edit => ({ op: 'drop', key, bad: false })),
    // `__proto__` is left out: whether a query parser keeps it as a key is its business, not a schema's.
    fc
      .tuple(fc.constantFrom('constructor', 'toString', 'extra', 'token', 'LIMIT'), fc.string({ maxLength: 8 }))
      .map(([key, value]): Edit => ({ op: 'extra', key, value, bad: true })),
  );
  return fc.array(edit, { maxLength: 3 });
}

type ParamChoice = { real: number } | { raw: string; bad: boolean };
const paramChoice: fc.Arbitrary<ParamChoice> = fc.oneof(
  { weight: 5, arbitrary: fc.nat(20).map((real) => ({ real })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(KINDS.id.ok as fc.Arbitrary<string>, fc.integer({ min: -5, max: 100 }).map(String))
      .map((s) => ({ raw: encodeURIComponent(s), bad: false })),
  },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc
        .oneof(
          fc.constantFrom(' ', 'a b', 'a/b', '../etc', 'x\u0000y', 'é', '\u202e', 'a.b', '😀'),
          fc.integer({ min: 65, max: 400 }).map((n) => 'r'.repeat(n)),
        )
        .map((s) => ({ raw: encodeURIComponent(s), bad: true })),
      // Malformed percent-encoding, sent as is.
      fc.constantFrom('%', '%zz', '%c3%28', '%00', '%ff%fe', '%2e%2e').map((raw) => ({ raw, bad: true })),
    ),
  },
);

type BodyChoice =
  | { kind: 'none' }
  | { kind: 'template'; edits: Edit[] }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'big'; size: number };
type ContentType = 'json' | 'json-utf8' | 'text' | 'form' | 'multipart' | 'none' | 'odd';
const ODD_TYPES = ['application/jsonx', 'APPLICATION/JSON', 'application/json; charset=utf-16', ';;', 'json', '*/*'];
type AuthChoice = 'admin' | 'member' | 'none' | 'garbage';
const GARBAGE_AUTH = fc.oneof(
  fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
  fc.constantFrom('Bearer', 'bearer abc', 'Basic YWxpY2U6cHc=', `Bearer ${'t'.repeat(201)}`, 'Bearer a b', 'Token x'),
);

interface HttpInput {
  route: number;
  method: string | null;
  params: ParamChoice[];
  query: { kind: 'none' } | { kind: 'template'; edits: Edit[] } | { kind: 'raw'; text: string };
  body: BodyChoice;
  ct: ContentType;
  odd: string;
  auth: AuthChoice;
  garbageAuth: string;
}

/** Inputs for every route, each route equally often. Built once: arbitraries are costly to construct. */
function httpInput(routes: Route[]): fc.Arbitrary<HttpInput> {
  const perRoute = routes.map((r, route) => {
    const key = `${r.method} ${r.path}`;
    const tb = BODIES[key];
    const tq = QUERIES[key];
    const bodies: fc.WeightedArbitrary<BodyChoice>[] = [
      { weight: 3, arbitrary: fc.constant<BodyChoice>({ kind: 'none' }) },
      { weight: 3, arbitrary: fc.jsonValue().map((value): BodyChoice => ({ kind: 'json', value })) },
      {
        weight: 3,
        arbitrary: fc.oneof(invalidJsonText, deepJson).map((text): BodyChoice => ({ kind: 'text', text })),
      },
      {
        weight: 1,
        arbitrary: fc.integer({ min: 65_537, max: 100_000 }).map((size): BodyChoice => ({ kind: 'big', size })),
      },
    ];
    const template = tb && editsFor(tb.shape).map((edits): BodyChoice => ({ kind: 'template', edits }));
    const bodyArb = fc.oneof(...(template ? [{ weight: 20, arbitrary: template }] : []), ...bodies);
    return fc.record({
      route: fc.constant(route),
      method: fc.oneof(
        { weight: 12, arbitrary: fc.constant(null) },
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
      ),
      params: fc.tuple(...r.params.map(() => paramChoice)),
      query: fc.oneof(
        { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
        {
          weight: tq ? 5 : 0,
          arbitrary: tq
            ? queryEdits(tq).map((edits) => ({ kind: 'template' as const, edits }))
            : fc.constant({ kind: 'none' as const }),
        },
        {
          weight: 2,
          arbitrary: fc
            .oneof(
              fc.constantFrom('%zz', '&&&', '=', 'a[b]=c', '__proto__[x]=1', 'constructor[prototype][x]=1', 'a=%00'),
              fc
                .dictionary(fc.constantFrom('q', 'limit', 'after', 'x', ...POISON_KEYS), fc.string({ maxLength: 20 }))
                .map((d) => new URLSearchParams(d as Record<string, string>).toString()),
            )
            .map((text) => ({ kind: 'raw' as const, text })),
        },
      ),
      body: bodyArb,
      ct: fc.oneof(
        { weight: 12, arbitrary: fc.constant<ContentType>('json') },
        fc.constantFrom<ContentType>('json-utf8', 'text', 'form', 'multipart', 'none', 'odd'),
      ),
      odd: fc.constantFrom(...ODD_TYPES),
      auth: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom<AuthChoice>('admin', 'member') },
        fc.constantFrom<AuthChoice>('none', 'garbage'),
      ),
      garbageAuth: GARBAGE_AUTH,
    });
  });
  return fc.nat(routes.length - 1).chain((i) => perRoute[i]!);
}

/** A signed-in account the HTTP fuzzer acts as; it signs in again when a fuzzed logout killed its token. */
class Identity {
  private refreshing: Promise<void> | undefined;
  constructor(
    private readonly url: string,
    readonly username: string,
    readonly password: string,
    public token: string,
  ) {}
  async refresh(stale: string): Promise<void> {
    if (this.token !== stale) return;
    this.refreshing ??= new ChatApi(this.url)
      .login(this.username, this.password)
      .then((r) => void (this.token = r.token))
      .finally(() => (this.refreshing = undefined));
    await this.refreshing;
  }
}

interface HttpResult {
  status: number;
  body: Buffer;
}

function httpRequest(
  base: URL,
  agent: http.Agent,
  method: string,
  path: string,
  headers: Record<string, string>,
  payload: Buffer | undefined,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(ANSWER_MS, () => req.destroy(new Error(`no answer within ${ANSWER_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function runHttp(
  input: HttpInput,
  routes: Route[],
  live: HttpLive,
  ids: Record<'admin' | 'member', Identity>,
  base: URL,
  agent: http.Agent,
): Promise<void> {
  const route = routes[input.route]!;
  const key = `${route.method} ${route.path}`;
  const method = input.method ?? route.method;
  const onRoute = method === route.method;
  let mustReject = false;
  const why: string[] = [];
  const reject = (reason: string) => {
    mustReject = true;
    why.push(reason);
  };

  let i = 0;
  const path = route.path.replace(/:(\w+)/g, (_m, name: string) => {
    const choice = input.params[i++]!;
    if ('raw' in choice) {
      if (choice.bad) reject(`bad :${name}`);
      return choice.raw;
    }
    const pool =
      name === 'roomId'
        ? live.rooms
        : name === 'seq'
          ? ['1', '2', '3', '5', '8']
          : [...live.victims.map((v) => v.id), ...live.reportIds];
    return encodeURIComponent(pool[choice.real % pool.length]!);
  });

  let query = '';
  if (input.query.kind === 'raw') query = input.query.text;
  else if (input.query.kind === 'template') {
    const t = QUERIES[key]!;
    const { value, mustReject: bad } = applyEdits(t.base, input.query.edits);
    if (bad && onRoute) reject('bad query');
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(value)) {
      for (const item of Array.isArray(v) ? v : [v])
        qs.append(k, typeof item === 'string' ? item : JSON.stringify(item));
    }
    query = qs.toString();
  }

  const tb = BODIES[key];
  const strictBody = Boolean(tb && onRoute);
  let payload: Buffer | undefined;
  if (input.body.kind === 'template') {
    const { value, mustReject: bad } = applyEdits(tb!.base(live), input.body.edits);
    if (bad && strictBody) reject('bad body field');
    payload = Buffer.from(JSON.stringify(value));
  } else if (input.body.kind === 'json') {
    const v = input.body.value;
    payload = Buffer.from(JSON.stringify(v));
    const isObject = typeof v === 'object' && v !== null && !Array.isArray(v);
    const unknownKey = isObject && Object.keys(v).some((k) => !(tb && k in tb.shape.fields));
    if (strictBody && v !== null && (!isObject || unknownKey)) reject('body of the wrong shape');
  } else if (input.body.kind === 'text') {
    payload = Buffer.from(input.body.text);
    if (WRITE_METHODS.has(method) && input.ct === 'json' && payload.toString().trim() !== '') {
      let parses = true;
      try {
        JSON.parse(payload.toString());
      } catch {
        parses = false;
      }
      if (!parses) reject('invalid JSON');
    }
  } else if (input.body.kind === 'big') {
    payload = Buffer.alloc(input.body.size, 'x');
    payload.write('{"body":"');
    payload.write('"}', input.body.size - 2);
    if (WRITE_METHODS.has(method) && input.ct === 'json') reject('body over the limit');
  }

  const headers: Record<string, string> = {};
  if (payload) {
    const types: Record<ContentType, string | undefined> = {
      json: 'application/json',
      'json-utf8': 'application/json; charset=utf-8',
      text: 'text/plain',
      form: 'application/x-www-form-urlencoded',
      multipart: 'multipart/form-data; boundary=fuzz',
      none: undefined,
      odd: input.odd,
    };
    const ct = types[input.ct];
    if (ct) headers['content-type'] = ct;
    if (strictBody && ['text', 'form', 'multipart'].includes(input.ct)) reject(`content-type ${input.ct}`);
    if (strictBody && input.ct === 'none' && payload.length > 0) reject('no content-type');
    headers['content-length'] = String(payload.length);
  }
  let identity: Identity | undefined;
  if (input.auth === 'admin' || input.auth === 'member') {
    identity = ids[input.auth];
    headers.authorization = `Bearer ${identity.token}`;
  } else if (input.auth === 'garbage') headers.authorization = input.garbageAuth;
  const tokenUsed = identity?.token;

  const fullPath = query ? `${path}?${query}` : path;
  stats.httpRequests++;
  if (mustReject) stats.httpMustReject++;
  const res = await httpRequest(base, agent, method, fullPath, headers, payload);
  inc(stats.httpStatus, res.status);
  const describeReq = () =>
    `${method} ${fullPath.slice(0, 200)} ${JSON.stringify(headers).slice(0, 200)} ` +
    `body ${payload?.toString('utf8').slice(0, 300)} -> ${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
  if (res.status >= 500) throw new Error(`server error: ${describeReq()}`);
  if (res.status >= 300 && res.status < 400) throw new Error(`unexpected redirect: ${describeReq()}`);
  if (mustReject && res.status < 400) throw new Error(`accepted (${why.join(', ')}): ${describeReq()}`);
  let json: { error?: { code?: unknown; message?: unknown; retryable?: unknown }; report?: { id?: unknown } } = {};
  if (res.body.length) {
    try {
      json = JSON.parse(res.body.toString('utf8')) as typeof json;
    } catch {
      throw new Error(`response is not JSON: ${describeReq()}`);
    }
  }
  if (res.status >= 400 && method !== 'HEAD') {
    const code = String(json.error?.code);
    inc(stats.httpErrors, code);
    if (!(code in ERRORS)) throw new Error(`error code not in ERRORS: ${describeReq()}`);
    if (ERRORS[code as ErrorCode].status !== res.status)
      throw new Error(`status does not match code: ${describeReq()}`);
    if (typeof json.error?.message !== 'string' || typeof json.error.retryable !== 'boolean') {
      throw new Error(`malformed error body: ${describeReq()}`);
    }
    if (code === 'unauthorized' && identity && tokenUsed) await identity.refresh(tokenUsed);
  }
  if (typeof json.report?.id === 'string' && live.reportIds.length < 50) live.reportIds.push(json.report.id);
}

// ---------------------------------------------------------------------------------------------------------------
// Raw TCP: bytes that are not HTTP, and bytes that are not WebSocket frames after a real handshake.

function rawExchange(port: number, chunks: Buffer[], waitMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server kept a garbage connection open for ${ANSWER_MS} ms`));
    }, ANSWER_MS);
    socket.on('data', (d) => got.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
    socket.on('connect', async () => {
      for (const c of chunks) {
        socket.write(c);
        await sleep(waitMs);
      }
      socket.end();
    });
  });
}

const tcpInput = fc.oneof(
  fc.record({ kind: fc.constant('http' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 2048 }) }),
  fc.record({
    kind: fc.constant('http-line' as const),
    line: fc.tuple(
      fc.constantFrom('GET', 'POST', 'BREW', 'get', ''),
      fc.constantFrom('/api/v1', '/healthz', '*', '/ws', 'http://x/', '/%zz', ''),
      fc.constantFrom('HTTP/1.1', 'HTTP/9.9', 'HTTP/1.1\r\nHost:', 'ICY', ''),
      fc.string({ maxLength: 200 }),
    ),
  }),
  fc.record({ kind: fc.constant('ws' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 1024 }) }),
);

async function runTcp(input: TcpInput, port: number): Promise<void> {
  stats.tcp++;
  if (input.kind === 'ws') {
    const handshake = Buffer.from(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const reply = await rawExchange(port, [handshake, Buffer.from(input.bytes)], 20);
    if (!reply.toString('latin1').startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${reply}`);
    return;
  }
  const bytes =
    input.kind === 'http' ? Buffer.from(input.bytes) : Buffer.from(`${input.line.join(' ')}\r\n\r\n`, 'utf8');
  const reply = (await rawExchange(port, [bytes], 0)).toString('latin1');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(reply);
  if (reply.length && !status) throw new Error(`not an HTTP answer: ${JSON.stringify(reply.slice(0, 100))}`);
  if (status && Number(status[1]) >= 500) throw new Error(`server error on garbage: ${reply.slice(0, 300)}`);
}
type TcpInput = typeof tcpInput extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------------------------
// After the run: nothing malformed in the store.

const EVENT_TYPES: RoomEventType[] = [
  'message',
  'message.deleted',
  'room.created',
  'room.updated',
  'member.joined',
  'member.left',
  'member.invited',
  'member.role',
  'member.muted',
  'member.unmuted',
];
const TEXT_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

function auditStore(srv: TestServer): { rows: number; problems: string[] } {
  const db = new Database(join(srv.dataDir, 'chat.db'), { readonly: true, fileMustExist: true });
  const problems: string[] = [];
  let rows = 0;
  const check = (what: string, value: unknown, ok: boolean) => {
    if (!ok) problems.push(`${what}: ${JSON.stringify(value)?.slice(0, 120)}`);
  };
  const exact = (schema: { safeParse(v: unknown): { success: boolean; data?: unknown } }, v: unknown) => {
    const r = schema.safeParse(v);
    return r.success && r.data === v;
  };
  const tables = new Set(
    (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name),
  );
  try {
    for (const u of db.prepare('SELECT * FROM users').all() as Record<string, unknown>[]) {
      rows++;
      check('user id', u.id, exact(Id, u.id));
      check('username', u.username, exact(Username, u.username));
      check('display name', u.display_name, exact(DisplayName, u.display_name));
      check('status text', u.status_text, exact(StatusText, u.status_text));
      check('server role', u.role, u.role === 'admin' || u.role === 'user');
    }
    for (const s of db.prepare('SELECT label FROM sessions').all() as { label: unknown }[]) {
      rows++;
      check('session label', s.label, typeof s.label === 'string' && s.label.length <= 64);
    }
    for (const r of db.prepare('SELECT * FROM rooms').all() as Record<string, unknown>[]) {
      rows++;
      check('room id', r.id, exact(Id, r.id));
      check('room kind', r.kind, ['public', 'private', 'dm'].includes(String(r.kind)));
      if (r.kind !== 'dm') check('room name', r.name, exact(RoomName, r.name));
      check('room topic', r.topic, exact(Topic, r.topic));
      if ('slow_mode_s' in r) {
        check('slow mode', r.slow_mode_s, Number.isSafeInteger(r.slow_mode_s) && Number(r.slow_mode_s) >= 0);
        check('read only', r.read_only, r.read_only === 0 || r.read_only === 1);
        check('join approval', r.join_approval, r.join_approval === 0 || r.join_approval === 1);
      }
    }
    for (const m of db.prepare('SELECT role FROM members').all() as { role: unknown }[]) {
      rows++;
      check('member role', m.role, ['owner', 'admin', 'moderator', 'member'].includes(String(m.role)));
    }
    for (const e of db.prepare('SELECT * FROM events').all() as Record<string, unknown>[]) {
      rows++;
      check('event type', e.type, EVENT_TYPES.includes(e.type as RoomEventType));
      let data: unknown = null;
      try {
        data = e.data == null ? null : JSON.parse(String(e.data));
      } catch {
        check('event data', e.data, false);
      }
      if (e.type === 'message') {
        const deleted = (data as { deleted?: boolean } | null)?.deleted === true;
        if (!deleted) check('message body', e.body, exact(Body, e.body));
        check('clientMsgId', e.client_msg_id, exact(ClientMsgId, e.client_msg_id));
      }
      if (e.type === 'room.updated' && data && typeof data === 'object') {
        const d = data as { name?: unknown; topic?: unknown };
        if (d.name !== undefined) check('renamed to', d.name, exact(RoomName, d.name));
        if (d.topic !== undefined) check('topic set to', d.topic, exact(Topic, d.topic));
      }
    }
    // Moderation free text: its limits are the moderation schemas', but control characters never get in.
    for (const table of ['room_bans', 'reports'].filter((t) => tables.has(t))) {
      for (const r of db.prepare(`SELECT reason FROM ${table}`).all() as { reason: unknown }[]) {
        rows++;
        check(`${table} reason`, r.reason, typeof r.reason === 'string' && !TEXT_CONTROLS.test(r.reason));
      }
    }
  } finally {
    db.close();
  }
  return { rows, problems };
}

// ---------------------------------------------------------------------------------------------------------------

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Set when any fuzzing property fails: the others then stop sending, so the failure is reported promptly. */
let failed = false;
/** Waits for every run; throws the first failure. */
async function firstFailure(runs: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(
    runs.map((r) => r.catch((err: unknown) => ((failed = true), Promise.reject(err)))),
  );
  const rejected = results.find((r) => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

const params = (seed: number, numRuns: number) => ({ seed, numRuns, endOnFailure: !SHRINK, verbose: 1 as const });

const REPRODUCE = `FUZZ_SEED=${SEED}${SCALE !== 1 ? ` FUZZ_SCALE=${SCALE}` : ''} npx vitest run test/e2e/fuzz.test.ts`;

describe('fuzzing a live server', () => {
  it('answers every malformed frame and request, stores nothing malformed, and bystanders are unaffected', async () => {
    console.log(`fuzz seed=${SEED} scale=${SCALE} (reproduce: ${REPRODUCE})`);
    // Also when the test times out, where no error passes through here.
    onTestFailed(() => console.error(`fuzz failed with seed ${SEED}; reproduce: ${REPRODUCE}`));
    try {
      await fuzzLiveServer();
    } catch (err) {
      if (err instanceof Error) err.message = `[fuzz seed ${SEED}: ${REPRODUCE}] ${err.message}`;
      throw err;
    }
  }, 180_000);
});

async function fuzzLiveServer(): Promise<void> {
  const started = Date.now();
  const srv = await startServer();
  origin = srv.url;
  policyAllowance = srv.config.frameErrorsPerMinute;
  const base = new URL(srv.url);
  const port = Number(base.port);
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();

  // Accounts. The first one registered is the server admin.
  const admin = await registerUser(srv.url, 'fuzzadmin');
  const member = await registerUser(srv.url, 'fuzzmember');
  const victims = [await registerUser(srv.url, 'victim1'), await registerUser(srv.url, 'victim2')];
  const alice = await registerUser(srv.url, 'alice');
  const bob = await registerUser(srv.url, 'bob');
  const wsUsers = await Promise.all(Array.from({ length: WS_WORKERS }, (_, i) => registerUser(srv.url, `wsfuzz${i}`)));
  const lobby = (await member.api.myRooms())[0]!.id;
  const room = await member.api.createRoom('fuzz room');
  const privRoom = await member.api.createRoom('fuzz private', 'private');
  for (const u of [...victims, ...wsUsers]) await u.api.join(room.id);
  for (const v of victims) {
    await member.api.invite(privRoom.id, v.username);
    await v.api.acceptInvite(privRoom.id);
  }
  await victims[0]!.api.sendMessage(room.id, 'a message to report', 'seed-msg-1');

  // The bystanders chat in their own private room for the whole run.
  const quiet = await alice.api.createRoom('bystanders', 'private');
  await alice.api.invite(quiet.id, bob.username);
  await bob.api.acceptInvite(quiet.id);
  const opts = { WebSocket: OriginWebSocket as unknown as ChatClientOptions['WebSocket'] };
  const a = await connect(srv.url, alice.token, opts);
  const b = await connect(srv.url, bob.token, opts);
  const seenByA = recordEvents(a);
  const seenByB = recordEvents(b);
  const sent: string[] = [];
  const latencies: number[] = [];
  let chatting = true;
  let chatError: unknown;
  const chat = (async () => {
    for (let i = 0; chatting; i++) {
      const from: ChatClient = i % 2 ? b : a;
      const body = `bystander message ${i}`;
      const t0 = performance.now();
      await hangGuard(from.send(quiet.id, body), `bystander send ${i}`);
      latencies.push(performance.now() - t0);
      sent.push(body);
      await sleep(5);
    }
  })().catch((err: unknown) => void (chatError = err));

  const heapBefore = heapUsed();

  // WebSocket fuzzing: one worker per user, each with a pre-hello and an authenticated socket.
  const wsLive = (i: number): WsLive => ({
    token: wsUsers[i]!.token,
    rooms: [lobby, room.id, privRoom.id, 'no-such-room'],
    memberRooms: new Set([lobby, room.id]),
    maxFrameBytes: srv.config.maxFrameBytes,
  });
  const workers = wsUsers.map((_, i) => new WsWorker(srv.url, `ws${i}`, wsLive(i)));
  const wsRuns = workers.map((w, i) =>
    fc.assert(
      fc.asyncProperty(wsInput, fc.boolean(), (input, authed) => (failed ? Promise.resolve() : w.run(input, authed))),
      params(SEED + i, WS_RUNS),
    ),
  );

  // HTTP fuzzing: every declared route, as the admin, a member, anonymous, or with a garbage token.
  const routes = discoverRoutes();
  for (const r of routes) expect(srv.server.app.hasRoute({ method: r.method, url: r.path }), r.path).toBe(true);
  const ids = {
    admin: new Identity(srv.url, admin.username, admin.password, admin.token),
    member: new Identity(srv.url, member.username, member.password, member.token),
  };
  let fresh = 0;
  const httpLive: HttpLive = {
    rooms: [lobby, room.id, room.id, privRoom.id, 'no-such-room', '__proto__', 'constructor'],
    victims: victims.map((v) => ({ id: v.user.id, username: v.username })),
    reportIds: [],
    fresh: () => `fz${SEED.toString(36)}x${++fresh}`,
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_WORKERS });
  const httpRuns = Array.from({ length: HTTP_WORKERS }, (_, i) =>
    fc.assert(
      fc.asyncProperty(httpInput(routes), (input) =>
        failed ? Promise.resolve() : runHttp(input, routes, httpLive, ids, base, agent),
      ),
      params(SEED + 100 + i, HTTP_RUNS),
    ),
  );
  try {
    await firstFailure([...wsRuns, ...httpRuns]);
    // Raw TCP garbage, a few connections at a time.
    await firstFailure(
      Array.from({ length: 4 }, (_, i) =>
        fc.assert(
          fc.asyncProperty(tcpInput, (input) => (failed ? Promise.resolve() : runTcp(input, port))),
          params(SEED + 200 + i, Math.ceil(TCP_RUNS / 4)),
        ),
      ),
    );
  } finally {
    chatting = false;
    agent.destroy();
    for (const w of workers) w.close();
    await chat;
  }

  // The bystanders: every message delivered to both, exactly once, in order, with no reconnect.
  expect(chatError).toBeUndefined();
  const inQuiet = (seen: ReturnType<typeof recordEvents>) => seen.messages(quiet.id);
  await waitFor(
    () => inQuiet(seenByA).length >= sent.length && inQuiet(seenByB).length >= sent.length,
    10_000,
    'bystander deliveries',
  );
  for (const seen of [seenByA, seenByB]) {
    const msgs = inQuiet(seen);
    expect(msgs.map((m) => m.body)).toEqual(sent);
    for (let i = 1; i < msgs.length; i++) expect(msgs[i]!.seq).toBe(msgs[i - 1]!.seq + 1);
  }
  for (const c of [a, b]) expect(c.stats).toEqual({ duplicatesDropped: 0, gaps: 0, reconnects: 0 });
  latencies.sort((x, y) => x - y);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  const maxLatency = latencies.at(-1) ?? 0;
  // The bystanders chatted through the run: far fewer than any machine manages, only so the checks above
  // cannot pass empty.
  expect(sent.length).toBeGreaterThanOrEqual(10);

  // The server is up, no fuzzed socket lingers, memory came back, nothing got polluted or stored malformed.
  const health = await fetch(`${srv.url}/healthz`);
  expect(health.status).toBe(200);
  await waitFor(() => srv.server.gateway.size === 2, 5000, 'fuzzed sockets to close');
  expect(srv.server.hub.connectionCount).toBe(2);
  const heapAfter = heapUsed();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  const audit = auditStore(srv);
  expect(audit.problems).toEqual([]);
  expect(violations).toEqual([]);

  const growth = heapAfter - heapBefore;
  const top = (m: Map<string | number, number>) =>
    [...m]
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k}:${v}`)
      .join(' ');
  console.log(
    `fuzz seed=${SEED}: ${stats.wsFrames} ws frames (${stats.wsBad} malformed, ${stats.wsSockets} sockets), ` +
      `${stats.httpRequests} http requests (${stats.httpMustReject} malformed), ${stats.tcp} raw tcp, ` +
      `${sent.length} bystander messages (p99 ${p99.toFixed(0)} ms, max ${maxLatency.toFixed(0)} ms), ` +
      `${audit.rows} rows audited, heap ${(growth / 2 ** 20).toFixed(1)} MiB, ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s | ws errors ${top(stats.wsErrors)} | ws closes ` +
      `${top(stats.wsCloses)} | http ${top(stats.httpStatus)} | http errors ${top(stats.httpErrors)}`,
  );
  expect(stats.wsFrames).toBeGreaterThanOrEqual(WS_WORKERS * WS_RUNS);
  expect(stats.httpRequests).toBeGreaterThanOrEqual(HTTP_WORKERS * HTTP_RUNS);
  expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT);
}

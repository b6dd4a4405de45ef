import { expect } from 'vitest';
import type { RoomEvent } from '../../src/protocol/model.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { rawSocket, registerUser, waitFor, type TestUser } from './harness.js';

/**
 * Helpers for the moderation and session-end suites: raw HTTP calls that keep the status, and raw sockets that
 * record every frame in order, so a test can say exactly what a user's socket did and did not get.
 */

export type Frame = Record<string, unknown> & { type: string };

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  body: T & { error?: { code: string; message: string; retryAfterMs?: number } };
  /** When the response arrived (Date.now()). */
  at: number;
}

/** One HTTP call with the user's token (or none); never throws on an error status. */
export async function call<T = Record<string, unknown>>(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as HttpResult<T>['body'], at: Date.now() };
}

/** `call`, then asserts the status (and error code, if given); returns the body. */
export async function expectStatus<T = Record<string, unknown>>(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body: unknown,
  status: number,
  code?: string,
): Promise<HttpResult<T>['body']> {
  const r = await call<T>(url, token, method, path, body);
  expect({ [`${method} ${path}`]: [r.status, r.body.error?.code] }).toEqual({
    [`${method} ${path}`]: [status, code],
  });
  return r.body;
}

export interface Live {
  /** Every frame received, in order (array frames flattened). */
  frames: Frame[];
  welcome: Frame;
  /** Resolves with the close code and when it arrived. */
  closed: Promise<{ code: number; reason: string; at: number }>;
  /** Set once the socket closed. */
  closeInfo: { code: number; reason: string; at: number } | undefined;
  send(frame: unknown): void;
  /** The first frame at index >= `from` matching `pred`, waiting up to `timeoutMs`. */
  next(pred: (f: Frame) => boolean, what: string, from?: number, timeoutMs?: number): Promise<Frame>;
  /** Every room event delivered for `roomId` (from event frames). */
  events(roomId: string): RoomEvent[];
  /** Frames from index `from` on that concern `roomId` (events, typing, room.removed, errors, ...). */
  aboutRoom(roomId: string, from: number): Frame[];
  close(): void;
}

/** Opens a raw socket, says hello (with `resume`, if given), waits for `welcome` and every room's `synced`. */
export async function live(url: string, token: string, resume?: Record<string, number>): Promise<Live> {
  const sock = await rawSocket(url);
  const frames = sock.frames as Frame[];
  let closeInfo: Live['closeInfo'];
  const closed = sock.closed.then((c) => (closeInfo = { ...c, at: Date.now() }));
  sock.send({ type: 'hello', v: PROTOCOL_VERSION, token, ...(resume ? { resume } : {}) });
  const welcome = (await waitFor(() => frames.find((f) => f.type === 'welcome'), 5000, 'welcome'))!;
  const rooms = (welcome.rooms as { id: string }[]).map((r) => r.id);
  await waitFor(
    () => rooms.every((id) => frames.some((f) => f.type === 'synced' && f.roomId === id)),
    5000,
    'synced for every room',
  );
  const l: Live = {
    frames,
    welcome,
    closed,
    get closeInfo() {
      return closeInfo;
    },
    send: sock.send,
    next: async (pred, what, from = 0, timeoutMs = 5000) =>
      (await waitFor(() => frames.slice(from).find(pred), timeoutMs, what))!,
    events: (roomId) =>
      frames
        .filter((f) => f.type === 'event')
        .map((f) => f.event as RoomEvent)
        .filter((e) => e.roomId === roomId),
    aboutRoom: (roomId, from) =>
      frames
        .slice(from)
        .filter((f) => f.roomId === roomId || (f.type === 'event' && (f.event as RoomEvent).roomId === roomId)),
    close: () => sock.ws.close(1000),
  };
  return l;
}

let msgCounter = 0;

/** Sends a message over the socket and waits for its ack or error frame. */
export async function wsSend(
  l: Live,
  roomId: string,
  body: string,
  clientMsgId = `m${process.pid}-${++msgCounter}`,
): Promise<Frame> {
  const from = l.frames.length;
  l.send({ type: 'send', roomId, clientMsgId, body });
  return l.next(
    (f) => (f.type === 'ack' || f.type === 'error') && f.clientMsgId === clientMsgId,
    `ack or error for ${clientMsgId}`,
    from,
  );
}

/** Sends a message over HTTP; returns status and body. */
export function httpSend(url: string, token: string, roomId: string, body: string) {
  return call<{ message: RoomEvent }>(url, token, 'POST', `/api/v1/rooms/${roomId}/messages`, {
    body,
    clientMsgId: `h${process.pid}-${++msgCounter}`,
  });
}

/**
 * Sends a typing frame; returns its `ref`. Typing that passes is never answered: it shows on the other members'
 * sockets, so a test waits for it there (the server publishes a typing frame or answers an error, never both).
 */
export function wsTyping(l: Live, roomId: string): string {
  const ref = `t${++msgCounter}`;
  l.send({ type: 'typing', roomId, ref });
  return ref;
}

/** Sends a typing frame the server must refuse; resolves with the error frame. */
export async function wsTypingRefused(l: Live, roomId: string): Promise<Frame> {
  const from = l.frames.length;
  const ref = wsTyping(l, roomId);
  return l.next((f) => f.type === 'error' && f.ref === ref, `typing refused (${ref})`, from);
}

/** Says hello with a token that must no longer work: expects an `unauthorized` error frame and close 4001. */
export async function expectHelloRefused(url: string, token: string): Promise<void> {
  const sock = await rawSocket(url);
  sock.send({ type: 'hello', v: PROTOCOL_VERSION, token });
  const { code } = await Promise.race([
    sock.closed,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hello not refused within 5 s')), 5000)),
  ]);
  expect(code).toBe(4001);
  expect(sock.frames.some((f) => f.type === 'error' && f.code === 'unauthorized')).toBe(true);
}

/** Waits for the socket to close, at most `timeoutMs`; returns its close code and time. */
export function closedWithin(l: Live, timeoutMs: number): Promise<{ code: number; at: number }> {
  return Promise.race([
    l.closed,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs),
    ),
  ]);
}

export interface Cast {
  admin: TestUser;
  owner: TestUser;
  mod: TestUser;
  alice: TestUser;
  bob: TestUser;
  roomId: string;
}

/**
 * The usual cast: a server admin (registered first), a room owner, a moderator, two members, in one public room.
 * Usernames are unique per server, not per process, so each test gets the same names on its own server.
 */
export async function cast(url: string, roomName = 'general'): Promise<Cast> {
  const admin = await registerUser(url, 'admin');
  const owner = await registerUser(url, 'owner');
  const mod = await registerUser(url, 'mod');
  const alice = await registerUser(url, 'alice');
  const bob = await registerUser(url, 'bob');
  expect(admin.user.role).toBe('admin');
  const room = await owner.api.createRoom(roomName);
  for (const u of [mod, alice, bob]) await u.api.join(room.id);
  await expectStatus(
    url,
    owner.token,
    'PUT',
    `/api/v1/rooms/${room.id}/members/${mod.user.id}/role`,
    {
      role: 'moderator',
    },
    204,
  );
  return { admin, owner, mod, alice, bob, roomId: room.id };
}

/** The room's message events (over HTTP), oldest first. */
export async function history(url: string, token: string, roomId: string): Promise<RoomEvent[]> {
  const r = await call<{ messages: RoomEvent[] }>(url, token, 'GET', `/api/v1/rooms/${roomId}/messages?limit=200`);
  expect(r.status).toBe(200);
  return r.body.messages;
}

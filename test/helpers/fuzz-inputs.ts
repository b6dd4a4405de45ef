import fc from 'fast-check';
import { MAX_VIEW_ROOM_IDS } from '../../src/protocol/frames.js';
import { PROTOCOL_LIMITS } from '../../src/protocol/model.js';

/**
 * Input generators for test/e2e/fuzz.test.ts. A generated input is data only; ids, tokens and other live values are
 * named by placeholders and filled in when the input is sent, so the same seed replays the same inputs.
 *
 * Each field of a known request has a kind. A kind yields `ok` values (any value the schema may or may not take:
 * the server may accept them) and `bad` values (values the schema must refuse: wrong types, numbers as strings,
 * over-long strings, control characters in names, ...). An input built with any `bad` edit must be refused.
 */

export type Kind =
  | 'id'
  | 'clientMsgId'
  | 'body'
  | 'username'
  | 'loginName'
  | 'password'
  | 'label'
  | 'displayName'
  | 'statusText'
  | 'roomName'
  | 'topic'
  | 'reason'
  | 'token'
  | 'ref'
  | 'version'
  | 'int'
  | 'seq'
  | 'bool'
  | 'presenceStatus'
  | 'visibility'
  | 'roomRole'
  | 'serverRole'
  | 'reportAction'
  | 'usernames'
  | 'resume'
  | 'roomIds'
  | 'settings'
  | 'frameType';

/** One change to a template object. `bad`: the change alone makes the input invalid. */
export type Edit =
  | { op: 'set'; key: string; value: unknown; bad: boolean }
  | { op: 'drop'; key: string; bad: boolean }
  | { op: 'extra'; key: string; value: unknown; bad: boolean };

// C0, DEL, C1 controls and bidi overrides: never allowed in names. Newline/tab/CR are refused in names too.
const CONTROLS = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000b', '\u000c', '\u000e', '\u001b', '\u001f', '\u007f'];
const C1 = ['\u0080', '\u0085', '\u009f'];
const BIDI = ['\u202a', '\u202e', '\u2066', '\u2069'];
const NAME_BAD_CHARS = [...CONTROLS, ...C1, ...BIDI, '\n', '\r', '\t'];
const BODY_BAD_CHARS = [...CONTROLS, ...C1];

/** Keys that break naive object handling: prototype pollution and inherited-method lookups. */
export const POISON_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** A JSON object with an own `__proto__` key, as `JSON.parse` makes it (assigning would set the prototype). */
export function poisoned(inner: unknown = { polluted: true }): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  Object.defineProperty(o, '__proto__', { value: inner, enumerable: true, writable: true, configurable: true });
  return o;
}

/** Sets an own enumerable property, also for `__proto__`. */
export function setKey(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

const printable = (maxLength = 12) => fc.string({ maxLength });
/** A string with one of `chars` inside, never at the ends, so trimming cannot remove it. */
const withChar = (chars: string[]) =>
  fc.tuple(printable(8), fc.constantFrom(...chars), printable(8)).map(([a, c, b]) => `x${a.trim()}${c}${b.trim()}y`);
const ofLength = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.constantFrom('x', 'é', '字', 'ab')).map(([n, c]) => c.repeat(n).slice(0, n));
const blank = fc.constantFrom(' ', '   ', '\u3000', ' \u00a0 ');
const hugeNumbers = fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 1e21, 0.1 + 0.2);

/** JSON values that are not strings. */
const notString = fc.oneof(
  fc.integer(),
  hugeNumbers,
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(printable(6), { minLength: 1, maxLength: 3 }),
  fc.dictionary(printable(6), printable(6), { minKeys: 1, maxKeys: 3 }),
  fc.constant(poisoned()),
);
/** JSON values that are not numbers, including numbers written as strings. */
const notNumber = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }).map(String),
  fc.constantFrom('1e3', '0x10', 'NaN', 'Infinity', ''),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer(), { minLength: 1, maxLength: 2 }),
  fc.constant(poisoned(1)),
);
const notBool = fc.oneof(fc.constantFrom('true', 'false', 1, 0, '', 'yes'), fc.constant([]), fc.constant({}));
const badEnum = (valid: string[]) =>
  fc.oneof(
    fc.constantFrom(...valid.flatMap((v) => [v.toUpperCase(), ` ${v}`, `${v} `, `${v}\u0000`, `${v}s`])),
    fc.constantFrom('', 'superuser', 'root', ...POISON_KEYS),
    notString,
  );

const idChars = /^[A-Za-z0-9_-]{1,64}$/;

export const KINDS: Record<Kind, { ok: fc.Arbitrary<unknown>; bad: fc.Arbitrary<unknown> }> = {
  id: {
    ok: fc.oneof(fc.stringMatching(idChars), fc.constantFrom(...POISON_KEYS)),
    bad: fc.oneof(
      fc.constant(''),
      ofLength(65, 400),
      withChar([' ', '/', '.', '%', '\u0000', 'é', '\n', '😀']),
      notString,
    ),
  },
  clientMsgId: {
    ok: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/),
    bad: fc.oneof(fc.constant(''), ofLength(65, 300), withChar([' ', '/', 'é', '\u0000', '"', '\n']), notString),
  },
  body: {
    ok: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), fc.string({ unit: 'binary' })),
    bad: fc.oneof(
      withChar(BODY_BAD_CHARS),
      blank,
      fc.constant(''),
      ofLength(PROTOCOL_LIMITS.bodyMaxHard + 1, PROTOCOL_LIMITS.bodyMaxHard + 500),
      notString,
    ),
  },
  username: {
    ok: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/),
    bad: fc.oneof(
      fc.constantFrom('', 'a', 'ab', '.abc', '-abc', '_abc', 'ab cd', 'äbc', 'abc/def'),
      ofLength(PROTOCOL_LIMITS.usernameMax + 1, 200),
      withChar(NAME_BAD_CHARS),
      notString,
    ),
  },
  loginName: {
    ok: fc.string({ minLength: 1, maxLength: 32 }),
    bad: fc.oneof(fc.constant(''), ofLength(PROTOCOL_LIMITS.usernameMax + 1, 300), notString),
  },
  password: {
    ok: fc.string({ unit: 'grapheme', minLength: 8, maxLength: 40 }),
    bad: fc.oneof(fc.constant(''), ofLength(PROTOCOL_LIMITS.passwordMax + 1, 1000), notString),
  },
  label: { ok: fc.string({ maxLength: 64 }), bad: fc.oneof(ofLength(65, 500), notString) },
  displayName: {
    ok: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    bad: fc.oneof(withChar(NAME_BAD_CHARS), blank, ofLength(PROTOCOL_LIMITS.displayNameMax + 1, 500), notString),
  },
  statusText: {
    ok: fc.string({ unit: 'grapheme', maxLength: 100 }),
    bad: fc.oneof(withChar(NAME_BAD_CHARS), ofLength(PROTOCOL_LIMITS.statusTextMax + 1, 600), notString),
  },
  roomName: {
    ok: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
    bad: fc.oneof(withChar(NAME_BAD_CHARS), blank, ofLength(PROTOCOL_LIMITS.roomNameMax + 1, 500), notString),
  },
  topic: {
    ok: fc.string({ unit: 'grapheme', maxLength: 200 }),
    bad: fc.oneof(withChar(NAME_BAD_CHARS), ofLength(PROTOCOL_LIMITS.topicMax + 1, 2000), notString),
  },
  // Free text whose limits the moderation schemas set; only its type is certain.
  reason: { ok: fc.string({ unit: 'grapheme', maxLength: 300 }), bad: notString },
  token: {
    ok: fc.string({ minLength: 1, maxLength: 200 }),
    bad: fc.oneof(fc.constant(''), ofLength(201, 2000), notString),
  },
  ref: { ok: fc.string({ maxLength: 64 }), bad: fc.oneof(ofLength(65, 300), notString) },
  version: {
    ok: fc.oneof(fc.integer({ min: -3, max: 5 }), fc.constant(2 ** 31)),
    bad: fc.oneof(fc.constantFrom(1.5, -0.5, 1e308), notNumber, fc.constant(null)),
  },
  int: { ok: fc.integer({ min: 0, max: 100_000 }), bad: notNumber },
  seq: {
    ok: fc.integer({ min: 0, max: 1000 }),
    bad: fc.oneof(fc.constantFrom(-1, 1.5, 2 ** 53 + 2, 1e308), notNumber, fc.constant(null)),
  },
  bool: { ok: fc.boolean(), bad: notBool },
  presenceStatus: { ok: fc.constantFrom('online', 'away'), bad: badEnum(['online', 'away', 'offline']) },
  visibility: { ok: fc.constantFrom('public', 'private'), bad: badEnum(['public', 'private', 'dm']) },
  roomRole: { ok: fc.constantFrom('owner', 'admin', 'moderator', 'member'), bad: badEnum(['owner', 'member']) },
  serverRole: { ok: fc.constantFrom('admin', 'user'), bad: badEnum(['admin', 'user']) },
  reportAction: {
    ok: fc.constantFrom('dismiss', 'delete', 'mute', 'ban'),
    bad: badEnum(['dismiss', 'delete', 'mute', 'ban']),
  },
  usernames: {
    ok: fc.array(fc.stringMatching(/^[a-z][a-z0-9]{2,12}$/), { minLength: 1, maxLength: 3 }),
    bad: fc.oneof(
      fc.constant([]),
      fc.constant(Array.from({ length: 17 }, (_, i) => `user${i}x`)),
      fc.array(fc.constantFrom('ab cd', '', 'x\u0000y', 'ab'), { minLength: 1, maxLength: 2 }),
      fc.array(notString, { minLength: 1, maxLength: 2 }),
      fc.constantFrom('alice', 42, null, {}),
    ),
  },
  resume: {
    // zod drops a record's own `__proto__` key unvalidated (no pollution, nothing reaches the server): accepted.
    ok: fc.oneof(
      fc.dictionary(fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.integer({ min: 0, max: 10 }), { maxKeys: 3 }),
      fc.constant(poisoned({ r1: 'not a seq' })),
    ),
    bad: fc.oneof(
      fc.constantFrom([], 'x', 5, null),
      fc.constant({ 'not an id!': 1 }),
      fc.constant({ r1: '1' }),
      fc.constant({ r1: -1 }),
      fc.constant({ r1: 1.5 }),
      fc.constant({ r1: 2 ** 53 + 2 }),
    ),
  },
  roomIds: {
    // Three ids at most: within the fuzz server's MAX_VIEWED_ROOMS (the default, 20).
    ok: fc.array(fc.stringMatching(idChars), { maxLength: 3 }),
    bad: fc.oneof(
      fc.constantFrom('r1', 5, null, {}),
      fc.array(fc.constantFrom('', 'a b', 'x/y'), { minLength: 1, maxLength: 2 }),
      fc.array(notString, { minLength: 1, maxLength: 2 }),
      fc.constant(Array.from({ length: MAX_VIEW_ROOM_IDS + 1 }, (_, i) => `r${i}`)),
    ),
  },
  settings: {
    ok: fc.record(
      { readOnly: fc.boolean(), slowModeSeconds: fc.integer({ min: 0, max: 3600 }), joinApproval: fc.boolean() },
      { requiredKeys: [] },
    ),
    bad: fc.oneof(
      fc.record({ readOnly: notBool }),
      fc.record({ joinApproval: notBool }),
      fc.record({ slowModeSeconds: notNumber }),
      fc.constant({ readOnly: false, extra: 1 }),
      fc.constant(poisoned({ readOnly: true })),
      fc.constantFrom([], 'on', 1, true),
    ),
  },
  frameType: {
    ok: fc.constantFrom('hello', 'send', 'typing', 'presence', 'ping', 'view'),
    bad: fc.oneof(
      fc.constantFrom('PING', 'Send', 'ping ', 'pong', 'ack', 'welcome', 'error', 'event', ''),
      fc.constantFrom(...POISON_KEYS),
      notString,
    ),
  },
};

/** A template: the fields of a valid request (values filled in later), which are required, and their kinds. */
export interface Shape {
  fields: Record<string, Kind>;
  required: string[];
  /** Unknown fields and wrong types must be refused (every schema of the protocol is strict). */
  strict: boolean;
}

/** Up to three edits of a template: fields set to ok or bad values, dropped, or extra fields added. */
export function editsFor(shape: Shape): fc.Arbitrary<Edit[]> {
  const keys = Object.keys(shape.fields);
  const edit: fc.Arbitrary<Edit> = fc.oneof(
    { weight: 4, arbitrary: fc.constant(null).map(() => ({ op: 'drop' as const, key: '', bad: false })) },
    ...keys.flatMap((key) => {
      const kind = KINDS[shape.fields[key]!];
      const required = shape.required.includes(key);
      return [
        { weight: 3, arbitrary: kind.ok.map((value): Edit => ({ op: 'set', key, value, bad: false })) },
        { weight: 4, arbitrary: kind.bad.map((value): Edit => ({ op: 'set', key, value, bad: shape.strict })) },
        { weight: 1, arbitrary: fc.constant<Edit>({ op: 'drop', key, bad: required }) },
      ];
    }),
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.oneof(fc.constantFrom(...POISON_KEYS, 'extra', 'Type', 'id', 'admin'), printable(10)), fc.jsonValue())
        .filter(([key]) => !keys.includes(key))
        .map(([key, value]): Edit => ({ op: 'extra', key, value, bad: shape.strict })),
    },
  );
  // A drop with an empty key is a no-op, so an input can also be the valid template itself.
  return fc.array(edit, { minLength: 0, maxLength: 3 }).map((edits) => edits.filter((e) => e.key !== ''));
}

/**
 * Applies edits to a fresh template object; `mustReject` says whether any edit alone makes it invalid. With a
 * `discriminator` (a frame's `type`), an ok edit that swaps in another valid type leaves the other edits' verdicts
 * uncertain: they were judged against the template's shape, and the new type requires and allows other keys (a
 * presence frame without its status is bad; retyped as a ping it is a valid ping). Then nothing is certain, and
 * the caller's oracle (the protocol's own schema) judges.
 */
export function applyEdits(
  base: Record<string, unknown>,
  edits: Edit[],
  discriminator?: string,
): { value: Record<string, unknown>; mustReject: boolean } {
  const value: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) setKey(value, k, v);
  // A later edit of the same key replaces an earlier one, and so does its verdict.
  const verdict = new Map<string, boolean>();
  for (const e of edits) {
    if (e.op === 'drop') delete value[e.key];
    else setKey(value, e.key, e.value);
    verdict.set(e.key, e.bad);
  }
  if (
    discriminator !== undefined &&
    verdict.get(discriminator) === false &&
    value[discriminator] !== base[discriminator]
  ) {
    return { value, mustReject: false };
  }
  return { value, mustReject: [...verdict.values()].some(Boolean) };
}

/** JSON text the server cannot parse, or can parse into nothing useful. */
export const invalidJsonText = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
  fc.constantFrom(
    '{',
    '{"type":',
    '{"type":"ping"',
    "{'type':'ping'}",
    '{type:"ping"}',
    '{"type":"ping",}',
    '\ufeff{"type":"ping"}',
    'NaN',
    'undefined',
    '[1,2',
    '"unterminated',
    '{"a":1}{"b":2}',
    '{"type":"ping"}\u0000',
  ),
  fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1) || '{'),
);

/** Deeply nested JSON: parses fine, must still be refused cheaply. */
export const deepJson = fc
  .tuple(fc.integer({ min: 100, max: 5000 }), fc.boolean())
  .map(([depth, objects]) =>
    objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`,
  );

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentHashOf, linkHashOf } from '../../src/core/chain.js';
import { ChainChecker, type ChainBreak } from '../../src/client/chain-check.js';
import { canonicalContent, canonicalJson, canonicalLink, GENESIS_HASH } from '../../src/protocol/chain.js';
import type { RoomEvent } from '../../src/protocol/model.js';

/** The canonical encoding of docs/protocol.md "History integrity", held to literal bytes written out by hand. */

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('canonical encoding', () => {
  it('sorts keys at every depth, drops undefined keys, writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 'x', c: null }, undefined], e: undefined, é: true })).toBe(
      '{"a":[{"c":null,"d":"x"},null],"b":1,"é":true}',
    );
    // Survives a JSON round trip (what the database does to data) unchanged.
    const data = { z: 'π 数据', y: { n: 1.5, m: [3, 2, 1] }, gone: undefined };
    expect(canonicalJson(JSON.parse(JSON.stringify(data)))).toBe(canonicalJson(data));
  });

  it("a message's content leaves out its quote; other events' data is all in", () => {
    const data = { replyTo: 3, threadRoot: 3, threadOnly: false, quote: { senderId: 'u_1', body: 'hi' } };
    expect(canonicalContent('message', 'reply', data)).toBe(
      '{"body":"reply","data":{"replyTo":3,"threadOnly":false,"threadRoot":3}}',
    );
    expect(canonicalContent('room.created', null, { quote: 1 })).toBe('{"body":null,"data":{"quote":1}}');
  });

  it('contentHash and hash are SHA-256 of exactly the documented text', () => {
    const event = {
      roomId: 'r_1',
      seq: 1,
      id: 'e_1',
      type: 'message',
      senderId: 'u_1',
      clientMsgId: 'c1',
      createdAt: '2026-12-08T00:00:00.000Z',
    };
    const contentHash = contentHashOf('message', 'hello', null);
    expect(contentHash).toBe(sha('{"body":"hello","data":null}'));
    const link =
      `${GENESIS_HASH}\n{"clientMsgId":"c1","contentHash":"${contentHash}","createdAt":"2026-12-08T00:00:00.000Z",` +
      `"id":"e_1","roomId":"r_1","senderId":"u_1","seq":1,"targetHash":null,"type":"message","v":1}`;
    expect(canonicalLink(GENESIS_HASH, event, contentHash, null)).toBe(link);
    expect(linkHashOf(GENESIS_HASH, event, contentHash, null)).toBe(sha(link));
  });
});

describe('ChainChecker (the SDK side)', () => {
  const chain = (bodies: string[]): RoomEvent[] => {
    let prev = GENESIS_HASH;
    return bodies.map((body, i) => {
      const e: RoomEvent = {
        id: `e_${i}`,
        roomId: 'r_1',
        seq: i + 1,
        type: 'message',
        senderId: 'u_1',
        body,
        clientMsgId: `c${i}`,
        data: null,
        createdAt: '2026-12-08T00:00:00.000Z',
      };
      e.prevHash = prev;
      e.contentHash = contentHashOf('message', body, null);
      e.hash = prev = linkHashOf(e.prevHash, e, e.contentHash, null);
      return e;
    });
  };
  const run = async (events: RoomEvent[]) => {
    const breaks: ChainBreak[] = [];
    const checker = new ChainChecker(globalThis.crypto.subtle, (b) => breaks.push(b));
    for (const e of events) checker.check(e);
    await checker.idle();
    return breaks.map((b) => [b.seq, b.problem]);
  };

  it('an intact chain: nothing; a changed body, hash or order: named', async () => {
    expect(await run(chain(['a', 'b', 'c']))).toEqual([]);
    const changed = chain(['a', 'b', 'c']);
    changed[1]!.body = 'B';
    expect(await run(changed)).toEqual([[2, 'content']]);
    const rehashed = chain(['a', 'b', 'c']);
    rehashed[1]!.senderId = 'u_2';
    expect(await run(rehashed)).toEqual([[2, 'hash']]);
    const [a, b, c] = chain(['a', 'b', 'c']);
    expect(await run([a!, { ...c!, seq: 2 }])).toEqual([[2, 'hash']]);
    expect(await run([a!, c!])).toEqual([[3, 'link']]);
    const other = chain(['x', 'y']);
    expect(await run([a!, other[1]!])).toEqual([[2, 'link']]);
    expect(b).toBeDefined();
  });
});

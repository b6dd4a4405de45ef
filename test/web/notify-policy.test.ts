import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/protocol/model.js';
import { dndActive, levelAllows, mentionsMe, snippet } from '../../web/src/state/notify-policy.js';

/**
 * The web client's notification policy as pure functions: which messages a level lets through (against the
 * mentions interface `data.mentions` / `data.mentionAll` of message events), do-not-disturb, and the plain-text
 * body of a notification.
 */

const msg = (data: Record<string, unknown> | null): RoomEvent => ({
  id: 'e_1',
  roomId: 'r_1',
  seq: 5,
  type: 'message',
  senderId: 'u_alice',
  body: 'hi',
  clientMsgId: 'c_1',
  data,
  createdAt: '2026-12-07T12:00:00.000Z',
});

describe('notification policy', () => {
  it('a message mentions me by id in data.mentions, or by @room / @here', () => {
    expect(mentionsMe(msg(null), 'u_bob')).toBe(false);
    expect(mentionsMe(msg({ mentions: ['u_carol'] }), 'u_bob')).toBe(false);
    expect(mentionsMe(msg({ mentions: ['u_carol', 'u_bob'] }), 'u_bob')).toBe(true);
    expect(mentionsMe(msg({ mentionAll: 'room' }), 'u_bob')).toBe(true);
    expect(mentionsMe(msg({ mentionAll: 'here' }), 'u_bob')).toBe(true);
    expect(mentionsMe(msg({ mentionAll: 'everyone' }), 'u_bob')).toBe(false);
    expect(mentionsMe(msg({ mentions: 'u_bob' }), 'u_bob')).toBe(false);
  });

  it('levels: all lets everything through, mentions only mentions (every DM message), none nothing', () => {
    const room = { kind: 'public' as const };
    const dm = { kind: 'dm' as const };
    const plain = msg(null);
    const named = msg({ mentions: ['u_bob'] });
    const everyone = msg({ mentionAll: 'here' });
    expect([plain, named, everyone].map((e) => levelAllows('all', room, e, 'u_bob'))).toEqual([true, true, true]);
    expect([plain, named, everyone].map((e) => levelAllows('mentions', room, e, 'u_bob'))).toEqual([false, true, true]);
    expect(levelAllows('mentions', dm, plain, 'u_bob')).toBe(true);
    expect([plain, named, everyone].map((e) => levelAllows('none', room, e, 'u_bob'))).toEqual([false, false, false]);
    expect(levelAllows('none', dm, named, 'u_bob')).toBe(false);
  });

  it('do-not-disturb lasts until dndUntil; null and past times are off', () => {
    const now = 1_800_000_000_000;
    expect(dndActive(null, now)).toBe(false);
    expect(dndActive({ readReceipts: true, dndUntil: null }, now)).toBe(false);
    expect(dndActive({ readReceipts: true, dndUntil: now - 1 }, now)).toBe(false);
    expect(dndActive({ readReceipts: true, dndUntil: now }, now)).toBe(false);
    expect(dndActive({ readReceipts: true, dndUntil: now + 1 }, now)).toBe(true);
  });

  it('the notification body is plain text, whitespace folded, cut with an ellipsis', () => {
    expect(snippet('**bold** _it_ `code` ~~x~~ > quote')).toBe('bold it code x quote');
    expect(snippet('see [the docs](https://example.com/a) ![img](https://example.com/i.png)')).toBe('see the docs img');
    expect(snippet('line one\n\n  line two')).toBe('line one line two');
    expect(snippet('```\nconst x = 1;\n```')).toBe('const x = 1;');
    const long = snippet('a'.repeat(300));
    expect(long).toHaveLength(140);
    expect(long.endsWith('…')).toBe(true);
  });
});

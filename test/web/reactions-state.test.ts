/**
 * The web client's reaction state without a browser: chips change as sets (so the answer to my own click, its event
 * and a history page that already counts it agree), and the picker's search over the emojibase data finds emoji by
 * English and Chinese names, shortcodes and keywords, best match first.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog, searchCatalog } from '../../web/src/state/emoji-catalog.js';
import { applyReaction, markDeleted, markReaction, type UiMessage } from '../../web/src/state/messages.js';

const msg = (seq: number, extra: Partial<UiMessage> = {}): UiMessage => ({
  key: `k${seq}`,
  id: `e${seq}`,
  seq,
  roomId: 'r',
  senderId: 'u_a',
  body: `m${seq}`,
  clientMsgId: `k${seq}`,
  createdAt: '2026-12-07T10:00:00.000Z',
  status: 'sent',
  ...extra,
});

describe('reaction chips as sets', () => {
  it('adds a user once, removes only who is there, drops an emoji nobody has', () => {
    let r = applyReaction(undefined, '🎉', 'u_a', true);
    expect(r).toEqual([{ emoji: '🎉', count: 1, userIds: ['u_a'] }]);
    expect(applyReaction(r, '🎉', 'u_a', true)).toBe(r); // the event after the answer: no change
    r = applyReaction(r, '👀', 'u_b', true);
    r = applyReaction(r, '🎉', 'u_b', true);
    expect(r).toEqual([
      { emoji: '🎉', count: 2, userIds: ['u_a', 'u_b'] },
      { emoji: '👀', count: 1, userIds: ['u_b'] },
    ]);
    expect(applyReaction(r, '🎉', 'u_c', false)).toBe(r);
    expect(applyReaction(r, '🚀', 'u_a', false)).toBe(r);
    r = applyReaction(r, '🎉', 'u_a', false);
    expect(r).toEqual([
      { emoji: '🎉', count: 1, userIds: ['u_b'] },
      { emoji: '👀', count: 1, userIds: ['u_b'] },
    ]);
    r = applyReaction(applyReaction(r, '🎉', 'u_b', false), '👀', 'u_b', false);
    expect(r).toBeUndefined();
  });

  it('markReaction changes only the message at seq; deleted messages take none and lose theirs', () => {
    const list = [msg(1), msg(2)];
    const next = markReaction(list, 2, '🎉', 'u_b', true);
    expect(next[0]).toBe(list[0]);
    expect(next[1]?.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: ['u_b'] }]);
    expect(markReaction(next, 2, '🎉', 'u_b', true)).toBe(next);
    expect(markReaction(next, 9, '🎉', 'u_b', true)).toBe(next);
    expect('reactions' in (markReaction(next, 2, '🎉', 'u_b', false)[1] ?? {})).toBe(false);
    const gone = markDeleted(next, 2);
    expect(gone[1]).toMatchObject({ deleted: true, body: '' });
    expect(gone[1]?.reactions).toBeUndefined();
    expect(markReaction(gone, 2, '👀', 'u_a', true)).toBe(gone);
  });
});

describe('emoji search', () => {
  it('finds by English name, shortcode, keyword, and Chinese name or keyword; exact names first', async () => {
    const c = await loadCatalog();
    expect(c.emojis.length).toBeGreaterThan(1800);
    // No skin-tone components offered as reactions.
    expect(c.byEmoji.has('🏻')).toBe(false);
    const first = (q: string) => searchCatalog(c, q)[0]?.emoji;
    expect(first('rocket')).toBe('🚀'); // not 🧑‍🚀, whose keywords include "rocket"
    expect(first('thumbs up')).toBe('👍️');
    expect(first(':tada:')).toBe('🎉');
    expect(first('+1')).toBe('👍️');
    expect(first('拉炮彩带')).toBe('🎉');
    expect(searchCatalog(c, '庆祝').map((e) => e.emoji)).toContain('🎉');
    expect(first('红心')).toBe('❤️');
    expect(searchCatalog(c, 'zzzz-nothing')).toEqual([]);
    expect(searchCatalog(c, '   ')).toEqual([]);
  });
});

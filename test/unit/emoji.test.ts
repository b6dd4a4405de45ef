import { describe, expect, it } from 'vitest';
import { canonicalEmoji } from '../../src/core/emoji.js';
import { APP_SHORTCODES } from '../../src/protocol/shortcodes.js';

describe('canonicalEmoji (reactions)', () => {
  it('one canonical form whatever the variation selectors', () => {
    expect(canonicalEmoji('👍')).toBe('👍️');
    expect(canonicalEmoji('👍\uFE0F')).toBe('👍️');
    expect(canonicalEmoji('\u2764')).toBe('❤️');
    expect(canonicalEmoji('\u2764\uFE0E')).toBe('❤️');
    expect(canonicalEmoji('🏳‍🌈')).toBe('🏳️‍🌈'); // a ZWJ sequence typed without its selector
    expect(canonicalEmoji('👍🏽')).toBe('👍🏽');
    expect(canonicalEmoji('🇨🇳')).toBe('🇨🇳');
  });

  it("shortcodes: the app's table first (what the composer replaces), then GitHub's, any case, colons optional", () => {
    for (const [code, emoji] of APP_SHORTCODES) {
      expect([code, canonicalEmoji(code)]).toEqual([code, canonicalEmoji(emoji)]);
      expect(canonicalEmoji(`:${code.toUpperCase()}:`)).toBe(canonicalEmoji(emoji));
    }
    expect(canonicalEmoji('party')).toBe('🥳'); // the app's; emojibase's own "party" is 🎉
    expect(canonicalEmoji('tada')).toBe('🎉');
    expect(canonicalEmoji(':+1:')).toBe('👍️');
  });

  it('anything else is not an emoji', () => {
    for (const x of ['', 'hi', '👍👍', '👍 ', ':nope:', '1', '\u200D', '\uFE0F', 'thumbs up', '<b>']) {
      expect([x, canonicalEmoji(x)]).toEqual([x, null]);
    }
  });
});

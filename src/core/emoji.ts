import { createRequire } from 'node:module';
import { APP_SHORTCODES } from '../protocol/shortcodes.js';

/**
 * Reaction emoji: which strings are emoji, and their one canonical form, from the emojibase dataset (the maintained
 * Unicode emoji data the web picker uses too, so a picked emoji is already canonical).
 *
 * The canonical form is emojibase's `unicode` (emoji presentation, skin tones as their own entries). Variation
 * selectors (U+FE0E, U+FE0F) are ignored when matching, so 👍, 👍\uFE0F and ❤ / ❤️ each name one reaction.
 * Shortcodes (`thumbsup`, `:tada:`, `+1`): the app's own table first (src/protocol/shortcodes.ts, what the web composer
 * replaces), then GitHub's and emojibase's sets, as the dataset ships them.
 */

interface CompactEmoji {
  hexcode: string;
  unicode: string;
  skins?: CompactEmoji[];
}

type ShortcodeTable = Record<string, string | string[]>;

interface Tables {
  /** Emoji without variation selectors → canonical. */
  byBare: Map<string, string>;
  /** Lower-case shortcode → canonical. */
  byShortcode: Map<string, string>;
}

const SELECTORS = /[\uFE0E\uFE0F]/g;

let tables: Tables | undefined;

/** Built on first use (about 4,000 emoji and 5,000 shortcodes), not at start-up: a server nobody reacts on pays nothing. */
function load(): Tables {
  if (tables) return tables;
  const require = createRequire(import.meta.url);
  const data = require('emojibase-data/en/compact.json') as CompactEmoji[];
  const byBare = new Map<string, string>();
  const byHex = new Map<string, string>();
  const add = (e: CompactEmoji) => {
    byBare.set(e.unicode.replace(SELECTORS, ''), e.unicode);
    byHex.set(e.hexcode, e.unicode);
  };
  for (const e of data) {
    add(e);
    for (const s of e.skins ?? []) add(s);
  }
  const byShortcode = new Map<string, string>();
  for (const [name, emoji] of APP_SHORTCODES) {
    const canonical = byBare.get(emoji.replace(SELECTORS, ''));
    if (canonical) byShortcode.set(name.toLowerCase(), canonical);
  }
  for (const set of ['github', 'emojibase']) {
    const codes = require(`emojibase-data/en/shortcodes/${set}.json`) as ShortcodeTable;
    for (const [hex, names] of Object.entries(codes)) {
      const emoji = byHex.get(hex);
      if (!emoji) continue;
      for (const name of Array.isArray(names) ? names : [names]) {
        // The first set wins a name both use: GitHub's names are the ones chat users type.
        if (!byShortcode.has(name.toLowerCase())) byShortcode.set(name.toLowerCase(), emoji);
      }
    }
  }
  tables = { byBare, byShortcode };
  return tables;
}

/**
 * The canonical form of a reaction's emoji — a Unicode emoji (with or without variation selectors) or a shortcode
 * with or without colons — or null when it is neither.
 */
export function canonicalEmoji(input: string): string | null {
  const t = load();
  const fromShortcode = /^:?([a-z0-9_+-]+):?$/i.exec(input);
  if (fromShortcode) {
    const hit = t.byShortcode.get(fromShortcode[1]!.toLowerCase());
    // Digits and '#', '*' are not shortcodes but keycap bases: fall through to the emoji table for them.
    if (hit) return hit;
  }
  return t.byBare.get(input.replace(SELECTORS, '')) ?? null;
}

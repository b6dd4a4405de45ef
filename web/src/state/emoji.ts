import { APP_SHORTCODES as TABLE } from '../../../src/protocol/shortcodes.js';

export const EMOJI: Readonly<Record<string, string>> = Object.fromEntries(TABLE);

/** The picker's order: one entry per emoji, first shortcode wins. */
export const PICKER: readonly { code: string; emoji: string }[] = (() => {
  const seen = new Set<string>();
  const out: { code: string; emoji: string }[] = [];
  for (const [code, emoji] of TABLE) {
    if (seen.has(emoji)) continue;
    seen.add(emoji);
    out.push({ code, emoji });
  }
  return out;
})();

export function replaceShortcodes(text: string): string {
  if (!text.includes(':')) return text;
  return text.replace(/:([a-z0-9_+-]{1,32}):/g, (m, code: string) => EMOJI[code] ?? m);
}

/** Shortcodes starting with `prefix` (for `:sm` autocompletion), at most `limit`. */
export function suggestEmoji(prefix: string, limit = 6): { code: string; emoji: string }[] {
  const p = prefix.toLowerCase();
  const hits: { code: string; emoji: string }[] = [];
  for (const [code, emoji] of TABLE) {
    if (code.startsWith(p)) hits.push({ code, emoji });
    if (hits.length >= limit) break;
  }
  return hits;
}

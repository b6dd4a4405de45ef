/**
 * `:shortcode:` → emoji: a small table of the ones people use most in chat, in picker order. A later alias of
 * the same emoji (thumbsup for +1) is understood but not shown twice in the picker.
 */
const TABLE: readonly (readonly [string, string])[] = [
  ['smile', '😄'],
  ['grin', '😁'],
  ['joy', '😂'],
  ['rofl', '🤣'],
  ['wink', '😉'],
  ['blush', '😊'],
  ['heart_eyes', '😍'],
  ['thinking', '🤔'],
  ['neutral_face', '😐'],
  ['sweat_smile', '😅'],
  ['cry', '😢'],
  ['sob', '😭'],
  ['angry', '😠'],
  ['scream', '😱'],
  ['sunglasses', '😎'],
  ['upside_down', '🙃'],
  ['eyes', '👀'],
  ['wave', '👋'],
  ['+1', '👍'],
  ['thumbsup', '👍'],
  ['-1', '👎'],
  ['thumbsdown', '👎'],
  ['clap', '👏'],
  ['pray', '🙏'],
  ['muscle', '💪'],
  ['ok_hand', '👌'],
  ['raised_hands', '🙌'],
  ['point_up', '☝️'],
  ['heart', '❤️'],
  ['broken_heart', '💔'],
  ['fire', '🔥'],
  ['sparkles', '✨'],
  ['star', '⭐'],
  ['tada', '🎉'],
  ['rocket', '🚀'],
  ['100', '💯'],
  ['check', '✅'],
  ['white_check_mark', '✅'],
  ['x', '❌'],
  ['warning', '⚠️'],
  ['bulb', '💡'],
  ['coffee', '☕'],
  ['beer', '🍺'],
  ['pizza', '🍕'],
  ['cake', '🍰'],
  ['bug', '🐛'],
  ['zap', '⚡'],
  ['sun', '☀️'],
  ['rainbow', '🌈'],
  ['party', '🥳'],
  ['shrug', '🤷'],
];

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

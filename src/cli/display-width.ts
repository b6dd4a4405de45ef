/**
 * How many terminal columns a string takes: East Asian wide and fullwidth characters and emoji take two,
 * combining marks and zero-width characters none. A small stand-in for the `string-width` package (not a
 * dependency yet): it covers the Unicode East Asian Width W/F ranges, emoji presentation and
 * Grapheme clusters (via Intl.Segmenter), not every corner of UAX #11.
 */

/** East Asian Width W and F (Unicode 15): Hangul Jamo, CJK, kana, Hangul syllables, fullwidth forms. */
const WIDE =
  /[\u1100-\u115f\u231a\u231b\u2329\u232a\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693\u26a1\u26aa\u26ab\u26bd\u26be\u26c4\u26c5\u26ce\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2705\u270a\u270b\u2728\u274c\u274e\u2753-\u2755\u2757\u2795-\u2797\u27b0\u27bf\u2b1b\u2b1c\u2b50\u2b55\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{16fe0}-\u{16fe4}\u{17000}-\u{18cff}\u{1b000}-\u{1b2ff}\u{1f004}\u{1f0cf}\u{1f18e}\u{1f191}-\u{1f19a}\u{1f1e6}-\u{1f1ff}\u{1f200}-\u{1f251}\u{1f300}-\u{1f64f}\u{1f680}-\u{1f6ff}\u{1f7e0}-\u{1f7eb}\u{1f90c}-\u{1f9ff}\u{1fa70}-\u{1faff}\u{20000}-\u{2fffd}\u{30000}-\u{3fffd}]/u;

/** Takes no column: combining marks, zero-width spaces and joiners, variation selectors, controls. */
const ZERO = /^[\p{Mn}\p{Me}\p{Cc}\p{Cf}]+$/u; // Cf holds U+200B-U+200F, Mn the variation selectors

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function displayWidth(text: string): number {
  let width = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (ZERO.test(segment)) continue;
    // A cluster is as wide as its base character; an emoji presentation selector (U+FE0F) makes it two.
    width += WIDE.test(String.fromCodePoint(segment.codePointAt(0)!)) || segment.includes('\ufe0f') ? 2 : 1;
  }
  return width;
}

/** `text` padded with spaces to `width` columns. */
export function padEndDisplay(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

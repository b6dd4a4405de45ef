import type { ContentFilter, ContentVerdict } from '../context.js';
import { skeleton } from './confusables.js';

export type FilterAction = 'block' | 'mask' | 'flag';

export interface FilterRule {
  /** The word or phrase as configured; reported back in `blocked` / `flagged`. */
  word: string;
  action: FilterAction;
}

/**
 * A configurable word list: `block` refuses the text, `mask` replaces the word by asterisks, `flag` lets the
 * text pass and names the word so a report can be filed.
 *
 * How text and words are compared (both go through the same steps):
 * - each grapheme is NFKC-normalized (full-width "ＢＡＤ" → "bad", ligatures, circled letters) and case-folded;
 * - invisible format characters (zero-width space/joiners, soft hyphen, BOM, tag characters, …) and lone
 *   surrogates are dropped;
 * - combining marks are stripped ("bá̈d" → "bad"), and each character is replaced by its Unicode confusables
 *   prototype (UTS #39 skeleton: Cyrillic "а", Greek "ο", mathematical "𝐚" read as Latin), so look-alike
 *   spellings match. The cost: words that differ only in accents or in look-alike letters match each other
 *   ("résumé" and "resume", "rn" and "m"), in every script (Japanese "が" matches "か");
 * - the rest splits into words (runs of letters, digits, marks) and separators (everything else);
 * - a run of single-character words with short separators between them (at most 3 characters, e.g. "b.a.d",
 *   "b a d", "b-a-d", "b_a_d", "b . a . d") is read as one word, so spelled-out words are caught;
 * - a match must start and end on a word boundary, so "bad" never matches inside "badge" or "sinbad". The
 *   exception is CJK and other scripts written without spaces (Han, kana, Hangul, Thai, …): next to such a
 *   character every position is a boundary, so "坏蛋" is found in "你是坏蛋吗" and "bad" in "这是bad的".
 *
 * Not caught, by design: words glued into longer ones ("badword" for "bad"), plurals unless listed, leetspeak
 * ("b4d"), split words whose pieces are longer than one letter ("ba d"). List such forms explicitly.
 *
 * Masking replaces the matched span of the ORIGINAL text (separators inside it included) with as many `*` as it
 * has visible graphemes.
 */
export class KeywordFilter implements ContentFilter {
  private readonly rules: { rule: FilterRule; needle: string }[];

  constructor(rules: readonly FilterRule[]) {
    const seen = new Set<string>();
    this.rules = [];
    for (const rule of rules) {
      const needle = normalize(rule.word).text;
      const key = `${rule.action}\u0000${needle}`;
      if (needle === '' || seen.has(key)) continue;
      seen.add(key);
      this.rules.push({ rule, needle });
    }
  }

  /** From comma-separated lists (the FILTER_BLOCK / FILTER_MASK / FILTER_FLAG settings). */
  static fromLists(lists: { block?: string; mask?: string; flag?: string }, more: readonly FilterRule[] = []) {
    const rules: FilterRule[] = [];
    for (const action of ['block', 'mask', 'flag'] as const) {
      for (const word of (lists[action] ?? '').split(',')) {
        if (word.trim() !== '') rules.push({ word: word.trim(), action });
      }
    }
    return new KeywordFilter([...rules, ...more]);
  }

  /** Number of distinct (action, word) rules. */
  get size(): number {
    return this.rules.length;
  }

  check(text: string): ContentVerdict {
    const verdict: ContentVerdict = { blocked: [], text, flagged: [] };
    if (this.rules.length === 0 || text === '') return verdict;
    const n = normalize(text);
    const masks: [number, number][] = [];
    for (const { rule, needle } of this.rules) {
      const spans = findAll(n, needle, rule.action === 'mask');
      if (spans.length === 0) continue;
      if (rule.action === 'block') verdict.blocked.push(rule.word);
      else if (rule.action === 'flag') verdict.flagged.push(rule.word);
      else masks.push(...spans);
    }
    if (masks.length > 0) verdict.text = mask(text, masks);
    return verdict;
  }
}

/**
 * Parses a filter file: one `block: word`, `mask: word` or `flag: word` per line; blank lines and lines starting
 * with `#` are skipped. Throws an Error naming the first bad line.
 */
export function parseFilterFile(content: string): FilterRule[] {
  const rules: FilterRule[] = [];
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(block|mask|flag)\s*:\s*(.*)$/i.exec(line);
    const word = m?.[2]?.trim() ?? '';
    if (!m || word === '') throw new Error(`line ${i + 1}: expected "block: word", "mask: word" or "flag: word"`);
    rules.push({ action: m[1]!.toLowerCase() as FilterAction, word });
  }
  return rules;
}

// Invisible characters: zero-width space/joiners, soft hyphen, BOM, bidi marks, variation selectors, fillers, ….
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/gu;
const WORD_CHAR = /^[\p{L}\p{N}\p{M}]$/u;
const NONSPACING_MARK = /\p{Mn}/gu;
const LONE_SURROGATE = /\p{Surrogate}/gu;
// Scripts written without spaces between words: matches need no word boundary next to them.
const NO_SPACE_SCRIPT =
  /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}\u30fc]$/u;
/** Longest separator run between two single letters that still joins them ("b...a" yes, "b  ,  a" no). */
const MAX_JOIN_SEPARATOR = 3;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

interface Normalized {
  /** Words joined by single spaces; single-letter runs joined without. */
  text: string;
  /** For each code unit of `text`: the span of the original text it came from. */
  from: number[];
  to: number[];
  /** `split[i]`: position i (between text[i-1] and text[i]) is a boundary inside a joined single-letter run. */
  split: boolean[];
}

/**
 * One grapheme as the filter compares it: NFKC and case-folded, invisible characters and lone surrogates dropped,
 * combining marks stripped ("bád" → "bad"), then reduced to its confusables skeleton ("bаd" with a Cyrillic а →
 * "bad") and folded again (a prototype may be upper case: "0" → "O"). Folding comes first, as UTS #39 advises for
 * case-insensitive matching: the data is case-sensitive ("I" and "l" share a prototype, "i" does not).
 */
export function fold(s: string): string {
  const folded = s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/ς/g, 'σ')
    .replace(/i\u0307/g, 'i')
    .replace(INVISIBLE, '')
    .replace(LONE_SURROGATE, '');
  const bare = folded.normalize('NFD').replace(NONSPACING_MARK, '').normalize('NFC');
  return skeleton(bare).toLowerCase();
}

function normalize(original: string): Normalized {
  // 1. Fold each grapheme, remembering where each resulting code point came from.
  const chars: { c: string; from: number; to: number; word: boolean }[] = [];
  for (const { segment, index } of segmenter.segment(original)) {
    for (const c of fold(segment)) {
      chars.push({ c, from: index, to: index + segment.length, word: WORD_CHAR.test(c) });
    }
  }
  // 2. Words are runs of word characters; separator runs between them become one space, or nothing between two
  //    single-character words.
  const words: { start: number; end: number }[] = [];
  for (let i = 0; i < chars.length;) {
    if (!chars[i]!.word) {
      i++;
      continue;
    }
    const start = i;
    while (i < chars.length && chars[i]!.word) i++;
    words.push({ start, end: i });
  }
  const out: Normalized = { text: '', from: [], to: [], split: [] };
  const push = (c: string, from: number, to: number, split: boolean) => {
    for (let k = 0; k < c.length; k++) {
      out.text += c[k];
      out.from.push(from);
      out.to.push(to);
      out.split.push(split && k === 0);
    }
  };
  for (let w = 0; w < words.length; w++) {
    const word = words[w]!;
    let joined = false;
    if (w > 0) {
      const prev = words[w - 1]!;
      // Single letters are single graphemes of the original: a skeleton may spell one as two ("m" → "rn").
      const single = (w: { start: number; end: number }) => chars[w.start]!.from === chars[w.end - 1]!.from;
      joined = single(prev) && single(word) && word.start - prev.end <= MAX_JOIN_SEPARATOR;
      if (!joined) push(' ', chars[prev.end]!.from, chars[word.start - 1]!.to, false);
    }
    for (let i = word.start; i < word.end; i++) {
      const ch = chars[i]!;
      push(ch.c, ch.from, ch.to, joined && i === word.start);
    }
  }
  return out;
}

function isWordUnit(s: string, i: number): boolean {
  const c = s[i];
  return c !== undefined && c !== ' ';
}

function noSpaceScript(s: string, i: number): boolean {
  // Surrogate halves (astral Han) do not match the BMP test; treat a high/low surrogate by its full code point.
  const cp = s.codePointAt(i);
  if (cp === undefined) return false;
  if (cp >= 0xdc00 && cp <= 0xdfff && i > 0) return NO_SPACE_SCRIPT.test(String.fromCodePoint(s.codePointAt(i - 1)!));
  return NO_SPACE_SCRIPT.test(String.fromCodePoint(cp));
}

/** May a match start or end at position `p` of `n.text`? */
function boundary(n: Normalized, p: number): boolean {
  const s = n.text;
  if (p <= 0 || p >= s.length) return true;
  if (!isWordUnit(s, p - 1) || !isWordUnit(s, p)) return true;
  if (n.split[p]) return true;
  return noSpaceScript(s, p - 1) || noSpaceScript(s, p);
}

/** Spans of the original text where `needle` occurs on boundaries (all of them when `all`, else the first). */
function findAll(n: Normalized, needle: string, all: boolean): [number, number][] {
  const spans: [number, number][] = [];
  for (let at = n.text.indexOf(needle); at !== -1; at = n.text.indexOf(needle, at + 1)) {
    const end = at + needle.length;
    if (!boundary(n, at) || !boundary(n, end)) continue;
    spans.push([n.from[at]!, n.to[end - 1]!]);
    if (!all) break;
  }
  return spans;
}

function mask(text: string, spans: [number, number][]): string {
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [from, to] of spans) {
    if (to <= at) continue;
    const start = Math.max(from, at);
    out += text.slice(at, start);
    // One star per grapheme: "he\u0301ck" (5 code points) shows as 4 letters.
    const visible = Array.from(segmenter.segment(text.slice(start, to).replace(INVISIBLE, ''))).length;
    out += '*'.repeat(visible);
    at = to;
  }
  return out + text.slice(at);
}

/**
 * Message search, the text side: how a message body becomes index terms and a query becomes a match, the same on
 * both engines. Neither SQLite's tokenizers nor PostgreSQL's parser (the harness runs it with the C locale) can split
 * Chinese or Japanese, which have no spaces between words, and a trigram index cannot find a one- or two-character
 * word. So the text is tokenized here, in JavaScript:
 *
 * - a Han, Hiragana or Katakana character is a term of its own (a unigram); a query's run of them is a phrase of
 *   those characters in order, so `数据` finds 数据库 but not 数字据 — and `库` alone finds it too;
 * - any other run of letters and digits is a word, folded (NFKC, lower case, accents stripped); a query's words match
 *   as prefixes, so `deploy` finds "deployment" (partial words from the start: infix matching is not offered).
 *
 * Terms are stored as ASCII: `[a-z0-9]` words as they are, every other character as `x` + 5 hex digits (a CJK unigram
 * is one such, e.g. 中 → `x04e2d`). ASCII terms need no tokenizer support or locale on either engine: SQLite FTS5
 * (unicode61) splits them on spaces, PostgreSQL takes them as a tsvector literal, and prefix matching survives the
 * encoding (the code of each character has a fixed width).
 */
import { SEARCH_HIGHLIGHT_END, SEARCH_HIGHLIGHT_START } from '../protocol/model.js';

/** Characters written without spaces between words: each is indexed alone. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u30fc\u3005]/u;
/** Runs of letters, digits and combining marks (what a word is made of). */
const WORDISH = /[\p{L}\p{N}\p{M}]+/gu;
/** A term longer than this is cut: a 10,000-character "word" is not something anyone searches for whole. */
const MAX_TERM_CHARS = 64;
/** Terms indexed per message (positions beyond are not indexed); bodies are bounded anyway. */
const MAX_TERMS = 4000;

const encodeChar = (ch: string): string => {
  if (/^[a-z0-9]$/.test(ch)) return ch;
  return `x${ch.codePointAt(0)!.toString(16).padStart(5, '0')}`;
};
const encodeWord = (w: string): string => [...w].map(encodeChar).join('');

/** A folded word: NFKC (full-width Latin is Latin), lower case, accents dropped (café = cafe). */
const foldWord = (w: string): string => w.normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFKC').toLowerCase();

export type Token = { kind: 'cjk' | 'word'; term: string; text: string };

/** The tokens of a text, in order: a CJK character each, or a folded word. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  for (const m of text.normalize('NFKC').matchAll(WORDISH)) {
    let word = '';
    const flush = () => {
      if (!word) return;
      const folded = [...foldWord(word)].slice(0, MAX_TERM_CHARS).join('');
      if (folded) out.push({ kind: 'word', term: encodeWord(folded), text: word });
      word = '';
    };
    for (const ch of m[0]) {
      if (UNSPACED.test(ch)) {
        flush();
        out.push({ kind: 'cjk', term: encodeChar(ch), text: ch });
      } else word += ch;
    }
    flush();
    if (out.length >= MAX_TERMS) break;
  }
  return out.slice(0, MAX_TERMS);
}

/** The index terms of a message body, in order (positions matter: CJK phrases are adjacent terms). */
export function indexTerms(body: string): string[] {
  return tokenize(body).map((t) => t.term);
}

/** A query part: a phrase of adjacent exact terms (a CJK run), or a word matched as a prefix. */
export type QueryPart = { kind: 'phrase'; terms: string[] } | { kind: 'prefix'; term: string };

/**
 * A query as parts that must all match (AND), or an empty list when it has nothing searchable (punctuation only).
 * Duplicates are dropped; at most `maxParts`.
 */
export function parseQuery(q: string, maxParts: number): QueryPart[] {
  const parts: QueryPart[] = [];
  const seen = new Set<string>();
  let run: string[] = [];
  const push = (p: QueryPart) => {
    const key = p.kind === 'phrase' ? `p:${p.terms.join(' ')}` : `w:${p.term}`;
    if (seen.has(key) || parts.length >= maxParts) return;
    parts.push(p);
    seen.add(key);
  };
  const flushRun = () => {
    if (run.length) push({ kind: 'phrase', terms: run });
    run = [];
  };
  // Tokens of separate query words never join into one phrase: "数据 库" is two parts.
  for (const piece of q.split(/\s+/)) {
    for (const t of tokenize(piece)) {
      if (t.kind === 'cjk') run.push(t.term);
      else {
        flushRun();
        // One letter as a prefix would match most of the index: a one-letter word matches whole words only.
        push(t.term.length > 1 ? { kind: 'prefix', term: t.term } : { kind: 'phrase', terms: [t.term] });
      }
    }
    flushRun();
  }
  return parts;
}

/** FTS5 MATCH syntax: terms are `[a-z0-9]` only, so quoting needs no escaping. */
export function fts5Match(parts: readonly QueryPart[]): string {
  return parts.map((p) => (p.kind === 'phrase' ? `"${p.terms.join(' ')}"` : `"${p.term}"*`)).join(' AND ');
}

/**
 * PostgreSQL only: a pair of adjacent CJK characters is also indexed as one term, at the first one's position
 * (`B` + both codes: upper case, which no folded word's term contains, so it cannot collide with one). A GIN index
 * keeps no positions, so a phrase query makes PostgreSQL recheck every row holding all its terms; single
 * characters are so common that a CJK word of two characters matched thousands of rows to find twenty. As bigrams, a
 * two-character word is one term (no recheck at all) and a longer one is a chain of rare terms. SQLite's FTS5 reads
 * positions from its own index and needs none of this.
 */
const CJK_TERM = /^x[0-9a-f]{5}$/;
const isCjkTerm = (t: string): boolean =>
  CJK_TERM.test(t) && UNSPACED.test(String.fromCodePoint(parseInt(t.slice(1), 16)));
const bigram = (a: string, b: string): string => `B${a.slice(1)}${b.slice(1)}`;

/** A PostgreSQL tsquery literal (cast with ::tsquery, no parser or dictionary involved). */
export function tsQuery(parts: readonly QueryPart[]): string {
  const phrase = (terms: readonly string[]): string => {
    if (terms.length < 2 || !terms.every(isCjkTerm)) return `(${terms.join(' <-> ')})`;
    return `(${terms
      .slice(1)
      .map((t, i) => bigram(terms[i]!, t))
      .join(' <-> ')})`;
  };
  return parts.map((p) => (p.kind === 'phrase' ? phrase(p.terms) : `${p.term}:*`)).join(' & ');
}

/**
 * A PostgreSQL tsvector literal of a body's terms with their positions (1-based, capped at 16383 as tsvector is),
 * plus the bigram of each two adjacent CJK characters.
 */
export function tsVector(terms: readonly string[]): string {
  const positions = new Map<string, number[]>();
  const add = (t: string, i: number) => {
    const list = positions.get(t) ?? [];
    if (list.length < 256) list.push(Math.min(i + 1, 16383));
    positions.set(t, list);
  };
  let prevCjk = false;
  terms.forEach((t, i) => {
    add(t, i);
    const cjk = isCjkTerm(t);
    if (cjk && prevCjk) add(bigram(terms[i - 1]!, t), i - 1);
    prevCjk = cjk;
  });
  return [...positions].map(([t, ps]) => `${t}:${[...new Set(ps)].join(',')}`).join(' ');
}

const LINK = /\bhttps?:\/\/\S|\bwww\.[^\s.]+\.\S/i;
/** Whether a body carries a link (the `has=link` filter). */
export const hasLink = (body: string): boolean => LINK.test(body);

/** The marks around a matched part in a snippet: private-use characters (removed from the text itself). */
export const HIGHLIGHT_START = SEARCH_HIGHLIGHT_START;
export const HIGHLIGHT_END = SEARCH_HIGHLIGHT_END;

/**
 * A snippet of `body` around its first match, at most about `maxChars` long, with each matched part wrapped in
 * HIGHLIGHT_START / HIGHLIGHT_END. Matching is the index's: a query word marks words it is a prefix of (the matched
 * prefix only), a CJK phrase marks its characters where they stand in order. Text is never reworded; an ellipsis (…)
 * marks a cut.
 */
export function snippet(text: string, parts: readonly QueryPart[], maxChars: number): string {
  // The marks themselves, typed into a message, would fake a highlight: dropped.
  const body = text.replace(/[\u{e000}\u{e001}]/gu, '');
  // Body-wide spans [start, end) in UTF-16 units, from the tokens' positions in the normalized text. Snippets are
  // cut from the body as sent; NFKC may change lengths, so spans are located on the body itself (a rare mismatch
  // just leaves a word unmarked).
  const spans: [number, number][] = [];
  const tokens: { kind: Token['kind']; term: string; start: number; end: number }[] = [];
  for (const m of body.matchAll(WORDISH)) {
    let i = m.index;
    let wordStart = -1;
    const flush = (end: number) => {
      if (wordStart < 0) return;
      const w = body.slice(wordStart, end);
      tokens.push({ kind: 'word', term: encodeWord(foldWord(w.normalize('NFKC'))), start: wordStart, end });
      wordStart = -1;
    };
    for (const ch of m[0]) {
      const n = normalizedChar(ch);
      if (UNSPACED.test(n)) {
        flush(i);
        tokens.push({ kind: 'cjk', term: encodeChar(n), start: i, end: i + ch.length });
      } else if (wordStart < 0) wordStart = i;
      i += ch.length;
    }
    flush(i);
  }
  for (const p of parts) {
    if (p.kind === 'prefix') {
      for (const t of tokens) {
        if (t.kind !== 'word' || !t.term.startsWith(p.term)) continue;
        spans.push([t.start, t.start + prefixChars(body.slice(t.start, t.end), p.term)]);
      }
    } else {
      for (let i = 0; i + p.terms.length <= tokens.length; i++) {
        if (p.terms.every((term, k) => tokens[i + k]!.kind === 'cjk' && tokens[i + k]!.term === term)) {
          spans.push([tokens[i]!.start, tokens[i + p.terms.length - 1]!.end]);
        }
      }
    }
  }
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push([...s]);
  }
  // The window: from a little before the first match, `maxChars` long, cut at code point boundaries.
  const first = merged[0]?.[0] ?? 0;
  const cps = [...body];
  let from = 0;
  if (body.length > maxChars) {
    const lead = Math.floor(maxChars / 4);
    from = Math.max(0, cpIndexAt(body, first) - lead);
    from = Math.min(from, Math.max(0, cps.length - maxChars));
  }
  const to = Math.min(cps.length, from + maxChars);
  const startUnit = cps.slice(0, from).join('').length;
  const endUnit = startUnit + cps.slice(from, to).join('').length;
  let out = startUnit > 0 ? '…' : '';
  let at = startUnit;
  for (const [s, e] of merged) {
    if (e <= startUnit || s >= endUnit) continue;
    const a = Math.max(s, startUnit);
    const b = Math.min(e, endUnit);
    out += body.slice(at, a) + HIGHLIGHT_START + body.slice(a, b) + HIGHLIGHT_END;
    at = b;
  }
  out += body.slice(at, endUnit) + (endUnit < body.length ? '…' : '');
  return out;
}

const normalizedChar = (ch: string) => ch.normalize('NFKC');
const cpIndexAt = (s: string, unit: number) => [...s.slice(0, unit)].length;

/** How many UTF-16 units of `word` (as written) its folded, encoded form needs to cover the encoded `prefix`. */
function prefixChars(word: string, prefix: string): number {
  let enc = '';
  let units = 0;
  for (const ch of word) {
    if (enc.length >= prefix.length) break;
    enc += encodeWord(foldWord(ch.normalize('NFKC')));
    units += ch.length;
  }
  return units;
}

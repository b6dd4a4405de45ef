/**
 * A tiny, safe subset of Markdown for chat messages. It parses text into a tree of plain objects; the
 * renderer turns each node into a DOM element with text children. Nothing here ever produces HTML strings,
 * so user text can never become markup: `<img onerror=…>` stays the characters `<img onerror=…>`.
 *
 * Supported: ```fenced code blocks```, `inline code`, **bold**, *italic* / _italic_, ~~strike~~,
 * [text](http(s)/mailto link), bare http(s) URLs, > quotes, and line breaks. `:shortcode:` emoji are
 * replaced in text (not in code).
 */
import { replaceShortcodes } from './emoji.js';

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'strong' | 'em' | 'del'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] }
  | { t: 'br' };

export type Block = { t: 'p'; c: Inline[] } | { t: 'pre'; v: string; lang: string } | { t: 'quote'; c: Inline[] };

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The URL as an absolute http(s)/mailto link, or null: `javascript:`, `data:`, relative URLs are refused. */
export function safeHref(raw: string): string | null {
  const s = raw.trim();
  if (!/^(https?:\/\/|mailto:)/i.test(s)) return null;
  try {
    const url = new URL(s);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/y;

function pushText(out: Inline[], v: string): void {
  if (!v) return;
  const last = out[out.length - 1];
  if (last && last.t === 'text') last.v += v;
  else out.push({ t: 'text', v });
}

/** Finds the closing delimiter for an emphasis run that starts at `from`, not directly after whitespace. */
function findClose(s: string, delim: string, from: number): number {
  let i = s.indexOf(delim, from);
  while (i !== -1) {
    if (i > from && !/\s/.test(s[i - 1] ?? '')) return i;
    i = s.indexOf(delim, i + 1);
  }
  return -1;
}

export function parseInline(s: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const flush = () => {
    pushText(out, replaceShortcodes(text));
    text = '';
  };
  let i = 0;
  while (i < s.length) {
    const ch = s[i] as string;
    if (ch === '\n') {
      flush();
      out.push({ t: 'br' });
      i++;
      continue;
    }
    if (ch === '\\' && i + 1 < s.length && /[\\`*_~[\]()>#:]/.test(s[i + 1] as string)) {
      text += s[i + 1];
      i += 2;
      continue;
    }
    if (ch === '`') {
      const end = s.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push({ t: 'code', v: s.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (depth < 4) {
      const two = s.slice(i, i + 2);
      if ((two === '**' || two === '__' || two === '~~') && s[i + 2] && !/\s/.test(s[i + 2] as string)) {
        const end = findClose(s, two, i + 2);
        if (end !== -1) {
          flush();
          out.push({ t: two === '~~' ? 'del' : 'strong', c: parseInline(s.slice(i + 2, end), depth + 1) });
          i = end + 2;
          continue;
        }
      }
      if ((ch === '*' || ch === '_') && s[i + 1] && !/\s/.test(s[i + 1] as string)) {
        // `_` only opens at a word boundary, so snake_case_names stay as they are.
        const boundary = ch === '*' || i === 0 || !/[\p{L}\p{N}]/u.test(s[i - 1] as string);
        const end = boundary ? findClose(s, ch, i + 1) : -1;
        const after = s[end + 1];
        if (end !== -1 && (ch === '*' || !after || !/[\p{L}\p{N}]/u.test(after))) {
          flush();
          out.push({ t: 'em', c: parseInline(s.slice(i + 1, end), depth + 1) });
          i = end + 1;
          continue;
        }
      }
      if (ch === '[') {
        const m = /^\[([^\]\n]+)\]\(([^\s()]*(?:\([^\s()]*\)[^\s()]*)*)\)/.exec(s.slice(i));
        if (m) {
          const href = safeHref(m[2] as string);
          if (href) {
            flush();
            out.push({ t: 'link', href, c: parseInline(m[1] as string, depth + 1) });
          } else {
            text += m[0]; // an unsafe or relative target is shown as the text it is
          }
          i += m[0].length;
          continue;
        }
      }
    }
    if (ch === 'h' && (i === 0 || !/[\p{L}\p{N}]/u.test(s[i - 1] as string))) {
      URL_RE.lastIndex = i;
      const m = URL_RE.exec(s);
      if (m) {
        // Trailing punctuation usually ends the sentence, not the URL.
        let url = m[0];
        while (/[.,;:!?)\]]$/.test(url) && !(url.endsWith(')') && url.includes('('))) url = url.slice(0, -1);
        const href = safeHref(url);
        if (href) {
          flush();
          out.push({ t: 'link', href, c: [{ t: 'text', v: url }] });
          i += url.length;
          continue;
        }
      }
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}

/** Splits a message into blocks: fenced code, quotes, and paragraphs of inline text. */
export function parseMarkdown(src: string): Block[] {
  const blocks: Block[] = [];
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  let para: string[] = [];
  const flushPara = () => {
    if (para.length) blocks.push({ t: 'p', c: parseInline(para.join('\n')) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const fence = /^\s*```\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
      if (end !== -1) {
        flushPara();
        blocks.push({ t: 'pre', v: lines.slice(i + 1, end).join('\n'), lang: fence[1] ?? '' });
        i = end;
        continue;
      }
    }
    // ```code``` on one line, or a fence whose content starts on the same line.
    const oneLine = /^\s*```([^`]+)```\s*$/.exec(line);
    if (oneLine) {
      flushPara();
      blocks.push({ t: 'pre', v: oneLine[1] as string, lang: '' });
      continue;
    }
    if (/^>\s?/.test(line)) {
      flushPara();
      const quote: string[] = [];
      while (i < lines.length && /^>\s?/.test(lines[i] as string))
        quote.push((lines[i++] as string).replace(/^>\s?/, ''));
      i--;
      blocks.push({ t: 'quote', c: parseInline(quote.join('\n')) });
      continue;
    }
    para.push(line);
  }
  flushPara();
  return blocks;
}

/** True for short messages made only of emoji (shown larger, as chat apps do). */
export function isEmojiOnly(body: string): boolean {
  const s = replaceShortcodes(body).replace(/\s+/g, '');
  if (!s || s.length > 24) return false;
  return /^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\u200d|\ufe0f)+$/u.test(s) && !/^[\d#*]+$/.test(s);
}

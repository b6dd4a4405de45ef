import type { ComponentChildren } from 'preact';

/**
 * Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). Names refuse them server-side
 * (NAME_FORBIDDEN in src/protocol/model.ts); message bodies keep what was sent, so the display makes them inert:
 * a right-to-left override would otherwise show "gnp.exe" as "exe.png" (Trojan Source, CVE-2021-42574).
 */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/gu;

const NAMES: Record<string, string> = {
  '\u202a': 'LRE',
  '\u202b': 'RLE',
  '\u202c': 'PDF',
  '\u202d': 'LRO',
  '\u202e': 'RLO',
  '\u2066': 'LRI',
  '\u2067': 'RLI',
  '\u2068': 'FSI',
  '\u2069': 'PDI',
};

/**
 * `text` as children in which each bidi control is shown as a visible escape (`U+202E`) instead of acting on the
 * text around it. Text without one comes back as is.
 */
export function inertText(text: string): ComponentChildren {
  if (!text.match(BIDI_CONTROL)) return text;
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const m of text.matchAll(BIDI_CONTROL)) {
    const ch = m[0];
    if (m.index > last) out.push(text.slice(last, m.index));
    const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase()}`;
    out.push(
      <span key={m.index} class="bidi-control" title={`${code} ${NAMES[ch] ?? ''}`.trim()}>
        {code}
      </span>,
    );
    last = m.index + ch.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/**
 * Ill-formed UTF-16 (a lone surrogate, e.g. `"M\ud800B"` from a JSON `\ud800` escape) has no UTF-8 encoding: a
 * store would silently turn it into U+FFFD, so history would differ from what live delivery echoed. Every input is
 * checked for it, keys included, before any schema or service sees it.
 */

// In a `u` regex a surrogate pair is one code point; only a lone surrogate is `\p{Surrogate}`.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** False when `s` holds a lone surrogate (what `String.prototype.isWellFormed` answers, without needing ES2024). */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/**
 * The path of the first string in `value` (an object key or a string value, at any depth) that is not well-formed
 * UTF-16, or null when there is none. Iterative, so deeply nested input cannot exhaust the stack.
 */
export function illFormedPath(value: unknown): string[] | null {
  const stack: { v: unknown; path: string[] }[] = [{ v: value, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (!isWellFormed(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, String(i)] });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (!isWellFormed(k)) return [...path, k.replace(/\p{Surrogate}/gu, '\ufffd')];
        stack.push({ v: item, path: [...path, k] });
      }
    }
  }
  return null;
}

export const ILL_FORMED_MESSAGE = 'must be well-formed Unicode (no lone surrogates)';

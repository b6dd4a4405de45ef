// Unicode's confusables data (UTS #39, confusables.txt: one source code point → its prototype), as shipped and
// kept current by the `unhomoglyph` package; see its data.json for the Unicode version.
import prototypes from 'unhomoglyph/data.json' with { type: 'json' };

const PROTOTYPE = new Map<string, string>(Object.entries(prototypes as Record<string, string>));

/**
 * The UTS #39 skeleton of `s`, code point by code point: each character is replaced by the prototype of its
 * confusable set, so strings that look alike map to the same skeleton ("bаd" with a Cyrillic а, "b𝐚d", "bad").
 * Not for display: `m` becomes `rn`, `0` becomes `O`. Callers normalise (NFKC, NFD) around it.
 */
export function skeleton(s: string): string {
  let out = '';
  for (const c of s) out += PROTOTYPE.get(c) ?? c;
  return out;
}

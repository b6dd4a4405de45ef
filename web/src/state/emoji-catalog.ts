/**
 * The whole Unicode emoji set for the reaction picker, from the emojibase dataset (English and Chinese names and
 * keywords, GitHub shortcodes). About 1 MB of JSON: imported dynamically on the first open of a picker, so it is
 * its own chunks and the main bundle does not carry it.
 */

export interface CatalogEmoji {
  /** The emoji as emojibase writes it: the server's canonical form, so a pick is sent and shown as is. */
  emoji: string;
  label: string;
  labelZh: string;
  group: number;
  order: number;
  /** Lower-case English and Chinese names: what search matches first. */
  names: string[];
  /** Lower-case shortcodes and keywords in both languages: what search matches next. */
  terms: string[];
}

export interface Catalog {
  /** Every emoji a picker offers (no skin-tone components), in emojibase order. */
  emojis: CatalogEmoji[];
  byEmoji: Map<string, CatalogEmoji>;
}

interface Compact {
  hexcode: string;
  unicode: string;
  label: string;
  group?: number;
  order?: number;
  tags?: string[];
}

/** emojibase's "component" group: skin-tone and hair modifiers, not emoji to react with. */
const COMPONENT_GROUP = 2;

/** Emoji versions from newest down to the oldest worth testing; each is checked by drawing one of its emoji. */
const TESTED_VERSIONS = ['17', '16', '15.1', '15', '14', '13.1', '13', '12.1', '12', '11'];

/** Whether this browser draws `emoji` in colour (a missing one draws nothing, a box or monochrome fallbacks). */
function drawsInColour(emoji: string): boolean | null {
  if (typeof document === 'undefined') return null;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 32;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return null;
  ctx.font = "24px 'Apple Color Emoji', 'Segoe UI Emoji', 'Noto Color Emoji', sans-serif";
  ctx.textBaseline = 'top';
  ctx.fillStyle = '#000';
  ctx.fillText(emoji, 0, 2);
  const px = ctx.getImageData(0, 0, 32, 32).data;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3]! > 0 && (px[i] !== px[i + 1] || px[i + 1] !== px[i + 2])) return true;
  }
  return false;
}

/**
 * The newest emoji version this browser draws, found by drawing one emoji of each version from the newest down (a
 * few canvas draws): the picker leaves out newer ones, which would show as blanks or boxes. Null when it cannot tell.
 */
function newestDrawn(versions: Record<string, string[]>, unicodeOf: Map<string, string>): number | null {
  for (const v of TESTED_VERSIONS) {
    const sentinel = (versions[v] ?? []).map((h) => unicodeOf.get(h)).find((u) => u !== undefined);
    if (sentinel === undefined) continue;
    const drawn = drawsInColour(sentinel);
    if (drawn === null) return null;
    if (drawn) return Number(v);
  }
  return null;
}

let loading: Promise<Catalog> | undefined;

export function loadCatalog(): Promise<Catalog> {
  loading ??= (async () => {
    const [en, zh, codes, versionsJson] = await Promise.all([
      import('emojibase-data/en/compact.json'),
      import('emojibase-data/zh/compact.json'),
      import('emojibase-data/en/shortcodes/github.json'),
      import('emojibase-data/versions/emoji.json'),
    ]);
    const versions = versionsJson.default as Record<string, string[]>;
    const versionOf = new Map<string, number>();
    for (const [v, hexes] of Object.entries(versions)) for (const h of hexes) versionOf.set(h, Number(v));
    const unicodeOf = new Map((en.default as Compact[]).map((e) => [e.hexcode, e.unicode]));
    const newest = newestDrawn(versions, unicodeOf);
    const zhByHex = new Map((zh.default as Compact[]).map((e) => [e.hexcode, e]));
    const shortcodes = codes.default as Record<string, string | string[]>;
    const emojis: CatalogEmoji[] = [];
    for (const e of en.default as Compact[]) {
      if (e.group === undefined || e.group === COMPONENT_GROUP) continue;
      if (newest !== null && (versionOf.get(e.hexcode) ?? 0) > newest) continue;
      const z = zhByHex.get(e.hexcode);
      const sc = shortcodes[e.hexcode] ?? [];
      emojis.push({
        emoji: e.unicode,
        label: e.label,
        labelZh: z?.label ?? e.label,
        group: e.group,
        order: e.order ?? 0,
        names: [e.label, z?.label ?? ''].filter(Boolean).map((x) => x.toLowerCase()),
        terms: [...(Array.isArray(sc) ? sc : [sc]), ...(e.tags ?? []), ...(z?.tags ?? [])]
          .filter(Boolean)
          .map((x) => x.toLowerCase()),
      });
    }
    emojis.sort((a, b) => a.order - b.order);
    return { emojis, byEmoji: new Map(emojis.map((e) => [e.emoji, e])) };
  })();
  // A failed load (network) may be tried again on the next open.
  loading.catch(() => (loading = undefined));
  return loading;
}

/**
 * Emojis matching `query` in English or Chinese, best first: a name that equals it, a shortcode or keyword that
 * equals it, a name that starts with it (or has a word that does), a keyword that does, then any that contains it;
 * each in emojibase order. `:tada:` and `tada` are the same query.
 */
export function searchCatalog(catalog: Catalog, query: string, limit = 200): CatalogEmoji[] {
  const q = query.trim().toLowerCase().replace(/^:|:$/g, '');
  if (!q) return [];
  const startsWord = (x: string) => x.startsWith(q) || x.includes(` ${q}`);
  const rankOf = (e: CatalogEmoji): number => {
    if (e.names.includes(q)) return 0;
    if (e.terms.includes(q)) return 1;
    if (e.names.some(startsWord)) return 2;
    if (e.terms.some(startsWord)) return 3;
    if (e.names.some((x) => x.includes(q)) || e.terms.some((x) => x.includes(q))) return 4;
    return 5;
  };
  const ranked: [number, CatalogEmoji][] = [];
  for (const e of catalog.emojis) {
    const rank = rankOf(e);
    if (rank < 5) ranked.push([rank, e]);
  }
  ranked.sort((a, b) => a[0] - b[0] || a[1].order - b[1].order);
  return ranked.slice(0, limit).map(([, e]) => e);
}

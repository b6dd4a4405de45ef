import { LINK_PREVIEW_DESCRIPTION_MAX, LINK_PREVIEW_TITLE_MAX } from '../../protocol/model.js';

/**
 * Title, description and image of an HTML page, from Open Graph (`og:*`), Twitter cards (`twitter:*`), `<title>` and
 * `<meta name="description">`: nothing else is read. The input is the first LINK_PREVIEW_MAX_BYTES of the page, so
 * this scans tags with bounded regular expressions (no nested quantifiers) instead of building a DOM; what it gets
 * wrong on odd markup is a missing or odd preview, never more (the text is plain, length-capped and escaped by the
 * client like any message text).
 */

export const PREVIEW_URL_MAX = 2048;

export interface PageMeta {
  title: string | null;
  description: string | null;
  /** Absolute http(s) URL of the preview image, or null. */
  image: string | null;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6}|#39);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '';
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}

/**
 * Plain one-line text of at most `max` characters (code points): control and bidi-override characters dropped,
 * whitespace runs collapsed, an ellipsis where it was cut. Empty becomes null.
 */
export function cleanText(s: string | null | undefined, max: number): string | null {
  if (!s) return null;
  const flat = s
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!flat) return null;
  const chars = [...flat];
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join('')}…`;
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([^\s=/"'<>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    const name = m[1]!.toLowerCase();
    if (!out.has(name)) out.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

/** An absolute http(s) URL for `ref` relative to `base`, or null. */
function absoluteHttp(ref: string | undefined, base: string): string | null {
  if (!ref) return null;
  try {
    const u = new URL(ref.trim(), base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.href.length <= PREVIEW_URL_MAX ? u.href : null;
  } catch {
    return null;
  }
}

export function parsePageMeta(html: string, pageUrl: string): PageMeta {
  // Only the head matters; stop scanning at <body> when there is one, so a long page costs nothing more.
  const bodyAt = html.search(/<body[\s>]/i);
  const head = bodyAt >= 0 ? html.slice(0, bodyAt) : html;
  const meta = new Map<string, string>();
  for (const m of head.matchAll(/<meta\b([^>]*)>/gi)) {
    const a = attributes(m[1]!);
    const key = (a.get('property') ?? a.get('name'))?.toLowerCase();
    const content = a.get('content');
    if (key && content !== undefined && !meta.has(key)) meta.set(key, content);
  }
  const titleTag = head.match(/<title\b[^>]*>([^<]*)<\/title>/i)?.[1];
  const first = (...keys: string[]) => keys.map((k) => meta.get(k)).find((v) => v !== undefined && v.trim() !== '');
  return {
    title: cleanText(
      first('og:title', 'twitter:title') ?? (titleTag && decodeEntities(titleTag)),
      LINK_PREVIEW_TITLE_MAX,
    ),
    description: cleanText(first('og:description', 'twitter:description', 'description'), LINK_PREVIEW_DESCRIPTION_MAX),
    image: absoluteHttp(
      first('og:image:secure_url', 'og:image:url', 'og:image', 'twitter:image', 'twitter:image:src'),
      pageUrl,
    ),
  };
}

/** Decodes the page with its charset (header first, then a `<meta charset>` in the first bytes), UTF-8 by default. */
export function decodeHtml(body: Buffer, headerCharset: string | null): string {
  const sniffed = body
    .subarray(0, 2048)
    .toString('latin1')
    .match(/<meta[^>]+charset\s*=\s*["']?([\w-]+)/i)?.[1];
  for (const label of [headerCharset, sniffed, 'utf-8']) {
    if (!label) continue;
    try {
      return new TextDecoder(label).decode(body);
    } catch {
      // an unknown label: try the next
    }
  }
  return body.toString('utf8');
}

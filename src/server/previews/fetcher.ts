import type { LinkPreviewFetcher } from '../../core/link-previews.js';
import { decodeHtml, parsePageMeta, PREVIEW_URL_MAX } from './html-meta.js';
import { DEFAULT_PREVIEW_PORTS, FetchRefused, safeFetch, type Resolver, type SafeFetchOptions } from './safe-fetch.js';

export interface PreviewFetcherOptions {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  /** LINK_PREVIEW_ALLOW_HOSTS: `address:port` pairs let through the address policy (tests only). */
  allow: readonly string[];
  resolve?: Resolver;
  /** Told why a link got no preview (refused or failed), for the debug log. */
  onRefused?: (url: string, reason: string) => void;
}

const HTML_TYPES = ['text/html', 'application/xhtml+xml'];
/** The image types the files service thumbnails (src/core/files/content-types.ts); it checks the bytes again. */
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/**
 * The production LinkPreviewFetcher: the page and its image through safeFetch (SSRF policy, deadline, byte cap), only
 * HTML parsed, only title, description and image URL kept; an image is read whole or not at all.
 */
export function createPreviewFetcher(o: PreviewFetcherOptions): LinkPreviewFetcher {
  const base: Omit<SafeFetchOptions, 'types' | 'overflow'> = {
    timeoutMs: o.timeoutMs,
    maxBytes: o.maxBytes,
    maxRedirects: o.maxRedirects,
    ports: DEFAULT_PREVIEW_PORTS,
    allow: new Set(o.allow),
    ...(o.resolve ? { resolve: o.resolve } : {}),
  };
  const refused = (url: string, err: unknown) => {
    if (!(err instanceof FetchRefused)) throw err;
    o.onRefused?.(url, err.reason);
    return null;
  };
  return {
    async page(url) {
      if (url.length > PREVIEW_URL_MAX) return null;
      try {
        // An HTML head is enough: past the cap the rest is dropped, not refused.
        const page = await safeFetch(url, { ...base, types: HTML_TYPES, overflow: 'truncate' });
        const meta = parsePageMeta(decodeHtml(page.body, page.charset), page.url);
        if (!meta.title && !meta.description) return null;
        return { preview: { url, title: meta.title, description: meta.description }, imageUrl: meta.image };
      } catch (err) {
        return refused(url, err);
      }
    },
    async image(url) {
      try {
        return (await safeFetch(url, { ...base, types: IMAGE_TYPES, overflow: 'refuse' })).body;
      } catch (err) {
        return refused(url, err);
      }
    },
  };
}

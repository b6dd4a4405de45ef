import type { LinkPreviewFetcher } from '../../core/link-previews.js';
import type { LinkPreview } from '../../protocol/model.js';
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

/**
 * The production LinkPreviewFetcher: the page through safeFetch (SSRF policy, deadline, byte cap), only HTML parsed,
 * only title and description kept. The page's image is not fetched yet: it needs the files service's blob store to
 * be re-served through the thumbnail path (never hot-linked); see docs/security.md.
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
  return {
    async fetch(url) {
      if (url.length > PREVIEW_URL_MAX) return null;
      try {
        // An HTML head is enough: past the cap the rest is dropped, not refused.
        const page = await safeFetch(url, { ...base, types: HTML_TYPES, overflow: 'truncate' });
        const meta = parsePageMeta(decodeHtml(page.body, page.charset), page.url);
        if (!meta.title && !meta.description) return null;
        const preview: LinkPreview = { url, title: meta.title, description: meta.description };
        return preview;
      } catch (err) {
        if (err instanceof FetchRefused) {
          o.onRefused?.(url, err.reason);
          return null;
        }
        throw err;
      }
    },
  };
}

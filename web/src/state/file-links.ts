/**
 * Signed links to files (`GET /files/:id/link`), cached until shortly before they expire, so every image,
 * player and download of a file shares one request. The session token never goes into a URL: these links carry
 * their own short-lived signature.
 */
import type { ChatApi } from '../../../src/client/api.js';

/** A link with less than this left is fetched again (a download or a player may take that long to start). */
const REFRESH_BEFORE_MS = 60_000;

export type Variant = 'original' | 'thumbnail';

interface Cached {
  url: Promise<string>;
  /** Epoch ms; Infinity while the request is in flight. */
  expiresAt: number;
}

export class FileLinks {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly api: ChatApi) {}

  /** A working URL for the file (fresh if the cached one is about to expire). */
  get(id: string, variant: Variant = 'original'): Promise<string> {
    const key = `${variant}:${id}`;
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt - Date.now() > REFRESH_BEFORE_MS) return hit.url;
    const entry: Cached = { url: Promise.resolve(''), expiresAt: Infinity };
    entry.url = this.api.fileLink(id, variant).then(
      (link) => {
        entry.expiresAt = Date.parse(link.expiresAt) || 0;
        return new URL(link.url, this.api.baseUrl).href;
      },
      (err: unknown) => {
        if (this.cache.get(key) === entry) this.cache.delete(key);
        throw err;
      },
    );
    this.cache.set(key, entry);
    return entry.url;
  }

  /** Forgets a link that stopped working (a player's error), so the next `get` asks again. */
  drop(id: string, variant: Variant = 'original'): void {
    this.cache.delete(`${variant}:${id}`);
  }

  clear(): void {
    this.cache.clear();
  }
}

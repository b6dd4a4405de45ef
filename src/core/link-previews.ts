import type { FileInfo, LinkPreview, RoomEvent } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import type { DomainContext } from './context.js';
import type { RoomService } from './rooms.js';
import type { AfterCommitHook } from './send/pipeline.js';

/** What a page says of itself: a preview's text, and where its image is (an absolute http(s) URL), if anywhere. */
export interface FetchedPage {
  preview: Omit<LinkPreview, 'image'>;
  imageUrl: string | null;
}

/**
 * Fetches what a link points at, under the SSRF policy (src/server/previews/): a port, so the domain never does
 * network I/O itself. Resolves null when there is nothing to show (refused, failed, not HTML / not an image, no title
 * or description, over the byte cap); never rejects for a bad page.
 */
export interface LinkPreviewFetcher {
  page(url: string): Promise<FetchedPage | null>;
  /** The bytes of an image (PNG, JPEG, GIF or WebP by its Content-Type), whole and within the byte cap, or null. */
  image(url: string): Promise<Uint8Array | null>;
}

/**
 * Keeps a preview image as a file of the message's author, typed and thumbnailed by the files service (magic bytes,
 * bomb limits, metadata stripped); null when the bytes are not an image it can thumbnail.
 */
export interface PreviewImageStore {
  store(owner: AuthContext, bytes: Uint8Array): Promise<FileInfo | null>;
}

export interface LinkPreviewOptions {
  /** Fetches in flight per node; a message whose link finds them all busy gets no preview (LINK_PREVIEW_CONCURRENCY). */
  concurrency: number;
  onError?: (err: unknown) => void;
}

/** Full-width punctuation ends a link in CJK text, where no space follows it. */
const LINK = /\bhttps?:\/\/[^\s<>"'`\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\u2018-\u201f]+/i;

/** The first http(s) link of a message body, without the punctuation a sentence puts after it; null when none. */
export function firstLink(body: string | null): string | null {
  if (!body) return null;
  const m = LINK.exec(body);
  if (!m) return null;
  let url = m[0];
  // A trailing ')' belongs to the link only when it closes a '(' inside it (Wikipedia-style paths).
  for (;;) {
    const last = url.at(-1)!;
    if ('.,;:!?\'"]}>'.includes(last)) url = url.slice(0, -1);
    else if (last === ')' && (url.match(/\(/g)?.length ?? 0) < (url.match(/\)/g)?.length ?? 0)) url = url.slice(0, -1);
    else break;
  }
  return url.length > 'http://'.length ? url : null;
}

/**
 * Link previews: after a message is stored, its first link is fetched in the background (never on the send path:
 * the ack does not wait) and the result is stored with the message and announced as a `message.preview` event on the
 * room sequence, so live clients get it at once and a client that reconnects gets it on resume. Off server-wide when
 * there is no fetcher (LINK_PREVIEWS=off), per room by `settings.linkPreviews`.
 */
export class LinkPreviewService {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Fetches started, and skipped because all slots were busy: for tests and metrics. */
  readonly stats = { started: 0, skippedBusy: 0, stored: 0 };

  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
    private readonly fetcher: LinkPreviewFetcher | null,
    private readonly opts: LinkPreviewOptions,
    /** Where preview images go (the files service); null: previews without images. */
    private readonly images: PreviewImageStore | null = null,
  ) {}

  /** The after-commit hook: starts a preview for a newly stored message with a link, in a room that wants them. */
  hook(): AfterCommitHook {
    return {
      name: 'link preview',
      run: (draft, { event, duplicate }) => {
        if (duplicate || !this.fetcher || this.closed) return;
        if (draft.room && !draft.room.settings.linkPreviews) return;
        const url = firstLink(event.body);
        if (url) this.start(draft.auth, event, url);
      },
    };
  }

  private start(author: AuthContext, message: RoomEvent, url: string): void {
    if (this.inFlight.size >= this.opts.concurrency) {
      this.stats.skippedBusy++;
      return;
    }
    this.stats.started++;
    const task = this.preview(author, message, url)
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async preview(author: AuthContext, message: RoomEvent, url: string): Promise<void> {
    const page = await this.fetcher!.page(url);
    if (!page || this.closed) return;
    let preview: LinkPreview = page.preview;
    // The image is fetched once, here, and re-served from our files (thumbnail variant): never hot-linked.
    if (page.imageUrl && this.images) {
      const bytes = await this.fetcher!.image(page.imageUrl);
      const image = bytes && !this.closed ? await this.images.store(author, bytes).catch(() => null) : null;
      if (image) preview = { ...preview, image };
    }
    if (this.closed) return;
    const event = await this.ctx.store.setLinkPreview(message.roomId, message.seq, preview);
    if (!event) return;
    this.stats.stored++;
    await this.rooms.publish([event]);
  }

  /** Stops starting fetches and waits for those in flight (each is bounded by LINK_PREVIEW_TIMEOUT_MS). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }
}

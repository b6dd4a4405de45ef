import { useEffect, useState } from 'preact/hooks';
import type { LinkPreview } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { useChat } from './context.js';

/** The host a preview names, shown above its title (the URL itself is in the message text). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/**
 * The server's preview of a message's first link (title and description, from `message.preview`): a small card that
 * opens the link in a new tab, without sending our page as the referrer. The text is the server's plain text; Preact
 * escapes it. The image is the server's copy (fetched once, a file the room may read), shown through a short-lived
 * signed thumbnail link; the page's own image URL is never loaded from here (that would tell the site who reads the
 * room).
 */
export function LinkPreviewCard({ preview }: { preview: LinkPreview }) {
  const host = hostOf(preview.url);
  const chat = useChat();
  const imageId = preview.image?.id;
  const [thumb, setThumb] = useState<string | null>(null);
  useEffect(() => {
    if (!imageId) return;
    let live = true;
    // No thumbnail (an error, a file gone): the card just has no picture.
    chat.api.fileLink(imageId, 'thumbnail').then(
      (l) => live && setThumb(l.url),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [imageId]);
  return (
    <a
      class="link-preview"
      href={preview.url}
      target="_blank"
      rel="noopener noreferrer nofollow"
      aria-label={t('message.linkPreview', { host, title: preview.title ?? preview.description ?? '' })}
    >
      {thumb && <img class="link-preview-image" src={thumb} alt="" loading="lazy" />}
      {host && <span class="link-preview-host">{host}</span>}
      {preview.title && (
        <strong class="link-preview-title" dir="auto">
          {preview.title}
        </strong>
      )}
      {preview.description && (
        <span class="link-preview-desc" dir="auto">
          {preview.description}
        </span>
      )}
    </a>
  );
}

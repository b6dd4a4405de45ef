import type { LinkPreview } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';

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
 * escapes it. No image: the server does not fetch the page's image yet, and a page's own image URL is never loaded
 * from here (that would tell the site who reads the room).
 */
export function LinkPreviewCard({ preview }: { preview: LinkPreview }) {
  const host = hostOf(preview.url);
  return (
    <a
      class="link-preview"
      href={preview.url}
      target="_blank"
      rel="noopener noreferrer nofollow"
      aria-label={t('message.linkPreview', { host, title: preview.title ?? preview.description ?? '' })}
    >
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

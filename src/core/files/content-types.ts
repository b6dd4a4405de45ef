/** Images the server decodes: dimensions, thumbnail, metadata stripped by re-encoding. */
export const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * Types served inline (`Content-Disposition: inline`): media a browser only renders, which cannot run script in
 * our origin. Everything else is an attachment; SVG and HTML never appear here (they can carry script).
 */
export const INLINE_TYPES = new Set([
  ...IMAGE_TYPES,
  'audio/mpeg',
  'audio/ogg',
  'audio/opus',
  'audio/wav',
  'audio/webm',
  'audio/mp4',
  'audio/aac',
  'audio/flac',
  'video/mp4',
  'video/webm',
  'video/ogg',
]);

/** Detected types that are markup or script a browser might run: served as application/octet-stream. */
const ACTIVE =
  /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/javascript)/;

/** The Content-Type a download is served with: the detected type, or octet-stream for active content. */
export function servedType(contentType: string): string {
  return ACTIVE.test(contentType) ? 'application/octet-stream' : contentType;
}

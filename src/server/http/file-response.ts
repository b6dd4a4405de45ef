import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import type { FileContent, FileService } from '../../core/files/file-service.js';
import { INLINE_TYPES, servedType } from '../../core/files/content-types.js';

/**
 * The Content-Security-Policy of every file response: nothing loads or runs, and `sandbox` gives the document a
 * unique opaque origin, so even a file a browser renders (an image opened in its own tab) cannot act as our origin.
 */
export const FILE_CSP =
  "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/** A single `bytes=` range of a `size`-byte body: the range, 'unsatisfiable', or null to serve it whole. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges (multipart/byteranges) or another unit: RFC 9110 lets us answer with the whole body.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** `attachment`/`inline` with the name in both forms (ASCII fallback, RFC 5987 UTF-8). */
function disposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Sends a file's bytes with the headers that keep it inert: `nosniff`, the sandboxing CSP, `inline` only for images,
 * audio and video (everything else, SVG and HTML above all, is an `attachment`, and markup is sent as
 * application/octet-stream), a strong ETag (the content's SHA-256) honoured by If-None-Match, and single byte ranges.
 */
export async function sendFile(
  files: FileService,
  req: FastifyRequest,
  reply: FastifyReply,
  content: FileContent,
  cacheControl: string,
  variant: 'original' | 'thumbnail',
): Promise<FastifyReply> {
  const etag = `"${content.sha256}"`;
  const inline = INLINE_TYPES.has(content.contentType);
  const name = variant === 'thumbnail' ? `${content.file.name}.thumbnail.webp` : content.file.name;
  void reply
    .header('etag', etag)
    .header('cache-control', cacheControl)
    .header('accept-ranges', 'bytes')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', FILE_CSP)
    .header('cross-origin-resource-policy', 'same-origin')
    .header('content-disposition', disposition(inline ? 'inline' : 'attachment', name))
    .header('content-type', inline ? content.contentType : servedType(content.contentType));
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return reply.status(304).send();
  // If-Range with another validator: the file changed for the client, so it gets all of it.
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, content.size);
  if (range === 'unsatisfiable') {
    return reply
      .status(416)
      .header('content-range', `bytes */${content.size}`)
      .header('content-type', 'text/plain')
      .send('');
  }
  if (range) {
    const stream = await files.bytes(content, range);
    return reply
      .status(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${content.size}`)
      .header('content-length', range.end - range.start + 1)
      .send(Readable.from(stream, { objectMode: false }));
  }
  const stream = await files.bytes(content);
  return reply
    .status(200)
    .header('content-length', content.size)
    .send(Readable.from(stream, { objectMode: false }));
}

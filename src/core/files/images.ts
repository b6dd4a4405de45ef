import sharp, { type SharpOptions } from 'sharp';
import { ChatError } from '../chat-error.js';

/** Thumbnails fit in this square (pixels), as WebP. */
export const THUMB_EDGE = 320;

export interface ProcessedImage {
  width: number;
  height: number;
  /** The re-encoded original (metadata — EXIF location among it — dropped), written to `out`. */
  out: string;
  thumbnail: Buffer;
}

/**
 * Decodes an uploaded image with sharp (libvips) under the decompression-bomb limits: `limitInputPixels` refuses a
 * header declaring more than `maxPixels` before any pixel is decoded, and `failOn: 'error'` refuses corrupt data
 * instead of decoding what it can. Writes the image re-encoded in its own format (sharp writes no metadata unless
 * asked, so EXIF, XMP and GPS go; a JPEG is first turned upright by its EXIF orientation) and returns a thumbnail.
 * Anything sharp refuses becomes `image_rejected`.
 */
export async function processImage(
  input: string,
  out: string,
  contentType: string,
  maxPixels: number,
): Promise<ProcessedImage> {
  const animated = contentType === 'image/gif' || contentType === 'image/webp';
  const opts: SharpOptions = { limitInputPixels: maxPixels, failOn: 'error', animated, sequentialRead: true };
  try {
    const meta = await sharp(input, opts).metadata();
    if (!meta.width || !meta.height) throw new ChatError('image_rejected');
    // An animation's frames are stacked: one frame is pageHeight tall.
    const height = meta.pageHeight ?? meta.height;
    let pipeline = sharp(input, opts);
    if (contentType === 'image/jpeg') pipeline = pipeline.rotate().jpeg({ quality: 90, mozjpeg: true });
    else if (contentType === 'image/png') pipeline = pipeline.png();
    else if (contentType === 'image/gif') pipeline = pipeline.gif();
    else pipeline = pipeline.webp({ quality: 90 });
    const info = await pipeline.toFile(out);
    const thumbnail = await sharp(out, { limitInputPixels: maxPixels, failOn: 'error' })
      .resize(THUMB_EDGE, THUMB_EDGE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    // A JPEG turned upright may have swapped sides: its output says; animations keep one frame's height.
    return contentType === 'image/jpeg'
      ? { width: info.width, height: info.height, out, thumbnail }
      : { width: meta.width, height, out, thumbnail };
  } catch (err) {
    if (err instanceof ChatError) throw err;
    throw new ChatError('image_rejected', {
      message: `The image was refused: ${err instanceof Error ? err.message.slice(0, 160) : 'undecodable'}.`,
    });
  }
}

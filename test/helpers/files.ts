import { request } from 'node:http';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { FileInfo } from '../../src/protocol/model.js';

/** Uploads `bytes` as multipart field `file` (or `field`) with the given name and declared type. */
export async function upload(
  url: string,
  token: string,
  bytes: Uint8Array,
  name = 'file.bin',
  type = 'application/octet-stream',
  field = 'file',
): Promise<{ status: number; body: { file: FileInfo } & { error?: { code: string; message: string } } }> {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(bytes)], { type }), name);
  const res = await fetch(`${url}/api/v1/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as never };
}

/** `GET path` with the bearer token (when given) and extra headers; the body as bytes. */
export async function getBytes(
  url: string,
  path: string,
  token?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(`${url}${path}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A signed link to a file (`GET …/link`). */
export async function linkOf(
  url: string,
  token: string,
  id: string,
  variant: 'original' | 'thumbnail' = 'original',
): Promise<{ status: number; body: { url: string; expiresAt: string; error?: { code: string } } }> {
  const res = await fetch(`${url}/api/v1/files/${id}/link?variant=${variant}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as never };
}

/** A real PNG of w×h pixels (a gradient, so it does not compress to nothing). */
export async function pngOf(w: number, h: number, opts: { gps?: boolean } = {}): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) % 251;
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  return opts.gps
    ? img
        .withExif({ IFD0: { Artist: 'Test Artist' } })
        .png()
        .toBuffer()
    : img.png().toBuffer();
}

/** A JPEG carrying EXIF GPS coordinates (and a camera model): what a phone photo looks like. */
export async function jpegWithGps(w: number, h: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3, 120);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .withExif({
      IFD0: { Make: 'PhoneCo', Model: 'Phone 9' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 31/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '13/1 24/1 0/1' },
    })
    .jpeg()
    .toBuffer();
}

/** A tiny PNG whose header declares w×h pixels (a decompression bomb's signature; the data is one empty row). */
export function pngDeclaring(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + Math.min(w, 1024)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Starts a multipart upload with a raw HTTP request, sends `sendBytes` of a file declared much larger, then destroys
 * the socket mid-body once `beforeCut` resolves (e.g. once the server has spooled what arrived): a client that went
 * away. Resolves once the socket is closed.
 */
export function abortedUpload(
  url: string,
  token: string,
  sendBytes: number,
  beforeCut: () => Promise<unknown>,
): Promise<void> {
  const u = new URL(url);
  const boundary = '----relaychat-test-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  return new Promise((resolve) => {
    const req = request({
      host: u.hostname,
      port: u.port,
      method: 'POST',
      path: '/api/v1/files',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + sendBytes * 4),
      },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(head);
    req.write(Buffer.alloc(sendBytes, 0x61), () => {
      void beforeCut().finally(() => req.destroy());
    });
  });
}

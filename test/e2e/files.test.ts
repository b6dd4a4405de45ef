import { createHmac } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/files/file-service.js';
import type { RoomEvent } from '../../src/protocol/model.js';
import { backend, registerUser, startServer, waitFor, type TestServer } from '../helpers/harness.js';
import { live } from '../helpers/moderation-kit.js';
import { abortedUpload, getBytes, jpegWithGps, linkOf, pngDeclaring, pngOf, upload } from '../helpers/files.js';

/**
 * Issue 15, files end to end on the backend under test (embedded: blobs under DATA_DIR; cluster: PostgreSQL):
 * uploads streamed under the size limit, the quota and the rate, types from magic bytes, images decoded under
 * bomb limits without their metadata, downloads with Range/ETag/nosniff/CSP, signed links, attachments, collection.
 */

/** Regular files in a directory tree (none when it does not exist). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile());
}

/** The blobs the server holds, as the backend sees them (digests), plus unfinished pieces (temp files, loose chunks). */
async function storedBlobs(srv: TestServer): Promise<{ blobs: string[]; partial: number }> {
  if (backend === 'cluster') {
    const c = new pg.Client({ connectionString: srv.config.databaseUrl });
    await c.connect();
    try {
      const blobs = (await c.query<{ sha256: string }>('SELECT sha256 FROM blobs ORDER BY sha256')).rows;
      const loose = await c.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM blob_chunks WHERE blob NOT IN (SELECT sha256 FROM blobs)',
      );
      return { blobs: blobs.map((r) => r.sha256), partial: loose.rows[0]!.n };
    } finally {
      await c.end();
    }
  }
  const all = filesUnder(join(srv.dataDir, 'blobs'));
  return {
    blobs: all.filter((p) => !p.startsWith('tmp')).map((p) => p.split('/').pop()!),
    partial: all.filter((p) => p.startsWith('tmp')).length,
  };
}

const spooled = (srv: TestServer) => filesUnder(join(srv.dataDir, 'uploads-tmp'));

async function post(url: string, token: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  // The answers' shapes vary by route; tests read the fields they check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, any> };
}

let msgCounter = 0;
const sendWith = (url: string, token: string, roomId: string, body: string, attachments?: unknown) =>
  post(url, token, `/api/v1/rooms/${roomId}/messages`, {
    body,
    clientMsgId: `fm-${++msgCounter}`,
    ...(attachments !== undefined ? { attachments } : {}),
  });

describe('file uploads', () => {
  it('a PNG uploads with its detected type and size, downloads byte for byte with nosniff, CSP and an ETag', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const png = await pngOf(64, 48);
    const r = await upload(srv.url, alice.token, png, 'picture.png', 'image/png');
    expect(r.status).toBe(201);
    expect(r.body.file).toMatchObject({ name: 'picture.png', contentType: 'image/png', width: 64, height: 48 });
    expect(r.body.file.id).toMatch(/^f_/);

    const got = await getBytes(srv.url, `/api/v1/files/${r.body.file.id}`, alice.token);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toContain('sandbox');
    expect(got.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(got.bytes.length).toBe(r.body.file.size);
    expect((await sharp(got.bytes).metadata()).width).toBe(64);
    expect(got.headers.get('etag')).toBe(`"${sha256Hex(got.bytes)}"`);
    // The thumbnail: WebP, inside 320×320.
    const thumb = await getBytes(srv.url, `/api/v1/files/${r.body.file.id}?variant=thumbnail`, alice.token);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(thumb.bytes).metadata()).format).toBe('webp');
    // Info, and the errors of the route: no token, not multipart, no `file` field.
    expect((await getBytes(srv.url, `/api/v1/files/${r.body.file.id}/info`, alice.token)).bytes.toString()).toBe(
      JSON.stringify({ file: r.body.file }),
    );
    expect((await upload(srv.url, 'nope', png)).status).toBe(401);
    const json = await post(srv.url, alice.token, '/api/v1/files', { file: 'x' });
    expect([json.status, json.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const wrongField = await upload(srv.url, alice.token, png, 'a.png', 'image/png', 'attachment');
    expect([wrongField.status, wrongField.body.error?.code]).toEqual([400, 'validation_failed']);
  });

  it('the type comes from the bytes: a PNG named .txt is an image, HTML and SVG named .png sent as image/png are not', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const png = await upload(srv.url, alice.token, await pngOf(8, 8), 'notes.txt', 'text/plain');
    expect(png.body.file).toMatchObject({ name: 'notes.txt', contentType: 'image/png', width: 8, height: 8 });

    const html = '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>';
    const h = await upload(srv.url, alice.token, Buffer.from(html), 'cat.png', 'image/png');
    expect(h.status).toBe(201);
    expect(h.body.file.contentType).toBe('application/octet-stream');
    expect(h.body.file.width).toBeUndefined();
    const svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>';
    const v = await upload(srv.url, alice.token, Buffer.from(svg), 'logo.png', 'image/png');
    expect(v.body.file.contentType).toBe('application/xml');
    for (const id of [h.body.file.id, v.body.file.id]) {
      const got = await getBytes(srv.url, `/api/v1/files/${id}`, alice.token);
      // Never a type a browser would render as a document from our origin, and always a download.
      expect(got.headers.get('content-type')).toBe('application/octet-stream');
      expect(got.headers.get('content-disposition')).toMatch(/^attachment;/);
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');
      expect(got.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
    }
    // The original bytes come back unchanged (only images are re-encoded).
    expect((await getBytes(srv.url, `/api/v1/files/${h.body.file.id}`, alice.token)).bytes.toString()).toBe(html);
    // No thumbnail for what is not an image.
    expect((await linkOf(srv.url, alice.token, h.body.file.id, 'thumbnail')).status).toBe(404);
  });

  it('names are cleaned of path tricks, control and bidi characters, and cut when overlong', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const cases: [string, string | RegExp][] = [
      ['../../../etc/passwd', 'passwd'],
      ['..\\..\\windows\\system32\\evil.dll', 'evil.dll'],
      ['..', 'file'],
      ['report\u202Efdp.exe', 'reportfdp.exe'],
      ['a\u0000b\u0007c\u001b[31m\u0085.txt', 'abc[31m.txt'],
      ['  .hidden. ', 'hidden'],
      ['what?<is>this|file:.txt', 'what__is_this_file_.txt'],
      [`${'x'.repeat(1000)}.png`, /^x{196}\.png$/],
      ['照片 2026.jpg', '照片 2026.jpg'],
    ];
    for (const [raw, want] of cases) {
      const r = await upload(srv.url, alice.token, Buffer.from(`content of ${raw}`), raw);
      expect(r.status, raw).toBe(201);
      if (typeof want === 'string') expect(r.body.file.name, raw).toBe(want);
      else expect(r.body.file.name, raw).toMatch(want);
    }
    // Whatever the names said, the bytes live only under their digests.
    const stored = await storedBlobs(srv);
    expect(stored.blobs.every((b) => /^[0-9a-f]{64}$/.test(b))).toBe(true);
    expect(stored.blobs).toHaveLength(cases.length);
  });

  it('over MAX_UPLOAD_BYTES: 413 file_too_large, counted while streaming; nothing is kept', async () => {
    const srv = await startServer({ maxUploadBytes: 100_000 });
    const alice = await registerUser(srv.url);
    const exact = await upload(srv.url, alice.token, Buffer.alloc(100_000, 1), 'exact.bin');
    expect(exact.status).toBe(201);
    const over = await upload(srv.url, alice.token, Buffer.alloc(100_001, 2), 'over.bin');
    expect([over.status, over.body.error?.code]).toEqual([413, 'file_too_large']);
    const big = await upload(srv.url, alice.token, Buffer.alloc(3_000_000, 3), 'big.bin');
    expect([big.status, big.body.error?.code]).toEqual([413, 'file_too_large']);
    expect((await storedBlobs(srv)).blobs).toEqual([sha256Hex(Buffer.alloc(100_000, 1))]);
    await waitFor(() => spooled(srv).length === 0, 5000, 'spool emptied');
    expect(await srv.server.ports.store.fileUsage(alice.user.id)).toBe(100_000);
  });

  it('over UPLOAD_QUOTA_BYTES: 413 quota_exceeded (before reading, when the quota is full); others are not affected', async () => {
    const srv = await startServer({ uploadQuotaBytes: 250_000 });
    const [alice, bob] = await Promise.all([registerUser(srv.url), registerUser(srv.url)]);
    expect((await upload(srv.url, alice.token, Buffer.alloc(100_000, 1))).status).toBe(201);
    expect((await upload(srv.url, alice.token, Buffer.alloc(100_000, 2))).status).toBe(201);
    const third = await upload(srv.url, alice.token, Buffer.alloc(100_000, 3));
    expect([third.status, third.body.error?.code]).toEqual([413, 'quota_exceeded']);
    // What still fits does.
    expect((await upload(srv.url, alice.token, Buffer.alloc(50_000, 4))).status).toBe(201);
    const full = await upload(srv.url, alice.token, Buffer.alloc(10, 5));
    expect([full.status, full.body.error?.code]).toEqual([413, 'quota_exceeded']);
    expect(await srv.server.ports.store.fileUsage(alice.user.id)).toBe(250_000);
    expect((await upload(srv.url, bob.token, Buffer.alloc(200_000, 6))).status).toBe(201);
  });

  it('UPLOADS_PER_MINUTE: the next upload is 429 rate_limited with retryAfterMs', async () => {
    const srv = await startServer({ uploadsPerMinute: 2 });
    const alice = await registerUser(srv.url);
    expect((await upload(srv.url, alice.token, Buffer.from('one'))).status).toBe(201);
    expect((await upload(srv.url, alice.token, Buffer.from('two'))).status).toBe(201);
    const third = await upload(srv.url, alice.token, Buffer.from('three'));
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: 'rate_limited', retryable: true });
  });

  it('an upload cut mid-stream leaves nothing: no file, no blob, no spool or temp file; the server carries on', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    // Cut once the server has spooled part of the body (a positive marker, not a sleep).
    await abortedUpload(srv.url, alice.token, 2_000_000, () =>
      waitFor(
        () => spooled(srv).some((f) => statSync(join(srv.dataDir, 'uploads-tmp', f)).size > 0),
        10_000,
        'part of the upload spooled',
      ),
    );
    await waitFor(() => spooled(srv).length === 0, 10_000, 'the spool file of the cut upload deleted');
    expect(await storedBlobs(srv)).toEqual({ blobs: [], partial: 0 });
    expect(await srv.server.ports.store.fileUsage(alice.user.id)).toBe(0);
    const next = await upload(srv.url, alice.token, Buffer.from('after the cut'), 'ok.txt');
    expect(next.status).toBe(201);
  });

  it('a malformed multipart body is 400 validation_failed, not a server error; nothing is kept', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const raw = (body: string, boundary = 'fuzz') =>
      fetch(`${srv.url}/api/v1/files`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice.token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
        },
        body,
      }).then(async (r) => [r.status, ((await r.json()) as { error?: { code?: string } }).error?.code]);
    // No boundary line at all (what the fuzzer sent).
    expect(await raw('=_F@np(7#')).toEqual([400, 'validation_failed']);
    // A part header that never ends.
    expect(await raw('--fuzz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"')).toEqual([
      400,
      'validation_failed',
    ]);
    // The file's bytes start, then the body ends without the closing boundary.
    const cut = '--fuzz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n' + 'x'.repeat(5000);
    expect(await raw(cut)).toEqual([400, 'validation_failed']);
    await waitFor(() => spooled(srv).length === 0, 10_000, 'no spool file left');
    expect(await storedBlobs(srv)).toEqual({ blobs: [], partial: 0 });
    expect(await srv.server.ports.store.fileUsage(alice.user.id)).toBe(0);
    expect((await upload(srv.url, alice.token, Buffer.from('still fine'), 'ok.txt')).status).toBe(201);
    // The avatar routes read forms the same way.
    const avatar = await fetch(`${srv.url}/api/v1/me/avatar`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'multipart/form-data; boundary=fuzz' },
      body: cut,
    });
    expect([avatar.status, ((await avatar.json()) as { error?: { code?: string } }).error?.code]).toEqual([
      400,
      'validation_failed',
    ]);
  });

  it('a form sent to a JSON route is 415, not taken as an empty body', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const room = await alice.api.createRoom(`form${Date.now()}`);
    const res = await fetch(`${srv.url}/api/v1/rooms/${room.id}/read`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'multipart/form-data; boundary=fuzz' },
      body: '--fuzz--',
    });
    expect([res.status, ((await res.json()) as { error?: { code?: string } }).error?.code]).toEqual([
      415,
      'unsupported_media_type',
    ]);
  });

  it('the same content uploaded concurrently: one blob, one file record per upload, all readable', async () => {
    const srv = await startServer();
    const [alice, bob] = await Promise.all([registerUser(srv.url), registerUser(srv.url)]);
    const bytes = Buffer.alloc(400_000, 7);
    const results = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => upload(srv.url, alice.token, bytes, `a${i}.bin`)),
      upload(srv.url, bob.token, bytes, 'b.bin'),
    ]);
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.file.id)).size).toBe(5);
    expect(await storedBlobs(srv)).toEqual({ blobs: [sha256Hex(bytes)], partial: 0 });
    for (const [i, r] of results.entries()) {
      const token = i < 4 ? alice.token : bob.token;
      const got = await getBytes(srv.url, `/api/v1/files/${r.body.file.id}`, token);
      expect(got.bytes.equals(bytes)).toBe(true);
    }
    // Each upload counts against its uploader's quota.
    expect(await srv.server.ports.store.fileUsage(alice.user.id)).toBe(4 * bytes.length);
  });
});

describe('images', () => {
  it('a decompression bomb (a tiny PNG declaring 100000×100000) is refused before decoding: 422 image_rejected', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bomb = pngDeclaring(100_000, 100_000);
    expect(bomb.length).toBeLessThan(2000);
    const r = await upload(srv.url, alice.token, bomb, 'bomb.png', 'image/png');
    expect([r.status, r.body.error?.code]).toEqual([422, 'image_rejected']);
    // Under a lower MAX_IMAGE_PIXELS an ordinary picture is refused the same way.
    const small = await startServer({ maxImagePixels: 1000 });
    const bob = await registerUser(small.url);
    const big = await upload(small.url, bob.token, await pngOf(40, 40), 'a.png');
    expect([big.status, big.body.error?.code]).toEqual([422, 'image_rejected']);
    // A corrupt image (its data cut short) is refused too, rather than half-decoded.
    const png = await pngOf(50, 50);
    const cut = await upload(srv.url, alice.token, png.subarray(0, png.length - 40), 'cut.png');
    expect([cut.status, cut.body.error?.code]).toEqual([422, 'image_rejected']);
    expect(await srv.server.ports.store.fileUsage(alice.user.id)).toBe(0);
    await waitFor(() => spooled(srv).length === 0, 5000, 'spool emptied');
  });

  it('EXIF (GPS location, camera) is stripped from a JPEG; dimensions and a thumbnail come with it', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const jpeg = await jpegWithGps(400, 300);
    expect((await sharp(jpeg).metadata()).exif?.length ?? 0).toBeGreaterThan(0);
    const r = await upload(srv.url, alice.token, jpeg, 'IMG_0001.JPG', 'image/jpeg');
    expect(r.body.file).toMatchObject({ contentType: 'image/jpeg', width: 400, height: 300 });
    const got = await getBytes(srv.url, `/api/v1/files/${r.body.file.id}`, alice.token);
    const meta = await sharp(got.bytes).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    expect(got.bytes.includes(Buffer.from('PhoneCo'))).toBe(false);
    const link = await linkOf(srv.url, alice.token, r.body.file.id, 'thumbnail');
    const thumb = await getBytes(srv.url, link.body.url);
    const t = await sharp(thumb.bytes).metadata();
    expect([t.format, t.width, t.height]).toEqual(['webp', 320, 240]);
  });
});

describe('downloads', () => {
  it('Range requests: single ranges, suffixes, open ends, 416 past the end, several ranges as the whole file', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const { id } = (await upload(srv.url, alice.token, bytes, 'r.bin')).body.file;
    const path = `/api/v1/files/${id}`;
    const range = (r: string) => getBytes(srv.url, path, alice.token, { range: r });
    const a = await range('bytes=0-9');
    expect([a.status, a.headers.get('content-range'), a.bytes.equals(bytes.subarray(0, 10))]).toEqual([
      206,
      'bytes 0-9/1000',
      true,
    ]);
    const b = await range('bytes=990-');
    expect([b.status, b.headers.get('content-range'), b.bytes.equals(bytes.subarray(990))]).toEqual([
      206,
      'bytes 990-999/1000',
      true,
    ]);
    const c = await range('bytes=-5');
    expect([c.status, c.bytes.equals(bytes.subarray(995))]).toEqual([206, true]);
    const d = await range('bytes=500-5000');
    expect([d.status, d.headers.get('content-range'), d.bytes.length]).toEqual([206, 'bytes 500-999/1000', 500]);
    const e = await range('bytes=1000-');
    expect([e.status, e.headers.get('content-range')]).toEqual([416, 'bytes */1000']);
    const f = await range('bytes=0-1,5-6');
    expect([f.status, f.bytes.length]).toEqual([200, 1000]);
    expect(a.headers.get('accept-ranges')).toBe('bytes');
    // If-Range with another validator: the whole file.
    const g = await getBytes(srv.url, path, alice.token, { range: 'bytes=0-9', 'if-range': '"other"' });
    expect([g.status, g.bytes.length]).toEqual([200, 1000]);
  });

  it('ETag and If-None-Match: 304 without a body; another tag gets the bytes', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bytes = Buffer.from('cache me if you can');
    const { id } = (await upload(srv.url, alice.token, bytes, 'c.txt')).body.file;
    const first = await getBytes(srv.url, `/api/v1/files/${id}`, alice.token);
    const etag = first.headers.get('etag')!;
    expect(etag).toBe(`"${sha256Hex(bytes)}"`);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    const again = await getBytes(srv.url, `/api/v1/files/${id}`, alice.token, { 'if-none-match': etag });
    expect([again.status, again.bytes.length]).toEqual([304, 0]);
    const other = await getBytes(srv.url, `/api/v1/files/${id}`, alice.token, { 'if-none-match': '"nope", W/"x"' });
    expect([other.status, other.bytes.toString()]).toEqual([200, 'cache me if you can']);
  });

  it('signed links work without a token until they expire; a changed or forged link is 403', async () => {
    const secret = 'k'.repeat(40);
    const srv = await startServer({ fileUrlSecret: secret, fileUrlTtlSeconds: 60 });
    const alice = await registerUser(srv.url);
    const bytes = Buffer.from('signed content');
    const { id } = (await upload(srv.url, alice.token, bytes, 's.txt')).body.file;
    const link = await linkOf(srv.url, alice.token, id);
    expect(link.status).toBe(200);
    expect(link.body.url).toMatch(new RegExp(`^/api/v1/files/${id}/content\\?variant=original&expires=\\d+&sig=`));
    expect(link.body.url).not.toContain(alice.token);
    const left = Date.parse(link.body.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(50_000);
    expect(left).toBeLessThanOrEqual(61_000);
    const got = await getBytes(srv.url, link.body.url);
    expect([got.status, got.bytes.toString()]).toEqual([200, 'signed content']);
    expect(got.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    expect(got.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect((await getBytes(srv.url, link.body.url, undefined, { range: 'bytes=0-5' })).bytes.toString()).toBe('signed');

    const u = new URL(link.body.url, srv.url);
    const q = (patch: Record<string, string>) => {
      const p = new URLSearchParams(u.search);
      for (const [k, v] of Object.entries(patch)) p.set(k, v);
      return `${u.pathname}?${p.toString()}`;
    };
    const sig = u.searchParams.get('sig')!;
    const expires = u.searchParams.get('expires')!;
    const tampered = [
      q({ expires: String(Number(expires) + 3600_000) }), // a longer life
      q({ sig: sig.slice(0, -2) + (sig.endsWith('AA') ? 'BB' : 'AA') }), // another signature
      q({ variant: 'thumbnail' }), // another variant
      link.body.url.replace(id, `${id.slice(0, -1)}${id.endsWith('a') ? 'b' : 'a'}`), // another file
    ];
    for (const t of tampered) {
      const r = await getBytes(srv.url, t);
      expect(r.status, t).toBe(403);
      expect(JSON.parse(r.bytes.toString()).error.code).toBe('forbidden');
    }
    // A link signed with the server's key but past its time: expired (the key is configured, so we can sign).
    const past = Date.now() - 1000;
    const oldSig = createHmac('sha256', secret).update(`file-link\n${id}\noriginal\n${past}`).digest('base64url');
    const expired = await getBytes(
      srv.url,
      `/api/v1/files/${id}/content?variant=original&expires=${past}&sig=${oldSig}`,
    );
    expect(expired.status).toBe(403);
    expect(JSON.parse(expired.bytes.toString()).error.message).toMatch(/expired/);
    // The same recipe with a future time is accepted: the test signs as the server does.
    const future = Date.now() + 30_000;
    const goodSig = createHmac('sha256', secret).update(`file-link\n${id}\noriginal\n${future}`).digest('base64url');
    expect(
      (await getBytes(srv.url, `/api/v1/files/${id}/content?variant=original&expires=${future}&sig=${goodSig}`)).status,
    ).toBe(200);
  });

  it('without FILE_URL_SECRET the signing key is kept in the database: links survive a restart', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const { id } = (await upload(srv.url, alice.token, Buffer.from('persisted key'), 'p.txt')).body.file;
    const link = await linkOf(srv.url, alice.token, id);
    expect((await getBytes(srv.url, link.body.url)).status).toBe(200);
    await srv.restart();
    const after = await getBytes(srv.url, link.body.url);
    expect([after.status, after.bytes.toString()]).toEqual([200, 'persisted key']);
  });
});

describe('attachments', () => {
  it('a message carries its files live, in history and in the send answer; body may be empty with files', async () => {
    const srv = await startServer();
    const [alice, bob] = await Promise.all([registerUser(srv.url), registerUser(srv.url)]);
    const room = await alice.api.createRoom('with-files');
    await bob.api.join(room.id);
    const sock = await live(srv.url, bob.token);
    const a = (await upload(srv.url, alice.token, await pngOf(30, 20), 'a.png')).body.file;
    const b = (await upload(srv.url, alice.token, Buffer.from('%PDF-1.4 not really'), 'b.pdf')).body.file;
    const sent = await sendWith(srv.url, alice.token, room.id, '', [a.id, b.id]);
    expect(sent.status).toBe(201);
    expect(sent.body.message).toMatchObject({ body: '', attachments: [a, b], data: null });
    const liveEvent = await sock.next(
      (f) => f.type === 'event' && (f.event as RoomEvent).seq === sent.body.message.seq,
      'event',
    );
    expect((liveEvent.event as RoomEvent).attachments).toEqual([a, b]);
    const history = await bob.api.messages(room.id, {});
    expect(history.find((m) => m.seq === sent.body.message.seq)?.attachments).toEqual([a, b]);
    // Bob may now read both files: through the message.
    expect((await getBytes(srv.url, `/api/v1/files/${a.id}`, bob.token)).status).toBe(200);
    expect((await linkOf(srv.url, bob.token, b.id)).status).toBe(200);
    // A reply with a file keeps both its reply data and its attachment.
    const c = (await upload(srv.url, alice.token, Buffer.from('third'), 'c.txt')).body.file;
    const reply = await post(srv.url, alice.token, `/api/v1/rooms/${room.id}/messages`, {
      body: 'see attached',
      clientMsgId: 'reply-1',
      replyTo: sent.body.message.seq,
      attachments: [c.id],
    });
    expect(reply.body.message).toMatchObject({ attachments: [c], data: { replyTo: sent.body.message.seq } });
    // A retry answers with the stored message, files included.
    const retry = await post(srv.url, alice.token, `/api/v1/rooms/${room.id}/messages`, {
      body: 'see attached',
      clientMsgId: 'reply-1',
      replyTo: sent.body.message.seq,
      attachments: [c.id],
    });
    expect([retry.status, retry.body.duplicate, retry.body.message.attachments]).toEqual([200, true, [c]]);
  });

  it('over WebSocket: send with attachments is acked and delivered; bad attachments get error frames', async () => {
    const srv = await startServer({ maxAttachmentsPerMessage: 2 });
    const [alice, mallory] = await Promise.all([registerUser(srv.url), registerUser(srv.url)]);
    const room = await alice.api.createRoom('ws-files');
    const sock = await live(srv.url, alice.token);
    const mine = (await upload(srv.url, alice.token, Buffer.from('mine'), 'm.txt')).body.file;
    const theirs = (await upload(srv.url, mallory.token, Buffer.from('theirs'), 't.txt')).body.file;
    const more = await Promise.all(
      ['x', 'y'].map(async (n) => (await upload(srv.url, alice.token, Buffer.from(n), `${n}.txt`)).body.file),
    );
    // `ref` echoes on every answer: a frame refused by the schema has no clientMsgId for the server to echo.
    const frame = (clientMsgId: string, body: string, attachments?: string[]) =>
      sock.send({
        type: 'send',
        roomId: room.id,
        clientMsgId,
        body,
        ref: clientMsgId,
        ...(attachments ? { attachments } : {}),
      });
    const answer = (ref: string) => sock.next((f) => (f.type === 'ack' || f.type === 'error') && f.ref === ref, ref);

    frame('ok', '', [mine.id]);
    const ack = await answer('ok');
    expect(ack.type).toBe('ack');
    const ev = await sock.next((f) => f.type === 'event' && (f.event as RoomEvent).seq === ack.seq, 'event');
    expect((ev.event as RoomEvent).attachments).toEqual([mine]);

    frame('theirs', 'x', [theirs.id]);
    expect(await answer('theirs')).toMatchObject({ type: 'error', code: 'attachment_not_found' });
    frame('unknown', 'x', ['f_doesnotexist000000']);
    expect(await answer('unknown')).toMatchObject({ type: 'error', code: 'attachment_not_found' });
    frame('three', 'x', [mine.id, ...more.map((f) => f.id)]);
    expect(await answer('three')).toMatchObject({ type: 'error', code: 'too_many_attachments' });
    frame('twice', 'x', [mine.id, mine.id]);
    expect(await answer('twice')).toMatchObject({ type: 'error', code: 'validation_failed' });
    frame('empty', '');
    expect(await answer('empty')).toMatchObject({ type: 'error', code: 'validation_failed' });
    // The connection is fine, and a file may be attached to a second message.
    frame('again', 'again', [mine.id]);
    expect(await answer('again')).toMatchObject({ type: 'ack' });
    // Mallory's file is still only Mallory's.
    expect((await getBytes(srv.url, `/api/v1/files/${theirs.id}`, alice.token)).status).toBe(404);
  });

  it('who may read a file: its uploader and readers of a message it is in; a deleted message stops sharing it', async () => {
    const srv = await startServer();
    const [alice, bob, carol] = await Promise.all([
      registerUser(srv.url),
      registerUser(srv.url),
      registerUser(srv.url),
    ]);
    const secret = await alice.api.createRoom('secret', 'private');
    await alice.api.invite(secret.id, bob.username);
    await bob.api.acceptInvite(secret.id);
    const f = (await upload(srv.url, alice.token, Buffer.from('for the private room'), 'p.txt')).body.file;
    const read = (token: string) => getBytes(srv.url, `/api/v1/files/${f.id}`, token).then((r) => r.status);
    // Not yet attached: only Alice.
    expect([await read(alice.token), await read(bob.token), await read(carol.token)]).toEqual([200, 404, 404]);
    const m = await sendWith(srv.url, alice.token, secret.id, 'here', [f.id]);
    expect([await read(alice.token), await read(bob.token), await read(carol.token)]).toEqual([200, 200, 404]);
    expect((await linkOf(srv.url, carol.token, f.id)).status).toBe(404);
    // Bob leaves: no longer a reader.
    await bob.api.leave(secret.id);
    expect(await read(bob.token)).toBe(404);
    // Deleting the message: nobody reads it through the message; the uploader still can.
    await alice.api.invite(secret.id, carol.username);
    await carol.api.acceptInvite(secret.id);
    expect(await read(carol.token)).toBe(200);
    const del = await fetch(`${srv.url}/api/v1/rooms/${secret.id}/messages/${m.body.message.seq}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(del.status).toBe(204);
    expect([await read(alice.token), await read(carol.token)]).toEqual([200, 404]);
    const history = await carol.api.messages(secret.id, {});
    expect(history.find((e) => e.seq === m.body.message.seq)?.attachments).toBeUndefined();
  });

  it('collection: an upload no message took is deleted after FILE_GC_GRACE_SECONDS, with its blob; attached ones stay', async () => {
    const srv = await startServer({ fileGcGraceSeconds: 0 });
    const alice = await registerUser(srv.url);
    const room = await alice.api.createRoom('gc');
    const kept = (await upload(srv.url, alice.token, await pngOf(12, 12), 'kept.png')).body.file;
    const dropped = (await upload(srv.url, alice.token, Buffer.from('never sent'), 'dropped.txt')).body.file;
    await sendWith(srv.url, alice.token, room.id, 'keep this', [kept.id]);
    const before = (await storedBlobs(srv)).blobs.length;
    expect(before).toBe(3); // kept + its thumbnail + dropped
    const r = await waitFor(
      async () => {
        const res = await srv.server.services.files.collect();
        return res.files === 1 && res.blobs === 1 ? res : null;
      },
      5000,
      'one file and one blob collected',
    );
    expect(r).toEqual({ files: 1, blobs: 1 });
    expect((await getBytes(srv.url, `/api/v1/files/${dropped.id}`, alice.token)).status).toBe(404);
    expect((await getBytes(srv.url, `/api/v1/files/${kept.id}`, alice.token)).status).toBe(200);
    expect((await getBytes(srv.url, `/api/v1/files/${kept.id}?variant=thumbnail`, alice.token)).status).toBe(200);
    expect((await storedBlobs(srv)).blobs).not.toContain(sha256Hex(Buffer.from('never sent')));
    // The quota is given back.
    expect(await srv.server.ports.store.fileUsage(alice.user.id)).toBe(kept.size);
    // A second pass finds nothing more.
    expect(await srv.server.services.files.collect()).toEqual({ files: 0, blobs: 0 });
    // With a grace period, nothing new is collected.
    const graceful = await startServer({ fileGcGraceSeconds: 3600 });
    const bob = await registerUser(graceful.url);
    await upload(graceful.url, bob.token, Buffer.from('young'), 'y.txt');
    expect(await graceful.server.services.files.collect()).toEqual({ files: 0, blobs: 0 });
  });
});

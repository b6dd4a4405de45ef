import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/core/files/file-service.js';
import { registerUser, startServer } from '../helpers/harness.js';
import { getBytes, pngOf, upload } from '../helpers/files.js';

/**
 * Issue 15, files end to end on the backend under test (embedded: blobs under DATA_DIR; cluster: PostgreSQL):
 * uploads streamed under the size limit, the quota and the rate, types from magic bytes, images decoded under
 * bomb limits without their metadata, downloads with Range/ETag/nosniff/CSP, signed links, and who may read.
 */

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
  });
});

import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsBlobStore, TEMP_MAX_AGE_MS } from '../../src/storage/blobs/fs-blob-store.js';
import { blobStoreContract } from './contract/blob-store-contract.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile());
}

blobStoreContract('FsBlobStore (embedded: files under DATA_DIR/blobs)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaychat-blobs-'));
  const opened: FsBlobStore[] = [];
  const open = () => {
    const s = new FsBlobStore(dir);
    opened.push(s);
    return s;
  };
  return {
    blobs: open(),
    reopen: async () => open(),
    async stored() {
      const files = listFiles(dir);
      return {
        blobs: files.filter((f) => !f.startsWith('tmp')).map((f) => f.split('/').pop()!),
        partial: files.filter((f) => f.startsWith('tmp')).length,
      };
    },
    async cleanup() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('FsBlobStore', () => {
  it('a temp file a crash left behind is deleted at the next open once old; a fresh one is left alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaychat-blobs-'));
    try {
      const first = new FsBlobStore(dir);
      await first.put([Buffer.from('x')]);
      await first.close();
      const old = join(dir, 'tmp', 'crashed-put');
      const fresh = join(dir, 'tmp', 'put-in-progress');
      writeFileSync(old, 'half a blob');
      writeFileSync(fresh, 'another process is writing');
      const past = new Date(Date.now() - TEMP_MAX_AGE_MS - 60_000);
      utimesSync(old, past, past);
      const second = new FsBlobStore(dir);
      await second.put([Buffer.from('y')]); // waits for the open's sweep
      expect(readdirSync(join(dir, 'tmp'))).toEqual(['put-in-progress']);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

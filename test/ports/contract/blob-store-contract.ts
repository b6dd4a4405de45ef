import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../../src/core/blobs.js';

export interface BlobStoreUnderTest {
  blobs: BlobStore;
  /** Another store over the same storage (another node, or the same directory reopened). */
  reopen(): Promise<BlobStore>;
  /** Everything stored, as the backend sees it (temp files and chunks included): for "nothing half-written" checks. */
  stored(): Promise<{ blobs: string[]; partial: number }>;
  cleanup(): Promise<void>;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readAll(it: AsyncIterable<Uint8Array> | null): Promise<Buffer | null> {
  if (!it) return null;
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Yields `data` in pieces of `piece` bytes, then fails if `failAfter` pieces were given: an upload cut mid-stream. */
async function* pieces(data: Buffer, piece: number, failAfter?: number): AsyncGenerator<Uint8Array> {
  let n = 0;
  for (let i = 0; i < data.length; i += piece) {
    if (failAfter !== undefined && n++ === failAfter) throw new Error('client went away');
    yield data.subarray(i, i + piece);
  }
}

/**
 * The BlobStore conformance suite (src/core/blobs.ts): content addressing, streaming in and out, ranges, one copy of
 * repeated content (also concurrently), nothing stored from a failed put, and collection that spares what is in use
 * or new. Run against every implementation.
 */
export function blobStoreContract(name: string, make: () => Promise<BlobStoreUnderTest>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let h: BlobStoreUnderTest;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('put streams bytes in and names them by SHA-256; get streams them back, whole or by range', async () => {
      const data = randomBytes(700 * 1024 + 13);
      const r = await h.blobs.put(pieces(data, 10_000));
      expect(r).toEqual({ sha256: sha(data), size: data.length });
      expect(await h.blobs.size(r.sha256)).toBe(data.length);
      expect((await readAll(await h.blobs.get(r.sha256)))?.equals(data)).toBe(true);
      // Ranges within a chunk, across chunk boundaries, and to the end.
      for (const [start, end] of [
        [0, 0],
        [5, 99],
        [262_140, 262_150],
        [100_000, 600_000],
        [data.length - 10, data.length - 1],
      ] as const) {
        const got = await readAll(await h.blobs.get(r.sha256, { start, end }));
        expect(got?.equals(data.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
      }
      // Another store over the same storage (another node) reads it too.
      const other = await h.reopen();
      expect((await readAll(await other.get(r.sha256)))?.equals(data)).toBe(true);
    });

    it('an empty blob, an unknown digest and a malformed key', async () => {
      const r = await h.blobs.put([]);
      expect(r).toEqual({ sha256: sha(Buffer.alloc(0)), size: 0 });
      expect((await readAll(await h.blobs.get(r.sha256)))?.length).toBe(0);
      const unknown = sha(Buffer.from('never stored'));
      expect(await h.blobs.get(unknown)).toBeNull();
      expect(await h.blobs.size(unknown)).toBeNull();
      expect(await h.blobs.get('../../etc/passwd')).toBeNull();
      expect(await h.blobs.delete('../x')).toBe(false);
    });

    it('a put whose source fails stores nothing, not even part of it', async () => {
      const data = randomBytes(600 * 1024);
      await expect(h.blobs.put(pieces(data, 64 * 1024, 5))).rejects.toThrow('client went away');
      expect(await h.blobs.size(sha(data))).toBeNull();
      expect(await h.stored()).toEqual({ blobs: [], partial: 0 });
    });

    it('the same content put twice, one after another and concurrently, is stored once', async () => {
      const data = randomBytes(300 * 1024);
      const a = await h.blobs.put([data]);
      const [b, c, d] = await Promise.all([
        h.blobs.put(pieces(data, 1000)),
        h.blobs.put(pieces(data, 70_000)),
        h.blobs.put([data]),
      ]);
      expect([b, c, d]).toEqual([a, a, a]);
      expect((await h.stored()).blobs).toEqual([a.sha256]);
      expect((await readAll(await h.blobs.get(a.sha256)))?.equals(data)).toBe(true);
    });

    it('delete removes a blob; a second delete says false', async () => {
      const r = await h.blobs.put([Buffer.from('short-lived')]);
      expect(await h.blobs.delete(r.sha256)).toBe(true);
      expect(await h.blobs.get(r.sha256)).toBeNull();
      expect(await h.blobs.delete(r.sha256)).toBe(false);
    });

    it('collect deletes old unreferenced blobs only; a put of old content makes it new again', async () => {
      const kept = await h.blobs.put([Buffer.from('referenced')]);
      const dropped = await h.blobs.put([Buffer.from('unreferenced')]);
      const reused = await h.blobs.put([Buffer.from('reused')]);
      const asked: string[] = [];
      // Nothing is older than a time in the past: nothing goes, and nobody is asked.
      expect(await h.blobs.collect(Date.now() - 60_000, async (s) => (asked.push(s), false))).toBe(0);
      expect(asked).toEqual([]);
      // The reused content is put again: that restarts its age, past the cutoff taken just before.
      const cutoff = Date.now() + 1;
      await new Promise((r) => setTimeout(r, 5)); // clocks with coarse resolution: be strictly after the cutoff
      expect(await h.blobs.put([Buffer.from('reused')])).toEqual(reused);
      const n = await h.blobs.collect(cutoff, async (s) => s === kept.sha256);
      expect(n).toBe(1);
      expect(await h.blobs.size(dropped.sha256)).toBeNull();
      expect(await h.blobs.size(kept.sha256)).not.toBeNull();
      expect(await h.blobs.size(reused.sha256)).not.toBeNull();
    });
  });
}

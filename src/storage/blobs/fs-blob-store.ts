import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isSha256, type BlobStore } from '../../core/blobs.js';

/**
 * Blobs as files under `dir` (DATA_DIR/blobs): `ab/abcdef…` by SHA-256. A put streams to `tmp/<random>`, fsyncs it,
 * then renames it into place (atomic on one file system), so a crash mid-upload leaves at most a temp file, which
 * the next start deletes, and never a half-written blob under its digest. One process owns the directory (embedded
 * mode): the rename of a put and the unlink of a collection are serialized per digest in memory.
 */
/** A temp file this old is a leftover: puts stream from a local spool file, so they take seconds. */
export const TEMP_MAX_AGE_MS = 10 * 60_000;

export class FsBlobStore implements BlobStore {
  private readonly tmp: string;
  /** Per digest: the tail of the chain of finalizations and deletions, so they never interleave. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly ready: Promise<void>;

  /** Opens (creating) the store under `dir`; temp files a crash left behind are deleted (see sweepTemp). */
  constructor(private readonly dir: string) {
    this.tmp = join(dir, 'tmp');
    this.ready = mkdir(this.tmp, { recursive: true }).then(async () => {
      await this.sweepTemp();
    });
  }

  /**
   * Deletes temp files older than TEMP_MAX_AGE_MS: what a crash (or a kill) mid-put left. Younger ones may be a put
   * of another process on the same directory (an admin tool next to the server), so they stay until the next sweep.
   */
  async sweepTemp(): Promise<number> {
    let n = 0;
    for (const name of await readdir(this.tmp).catch(() => [] as string[])) {
      const s = await stat(join(this.tmp, name)).catch(() => null);
      if (s && Date.now() - s.mtimeMs > TEMP_MAX_AGE_MS) {
        await rm(join(this.tmp, name), { force: true });
        n++;
      }
    }
    return n;
  }

  private pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  private serialized<T>(sha256: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(sha256) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => {});
    this.locks.set(sha256, tail);
    void tail.then(() => {
      if (this.locks.get(sha256) === tail) this.locks.delete(sha256);
    });
    return run;
  }

  async put(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
    await this.ready;
    const temp = join(this.tmp, randomBytes(12).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    try {
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(source, count, createWriteStream(temp, { flags: 'wx' }));
      const fh = await open(temp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      const sha256 = hash.digest('hex');
      const final = this.pathOf(sha256);
      await this.serialized(sha256, async () => {
        const existing = await stat(final).catch(() => null);
        if (existing) {
          // Stored already: keep the one copy, and restart its age so a collection running now keeps it.
          const now = new Date();
          await utimes(final, now, now);
          await unlink(temp);
          return;
        }
        await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true });
        await rename(temp, final);
        await syncDir(join(this.dir, sha256.slice(0, 2)));
      });
      return { sha256, size };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async size(sha256: string): Promise<number | null> {
    if (!isSha256(sha256)) return null;
    const s = await stat(this.pathOf(sha256)).catch(() => null);
    return s ? s.size : null;
  }

  async get(sha256: string, range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array> | null> {
    if (!isSha256(sha256)) return null;
    // Open first: a missing blob is null here rather than a stream that fails later.
    const fh = await open(this.pathOf(sha256), 'r').catch(() => null);
    if (!fh) return null;
    return fh.createReadStream({ autoClose: true, ...(range ? range : {}) });
  }

  delete(sha256: string): Promise<boolean> {
    if (!isSha256(sha256)) return Promise.resolve(false);
    return this.serialized(sha256, () =>
      unlink(this.pathOf(sha256)).then(
        () => true,
        () => false,
      ),
    );
  }

  async collect(olderThanMs: number, referenced: (sha256: string) => Promise<boolean>): Promise<number> {
    await this.ready;
    await this.sweepTemp();
    let deleted = 0;
    const shards = (await readdir(this.dir)).filter((d) => /^[0-9a-f]{2}$/.test(d));
    for (const shard of shards) {
      for (const name of await readdir(join(this.dir, shard)).catch(() => [] as string[])) {
        if (!isSha256(name)) continue;
        const s = await stat(join(this.dir, shard, name)).catch(() => null);
        if (!s || s.mtimeMs >= olderThanMs || (await referenced(name))) continue;
        // Re-checked under the digest's lock: a put that reused the blob meanwhile has made it new again.
        const gone = await this.serialized(name, async () => {
          const again = await stat(this.pathOf(name)).catch(() => null);
          if (!again || again.mtimeMs >= olderThanMs) return false;
          await unlink(this.pathOf(name));
          return true;
        });
        if (gone) deleted++;
      }
    }
    return deleted;
  }

  async close(): Promise<void> {
    await this.ready.catch(() => {});
    await Promise.all([...this.locks.values()]);
  }
}

/** Makes a rename durable: fsync the directory entry (a no-op where the platform refuses it). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync().catch(() => {});
  } finally {
    await fh.close();
  }
}

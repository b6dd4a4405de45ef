import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Pool } from 'pg';
import { isSha256, type BlobStore } from '../../core/blobs.js';
import { toStoreError } from '../postgres/pg-store.js';

/** Bytes per row of blob_chunks. A range read fetches only the chunks it covers. */
export const CHUNK_BYTES = 256 * 1024;
/** Chunks fetched per query when streaming (CHUNK_BYTES each). */
const CHUNKS_PER_READ = 8;

/**
 * Blobs in PostgreSQL (tables `blobs` and `blob_chunks`, migration 13), so every node of a cluster serves every file.
 *
 * A put runs in one transaction: its chunks go in under a temporary key while the digest is computed; at the end
 * `INSERT INTO blobs … ON CONFLICT DO UPDATE` either creates the blob (the chunks are renamed to the digest) or finds
 * it stored (our chunks are dropped, its `written_at` restarts). Two puts of the same content meet on the `blobs`
 * row's lock: the second waits for the first's commit and keeps the one copy. A cut upload rolls back: no row.
 */
export class PgBlobStore implements BlobStore {
  private closed = false;

  constructor(private readonly pool: Pool) {}

  /** A store on its own small pool. The schema (migration 13) is PgStore's: open that first, which migrates. */
  static open(opts: { connectionString: string; poolSize?: number }): PgBlobStore {
    const pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.poolSize ?? 4 });
    pool.on('error', () => {}); // an idle connection dropped: the pool replaces it
    return new PgBlobStore(pool);
  }

  async put(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
    const client = await this.pool.connect().catch((err: unknown) => {
      throw toStoreError(err);
    });
    const temp = `tmp:${randomBytes(12).toString('hex')}`;
    const hash = createHash('sha256');
    let size = 0;
    let n = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (all: boolean) => {
      let buf = Buffer.concat(pending);
      while (buf.length >= CHUNK_BYTES || (all && buf.length > 0)) {
        const piece = buf.subarray(0, CHUNK_BYTES);
        await client.query('INSERT INTO blob_chunks (blob, n, data) VALUES ($1, $2, $3)', [temp, n++, piece]);
        buf = buf.subarray(piece.length);
      }
      pending = buf.length > 0 ? [buf] : [];
      pendingBytes = buf.length;
    };
    let broken = false;
    try {
      await client.query('BEGIN');
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        pendingBytes += chunk.length;
        if (pendingBytes >= CHUNK_BYTES) await flush(false);
      }
      await flush(true);
      const sha256 = hash.digest('hex');
      const { rows } = await client.query<{ inserted: boolean }>(
        `INSERT INTO blobs (sha256, size, written_at) VALUES ($1, $2, $3)
         ON CONFLICT (sha256) DO UPDATE SET written_at = EXCLUDED.written_at
         RETURNING (xmax = 0) AS inserted`,
        [sha256, size, Date.now()],
      );
      if (rows[0]?.inserted) await client.query('UPDATE blob_chunks SET blob = $1 WHERE blob = $2', [sha256, temp]);
      else await client.query('DELETE FROM blob_chunks WHERE blob = $1', [temp]);
      await client.query('COMMIT');
      return { sha256, size };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw toStoreError(err);
    } finally {
      client.release(broken);
    }
  }

  async size(sha256: string): Promise<number | null> {
    if (!isSha256(sha256)) return null;
    const { rows } = await this.pool
      .query<{ size: string }>('SELECT size FROM blobs WHERE sha256 = $1', [sha256])
      .catch((err: unknown) => {
        throw toStoreError(err);
      });
    return rows[0] ? Number(rows[0].size) : null;
  }

  async get(sha256: string, range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array> | null> {
    const size = await this.size(sha256);
    if (size === null) return null;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? size - 1, size - 1);
    const pool = this.pool;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      if (end < start) return;
      let n = Math.floor(start / CHUNK_BYTES);
      const last = Math.floor(end / CHUNK_BYTES);
      while (n <= last) {
        const upTo = Math.min(last, n + CHUNKS_PER_READ - 1);
        const { rows } = await pool.query<{ n: number; data: Buffer }>(
          'SELECT n, data FROM blob_chunks WHERE blob = $1 AND n BETWEEN $2 AND $3 ORDER BY n',
          [sha256, n, upTo],
        );
        if (rows.length !== upTo - n + 1) throw new Error(`blob ${sha256}: chunks ${n}..${upTo} missing`);
        for (const r of rows) {
          const offset = r.n * CHUNK_BYTES;
          const from = Math.max(0, start - offset);
          const to = Math.min(r.data.length, end - offset + 1);
          yield r.data.subarray(from, to);
        }
        n = upTo + 1;
      }
    }
    return chunks();
  }

  async delete(sha256: string): Promise<boolean> {
    if (!isSha256(sha256)) return false;
    const { rows } = await this.pool
      .query(
        `WITH gone AS (DELETE FROM blobs WHERE sha256 = $1 RETURNING sha256),
              chunks AS (DELETE FROM blob_chunks WHERE blob IN (SELECT sha256 FROM gone))
         SELECT sha256 FROM gone`,
        [sha256],
      )
      .catch((err: unknown) => {
        throw toStoreError(err);
      });
    return rows.length > 0;
  }

  async collect(olderThanMs: number, referenced: (sha256: string) => Promise<boolean>): Promise<number> {
    const { rows } = await this.pool.query<{ sha256: string }>(
      'SELECT sha256 FROM blobs WHERE written_at < $1 ORDER BY sha256 LIMIT 10000',
      [olderThanMs],
    );
    let deleted = 0;
    for (const { sha256 } of rows) {
      if (await referenced(sha256)) continue;
      // written_at re-checked in the delete: a put that reused the blob meanwhile (its row lock orders the two) wins.
      const { rows: gone } = await this.pool.query(
        `WITH gone AS (DELETE FROM blobs WHERE sha256 = $1 AND written_at < $2 RETURNING sha256),
              chunks AS (DELETE FROM blob_chunks WHERE blob IN (SELECT sha256 FROM gone))
         SELECT sha256 FROM gone`,
        [sha256, olderThanMs],
      );
      deleted += gone.length;
    }
    return deleted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

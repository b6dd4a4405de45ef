/**
 * Blob storage: immutable byte strings addressed by the SHA-256 of their content (lower-case hex). An
 * implementation (files under DATA_DIR embedded, PostgreSQL in the cluster) must pass the conformance suite in
 * test/ports/contract/blob-store-contract.ts.
 *
 * Contract:
 * - `put` streams `source` in and resolves with its digest and size only once the blob is durable and complete. If
 *   the source fails (a cut upload) or the store fails, the promise rejects and nothing is stored: a reader never
 *   sees part of a blob. Content already stored is kept once (a second `put` of it writes no second copy) and counts
 *   as freshly written for `collect` (its age starts again), so a blob being reused is not collected under it.
 * - Concurrent `put`s of the same content both resolve with the same digest; one copy remains.
 * - `get` streams a whole blob, or the inclusive byte range `[start, end]` of it; null when absent.
 * - `collect(olderThanMs, referenced)` deletes each blob last written before `olderThanMs` (epoch ms) for which
 *   `referenced(sha256)` resolves false, and returns how many it deleted. A `put` racing with it either completes
 *   before the blob is deleted (then the blob counts as new and is kept) or writes the blob again.
 */
export interface BlobStore {
  put(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ sha256: string; size: number }>;
  /** The blob's size in bytes, or null when it is not stored. */
  size(sha256: string): Promise<number | null>;
  get(sha256: string, range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array> | null>;
  /** Deletes a blob; false when it was not stored. */
  delete(sha256: string): Promise<boolean>;
  collect(olderThanMs: number, referenced: (sha256: string) => Promise<boolean>): Promise<number>;
  /** Flushes and releases resources. Idempotent. */
  close(): Promise<void>;
}

/** A SHA-256 digest as the blob stores key them. */
export const isSha256 = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileTypeFromBuffer } from 'file-type';
import type { FileInfo } from '../../protocol/model.js';
import type { AuthContext } from '../accounts.js';
import type { BlobStore } from '../blobs.js';
import { ChatError } from '../chat-error.js';
import { newId } from '../ids.js';
import type { RateLimiter, RateRule } from '../rate-limiter.js';
import type { RoomService } from '../rooms.js';
import type { SendStep } from '../send/pipeline.js';
import type { FileRecord, Store } from '../store.js';
import { IMAGE_TYPES } from './content-types.js';
import { processImage } from './images.js';
import { sanitizeFileName } from './names.js';

/** Bytes of an upload's start kept for type detection (file-type reads at most ~4 KB; WebM tracks sit a bit further). */
const SNIFF_BYTES = 64 * 1024;
/** Rooms looked at when deciding whether someone may read a file through a message. */
const ATTACHMENT_ROOMS_CHECKED = 50;
/**
 * A spool file this old is a crash's leftover (an upload in progress writes to its file all along, and even a slow
 * one ends sooner). Younger ones may belong to another process on the same DATA_DIR (an admin tool next to the server).
 */
const SPOOL_MAX_AGE_MS = 6 * 3600_000;
/** Files one collection pass deletes at most. */
const GC_BATCH = 500;

export interface FileLimits {
  maxUploadBytes: number;
  quotaBytes: number;
  uploads: RateRule;
  maxAttachments: number;
  gcGraceMs: number;
  maxImagePixels: number;
  linkTtlMs: number;
}

export interface FileServiceDeps {
  store: Store;
  blobs: BlobStore;
  limiter: RateLimiter;
  rooms: RoomService;
  now: () => number;
  limits: FileLimits;
  /** The key signing file links (FILE_URL_SECRET, or the one kept in the database). */
  secret: () => Promise<string>;
  /** Where uploads are spooled while they stream in (DATA_DIR/uploads-tmp): emptied at start. */
  spoolDir: string;
}

/** An upload as the transport hands it over: the declared name and the byte stream, cut at `limitBytes`. */
export interface IncomingFile {
  filename: string;
  stream: AsyncIterable<Uint8Array>;
  /** True once the stream was cut at the limit `beginUpload` gave (the transport's parser knows). */
  truncated(): boolean;
}

export type FileVariant = 'original' | 'thumbnail';

/** What a download serves: which blob, how big, as what. */
export interface FileContent {
  file: FileRecord;
  sha256: string;
  size: number;
  contentType: string;
}

export const toFileInfo = (f: FileRecord): FileInfo => ({
  id: f.id,
  name: f.name,
  size: f.size,
  contentType: f.contentType,
  ...(f.width !== undefined && f.height !== undefined ? { width: f.width, height: f.height } : {}),
});

/**
 * Files: uploads (streamed to a spool file under the size limit, typed by their magic bytes, images decoded under
 * bomb limits and re-encoded without metadata, then put in the BlobStore), who may read them, signed links,
 * attachments on messages (a send step) and collecting what nothing uses.
 */
export class FileService {
  private readonly ready: Promise<void>;

  constructor(private readonly deps: FileServiceDeps) {
    this.ready = mkdir(deps.spoolDir, { recursive: true }).then(() => this.sweepSpool());
  }

  /** Deletes spool files older than SPOOL_MAX_AGE_MS: what a crash mid-upload left behind. */
  private async sweepSpool(): Promise<void> {
    for (const name of await readdir(this.deps.spoolDir).catch(() => [] as string[])) {
      const s = await stat(join(this.deps.spoolDir, name)).catch(() => null);
      if (s && this.deps.now() - s.mtimeMs > SPOOL_MAX_AGE_MS)
        await rm(join(this.deps.spoolDir, name), { force: true });
    }
  }

  get limits(): FileLimits {
    return this.deps.limits;
  }

  /**
   * Before reading an upload's bytes: takes one upload from the user's rate and says how many bytes this one may
   * have — MAX_UPLOAD_BYTES, or less when the quota has less room (`quota_exceeded` when it has none).
   */
  async beginUpload(auth: AuthContext): Promise<{ limitBytes: number; byQuota: boolean }> {
    const rate = await this.deps.limiter.take(`upload:${auth.user.id}`, this.deps.limits.uploads);
    if (!rate.ok) throw new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
    const room = this.deps.limits.quotaBytes - (await this.deps.store.fileUsage(auth.user.id));
    if (room <= 0) throw new ChatError('quota_exceeded');
    const max = this.deps.limits.maxUploadBytes;
    return room < max ? { limitBytes: room, byQuota: true } : { limitBytes: max, byQuota: false };
  }

  /**
   * Stores an upload. The bytes stream to a spool file (never held in memory); a stream cut by the client rejects
   * and leaves nothing (the spool file is deleted), one cut at the limit rejects with `file_too_large` or
   * `quota_exceeded`. The content type comes from the bytes only. Same content twice: one blob, two files.
   */
  async upload(
    auth: AuthContext,
    incoming: IncomingFile,
    limit: { limitBytes: number; byQuota: boolean },
    kind = 'upload',
  ): Promise<FileRecord> {
    await this.ready;
    const base = join(this.deps.spoolDir, randomBytes(12).toString('hex'));
    const spooled = `${base}.in`;
    const reencoded = `${base}.out`;
    try {
      const head: Buffer[] = [];
      let headBytes = 0;
      let size = 0;
      const sniff = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (headBytes < SNIFF_BYTES) {
            head.push(chunk.subarray(0, SNIFF_BYTES - headBytes));
            headBytes += Math.min(chunk.length, SNIFF_BYTES - headBytes);
          }
          done(null, chunk);
        },
      });
      await pipeline(incoming.stream, sniff, createWriteStream(spooled, { flags: 'wx' }));
      if (incoming.truncated() || size > limit.limitBytes) {
        throw limit.byQuota
          ? new ChatError('quota_exceeded')
          : new ChatError('file_too_large', {
              message: `A file may have at most ${this.deps.limits.maxUploadBytes} bytes.`,
            });
      }
      const contentType = await detectType(Buffer.concat(head));
      let stored = spooled;
      let image: { width: number; height: number; thumbnail: Buffer } | null = null;
      if (IMAGE_TYPES.has(contentType)) {
        image = await processImage(spooled, reencoded, contentType, this.deps.limits.maxImagePixels);
        stored = reencoded;
      }
      const blob = await this.deps.blobs.put(createReadStream(stored));
      const thumb = image ? await this.deps.blobs.put([image.thumbnail]) : null;
      // A quota overrun found here (uploads racing) leaves the blobs unreferenced: the collector takes them.
      return await this.deps.store.createFile(
        {
          id: newId('f'),
          ownerId: auth.user.id,
          name: sanitizeFileName(incoming.filename),
          size: blob.size,
          contentType,
          ...(image ? { width: image.width, height: image.height } : {}),
          sha256: blob.sha256,
          thumbSha256: thumb?.sha256 ?? null,
          thumbSize: thumb?.size ?? null,
          kind,
        },
        this.deps.limits.quotaBytes,
      );
    } finally {
      await Promise.all([rm(spooled, { force: true }), rm(reencoded, { force: true })]);
    }
  }

  /**
   * The file if the caller may read it: its uploader, or anyone who may read a message it is attached to
   * (`requireReadable` of the message's room). Otherwise `not_found`, so ids of others' files reveal nothing.
   */
  async requireReadable(auth: AuthContext, id: string): Promise<FileRecord> {
    const file = await this.deps.store.getFile(id);
    if (!file) throw new ChatError('not_found');
    if (file.ownerId === auth.user.id) return file;
    for (const roomId of await this.deps.store.attachmentRooms(id, ATTACHMENT_ROOMS_CHECKED)) {
      try {
        await this.deps.rooms.requireReadable(auth, roomId);
        return file;
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
      }
    }
    throw new ChatError('not_found');
  }

  /** The info of a file the caller may read. */
  async info(auth: AuthContext, id: string): Promise<FileInfo> {
    return toFileInfo(await this.requireReadable(auth, id));
  }

  /** What a variant of a file serves; `not_found` for the thumbnail of a non-image. */
  content(file: FileRecord, variant: FileVariant): FileContent {
    if (variant === 'thumbnail') {
      if (!file.thumbSha256 || file.thumbSize === null) throw new ChatError('not_found');
      return { file, sha256: file.thumbSha256, size: file.thumbSize, contentType: 'image/webp' };
    }
    return { file, sha256: file.sha256, size: file.size, contentType: file.contentType };
  }

  /** The bytes of a variant, whole or the inclusive range; `not_found` if the blob is gone. */
  async bytes(content: FileContent, range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array>> {
    const stream = await this.deps.blobs.get(content.sha256, range);
    if (!stream) throw new ChatError('not_found');
    return stream;
  }

  /** A signed link to a variant of a file the caller may read: works without a token until `expiresAt`. */
  async link(
    auth: AuthContext,
    id: string,
    variant: FileVariant,
  ): Promise<{ path: string; query: Record<string, string>; expiresAt: number }> {
    const file = await this.requireReadable(auth, id);
    this.content(file, variant); // a thumbnail that does not exist has no link
    // Rounded up to the second: links minted within one second are equal, so a browser can cache them.
    const expiresAt = Math.ceil((this.deps.now() + this.deps.limits.linkTtlMs) / 1000) * 1000;
    const sig = await this.sign(id, variant, expiresAt);
    return {
      path: `/api/v1/files/${encodeURIComponent(id)}/content`,
      query: { variant, expires: String(expiresAt), sig },
      expiresAt,
    };
  }

  /** The file a signed link names, if the signature is ours and it has not expired (`forbidden` otherwise). */
  async openSigned(id: string, variant: FileVariant, expiresAt: number, sig: string): Promise<FileContent> {
    const expected = Buffer.from(await this.sign(id, variant, expiresAt));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ChatError('forbidden', { message: 'This file link is not valid.' });
    }
    if (expiresAt <= this.deps.now()) throw new ChatError('forbidden', { message: 'This file link has expired.' });
    const file = await this.deps.store.getFile(id);
    if (!file) throw new ChatError('not_found');
    return this.content(file, variant);
  }

  private async sign(id: string, variant: FileVariant, expiresAt: number): Promise<string> {
    return createHmac('sha256', await this.deps.secret())
      .update(`file-link\n${id}\n${variant}\n${expiresAt}`)
      .digest('base64url');
  }

  /**
   * The `attachments` send step: at most MAX_ATTACHMENTS_PER_MESSAGE distinct ids, each a file the sender uploaded
   * (`attachment_not_found` otherwise: others' files are not there for them). Sets the draft's FileInfo list.
   */
  attachmentsStep(): SendStep {
    return {
      name: 'attachments',
      run: async (d) => {
        const ids = d.input.attachments;
        if (!ids || ids.length === 0) return;
        if (ids.length > this.deps.limits.maxAttachments) {
          throw new ChatError('too_many_attachments', {
            message: `A message may carry at most ${this.deps.limits.maxAttachments} files.`,
          });
        }
        const found = new Map((await this.deps.store.getFiles(ids)).map((f) => [f.id, f]));
        d.attachments = ids.map((id) => {
          const f = found.get(id);
          if (!f || f.ownerId !== d.auth.user.id) throw new ChatError('attachment_not_found');
          return toFileInfo(f);
        });
      },
    };
  }

  /**
   * Collects: uploads no message took within the grace period, then blobs no file uses that are older than it.
   * Safe while uploads and sends go on (see BlobStore.collect and FileStore.deleteFile). Returns what it deleted.
   */
  async collect(): Promise<{ files: number; blobs: number }> {
    await this.sweepSpool();
    const cutoff = this.deps.now() - this.deps.limits.gcGraceMs;
    let files = 0;
    for (const f of await this.deps.store.unattachedFiles(cutoff, GC_BATCH)) {
      // A message attaching it meanwhile wins: the delete then finds it attached (or fails on the reference).
      if (await this.deps.store.deleteFile(f.id).catch(() => false)) files++;
    }
    const blobs = await this.deps.blobs.collect(cutoff, (sha) => this.deps.store.blobInUse(sha));
    return { files, blobs };
  }
}

/**
 * The content type from the bytes: file-type's magic numbers (parameters dropped), with WebM told apart as audio
 * when its tracks are audio only (a voice note), and application/octet-stream when nothing matches.
 */
export async function detectType(head: Buffer): Promise<string> {
  const found = await fileTypeFromBuffer(head);
  if (!found) return 'application/octet-stream';
  const mime = found.mime.split(';')[0]!.trim();
  if (mime === 'video/webm' && isAudioOnlyWebm(head)) return 'audio/webm';
  return mime;
}

/** Whether the WebM's TrackType elements (id 0x83, one-byte size) in `head` name audio (2) and never video (1). */
function isAudioOnlyWebm(head: Buffer): boolean {
  let audio = false;
  for (let i = head.indexOf(0x83); i >= 0 && i + 2 < head.length; i = head.indexOf(0x83, i + 1)) {
    if (head[i + 1] !== 0x81) continue;
    if (head[i + 2] === 1) return false;
    if (head[i + 2] === 2) audio = true;
  }
  return audio;
}

/** The hex SHA-256 of bytes (tests and tools). */
export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

import { ChatError } from '../../core/chat-error.js';
import type { FileRecord, FileStore } from '../../core/store.js';
import type { FileInfo } from '../../protocol/model.js';
import { query, read, transaction, write, type Operations } from './recipe.js';
import type { Row } from './rows.js';

/** The named queries of files, attachments and server secrets (migration 13). Counts are rows changed. */
export interface FileQueries {
  /** Locks the owner's user row until the transaction ends (PostgreSQL; SQLite's one writer needs none). */
  fileOwnerLock(a: { ownerId: string }): boolean;
  fileBytesOf(a: { ownerId: string }): number;
  fileInsert(a: { file: FileRecord }): number;
  fileById(a: { id: string }): Row | undefined;
  filesByIds(a: { ids: readonly string[] }): Row[];
  /** Like filesByIds; on PostgreSQL also takes a key-share lock on each row, so none is deleted before commit. */
  filesLockForAttach(a: { ids: readonly string[] }): Row[];
  attachmentsInsert(a: { rows: readonly { roomId: string; seq: number; fileId: string; position: number }[] }): number;
  attachmentsDeleteOf(a: { roomId: string; seq: number }): number;
  attachmentRoomsOf(a: { fileId: string; limit: number }): { room_id: string }[];
  /** Deletes the file unless an attachment row names it. */
  fileDeleteUnattached(a: { id: string }): number;
  filesUnattached(a: { before: number; limit: number }): Row[];
  blobReferenced(a: { sha256: string }): boolean;
  secretInsert(a: { name: string; value: string; now: number }): number;
  secretGet(a: { name: string }): { value: string } | undefined;
}

export function toFileRecord(r: Row): FileRecord {
  return {
    id: r.id as string,
    ownerId: r.owner_id as string,
    name: r.name as string,
    size: Number(r.size),
    contentType: r.content_type as string,
    ...(r.width != null ? { width: Number(r.width), height: Number(r.height) } : {}),
    sha256: r.sha256 as string,
    thumbSha256: (r.thumb_sha256 as string | null) ?? null,
    thumbSize: r.thumb_size == null ? null : Number(r.thumb_size),
    kind: r.kind as string,
    createdAt: Number(r.created_at),
  };
}

/** What a message carries of a file (FileInfo), in a fixed key order. */
export function fileInfoOf(f: FileInfo): FileInfo {
  return {
    id: f.id,
    name: f.name,
    size: f.size,
    contentType: f.contentType,
    ...(f.width !== undefined && f.height !== undefined ? { width: f.width, height: f.height } : {}),
  };
}

export const files = {
  createFile: transaction(function* (now, file: Omit<FileRecord, 'createdAt'>, quotaBytes: number) {
    // Serialized per owner (PostgreSQL row lock; SQLite has one writer): two uploads cannot both fit the last bytes.
    yield* query('fileOwnerLock', { ownerId: file.ownerId });
    const used = yield* query('fileBytesOf', { ownerId: file.ownerId });
    if (used + file.size > quotaBytes) throw new ChatError('quota_exceeded');
    const record: FileRecord = { ...file, createdAt: now };
    yield* query('fileInsert', { file: record });
    return record;
  }),

  getFile: read(function* (_now, id: string) {
    const r = yield* query('fileById', { id });
    return r ? toFileRecord(r) : null;
  }),

  getFiles: read(function* (_now, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return (yield* query('filesByIds', { ids })).map(toFileRecord);
  }),

  fileUsage: read(function* (_now, ownerId: string) {
    return yield* query('fileBytesOf', { ownerId });
  }),

  attachmentRooms: read(function* (_now, fileId: string, limit: number) {
    return (yield* query('attachmentRoomsOf', { fileId, limit })).map((r) => r.room_id);
  }),

  deleteFile: write(function* (_now, id: string) {
    return (yield* query('fileDeleteUnattached', { id })) > 0;
  }),

  unattachedFiles: read(function* (_now, createdBefore: number, limit: number) {
    return (yield* query('filesUnattached', { before: createdBefore, limit })).map(toFileRecord);
  }),

  blobInUse: read(function* (_now, sha256: string) {
    return yield* query('blobReferenced', { sha256 });
  }),

  serverSecret: transaction(function* (now, name: string, candidate: string) {
    yield* query('secretInsert', { name, value: candidate, now });
    const r = yield* query('secretGet', { name });
    if (!r) throw new Error(`server secret ${name} missing after insert`);
    return r.value;
  }),
} satisfies Operations<FileStore>;

/**
 * Files waiting to go with the next message of a room: each uploads at once (progress shown as a chip above the
 * composer), can be cancelled (the request is aborted) or removed, and is sent as the message's attachments.
 */
import type { FileInfo } from '../../../src/protocol/model.js';
import { ApiError } from '../../../src/client/api.js';
import type { PendingUpload } from './app-state.js';
import { errorText } from './errors.js';
import { bytesText } from './format.js';
import { t } from '../i18n/index.js';
import { Slice } from './slice.js';

let seq = 0;

export class Uploads extends Slice {
  private readonly inFlight = new Map<string, AbortController>();

  reset(): void {
    for (const c of this.inFlight.values()) c.abort();
    this.inFlight.clear();
  }

  /** Starts uploading each file; its chip shows at once. */
  add(roomId: string, files: readonly File[]): void {
    for (const f of files) this.start(roomId, f);
  }

  private start(roomId: string, f: File): void {
    const key = `up${++seq}`;
    // What the server would refuse is refused here, before any byte is sent: the size, and one file too many for a
    // message (counting the room's chips that are not failed).
    const pending = (this.s.uploads[roomId] ?? []).filter((u) => u.status !== 'failed').length;
    const refused =
      f.size > this.s.maxUploadBytes
        ? t('files.tooLarge', { max: bytesText(this.s.maxUploadBytes) })
        : pending >= this.s.maxAttachments
          ? t('files.tooMany', { count: this.s.maxAttachments })
          : null;
    if (refused) {
      const chip: PendingUpload = {
        key,
        name: f.name || 'file',
        size: f.size,
        type: f.type,
        progress: 0,
        status: 'failed',
      };
      this.patch(roomId, (list) => [...list, { ...chip, error: refused }]);
      return;
    }
    const controller = new AbortController();
    this.inFlight.set(key, controller);
    const live = this.live();
    this.patch(roomId, (list) => [
      ...list,
      { key, name: f.name || 'file', size: f.size, type: f.type, progress: 0, status: 'uploading' },
    ]);
    this.ctx.api
      .upload(f, f.name || 'file', {
        signal: controller.signal,
        onProgress: (sent, total) => {
          if (live()) this.update(roomId, key, { progress: total > 0 ? Math.min(1, sent / total) : 1 });
        },
      })
      .then(
        (file) => live() && this.update(roomId, key, { status: 'done', progress: 1, file }),
        (err: unknown) => {
          if (!live()) return;
          // A cancelled upload is gone already (cancel removed its chip).
          if (err instanceof ApiError && err.code === 'aborted') return;
          this.update(roomId, key, { status: 'failed', error: errorText(err) });
        },
      )
      .finally(() => this.inFlight.delete(key));
  }

  /** Aborts an upload still going, or forgets one done or failed: its chip goes away. */
  remove(roomId: string, key: string): void {
    this.inFlight.get(key)?.abort();
    this.inFlight.delete(key);
    this.patch(roomId, (list) => list.filter((u) => u.key !== key));
  }

  /** Whether any upload of the room is still going (the message waits for it). */
  busy(roomId: string): boolean {
    return (this.s.uploads[roomId] ?? []).some((u) => u.status === 'uploading');
  }

  /** The room's uploaded files, taken for a message (their chips go; failed ones stay to be seen and removed). */
  take(roomId: string): FileInfo[] {
    const list = this.s.uploads[roomId] ?? [];
    const done = list.flatMap((u) => (u.status === 'done' && u.file ? [u.file] : []));
    if (done.length) this.patch(roomId, (l) => l.filter((u) => u.status !== 'done'));
    return done;
  }

  private update(roomId: string, key: string, patch: Partial<PendingUpload>): void {
    this.patch(roomId, (list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));
  }

  private patch(roomId: string, fn: (list: PendingUpload[]) => PendingUpload[]): void {
    this.set((s) => {
      const next = fn(s.uploads[roomId] ?? []);
      const { [roomId]: _drop, ...rest } = s.uploads;
      return { uploads: next.length ? { ...rest, [roomId]: next } : rest };
    });
  }
}

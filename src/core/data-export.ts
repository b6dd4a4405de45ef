import type { FileInfo } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { toPublicUser } from './accounts.js';
import type { DomainContext } from './context.js';

/** Messages read per store query while streaming an export. */
const EXPORT_BATCH = 500;

/**
 * A user's own data as one JSON document (issue 18, `GET /api/v1/me/export`), streamed in pieces so a long history
 * never sits in memory whole: their profile, the rooms they are in, every message of theirs not deleted (in every
 * room, by room then seq), and the files attached to those messages (metadata and the API path of their bytes).
 */
export class DataExport {
  constructor(private readonly ctx: DomainContext) {}

  now(): number {
    return this.ctx.now();
  }

  async *exportOwn(auth: AuthContext): AsyncGenerator<string> {
    const userId = auth.user.id;
    const rooms = (await this.ctx.store.listRoomsOf(userId)).map((r) => ({ id: r.id, kind: r.kind, name: r.name }));
    const head = {
      format: 'relaychat-export/1',
      exportedAt: new Date(this.ctx.now()).toISOString(),
      profile: toPublicUser(auth.user),
      rooms,
    };
    // The head's closing brace is cut off so the message list can follow inside the same object.
    yield `${JSON.stringify(head).slice(0, -1)},"messages":[`;
    const files = new Map<string, FileInfo>();
    let after: { roomId: string; seq: number } | null = null;
    let first = true;
    for (;;) {
      const batch = await this.ctx.store.listOwnMessages(userId, after, EXPORT_BATCH);
      const out: string[] = [];
      for (const m of batch) {
        for (const f of m.attachments ?? []) files.set(f.id, f);
        out.push(
          JSON.stringify({
            roomId: m.roomId,
            seq: m.seq,
            id: m.id,
            createdAt: m.createdAt,
            body: m.body,
            ...(m.data ? { data: m.data } : {}),
            ...(m.attachments?.length ? { attachments: m.attachments.map((f) => f.id) } : {}),
          }),
        );
      }
      if (out.length > 0) {
        yield (first ? '' : ',') + out.join(',');
        first = false;
      }
      const last = batch.at(-1);
      if (!last || batch.length < EXPORT_BATCH) break;
      after = { roomId: last.roomId, seq: last.seq };
    }
    const fileList = [...files.values()].map((f) => ({ ...f, path: `/api/v1/files/${f.id}` }));
    yield `],"files":${JSON.stringify(fileList)}}`;
  }
}

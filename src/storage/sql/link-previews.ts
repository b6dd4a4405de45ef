import type { LinkPreview, RoomEvent } from '../../protocol/model.js';
import type { LinkPreviewStore } from '../../core/store.js';
import { contentHashOf } from '../../core/chain.js';
import { insertEvent, slotOf } from './events.js';
import { query, Rollback, transaction, type Operations } from './recipe.js';
import { toEvent } from './rows.js';

/**
 * Link previews: kept in the message's own `data.preview` (messageDataSet), announced by a `message.preview` event,
 * atomically. No queries of their own.
 */
export const linkPreviews = {
  setLinkPreview: transaction(function* (now, roomId: string, seq: number, preview: LinkPreview) {
    // The room lock and a seq like every writer, but not the room's activity time: a preview is not news.
    const next = slotOf(yield* query('roomNextSeqQuiet', { roomId }));
    if (next === null) throw new Rollback(null);
    const row = yield* query('eventBySeq', { roomId, seq });
    const message = row ? toEvent(row) : null;
    // Gone, deleted, or previewed already while the fetch ran: nothing to say (and the seq goes back).
    if (!message || message.type !== 'message' || message.data?.deleted || message.data?.preview) {
      throw new Rollback(null);
    }
    if (preview.image) {
      // The image file becomes readable by whoever may read the message (and is kept while the message is), like an
      // attachment: a row in message_attachments, though not in the message's `attachments` list. Gone: no image.
      const found = yield* query('filesLockForAttach', { ids: [preview.image.id] });
      if (found.length === 0) {
        const { image: _gone, ...rest } = preview;
        preview = rest;
      } else {
        yield* query('attachmentsInsert', { rows: [{ roomId, seq, fileId: preview.image.id, position: -1 }] });
      }
    }
    // The stored data keeps the attachments (toEvent lifted them out of it).
    const data = { ...message.data, ...(message.attachments ? { attachments: message.attachments } : {}), preview };
    yield* query('messageDataSet', { roomId, seq, data });
    const event: RoomEvent = yield* insertEvent(
      roomId,
      next,
      now,
      'message.preview',
      message.senderId,
      { seq, messageId: message.id, preview },
      contentHashOf('message', message.body, data),
    );
    return event;
  }),
} satisfies Operations<LinkPreviewStore>;

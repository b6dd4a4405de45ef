import { expect } from 'vitest';
import { parseQuery } from '../../../src/core/search-text.js';
import type { Store } from '../../../src/core/store.js';

/**
 * Migration 12's backfill, checked the same way on both engines: messages stored before the index existed (one
 * edited, one deleted) are found by their current text after the migration runs again, and the deleted one is not.
 */

/** Stores the messages; the caller then takes the database back to before migration 12. */
export async function seedForSearchBackfill(store: Store, uid: (prefix: string) => string) {
  const a = await store.createUser(
    { id: uid('u'), username: uid('a'), displayName: 'a', passwordHash: 'x' },
    { adminIfFirst: false },
  );
  const { room } = await store.createRoom({
    id: uid('r'),
    kind: 'public',
    name: uid('old'),
    topic: '',
    createdBy: a.id,
    members: [{ userId: a.id, role: 'owner' }],
  });
  const send = async (body: string) =>
    (await store.appendMessage({ id: uid('e'), roomId: room.id, senderId: a.id, clientMsgId: uid('c'), body })).event;
  await send('第一条旧消息 first');
  const edited = await send('要改的 before edit');
  await store.editMessage(room.id, edited.seq, a.id, '改好的 after edit https://example.com');
  const deleted = await send('删掉的 gone');
  await store.deleteMessage(room.id, deleted.seq, a.id);
  await send('最后的旧消息 last');
  return { user: a, room };
}

/** After the migration ran again on `store`: what the seeded messages say now is found, and nothing else. */
export async function expectBackfilled(store: Store, seeded: Awaited<ReturnType<typeof seedForSearchBackfill>>) {
  const found = async (q: string, has?: 'link') =>
    (
      await store.searchMessages({
        userId: seeded.user.id,
        parts: parseQuery(q, 8),
        sort: 'newest',
        limit: 10,
        roomId: seeded.room.id,
        ...(has ? { has } : {}),
      })
    ).map((x) => x.message.body);
  expect(await found('旧消息')).toEqual(['最后的旧消息 last', '第一条旧消息 first']);
  expect(await found('改好')).toEqual(['改好的 after edit https://example.com']);
  expect(await found('before')).toEqual([]);
  expect(await found('删掉')).toEqual([]);
  expect(await found('edit', 'link')).toEqual(['改好的 after edit https://example.com']);
}

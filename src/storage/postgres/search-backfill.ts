import type { ClientBase } from 'pg';
import { hasLink, indexTerms, tsVector } from '../../core/search-text.js';

/** Rows per fetch and insert: bounded memory whatever the history's size. */
const BATCH = 2000;

/**
 * Migration 12's backfill: puts every message stored before it (not deleted) into the search index, oldest first so
 * docid order is time order. The terms come from JavaScript (src/core/search-text.ts), so this reads the messages
 * through a cursor and inserts them in batches, all inside the migration's transaction: the index is complete when
 * the migration is recorded, or neither happened.
 */
export async function indexStoredMessages(client: ClientBase): Promise<void> {
  await client.query(
    `DECLARE search_backfill NO SCROLL CURSOR FOR
     SELECT room_id, seq, sender_id, created_at, body, data->'threadRoot' AS thread_root FROM events
     WHERE type = 'message' AND NOT coalesce((data->>'deleted')::boolean, false)
     ORDER BY created_at, room_id, seq`,
  );
  for (;;) {
    const { rows } = await client.query<{
      room_id: string;
      seq: string;
      sender_id: string;
      created_at: string;
      body: string | null;
      thread_root: unknown;
    }>(`FETCH ${BATCH} FROM search_backfill`);
    if (rows.length === 0) break;
    await client.query(
      `INSERT INTO message_search (room_id, seq, sender_id, created_at, has_link, thread_root, terms)
       SELECT r, s, u, c, l, t, v::tsvector
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::boolean[], $6::bigint[], $7::text[])
         WITH ORDINALITY AS x(r, s, u, c, l, t, v, n)
       ORDER BY n`,
      [
        rows.map((r) => r.room_id),
        rows.map((r) => r.seq),
        rows.map((r) => r.sender_id),
        rows.map((r) => r.created_at),
        rows.map((r) => hasLink(r.body ?? '')),
        rows.map((r) => (typeof r.thread_root === 'number' ? r.thread_root : null)),
        rows.map((r) => tsVector(indexTerms(r.body ?? ''))),
      ],
    );
    if (rows.length < BATCH) break;
  }
  await client.query('CLOSE search_backfill');
}

/**
 * Migration 20's rewrite: every indexed message's terms again, now with CJK bigrams (see tsVector), in docid order
 * and batches, inside the migration's transaction — searches of two or more CJK characters look for bigrams, so an
 * index without them would find nothing older than the upgrade.
 */
export async function addCjkBigrams(client: ClientBase): Promise<void> {
  await client.query(
    `DECLARE search_bigrams NO SCROLL CURSOR FOR
     SELECT s.docid, e.body FROM message_search s JOIN events e ON e.room_id = s.room_id AND e.seq = s.seq
     ORDER BY s.docid`,
  );
  for (;;) {
    const { rows } = await client.query<{ docid: string; body: string | null }>(`FETCH ${BATCH} FROM search_bigrams`);
    if (rows.length === 0) break;
    await client.query(
      `UPDATE message_search s SET terms = x.v::tsvector
       FROM unnest($1::bigint[], $2::text[]) AS x(d, v) WHERE s.docid = x.d`,
      [rows.map((r) => r.docid), rows.map((r) => tsVector(indexTerms(r.body ?? '')))],
    );
    if (rows.length < BATCH) break;
  }
  await client.query('CLOSE search_bigrams');
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentHashOf, linkHashOf, verifyRoomChain } from '../../../src/core/chain.js';
import { replyData } from '../../../src/core/send/standard-steps.js';
import type { NewMessage, Store, UserRecord } from '../../../src/core/store.js';
import { GENESIS_HASH } from '../../../src/protocol/chain.js';
import type { RoomEvent } from '../../../src/protocol/model.js';

/**
 * History integrity (issue 18), for every Store: each appended event is a link of its room's hash chain, and the
 * verifier walks the stored rows and names what was changed, removed or reordered by hand — through the engine's own
 * SQL, as someone with the database file or a psql prompt would.
 */
export interface ChainUnderTest {
  store: Store;
  /** Runs SQL on the backing database directly. Parameters are `$1`, `$2`, … each used once, in order. */
  sql(text: string, params?: unknown[]): Promise<void>;
  /** More stores over the same database (cluster nodes); on SQLite, the same store. */
  another(): Promise<Store>;
  cleanup(): Promise<void>;
}

let counter = 0;
const id = (prefix: string) => `${prefix}_ch${(++counter).toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

export function chainContract(name: string, make: () => Promise<ChainUnderTest>): void {
  describe(`History integrity: ${name}`, () => {
    let h: ChainUnderTest;
    let store: Store;
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    const user = (username: string): Promise<UserRecord> =>
      store.createUser(
        { id: id('u'), username: `${username}${++counter}`, displayName: username, passwordHash: 'x' },
        { adminIfFirst: false },
      );
    const message = (roomId: string, sender: UserRecord, body: string, data?: NewMessage['data']): NewMessage => ({
      id: id('e'),
      roomId,
      senderId: sender.id,
      clientMsgId: id('c'),
      body,
      ...(data ? { data } : {}),
    });
    async function allEvents(roomId: string): Promise<RoomEvent[]> {
      const out: RoomEvent[] = [];
      for (let i = 0; i < 100; i++) {
        const page = await store.listEvents(roomId, { after: out.at(-1)?.seq ?? 0, limit: 500 });
        if (page.length === 0) break;
        out.push(...page);
      }
      return out;
    }

    /**
     * A room with every kind of event and every kind of change to a stored message: creation, messages, a reply
     * (with its quote), a join, an edit, a delete of an edited message (its edit events' text goes too), the
     * deletion of a quoted message (the reply's quote is blanked), reactions, a pin, a read receipt, a link
     * preview, a room update, a leave. Returns its events and the seqs of some.
     */
    async function busyRoom() {
      const owner = await user('owner');
      const bob = await user('bob');
      const { room } = await store.createRoom({
        id: id('r'),
        kind: 'public',
        name: `chain ${++counter}`,
        topic: '',
        createdBy: owner.id,
        members: [{ userId: owner.id, role: 'owner' }],
      }); // 1, 2
      const first = (await store.appendMessage(message(room.id, owner, 'first'))).event; // 3
      await store.addMember(room.id, bob.id, 'member', bob.id); // 4
      const quoted = (await store.appendMessage(message(room.id, bob, 'quote me'))).event; // 5
      const reply = (await store.appendMessage(message(room.id, owner, 'a reply', { ...replyData(quoted, false) })))
        .event; // 6
      await store.editMessage(room.id, first.seq, owner.id, 'first, edited'); // 7
      await store.editMessage(room.id, first.seq, owner.id, 'first, edited twice'); // 8
      const kept = (await store.appendMessage(message(room.id, bob, 'see https://example.com'))).event; // 9
      await store.editMessage(room.id, kept.seq, bob.id, 'see https://example.com !'); // 10
      await store.addReaction(room.id, kept.seq, owner.id, '🎉', 20); // 11
      await store.pinMessage(room.id, kept.seq, owner.id, 50); // 12
      await store.setLinkPreview(room.id, kept.seq, { url: 'https://example.com', title: 'Ex', description: null }); // 13
      await store.deleteMessage(room.id, first.seq, owner.id); // 14: erases 3 and the text of 7, 8
      await store.deleteMessage(room.id, quoted.seq, owner.id); // 15: blanks the quote in 6
      await store.markRead(room.id, bob.id, kept.seq, true); // 16
      await store.updateRoom(room.id, { topic: 'chained' }, owner.id); // 17
      await store.removeMember(room.id, bob.id, bob.id, 'left'); // 18
      return { room, owner, bob, first, quoted, reply, kept, lastSeq: 18 };
    }

    it('every event type is chained: each prevHash is the hash before it, the head is the last hash; it verifies', async () => {
      const { room, lastSeq } = await busyRoom();
      const events = await allEvents(room.id);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
      let prev = GENESIS_HASH;
      for (const e of events) {
        expect(e.hash, `seq ${e.seq}`).toMatch(/^[0-9a-f]{64}$/);
        expect(e.prevHash, `seq ${e.seq}`).toBe(prev);
        // The hash covers the header and the content hash: recomputed from the event as read.
        expect(linkHashOf(e.prevHash!, e, e.contentHash!, e.targetHash ?? null), `seq ${e.seq}`).toBe(e.hash);
        prev = e.hash!;
      }
      // Edits, deletes and the preview record the message's content hash after the change.
      expect(events.filter((e) => e.targetHash).map((e) => e.type)).toEqual([
        'message.edited',
        'message.edited',
        'message.edited',
        'message.preview',
        'message.deleted',
        'message.deleted',
      ]);
      const fresh = await store.getRoom(room.id);
      expect(fresh?.headHash).toBe(prev);
      expect(fresh?.chainFrom).toBe(1);
      const report = await verifyRoomChain(store, room.id);
      expect(report).toMatchObject({ ok: true, lastSeq, chainFrom: 1, checked: lastSeq, firstBroken: null });
      expect(report?.headHash).toBe(prev);
    });

    it('a deleted message keeps the hash of what was there, and the delete records the hash of what is left', async () => {
      const { room, first } = await busyRoom();
      const events = await allEvents(room.id);
      const erased = events.find((e) => e.seq === first.seq)!;
      expect(erased.body).toBe('');
      expect(erased.contentHash).toBe(contentHashOf('message', 'first', null));
      const del = events.find((e) => e.type === 'message.deleted' && e.data?.seq === first.seq)!;
      expect(del.targetHash).toBe(contentHashOf('message', erased.body, erased.data));
    });

    it('a message whose text was changed by hand is named, edited or not', async () => {
      const { room, reply, kept } = await busyRoom();
      await h.sql('UPDATE events SET body = $1 WHERE room_id = $2 AND seq = $3', ['forged', room.id, reply.seq]);
      const report = (await verifyRoomChain(store, room.id))!;
      expect(report.ok).toBe(false);
      expect(report.firstBroken).toMatchObject({ seq: reply.seq, problem: 'content' });
      expect(report.problems).toHaveLength(1);

      // An edited message is checked against what its last edit (here: its preview) recorded.
      await h.sql('UPDATE events SET body = $1 WHERE room_id = $2 AND seq = $3', ['forged', room.id, kept.seq]);
      const again = (await verifyRoomChain(store, room.id))!;
      expect(again.problems.map((p) => [p.seq, p.problem])).toEqual([
        [reply.seq, 'content'],
        [kept.seq, 'content'],
      ]);
      expect(again.problems[1]!.detail).toMatch(/recorded by its change at seq 13/);
    });

    it("a non-message event's data or sender changed by hand is named", async () => {
      const { room, bob } = await busyRoom();
      // The reaction at 11 gets another emoji: its data no longer matches its contentHash.
      const data = JSON.stringify({ seq: 9, emoji: '💩', userId: bob.id });
      await h.sql('UPDATE events SET data = $1 WHERE room_id = $2 AND seq = $3', [data, room.id, 11]);
      expect((await verifyRoomChain(store, room.id))!.firstBroken).toMatchObject({ seq: 11, problem: 'content' });
      // The join at 4 is put on another sender: a header field, covered by the event's own hash.
      await h.sql('UPDATE events SET sender_id = $1 WHERE room_id = $2 AND seq = $3', ['u_someone', room.id, 4]);
      expect((await verifyRoomChain(store, room.id))!.firstBroken).toMatchObject({ seq: 4, problem: 'altered' });
    });

    it('a removed event is named, in the middle and at the end', async () => {
      const { room, lastSeq } = await busyRoom();
      await h.sql('DELETE FROM events WHERE room_id = $1 AND seq = $2', [room.id, 11]);
      const report = (await verifyRoomChain(store, room.id))!;
      expect(report.firstBroken).toMatchObject({ seq: 11, problem: 'missing' });
      expect(report.problems).toHaveLength(1);

      await h.sql('DELETE FROM events WHERE room_id = $1 AND seq = $2', [room.id, lastSeq]);
      const again = (await verifyRoomChain(store, room.id))!;
      expect(again.problems.map((p) => [p.seq, p.problem])).toEqual([
        [11, 'missing'],
        [lastSeq, 'missing'],
        [lastSeq, 'head'],
      ]);
    });

    it('reordered events are named with the seq they were appended at', async () => {
      const { room } = await busyRoom();
      // Swap 9 and 12 (through a free seq: the primary key holds meanwhile).
      await h.sql('UPDATE events SET seq = $1 WHERE room_id = $2 AND seq = $3', [1000, room.id, 9]);
      await h.sql('UPDATE events SET seq = $1 WHERE room_id = $2 AND seq = $3', [9, room.id, 12]);
      await h.sql('UPDATE events SET seq = $1 WHERE room_id = $2 AND seq = $3', [12, room.id, 1000]);
      const report = (await verifyRoomChain(store, room.id))!;
      expect(report.firstBroken).toMatchObject({ seq: 9, problem: 'reordered' });
      expect(report.firstBroken!.detail).toMatch(/appended as seq 12/);
      const at12 = report.problems.find((p) => p.seq === 12);
      expect(at12).toMatchObject({ problem: 'reordered' });
      expect(at12!.detail).toMatch(/appended as seq 9/);
      // The events after each moved one no longer follow the hash before them, and the (edited) message now at 12
      // is no longer where its edits say it is.
      expect(report.problems.map((p) => [p.seq, p.problem])).toEqual([
        [9, 'reordered'],
        [10, 'link'],
        [12, 'reordered'],
        [12, 'content'],
        [13, 'link'],
      ]);
    });

    it('a stored hash or content hash rewritten by hand is named', async () => {
      const { room } = await busyRoom();
      // Rewriting a content hash to match forged content breaks the event's own hash.
      const forged = contentHashOf('message', 'forged', null);
      await h.sql('UPDATE events SET body = $1, content_hash = $2 WHERE room_id = $3 AND seq = $4', [
        'forged',
        forged,
        room.id,
        9,
      ]);
      const report = (await verifyRoomChain(store, room.id))!;
      expect(report.firstBroken).toMatchObject({ seq: 9, problem: 'altered' });
    });

    it('a room from before the chain: verified from its first hashed event, the anchor it records', async () => {
      const owner = await user('legacy');
      const { room } = await store.createRoom({
        id: id('r'),
        kind: 'private',
        name: 'legacy',
        topic: '',
        createdBy: owner.id,
        members: [{ userId: owner.id, role: 'owner' }],
      });
      await store.appendMessage(message(room.id, owner, 'old')); // 3
      // As migration 18 leaves a room with events: unhashed rows, no head, the chain starting after them.
      await h.sql(
        'UPDATE events SET hash = NULL, prev_hash = NULL, content_hash = NULL WHERE room_id = $1 AND seq > $2',
        [room.id, 0],
      );
      await h.sql('UPDATE rooms SET head_hash = NULL, chain_from = last_seq + 1 WHERE id = $1', [room.id]);
      const old = await allEvents(room.id);
      expect(old.every((e) => e.hash === undefined)).toBe(true);
      expect(await verifyRoomChain(store, room.id)).toMatchObject({ ok: true, chainFrom: 4, checked: 0 });

      const next = (await store.appendMessage(message(room.id, owner, 'new'))).event; // 4
      expect(next.prevHash).toBe(GENESIS_HASH);
      await store.editMessage(room.id, next.seq, owner.id, 'new, edited'); // 5
      expect(await verifyRoomChain(store, room.id)).toMatchObject({ ok: true, chainFrom: 4, checked: 2 });
      // Rows before the anchor are not covered; the first hashed one is.
      await h.sql('UPDATE events SET body = $1 WHERE room_id = $2 AND seq = $3', ['x', room.id, 3]);
      expect((await verifyRoomChain(store, room.id))!.ok).toBe(true);
      await h.sql('UPDATE events SET hash = NULL WHERE room_id = $1 AND seq = $2', [room.id, 5]);
      // The edit at 5 is no longer a link, so what it recorded about 4 does not count either.
      expect((await verifyRoomChain(store, room.id))!.problems.map((p) => [p.seq, p.problem])).toEqual([
        [4, 'content'],
        [5, 'unhashed'],
        [5, 'head'],
      ]);
    });

    it('concurrent appends from several writers (nodes) keep one unbroken chain', async () => {
      const owner = await user('busy');
      const { room } = await store.createRoom({
        id: id('r'),
        kind: 'public',
        name: `busy ${++counter}`,
        topic: '',
        createdBy: owner.id,
        members: [{ userId: owner.id, role: 'owner' }],
      });
      const writers = [store, await h.another(), await h.another()];
      // Messages (group-committed) interleaved with single-event writers (reactions, edits) on every writer.
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        const w = writers[i % writers.length]!;
        work.push(
          w.appendMessage(message(room.id, owner, `m${i}`)).then(async ({ event }) => {
            if (i % 4 === 0) await w.addReaction(room.id, event.seq, owner.id, '👍', 20);
            if (i % 5 === 0) await w.editMessage(room.id, event.seq, owner.id, `m${i} edited`);
          }),
        );
      }
      await Promise.all(work);
      const report = (await verifyRoomChain(store, room.id))!;
      expect(report.problems).toEqual([]);
      expect(report.checked).toBe(2 + 40 + 10 + 8);
    });
  });
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '../../src/core/bus.js';
import { Connection } from '../../src/core/delivery/connection.js';
import { Hub } from '../../src/core/delivery/hub.js';
import { WriteScheduler } from '../../src/core/delivery/write-scheduler.js';
import { InProcessBus } from '../../src/core/in-process-bus.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { waitFor } from '../helpers/harness.js';

/**
 * The hub queues live events until the next flush, while `room.added` (a user topic) is handled at once. A user
 * who leaves and joins again within one flush must keep the room: the old membership's `member.left` is
 * delivered after the new membership was announced.
 */
describe('Hub: leave and rejoin within one flush', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps the room, says room.removed then room.added, and resumes at the new membership', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaychat-hub-'));
    dirs.push(dir);
    const store = new SqliteStore({ file: join(dir, 'chat.db') });
    const bus = new InProcessBus();
    const log = { warn: () => {}, error: () => {} };
    const hub = new Hub({
      store,
      bus,
      writes: new WriteScheduler({ busyWindowMs: 0, busyUtilization: 0.8 }),
      replayPageSize: 100,
      replayLowWaterBytes: 1 << 20,
      log,
    });
    try {
      const user = (id: string) => ({ id, username: id, displayName: id, passwordHash: 'x' });
      await store.createUser(user('u_owner'), { adminIfFirst: false });
      await store.createUser(user('u_bob'), { adminIfFirst: false });
      const { room } = await store.createRoom({
        id: 'r_1',
        kind: 'public',
        name: 'one',
        topic: '',
        createdBy: 'u_owner',
        members: [
          { userId: 'u_owner', role: 'owner' },
          { userId: 'u_bob', role: 'member' },
        ],
      });

      const frames: Record<string, unknown>[] = [];
      const transport = {
        send: (data: string | Uint8Array) => {
          const parsed = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data)) as unknown;
          frames.push(...((Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[]));
        },
        close: () => {},
        bufferedAmount: 0,
      };
      const conn = new Connection('c_1', 'u_bob', 'u_bob', 's_1', transport, 1 << 20, hub.writes);
      hub.register(conn);
      hub.attach(conn, await store.listRoomsOf('u_bob'), {});
      await waitFor(() => frames.some((f) => f.type === 'synced'));
      const firstJoin = conn.rooms.get(room.id)!.joinedSeq;

      // Bob leaves and joins again; both events are published before the hub flushes its queue.
      const left = (await store.removeMember(room.id, 'u_bob', 'u_bob', 'left'))!;
      const joined = (await store.addMember(room.id, 'u_bob', 'member', 'u_bob'))!;
      const mine = (await store.listRoomsOf('u_bob')).find((r) => r.id === room.id)!;
      await bus.publish(topics.room(room.id), { kind: 'event', event: left });
      await bus.publish(topics.user('u_bob'), { kind: 'room.added', userId: 'u_bob', room: mine, fromSeq: joined.seq });
      await bus.publish(topics.room(room.id), { kind: 'event', event: joined });

      await waitFor(() => frames.some((f) => f.type === 'room.added'));
      await waitFor(() => frames.filter((f) => f.type === 'synced').length === 2);
      const cursor = conn.rooms.get(room.id);
      expect(cursor, 'the room is still delivered to the connection').toBeDefined();
      expect(cursor!.joinedSeq).toBeGreaterThan(firstJoin);
      expect(cursor!.seq).toBe(joined.seq);
      const types = frames.map((f) => (f.type === 'event' ? `event:${(f.event as { type: string }).type}` : f.type));
      expect(types.slice(types.indexOf('event:member.left'))).toEqual([
        'event:member.left',
        'room.removed',
        'room.added',
        'event:member.joined',
        'synced',
      ]);
    } finally {
      hub.close();
      await store.close();
    }
  });
});

import type { Result } from '../lib/measure.js';
import { buildRooms, leaveLobby, registerUsers } from '../lib/setup.js';
import type { ClientSpec } from '../lib/wire.js';
import { summarize } from './big-room.js';
import { searchWithPool, withBaseline, withRelay, type Ctx } from './common.js';

/**
 * Many small rooms: N clients in N/size rooms of `size`, one sender per room, the total rate doubling per step.
 * relaychat: each room is created by its first member over HTTP and joined by the others; every client is in
 * the lobby too, as in a real deployment (`--leave-lobby` makes them leave it, so each client is in exactly one
 * room of `size`). Baseline: each client joins its room.
 */
export async function smallRooms(ctx: Ctx): Promise<Result[]> {
  const o = ctx.opts.smallRooms;
  const roomCount = Math.max(1, Math.floor(o.clients / o.roomSize));
  const n = roomCount * o.roomSize;
  // Client k*size is room k's sender (it is also the room's creator).
  const senders = Array.from({ length: roomCount }, (_, k) => k * o.roomSize);
  const ladder = { rates: o.rates, startRate: o.startRate, maxSteps: o.maxSteps };
  const all: Result[] = [];

  ctx.log(`small-rooms: ${n} clients in ${roomCount} rooms of ${o.roomSize}, ${senders.length} senders`);
  const ours = await withRelay(ctx, 'small-rooms', {}, async (server) => {
    let t0 = performance.now();
    const users = await registerUsers(server.baseUrl, n, 'small');
    ctx.log(`  registered ${users.length} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    const groups = Array.from({ length: roomCount }, (_, k) => users.slice(k * o.roomSize, (k + 1) * o.roomSize));
    const roomIds = await buildRooms(server.baseUrl, groups);
    if (o.leaveLobby) await leaveLobby(server.baseUrl, users);
    ctx.log(
      `  created ${roomCount} rooms and ${n - roomCount} joins${o.leaveLobby ? `, ${n} lobby leaves` : ''} in ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const specs: ClientSpec[] = users.map((u, i) => ({
      id: i,
      token: u.token,
      room: roomIds[Math.floor(i / o.roomSize)]!,
    }));
    return searchWithPool(
      ctx,
      'relaychat',
      server,
      specs,
      { scenario: 'small-rooms', rooms: roomCount, senders, settleMaxMs: 10_000 },
      ladder,
    );
  });
  all.push(...ours);

  let theirs: Result[] = [];
  if (ctx.opts.baseline) {
    theirs = await withBaseline(ctx, 'small-rooms', async (server) => {
      const specs: ClientSpec[] = Array.from({ length: n }, (_, i) => ({
        id: i,
        token: '',
        room: `room-${Math.floor(i / o.roomSize)}`,
      }));
      return searchWithPool(
        ctx,
        'baseline',
        server,
        specs,
        { scenario: 'small-rooms', rooms: roomCount, senders, settleMaxMs: 5000 },
        ladder,
      );
    });
    all.push(...theirs);
  }
  ctx.emit(summarize('small-rooms', ours, theirs, ctx.opts.p99LimitMs, n, roomCount, senders.length));
  return all;
}

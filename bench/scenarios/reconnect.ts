import { sleep } from '../lib/children.js';
import { closeWindow, drain, latencyFields, MB, openWindow, round, type Result } from '../lib/measure.js';
import { buildRooms, leaveLobby, registerUsers } from '../lib/setup.js';
import type { ClientSpec } from '../lib/wire.js';
import { settle, withPool, withRelay, type Ctx } from './common.js';

const pct = (xs: number[], p: number) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return round(v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!, 1);
};

/**
 * Reconnect storm (relaychat only; the baseline has no resume): N clients in N/size rooms, plus one extra
 * sender per room that keeps its connection and keeps sending at a total `rate` for the whole run. At
 * `stormAt` all N clients drop at once (socket cut, no closing handshake) and immediately reconnect with
 * `hello.resume` = the last seq each saw per room (by default all at once; `--storm-concurrency` bounds it).
 * Target per room = the highest seq acked or seen anywhere at the drop. A client has caught up when it is
 * synced again and has seen every target; seq contiguity is checked per client across the drop, and at the
 * end every client must have every event of the run exactly once.
 */
export async function reconnect(ctx: Ctx): Promise<Result[]> {
  const o = ctx.opts.reconnect;
  const roomCount = Math.max(1, Math.floor(o.clients / o.roomSize));
  const n = roomCount * o.roomSize;
  ctx.log(
    `reconnect: ${n} clients in ${roomCount} rooms drop and resume at once, ${roomCount} senders at ${o.rate} msg/s`,
  );
  return withRelay(ctx, 'reconnect', {}, async (server) => {
    let t0 = performance.now();
    const users = await registerUsers(server.baseUrl, n + roomCount, 'storm');
    ctx.log(`  registered ${users.length} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    const senderUsers = users.slice(n);
    const groups = Array.from({ length: roomCount }, (_, k) => [
      senderUsers[k]!,
      ...users.slice(k * o.roomSize, (k + 1) * o.roomSize),
    ]);
    const roomIds = await buildRooms(server.baseUrl, groups);
    if (ctx.opts.smallRooms.leaveLobby) await leaveLobby(server.baseUrl, users);
    ctx.log(`  rooms built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const specs: ClientSpec[] = [
      ...users.slice(0, n).map((u, i) => ({
        id: i,
        token: u.token,
        room: roomIds[Math.floor(i / o.roomSize)]!,
        storm: true,
      })),
      ...senderUsers.map((u, k) => ({ id: n + k, token: u.token, room: roomIds[k]! })),
    ];
    const senders = senderUsers.map((_, k) => n + k);
    return withPool(ctx, 'relaychat', server, specs, async (pool) => {
      await settle(server, 10_000, ctx.opts.quick ? 0 : 1500);
      await pool.beginStep();
      const w = openWindow(server);
      const sending = pool.send(o.rate, o.totalSec * 1000, senders);
      await sleep(o.stormAtSec * 1000);
      const s = await pool.stats();
      const targets: Record<string, number> = { ...s.maxAcked };
      for (const [r, v] of Object.entries(s.maxSeen)) targets[r] = Math.max(targets[r] ?? 0, v);
      ctx.log(`  storm: dropping ${n} clients`);
      const storm = await pool.storm(targets, o.stormConcurrency, o.timeoutSec * 1000);
      await sending;
      const { rep, expected, timedOut } = await drain(pool, 'relaychat', new Map(), 30_000);
      const win = closeWindow(w);
      const allCaughtMs = storm.caughtUpMs.some((x) => !Number.isFinite(x))
        ? null
        : round(Math.max(...storm.caughtUpMs), 1);
      const r: Result = {
        scenario: 'reconnect',
        server: 'relaychat',
        label: `${n} drop + resume`,
        clients: n + roomCount,
        stormClients: n,
        rooms: roomCount,
        senders: roomCount,
        offeredRate: o.rate,
        durationSec: o.totalSec,
        stormConcurrency: o.stormConcurrency,
        reconnected: storm.reconnected,
        caughtUp: storm.caughtUp,
        reconnectFailed: storm.failed,
        allCaughtUpMs: allCaughtMs,
        caughtUpP50Ms: pct(storm.caughtUpMs, 50),
        caughtUpP99Ms: pct(storm.caughtUpMs, 99),
        resyncedMaxMs: pct(storm.readyMs, 100),
        target: 'all caught up, no gap, within 10 s',
        sent: rep.sent,
        acked: rep.acked,
        ackErrors: rep.ackErrors,
        unacked: rep.unacked,
        expected,
        delivered: rep.delivered,
        lost: Math.max(0, expected - rep.delivered),
        duplicated: rep.duplicates,
        gaps: rep.gaps,
        ...latencyFields(rep, true),
        ...win,
        genElu: rep.elu.map((x) => round(x)),
        serverCloses: rep.closes,
        reconnects: rep.reconnects,
        drainTimedOut: timedOut,
        presenceMB: MB(rep.presenceBytes),
      };
      ctx.emit(r);
      ctx.log(
        `  ${storm.caughtUp}/${n} caught up; all within ${allCaughtMs} ms (p50 ${r.caughtUpP50Ms}, p99 ${r.caughtUpP99Ms}); ` +
          `lost ${r.lost}, dup ${r.duplicated}, gaps ${r.gaps}`,
      );
      return [r];
    });
  });
}

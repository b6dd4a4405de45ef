import type { ServerHandle } from '../lib/children.js';
import { sleep } from '../lib/children.js';
import { MB, membersPerRoom, rateStep, round, type Result } from '../lib/measure.js';
import type { ClientPool } from '../lib/pool.js';
import { registerUsers } from '../lib/setup.js';
import type { ClientSpec, ServerKind } from '../lib/wire.js';
import { settle, withBaseline, withPool, withRelay, type Ctx } from './common.js';

/**
 * Idle: N connected clients doing nothing. Memory per connection = (server RSS after − RSS before) / N, where
 * "before" is the settled server with its users registered and no socket open, and "after" is the settled
 * server with all N authenticated (relaychat) / joined (baseline) connections open. Each RSS is the median of
 * the samples taken over one second. relaychat users get several connections each when N is large
 * (MAX_CONNECTIONS_PER_USER is raised to fit). Afterwards one short message burst checks delivery to all N.
 */
export async function idle(ctx: Ctx): Promise<Result[]> {
  const o = ctx.opts.idle;
  const n = o.connections;
  const perUser = Math.ceil(n / o.users);
  const out: Result[] = [];
  ctx.log(`idle: ${n} connections (relaychat: ${o.users} users × up to ${perUser} connections)`);

  // Quick runs only check that it works: shorter settling, a shorter RSS window.
  const pause = ctx.opts.quick ? 300 : 1200;
  const rssWindow = ctx.opts.quick ? 250 : 1000;
  const measure = async (
    kind: ServerKind,
    server: ServerHandle,
    specs: ClientSpec[],
    extra: Record<string, number>,
  ) => {
    await settle(server, 10_000);
    await sleep(pause);
    const before = server.sampler.medianRss(rssWindow);
    const label = `${n} idle`;
    return withPool(ctx, kind, server, specs, async (pool: ClientPool, connectSec) => {
      await settle(server, 15_000, ctx.opts.quick ? 0 : 1500);
      await sleep(pause);
      const after = server.sampler.medianRss(rssWindow);
      const hwm = server.sampler.read().hwmBytes;
      // Presence frames the clients received while connecting (relaychat tells rooms who came online).
      const seen = await pool.stats();
      const r: Result = {
        scenario: 'idle',
        server: kind,
        label,
        clients: n,
        ...extra,
        rssBeforeMB: MB(before),
        rssAfterMB: MB(after),
        memPerConnKB: round((after - before) / n / 1024, 1),
        serverPeakRssMB: MB(hwm),
        connectSec: round(connectSec, 1),
        connectsPerSec: Math.round(n / connectSec),
        presenceFrames: seen.presenceFrames,
        presenceMB: MB(seen.presenceBytes),
      };
      ctx.emit(r);
      ctx.log(`  ${kind}: ${r.memPerConnKB} KB per connection (RSS ${r.rssBeforeMB} → ${r.rssAfterMB} MB)`);
      // Delivery check: a couple of messages to all N, nothing lost, nothing duplicated.
      const check = await rateStep({
        scenario: 'idle',
        label: 'delivery check',
        kind,
        pool,
        server,
        clients: n,
        rooms: 1,
        senders: [0],
        membersOf: membersPerRoom(specs.map((s) => s.room)),
        rate: 2,
        durationMs: ctx.opts.quick ? 500 : 1000,
      });
      ctx.emit(check);
      ctx.log(`  ${kind} delivery check: ${check.delivered}/${check.expected} delivered, lost ${check.lost}`);
      return [r, check];
    });
  };

  const ours = await withRelay(ctx, 'idle', { MAX_CONNECTIONS_PER_USER: String(perUser + 2) }, async (server) => {
    const t0 = performance.now();
    const users = await registerUsers(server.baseUrl, o.users, 'idle');
    ctx.log(`  registered ${users.length} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const specs: ClientSpec[] = Array.from({ length: n }, (_, i) => ({
      id: i,
      token: users[i % users.length]!.token,
      room: 'lobby',
    }));
    return measure('relaychat', server, specs, { users: users.length, connectionsPerUser: perUser });
  });
  out.push(...ours);

  let theirs: Result[] = [];
  if (ctx.opts.baseline) {
    theirs = await withBaseline(ctx, 'idle', async (server) => {
      const specs: ClientSpec[] = Array.from({ length: n }, (_, i) => ({ id: i, token: '', room: 'lobby' }));
      return measure('baseline', server, specs, {});
    });
    out.push(...theirs);
  }
  const a = ours[0]?.memPerConnKB;
  const b = theirs[0]?.memPerConnKB;
  ctx.emit({
    scenario: 'idle',
    server: 'both',
    label: 'summary',
    clients: n,
    relaychatMemPerConnKB: a ?? null,
    baselineMemPerConnKB: b ?? null,
    ratioToBaseline: a !== undefined && b ? round(a / b, 2) : null,
    target: '<= 1.5x baseline',
    lost: ours[1]?.lost ?? 0,
    duplicated: ours[1]?.duplicated ?? 0,
  });
  return out;
}

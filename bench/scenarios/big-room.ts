import { limitedBy, round, type Result } from '../lib/measure.js';
import { registerUsers } from '../lib/setup.js';
import type { ClientSpec } from '../lib/wire.js';
import { passes, searchWithPool, sustained, withBaseline, withRelay, type Ctx } from './common.js';

/**
 * Big room: N clients in one room (relaychat: the lobby every user is in; baseline: one joined room), S of them
 * sending at a total rate that doubles each step until p99 passes the limit or deliveries/s stop growing.
 */
export async function bigRoom(ctx: Ctx): Promise<Result[]> {
  const o = ctx.opts.bigRoom;
  const senders = Array.from({ length: Math.min(o.senders, o.clients) }, (_, i) =>
    Math.floor((i * o.clients) / Math.min(o.senders, o.clients)),
  );
  const ladder = { rates: o.rates, startRate: o.startRate, maxSteps: o.maxSteps };
  const all: Result[] = [];

  ctx.log(`big-room: ${o.clients} clients in one room, ${senders.length} senders`);
  const ours = await withRelay(ctx, 'big-room', {}, async (server) => {
    const t0 = performance.now();
    const users = await registerUsers(server.baseUrl, o.clients, 'big');
    ctx.log(`  registered ${users.length} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const specs: ClientSpec[] = users.map((u, i) => ({ id: i, token: u.token, room: 'lobby' }));
    return searchWithPool(
      ctx,
      'relaychat',
      server,
      specs,
      { scenario: 'big-room', rooms: 1, senders, settleMaxMs: 8000 },
      ladder,
    );
  });
  all.push(...ours);

  let theirs: Result[] = [];
  if (ctx.opts.baseline) {
    theirs = await withBaseline(ctx, 'big-room', async (server) => {
      const specs: ClientSpec[] = Array.from({ length: o.clients }, (_, i) => ({ id: i, token: '', room: 'big' }));
      return searchWithPool(
        ctx,
        'baseline',
        server,
        specs,
        { scenario: 'big-room', rooms: 1, senders, settleMaxMs: 5000 },
        ladder,
      );
    });
    all.push(...theirs);
  }

  const summary = summarize('big-room', ours, theirs, ctx.opts.p99LimitMs, o.clients, 1, senders.length);
  ctx.emit(summary);
  return all;
}

export function summarize(
  scenario: string,
  ours: Result[],
  theirs: Result[],
  limitMs: number,
  clients: number,
  rooms: number,
  senders: number,
): Result {
  const a = sustained(ours, limitMs);
  const b = sustained(theirs, limitMs);
  const ratio = a && b && b.deliveriesPerSec ? round((a.deliveriesPerSec ?? 0) / b.deliveriesPerSec, 2) : null;
  const ok = (r: Result) => passes(r, limitMs);
  const la = limitedBy(ours, ok);
  const lb = limitedBy(theirs, ok);
  return {
    scenario,
    server: 'both',
    label: 'summary',
    clients,
    rooms,
    senders,
    p99LimitMs: limitMs,
    relaychatSustainedDeliveriesPerSec: a?.deliveriesPerSec ?? 0,
    relaychatSustainedAtRate: a?.offeredRate ?? null,
    relaychatP99AtSustainedMs: a?.e2eP99Ms ?? null,
    baselineSustainedDeliveriesPerSec: theirs.length ? (b?.deliveriesPerSec ?? 0) : null,
    baselineSustainedAtRate: b?.offeredRate ?? null,
    baselineP99AtSustainedMs: b?.e2eP99Ms ?? null,
    ratioToBaseline: ratio,
    relaychatLimitedBy: la?.who ?? null,
    relaychatSearchEndedAt: la?.step.offeredRate ?? null,
    baselineLimitedBy: lb?.who ?? null,
    baselineSearchEndedAt: lb?.step.offeredRate ?? null,
    relaychatLost: ours.reduce((s, r) => s + (r.lost ?? 0), 0),
    relaychatDuplicated: ours.reduce((s, r) => s + (r.duplicated ?? 0), 0),
    lost: ours.reduce((s, r) => s + (r.lost ?? 0), 0),
    duplicated: ours.reduce((s, r) => s + (r.duplicated ?? 0), 0),
  };
}

import { describe, expect, it } from 'vitest';
import type { AuditEntry, PublicUser, Report, RoomEvent } from '../../src/protocol/model.js';
import { registerUser, startServer } from '../helpers/harness.js';
import {
  call,
  cast,
  closedWithin,
  expectStatus,
  history,
  httpSend,
  live,
  wsSend,
  type Frame,
} from '../helpers/moderation-kit.js';

/**
 * Issue #5: reports through to resolution (dismiss, delete, mute, ban), who sees which queue, and the audit log
 * entries every moderation and admin action leaves.
 */

async function post(url: string, token: string, roomId: string, body: string): Promise<number> {
  const r = await httpSend(url, token, roomId, body);
  expect(r.status).toBe(201);
  return r.body.message.seq;
}

async function report(url: string, token: string, input: Record<string, unknown>): Promise<Report> {
  return (await expectStatus<{ report: Report }>(url, token, 'POST', '/api/v1/reports', input, 201)).report;
}

async function queue(url: string, token: string, status?: 'open' | 'resolved') {
  return expectStatus<{ reports: Report[]; users: PublicUser[] }>(
    url,
    token,
    'GET',
    `/api/v1/reports${status ? `?status=${status}` : ''}`,
    undefined,
    200,
  );
}

function resolve(url: string, token: string, id: string, body: Record<string, unknown>, status = 200, code?: string) {
  return expectStatus<{ report: Report }>(url, token, 'POST', `/api/v1/reports/${id}/resolve`, body, status, code);
}

describe('reports', () => {
  it('a report reaches the room’s moderators (not other rooms’) and resolves once', async () => {
    const srv = await startServer();
    const { admin, mod, alice, bob, roomId } = await cast(srv.url);
    // carol moderates a room of her own; she is not in alice's room.
    const carol = await registerUser(srv.url, 'carol');
    await carol.api.createRoom('carols room');

    const seq = await post(srv.url, bob.token, roomId, 'you are all wrong');
    const r = await report(srv.url, alice.token, { roomId, seq, reason: 'rude' });
    expect(r).toMatchObject({
      reporterId: alice.user.id,
      roomId,
      seq,
      targetUserId: bob.user.id,
      reason: 'rude',
      excerpt: 'you are all wrong',
      status: 'open',
      resolution: null,
    });
    // Reporting yourself or a message that does not exist is refused.
    const own = await post(srv.url, alice.token, roomId, 'mine');
    await expectStatus(
      srv.url,
      alice.token,
      'POST',
      '/api/v1/reports',
      { roomId, seq: own, reason: 'x' },
      400,
      'validation_failed',
    );
    await expectStatus(
      srv.url,
      alice.token,
      'POST',
      '/api/v1/reports',
      { roomId, seq: 9999, reason: 'x' },
      404,
      'not_found',
    );

    for (const who of [mod, admin]) {
      const q = await queue(srv.url, who.token);
      expect(q.reports.map((x) => [x.id, x.excerpt])).toEqual([[r.id, 'you are all wrong']]);
      expect(q.users.map((u) => u.id).sort()).toEqual([alice.user.id, bob.user.id].sort());
    }
    expect((await queue(srv.url, carol.token)).reports).toEqual([]);
    expect((await queue(srv.url, alice.token)).reports).toEqual([]);
    await resolve(srv.url, carol.token, r.id, { action: 'dismiss' }, 404, 'not_found');
    await resolve(srv.url, alice.token, r.id, { action: 'dismiss' }, 404, 'not_found');

    const done = await resolve(srv.url, mod.token, r.id, { action: 'dismiss' });
    expect(done.report).toMatchObject({ status: 'resolved', resolution: 'dismissed', resolvedBy: mod.user.id });
    await resolve(srv.url, mod.token, r.id, { action: 'dismiss' }, 409, 'already_resolved');
    await resolve(srv.url, admin.token, r.id, { action: 'ban' }, 409, 'already_resolved');
    expect((await queue(srv.url, mod.token, 'open')).reports).toEqual([]);
    expect((await queue(srv.url, mod.token, 'resolved')).reports.map((x) => x.id)).toEqual([r.id]);
    // Dismissed: nothing happened to bob or his message.
    expect((await history(srv.url, alice.token, roomId)).find((m) => m.seq === seq)?.body).toBe('you are all wrong');
    expect((await httpSend(srv.url, bob.token, roomId, 'still here')).status).toBe(201);
  });

  it('resolving with delete, mute and ban applies the action', async () => {
    const srv = await startServer();
    const { mod, alice, bob, roomId } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    const b = await live(srv.url, bob.token);

    // delete: the message is redacted live and in history; the report keeps the evidence.
    const s1 = await post(srv.url, bob.token, roomId, 'spam spam spam');
    const r1 = await report(srv.url, alice.token, { roomId, seq: s1, reason: 'spam' });
    const d = await resolve(srv.url, mod.token, r1.id, { action: 'delete' });
    expect(d.report).toMatchObject({ resolution: 'deleted', excerpt: 'spam spam spam' });
    await a.next(
      (f: Frame) =>
        f.type === 'event' &&
        (f.event as RoomEvent).type === 'message.deleted' &&
        (f.event as RoomEvent).data?.seq === s1,
      'message.deleted',
    );
    expect((await history(srv.url, alice.token, roomId)).find((m) => m.seq === s1)?.body).toBe('');

    // mute (timed): bob cannot post in the room.
    const s2 = await post(srv.url, bob.token, roomId, 'more spam');
    const r2 = await report(srv.url, alice.token, { roomId, seq: s2, reason: 'spam again' });
    expect((await resolve(srv.url, mod.token, r2.id, { action: 'mute', durationSec: 600 })).report.resolution).toBe(
      'muted',
    );
    expect((await wsSend(b, roomId, 'hello?')).code).toBe('muted');

    // ban: bob is removed from the room at once and cannot read it.
    const r3 = await report(srv.url, alice.token, { userId: bob.user.id, roomId, reason: 'keeps at it' });
    expect(r3).toMatchObject({ roomId, seq: null, excerpt: null, targetUserId: bob.user.id });
    expect((await resolve(srv.url, mod.token, r3.id, { action: 'ban' })).report.resolution).toBe('banned');
    const removed = await b.next((f) => f.type === 'room.removed' && f.roomId === roomId, 'room.removed');
    expect(removed.reason).toBe('banned');
    await expectStatus(srv.url, bob.token, 'GET', `/api/v1/rooms/${roomId}/messages`, undefined, 403, 'banned');
    // A delete on a user report (no message) is refused and leaves it open.
    const r4 = await report(srv.url, alice.token, { userId: bob.user.id, roomId, reason: 'and again' });
    await resolve(srv.url, mod.token, r4.id, { action: 'delete' }, 400, 'validation_failed');
    expect((await queue(srv.url, mod.token, 'open')).reports.map((x) => x.id)).toEqual([r4.id]);
  });

  it('a moderator cannot ban or mute the room owner through a report; the report stays open', async () => {
    const srv = await startServer();
    const { owner, mod, alice, roomId } = await cast(srv.url);
    const seq = await post(srv.url, owner.token, roomId, 'owner speaking');
    const r = await report(srv.url, alice.token, { roomId, seq, reason: 'abuse of power' });
    await resolve(srv.url, mod.token, r.id, { action: 'ban' }, 403, 'forbidden');
    await resolve(srv.url, mod.token, r.id, { action: 'mute' }, 403, 'forbidden');
    const open = await queue(srv.url, mod.token, 'open');
    expect(open.reports.map((x) => [x.id, x.status])).toEqual([[r.id, 'open']]);
    expect((await owner.api.myRooms()).map((x) => x.id)).toContain(roomId);
    expect((await httpSend(srv.url, owner.token, roomId, 'still owner')).status).toBe(201);
    // Dismissing is still possible.
    expect((await resolve(srv.url, mod.token, r.id, { action: 'dismiss' })).report.status).toBe('resolved');
  });

  it('a report about a user in general is for server admins; banning through it is a server ban', async () => {
    const srv = await startServer();
    const { admin, mod, alice, bob } = await cast(srv.url);
    const b = await live(srv.url, bob.token);
    const r = await report(srv.url, alice.token, { userId: bob.user.id, reason: 'impersonation' });
    expect(r).toMatchObject({ roomId: null, seq: null, targetUserId: bob.user.id });
    expect((await queue(srv.url, mod.token)).reports).toEqual([]);
    await resolve(srv.url, mod.token, r.id, { action: 'ban' }, 404, 'not_found');
    expect((await queue(srv.url, admin.token)).reports.map((x) => x.id)).toEqual([r.id]);
    await resolve(srv.url, admin.token, r.id, { action: 'mute' }, 400, 'validation_failed');
    const res = await call(srv.url, admin.token, 'POST', `/api/v1/reports/${r.id}/resolve`, {
      action: 'ban',
      durationSec: 3600,
    });
    expect(res.status).toBe(200);
    const closed = await closedWithin(b, 1000);
    expect(closed.code).toBe(4006);
    await expectStatus(
      srv.url,
      undefined,
      'POST',
      '/api/v1/auth/login',
      {
        username: 'bob',
        password: bob.password,
      },
      403,
      'account_disabled',
    );
  });
});

describe('audit log', () => {
  it('every moderation and admin action is recorded with actor, action, room and target', async () => {
    const srv = await startServer();
    const { admin, owner, mod, alice, bob, roomId } = await cast(srv.url);
    const carol = await registerUser(srv.url, 'carol');
    const dave = await registerUser(srv.url, 'dave');
    const R = `/api/v1/rooms/${roomId}`;
    const A = '/api/v1/admin/users';
    const ok = (token: string, method: string, path: string, body?: unknown, status = 204) =>
      expectStatus(srv.url, token, method, path, body, status);

    await ok(owner.token, 'PATCH', R, { settings: { joinApproval: true } }, 200);
    await ok(carol.token, 'POST', `${R}/join`, undefined, 202);
    await ok(dave.token, 'POST', `${R}/join`, undefined, 202);
    await ok(mod.token, 'POST', `${R}/requests/${carol.user.id}/approve`);
    await ok(mod.token, 'POST', `${R}/requests/${dave.user.id}/reject`);
    await ok(mod.token, 'PUT', `${R}/mutes/${alice.user.id}`, { durationSec: 60, reason: 'cool it' });
    await ok(mod.token, 'DELETE', `${R}/mutes/${alice.user.id}`);
    const seq = await post(srv.url, alice.token, roomId, 'delete me');
    await ok(mod.token, 'DELETE', `${R}/messages/${seq}`);
    await ok(mod.token, 'POST', `${R}/members/${carol.user.id}/kick`, { reason: 'test kick' });
    await ok(mod.token, 'PUT', `${R}/bans/${bob.user.id}`, { reason: 'test ban' });
    await ok(mod.token, 'DELETE', `${R}/bans/${bob.user.id}`);
    const seq2 = await post(srv.url, alice.token, roomId, 'report me');
    const rep = await report(srv.url, carol.token, { roomId, seq: seq2, reason: 'meh' });
    await resolve(srv.url, mod.token, rep.id, { action: 'dismiss' });
    await ok(owner.token, 'PUT', `${R}/members/${alice.user.id}/role`, { role: 'moderator' });
    await ok(admin.token, 'POST', `${A}/${dave.user.id}/deactivate`);
    await ok(admin.token, 'POST', `${A}/${dave.user.id}/reactivate`);
    await ok(admin.token, 'PUT', `${A}/${carol.user.id}/ban`, { durationSec: 60, reason: 'server ban' });
    await ok(admin.token, 'DELETE', `${A}/${carol.user.id}/ban`);
    await ok(admin.token, 'POST', `${A}/${bob.user.id}/logout`, undefined, 200);
    await ok(admin.token, 'PUT', `${A}/${bob.user.id}/role`, { role: 'admin' });

    const roomActions: [string, string, string | null][] = [
      [owner.user.id, 'room.settings', null],
      [mod.user.id, 'join.approve', carol.user.id],
      [mod.user.id, 'join.reject', dave.user.id],
      [mod.user.id, 'room.mute', alice.user.id],
      [mod.user.id, 'room.unmute', alice.user.id],
      [mod.user.id, 'message.delete', alice.user.id],
      [mod.user.id, 'room.kick', carol.user.id],
      [mod.user.id, 'room.ban', bob.user.id],
      [mod.user.id, 'room.unban', bob.user.id],
      [mod.user.id, 'report.resolve', alice.user.id],
      [owner.user.id, 'room.role', alice.user.id],
    ];
    const serverActions: [string, string, string | null][] = [
      [admin.user.id, 'user.deactivate', dave.user.id],
      [admin.user.id, 'user.reactivate', dave.user.id],
      [admin.user.id, 'user.ban', carol.user.id],
      [admin.user.id, 'user.unban', carol.user.id],
      [admin.user.id, 'user.logout', bob.user.id],
      [admin.user.id, 'user.role', bob.user.id],
    ];
    // Entry ids sort by millisecond, then at random: two entries of the same millisecond may come in either
    // order, so compare as sets and check the order only down to the millisecond.
    const triples = (entries: AuditEntry[]) => entries.map((e) => [e.actorId, e.action, e.targetUserId]).sort();
    const newestFirst = (entries: AuditEntry[]) =>
      entries.every((e, i) => i === 0 || Date.parse(e.createdAt) <= Date.parse(entries[i - 1]!.createdAt));

    // The whole log, newest first, for server admins.
    const all = await expectStatus<{ entries: AuditEntry[] }>(
      srv.url,
      admin.token,
      'GET',
      '/api/v1/admin/audit?limit=200',
      undefined,
      200,
    );
    // cast() made mod a moderator: that role change is the oldest entry.
    const expected = [[owner.user.id, 'room.role', mod.user.id], ...roomActions, ...serverActions];
    expect(triples(all.entries)).toEqual([...expected].sort());
    expect(newestFirst(all.entries)).toBe(true);
    expect(all.entries.at(-1)?.action).toBe('room.role');
    for (const e of all.entries) {
      expect(e.roomId).toBe(e.action.startsWith('user.') ? null : roomId);
      expect(Date.parse(e.createdAt)).toBeGreaterThan(0);
    }
    const byAction = new Map(all.entries.map((e) => [e.action, e]));
    expect(byAction.get('room.kick')?.data).toEqual({ reason: 'test kick' });
    expect(byAction.get('room.ban')?.data).toMatchObject({ reason: 'test ban', until: '9999-12-31T23:59:59.000Z' });
    expect(byAction.get('message.delete')?.data).toEqual({ seq });
    expect(byAction.get('report.resolve')?.data).toEqual({ report: rep.id, action: 'dismiss' });
    expect(byAction.get('room.role')?.data).toEqual({ from: 'member', to: 'moderator' });
    expect(byAction.get('user.role')?.data).toEqual({ from: 'user', to: 'admin' });

    // Filtered to the room, and paged.
    const inRoom = await expectStatus<{ entries: AuditEntry[] }>(
      srv.url,
      admin.token,
      'GET',
      `/api/v1/admin/audit?roomId=${roomId}&limit=200`,
      undefined,
      200,
    );
    expect(triples(inRoom.entries)).toEqual(expected.filter((t) => !t[1]!.startsWith('user.')).sort());
    expect(newestFirst(inRoom.entries)).toBe(true);
    const page1 = await expectStatus<{ entries: AuditEntry[] }>(
      srv.url,
      admin.token,
      'GET',
      '/api/v1/admin/audit?limit=5',
      undefined,
      200,
    );
    const page2 = await expectStatus<{ entries: AuditEntry[] }>(
      srv.url,
      admin.token,
      'GET',
      `/api/v1/admin/audit?limit=5&before=${page1.entries[4]!.id}`,
      undefined,
      200,
    );
    expect([...page1.entries, ...page2.entries].map((e) => e.id)).toEqual(all.entries.slice(0, 10).map((e) => e.id));

    // The room's own log, for the room's owner and admins: that room's entries only.
    const roomLog = await expectStatus<{ entries: AuditEntry[] }>(
      srv.url,
      owner.token,
      'GET',
      `${R}/audit?limit=200`,
      undefined,
      200,
    );
    expect(roomLog.entries).toEqual(inRoom.entries);
    await expectStatus(srv.url, mod.token, 'GET', `${R}/audit`, undefined, 403, 'forbidden');
    await expectStatus(srv.url, mod.token, 'GET', '/api/v1/admin/audit', undefined, 403, 'forbidden');
    await expectStatus(srv.url, alice.token, 'GET', `${R}/audit`, undefined, 403, 'forbidden');
  });
});

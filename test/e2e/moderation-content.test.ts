import { describe, expect, it } from 'vitest';
import type { Report, Room, RoomEvent } from '../../src/protocol/model.js';
import { registerUser, startServer, waitFor } from '../helpers/harness.js';
import { call, cast, expectStatus, history, httpSend, live, wsSend } from '../helpers/moderation-kit.js';

/**
 * Issue #5, content rules end to end: the keyword filter (block, mask, flag) on messages, room names and display
 * names, and flood protection (repeats, mass mentions), over HTTP and WebSocket.
 */

const FILTER = { filterBlock: 'badword', filterMask: 'darn', filterFlag: 'suspicious' };

describe('keyword filter', () => {
  it('block: refused over WebSocket (content_blocked) and HTTP (422), whatever the case or width', async () => {
    const srv = await startServer(FILTER);
    const { owner, alice, roomId } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    const o = await live(srv.url, owner.token);
    for (const body of [
      'what a badword',
      'BadWord!',
      'ＢＡＤＷＯＲＤ',
      'ｂａｄｗｏｒｄ here',
      'b.a.d.w.o.r.d',
      'b a d w o r d',
    ]) {
      const f = await wsSend(a, roomId, body);
      expect([body, f.type, f.code]).toEqual([body, 'error', 'content_blocked']);
      const h = await httpSend(srv.url, alice.token, roomId, body);
      expect([body, h.status, h.body.error?.code]).toEqual([body, 422, 'content_blocked']);
    }
    // Whole words only: these pass.
    for (const body of ['badwordsmith', 'a bad word']) expect((await wsSend(a, roomId, body)).type).toBe('ack');
    await waitFor(() => o.events(roomId).filter((e) => e.type === 'message').length === 2, 2000, 'passing messages');
    expect(o.events(roomId).map((e) => e.body)).not.toContain('what a badword');
    expect((await history(srv.url, owner.token, roomId)).map((m) => m.body)).toEqual(['badwordsmith', 'a bad word']);
  });

  it('mask: the stored and delivered body has the word starred', async () => {
    const srv = await startServer(FILTER);
    const { owner, alice, roomId } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    const o = await live(srv.url, owner.token);
    expect((await wsSend(a, roomId, 'oh darn it')).type).toBe('ack');
    expect((await wsSend(a, roomId, 'ＤＡＲＮ, again')).type).toBe('ack');
    const viaHttp = await httpSend(srv.url, alice.token, roomId, 'Darn. Darn!');
    expect([viaHttp.status, viaHttp.body.message.body]).toEqual([201, '****. ****!']);
    const want = ['oh **** it', '****, again', '****. ****!'];
    await waitFor(() => o.events(roomId).filter((e) => e.type === 'message').length === 3, 2000, 'masked messages');
    expect(o.events(roomId).map((e) => e.body)).toEqual(want);
    expect(a.events(roomId).map((e) => e.body)).toEqual(want); // the sender's own copy is masked too
    expect((await history(srv.url, owner.token, roomId)).map((m) => m.body)).toEqual(want);
  });

  it('flag: the message passes unchanged and a system report lands in the moderators’ queue', async () => {
    const srv = await startServer(FILTER);
    const { admin, owner, mod, alice, roomId } = await cast(srv.url);
    const o = await live(srv.url, owner.token);
    const ack = await wsSend(await live(srv.url, alice.token), roomId, 'that looks ＳＵＳＰＩＣＩＯＵＳ to me');
    expect(ack.type).toBe('ack');
    await o.next((f) => f.type === 'event' && (f.event as RoomEvent).seq === ack.seq, 'the flagged message');
    expect(o.events(roomId).find((e) => e.seq === ack.seq)?.body).toBe('that looks ＳＵＳＰＩＣＩＯＵＳ to me');

    for (const who of [admin, owner, mod]) {
      const q = await expectStatus<{ reports: Report[] }>(srv.url, who.token, 'GET', '/api/v1/reports', undefined, 200);
      expect(q.reports).toHaveLength(1);
      expect(q.reports[0]).toMatchObject({
        reporterId: 'system',
        roomId,
        seq: ack.seq,
        targetUserId: alice.user.id,
        excerpt: 'that looks ＳＵＳＰＩＣＩＯＵＳ to me',
        status: 'open',
      });
      expect(q.reports[0]!.reason).toContain('suspicious');
    }
    // A plain member has no queue.
    const none = await expectStatus<{ reports: Report[] }>(
      srv.url,
      alice.token,
      'GET',
      '/api/v1/reports',
      undefined,
      200,
    );
    expect(none.reports).toEqual([]);
  });

  it('room names and topics are filtered (create and rename)', async () => {
    const srv = await startServer(FILTER);
    const owner = await registerUser(srv.url, 'owner');
    for (const name of ['badword club', 'The ＢａｄＷｏｒｄ Club']) {
      await expectStatus(srv.url, owner.token, 'POST', '/api/v1/rooms', { name }, 422, 'content_blocked');
    }
    await expectStatus(
      srv.url,
      owner.token,
      'POST',
      '/api/v1/rooms',
      { name: 'ok', topic: 'badword' },
      422,
      'content_blocked',
    );
    const masked = await expectStatus<{ room: Room }>(
      srv.url,
      owner.token,
      'POST',
      '/api/v1/rooms',
      { name: 'darn club' },
      201,
    );
    expect(masked.room.name).toBe('**** club');
    const path = `/api/v1/rooms/${masked.room.id}`;
    await expectStatus(srv.url, owner.token, 'PATCH', path, { name: 'badword' }, 422, 'content_blocked');
    await expectStatus(srv.url, owner.token, 'PATCH', path, { topic: 'all BADWORD all day' }, 422, 'content_blocked');
    const renamed = await expectStatus<{ room: Room }>(
      srv.url,
      owner.token,
      'PATCH',
      path,
      { topic: 'darn topics' },
      200,
    );
    expect(renamed.room).toMatchObject({ name: '**** club', topic: '**** topics' });
    // Nothing blocked was stored.
    expect((await owner.api.myRooms()).map((r) => r.name).sort()).toEqual(['**** club', 'Lobby']);
  });

  it('display names and usernames are filtered', async () => {
    const srv = await startServer(FILTER);
    const reg = (body: Record<string, string | undefined>) =>
      call(srv.url, undefined, 'POST', '/api/v1/auth/register', body);
    const password = 'correct horse battery';
    for (const body of [
      { username: 'badword', password },
      { username: 'carol', password, displayName: 'Ｂａｄｗｏｒｄ Carol' },
    ]) {
      const r = await reg(body);
      expect([r.status, r.body.error?.code]).toEqual([422, 'content_blocked']);
    }
    const ok = await reg({ username: 'carol', password, displayName: 'darn carol' });
    expect(ok.status).toBe(201);
    const token = (ok.body as { token: string }).token;
    expect((ok.body as { user: { displayName: string } }).user.displayName).toBe('**** carol');
    await expectStatus(
      srv.url,
      token,
      'PATCH',
      '/api/v1/me',
      { displayName: 'bad word? BADWORD' },
      422,
      'content_blocked',
    );
    await expectStatus(srv.url, token, 'PATCH', '/api/v1/me', { statusText: 'badword' }, 422, 'content_blocked');
    const me = await expectStatus<{ user: { displayName: string } }>(
      srv.url,
      token,
      'PATCH',
      '/api/v1/me',
      { displayName: 'Carol the darn' },
      200,
    );
    expect(me.user.displayName).toBe('Carol the ****');
  });
});

describe('flood protection', () => {
  it('the same message more than FLOOD_REPEATS times gets flood; other text, rooms and users are unaffected', async () => {
    const srv = await startServer({ floodRepeats: 2, floodWindowMs: 60_000 });
    const { alice, bob, roomId } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    expect((await wsSend(a, roomId, 'buy now')).type).toBe('ack');
    expect((await wsSend(a, roomId, 'BUY   now')).type).toBe('ack');
    const third = await wsSend(a, roomId, '  buy NOW ');
    expect(third.code).toBe('flood');
    expect(third.retryAfterMs).toBeGreaterThan(0);
    expect(third.retryAfterMs).toBeLessThanOrEqual(60_000);
    const viaHttp = await httpSend(srv.url, alice.token, roomId, 'buy now');
    expect([viaHttp.status, viaHttp.body.error?.code]).toEqual([429, 'flood']);
    expect(viaHttp.body.error?.retryAfterMs).toBeGreaterThan(0);
    expect((await wsSend(a, roomId, 'something else')).type).toBe('ack');
    expect((await wsSend(a, 'lobby', 'buy now')).type).toBe('ack');
    expect((await httpSend(srv.url, bob.token, roomId, 'buy now')).status).toBe(201);
    // Refused repeats were not stored.
    const bodies = (await history(srv.url, bob.token, roomId)).map((m) => m.body);
    expect(bodies.filter((b) => b?.toLowerCase().replace(/\s+/g, ' ').trim() === 'buy now')).toHaveLength(3);
  });

  it('a short window lets the same message through again once it has passed', async () => {
    const srv = await startServer({ floodRepeats: 1, floodWindowMs: 500 });
    const { alice, roomId } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    expect((await wsSend(a, roomId, 'ping')).type).toBe('ack');
    const refused = await wsSend(a, roomId, 'ping');
    expect(refused.code).toBe('flood');
    expect(refused.retryAfterMs).toBeLessThanOrEqual(500);
    await waitFor(async () => (await wsSend(a, roomId, 'ping')).type === 'ack', 3000, 'ping after the window');
  });

  it('too many distinct @mentions get too_many_mentions (WS and HTTP 422)', async () => {
    const srv = await startServer({ maxMentions: 3 });
    const { alice, roomId } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    const many = 'hey @owner @mod @bob @admin';
    expect((await wsSend(a, roomId, many)).code).toBe('too_many_mentions');
    const h = await httpSend(srv.url, alice.token, roomId, many);
    expect([h.status, h.body.error?.code]).toEqual([422, 'too_many_mentions']);
    expect((await wsSend(a, roomId, 'hey @owner @mod @bob')).type).toBe('ack');
    expect((await wsSend(a, roomId, '@bob @bob @BOB @bob, hello')).type).toBe('ack'); // one distinct name
    expect((await wsSend(a, roomId, 'mail a@b.example c@d.example e@f.example g@h.example')).type).toBe('ack');
  });
});

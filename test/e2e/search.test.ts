import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/client/api.js';
import { SEARCH_HIGHLIGHT_END, SEARCH_HIGHLIGHT_START, type SearchResult } from '../../src/protocol/model.js';
import { registerUser, startServer } from '../helpers/harness.js';
import { call } from '../helpers/moderation-kit.js';

/**
 * Issue #15, message search end to end: `GET /api/v1/search` over HTTP on a real server (both backends: the
 * cluster project runs this file on PostgreSQL), with snippets, filters, paging, errors and the rate limit, and
 * `GET …/messages?around=` for jumping to a result in context.
 */

const marked = (s: string) => s.replaceAll(SEARCH_HIGHLIGHT_START, '[').replaceAll(SEARCH_HIGHLIGHT_END, ']');
let n = 0;
const cid = () => `c${Date.now()}_${++n}`;

describe('message search', () => {
  it('finds Chinese, Japanese and mixed text with highlighted snippets; private rooms only for members', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const pub = await alice.api.createRoom(`pub${cid()}`);
    const priv = await alice.api.createRoom(`priv${cid()}`, 'private');
    await alice.api.sendMessage(pub.id, '明天上线新版本，记得检查数据库', cid());
    await alice.api.sendMessage(pub.id, '会議は明日です', cid());
    await alice.api.sendMessage(priv.id, '私密的数据库密码 rotation plan', cid());
    await alice.api.sendMessage(pub.id, 'Rotating the deploy keys; see https://example.com/runbook', cid());

    const a = await alice.api.search({ q: '数据库' });
    expect(a.results.map((r) => marked(r.snippet))).toEqual([
      '私密的[数据库]密码 rotation plan',
      '明天上线新版本，记得检查[数据库]',
    ]);
    expect(a.results[0]).toMatchObject({ roomName: priv.name, roomKind: 'private' });
    expect(a.results[0]!.message).toMatchObject({ roomId: priv.id, senderId: alice.user.id, type: 'message' });
    expect(a.nextCursor).toBeNull();
    // Bob is not in the private room: not there for him, even asked by room id.
    expect((await bob.api.search({ q: '数据库' })).results.map((r) => r.message.roomId)).toEqual([pub.id]);
    await expect(bob.api.search({ q: '数据库', roomId: priv.id })).rejects.toMatchObject({ code: 'room_not_found' });
    expect((await alice.api.search({ q: '库' })).results).toHaveLength(2);
    expect((await alice.api.search({ q: '会議' })).results.map((r) => marked(r.snippet))).toEqual(['[会議]は明日です']);
    expect((await alice.api.search({ q: 'rotat' })).results.map((r) => marked(r.snippet))).toEqual([
      '[Rotat]ing the deploy keys; see https://example.com/runbook',
      '私密的数据库密码 [rotat]ion plan',
    ]);
    const links = await alice.api.search({ q: 'rotat', has: 'link' });
    expect(links.results.map((r) => r.message.roomId)).toEqual([pub.id]);
    expect((await alice.api.search({ q: 'rotat', from: bob.username })).results).toEqual([]);
    expect((await alice.api.search({ q: 'rotat', from: alice.username, roomId: priv.id })).results).toHaveLength(1);
  });

  it('edits and deletes reach search at once; pages follow nextCursor; around loads a message in context', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const room = await alice.api.createRoom(`r${cid()}`);
    const sent = [];
    for (let i = 1; i <= 7; i++) sent.push((await alice.api.sendMessage(room.id, `status report ${i}`, cid())).message);
    const edited = sent[2]!;
    await alice.api.editMessage(room.id, edited.seq, 'nothing to see');
    await alice.api.deleteMessage(room.id, sent[4]!.seq);
    const bodies: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await alice.api.search({ q: 'status', roomId: room.id, limit: 2, ...(cursor ? { cursor } : {}) });
      bodies.push(...r.results.map((x: SearchResult) => x.message.body ?? ''));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect(bodies).toEqual([
      'status report 7',
      'status report 6',
      'status report 4',
      'status report 2',
      'status report 1',
    ]);
    expect((await alice.api.search({ q: 'nothing' })).results.map((r) => r.message.seq)).toEqual([edited.seq]);

    // Jump to a result: the page around it holds it, older and newer neighbours.
    const around = await alice.api.messagesAround(room.id, sent[3]!.seq, 4);
    expect(around.map((m) => m.seq)).toEqual([edited.seq, sent[3]!.seq, sent[4]!.seq, sent[5]!.seq]);
    expect(around[2]!.data).toMatchObject({ deleted: true });
    const bad = await call(srv.url, alice.token, 'GET', `/api/v1/rooms/${room.id}/messages?around=3&before=9`);
    expect([bad.status, bad.body.error?.code]).toEqual([400, 'validation_failed']);
  });

  it('bad input gets 400 validation_failed with the field; unknown author 404; a bad cursor 400', async () => {
    const srv = await startServer({ searchMaxTerms: 3, searchPageMax: 10 });
    const alice = await registerUser(srv.url);
    const bad = async (qs: string, code = 'validation_failed', status = 400) => {
      const r = await call<{ error: { issues?: { path: string }[] } }>(
        srv.url,
        alice.token,
        'GET',
        `/api/v1/search?${qs}`,
      );
      expect({ qs, status: r.status, code: r.body.error?.code }).toEqual({ qs, status, code });
      return r.body.error;
    };
    expect((await bad(''))?.issues?.[0]?.path).toBe('q');
    await bad('q=%20%20');
    expect((await bad('q=!!!'))?.issues?.[0]?.path).toBe('q');
    expect((await bad('q=a+b+c+d'))?.issues?.[0]?.path).toBe('q');
    await bad(`q=${'x'.repeat(101)}`);
    expect((await bad('q=x&limit=11'))?.issues?.[0]?.path).toBe('limit');
    await bad('q=x&sort=oldest');
    await bad('q=x&has=image');
    await bad('q=x&inThread=yes');
    await bad('q=x&after=yesterday');
    await bad('q=x&after=2026-02-30');
    await bad('q=x&after=2026-12-02&before=2026-12-01');
    await bad('q=x&cursor=bm90YWN1cnNvcg');
    // A newest-first cursor does not continue a relevance search.
    await bad(`q=x&sort=relevance&cursor=${Buffer.from('n.5').toString('base64url')}`);
    await bad('q=x&color=red');
    await bad('q=x&from=nobody_here', 'user_not_found', 404);
    await bad('q=x&roomId=r_nope', 'room_not_found', 404);
    const anon = await call(srv.url, undefined, 'GET', '/api/v1/search?q=x');
    expect(anon.status).toBe(401);
    // The server is still up and answers a good search.
    expect((await alice.api.search({ q: 'x', after: '2026-01-01', before: '2099-01-01T00:00:00Z' })).results).toEqual(
      [],
    );
  });

  it('is rate limited per user (SEARCH_PER_MINUTE)', async () => {
    const srv = await startServer({ searchPerMinute: 2 });
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    await alice.api.search({ q: 'one' });
    await alice.api.search({ q: 'two' });
    const err = await alice.api.search({ q: 'three' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited' });
    expect((err as ApiError).retryAfterMs).toBeGreaterThan(0);
    // Bob has his own budget.
    expect((await bob.api.search({ q: 'one' })).results).toEqual([]);
  });
  it('has=file finds the messages that carry files, and keeps finding one after its text is edited', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const room = await alice.api.createRoom(`f${cid()}`);
    const file = await alice.api.upload(new Blob(['q3 figures']), 'q3.txt');
    const withFile = (await alice.api.sendMessage(room.id, 'quarterly report attached', cid(), undefined, [file.id]))
      .message;
    await alice.api.sendMessage(room.id, 'quarterly report is late', cid());
    const hits = async () =>
      (await alice.api.search({ q: 'quarterly', has: 'file' })).results.map((r) => r.message.seq);
    expect(await hits()).toEqual([withFile.seq]);
    expect((await alice.api.search({ q: 'quarterly' })).results).toHaveLength(2);
    await alice.api.editMessage(room.id, withFile.seq, 'quarterly report, see the file');
    expect(await hits()).toEqual([withFile.seq]);
  });
});

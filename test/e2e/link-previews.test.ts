import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { LinkPreview, RoomEvent } from '../../src/protocol/model.js';
import { startServer } from '../helpers/harness.js';
import { call, cast, expectStatus, history, httpSend, live, type Frame } from '../helpers/moderation-kit.js';

/**
 * Issue 15, link previews end to end, on both backends: the server fetches the first link of a stored message from a
 * local page server (reachable only through the test allow-list, LINK_PREVIEW_ALLOW_HOSTS), stores the preview with
 * the message and announces it as a `message.preview` event on the room sequence: live, on resume after a
 * reconnect, and in history. The room switch and the server switch stop it; a refused address is never reached.
 */

const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<title>ignored: og:title wins</title>
<meta property="og:title" content="Relaychat 发布说明">
<meta property="og:description" content="What is new in this release &amp; why.">
</head><body>${'<p>filler</p>'.repeat(50)}</body></html>`;

/** A local page server counting requests per path. */
async function pageServer(handler?: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (handler) return handler(req, res);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return { port, base: `http://127.0.0.1:${port}`, hits, allow: `127.0.0.1:${port}` };
}

const isPreview = (roomId: string, seq?: number) => (f: Frame) =>
  f.type === 'event' &&
  (f.event as RoomEvent).type === 'message.preview' &&
  (f.event as RoomEvent).roomId === roomId &&
  (seq === undefined || (f.event as RoomEvent).data?.seq === seq);

async function send(url: string, token: string, roomId: string, body: string): Promise<RoomEvent> {
  const r = await httpSend(url, token, roomId, body);
  expect(r.status).toBe(201);
  return r.body.message;
}

describe('link previews', () => {
  it('a message with a link gets a message.preview event live and its preview in history', async () => {
    const page = await pageServer();
    const srv = await startServer({ linkPreviews: 'on', linkPreviewAllowHosts: page.allow });
    const { alice, bob, roomId } = await cast(srv.url);
    const b = await live(srv.url, bob.token);
    const m = await send(srv.url, alice.token, roomId, `release notes: ${page.base}/notes?v=2, read them`);
    const f = await b.next(isPreview(roomId, m.seq), 'message.preview at bob');
    const expected: LinkPreview = {
      url: `${page.base}/notes?v=2`,
      title: 'Relaychat 发布说明',
      description: 'What is new in this release & why.',
    };
    // The next seq of the room (nothing else happened), from the message's author, naming the message.
    expect(f.event).toMatchObject({
      roomId,
      seq: m.seq + 1,
      senderId: alice.user.id,
      body: null,
      data: { seq: m.seq, messageId: m.id, preview: expected },
    });
    expect(page.hits).toEqual(['/notes?v=2']);
    const stored = (await history(srv.url, bob.token, roomId)).find((e) => e.seq === m.seq)!;
    expect(stored.data?.preview).toEqual(expected);
    // A retried send (same clientMsgId) is a duplicate: no second fetch.
    const clientMsgId = `retry-${m.seq}`;
    const first = await call(srv.url, alice.token, 'POST', `/api/v1/rooms/${roomId}/messages`, {
      body: `${page.base}/once`,
      clientMsgId,
    });
    await b.next(isPreview(roomId, (first.body as { message: RoomEvent }).message.seq), 'preview of /once');
    const again = await call(srv.url, alice.token, 'POST', `/api/v1/rooms/${roomId}/messages`, {
      body: `${page.base}/once`,
      clientMsgId,
    });
    expect((again.body as { duplicate?: boolean }).duplicate).toBe(true);
    // Marker: a later link's preview arrives, and /once was fetched exactly once.
    const marker = await send(srv.url, alice.token, roomId, `${page.base}/marker`);
    await b.next(isPreview(roomId, marker.seq), 'marker preview');
    expect(page.hits.filter((h) => h === '/once')).toHaveLength(1);
  });

  it('a client that was away gets the preview on resume, after its message, exactly once', async () => {
    const page = await pageServer();
    const srv = await startServer({ linkPreviews: 'on', linkPreviewAllowHosts: page.allow });
    const { alice, bob, roomId } = await cast(srv.url);
    const b1 = await live(srv.url, bob.token);
    const before = (b1.welcome.rooms as { id: string; lastSeq: number }[]).find((r) => r.id === roomId)!.lastSeq;
    b1.close();
    await b1.closed;
    const m = await send(srv.url, alice.token, roomId, `while you were out: ${page.base}/away`);
    // Wait until the preview is stored (history shows it) while Bob is away.
    await expect
      .poll(async () => (await history(srv.url, alice.token, roomId)).find((e) => e.seq === m.seq)?.data?.preview, {
        timeout: 10_000,
      })
      .toBeTruthy();
    const b2 = await live(srv.url, bob.token, { [roomId]: before });
    const replayed = b2.events(roomId).filter((e) => e.seq > before);
    expect(replayed.map((e) => [e.seq, e.type])).toEqual([
      [m.seq, 'message'],
      [m.seq + 1, 'message.preview'],
    ]);
    expect(replayed[1]!.data).toMatchObject({ seq: m.seq, preview: { url: `${page.base}/away` } });
  });

  it('a room with linkPreviews off gets none; only owners and admins change it', async () => {
    const page = await pageServer();
    const srv = await startServer({ linkPreviews: 'on', linkPreviewAllowHosts: page.allow });
    const { owner, alice, bob, roomId } = await cast(srv.url);
    const other = (await owner.api.createRoom('other')).id;
    await alice.api.join(other);
    await bob.api.join(other);
    // A member may not turn it off; the owner may, and members see it as room.updated.
    await expectStatus(
      srv.url,
      alice.token,
      'PATCH',
      `/api/v1/rooms/${roomId}`,
      { settings: { linkPreviews: false } },
      403,
      'forbidden',
    );
    const b = await live(srv.url, bob.token);
    const r = await call<{ room: { settings: { linkPreviews: boolean } } }>(
      srv.url,
      owner.token,
      'PATCH',
      `/api/v1/rooms/${roomId}`,
      { settings: { linkPreviews: false } },
    );
    expect(r.status).toBe(200);
    await b.next(
      (f) =>
        f.type === 'event' &&
        (f.event as RoomEvent).type === 'room.updated' &&
        (f.event as RoomEvent).data?.linkPreviews === false,
      'room.updated linkPreviews false',
    );
    const quiet = await send(srv.url, alice.token, roomId, `${page.base}/quiet`);
    // Marker: the same link in a room that allows previews gets one.
    const marker = await send(srv.url, alice.token, other, `${page.base}/loud`);
    await b.next(isPreview(other, marker.seq), 'preview in the other room');
    expect(page.hits).toEqual(['/loud']);
    expect(b.events(roomId).filter((e) => e.type === 'message.preview')).toEqual([]);
    expect((await history(srv.url, bob.token, roomId)).find((e) => e.seq === quiet.seq)?.data?.preview).toBeUndefined();
    const rooms = await call<{ rooms: { id: string; settings: { linkPreviews: boolean } }[] }>(
      srv.url,
      bob.token,
      'GET',
      '/api/v1/me/rooms',
    );
    expect(rooms.body.rooms.find((x) => x.id === roomId)?.settings.linkPreviews).toBe(false);
    expect(rooms.body.rooms.find((x) => x.id === other)?.settings.linkPreviews).toBe(true);
  });

  it('LINK_PREVIEWS=off makes no request; a refused address is never reached and gets no preview', async () => {
    const page = await pageServer();
    const off = await startServer({ linkPreviews: 'off', linkPreviewAllowHosts: page.allow });
    const c = await cast(off.url);
    await send(off.url, c.alice.token, c.roomId, `${page.base}/off`);
    // The hook decides before the send is answered: nothing was started.
    expect(off.server.services.previews.stats.started).toBe(0);

    const forbidden = await pageServer();
    const srv = await startServer({ linkPreviews: 'on', linkPreviewAllowHosts: page.allow });
    const { alice, bob, roomId } = await cast(srv.url);
    const b = await live(srv.url, bob.token);
    // The same loopback listener in spellings the SSRF guard refuses (it is not on the allow-list).
    for (const link of [
      forbidden.base,
      `http://2130706433:${forbidden.port}/`,
      `http://0x7f.1:${forbidden.port}/`,
      `http://[::ffff:127.0.0.1]:${forbidden.port}/`,
      `http://localhost:${forbidden.port}/`,
    ]) {
      await send(srv.url, alice.token, roomId, `try ${link}`);
    }
    const marker = await send(srv.url, alice.token, roomId, `${page.base}/marker`);
    await b.next(isPreview(roomId, marker.seq), 'marker preview');
    // Six fetches were started; wait until all have settled: none stored, the forbidden listener never asked.
    expect(srv.server.services.previews.stats.started).toBe(6);
    await expect.poll(() => srv.server.services.previews['inFlight'].size, { timeout: 5000 }).toBe(0);
    expect(forbidden.hits).toEqual([]);
    expect(page.hits).toEqual(['/marker']);
    expect(b.events(roomId).filter((e) => e.type === 'message.preview')).toHaveLength(1);
    expect(page.hits.concat(forbidden.hits).includes('/off')).toBe(false);
  });

  it('a deleted message gets no preview, and deleting one drops its preview', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const page = await pageServer((req, res) => {
      const reply = () => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      if (req.url === '/slow') void gate.then(reply);
      else reply();
    });
    const srv = await startServer({ linkPreviews: 'on', linkPreviewAllowHosts: page.allow });
    const { alice, bob, roomId } = await cast(srv.url);
    const b = await live(srv.url, bob.token);
    const slow = await send(srv.url, alice.token, roomId, `${page.base}/slow`);
    await expect.poll(() => page.hits.includes('/slow')).toBe(true);
    await expectStatus(srv.url, alice.token, 'DELETE', `/api/v1/rooms/${roomId}/messages/${slow.seq}`, undefined, 204);
    release();
    const kept = await send(srv.url, alice.token, roomId, `${page.base}/kept`);
    await b.next(isPreview(roomId, kept.seq), 'preview of kept');
    expect(srv.server.services.previews.stats.started).toBe(2);
    await expect.poll(() => srv.server.services.previews['inFlight'].size).toBe(0);
    expect(
      b
        .events(roomId)
        .filter((e) => e.type === 'message.preview')
        .map((e) => e.data?.seq),
    ).toEqual([kept.seq]);
    await expectStatus(srv.url, alice.token, 'DELETE', `/api/v1/rooms/${roomId}/messages/${kept.seq}`, undefined, 204);
    const after = (await history(srv.url, bob.token, roomId)).find((e) => e.seq === kept.seq)!;
    expect(after.data).toMatchObject({ deleted: true });
    expect(after.data?.preview).toBeUndefined();
  });

  it('the page image is fetched once, stored as a file the room may read, and served as a thumbnail', async () => {
    const png = await sharp({ create: { width: 640, height: 320, channels: 3, background: '#4f46e5' } })
      .png()
      .toBuffer();
    const page = await pageServer((req, res) => {
      if (req.url === '/cover.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      if (req.url === '/fake.png') return res.writeHead(200, { 'content-type': 'image/png' }).end('<svg onload=x>');
      const img = req.url === '/fake' ? '/fake.png' : '/cover.png';
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(`<title>With a picture</title><meta property="og:image" content="${img}">`);
    });
    const srv = await startServer({ linkPreviews: 'on', linkPreviewAllowHosts: page.allow });
    const { alice, bob, mod } = await cast(srv.url);
    const dm = await alice.api.openDm('bob');
    const b = await live(srv.url, bob.token);
    const m = await send(srv.url, alice.token, dm.id, `look ${page.base}/post`);
    const f = await b.next(isPreview(dm.id, m.seq), 'preview with image');
    const preview = (f.event as RoomEvent).data!.preview as LinkPreview;
    expect(preview).toMatchObject({
      url: `${page.base}/post`,
      title: 'With a picture',
      image: { contentType: 'image/png', width: 640, height: 320 },
    });
    expect(page.hits).toEqual(['/post', '/cover.png']);
    const id = preview.image!.id;
    // Bob, who reads the DM, gets a signed thumbnail link that serves an image; Mod, outside it, gets not_found.
    const link = await call<{ url: string }>(srv.url, bob.token, 'GET', `/api/v1/files/${id}/link?variant=thumbnail`);
    expect(link.status).toBe(200);
    const thumb = await fetch(`${srv.url}${link.body.url}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toMatch(/^image\//);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBeLessThan(640);
    await expectStatus(
      srv.url,
      mod.token,
      'GET',
      `/api/v1/files/${id}/link?variant=thumbnail`,
      undefined,
      404,
      'not_found',
    );
    // History carries the same image; the message is not given it as an attachment.
    const stored = (await history(srv.url, bob.token, dm.id)).find((e) => e.seq === m.seq)!;
    expect((stored.data?.preview as LinkPreview).image).toEqual(preview.image);
    expect(stored.data?.attachments).toBeUndefined();
    // Bytes that are not an image (whatever the Content-Type says): the preview comes without one.
    const fake = await send(srv.url, alice.token, dm.id, `${page.base}/fake`);
    const g = await b.next(isPreview(dm.id, fake.seq), 'preview without image');
    expect(((g.event as RoomEvent).data!.preview as LinkPreview).image).toBeUndefined();
    expect(page.hits).toEqual(['/post', '/cover.png', '/fake', '/fake.png']);
  });
});

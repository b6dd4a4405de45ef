/**
 * Link previews in the web client, in a real Chromium against a real server that fetches from a local page server
 * (allow-listed for the test): the card under a message appears live for everyone (a phone in 简体中文 too), comes
 * back from history after a reload, opens the link in a new tab without a referrer, and the room owner turns previews
 * off in the room settings dialog.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { openRoomPage, sendInComposer, waitForBodies, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('link-previews');
const { shot } = web;

const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<meta property="og:title" content="Relaychat 2.0 发布：消息搜索、文件与链接预览">
<meta property="og:image" content="/cover.png">
<meta property="og:description" content="This release adds full-text search that works for Chinese, file uploads with thumbnails, and link previews fetched safely by the server. 这是一段足够长的中文简介，用来检查卡片在手机上的换行与截断是否整齐。">
</head><body>hello</body></html>`;

async function pageServer() {
  const hits: string[] = [];
  // A cover picture: a gradient-free block with a band, enough to see the thumbnail in a screenshot.
  const cover = await sharp({ create: { width: 1200, height: 630, channels: 3, background: '#4f46e5' } })
    .composite([
      {
        input: await sharp({ create: { width: 1200, height: 200, channels: 3, background: '#f5a524' } })
          .png()
          .toBuffer(),
        top: 215,
        left: 0,
      },
    ])
    .png()
    .toBuffer();
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/cover.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(cover);
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
  return { base: `http://127.0.0.1:${port}`, hits, allow: `127.0.0.1:${port}` };
}

const card = (page: Page, text: string) => page.locator('.messages .msg', { hasText: text }).locator('.link-preview');

describe('web client: link previews', { timeout: 120_000 }, () => {
  it('the card shows live and from history, on a phone in Chinese too; the owner turns previews off', async () => {
    const site = await pageServer();
    const srv = await startServer({ linkPreviews: 'on', linkPreviewAllowHosts: site.allow }, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('releases', 'public');
    await bob.api.join(room.id);
    const other = await alice.api.createRoom('elsewhere', 'public');

    const a = await openRoomPage(web.browser, alice, srv.url, room.id);
    const b = await openRoomPage(web.browser, bob, srv.url, room.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    await sendInComposer(a.page, `新版本发布了 ${site.base}/release-2.0 快看`);
    for (const p of [a.page, b.page]) {
      const c = card(p, '新版本发布了');
      await c.locator('.link-preview-title', { hasText: 'Relaychat 2.0 发布' }).waitFor();
      await expect(c.locator('.link-preview-host').textContent()).resolves.toBe(new URL(site.base).host);
      await expect(c.locator('.link-preview-desc').textContent()).resolves.toContain('full-text search');
      await expect(c.getAttribute('href')).resolves.toBe(`${site.base}/release-2.0`);
      await expect(c.getAttribute('target')).resolves.toBe('_blank');
      await expect(c.getAttribute('rel')).resolves.toContain('noreferrer');
    }
    await expect(card(b.page, '新版本发布了').getAttribute('aria-label')).resolves.toMatch(/^链接预览，/);
    // The picture is the server's thumbnail of its own copy (a signed files link), loaded; never the page's URL.
    for (const p of [a.page, b.page]) {
      const img = card(p, '新版本发布了').locator('img.link-preview-image');
      await expect
        .poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth).catch(() => 0), { timeout: 10_000 })
        .toBeGreaterThan(0);
      await expect(img.getAttribute('src')).resolves.toMatch(new RegExp(`^${srv.url}/api/v1/files/[^/]+/content\\?`));
    }
    expect(a.consoleErrors.concat(b.consoleErrors)).toEqual([]);
    // On a phone the card stays inside the screen.
    const box = (await card(b.page, '新版本发布了').boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await shot(a.page, 'desktop');
    await shot(b.page, 'phone-zh');

    // From history: a reload shows the card without any new event.
    await b.page.reload();
    await b.page.locator('.messages .loading-row').waitFor({ state: 'detached' });
    await card(b.page, '新版本发布了').locator('.link-preview-title').waitFor();
    expect(site.hits).toEqual(['/release-2.0', '/cover.png']);

    // The owner turns previews off for the room in its settings dialog.
    await a.page.getByRole('button', { name: 'Manage room' }).click();
    const dialog = a.page.getByRole('dialog');
    await dialog.getByRole('tab').first().waitFor();
    const box2 = dialog.getByRole('checkbox', { name: /Link previews/ });
    await expect(box2.isChecked()).resolves.toBe(true);
    await shot(a.page, 'room-settings');
    await box2.uncheck();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('Saved.').waitFor();
    await a.page.keyboard.press('Escape');
    expect((await alice.api.room(room.id)).settings.linkPreviews).toBe(false);
    await sendInComposer(a.page, `no card for ${site.base}/quiet please`);
    await waitForBodies(b.page, (x) => x.some((s) => s.includes('no card for')), 'the quiet link at bob');
    // Marker: a link in a room that still previews gets its preview stored; the quiet one was never fetched.
    const marker = await alice.api.sendMessage(other.id, `${site.base}/marker`, 'marker-1');
    await expect
      .poll(async () => (await alice.api.messages(other.id)).find((m) => m.seq === marker.message.seq)?.data?.preview, {
        timeout: 10_000,
      })
      .toBeTruthy();
    expect(site.hits).toEqual(['/release-2.0', '/cover.png', '/marker', '/cover.png']);
    await expect(card(b.page, 'no card for').count()).resolves.toBe(0);
    // The setting reads back off when the dialog opens again.
    await a.page.getByRole('button', { name: 'Manage room' }).click();
    await expect(dialog.getByRole('checkbox', { name: /Link previews/ }).isChecked()).resolves.toBe(false);
    for (const p of [a, b]) await p.context.close();
  });
});

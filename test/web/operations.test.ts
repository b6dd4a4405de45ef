/**
 * The operations dashboard in the admin view, in a real Chromium against a real server: a server admin opens it
 * and sees live tiles with numbers that move when messages flow, sparklines that grow as it refreshes, and the
 * node table; at desktop and phone size and in 简体中文 (screenshots to test-artifacts/).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer, waitFor, type TestServer } from '../helpers/harness.js';
import { newUserPage, webSuite } from './browser.js';
import { seedUser, type SeededUser } from './seed.js';

const web = webSuite();
const { shot } = web;

async function openDashboard(
  srv: TestServer,
  admin: SeededUser,
  opts: { viewport?: { width: number; height: number }; locale?: 'zh-CN' } = {},
) {
  const p = await newUserPage(web.browser, {
    session: { token: admin.token, user: admin.user },
    ...(opts.viewport ? { viewport: opts.viewport } : {}),
  });
  if (opts.locale) {
    await p.context.addInitScript(
      (locale) => localStorage.setItem('relaychat.locale', JSON.stringify(locale)),
      opts.locale,
    );
  }
  await p.page.goto(srv.url);
  await p.page.locator('.me-card').waitFor({ state: 'attached' });
  return p;
}

/** The big number of a tile, as shown. */
const tileValue = (page: Page, id: string) => page.locator(`.ops-tile[data-tile="${id}"] .ops-number`).innerText();
const sparkPoints = async (page: Page, id: string) =>
  Number(await page.locator(`.ops-tile[data-tile="${id}"] .ops-spark`).getAttribute('data-points'));

/** Sends `n` messages to the lobby, a few at a time, so the dashboard sees traffic across refreshes. */
async function traffic(user: SeededUser, lobby: string, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    await user.api.sendMessage(lobby, `${tag} ${i}`, `${tag}-${i}`);
    if (i % 5 === 4) await new Promise((r) => setTimeout(r, 150));
  }
}

describe('web client operations dashboard', { timeout: 90_000 }, () => {
  it('a server admin sees live tiles with numbers that move, and the node table', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    const root = await seedUser(srv.url, 'root', 'Root Admin');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const lobby = (await bob.api.myRooms())[0]!.id;
    const r = await openDashboard(srv, root);
    const requests: string[] = [];
    r.page.on('request', (req) => {
      if (req.url().endsWith('/api/v1/admin/stats')) requests.push(req.url());
    });

    await r.page.getByRole('button', { name: 'Administration' }).click();
    await r.page.getByRole('tab', { name: 'Operations' }).click();
    const tiles = r.page.locator('.ops-tile');
    await tiles.first().waitFor();
    expect(await tiles.evaluateAll((els) => els.map((e) => e.getAttribute('data-tile')))).toEqual([
      'online',
      'messages',
      'latency',
      'delay',
      'utilization',
    ]);
    // Every tile has a number (latency shows "—" until something is delivered).
    for (const id of ['online', 'messages', 'delay', 'utilization']) {
      expect(await tileValue(r.page, id), id).toMatch(/^\d+(\.\d+)?$/);
    }
    expect(await tileValue(r.page, 'online')).toBe('1'); // root's own page
    expect(await tileValue(r.page, 'latency')).toBe('—');
    await r.page.locator('.ops-nodes tr.self', { hasText: srv.server.nodeId }).waitFor();

    // Messages flow: root's page is in the lobby, so every message is a delivery this node measures.
    await traffic(bob, lobby, 30, 'load');
    await waitFor(async () => Number(await tileValue(r.page, 'messages')) > 0, 10_000, 'a message rate');
    await waitFor(async () => /^\d/.test(await tileValue(r.page, 'latency')), 10_000, 'a latency p99');
    expect(await r.page.locator('.ops-tile[data-tile="messages"] .ops-sub').innerText()).toContain('30 since start');
    // It refreshes by itself: the sparklines gather points.
    await waitFor(async () => (await sparkPoints(r.page, 'messages')) >= 3, 15_000, 'three refreshes');
    expect(requests.length).toBeGreaterThanOrEqual(3);
    await shot(r.page, 'admin-operations');
    expect([...r.errors, ...r.consoleErrors]).toEqual([]);
  });

  it('fits a phone and reads in 简体中文', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    const root = await seedUser(srv.url, 'root', 'Root Admin');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const lobby = (await bob.api.myRooms())[0]!.id;
    const r = await openDashboard(srv, root, { viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    // The admin view is in the sidebar, a drawer at phone width.
    await r.page.getByRole('button', { name: '打开导航' }).click();
    await r.page.getByRole('button', { name: '服务器管理' }).click();
    await r.page.getByRole('tab', { name: '运行状态' }).click();
    await r.page.locator('.ops-tile[data-tile="online"] h3', { hasText: '在线用户' }).waitFor();
    await traffic(bob, lobby, 20, 'phone');
    await waitFor(async () => /^\d/.test(await tileValue(r.page, 'latency')), 10_000, 'a latency p99');
    await waitFor(async () => (await sparkPoints(r.page, 'messages')) >= 2, 15_000, 'a refresh');
    expect(await r.page.locator('.ops-tile[data-tile="latency"] h3').innerText()).toBe('投递延迟 p99');
    // Two tiles a row, none wider than the screen.
    const boxes = await r.page.locator('.ops-tile').evaluateAll((els) =>
      els.map((e) => {
        const b = e.getBoundingClientRect();
        return { left: b.left, right: b.right, top: b.top };
      }),
    );
    for (const b of boxes) expect(b.right).toBeLessThanOrEqual(390);
    expect(boxes[0]!.top).toBe(boxes[1]!.top);
    expect(boxes[2]!.top).toBeGreaterThan(boxes[0]!.top);
    await shot(r.page, 'admin-operations-phone-zh');
    // The node table below the tiles scrolls sideways inside the dialog instead of widening the page.
    await r.page.locator('.ops-nodes tr.self').scrollIntoViewIfNeeded();
    expect(await r.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(r.page, 'admin-operations-phone-zh-nodes');
    expect([...r.errors, ...r.consoleErrors]).toEqual([]);

    // Dark theme, desktop.
    const d = await newUserPage(web.browser, { session: { token: root.token, user: root.user }, colorScheme: 'dark' });
    await d.page.goto(srv.url);
    await d.page.getByRole('button', { name: 'Administration' }).click();
    await d.page.getByRole('tab', { name: 'Operations' }).click();
    await waitFor(async () => (await sparkPoints(d.page, 'messages')) >= 2, 15_000, 'a refresh');
    await shot(d.page, 'admin-operations-dark');
    expect([...d.errors, ...d.consoleErrors]).toEqual([]);
  });
});

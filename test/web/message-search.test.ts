/**
 * Message search in the web client, in a real Chromium against a real server: the search dialog (from the sidebar
 * and the room header) with its room and author filters, highlighted snippets, and a click on a result that opens the
 * room at the message — loading the history back to it, far beyond the first page — and highlights it. Desktop, and
 * a phone in Chinese.
 */
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { openRoomPage, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('search');

describe('web client: message search', { timeout: 120_000 }, () => {
  it('finds messages with highlights, filters by room and author, and jumps to a result in context', async () => {
    const srv = await startServer({ messageBurst: 1000, messagesPerSecond: 1000 }, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
    const bob = await seedUser(srv.url, 'bob', 'Bob Chen');
    const ops = await bob.api.createRoom('ops', 'public', 'Deploys and databases');
    const design = await alice.api.createRoom('design', 'public');
    await alice.api.join(ops.id);
    await bob.api.join(design.id);
    const target = (await bob.api.sendMessage(ops.id, '今晚迁移数据库，部署暂停到明早', 'b-target')).message;
    // 120 later messages: the target is far beyond the room's first page (50).
    for (let i = 1; i <= 120; i++) await bob.api.sendMessage(ops.id, `routine check ${i}`, `b-${i}`);
    await alice.api.sendMessage(design.id, 'the 数据库 diagram needs new colours', 'a-1');
    await bob.api.sendMessage(design.id, 'Deployment notes for the database move are in the wiki', 'b-x');

    const a = await openRoomPage(web.browser, alice, srv.url, design.id);
    await a.page.getByRole('button', { name: 'Search messages' }).first().click();
    const dialog = a.page.getByRole('dialog', { name: 'Search messages' });
    await dialog.getByRole('searchbox', { name: 'Search for' }).fill('数据库');
    await dialog.getByRole('button', { name: 'Search', exact: true }).click();
    const items = dialog.locator('.search-item');
    await expect.poll(() => items.count()).toBe(2);
    await expect(dialog.locator('.search-item mark').allTextContents()).resolves.toEqual(['数据库', '数据库']);
    await expect(items.nth(0).locator('.search-snippet').textContent()).resolves.toBe(
      'the 数据库 diagram needs new colours',
    );
    await web.shot(a.page, 'results');

    // Filters: the author, then the room.
    await dialog.getByRole('textbox', { name: 'From' }).fill('bob');
    await dialog.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => items.count()).toBe(1);
    await expect(items.locator('.search-snippet').textContent()).resolves.toBe('今晚迁移数据库，部署暂停到明早');
    await dialog.getByRole('textbox', { name: 'From' }).fill('');
    await dialog.getByRole('searchbox', { name: 'Search for' }).fill('deploy');
    await dialog.getByRole('combobox', { name: 'Room' }).selectOption(design.id);
    await dialog.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => dialog.locator('.search-item mark').allTextContents()).toEqual(['Deploy']);

    // Jump: back to the Chinese result in ops; the room opens at it, 120 messages back, highlighted.
    await dialog.getByRole('combobox', { name: 'Room' }).selectOption('');
    await dialog.getByRole('searchbox', { name: 'Search for' }).fill('迁移');
    await dialog.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => items.count()).toBe(1);
    await items.first().getByRole('button').click();
    await dialog.waitFor({ state: 'detached' });
    await a.page.locator(`.room-item.active[data-room="${ops.id}"]`).waitFor();
    const row = a.page.locator(`.messages .msg[data-seq="${target.seq}"]`);
    await expect.poll(() => row.getAttribute('class')).toMatch(/\bhighlighted\b/);
    await expect(row.isVisible()).resolves.toBe(true);
    await expect
      .poll(() =>
        row.evaluate((el) => {
          const r = el.getBoundingClientRect();
          return r.top >= 0 && r.bottom <= window.innerHeight;
        }),
      )
      .toBe(true);
    await web.shot(a.page, 'jumped');

    // A phone, in Chinese: the header's search button, the dialog, a result.
    const b = await openRoomPage(web.browser, bob, srv.url, ops.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    await b.page.getByRole('button', { name: '搜索消息' }).first().click();
    const zh = b.page.getByRole('dialog', { name: '搜索消息' });
    // Opened from the room header, it starts on this room; widened to all rooms.
    await expect(zh.getByRole('combobox', { name: '房间' }).inputValue()).resolves.toBe(ops.id);
    await zh.getByRole('combobox', { name: '房间' }).selectOption('');
    await zh.getByRole('searchbox', { name: '搜索内容' }).fill('数据库 colours');
    await zh.getByRole('button', { name: '搜索', exact: true }).click();
    await expect.poll(() => zh.locator('.search-item').count()).toBe(1);
    await expect(zh.locator('.search-item mark').allTextContents()).resolves.toEqual(['数据库', 'colours']);
    await web.shot(b.page, 'phone-zh');
    expect([...a.errors, ...b.errors]).toEqual([]);
  });
});

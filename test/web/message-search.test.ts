/**
 * Message search in the web client, in a real Chromium against a real server: the search dialog (from the sidebar
 * and the room header) with its room and author filters, highlighted snippets, and a click on a result that opens the
 * room at the message — loading the history back to it, far beyond the first page — and highlights it. Desktop, and
 * a phone in Chinese. A result far back opens a window around it instead of loading the whole history: scrolling
 * down joins it to the newest, live messages included, and sending a message goes back to the newest.
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

  it('a result far back opens a window around it, joined to the newest as the reader scrolls down', async () => {
    const srv = await startServer({ messageBurst: 2000, messagesPerSecond: 2000 }, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
    const bob = await seedUser(srv.url, 'bob', 'Bob Chen');
    const room = await bob.api.createRoom('archive', 'public');
    await alice.api.join(room.id);
    const target = (await bob.api.sendMessage(room.id, '去年的发布计划 release plan', 'b-target')).message;
    // 800 later messages: far more than the room loads back to reach a message (600).
    for (let i = 1; i <= 800; i++) await bob.api.sendMessage(room.id, `filler ${i}`, `b-${i}`);

    const a = await openRoomPage(web.browser, alice, srv.url, room.id);
    const rows = a.page.locator('.messages .msg[data-seq]');
    const seqs = () => rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))));
    const search = async (q: string) => {
      await a.page.getByRole('button', { name: 'Search messages' }).first().click();
      const dialog = a.page.getByRole('dialog', { name: 'Search messages' });
      await dialog.getByRole('searchbox', { name: 'Search for' }).fill(q);
      await dialog.getByRole('button', { name: 'Search', exact: true }).click();
      await expect.poll(() => dialog.locator('.search-item').count()).toBe(1);
      await dialog.locator('.search-item').first().getByRole('button').click();
      await dialog.waitFor({ state: 'detached' });
    };
    await expect.poll(async () => (await seqs()).at(-1)).toBe(target.seq + 800);

    await search('发布计划');
    const row = a.page.locator(`.messages .msg[data-seq="${target.seq}"]`);
    await expect.poll(() => row.getAttribute('class')).toMatch(/\bhighlighted\b/);
    // A window around it, not the 800 messages between it and the newest.
    const window = await seqs();
    expect(window[0]).toBe(target.seq);
    expect(window.length).toBeLessThanOrEqual(101);
    expect(window.at(-1)).toBeLessThan(target.seq + 200);
    const jump = a.page.locator('.jump-latest');
    await jump.waitFor();
    await web.shot(a.page, 'window');

    // Meanwhile a message arrives live; then the reader scrolls down page by page until the window meets it.
    const live = (await bob.api.sendMessage(room.id, 'live while you read old news', 'b-live')).message;
    for (let i = 0; i < 20 && !(await seqs()).includes(live.seq); i++) {
      await a.page.locator('.messages').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await a.page.waitForTimeout(150);
    }
    const joined = await seqs();
    expect(joined.at(-1)).toBe(live.seq);
    // One list, in order and without a gap: every message the server has from the jumped-to one to the live one.
    const stored: number[] = [target.seq];
    for (let i = 0; i < 10 && stored.at(-1)! < live.seq; i++) {
      stored.push(...(await alice.api.messages(room.id, { after: stored.at(-1)!, limit: 200 })).map((m) => m.seq));
    }
    expect(stored.at(-1)).toBe(live.seq);
    expect(joined).toEqual(stored);
    await expect(a.page.locator('.messages .msg', { hasText: 'live while you read old news' }).count()).resolves.toBe(
      1,
    );

    // Again far back, in a fresh page (this one has it all loaded now); this time the reader sends a message: the
    // room goes back to its newest, the message there.
    await a.page.reload();
    await expect.poll(async () => (await seqs()).at(-1)).toBe(live.seq);
    await search('release plan');
    await expect.poll(async () => (await seqs()).length).toBeLessThanOrEqual(101);
    await a.page.locator('textarea.composer-input').fill('back to now');
    await a.page.locator('textarea.composer-input').press('Enter');
    const sent = a.page.locator('.messages .msg[data-seq]', { hasText: 'back to now' });
    await sent.waitFor();
    const sentSeq = Number(await sent.getAttribute('data-seq'));
    expect(sentSeq).toBeGreaterThan(live.seq);
    const latest = await seqs();
    expect(latest.at(-1)).toBe(sentSeq);
    await expect(jump.isVisible()).resolves.toBe(false);
    expect(latest[0]).toBeGreaterThan(target.seq + 600);
    await web.shot(a.page, 'back-to-newest');
    expect(a.errors).toEqual([]);
  });
});

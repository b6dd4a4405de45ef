/**
 * Message edits in the web client, in a real Chromium against a real server: Alice edits her message (the Edit
 * action, then Up in the empty composer), Bob sees the new text and "(edited)" live and after a reload; Esc
 * cancels; a refused edit says why. Screenshots at desktop and phone size, in English and 简体中文.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { bodies, waitForBodies, webSuite, openRoomPage, sendInComposer } from './browser.js';
import { seedUser, type SeededUser } from './seed.js';

const web = webSuite('edit');
const { shot } = web;

const pageFor = (
  u: SeededUser,
  url: string,
  roomId: string,
  opts: { viewport?: { width: number; height: number }; locale?: 'zh-CN' } = {},
) => openRoomPage(web.browser, u, url, roomId, opts);

const send = sendInComposer;

const row = (page: Page, text: string) => page.locator('.messages .msg', { hasText: text });
const editor = (page: Page) => page.locator('.messages textarea.msg-editor-input');

describe('web client: message edits', { timeout: 90_000 }, () => {
  it('Alice edits (action and Up arrow); Bob sees the new text and (edited) live and after a reload', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('edits', 'public');
    await bob.api.join(room.id);

    const a = await pageFor(alice, srv.url, room.id);
    const b = await pageFor(bob, srv.url, room.id);
    await send(a.page, 'helo wrold');
    await send(b.page, 'bob was here');
    await send(a.page, 'second thoughts');
    await waitForBodies(b.page, (x) => x.includes('second thoughts'), 'alice’s messages at bob');
    await waitForBodies(a.page, (x) => x.includes('bob was here'), 'bob’s message at alice');

    // Only one's own messages offer Edit.
    await row(b.page, 'helo wrold').hover();
    await expect(row(b.page, 'helo wrold').getByRole('button', { name: 'Edit message' }).count()).resolves.toBe(0);

    // The Edit action: an inline editor with the text; Enter saves.
    await row(a.page, 'helo wrold').hover();
    await row(a.page, 'helo wrold').getByRole('button', { name: 'Edit message' }).click();
    await expect(editor(a.page).inputValue()).resolves.toBe('helo wrold');
    await editor(a.page).fill('hello world');
    await shot(a.page, 'desktop-editing');
    await editor(a.page).press('Enter');
    await editor(a.page).waitFor({ state: 'detached' });

    // Bob: the new text and the marker, live, in place (still the first message), with the time on hover.
    await waitForBodies(b.page, (x) => x[0] === 'hello world (edited)', 'the edit at bob');
    expect(await bodies(b.page)).toEqual(['hello world (edited)', 'bob was here', 'second thoughts']);
    const mark = row(b.page, 'hello world').locator('.msg-edited');
    expect(await mark.getAttribute('title')).toMatch(/^Edited /);
    await shot(b.page, 'desktop-seen-by-bob');

    // Up in the empty composer edits Alice's last message; Esc cancels and leaves it unchanged.
    const composer = a.page.locator('textarea.composer-input');
    await composer.focus();
    await composer.press('ArrowUp');
    await expect(editor(a.page).inputValue()).resolves.toBe('second thoughts');
    await editor(a.page).fill('never mind');
    await editor(a.page).press('Escape');
    await editor(a.page).waitFor({ state: 'detached' });
    expect(await bodies(a.page)).toEqual(['hello world (edited)', 'bob was here', 'second thoughts']);
    // Focus is back in the composer: Up again, and this time save.
    await composer.press('ArrowUp');
    // The editor fills itself with the message once open: wait for that, or typing races it (seen on a busy runner).
    await expect.poll(() => editor(a.page).inputValue()).toBe('second thoughts');
    await editor(a.page).fill('third thoughts');
    await editor(a.page).press('Enter');
    await waitForBodies(b.page, (x) => x[2] === 'third thoughts (edited)', 'the second edit at bob');

    // A refused edit (the server's length limit) keeps the editor open and says why.
    const big = 'x'.repeat(4001);
    await composer.press('ArrowUp');
    await editor(a.page).fill(big);
    await expect(a.page.locator('.msg-editor button[type="submit"]').isDisabled()).resolves.toBe(true);
    await editor(a.page).press('Escape');

    // After a reload Bob still sees both edits; the server holds them.
    await b.page.reload();
    await b.page.locator('.messages .loading-row').waitFor({ state: 'detached' });
    await waitForBodies(b.page, (x) => x.length === 3, 'history after reload');
    expect(await bodies(b.page)).toEqual(['hello world (edited)', 'bob was here', 'third thoughts (edited)']);
    expect((await alice.api.messages(room.id)).map((m) => m.body)).toEqual([
      'hello world',
      'bob was here',
      'third thoughts',
    ]);
    for (const p of [a, b]) expect(p.errors).toEqual([]);

    // Phone size and 简体中文: the marker and the editor in Chinese.
    const phone = await pageFor(alice, srv.url, room.id, { viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    await waitForBodies(phone.page, (x) => x[0] === 'hello world（已编辑）', 'the marker in Chinese');
    await shot(phone.page, 'phone-zh');
    await phone.page.locator('textarea.composer-input').focus();
    await phone.page.locator('textarea.composer-input').press('ArrowUp');
    await editor(phone.page).waitFor();
    expect(await phone.page.locator('.msg-editor-hint').innerText()).toBe('Enter 保存 · Esc 取消');
    await shot(phone.page, 'phone-zh-editing');
    await phone.page.locator('.msg-editor').getByRole('button', { name: '取消' }).click();
    await editor(phone.page).waitFor({ state: 'detached' });
  });

  it('an edit refused by the server (keyword filter) shows the reason and keeps the text', async () => {
    const srv = await startServer({ filterBlock: 'frobnicate' }, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const room = await alice.api.createRoom('strict', 'public');
    const a = await pageFor(alice, srv.url, room.id);
    await send(a.page, 'all good');
    await waitForBodies(a.page, (x) => x.includes('all good'), 'the message');
    await a.page.locator('textarea.composer-input').press('ArrowUp');
    await editor(a.page).fill('please frobnicate');
    await editor(a.page).press('Enter');
    await a.page.locator('.toast', { hasText: 'words this server does not allow' }).waitFor();
    await expect(editor(a.page).inputValue()).resolves.toBe('please frobnicate');
    expect((await alice.api.messages(room.id)).map((m) => m.body)).toEqual(['all good']);
  });

  it('the composer and the inline editor grow with their text up to 240 px, then scroll', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const room = await alice.api.createRoom('tall', 'public');
    const a = await pageFor(alice, srv.url, room.id);
    const height = (selector: string) =>
      a.page.locator(selector).evaluate((el) => (el as HTMLTextAreaElement).getBoundingClientRect().height);
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`).join('\n');
    for (const selector of ['textarea.composer-input', '.messages textarea.msg-editor-input']) {
      if (selector.includes('editor')) {
        await send(a.page, 'one line');
        await waitForBodies(a.page, (x) => x.includes('one line'), 'the message');
        await a.page.locator('textarea.composer-input').press('ArrowUp');
      }
      const input = a.page.locator(selector);
      await input.fill('one line');
      const one = await height(selector);
      await input.fill(lines(4));
      const four = await height(selector);
      expect(four).toBeGreaterThan(one * 2);
      await input.fill(lines(40));
      expect(await height(selector)).toBeLessThanOrEqual(240);
      expect(await input.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
      await input.fill('');
    }
  });
});

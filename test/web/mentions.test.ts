/**
 * Mentions in the web client, in a real Chromium against a real server: `@` in the composer offers the room's
 * members (arrow keys, Enter or Tab picks, Escape closes; `@room` only for those the room allows), the mentioned
 * user's room list shows an `@` badge live, the message shows its names as chips (mine stronger, the row
 * highlighted), and reading the room clears the badge. In English on a desktop and in 简体中文 on a phone.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { openRoomPage, ROOT, waitForBodies, withBrowser } from './browser.js';
import { seedUser } from './seed.js';

let browser: Browser;
let webDir: string;

withBrowser((b, dir) => {
  browser = b;
  webDir = dir;
});

const row = (page: Page, text: string) => page.locator('.messages .msg', { hasText: text });

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
  await page.screenshot({ path: join(ROOT, `test-artifacts/web-mentions-${name}.png`) });
}

describe('web client: mentions', { timeout: 120_000 }, () => {
  it('autocomplete in the composer; the badge, chips and row highlight at the mentioned user', async () => {
    const srv = await startServer({}, { webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const carol = await seedUser(srv.url, 'carol', 'Carol');
    const room = await alice.api.createRoom('plans', 'public');
    await bob.api.join(room.id);
    await carol.api.join(room.id);
    await carol.api.sendMessage(room.id, 'morning all', 'c-1');

    const a = await openRoomPage(browser, alice, srv.url, room.id);
    // Bob is elsewhere (the lobby), on a phone, in Chinese.
    const b = await openRoomPage(browser, bob, srv.url, 'lobby', {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    await waitForBodies(a.page, (x) => x.includes('morning all'), 'messages at alice');

    // Typing `@` offers the members (not me), and @room / @here to the owner.
    const input = a.page.locator('textarea.composer-input').first();
    const list = a.page.getByRole('listbox', { name: 'People to mention' });
    await input.pressSequentially('@');
    await list.waitFor();
    await expect(list.getByRole('option').allTextContents()).resolves.toEqual([
      'Bob @bob',
      'Carol @carol',
      '@room Notify everyone in this room',
      '@here Notify everyone online now',
    ]);
    await input.pressSequentially('c');
    await expect(list.getByRole('option').allTextContents()).resolves.toEqual(['Carol @carol']);
    // Escape closes it; typing goes on as text.
    await input.press('Escape');
    await list.waitFor({ state: 'detached' });
    await input.fill('');
    await input.pressSequentially('ping @b');
    await expect(list.getByRole('option').allTextContents()).resolves.toEqual(['Bob @bob']);
    await shot(a.page, 'suggest-desktop');
    await input.press('Tab');
    await expect(input.inputValue()).resolves.toBe('ping @bob ');
    await input.pressSequentially('can you check the plan? @ca');
    await input.press('ArrowDown'); // one option: the selection wraps onto it
    await input.press('Enter');
    await expect(input.inputValue()).resolves.toBe('ping @bob can you check the plan? @carol ');
    await input.press('Enter');

    // Bob, in another room, gets the @ badge on "plans" live.
    const item = b.page.locator(`.room-item[data-room="${room.id}"]`);
    // On a phone the room list is a drawer: open it.
    await b.page.getByRole('button', { name: '打开导航' }).first().click();
    await item.locator('.mention-badge', { hasText: '@1' }).waitFor();
    await expect(item.locator('.mention-badge').getAttribute('aria-label')).resolves.toBe('1 条未读提及');
    await shot(b.page, 'badge-phone-zh');

    // Opening the room: the chips (mine stronger) and the highlighted row; reading clears the badge.
    await item.click();
    const msg = row(b.page, 'can you check the plan?');
    await msg.waitFor();
    await expect(msg.getAttribute('class')).resolves.toMatch(/\bmentions-me\b/);
    await expect(msg.locator('.mention.mention-me').allTextContents()).resolves.toEqual(['@bob']);
    await expect(msg.locator('.mention:not(.mention-me)').allTextContents()).resolves.toEqual(['@carol']);
    await expect(row(b.page, 'morning all').getAttribute('class')).resolves.not.toMatch(/mentions-me/);
    await item.locator('.mention-badge').waitFor({ state: 'detached' });
    await shot(b.page, 'chips-phone-zh');
    // The inbox: from another room, the dialog lists the mention; a click opens the room at it.
    await b.page.getByRole('button', { name: '打开导航' }).first().click();
    await b.page.locator('.room-item[data-room="lobby"]').click();
    await b.page.getByRole('button', { name: '打开导航' }).first().click();
    await b.page.getByRole('button', { name: '提及', exact: true }).click();
    const inbox = b.page.getByRole('dialog');
    const entry = inbox.locator('.mention-item', { hasText: 'can you check the plan?' });
    await entry.waitFor();
    await expect(entry.textContent()).resolves.toContain('在 plans');
    await expect(inbox.locator('.mention-item').count()).resolves.toBe(1);
    await shot(b.page, 'inbox-phone-zh');
    await entry.getByRole('button').click();
    await b.page.locator(`.room-item.active[data-room="${room.id}"]`).waitFor({ state: 'attached' });
    await b.page.locator('.messages .msg.highlighted', { hasText: 'can you check the plan?' }).waitFor();

    // The sender's own row is not highlighted for her, though the chips show.
    const own = row(a.page, 'can you check the plan?');
    await own.locator('.mention', { hasText: '@bob' }).waitFor();
    await expect(own.getAttribute('class')).resolves.not.toMatch(/mentions-me/);
    await shot(a.page, 'sent-desktop');

    // A member may not use @room here: not offered.
    const c = await openRoomPage(browser, carol, srv.url, room.id);
    const cInput = c.page.locator('textarea.composer-input').first();
    await cInput.pressSequentially('@');
    await expect(
      c.page.getByRole('listbox', { name: 'People to mention' }).getByRole('option').allTextContents(),
    ).resolves.toEqual(['Alice @alice', 'Bob @bob']);
    for (const p of [a, b, c]) await p.context.close();
  });
});

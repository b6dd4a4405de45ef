/**
 * Pinned messages in the web client, in a real Chromium against a real server: the room's owner pins a message
 * from its hover actions, a member sees it marked "Pinned" and counted in the header live, opens the pinned list
 * (in 简体中文, and on a phone), and the unpin reaches them too; members of a room get no pin action, either member
 * of a DM does.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { openRoomPage, sendInComposer, waitForBodies, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('pins');
const { shot } = web;

const row = (page: Page, text: string) => page.locator('.messages .msg', { hasText: text });
const pinButton = (page: Page) => page.getByRole('button', { name: /pinned message/ });

describe('web client: pinned messages', { timeout: 120_000 }, () => {
  it('the owner pins and unpins; a member sees both live and reads the pinned list', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('ops', 'public');
    await bob.api.join(room.id);
    await bob.api.sendMessage(room.id, 'runbook: restart with systemctl', 'b-1');
    await bob.api.sendMessage(room.id, 'unrelated chatter', 'b-2');

    const a = await openRoomPage(web.browser, alice, srv.url, room.id);
    const b = await openRoomPage(web.browser, bob, srv.url, room.id, { locale: 'zh-CN' });
    await waitForBodies(a.page, (x) => x.includes('unrelated chatter'), 'messages at alice');

    // A member of a room has no pin action.
    await row(b.page, 'runbook').hover();
    await expect(row(b.page, 'runbook').getByRole('button', { name: '置顶消息' }).count()).resolves.toBe(0);

    await row(a.page, 'runbook').hover();
    await row(a.page, 'runbook').getByRole('button', { name: 'Pin message' }).click();
    await row(a.page, 'runbook').locator('.msg-pinned').waitFor();
    // Bob sees it live: the mark on the message and the count in the header.
    await row(b.page, 'runbook').locator('.msg-pinned', { hasText: '已置顶' }).waitFor();
    await expect(row(b.page, 'unrelated chatter').locator('.msg-pinned').count()).resolves.toBe(0);
    await b.page.getByRole('button', { name: '1 条置顶消息' }).click();
    const list = b.page.getByRole('dialog');
    await list.locator('.pin-item', { hasText: 'runbook: restart with systemctl' }).waitFor();
    await expect(list.locator('.pin-by').textContent()).resolves.toBe('由 Alice 置顶');
    await expect(list.getByRole('button', { name: '取消置顶' }).count()).resolves.toBe(0);
    await shot(b.page, 'list-zh');
    await b.page.keyboard.press('Escape');

    // Alice unpins from the list; Bob's mark and count go.
    await pinButton(a.page).click();
    await a.page.getByRole('dialog').getByRole('button', { name: 'Unpin' }).click();
    await row(b.page, 'runbook').locator('.msg-pinned').waitFor({ state: 'detached' });
    await b.page.getByRole('button', { name: '1 条置顶消息' }).waitFor({ state: 'detached' });
    for (const p of [a, b]) await p.context.close();
  });

  it('Jump in the pinned list brings a message from far back into view, highlighted', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const room = await alice.api.createRoom('handbook', 'public');
    const old = await alice.api.sendMessage(room.id, 'the onboarding checklist', 'h-0');
    await alice.api.pin(room.id, old.message.seq);
    // More than the first page of history (50), so the pinned message is not loaded when the room opens.
    for (let i = 1; i <= 60; i++) await alice.api.sendMessage(room.id, `note ${i}`, `h-${i}`);
    const a = await openRoomPage(web.browser, alice, srv.url, room.id);
    await waitForBodies(a.page, (x) => x.includes('note 60'), 'the newest page');
    expect(await row(a.page, 'the onboarding checklist').count()).toBe(0);
    await pinButton(a.page).click();
    await a.page.getByRole('dialog').getByRole('button', { name: 'Jump' }).click();
    await a.page.getByRole('dialog').waitFor({ state: 'detached' });
    const target = a.page.locator('.messages .msg.highlighted', { hasText: 'the onboarding checklist' });
    await target.waitFor();
    const inView = await target.evaluate((node) => {
      const box = node.getBoundingClientRect();
      const port = node.closest('.messages')!.getBoundingClientRect();
      return box.top >= port.top && box.bottom <= port.bottom;
    });
    expect(inView).toBe(true);
    await a.context.close();
  });

  it('either member of a DM pins; on a phone the list fits the screen', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const dm = await alice.api.openDm('bob');
    const b = await openRoomPage(web.browser, bob, srv.url, dm.id, { viewport: { width: 390, height: 844 } });
    await sendInComposer(b.page, 'door code is 4711');
    await waitForBodies(b.page, (x) => x.includes('door code is 4711'), 'sent');
    await row(b.page, 'door code').click();
    await row(b.page, 'door code').getByRole('button', { name: 'Pin message' }).click();
    await b.page.getByRole('button', { name: '1 pinned message' }).click();
    await b.page.getByRole('dialog').locator('.pin-item', { hasText: 'door code is 4711' }).waitFor();
    await shot(b.page, 'list-phone');
    expect((await alice.api.pins(dm.id)).map((p) => p.message.body)).toEqual(['door code is 4711']);
    await b.context.close();
  });
});

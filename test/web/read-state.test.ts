/**
 * Read state in the web client, in a real Chromium against a real server: the unread badge comes from the server and
 * clears on every device when one of them reads; a room opened with unread messages shows "New messages" above the
 * first of them; in a DM the sender sees "Seen" once the other has read; the read-receipts switch in settings turns
 * that off both ways. Screenshots at desktop and phone size, in English and 简体中文.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer, waitFor } from '../helpers/harness.js';
import { waitForBodies, webSuite, openRoomPage, sendInComposer } from './browser.js';
import { seedUser, type SeededUser } from './seed.js';

const web = webSuite('read');
const { shot } = web;

const pageFor = (
  u: SeededUser,
  url: string,
  roomId: string,
  opts: { viewport?: { width: number; height: number }; locale?: 'zh-CN' } = {},
) => openRoomPage(web.browser, u, url, roomId, opts);

const send = sendInComposer;

const badge = (page: Page, roomId: string) => page.locator(`.room-item[data-room="${roomId}"] .unread-badge`);

describe('web client: read state', { timeout: 120_000 }, () => {
  it('unread comes from the server and clears on every device; "New messages" marks where reading resumes', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('standup', 'public');
    await bob.api.join(room.id);
    const first = await alice.api.sendMessage(room.id, 'yesterday: shipped edits', 'r-1');
    await bob.api.markRead(room.id, first.message.seq);
    await alice.api.sendMessage(room.id, 'today: read markers', 'r-2');
    await alice.api.sendMessage(room.id, 'blockers: none', 'r-3');

    // Bob's laptop opens the lobby: the badge says 2, as the server counted, on a browser that never saw the room.
    const laptop = await pageFor(bob, srv.url, 'lobby');
    await expect(badge(laptop.page, room.id).textContent()).resolves.toBe('2');
    const phone = await pageFor(bob, srv.url, 'lobby', { viewport: { width: 390, height: 844 } });
    await expect(badge(phone.page, room.id).textContent()).resolves.toBe('2');

    // The laptop opens the room: the divider sits above the first unread message...
    await laptop.page.locator(`.room-item[data-room="${room.id}"]`).click();
    await waitForBodies(laptop.page, (x) => x.includes('blockers: none'), 'the room at the laptop');
    const divider = laptop.page.locator('.messages .new-divider');
    await divider.waitFor();
    const order = await laptop.page
      .locator('.messages .new-divider, .messages .msg .md')
      .evaluateAll((els) => els.map((e) => (e.classList.contains('new-divider') ? '---' : e.textContent?.trim())));
    expect(order.slice(order.indexOf('---') - 1, order.indexOf('---') + 2)).toEqual([
      'yesterday: shipped edits',
      '---',
      'today: read markers',
    ]);
    await shot(laptop.page, 'divider-desktop');

    // More than a screenful unread: the room opens at the divider, not at the bottom, and says there is more below.
    const many = await alice.api.createRoom('backlog', 'public');
    await bob.api.join(many.id);
    const last = await alice.api.sendMessage(many.id, 'where bob stopped', 'm-0');
    await bob.api.markRead(many.id, last.message.seq);
    for (let i = 1; i <= 40; i++) await alice.api.sendMessage(many.id, `update ${i}`, `m-${i}`);
    await laptop.page.locator(`.room-item[data-room="${many.id}"]`).click();
    await waitForBodies(laptop.page, (x) => x.includes('update 40'), 'the backlog at the laptop');
    const inView = (selector: string) =>
      laptop.page.locator(selector).evaluate((node) => {
        const box = node.getBoundingClientRect();
        const port = node.closest('.messages')!.getBoundingClientRect();
        return box.top >= port.top && box.bottom <= port.bottom;
      });
    await expect(inView('.messages .new-divider')).resolves.toBe(true);
    await expect(inView('.messages .msg:last-of-type')).resolves.toBe(false);
    await laptop.page.locator('.jump-latest').waitFor();
    await shot(laptop.page, 'divider-backlog');
    // ...and the phone's badge clears without a reload: the server told it.
    await badge(phone.page, room.id).waitFor({ state: 'detached', timeout: 10_000 });
    await waitFor(
      async () => (await bob.api.myRooms()).find((r) => r.id === room.id)?.unread === 0,
      10_000,
      'the marker on the server',
    );

    // Replying takes the divider away.
    await send(laptop.page, 'thanks!');
    await divider.waitFor({ state: 'detached' });

    // A reload keeps the room read: nothing is unread, no divider.
    await alice.api.sendMessage(room.id, 'one more thing', 'r-4');
    // (On a phone the sidebar is a drawer: the badge is there, hidden until it opens.)
    await badge(phone.page, room.id).waitFor({ state: 'attached' });
    await phone.page.reload();
    await phone.page.locator('.me-card').waitFor({ state: 'attached' });
    await expect(badge(phone.page, room.id).textContent()).resolves.toBe('1');
    await phone.page.getByRole('button', { name: 'Open navigation' }).first().click();
    await badge(phone.page, room.id).waitFor();
    // The drawer slides in: the picture is taken once it is all there.
    await phone.page.waitForFunction(
      (id) => document.querySelector(`.room-item[data-room="${id}"]`)!.getBoundingClientRect().left >= 0,
      room.id,
    );
    await shot(phone.page, 'badge-phone');
    for (const p of [laptop, phone]) await p.context.close();
  });

  it('a DM says "Seen" once the other has read; the switch in settings turns receipts off both ways', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const carol = await seedUser(srv.url, 'carol', 'Carol');
    const dm = await alice.api.openDm('bob');
    const a = await pageFor(alice, srv.url, dm.id);
    await send(a.page, 'lunch at noon?');
    await waitForBodies(a.page, (x) => x.includes('lunch at noon?'), 'sent');
    await expect(a.page.locator('.messages .seen-by').count()).resolves.toBe(0);

    // Bob reads it in his browser: Alice sees "Seen" under it, live.
    const b = await pageFor(bob, srv.url, dm.id, { locale: 'zh-CN' });
    await waitForBodies(b.page, (x) => x.includes('lunch at noon?'), 'the DM at bob');
    const seen = a.page.locator('.messages .seen-by');
    await seen.waitFor({ timeout: 10_000 });
    await expect(seen.textContent()).resolves.toBe('Seen');
    await shot(a.page, 'seen-desktop');
    // Bob's answer: he sees 已读 (zh-CN) under his own once Alice's open page has read it.
    await send(b.page, '好的，中午见');
    await b.page.locator('.messages .seen-by', { hasText: '已读' }).waitFor({ timeout: 10_000 });
    await shot(b.page, 'seen-zh');

    // A group DM names who has seen it.
    const group = await alice.api.openDm('bob', 'carol');
    await alice.api.sendMessage(group.id, 'team lunch?', 'g-1');
    await bob.api.markRead(group.id, group.lastSeq + 1);
    await carol.api.markRead(group.id, group.lastSeq + 1);
    await a.page.locator(`.room-item[data-room="${group.id}"]`).click();
    await a.page.locator('.messages .seen-by', { hasText: 'Seen by Bob, Carol' }).waitFor({ timeout: 10_000 });

    // Bob turns read receipts off in settings.
    await b.page.getByRole('button', { name: '设置', exact: true }).click();
    const toggle = b.page.getByRole('checkbox', { name: /已读回执/ });
    await expect(toggle.isChecked()).resolves.toBe(true);
    await shot(b.page, 'settings-zh');
    await toggle.uncheck();
    await waitFor(async () => !(await bob.api.settings()).readReceipts, 10_000, 'the setting saved');
    await b.page.keyboard.press('Escape');
    // He no longer sees Alice's receipts...
    await expect(b.page.locator('.messages .seen-by').count()).resolves.toBe(0);
    // ...and his reading is not shown to her: Alice's next message is read by Bob (his marker moves on the server)
    // but she is not told.
    await a.page.locator(`.room-item[data-room="${dm.id}"]`).click();
    await send(a.page, 'or 12:30?');
    await waitForBodies(b.page, (x) => x.includes('or 12:30?'), 'the second message at bob');
    await waitFor(
      async () => {
        const r = (await bob.api.myRooms()).find((x) => x.id === dm.id);
        return r !== undefined && r.unread === 0 && r.readSeq === r.lastSeq;
      },
      10_000,
      'bob read it, on the server',
    );
    const lastSeen = await a.page.locator('.messages .seen-by').count();
    const underNewest = await a.page
      .locator('.messages .msg', { hasText: 'or 12:30?' })
      .locator('xpath=following-sibling::*[1][contains(@class, "seen-by")]')
      .count();
    expect([lastSeen, underNewest]).toEqual([0, 0]);
    for (const p of [a, b]) await p.context.close();
  });
});

/**
 * Bots in the web client (issue 16), in a real Chromium against a real server: a bot is marked with a "bot" badge
 * wherever its name appears — as a message's author, in the member list, in a DM's title (header and sidebar) — on a
 * desktop, on a phone and in 简体中文; a person is not.
 */
import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { startServer } from '../helpers/harness.js';
import { openRoomPage, waitForBodies, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('bots');
const { shot } = web;

describe('web client: bots', { timeout: 120_000 }, () => {
  it('marks a bot as author, in the member list and in a DM title; not a person', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    const root = await seedUser(srv.url, 'root', 'Root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const room = await alice.api.createRoom('town', 'public');
    const { bot, token } = await alice.api.createBot({
      username: 'helper',
      displayName: 'Helper',
      roomId: room.id,
      scopes: ['read', 'post'],
    });
    const botApi = new ChatApi(srv.url, token);
    await alice.api.sendMessage(room.id, 'hello helper', 'a-1');
    await botApi.sendMessage(room.id, 'beep boop, I am a bot', 'b-1');
    // A server-wide bot in a DM with Alice.
    const srvBot = await root.api.createBot({
      username: 'deploybot',
      displayName: 'Deploy Bot',
      scopes: ['read', 'post'],
    });
    const dm = await alice.api.openDm(srvBot.bot.username);

    const a = await openRoomPage(web.browser, alice, srv.url, room.id);
    await waitForBodies(a.page, (x) => x.includes('beep boop, I am a bot'), 'the bot message');
    const botAuthor = a.page.locator('.msg-head', { has: a.page.locator('.msg-author', { hasText: 'Helper' }) });
    await expect(botAuthor.locator('.badge-bot').innerText()).resolves.toMatch(/^bot$/i);
    const aliceHead = a.page.locator('.msg-head', { has: a.page.locator('.msg-author', { hasText: 'Alice' }) });
    expect(await aliceHead.locator('.badge-bot').count()).toBe(0);

    const membersButton = a.page.locator('.room-header .pill-button[aria-pressed]');
    if ((await membersButton.getAttribute('aria-pressed')) !== 'true') await membersButton.click();
    const botMember = a.page.locator('.member', { hasText: 'Helper' });
    await botMember.locator('.badge-bot').waitFor();
    expect(await a.page.locator('.member', { hasText: 'Alice' }).locator('.badge-bot').count()).toBe(0);
    await shot(a.page, 'room-author-and-members');

    // The DM with the bot: its title in the sidebar and in the header.
    await a.page.locator(`.room-item[data-room="${dm.id}"] .badge-bot`).waitFor();
    await a.page.locator(`.room-item[data-room="${dm.id}"]`).click();
    await a.page.locator('.room-item.active .badge-bot').waitFor();
    await a.page.locator('header .badge-bot, .room-header .badge-bot').first().waitFor();
    await shot(a.page, 'dm-title');
    expect(bot.bot).toBe(true);

    // On a phone, in 简体中文.
    const phone = await openRoomPage(web.browser, alice, srv.url, room.id, {
      viewport: { width: 390, height: 844 },
      locale: 'zh-CN',
    });
    await waitForBodies(phone.page, (x) => x.includes('beep boop, I am a bot'), 'the bot message (phone)');
    const phoneBadge = phone.page.locator('.msg-head', {
      has: phone.page.locator('.msg-author', { hasText: 'Helper' }),
    });
    await expect(phoneBadge.locator('.badge-bot').innerText()).resolves.toBe('机器人');
    await shot(phone.page, 'phone-zh');
  });
});

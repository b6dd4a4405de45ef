/**
 * Managing bots in the web client, and what people see of bots and integrations (issue 16), in a real Chromium
 * against a real server:
 * - a room's owner creates a bot in Room settings → Integrations (scopes as checkboxes), copies its token (shown
 *   once); a real SDK bot (`createBot`) started with that token registers `/roll`; a person who had already opened
 *   the command list sees `/roll` in it without reloading, runs it and sees the bot's reply; `/away` works from the
 *   composer; a new token (confirmed) kills the old one; deleting (confirmed) removes the bot;
 * - a server admin creates a server-wide bot in Admin → Integrations and sees every bot;
 * - a message posted through an incoming webhook is shown as the integration (name, app badge), in the timeline and
 *   in search results, not as the person who set it up.
 * Desktop, 390x844 and 简体中文.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { ChatApi, ApiError } from '../../src/client/api.js';
import { createBot, type WebSocketCtor } from '../../src/client/index.js';
import { startServer } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import { openRoomPage, waitForBodies, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('bots-manage');
const { shot } = web;

const composer = (page: Page) => page.locator('textarea.composer-input').first();

/** Opens the room's settings on the Integrations tab; returns the bots section. */
async function roomBots(page: Page, manage = 'Manage room', tab = 'Integrations') {
  await page.getByRole('button', { name: manage }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('tab', { name: tab }).click();
  return dialog.getByTestId('bots');
}

/** Names offered by the open command list. */
const offered = (page: Page) =>
  page.getByRole('listbox', { name: 'Commands' }).locator('.suggest-name').allTextContents();

describe('web client: managing bots', { timeout: 180_000 }, () => {
  it('a room owner creates a bot; its command reaches the composer; new token and delete are confirmed', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root', 'Root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('games', 'public');
    await bob.api.join(room.id);
    await alice.api.sendMessage(room.id, 'who wants to play?', 'a-1');

    const a = await openRoomPage(web.browser, alice, srv.url, room.id, {
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const b = await openRoomPage(web.browser, bob, srv.url, room.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    await waitForBodies(a.page, (x) => x.includes('who wants to play?'), 'history at alice');

    // Alice opens the command list before any bot exists: built-ins only (the list is now read and kept).
    const input = composer(a.page);
    await input.pressSequentially('/');
    await expect.poll(() => offered(a.page)).toContain('/away');
    expect(await offered(a.page)).not.toContain('/roll');
    await input.press('Escape');
    await input.fill('');

    // Room settings → Integrations → Bots: create one that reads, posts and registers commands.
    const bots = await roomBots(a.page);
    await bots.getByText('No bots yet.').waitFor();
    const form = bots.locator('form.bot-create');
    await form.getByLabel('Username').fill('dice');
    await form.getByLabel('Display name').fill('Dice');
    // Read and Post are ticked to start with; React is not.
    await expect(form.getByRole('checkbox', { name: /^Read/ }).isChecked()).resolves.toBe(true);
    await expect(form.getByRole('checkbox', { name: /^Post/ }).isChecked()).resolves.toBe(true);
    await expect(form.getByRole('checkbox', { name: /^React/ }).isChecked()).resolves.toBe(false);
    await form.getByRole('checkbox', { name: /^Slash commands/ }).check();
    await form.getByRole('button', { name: 'Create bot' }).click();
    const once = bots.getByTestId('bot-token');
    await once.waitFor();
    await expect(once.innerText()).resolves.toContain('you will not see it again');
    const token = await once.getByLabel('Bot token').inputValue();
    expect(token).toMatch(/^\S{20,}$/);
    await once.getByRole('button', { name: 'Copy', exact: true }).click();
    await once.getByRole('button', { name: 'Copied', exact: true }).waitFor();
    await expect(a.page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(token);
    const row = bots.locator('.bot-row[data-bot="dice"]');
    await row.waitFor();
    await expect(row.locator('.bot-scope').allTextContents()).resolves.toEqual(['Read', 'Post', 'Slash commands']);
    await shot(a.page, 'room-created-token');
    // What the server made is what was ticked, in this room.
    const listed = await alice.api.bots();
    expect(listed.map((x) => [x.bot.username, x.roomId, x.scopes])).toEqual([
      ['dice', room.id, ['read', 'post', 'commands']],
    ]);
    await once.getByRole('button', { name: 'I have copied it' }).click();
    await once.waitFor({ state: 'detached' });
    await a.page.keyboard.press('Escape');

    // A real bot with the token from the page: registers /roll and answers it.
    const bot = createBot({ url: srv.url, token, WebSocket: WebSocket as unknown as WebSocketCtor });
    bot.onCommand({ name: 'roll', description: 'Roll a die', argsHint: '[sides]' }, async (c, ctx) => {
      await ctx.reply(`${c.user.displayName} rolled a ${c.args.trim() || '6'}-sided die: 4`);
    });
    await bot.start();
    onTestFinished(() => bot.stop());

    // Alice, who has not reloaded, opens the list again: /roll is in it now, with its hint and description.
    await waitFor(
      async () => {
        await input.fill('');
        await input.pressSequentially('/r');
        const names = await offered(a.page);
        if (names.includes('/roll')) return true;
        await input.press('Escape');
        return false;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: "the bot's /roll in alice's command list" },
    );
    const option = a.page.getByRole('listbox', { name: 'Commands' }).getByRole('option', { name: /roll/ });
    await expect(option.innerText()).resolves.toMatch(/\/roll\s+\[sides\][\s\S]*Roll a die/);
    await shot(a.page, 'autocomplete-desktop');
    await input.press('Tab');
    await expect(input.inputValue()).resolves.toBe('/roll ');
    await input.pressSequentially('20');
    await input.press('Enter');
    await waitForBodies(a.page, (x) => x.some((s) => s.includes('Alice rolled a 20-sided die: 4')), 'the reply');
    // The reply is the bot's, marked as one; Bob (phone, Chinese) sees it too, and /roll in his list.
    const head = a.page.locator('.msg-head', { has: a.page.locator('.msg-author', { hasText: 'Dice' }) });
    await expect(head.locator('.badge-bot').innerText()).resolves.toMatch(/^bot$/i);
    await waitForBodies(b.page, (x) => x.some((s) => s.includes('rolled a 20-sided die')), 'the reply at bob');
    await composer(b.page).pressSequentially('/ro');
    const bList = b.page.getByRole('listbox', { name: '命令' });
    await expect.poll(() => bList.innerText()).toContain('Roll a die');
    await shot(b.page, 'autocomplete-phone-zh');
    await composer(b.page).press('Escape');
    await shot(a.page, 'reply-desktop');

    // /away from the composer: Bob sees Alice away; /away again brings her back.
    await input.fill('/away lunch');
    await input.press('Enter');
    await a.page.getByTestId('command-note').filter({ hasText: /away/i }).waitFor();
    await expect.poll(async () => (await bob.api.user(alice.user.id)).presence, { timeout: 10_000 }).toBe('away');
    await input.fill('/away');
    await input.press('Enter');
    await expect.poll(async () => (await bob.api.user(alice.user.id)).presence, { timeout: 10_000 }).toBe('online');

    // A new token: asked first; cancel keeps the old one working.
    const again = await roomBots(a.page);
    const diceRow = again.locator('.bot-row[data-bot="dice"]');
    await diceRow.getByRole('button', { name: 'New token' }).click();
    await expect(diceRow.innerText()).resolves.toContain('The current token stops working at once');
    await diceRow.getByRole('button', { name: 'Cancel' }).click();
    await expect(new ChatApi(srv.url, token).me()).resolves.toMatchObject({ username: 'dice' });
    await diceRow.getByRole('button', { name: 'New token' }).click();
    await diceRow.getByRole('button', { name: 'Replace token' }).click();
    const fresh = await again.getByTestId('bot-token').getByLabel('Bot token').inputValue();
    expect(fresh).not.toBe(token);
    const old = await new ChatApi(srv.url, token).me().catch((e: unknown) => e);
    expect(old).toBeInstanceOf(ApiError);
    expect((old as ApiError).status).toBe(401);
    await expect(new ChatApi(srv.url, fresh).me()).resolves.toMatchObject({ username: 'dice' });
    await again.getByTestId('bot-token').getByRole('button', { name: 'I have copied it' }).click();

    // Delete: asked first; then gone from the list and from the server; its token dead.
    await diceRow.getByRole('button', { name: 'Delete' }).click();
    await expect(diceRow.innerText()).resolves.toContain('its messages stay');
    await shot(a.page, 'delete-confirm');
    await diceRow.getByRole('button', { name: 'Delete bot' }).click();
    await diceRow.waitFor({ state: 'detached' });
    await again.getByText('Dice was deleted.').waitFor();
    expect(await alice.api.bots()).toEqual([]);
    expect(await new ChatApi(srv.url, fresh).me().catch((e: unknown) => (e as ApiError).status)).toBe(401);
    await a.page.keyboard.press('Escape');

    // The same panel on a phone, in Chinese (Alice's second device).
    const phone = await openRoomPage(web.browser, alice, srv.url, room.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    const zh = await roomBots(phone.page, '管理房间', '集成');
    await zh.getByText('还没有机器人。').waitFor();
    await zh.locator('form.bot-create').getByLabel('用户名').fill('helper');
    await zh.locator('form.bot-create').getByRole('button', { name: '创建机器人' }).click();
    await zh.getByTestId('bot-token').getByText('之后不会再显示').waitFor();
    await shot(phone.page, 'room-phone-zh');
    expect([...a.errors, ...b.errors, ...phone.errors]).toEqual([]);
  });

  it('a server admin manages server-wide bots; a non-owner room admin is told who may', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    const root = await seedUser(srv.url, 'root', 'Root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const carol = await seedUser(srv.url, 'carol', 'Carol');
    const room = await alice.api.createRoom('town', 'public');
    await carol.api.join(room.id);
    await alice.api.setRole(room.id, carol.user.id, 'admin');
    await alice.api.createBot({ username: 'greeter', roomId: room.id, scopes: ['read', 'post'] });

    const r = await openRoomPage(web.browser, root, srv.url);
    await r.page.getByRole('button', { name: 'Administration' }).click();
    const dialog = r.page.getByRole('dialog');
    await dialog.getByRole('tab', { name: 'Integrations' }).click();
    const bots = dialog.getByTestId('bots');
    // Every bot on the server, with where it lives.
    await expect
      .poll(() => bots.locator('.bot-row[data-bot="greeter"] .mod-row-meta').innerText())
      .toBe('in #town · created by Alice');
    const form = bots.locator('form.bot-create');
    await form.getByLabel('Username').fill('deploybot');
    await form.getByLabel('Display name').fill('Deploy Bot');
    // Nothing ticked: refused in the page, nothing made.
    await form.getByRole('checkbox', { name: /^Read/ }).uncheck();
    await form.getByRole('checkbox', { name: /^Post/ }).uncheck();
    await form.getByRole('button', { name: 'Create bot' }).click();
    await form.getByText('Tick at least one thing the bot may do.').waitFor();
    expect((await root.api.bots()).map((x) => x.bot.username)).toEqual(['greeter']);
    await form.getByRole('checkbox', { name: /^React/ }).check();
    await form.getByRole('button', { name: 'Create bot' }).click();
    await bots.getByTestId('bot-token').waitFor();
    // Server-wide bots first.
    await expect(bots.locator('.bot-row').first().getAttribute('data-bot')).resolves.toBe('deploybot');
    await expect(bots.locator('.bot-row[data-bot="deploybot"] .mod-row-meta').innerText()).resolves.toContain(
      'server-wide',
    );
    await shot(r.page, 'admin-desktop');
    const made = (await root.api.bots()).find((x) => x.bot.username === 'deploybot');
    expect([made?.roomId, made?.scopes]).toEqual([null, ['react']]);
    // A name that is taken: the server's refusal, in words.
    await form.getByLabel('Username').fill('alice');
    await form.getByRole('checkbox', { name: /^Read/ }).check();
    await form.getByRole('button', { name: 'Create bot' }).click();
    await form.getByText('That username is taken.').waitFor();

    // Carol is a room admin, not an owner: the Integrations tab tells her who manages bots.
    const c = await openRoomPage(web.browser, carol, srv.url, room.id);
    const carolBots = await roomBots(c.page);
    await carolBots.getByText("Only the room's owners create and manage its bots.").waitFor();
    expect(await carolBots.locator('form').count()).toBe(0);
    expect([...r.errors, ...c.errors]).toEqual([]);
  });

  it('a message posted through an incoming webhook shows the integration, with an app badge, not its creator', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root', 'Root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('builds', 'public');
    await bob.api.join(room.id);
    await alice.api.sendMessage(room.id, 'shipping the release', 'a-1');
    const created = await fetch(`${srv.url}/api/v1/rooms/${room.id}/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'CI', iconUrl: 'https://ci.example.invalid/icon.png' }),
    });
    expect(created.status).toBe(201);
    const { webhook } = (await created.json()) as { webhook: { url: string } };
    const post = (body: unknown) =>
      fetch(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const a = await openRoomPage(web.browser, alice, srv.url, room.id);
    const b = await openRoomPage(web.browser, bob, srv.url, room.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    // Live, right after alice's own message (same sender on the wire): its own group, headed by the integration.
    expect((await post({ text: 'Build 1234 passed' })).ok).toBe(true);
    expect((await post({ text: 'Deploy to staging done', displayName: 'Deployer' })).ok).toBe(true);
    await waitForBodies(a.page, (x) => x.includes('Deploy to staging done'), 'the webhook posts');
    const heads = a.page.locator('.messages .msg-head');
    await expect(heads.locator('.msg-author').allInnerTexts()).resolves.toEqual(['Alice', 'CI', 'Deployer']);
    const ci = heads.nth(1);
    await expect(ci.locator('.badge-app').innerText()).resolves.toMatch(/^app$/i);
    await expect(ci.locator('.badge-app').getAttribute('title')).resolves.toBe(
      'Posted by an integration set up by Alice',
    );
    expect(await heads.nth(0).locator('.badge-app').count()).toBe(0);
    // A foreign icon is not loaded (the page loads images from its own server only): initials instead.
    const ciMsg = a.page.locator('.messages .msg', { has: a.page.locator('.msg-author', { hasText: 'CI' }) });
    await expect(ciMsg.locator('.avatar').getAttribute('data-avatar')).resolves.toBe('initials');
    // Not alice's own message: no edit button on it.
    await ciMsg.hover();
    expect(await ciMsg.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    await shot(a.page, 'webhook-desktop');
    // Its thread panel is headed by the integration too.
    await ciMsg.getByRole('button', { name: 'Reply in thread' }).click();
    const panel = a.page.getByTestId('thread-panel');
    await expect(panel.getAttribute('aria-label')).resolves.toContain('CI');
    await expect(panel.locator('.msg-head .msg-author').first().innerText()).resolves.toBe('CI');
    await panel.locator('.msg-head .badge-app').first().waitFor();
    await shot(a.page, 'webhook-thread');
    await a.page.keyboard.press('Escape');
    await waitForBodies(b.page, (x) => x.includes('Deploy to staging done'), 'the webhook posts at bob');
    const bCi = b.page.locator('.messages .msg-head', { has: b.page.locator('.msg-author', { hasText: 'CI' }) });
    await expect(bCi.locator('.badge-app').innerText()).resolves.toBe('应用');
    await shot(b.page, 'webhook-phone-zh');

    // Search results name the integration too.
    await a.page.getByRole('button', { name: 'Search messages' }).first().click();
    await a.page.getByRole('dialog').getByRole('searchbox').fill('build');
    await a.page.getByRole('dialog').getByRole('button', { name: 'Search' }).click();
    const result = a.page.locator('.search-item').first();
    await result.waitFor();
    await expect(result.locator('.pin-head strong').innerText()).resolves.toBe('CI');
    await expect(result.locator('.badge-app').count()).resolves.toBe(1);
    expect([...a.errors, ...b.errors]).toEqual([]);
    // The foreign icon was never requested (a CSP refusal would log it).
    expect([...a.consoleErrors, ...b.consoleErrors].filter((e) => e.includes('ci.example.invalid'))).toEqual([]);
  });
});

/**
 * Blocking in the web client, in a real Chromium against a real server: Block from a user's profile card (with a
 * confirm), their messages in a shared room collapsed to one line that Show expands per message, their typing not
 * shown, the "Blocked users" list in settings with Unblock, a second device following both changes live, and the
 * DM with a blocked user showing its composer closed (on a phone, in 简体中文).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer, waitFor } from '../helpers/harness.js';
import { live, wsTyping } from '../helpers/moderation-kit.js';
import { openRoomPage, waitForBodies, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('blocks');
const { shot } = web;

const collapsed = (page: Page) => page.locator('.messages [data-testid="blocked-message"]');

describe('web client: blocking', { timeout: 120_000 }, () => {
  it('block from the profile card: messages collapsed (Show expands one), typing hidden; unblock in settings, live on another device', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const carol = await seedUser(srv.url, 'carol', 'Carol');
    const room = await alice.api.createRoom('town', 'public');
    await bob.api.join(room.id);
    await carol.api.join(room.id);
    await bob.api.sendMessage(room.id, 'first from bob', 'b-1');
    await carol.api.sendMessage(room.id, 'carol says hi', 'c-1');

    const a = await openRoomPage(web.browser, alice, srv.url, room.id);
    const other = await openRoomPage(web.browser, alice, srv.url, room.id);
    await waitForBodies(a.page, (x) => x.includes('carol says hi') && x.includes('first from bob'), 'messages');

    await a.page.locator('.messages .msg-author', { hasText: 'Bob' }).click();
    await a.page.getByRole('dialog').getByRole('button', { name: 'Block' }).click();
    // The confirm says what happens before anything does.
    const confirm = a.page.getByRole('dialog', { name: 'Block Bob?' });
    await confirm.getByText("They won't be told.", { exact: false }).waitFor();
    expect(await alice.api.blocks()).toEqual([]);
    await shot(a.page, 'confirm');
    await confirm.getByRole('button', { name: 'Block', exact: true }).click();
    await a.page.getByRole('dialog').getByText('You blocked this user').waitFor();
    expect((await alice.api.blocks()).map((b) => b.user.username)).toEqual(['bob']);
    await a.page.keyboard.press('Escape');

    // Collapsed here and, live, on Alice's other device; Carol's message is untouched.
    for (const p of [a.page, other.page]) {
      await collapsed(p).first().waitFor();
      await waitForBodies(p, (x) => !x.includes('first from bob') && x.includes('carol says hi'), 'bob collapsed');
    }
    await expect(collapsed(a.page).first().innerText()).resolves.toContain('Message from a blocked user · Show');

    // A new message from Bob arrives collapsed; his typing is not shown, Carol's is (the marker).
    await bob.api.sendMessage(room.id, 'second from bob', 'b-2');
    await waitFor(async () => (await collapsed(a.page).count()) === 2, 10_000, 'the new message collapsed');
    const bobWs = await live(srv.url, bob.token);
    const carolWs = await live(srv.url, carol.token);
    wsTyping(bobWs, room.id);
    wsTyping(carolWs, room.id);
    await a.page.locator('.typing-text', { hasText: 'Carol is typing' }).waitFor();
    await expect(a.page.locator('.typing-text').innerText()).resolves.toBe('Carol is typing…');
    bobWs.close();
    carolWs.close();
    await shot(a.page, 'collapsed');

    // Show expands that one message only.
    await collapsed(a.page).first().getByRole('button', { name: 'Show' }).click();
    await waitForBodies(a.page, (x) => x.includes('first from bob') && !x.includes('second from bob'), 'one shown');
    await expect(collapsed(a.page).count()).resolves.toBe(1);

    // In a thread panel too: Bob's thread-only reply to Carol is collapsed there.
    const carolSeq = (await alice.api.messages(room.id, { limit: 20 })).find((m) => m.body === 'carol says hi')!.seq;
    await bob.api.sendMessage(room.id, 'secret thread reply', 'b-3', { replyTo: carolSeq, threadOnly: true });
    await a.page.locator('.messages .msg', { hasText: 'carol says hi' }).getByTestId('thread-link').click();
    await a.page.locator('.thread-panel [data-testid="blocked-message"]').waitFor();
    await expect(a.page.locator('.thread-panel').innerText()).resolves.not.toContain('secret thread reply');

    // The list in settings; Unblock there, and the other device expands Bob's messages live.
    await a.page.getByRole('button', { name: 'Settings', exact: true }).click();
    const list = a.page.getByRole('dialog').getByTestId('blocked-users');
    await list.locator('.session-item', { hasText: 'Bob' }).waitFor();
    await expect(list.innerText()).resolves.toMatch(/@bob · blocked /);
    await list.scrollIntoViewIfNeeded();
    await shot(a.page, 'settings');
    await list.getByRole('button', { name: 'Unblock Bob' }).click();
    await list.getByText("You haven't blocked anyone.").waitFor();
    await waitForBodies(other.page, (x) => x.includes('first from bob') && x.includes('second from bob'), 'unblocked');
    await expect(collapsed(other.page).count()).resolves.toBe(0);
    expect(await alice.api.blocks()).toEqual([]);
  });

  it('the DM with a blocked user shows its composer closed, on a phone in 简体中文', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const dm = await bob.api.openDm('alice');
    await bob.api.sendMessage(dm.id, 'are you there?', 'b-1');
    await alice.api.block(bob.user.id);

    const a = await openRoomPage(web.browser, alice, srv.url, dm.id, {
      viewport: { width: 390, height: 844 },
      locale: 'zh-CN',
    });
    const closed = a.page.getByTestId('composer-blocked');
    await closed.waitFor();
    await expect(closed.innerText()).resolves.toContain('你已屏蔽 Bob：双方都无法在此发送消息。');
    await expect(a.page.locator('textarea.composer-input').count()).resolves.toBe(0);
    await expect(collapsed(a.page).first().innerText()).resolves.toContain('来自已屏蔽用户的消息 · 显示');
    await shot(a.page, 'dm-phone-zh');

    // Unblocking from there opens the composer again, and the message shows.
    await closed.getByRole('button', { name: '取消屏蔽' }).click();
    await a.page.locator('textarea.composer-input').waitFor();
    await waitForBodies(a.page, (x) => x.includes('are you there?'), 'bob’s message after the unblock');
  });
});

/**
 * Replies and threads in the web client, in a real Chromium against a real server: Alice quote-replies, Bob sees the
 * quote live and after a reload, and clicking a quote whose original is beyond the loaded page loads it and jumps
 * there; the thread panel: Bob replies in the thread, Alice's root shows "1 reply" live, a thread-only reply stays
 * out of the main timeline, "Also send to the room" puts one there. Screenshots at desktop and phone size, in
 * English and 简体中文.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { bodies, openRoomPage, sendInComposer, waitForBodies, webSuite } from './browser.js';
import { seedUser, type SeededUser } from './seed.js';

const web = webSuite('replies');
const { shot } = web;

const pageFor = (
  u: SeededUser,
  url: string,
  roomId: string,
  opts: { viewport?: { width: number; height: number }; locale?: 'zh-CN' } = {},
) => openRoomPage(web.browser, u, url, roomId, opts);

const send = sendInComposer;

const row = (page: Page, text: string) => page.locator('.messages .msg', { hasText: text });

describe('web client: replies and threads', { timeout: 120_000 }, () => {
  it('Alice quote-replies; Bob sees the quote live and after a reload; a quote jumps to an original not loaded yet', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('replies', 'public');
    await bob.api.join(room.id);
    // An old message, then more than two pages (the web client loads 50 at a time) on top of it.
    const old = (await bob.api.sendMessage(room.id, 'the very first plan', 'old-1')).message.seq;
    for (let i = 1; i <= 120; i++) await bob.api.sendMessage(room.id, `filler ${i}`, `fill-${i}`);
    await alice.api.sendMessage(room.id, 'quoting far back', 'far-1', { replyTo: old });
    await bob.api.sendMessage(room.id, 'Meeting today?', 'q-1');

    const a = await pageFor(alice, srv.url, room.id);
    const b = await pageFor(bob, srv.url, room.id);
    await waitForBodies(a.page, (x) => x.at(-1) === 'Meeting today?', 'the question at alice');

    // Reply: the quote shows above the composer; Esc cancels it, Reply again and Enter sends.
    await row(a.page, 'Meeting today?').hover();
    await row(a.page, 'Meeting today?').getByRole('button', { name: 'Reply', exact: true }).click();
    const preview = a.page.getByTestId('reply-preview');
    await expect(preview.innerText()).resolves.toContain('Replying to Bob');
    await a.page.locator('textarea.composer-input').press('Escape');
    await preview.waitFor({ state: 'detached' });
    await row(a.page, 'Meeting today?').hover();
    await row(a.page, 'Meeting today?').getByRole('button', { name: 'Reply', exact: true }).click();
    await a.page.locator('textarea.composer-input').fill('Yes, at 3');
    await shot(a.page, 'desktop-replying');
    await a.page.locator('textarea.composer-input').press('Enter');
    await preview.waitFor({ state: 'detached' });

    // Bob, live: the reply with its quote of his question.
    await waitForBodies(b.page, (x) => x.at(-1) === 'Yes, at 3', 'the reply at bob');
    const quote = row(b.page, 'Yes, at 3').getByTestId('reply-quote');
    await expect(quote.innerText()).resolves.toMatch(/Bob\s*Meeting today\?/);
    await shot(b.page, 'desktop-quote-live');
    // And after a reload, from history.
    await b.page.reload();
    await b.page.locator('.messages .loading-row').waitFor({ state: 'detached' });
    await waitForBodies(b.page, (x) => x.at(-1) === 'Yes, at 3', 'the reply after reload');
    await expect(row(b.page, 'Yes, at 3').getByTestId('reply-quote').innerText()).resolves.toMatch(/Meeting today\?/);

    // The far quote: its original is not loaded (only the newest page is); a click loads back to it and highlights it.
    expect(await b.page.locator('.messages .msg[data-seq="' + old + '"]').count()).toBe(0);
    await row(b.page, 'quoting far back').getByTestId('reply-quote').click();
    const original = b.page.locator(`.messages .msg[data-seq="${old}"]`);
    await original.waitFor();
    await b.page.locator('.messages .msg.highlighted', { hasText: 'the very first plan' }).waitFor();
    // In view: inside the scroller's visible box.
    const inView = await original.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const sc = el.closest('.messages')!.getBoundingClientRect();
      return box.top >= sc.top - 1 && box.bottom <= sc.bottom + 1;
    });
    expect(inView).toBe(true);
    await shot(b.page, 'desktop-jumped');
    for (const p of [a, b]) expect(p.errors).toEqual([]);
  });

  it('the thread panel: Bob replies in the thread, Alice sees "1 reply" live; thread-only stays out of the room', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('threads', 'public');
    await bob.api.join(room.id);
    const a = await pageFor(alice, srv.url, room.id);
    const b = await pageFor(bob, srv.url, room.id);
    await send(a.page, 'Which room for the review?');
    await waitForBodies(b.page, (x) => x.includes('Which room for the review?'), 'the root at bob');

    // Bob opens the thread from the hover menu and replies there only.
    await row(b.page, 'Which room for the review?').hover();
    await row(b.page, 'Which room for the review?').getByRole('button', { name: 'Reply in thread' }).click();
    const panel = b.page.getByTestId('thread-panel');
    await panel.waitFor();
    await panel.locator('textarea.thread-input').fill('Room B, thread only');
    await panel.locator('textarea.thread-input').press('Enter');
    await panel.locator('.thread-replies .msg', { hasText: 'Room B, thread only' }).waitFor();
    await panel.locator('.thread-replies .msg[data-seq]', { hasText: 'Room B, thread only' }).waitFor();

    // Alice: "1 reply" under her root, live, with the unread dot (her thread); the reply is not in her timeline.
    const link = row(a.page, 'Which room for the review?').getByTestId('thread-link');
    await link.waitFor();
    await expect(link.innerText()).resolves.toMatch(/^1 reply/);
    await link.locator('.unread-dot').waitFor();
    // A positive marker after the thread-only reply: Bob's next room message reaches Alice's timeline.
    await send(b.page, 'marker in the room');
    await waitForBodies(a.page, (x) => x.includes('marker in the room'), 'the marker at alice');
    expect(await bodies(a.page)).toEqual(['Which room for the review?', 'marker in the room']);
    await shot(a.page, 'desktop-root-1-reply');

    // "Also send to the room": a second reply shows in the thread and in the room (with its quote of the root).
    await panel.locator('.thread-also input').check();
    await panel.locator('textarea.thread-input').fill('Also in the room');
    await panel.locator('textarea.thread-input').press('Enter');
    await waitForBodies(a.page, (x) => x.includes('Also in the room'), 'the also-sent reply at alice');
    await expect(link.innerText()).resolves.toMatch(/^2 replies/);
    await expect(row(a.page, 'Also in the room').getByTestId('reply-quote').innerText()).resolves.toContain(
      'Which room for the review?',
    );
    await shot(b.page, 'desktop-thread-panel');

    // Alice opens her thread: both replies in order, the dot goes.
    await link.click();
    const apanel = a.page.getByTestId('thread-panel');
    await apanel.locator('.thread-replies .msg').nth(1).waitFor();
    expect(await apanel.locator('.thread-replies .msg .md').allInnerTexts()).toEqual([
      'Room B, thread only',
      'Also in the room',
    ]);
    await link.locator('.unread-dot').waitFor({ state: 'detached' });

    // After a reload the count comes from history; the thread-only reply is still only in the thread.
    await a.page.reload();
    await a.page.locator('.messages .loading-row').waitFor({ state: 'detached' });
    await waitForBodies(a.page, (x) => x.includes('Also in the room'), 'history after reload');
    expect(await bodies(a.page)).toEqual(['Which room for the review?', 'marker in the room', 'Also in the room']);
    await expect(row(a.page, 'Which room for the review?').getByTestId('thread-link').innerText()).resolves.toMatch(
      /^2 replies/,
    );
    for (const p of [a, b]) expect(p.errors).toEqual([]);

    // Phone size and 简体中文: the panel covers the screen, with a back button.
    const phone = await pageFor(bob, srv.url, room.id, { viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const plink = row(phone.page, 'Which room for the review?').getByTestId('thread-link');
    await expect(plink.innerText()).resolves.toMatch(/^2 条回复/);
    await shot(phone.page, 'phone-zh-room');
    await plink.click();
    const ppanel = phone.page.getByTestId('thread-panel');
    await ppanel.locator('.thread-replies .msg').nth(1).waitFor();
    const box = await ppanel.boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 390, height: 844 });
    await expect(ppanel.locator('.thread-also').innerText()).resolves.toBe('同时发送到聊天室');
    await shot(phone.page, 'phone-zh-thread');
    await ppanel.getByRole('button', { name: '返回' }).click();
    await ppanel.waitFor({ state: 'detached' });
    expect(phone.errors).toEqual([]);
  });
  it('a long thread opens at its newest replies; "Show earlier replies" loads the rest above, in place', async () => {
    const srv = await startServer({ messagesPerSecond: 1000, messageBurst: 1000 }, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const room = await alice.api.createRoom('longthread', 'public');
    const root = await alice.api.sendMessage(room.id, 'Ideas for the offsite?', 't-0');
    const total = 105; // more than the panel's first page (100)
    const reply = (i: number, threadOnly: boolean) =>
      alice.api.sendMessage(room.id, `idea ${i}`, `t-${i}`, { replyTo: root.message.seq, threadOnly });
    for (let i = 1; i < total; i++) await reply(i, true);
    // The room moved on, so its first page of history holds only the thread's last few replies; the last reply was
    // also sent to the room, and its thread is opened from there.
    for (let i = 1; i <= 40; i++) await alice.api.sendMessage(room.id, `later ${i}`, `l-${i}`);
    await reply(total, false);
    const a = await pageFor(alice, srv.url, room.id);
    await waitForBodies(a.page, (x) => x.includes(`idea ${total}`), 'the room');
    await row(a.page, `idea ${total}`).hover();
    await row(a.page, `idea ${total}`).getByRole('button', { name: 'Reply in thread' }).click();
    const panel = a.page.getByTestId('thread-panel');
    const shown = panel.locator('.thread-replies .msg[data-seq]');
    await panel.locator('.thread-replies .msg', { hasText: `idea ${total}` }).waitFor();
    await expect(shown.count()).resolves.toBe(100);
    await expect(panel.locator('.thread-divider').innerText()).resolves.toBe(`${total} replies`);
    await expect(panel.locator('.thread-replies .msg', { hasText: /^idea 5$/ }).count()).resolves.toBe(0);

    await panel.locator('.thread-scroll').evaluate((el) => (el.scrollTop = 0));
    await shot(a.page, 'desktop-thread-older');
    await panel.getByRole('button', { name: 'Show earlier replies' }).click();
    await panel.locator('.thread-replies .msg', { hasText: 'idea 1' }).first().waitFor();
    await expect(shown.count()).resolves.toBe(total);
    const order = await panel.locator('.thread-replies .msg .md').allInnerTexts();
    expect(order).toEqual(Array.from({ length: total }, (_, i) => `idea ${i + 1}`));
    await expect(panel.getByRole('button', { name: 'Show earlier replies' }).count()).resolves.toBe(0);
    // Loaded above in place: the reader is not thrown to either end.
    const place = await panel.locator('.thread-scroll').evaluate((el) => ({
      top: el.scrollTop,
      fromBottom: el.scrollHeight - el.scrollTop - el.clientHeight,
    }));
    expect(place.top).toBeGreaterThan(0);
    expect(place.fromBottom).toBeGreaterThan(0);
    await a.context.close();
  });
});

/**
 * The conversation's joined / left lines in the web client, in a real Chromium against a real server: joins and
 * leaves from history sit between the messages they happened between, runs of them share a line, kicks name who
 * did it, new ones appear live (and once, across a reconnect), in 简体中文 and on a phone.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { openRoomPage, waitForBodies, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('member-lines');
const { shot } = web;

/** The conversation as a reader sees it, top to bottom: message bodies and joined/left lines. */
function transcript(page: Page): Promise<string[]> {
  return page.$$eval('.messages .msg .md, .messages .member-line', (els) =>
    els.map((el) =>
      el.classList.contains('member-line') ? `* ${el.textContent?.trim()}` : (el.textContent?.trim() ?? ''),
    ),
  );
}

describe('web client: joined and left lines', { timeout: 120_000 }, () => {
  it('history shows joins and leaves where they happened; new ones arrive live, once', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const carol = await seedUser(srv.url, 'carol', 'Carol');
    const dave = await seedUser(srv.url, 'dave', 'Dave');
    const room = await alice.api.createRoom('lines', 'public');
    await alice.api.sendMessage(room.id, 'first', 'a-1');
    await bob.api.join(room.id);
    await carol.api.join(room.id);
    await bob.api.sendMessage(room.id, 'hi all', 'b-1');
    await carol.api.leave(room.id);
    await alice.api.sendMessage(room.id, 'bye carol', 'a-2');

    const a = await openRoomPage(web.browser, alice, srv.url, room.id);
    await waitForBodies(a.page, (x) => x.includes('bye carol'), 'history at alice');
    await a.page.locator('.member-line', { hasText: 'Carol left' }).waitFor();
    expect(await transcript(a.page)).toEqual([
      '* Alice joined',
      'first',
      '* Bob, Carol joined',
      'hi all',
      '* Carol left',
      'bye carol',
    ]);

    // Live: a join, and a kick naming who did it, after the last message.
    await dave.api.join(room.id);
    await a.page.locator('.member-line', { hasText: 'Dave joined' }).waitFor();
    await alice.api.kick(room.id, bob.user.id);
    await a.page.locator('.member-line', { hasText: 'Alice removed Bob' }).waitFor();

    // A reconnect replays what was missed; nothing shows twice.
    await a.page.context().setOffline(true);
    await dave.api.leave(room.id);
    await a.page.context().setOffline(false);
    await a.page.locator('.member-line', { hasText: 'Dave left' }).waitFor({ timeout: 30_000 });
    await alice.api.sendMessage(room.id, 'marker', 'a-3');
    await waitForBodies(a.page, (x) => x.includes('marker'), 'the marker');
    expect((await transcript(a.page)).slice(6)).toEqual([
      '* Dave joined',
      '* Alice removed Bob',
      '* Dave left',
      'marker',
    ]);
    await shot(a.page, 'desktop');
    await a.context.close();

    // 简体中文, on a phone: the same lines, translated, fitting the screen.
    await dave.api.join(room.id);
    const c = await openRoomPage(web.browser, dave, srv.url, room.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    await c.page.locator('.member-line', { hasText: 'Alice 将 Bob 移出了房间' }).waitFor();
    await c.page.locator('.member-line', { hasText: 'Bob、Carol 加入了房间' }).waitFor();
    const overflow = await c.page.$$eval('.member-line', (els) =>
      els.some((el) => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > window.innerWidth),
    );
    expect(overflow).toBe(false);
    await shot(c.page, 'phone-zh');
    await c.context.close();
  });
});

/**
 * Reactions in the web client, in a real Chromium against a real server: Alice reacts from the picker, Bob sees the
 * chip live and after a reload, Bob joins the same reaction (count 2, his chip highlighted, the tooltip names both),
 * a reaction made elsewhere reaches a message on an older history page, search in Chinese finds an emoji, and the
 * emojis one used come first. Screenshots at desktop and phone size, in English and 简体中文.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { openRoomPage, waitForBodies, webSuite } from './browser.js';
import { seedUser, type SeededUser } from './seed.js';

const web = webSuite('reactions');
const { shot } = web;

const pageFor = (
  u: SeededUser,
  url: string,
  roomId: string,
  opts: { viewport?: { width: number; height: number }; locale?: 'zh-CN' } = {},
) => openRoomPage(web.browser, u, url, roomId, opts);

const row = (page: Page, text: string) => page.locator('.messages .msg', { hasText: text });
const picker = (page: Page) => page.locator('.reaction-picker');
/** The chips of a message as `emoji count` strings, with `*` marking the viewer's own. */
const chips = (page: Page, text: string) =>
  row(page, text)
    .locator('.reactions .reaction:not(.reaction-add)')
    .evaluateAll((els) =>
      els.map(
        (el) =>
          `${el.querySelector('.reaction-emoji')?.textContent} ${el.querySelector('.reaction-count')?.textContent}` +
          (el.classList.contains('mine') ? '*' : ''),
      ),
    );

async function waitForChips(page: Page, text: string, want: string[], what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let got: string[] = [];
  while (Date.now() < deadline) {
    got = await chips(page, text);
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await page.waitForTimeout(50);
  }
  throw new Error(`${what}: chips ${JSON.stringify(got)}, wanted ${JSON.stringify(want)}`);
}

async function openPicker(page: Page, text: string): Promise<void> {
  await row(page, text).hover();
  await row(page, text)
    .locator('.msg-actions')
    .getByRole('button', { name: /Add reaction|添加回应/ })
    .click();
  await picker(page).locator('.picker-grid').first().waitFor();
}

const THUMBS = '👍️';

describe('web client: reactions', { timeout: 90_000 }, () => {
  it('Alice reacts; Bob sees it live and after a reload, joins it (2); Chinese search; recent ones first', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('reactions', 'public');
    await bob.api.join(room.id);
    await bob.api.sendMessage(room.id, 'we shipped the release', 'b-1');
    await alice.api.sendMessage(room.id, 'nice work', 'a-1');

    const a = await pageFor(alice, srv.url, room.id);
    const b = await pageFor(bob, srv.url, room.id);
    await waitForBodies(a.page, (x) => x.length === 2, 'both messages at alice');

    // Alice: the hover action opens the picker (the emoji data load on first open); search in English, Enter picks.
    await openPicker(a.page, 'we shipped');
    await expect(picker(a.page).locator('.picker-heading').first().innerText()).resolves.toBe('Smileys & emotion');
    await shot(a.page, 'desktop-picker');
    await picker(a.page).locator('.picker-search').fill('thumbs up');
    await expect(picker(a.page).locator('.emoji-cell').first().getAttribute('aria-label')).resolves.toBe('thumbs up');
    await picker(a.page).locator('.picker-search').press('Enter');
    await picker(a.page).waitFor({ state: 'detached' });
    await waitForChips(a.page, 'we shipped', [`${THUMBS} 1*`], 'alice’s own chip');

    // Bob sees it live, not highlighted (not his); the tooltip names Alice.
    await waitForChips(b.page, 'we shipped', [`${THUMBS} 1`], 'alice’s reaction at bob');
    const chip = row(b.page, 'we shipped').locator('.reaction', { hasText: THUMBS });
    expect(await chip.getAttribute('title')).toBe(`Alice reacted with ${THUMBS}`);

    // Bob joins it by clicking the chip: 2 on both sides, his highlighted at his end only.
    await chip.click();
    await waitForChips(b.page, 'we shipped', [`${THUMBS} 2*`], 'bob’s join at bob');
    await waitForChips(a.page, 'we shipped', [`${THUMBS} 2*`], 'bob’s join at alice');
    expect(await chip.getAttribute('title')).toBe(`Alice, Bob reacted with ${THUMBS}`);
    expect(await chip.getAttribute('aria-pressed')).toBe('true');

    // Search in Chinese: 庆祝 (celebrate) finds 🎉; Esc closes without picking; then pick it from the results.
    await openPicker(b.page, 'nice work');
    await picker(b.page).locator('.picker-search').fill('庆祝');
    await expect(picker(b.page).locator('.picker-grid .emoji-cell').allInnerTexts()).resolves.toContain('🎉');
    await picker(b.page).locator('.picker-search').press('Escape');
    await picker(b.page).waitFor({ state: 'detached' });
    await openPicker(b.page, 'nice work');
    await picker(b.page).locator('.picker-search').fill('拉炮');
    await picker(b.page).locator('.emoji-cell', { hasText: '🎉' }).click();
    await waitForChips(a.page, 'nice work', ['🎉 1'], 'bob’s 🎉 at alice');

    // The add chip next to the reactions opens the picker too: recently used first (Bob: 🎉 — a chip click is
    // not a pick; his thumbs-up came from a chip, so only 🎉 is recent).
    await row(b.page, 'nice work').hover();
    await row(b.page, 'nice work').locator('.reaction-add').click();
    await picker(b.page).locator('.picker-grid').first().waitFor();
    const sections = picker(b.page).locator('.picker-section');
    await expect(sections.first().locator('.picker-heading').innerText()).resolves.toBe('Recently used');
    await expect(sections.first().locator('.emoji-cell').allInnerTexts()).resolves.toEqual(['🎉']);
    // Picking an emoji you have takes it back.
    await sections.first().locator('.emoji-cell').first().click();
    await waitForChips(a.page, 'nice work', [], 'bob’s 🎉 taken back at alice');

    // Alice picks two more: the newest first in her recent list.
    for (const q of ['rocket', 'eyes']) {
      await openPicker(a.page, 'nice work');
      await picker(a.page).locator('.picker-search').fill(q);
      await picker(a.page).locator('.picker-search').press('Enter');
      await picker(a.page).waitFor({ state: 'detached' });
    }
    await waitForChips(b.page, 'nice work', ['🚀 1', '👀 1'], 'alice’s two reactions at bob');
    await openPicker(a.page, 'nice work');
    await expect(
      picker(a.page).locator('.picker-section').first().locator('.emoji-cell').allInnerTexts(),
    ).resolves.toEqual(['👀', '🚀', THUMBS]);
    await picker(a.page).locator('.picker-search').press('Escape');

    // After a reload Bob sees the same chips: the server holds them.
    await b.page.reload();
    await b.page.locator('.messages .loading-row').waitFor({ state: 'detached' });
    await waitForChips(b.page, 'we shipped', [`${THUMBS} 2*`], 'chips after reload');
    await waitForChips(b.page, 'nice work', ['🚀 1', '👀 1'], 'chips after reload');
    await shot(b.page, 'desktop-chips');
    for (const p of [a, b]) expect(p.errors).toEqual([]);

    // Phone size in 简体中文: the chips, their tooltip and the picker as a sheet, in Chinese.
    const phone = await pageFor(alice, srv.url, room.id, { viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    await waitForChips(phone.page, 'we shipped', [`${THUMBS} 2*`], 'chips on the phone');
    expect(await row(phone.page, 'we shipped').locator('.reaction', { hasText: THUMBS }).getAttribute('title')).toBe(
      `Alice、Bob 回应了 ${THUMBS}`,
    );
    await shot(phone.page, 'phone-zh');
    await row(phone.page, 'we shipped').locator('.reaction-add').click();
    await picker(phone.page).locator('.picker-grid').first().waitFor();
    // A new browser: nothing recent here (the list is per browser), so the first category leads, in Chinese.
    await expect(picker(phone.page).locator('.picker-heading').first().innerText()).resolves.toBe('笑脸与情感');
    const box = await picker(phone.page).boundingBox();
    expect(box && Math.round(box.x + box.width)).toBe(390);
    expect(box && Math.round(box.y + box.height)).toBe(844);
    await shot(phone.page, 'phone-zh-picker');
    expect(phone.errors).toEqual([]);
  });

  it('a reaction made elsewhere reaches a message on an older history page, live', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('long', 'public');
    await bob.api.join(room.id);
    const first = (await alice.api.sendMessage(room.id, 'the very first message', 'a-0')).message.seq;
    for (let i = 1; i <= 60; i++) await alice.api.sendMessage(room.id, `filler ${i}`, `a-${i}`);
    const b = await pageFor(bob, srv.url, room.id);
    // Scroll up until the first message (on the second page) is shown.
    const deadline = Date.now() + 20_000;
    while ((await row(b.page, 'the very first message').count()) === 0) {
      if (Date.now() > deadline) throw new Error('the first page never loaded');
      await b.page.locator('.messages').evaluate((el) => (el.scrollTop = 0));
      await b.page.waitForTimeout(100);
    }
    await alice.api.react(room.id, first, 'tada');
    await waitForChips(b.page, 'the very first message', ['🎉 1'], 'the reaction on the old page');
    await alice.api.unreact(room.id, first, '🎉');
    await waitForChips(b.page, 'the very first message', [], 'the removal on the old page');
    expect(b.errors).toEqual([]);
  });
});

/**
 * Slash commands in the web client (issue 16), in a real Chromium against a real server: typing `/` offers the
 * room's commands (name, argument hint, description; arrow keys, Tab/Enter completes, Escape closes); `/me` posts
 * an action shown as "* name action" to everyone; `/help` and errors are shown only to the caller, above the
 * composer; an unknown command is refused and never posted; a member without the right gets the refusal inline and
 * nothing happens; `//text` posts `/text`. In English on a desktop, and in 简体中文 on a phone.
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

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  await page.evaluate(() => Promise.allSettled(document.getAnimations().map((a) => a.finished)));
  await page.screenshot({ path: join(ROOT, `test-artifacts/web-commands-${name}.png`) });
}

const composer = (page: Page) => page.locator('textarea.composer-input').first();

describe('web client: slash commands', { timeout: 120_000 }, () => {
  it('autocomplete, /me for everyone, /help and errors only for the caller, permissions, //text', async () => {
    const srv = await startServer({}, { webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('plans', 'public');
    await bob.api.join(room.id);
    await alice.api.sendMessage(room.id, 'morning', 'a-1');

    const a = await openRoomPage(browser, alice, srv.url, room.id);
    const b = await openRoomPage(browser, bob, srv.url, room.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    await waitForBodies(a.page, (x) => x.includes('morning'), 'history at alice');
    await waitForBodies(b.page, (x) => x.includes('morning'), 'history at bob');

    // `/` lists every command with its hint and description; typing narrows it.
    const input = composer(a.page);
    const list = a.page.getByRole('listbox', { name: 'Commands' });
    await input.pressSequentially('/');
    await list.waitFor();
    const names = await list.locator('.suggest-name').allTextContents();
    expect(names).toEqual([
      '/me',
      '/shrug',
      '/topic',
      '/invite',
      '/kick',
      '/ban',
      '/mute',
      '/slow',
      '/nick',
      '/away',
      '/help',
    ]);
    await expect(list.getByRole('option').nth(5).textContent()).resolves.toContain('@user [duration] [reason]');
    await shot(a.page, 'suggest-desktop');
    await input.pressSequentially('m');
    await expect(list.locator('.suggest-name').allTextContents()).resolves.toEqual(['/me', '/mute']);
    // Arrow keys move the selection; Tab completes the name and closes the list.
    await input.press('ArrowDown');
    await expect(list.getByRole('option', { selected: true }).locator('.suggest-name').textContent()).resolves.toBe(
      '/mute',
    );
    await input.press('ArrowUp');
    await input.press('Tab');
    await expect(input.inputValue()).resolves.toBe('/me ');
    await list.waitFor({ state: 'detached' });
    await input.pressSequentially('waves hello');
    await input.press('Enter');

    // Everyone sees the action as "* Alice waves hello"; the composer is empty again.
    const emoteA = a.page.getByTestId('emote');
    await emoteA.waitFor();
    await expect(emoteA.innerText()).resolves.toMatch(/^\* Alice\s+waves hello$/);
    await expect(input.inputValue()).resolves.toBe('');
    const emoteB = b.page.getByTestId('emote');
    await emoteB.waitFor();
    await expect(emoteB.innerText()).resolves.toContain('waves hello');
    await expect(emoteB.innerText()).resolves.toContain('* Alice');

    // Escape closes the list; the text stays.
    await input.pressSequentially('/he');
    await list.waitFor();
    await input.press('Escape');
    await list.waitFor({ state: 'detached' });
    await expect(input.inputValue()).resolves.toBe('/he');

    // /help: a note only alice sees, listing the commands; bob's page shows nothing new.
    await input.fill('/help');
    await input.press('Enter');
    const note = a.page.getByTestId('command-note');
    await note.waitFor();
    await expect(note.innerText()).resolves.toContain('/kick @user [reason]');
    await expect(note.innerText()).resolves.toContain('Only you can see this.');
    await shot(a.page, 'help-desktop');
    await note.getByRole('button', { name: 'Dismiss' }).click();
    await note.waitFor({ state: 'detached' });

    // An unknown command: an error inline, the text kept for fixing, nothing posted.
    await input.fill('/frobnicate the widget');
    await input.press('Enter');
    await note.waitFor();
    await expect(note.getAttribute('class')).resolves.toContain('error');
    await expect(note.innerText()).resolves.toContain('/frobnicate is not a command here');
    await expect(input.inputValue()).resolves.toBe('/frobnicate the widget');

    // Bob (a plain member, in Chinese on a phone) may not kick: refused inline, alice stays.
    const bInput = composer(b.page);
    await bInput.pressSequentially('/');
    const bList = b.page.getByRole('listbox', { name: '命令' });
    await bList.waitFor();
    await expect(bList.innerText()).resolves.toContain('将成员移出本聊天室');
    await shot(b.page, 'suggest-phone-zh');
    await bInput.fill('/kick @al');
    // The mention list helps with the name, as in a message.
    await b.page.getByRole('listbox', { name: '可以提及的人' }).waitFor();
    await bInput.press('Tab');
    await expect(bInput.inputValue()).resolves.toBe('/kick @alice ');
    await bInput.press('Enter');
    const bNote = b.page.getByTestId('command-note');
    await bNote.waitFor();
    await expect(bNote.getAttribute('class')).resolves.toContain('error');
    await shot(b.page, 'forbidden-phone-zh');
    // Bad arguments: the usage line, in Chinese.
    await bInput.fill('/nick');
    await bInput.press('Enter');
    await expect.poll(() => bNote.innerText()).toContain('用法：/nick <display name>');

    // `//` posts the text with one slash; the marker comes after everything above, so alice's page shows
    // nothing of the refused commands or /help between the emote and it.
    await input.fill('//shrug is a command, this is text');
    await input.press('Enter');
    const shown = await waitForBodies(a.page, (x) => x.includes('/shrug is a command, this is text'), 'escaped text');
    expect(shown).toEqual(['morning', 'waves hello', '/shrug is a command, this is text']);
    await waitForBodies(b.page, (x) => x.includes('/shrug is a command, this is text'), 'escaped text at bob');
    expect((await alice.api.allMembers(room.id)).members.map((m) => m.user.username).sort()).toEqual(['alice', 'bob']);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });
});

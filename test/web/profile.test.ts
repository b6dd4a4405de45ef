/**
 * Profiles and account security in the web client, in a real Chromium against a real server: a click on an author's
 * name shows their card (names, status text, presence) with a way to message them; settings set the status text,
 * list where the account is signed in and end another session, and change the password (a wrong current one is
 * refused with the reason). Screenshots in English and 简体中文.
 */
import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { startServer, waitFor } from '../helpers/harness.js';
import { openRoomPage, waitForBodies, webSuite } from './browser.js';
import { PASSWORD, seedUser } from './seed.js';

const web = webSuite('profile');
const { shot } = web;

describe('web client: profiles and account security', { timeout: 120_000 }, () => {
  it('an author’s card shows their status and opens a DM with them', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    await bob.api.updateProfile({ statusText: '值班中 — on call until 6' });
    const room = await alice.api.createRoom('support', 'public');
    await bob.api.join(room.id);
    await bob.api.sendMessage(room.id, 'ticket 42 is fixed', 'b-1');

    const a = await openRoomPage(web.browser, alice, srv.url, room.id, { locale: 'zh-CN' });
    await waitForBodies(a.page, (x) => x.includes('ticket 42 is fixed'), 'bob’s message');
    await a.page.locator('.messages .msg-author', { hasText: 'Bob' }).click();
    const card = a.page.getByRole('dialog');
    await expect(card.locator('.profile-name').textContent()).resolves.toBe('Bob');
    await expect(card.locator('.profile-status').textContent()).resolves.toBe('值班中 — on call until 6');
    await card.getByText('@bob').waitFor();
    await shot(a.page, 'card-zh');
    await card.getByRole('button', { name: '发消息' }).click();
    await card.waitFor({ state: 'detached' });
    await a.page.locator('.room-title', { hasText: 'Bob' }).waitFor();
    await a.context.close();
  });

  it('settings: status text, the session list (end another one), and a password change', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    // Another device of Alice's.
    const phone = new ChatApi(srv.url);
    await phone.login('alice', PASSWORD, 'phone app');
    const a = await openRoomPage(web.browser, alice, srv.url, 'lobby');
    await a.page.getByRole('button', { name: 'Settings', exact: true }).click();
    const dialog = a.page.getByRole('dialog');

    await dialog.getByLabel('Status').fill('writing docs');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await waitFor(async () => (await alice.api.me()).statusText === 'writing docs', 10_000, 'the status saved');

    const phoneRow = dialog.locator('.session-item', { hasText: 'phone app' });
    await phoneRow.waitFor();
    await dialog.locator('.session-item', { hasText: 'This device' }).waitFor();
    await shot(a.page, 'settings');
    await phoneRow.getByRole('button', { name: 'Sign out' }).click();
    await phoneRow.waitFor({ state: 'detached' });
    await expect(phone.me()).rejects.toMatchObject({ code: 'unauthorized' });

    // A wrong current password is refused with the reason; the right one changes it.
    await dialog.getByLabel('Current password').fill('not my password');
    await dialog.getByLabel('New password').fill('a much better passphrase');
    await dialog.getByRole('button', { name: 'Change', exact: true }).click();
    await dialog.locator('.form-error').waitFor();
    await dialog.getByLabel('Current password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Change', exact: true }).click();
    await dialog.getByText('Password changed.', { exact: false }).waitFor();
    const fresh = new ChatApi(srv.url);
    await fresh.login('alice', 'a much better passphrase');
    await expect(new ChatApi(srv.url).login('alice', PASSWORD)).rejects.toMatchObject({ code: 'invalid_credentials' });
    await a.context.close();
  });
});

/**
 * Signing out leaves nothing of the session on the page: the next person to sign in on the same page (a shared
 * computer) sees only their own rooms, people, counts and notices, and no dialog open — the
 * state returns to the one SESSION_START that signing in starts from (web/src/state/app-state.ts). (Before it,
 * sign-out kept the toasts, the user directory and the online count: the toast is the part a person sees.)
 */
import { expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { newUserPage, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite();

/** An error toast stays this long (web/src/state/ui.ts): a toast kept across the sign-out would still show. */
const ERROR_TOAST_MS = 8000;

it('a second user signing in on the same page sees nothing of the first', async () => {
  const srv = await startServer({}, { webDir: web.webDir });
  await seedUser(srv.url, 'root'); // the first account is the server admin, whom nobody can mute
  const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
  const bob = await seedUser(srv.url, 'bob', 'Bob Chen');
  const carol = await seedUser(srv.url, 'carol', 'Carol Diaz');
  const secret = await alice.api.createRoom('alice-secret', 'private', 'only Alice');
  await alice.api.sendMessage(secret.id, 'the plan is in the drawer', 'm1');
  const carols = await carol.api.createRoom('carols', 'public');
  await alice.api.join(carols.id);
  const bobs = await bob.api.createRoom('bobs-room', 'public');
  await bob.api.sendMessage(bobs.id, 'hello from bob', 'm2');

  // Alice on a phone: the drawer is where her rooms and the settings are.
  const { page, errors } = await newUserPage(web.browser, {
    session: { token: alice.token, user: alice.user },
    viewport: { width: 390, height: 844 },
  });
  await page.goto(`${srv.url}/r/${secret.id}`);
  await page.locator('.messages .msg', { hasText: 'the plan is in the drawer' }).waitFor();
  // An unsent draft: kept in the browser for Alice (a reload keeps it), gone with her sign-out.
  await page.locator('textarea.composer-input').fill('the key is under the mat');
  const savedDrafts = () =>
    page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('relaychat.drafts.')).length);
  await expect.poll(savedDrafts).toBe(1);
  await page.getByRole('button', { name: 'Open navigation' }).first().click();
  await page.locator('nav.sidebar.open').waitFor();
  await expect.poll(() => page.locator('nav.sidebar .room-item').allTextContents()).toHaveLength(3); // lobby too
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  // A notice for Alice just before she signs out: she is muted in Carol's room (an error toast).
  await carol.api.mute(carols.id, alice.user.id, { durationSec: 3600 });
  const toast = page.locator('.toast', { hasText: 'You were muted in carols' });
  await toast.waitFor();
  const toastAt = Date.now();
  await page.getByRole('dialog').getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('tab', { name: 'Sign in' }).waitFor();
  // Still within the toast's time: had the sign-out kept it, it would show here.
  expect(Date.now() - toastAt).toBeLessThan(ERROR_TOAST_MS - 1000);
  expect(await page.locator('.toast').count()).toBe(0);
  expect(new URL(page.url()).pathname).toBe('/');
  expect(await savedDrafts()).toBe(0);

  await page.locator('input[name=username]').fill('bob');
  await page.locator('input[name=password]').fill(bob.password);
  await page.locator('form button[type=submit]').click();
  await page.locator('.me-card .me-name', { hasText: 'Bob Chen' }).waitFor({ state: 'attached' });
  await page.locator('nav.sidebar .room-item', { hasText: 'bobs-room' }).waitFor({ state: 'attached' });
  // Bob's page: his rooms only, his name, his count, no notice, no dialog left open.
  expect(await page.getByRole('dialog').count()).toBe(0);
  expect(await page.locator('.toast').count()).toBe(0);
  const rooms = await page.locator('nav.sidebar .room-item').allTextContents();
  expect(rooms.join(' ')).toContain('bobs-room');
  expect(rooms.join(' ')).not.toMatch(/alice-secret|carols/);
  await expect.poll(() => page.locator('.server-online').textContent()).toBe('1 online');
  expect(new URL(page.url()).pathname).not.toContain(secret.id);
  // (The lobby's "… joined" line names Alice: she is a member there, which Bob may see. Nothing else of hers may show.)
  const shown = await page.locator('body').evaluate((body) => {
    const copy = body.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('.member-lines').forEach((el) => el.remove());
    return copy.textContent ?? '';
  });
  expect(shown).not.toMatch(/the plan is in the drawer|Alice|muted/);
  expect(errors).toEqual([]);
});

/**
 * Moderation in the web client, in a real Chromium against a real server: what a moderator does in one browser
 * shows up at once in the other people's (deleted messages, mutes, bans, room settings, join approval), reports
 * go through the queue, and a server admin's actions on an account reach that account's open page.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer, waitFor, type TestServer } from '../helpers/harness.js';
import { bodies, waitForBodies, webSuite, openRoomPage, sendInComposer } from './browser.js';
import { seedUser, type SeededUser } from './seed.js';

const web = webSuite();
const { shot } = web;

const serve = (): Promise<TestServer> => startServer({}, { webDir: web.webDir });

const pageFor = (u: SeededUser, url: string, roomId?: string) => openRoomPage(web.browser, u, url, roomId);

const send = sendInComposer;

/** The row of the message with this text (hovered, so its actions show). */
async function messageRow(page: Page, text: string) {
  const row = page.locator('.messages .msg', { hasText: text });
  await row.hover();
  return row;
}

const dialog = (page: Page) => page.getByRole('dialog');

async function closeDialog(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await dialog(page).waitFor({ state: 'detached' });
}

describe('web client moderation', { timeout: 90_000 }, () => {
  it('a moderator deletes a message, mutes and bans a member: the member’s page shows each at once', async () => {
    const srv = await serve();
    await seedUser(srv.url, 'root'); // the server admin (first account), out of the way
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const carol = await seedUser(srv.url, 'carol', 'Carol');
    const room = await alice.api.createRoom('town-square', 'public');
    await bob.api.join(room.id);
    await carol.api.join(room.id);
    await alice.api.setRole(room.id, carol.user.id, 'moderator');

    const c = await pageFor(carol, srv.url, room.id);
    const b = await pageFor(bob, srv.url, room.id);
    await send(b.page, 'buy cheap pills at spam.example');
    await send(b.page, 'sorry, that was my cat');
    await waitForBodies(c.page, (x) => x.includes('sorry, that was my cat'), 'bob’s messages at carol');

    // Bob may delete only his own messages; he may report others'. Carol (moderator) may delete anyone's.
    const own = await messageRow(b.page, 'buy cheap pills');
    expect(await own.getByRole('button', { name: 'Report message' }).count()).toBe(0);
    expect(await own.getByRole('button', { name: 'Delete message' }).count()).toBe(1);
    const row = await messageRow(c.page, 'buy cheap pills');
    const seq = Number(await row.getAttribute('data-seq'));
    await row.getByRole('button', { name: 'Delete message' }).click();
    await dialog(c.page).getByText('This message by Bob is removed for everyone').waitFor();
    await dialog(c.page).getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog(c.page).waitFor({ state: 'detached' });
    for (const p of [c.page, b.page]) {
      await p.locator(`.msg[data-seq="${seq}"] .msg-deleted`, { hasText: 'Message deleted' }).waitFor();
      expect(await bodies(p)).toEqual(['sorry, that was my cat']);
    }
    // And from history, after a reload.
    await b.page.reload();
    await b.page.locator(`.msg[data-seq="${seq}"] .msg-deleted`).waitFor();
    expect(await bodies(b.page)).toEqual(['sorry, that was my cat']);

    // Carol mutes Bob from the member list; Bob's composer closes and says why, live.
    await c.page.getByRole('button', { name: 'Moderate Bob' }).click();
    await shot(c.page, 'member-actions');
    await dialog(c.page).getByLabel('Mute for').selectOption({ label: '10 minutes' });
    await dialog(c.page).getByRole('button', { name: 'Mute', exact: true }).click();
    await dialog(c.page).getByText('Bob is muted.').waitFor();
    await closeDialog(c.page);
    await c.page.locator('.member', { hasText: 'Bob' }).locator('.member-muted').waitFor();
    await b.page.locator('.toast', { hasText: 'You were muted in town-square until' }).waitFor();
    await b.page.locator('[data-testid=composer-blocked]', { hasText: 'You are muted in this room until' }).waitFor();
    expect(await b.page.locator('textarea.composer-input').count()).toBe(0);
    await shot(b.page, 'muted');
    await expect(bob.api.sendMessage(room.id, 'can I talk?', 'b-muted')).rejects.toMatchObject({ code: 'muted' });

    // Unmuted: the composer is back.
    await c.page.getByRole('button', { name: 'Moderate Bob' }).click();
    await dialog(c.page).getByRole('button', { name: 'Unmute' }).click();
    await dialog(c.page).getByText('Bob can post again.').waitFor();
    await closeDialog(c.page);
    await b.page.locator('.toast', { hasText: 'You can post in town-square again.' }).waitFor();
    await b.page.locator('textarea.composer-input').waitFor();
    await send(b.page, 'thanks');
    await waitForBodies(c.page, (x) => x.includes('thanks'), 'bob’s message after the unmute');

    // Banned: the room leaves Bob's sidebar with the reason, and he cannot join it again.
    await c.page.getByRole('button', { name: 'Moderate Bob' }).click();
    await dialog(c.page).getByLabel('Reason').fill('spam');
    await dialog(c.page).getByLabel('Ban for').selectOption({ label: '1 day' });
    await dialog(c.page).getByRole('button', { name: 'Ban', exact: true }).click();
    await dialog(c.page).waitFor({ state: 'detached' });
    await b.page.locator('.toast', { hasText: 'You were banned from town-square.' }).waitFor();
    await b.page.locator(`.room-item[data-room="${room.id}"]`).waitFor({ state: 'detached' });
    await c.page.locator('.member', { hasText: 'Bob' }).waitFor({ state: 'detached' });
    await b.page.getByRole('button', { name: 'Browse rooms' }).click();
    await dialog(b.page).getByRole('button', { name: 'Join town-square' }).click();
    await dialog(b.page).getByText('You are banned from this room.').waitFor();
    await closeDialog(b.page);

    // The ban is listed in the room's management view, and can be lifted there.
    await c.page.getByRole('button', { name: 'Manage room' }).click();
    await dialog(c.page).getByRole('tab').first().waitFor(); // the view loads on first use
    expect(await dialog(c.page).getByRole('tab').allInnerTexts()).toEqual(['Join requests', 'Bans']);
    await dialog(c.page).getByRole('tab', { name: 'Bans' }).click();
    await dialog(c.page).locator('.mod-row', { hasText: 'Bob' }).getByText('spam').waitFor();
    await dialog(c.page).getByRole('button', { name: 'Unban Bob' }).click();
    await dialog(c.page).getByText('Bob is no longer banned.').waitFor();
    await bob.api.join(room.id);
    expect([...b.errors, ...c.errors, ...b.dialogs]).toEqual([]);
  });

  it('a member reports a message and a server admin resolves it from the moderation queue', async () => {
    const srv = await serve();
    const root = await seedUser(srv.url, 'root', 'Root Admin');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const carol = await seedUser(srv.url, 'carol', 'Carol');
    const room = await alice.api.createRoom('general', 'public');
    await bob.api.join(room.id);
    await carol.api.join(room.id);
    await carol.api.sendMessage(room.id, 'you are all idiots', 'c-1');
    await carol.api.sendMessage(room.id, 'seriously, idiots', 'c-2');

    const b = await pageFor(bob, srv.url, room.id);
    const report = async (text: string, reason: string, details: string) => {
      const row = await messageRow(b.page, text);
      await row.getByRole('button', { name: 'Report message' }).click();
      await dialog(b.page).getByText('Message by Carol').waitFor();
      await dialog(b.page).getByText(reason, { exact: true }).click();
      await dialog(b.page).getByLabel('Details').fill(details);
      await dialog(b.page).getByRole('button', { name: 'Send report' }).click();
      await dialog(b.page).getByText('Thank you: the moderators will review it.').waitFor();
      await closeDialog(b.page);
    };
    await report('you are all idiots', 'Harassment', 'insults everyone');
    await report('seriously, idiots', 'Harassment', 'again');

    // The room's owner sees the reports about her room too (the queue is in her sidebar).
    const { reports } = await alice.api.reports({ status: 'open' });
    expect(reports.map((r) => r.excerpt).sort()).toEqual(['seriously, idiots', 'you are all idiots']);

    const r = await pageFor(root, srv.url);
    await r.page.getByRole('button', { name: 'Moderation queue' }).click();
    const first = dialog(r.page).locator('.report-card', { hasText: 'you are all idiots' });
    await first.getByText('Bob reported Carol').waitFor();
    await first.getByText('Harassment: insults everyone').waitFor();
    await first.locator('.report-head', { hasText: '#general' }).waitFor(); // a room root is not in: fetched
    await shot(r.page, 'moderation-queue');
    await first.getByRole('button', { name: 'Delete message' }).click();
    await first.getByText('Resolved: message deleted by Root Admin').waitFor();
    await b.page.locator('.msg .msg-deleted').waitFor();
    expect(await bodies(b.page)).toEqual(['seriously, idiots']);

    // The second one: mute the author for an hour, from the queue.
    const second = dialog(r.page).locator('.report-card', { hasText: 'seriously, idiots' });
    await second.getByLabel('Duration of a mute or ban').selectOption({ label: '1 hour' });
    await second.getByRole('button', { name: 'Mute' }).click();
    await second.getByText('Resolved: muted by Root Admin').waitFor();
    await expect(carol.api.sendMessage(room.id, 'still here', 'c-3')).rejects.toMatchObject({ code: 'muted' });
    const muted = (await alice.api.members(room.id)).members.find((m) => m.user.id === carol.user.id);
    const left = Date.parse(muted?.mutedUntil ?? '') - Date.now();
    expect(left).toBeGreaterThan(55 * 60_000);
    expect(left).toBeLessThanOrEqual(60 * 60_000);

    // Resolved reports leave the open list, and show under "Resolved".
    await closeDialog(r.page);
    await r.page.getByRole('button', { name: 'Moderation queue' }).click();
    await dialog(r.page).getByText('No open reports. All clear!').waitFor();
    await dialog(r.page).getByRole('tab', { name: 'Resolved' }).click();
    await dialog(r.page).locator('.report-card').nth(1).waitFor();
    expect(await dialog(r.page).locator('.report-card').count()).toBe(2);
    expect([...b.errors, ...r.errors]).toEqual([]);
  });

  it('room settings: slow mode and read-only reach members live; join approval with request and approve', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const dave = await seedUser(srv.url, 'dave', 'Dave');
    const room = await alice.api.createRoom('announcements', 'public', 'News');
    await bob.api.join(room.id);
    const a = await pageFor(alice, srv.url, room.id);
    const b = await pageFor(bob, srv.url, room.id);

    // Slow mode: the header says so, and after a message Bob's composer counts down.
    await a.page.getByRole('button', { name: 'Manage room' }).click();
    await dialog(a.page).getByRole('tab').first().waitFor(); // the view loads on first use
    expect(await dialog(a.page).getByRole('tab').allInnerTexts()).toEqual([
      'Settings',
      'Join requests',
      'Bans',
      'Audit log',
      'Integrations',
    ]);
    await shot(a.page, 'room-settings');
    await dialog(a.page).getByLabel('Slow mode').selectOption({ label: '30 seconds' });
    await dialog(a.page).getByRole('button', { name: 'Save' }).click();
    await dialog(a.page).getByText('Saved.').waitFor();
    await b.page.locator('.room-flag', { hasText: 'Slow mode: 30 seconds' }).waitFor();
    await send(b.page, 'first!');
    await waitForBodies(a.page, (x) => x.includes('first!'), 'bob’s message');
    await b.page.locator('[data-testid=slow-mode]', { hasText: /you can post again in (29|30) s/ }).waitFor();
    expect(await b.page.locator('button.send-button').isDisabled()).toBe(true);
    await expect(bob.api.sendMessage(room.id, 'second', 'b-2')).rejects.toMatchObject({ code: 'slow_mode' });
    // A page that does not know (reloaded): the server says wait; the message stays pending and says so.
    await b.page.reload();
    await b.page.locator('.messages .loading-row').waitFor({ state: 'detached' });
    await send(b.page, 'second try');
    await b.page.locator('.toast', { hasText: /Slow mode is on: your message goes out in \d+ s/ }).waitFor();
    await b.page.locator('.msg[data-status=pending]', { hasText: 'second try' }).waitFor();
    await b.page.locator('[data-testid=slow-mode]').waitFor();
    // Owners are exempt.
    await send(a.page, 'owners are not slowed');
    await send(a.page, 'at all');
    await waitForBodies(b.page, (x) => x.includes('at all'), 'alice’s messages');

    // Read-only: members below moderator get a notice instead of a composer.
    await dialog(a.page).getByLabel('Slow mode').selectOption({ label: 'Off' });
    await dialog(a.page).getByText('Read-only', { exact: true }).click();
    await dialog(a.page).getByRole('button', { name: 'Save' }).click();
    await dialog(a.page).getByText('Saved.').waitFor();
    await b.page.locator('[data-testid=composer-blocked]', { hasText: 'This room is read-only' }).waitFor();
    await b.page.locator('.room-flag', { hasText: 'Read-only' }).waitFor();
    expect(await b.page.locator('.room-flag', { hasText: 'Slow mode' }).count()).toBe(0);
    await expect(bob.api.sendMessage(room.id, 'hello?', 'b-3')).rejects.toMatchObject({ code: 'read_only' });
    expect(await a.page.locator('textarea.composer-input').count()).toBe(1);
    // Made a moderator (live): Bob may post in the read-only room, and may open its management view.
    await closeDialog(a.page);
    await a.page.getByRole('button', { name: 'Moderate Bob' }).click();
    await dialog(a.page).getByLabel('Role').selectOption({ label: 'Moderator' });
    await dialog(a.page).getByRole('button', { name: 'Change role' }).click();
    await dialog(a.page).getByText('Role changed.').waitFor();
    await closeDialog(a.page);
    await b.page.locator('.toast', { hasText: 'Your role in announcements is now: Moderator.' }).waitFor();
    await b.page.locator('textarea.composer-input').waitFor();
    await b.page.getByRole('button', { name: 'Manage room' }).waitFor();
    await a.page.getByRole('button', { name: 'Manage room' }).click();

    // Join approval: Dave asks from the directory, Alice approves, Dave is in.
    await dialog(a.page).getByText('Approve new members').click();
    await dialog(a.page).getByRole('button', { name: 'Save' }).click();
    await dialog(a.page).getByText('Saved.').waitFor();
    const d = await pageFor(dave, srv.url);
    await d.page.getByRole('button', { name: 'Browse rooms' }).click();
    await dialog(d.page).getByRole('button', { name: 'Ask to join announcements' }).click();
    await d.page.locator('.toast', { hasText: 'Request sent' }).waitFor();
    await dialog(d.page).locator('.directory-row', { hasText: 'announcements' }).getByText('Requested').waitFor();
    await closeDialog(d.page);
    await dialog(a.page).getByRole('tab', { name: 'Join requests' }).click();
    await dialog(a.page).getByRole('button', { name: 'Approve Dave' }).click();
    await dialog(a.page).getByText('Dave joined the room.').waitFor();
    await d.page.locator('.toast', { hasText: 'Your request was approved: welcome to announcements!' }).waitFor();
    await d.page.locator(`.room-item[data-room="${room.id}"]`).click();
    await d.page.locator('h1.room-title', { hasText: 'announcements' }).waitFor();
    await d.page.locator('[data-testid=composer-blocked]', { hasText: 'read-only' }).waitFor();

    // The room's audit log lists what happened.
    await dialog(a.page).getByRole('tab', { name: 'Audit log' }).click();
    await dialog(a.page).locator('.audit-row[data-action="join.approve"]', { hasText: 'Dave' }).waitFor();
    expect(await dialog(a.page).locator('.audit-row[data-action="room.settings"]').count()).toBe(3);
    expect([...a.errors, ...b.errors, ...d.errors]).toEqual([]);
  });

  it('refused sends (blocked words, repeats, mass mentions) fail visibly, with the reason, and are not re-sent', async () => {
    const srv = await startServer(
      { filterBlock: 'frobnicate', floodRepeats: 1, maxMentions: 2 },
      { webDir: web.webDir },
    );
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const room = await alice.api.createRoom('rules', 'public');
    const a = await pageFor(alice, srv.url, room.id);
    const refused: [string, string][] = [
      ['please frobnicate it', 'Your message contains words this server does not allow.'],
      ['hey @bob @carol @dave', 'Too many mentions in one message.'],
    ];
    for (const [text, why] of refused) {
      await send(a.page, text);
      await a.page.locator('.msg[data-status=failed]', { hasText: text }).getByText(`Not sent: ${why}`).waitFor();
      await a.page.locator('.toast', { hasText: why }).waitFor();
    }
    await send(a.page, 'same again');
    await a.page.locator('.msg[data-status=sent]', { hasText: 'same again' }).waitFor();
    await send(a.page, 'same again');
    const repeat = a.page.locator('.msg[data-status=failed]', { hasText: 'same again' });
    await repeat.getByText('Not sent: You just sent that same message.').waitFor();
    // Not retried by itself: still failed a while later, and stored once.
    await a.page.waitForTimeout(500);
    expect(await repeat.count()).toBe(1);
    expect((await alice.api.messages(room.id)).map((m) => m.body)).toEqual(['same again']);
    await repeat.getByRole('button', { name: 'Delete' }).click();
    await repeat.waitFor({ state: 'detached' });
    expect(a.errors).toEqual([]);
  });

  it('a server admin finds a user, deactivates them (their page signs out with the reason), and sees it audited', async () => {
    const srv = await serve();
    const root = await seedUser(srv.url, 'root', 'Root Admin');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const carol = await seedUser(srv.url, 'carol', 'Carol');
    await seedUser(srv.url, 'bobby', 'Another Bob');
    const r = await pageFor(root, srv.url);
    const b = await pageFor(bob, srv.url);
    const c = await pageFor(carol, srv.url);
    // Only server admins get the admin view.
    expect(await b.page.getByRole('button', { name: 'Administration' }).count()).toBe(0);

    await r.page.getByRole('button', { name: 'Administration' }).click();
    await dialog(r.page).getByLabel('Search users by username').fill('bob');
    await waitFor(async () => (await dialog(r.page).locator('.admin-user').count()) === 2, 5000, 'two bobs');
    const row = dialog(r.page).locator('.admin-user[data-user="bob"]');
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await row.locator('.badge', { hasText: 'deactivated' }).waitFor();
    await b.page.getByText('An administrator deactivated or suspended this account, so you were signed out.').waitFor();
    await b.page.getByRole('tab', { name: 'Sign in' }).waitFor();
    // Signing in again is refused while deactivated, with the reason.
    await b.page.locator('input[name=username]').fill('bob');
    await b.page.locator('input[name=password]').fill(bob.password);
    await b.page.locator('form button[type=submit]').click();
    await b.page.locator('.form-error', { hasText: 'This account is deactivated or suspended.' }).waitFor();
    await row.getByRole('button', { name: 'Reactivate' }).click();
    await row.locator('.badge', { hasText: 'deactivated' }).waitFor({ state: 'detached' });
    await b.page.locator('form button[type=submit]').click();
    await b.page.locator('.me-card').waitFor();

    // Force sign-out and a timed server ban, from the same list.
    await dialog(r.page).getByLabel('Search users by username').fill('carol');
    const crow = dialog(r.page).locator('.admin-user[data-user="carol"]');
    await crow.getByRole('button', { name: 'Sign out everywhere' }).click();
    await r.page.locator('.toast', { hasText: 'Carol was signed out of 1 session.' }).waitFor();
    await c.page.getByText('Your session ended. Please sign in again.').waitFor();
    await crow.getByLabel('Server ban duration for Carol').selectOption({ label: '1 hour' });
    await crow.getByRole('button', { name: 'Ban', exact: true }).click();
    await crow.locator('.badge', { hasText: 'banned' }).waitFor();
    await expect(carol.api.login('carol', carol.password)).rejects.toMatchObject({ code: 'account_disabled' });
    await crow.getByRole('button', { name: 'Make admin' }).click();
    await crow.getByRole('button', { name: 'Remove admin' }).waitFor();

    await shot(r.page, 'admin-users');
    // The audit log, newest first.
    await dialog(r.page).getByRole('tab', { name: 'Audit log' }).click();
    const rows = dialog(r.page).locator('.audit-row');
    await rows.first().waitFor();
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')))).toEqual([
      'user.role',
      'user.ban',
      'user.logout',
      'user.reactivate',
      'user.deactivate',
    ]);
    expect(await rows.nth(4).innerText()).toContain('Root Admin deactivated Bob');
    expect([...r.errors, ...b.errors]).toEqual([]);
  });
});

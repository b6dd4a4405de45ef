/**
 * The web client in a real Chromium against a real server (port 0, real SQLite file), built from the current
 * sources. Each test starts its own server and browser contexts; all are closed when it finishes.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { ChatApi } from '../../src/client/api.js';
import { ChatClient, type ChatClientOptions } from '../../src/client/chat-client.js';
import { startServer, type TestServer } from '../helpers/harness.js';
import { bodies, newUserPage, ROOT, waitForBodies, webSuite } from './browser.js';
import { seedDemo, seedUser, type SeededUser } from './seed.js';

const web = webSuite();

const serve = (): Promise<TestServer> => startServer({}, { webDir: web.webDir });

function session(u: SeededUser) {
  return { token: u.token, user: u.user };
}

async function signUp(page: Page, url: string, username: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('tab', { name: 'Create account' }).click();
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill('correct horse battery');
  await page.locator('form button[type=submit]').click();
  await page.locator('.me-card').waitFor();
}

async function openRoom(page: Page, url: string, roomId: string): Promise<void> {
  await page.goto(`${url}/r/${roomId}`);
  await page.locator(`.room-item.active[data-room="${roomId}"]`).waitFor({ state: 'attached' });
  await page.locator('.messages .loading-row').waitFor({ state: 'detached' });
}

async function send(page: Page, text: string): Promise<void> {
  const input = page.locator('textarea.composer-input');
  await input.fill(text);
  await input.press('Enter');
}

/**
 * Takes the page's first member-list answer for `roomId` from the server, runs `meanwhile` (which changes the room and
 * waits until the page has seen it live), and only then hands that older answer over. Later requests pass through.
 * Returns how many requests were made.
 */
async function holdFirstMembersAnswer(page: Page, roomId: string, meanwhile: () => Promise<void>) {
  let requests = 0;
  // By path: the client asks for a page (`?limit=`), which a glob ending in /members would not match.
  await page.route(
    (url) => url.pathname === `/api/v1/rooms/${roomId}/members`,
    async (route) => {
      if (requests++ > 0) return route.continue();
      const before = await route.fetch();
      await meanwhile();
      await route.fulfill({ response: before });
    },
  );
  return () => requests;
}

const title = (page: Page) => page.locator('h1.room-title').innerText();

describe('web client', { timeout: 60_000 }, () => {
  it('two people sign up, meet in a new room, and see each other’s messages and typing live', async () => {
    const srv = await serve();
    const a = await newUserPage(web.browser);
    const b = await newUserPage(web.browser);
    await signUp(a.page, srv.url, 'alice');
    await signUp(b.page, srv.url, 'bob');

    // Alice creates a public room; it opens at once.
    await a.page.getByRole('button', { name: 'Create a room' }).first().click();
    await a.page.getByLabel('Name', { exact: true }).fill('team-chat');
    await a.page.getByRole('button', { name: 'Create room' }).click();
    await a.page.locator('h1.room-title', { hasText: 'team-chat' }).waitFor();

    // Bob finds it in the directory and joins.
    await b.page.getByRole('button', { name: 'Browse rooms' }).click();
    await b.page.getByLabel('Search rooms').fill('team');
    await b.page.getByRole('button', { name: 'Join team-chat' }).click();
    await b.page.locator('h1.room-title', { hasText: 'team-chat' }).waitFor();
    expect(await title(b.page)).toContain('team-chat');

    await send(a.page, 'hello from alice');
    await waitForBodies(b.page, (x) => x.includes('hello from alice'), 'alice’s message at bob');

    // Bob types: Alice sees "bob is typing…", which ends when his message arrives.
    await b.page.locator('textarea.composer-input').pressSequentially('hi al', { delay: 20 });
    await a.page.locator('.typing-text', { hasText: 'bob is typing' }).waitFor();
    await b.page.locator('textarea.composer-input').pressSequentially('ice');
    await b.page.locator('textarea.composer-input').press('Enter');
    await waitForBodies(a.page, (x) => x.includes('hi alice'), 'bob’s message at alice');
    await a.page.locator('.typing-text').waitFor({ state: 'detached' });

    // Shift+Enter is a new line, not a send; each message shows once, sent, on both sides.
    const input = a.page.locator('textarea.composer-input');
    await input.pressSequentially('two');
    await input.press('Shift+Enter');
    await input.pressSequentially('lines');
    await input.press('Enter');
    for (const p of [a.page, b.page]) {
      const got = await waitForBodies(p, (x) => x.includes('two\nlines'), 'the two-line message');
      expect(got).toEqual(['hello from alice', 'hi alice', 'two\nlines']);
    }
    await a.page.locator('.msg[data-status=pending]').waitFor({ state: 'detached' });

    // Unread count: Alice looks at the lobby while Bob writes in team-chat.
    await a.page.locator('.room-item', { hasText: 'Lobby' }).click();
    await a.page.locator('h1.room-title', { hasText: 'Lobby' }).waitFor();
    await send(b.page, 'ping 1');
    await send(b.page, 'ping 2');
    await a.page
      .locator('.room-item.unread', { hasText: 'team-chat' })
      .locator('.unread-badge', { hasText: '2' })
      .waitFor();
    await a.page.locator('.room-item', { hasText: 'team-chat' }).click();
    await waitForBodies(a.page, (x) => x.includes('ping 2'), 'the pings');
    await a.page.locator('.room-item.unread').waitFor({ state: 'detached' });

    // A DM from the member list: Bob gets it live, with the conversation in his sidebar.
    await a.page.getByRole('button', { name: 'Message bob' }).click();
    await a.page.locator('h1.room-title', { hasText: 'bob' }).waitFor();
    await send(a.page, 'psst, a private word');
    await b.page.locator('.room-item', { hasText: 'alice' }).click();
    await waitForBodies(b.page, (x) => x.includes('psst, a private word'), 'the DM at bob');
    // After a reload the DM comes from `welcome`, which names DM peers by id with one profile each: the sidebar
    // and the header still title it, and its member list (paged over HTTP) still lists both people.
    await b.page.reload();
    await b.page.locator('.room-item', { hasText: 'alice' }).click();
    await b.page.locator('h1.room-title', { hasText: 'alice' }).waitFor();
    await b.page.locator('.members .member', { hasText: 'alice' }).waitFor();
    await b.page.locator('.members .member', { hasText: 'bob' }).waitFor();

    expect([...a.dialogs, ...b.dialogs, ...a.errors, ...b.errors]).toEqual([]);
  });

  it('keeps the member list right when someone joins while it is still loading', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice');
    const bob = await seedUser(srv.url, 'bob');
    const room = await alice.api.createRoom('late-join');
    const a = await newUserPage(web.browser, { session: session(alice) });
    // The first member-list answer is taken before Bob joins and handed over only after the page has seen his
    // join event (the room header counts him): the client must not keep that stale list.
    const requests = await holdFirstMembersAnswer(a.page, room.id, async () => {
      await bob.api.join(room.id);
      await a.page.locator('.room-header [aria-label^="2 members"]').waitFor();
    });
    await openRoom(a.page, srv.url, room.id);
    await a.page.locator('.members').getByRole('button', { name: 'Message bob' }).waitFor();
    expect(requests()).toBeGreaterThanOrEqual(2);
    expect([...a.dialogs, ...a.errors]).toEqual([]);
  });

  it('keeps presence and the online count that came live while the member list was loading', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice');
    const bob = await seedUser(srv.url, 'bob');
    const room = await alice.api.createRoom('late-online');
    await bob.api.join(room.id);
    const a = await newUserPage(web.browser, { session: session(alice) });
    const bobClient = new ChatClient({
      url: srv.url,
      token: bob.token,
      WebSocket: WebSocket as unknown as ChatClientOptions['WebSocket'],
    });
    onTestFinished(() => bobClient.close());
    // The first member-list answer says Bob is offline; it is handed over only after the page has seen him come
    // online live (the header counts 2 online).
    const requests = await holdFirstMembersAnswer(a.page, room.id, async () => {
      await bobClient.connect();
      await a.page.locator('.room-header [aria-label="2 members, 2 online"]').waitFor();
    });
    await openRoom(a.page, srv.url, room.id);
    await a.page.locator('.member', { hasText: 'bob' }).locator('.presence-online').waitFor();
    await a.page.waitForTimeout(300); // time for a stale answer to be applied, were it going to be
    expect(await a.page.locator('.member', { hasText: 'bob' }).locator('.presence-online').count()).toBe(1);
    expect(await a.page.locator('.room-header [aria-label="2 members, 2 online"]').count()).toBe(1);
    expect(requests()).toBe(1);
    expect([...a.dialogs, ...a.errors]).toEqual([]);
  });

  it('in a big room the member list shows who comes and goes live: the page views the room it has open', async () => {
    // 12 lobby members with PRESENCE_FANOUT_MAX_MEMBERS 10: only connections viewing the lobby hear who changes.
    const srv = await startServer({ presenceFanoutMaxMembers: 10 }, { webDir: web.webDir });
    const alice = await seedUser(srv.url, 'alice');
    const bob = await seedUser(srv.url, 'bob');
    for (let i = 0; i < 10; i++) await seedUser(srv.url, `member${i}`);
    const side = await alice.api.createRoom('side-room');
    const a = await newUserPage(web.browser, { session: session(alice) });
    const views: unknown[] = [];
    a.page.on('websocket', (ws) =>
      ws.on('framesent', (f) => {
        const frame = JSON.parse(String(f.payload)) as { type: string; roomIds?: string[] };
        if (frame.type === 'view') views.push(frame.roomIds);
      }),
    );
    await openRoom(a.page, srv.url, side.id);
    await openRoom(a.page, srv.url, 'lobby');
    await a.page.locator('.member', { hasText: 'bob' }).locator('.presence-offline').waitFor();
    expect(views.at(-1)).toEqual(['lobby']);
    expect(views).toContainEqual([side.id]);

    const bobClient = new ChatClient({
      url: srv.url,
      token: bob.token,
      WebSocket: WebSocket as unknown as ChatClientOptions['WebSocket'],
    });
    onTestFinished(() => bobClient.close());
    await bobClient.connect();
    await a.page.locator('.member', { hasText: 'bob' }).locator('.presence-online').waitFor();
    await a.page.locator('.room-header [aria-label="12 members, 2 online"]').waitFor();
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await a.page.screenshot({ path: join(ROOT, 'test-artifacts/web-big-room-presence.png') });
    bobClient.setPresence('away');
    await a.page.locator('.member', { hasText: 'bob' }).locator('.presence-away').waitFor();
    bobClient.close();
    await a.page.locator('.member', { hasText: 'bob' }).locator('.presence-offline').waitFor();
    await a.page.locator('.room-header [aria-label="12 members, 1 online"]').waitFor();
    expect([...a.dialogs, ...a.errors]).toEqual([]);
  });

  it('never shows a private room’s messages to someone who is not a member', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice');
    const bob = await seedUser(srv.url, 'bob');
    const carol = await seedUser(srv.url, 'carol');
    const a = await newUserPage(web.browser, { session: session(alice) });
    const b = await newUserPage(web.browser, { session: session(bob) });
    const c = await newUserPage(web.browser, { session: session(carol) });
    for (const p of [a, b, c]) await p.page.goto(srv.url);
    for (const p of [a, b, c]) await p.page.locator('.me-card').waitFor();

    await a.page.getByRole('button', { name: 'Create a room' }).first().click();
    await a.page.getByLabel('Name', { exact: true }).fill('secret-plans');
    await a.page.getByText('Private', { exact: true }).click();
    await a.page.getByRole('button', { name: 'Create room' }).click();
    await a.page.locator('h1.room-title', { hasText: 'secret-plans' }).waitFor();
    const roomId = /\/r\/([\w-]+)/.exec(a.page.url())?.[1] as string;
    await send(a.page, 'the launch code is 4242');
    await waitForBodies(a.page, (x) => x.includes('the launch code is 4242'), 'the secret at alice');

    // Bob is invited from the UI and accepts the live invitation.
    await a.page.locator('.room-tools').getByRole('button', { name: 'Invite people' }).click();
    await a.page.getByLabel('Search people by name').fill('bob');
    await a.page.getByRole('button', { name: 'Invite: bob' }).click();
    await a.page.getByText('Invited: bob').waitFor();
    await a.page.keyboard.press('Escape');
    await b.page.locator('.invite-card', { hasText: 'secret-plans' }).getByRole('button', { name: 'Join' }).click();
    await b.page.locator('h1.room-title', { hasText: 'secret-plans' }).waitFor();
    await waitForBodies(b.page, (x) => x.includes('the launch code is 4242'), 'the secret at bob');

    // Carol: not in her sidebar, not in the directory, not by URL, not live.
    await send(a.page, 'second secret 7777');
    await waitForBodies(b.page, (x) => x.includes('second secret 7777'), 'the live secret at bob');
    await c.page.getByRole('button', { name: 'Browse rooms' }).click();
    await c.page.getByLabel('Search rooms').fill('secret');
    await c.page.getByText('No rooms match.').waitFor();
    await c.page.keyboard.press('Escape');
    await c.page.goto(`${srv.url}/r/${roomId}`);
    await c.page.locator('h1.room-title', { hasText: 'Lobby' }).waitFor();
    expect(await c.page.locator(`[data-room="${roomId}"]`).count()).toBe(0);
    const seen = await c.page.evaluate(() => document.body.innerText + JSON.stringify(localStorage));
    expect(seen).not.toContain('4242');
    expect(seen).not.toContain('7777');
    expect(seen).not.toContain('secret-plans');

    // A server-wide announcement (Alice is the admin: the first account) reaches everyone online.
    await alice.api.announce('Maintenance tonight at **22:00**');
    for (const p of [a, b, c]) {
      await p.page.locator('[data-testid=announcement]', { hasText: 'Maintenance tonight at 22:00' }).waitFor();
    }
    await c.page.locator('[data-testid=announcement]').getByRole('button', { name: 'Dismiss' }).click();
    await c.page.locator('[data-testid=announcement]').waitFor({ state: 'detached' });

    // Bob leaves the private room: it is gone from his sidebar and he lands elsewhere.
    await b.page.locator('.room-item', { hasText: 'secret-plans' }).click();
    await b.page.locator('.room-tools').getByRole('button', { name: 'Leave room' }).click();
    await b.page.getByRole('dialog').getByRole('button', { name: 'Leave room' }).click();
    await b.page.locator(`[data-room="${roomId}"]`).waitFor({ state: 'detached' });
    expect(await title(b.page)).not.toContain('secret-plans');
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  });

  it('keeps the session and history across a reload, resumes what it missed, and scrolls back through history', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice');
    const bob = await seedUser(srv.url, 'bob');
    const room = await alice.api.createRoom('history', 'public');
    await bob.api.join(room.id);
    for (let i = 1; i <= 130; i++) await alice.api.sendMessage(room.id, `message ${i}`, `m-${i}`);

    const a = await newUserPage(web.browser, { session: session(alice) });
    await openRoom(a.page, srv.url, room.id);
    // The newest page; older ones only when scrolled to.
    let got = await waitForBodies(a.page, (x) => x.at(-1) === 'message 130', 'the newest message');
    expect(got).not.toContain('message 1');

    const scroller = a.page.locator('.messages');
    const deadline = Date.now() + 15_000;
    while (!(await bodies(a.page)).includes('message 1')) {
      if (Date.now() > deadline) throw new Error('older history never loaded');
      await scroller.evaluate((el) => (el.scrollTop = 0));
      await a.page.waitForTimeout(100);
    }
    got = await bodies(a.page);
    expect(got).toEqual(Array.from({ length: 130 }, (_, i) => `message ${i + 1}`));
    await a.page.locator('.room-intro').waitFor(); // the beginning of the room is shown once reached
    // Scrolled up, a new message does not yank the view: a button offers to jump.
    await bob.api.sendMessage(room.id, 'while you were reading', 'b-1');
    await a.page.locator('.jump-latest').waitFor();
    await a.page.locator('.jump-latest').click();
    await a.page.locator('.jump-latest').waitFor({ state: 'detached' });

    await send(a.page, 'sent before reload');
    await a.page.locator('.msg[data-status=sent]', { hasText: 'sent before reload' }).waitFor();

    await a.page.reload();
    await a.page.locator('.me-card').waitFor();
    expect(new URL(a.page.url()).pathname).toBe(`/r/${room.id}`);
    got = await waitForBodies(a.page, (x) => x.includes('sent before reload'), 'history after reload');
    expect(got.filter((x) => x === 'sent before reload')).toHaveLength(1);

    // Away from the app (page closed), then back: the per-room position resumes exactly after what it saw.
    await a.page.goto(`${srv.url}/healthz`);
    for (let i = 1; i <= 3; i++) await bob.api.sendMessage(room.id, `missed ${i}`, `missed-${i}`);
    await a.page.goto(`${srv.url}/r/${room.id}`);
    got = await waitForBodies(
      a.page,
      (x) => x.includes('missed 3') && x.includes('while you were reading'),
      'the missed messages, after the history',
    );
    expect(got.slice(-5)).toEqual(['while you were reading', 'sent before reload', 'missed 1', 'missed 2', 'missed 3']);
    const seqs = await a.page
      .locator('.messages .msg')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);

    // The language can be switched; every string comes from the locale files.
    await a.page.getByRole('button', { name: 'Settings' }).click();
    await a.page.getByLabel('Language').selectOption('zh-CN');
    await a.page.getByRole('button', { name: '浏览房间' }).waitFor();
    expect(await a.page.locator('textarea.composer-input').getAttribute('placeholder')).toBe('发消息到 #history');
    await a.page.getByLabel('语言').selectOption('en');
    await a.page.getByRole('button', { name: 'Browse rooms' }).waitFor();

    // Signing out forgets the session: a reload shows the sign-in form.
    await a.page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await a.page.getByRole('tab', { name: 'Sign in' }).waitFor();
    await a.page.reload();
    await a.page.getByRole('tab', { name: 'Sign in' }).waitFor();
    await expect(alice.api.me()).rejects.toThrow(); // the token is revoked on the server too
    expect(a.errors).toEqual([]);
  });

  it('shows the outage, recovers by itself after a server restart, and delivers what was sent meanwhile exactly once', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice');
    const bob = await seedUser(srv.url, 'bob');
    const room = await alice.api.createRoom('ops', 'public');
    await bob.api.join(room.id);
    await alice.api.sendMessage(room.id, 'before the restart', 'before-1');
    const a = await newUserPage(web.browser, { session: session(alice) });
    const b = await newUserPage(web.browser, { session: session(bob) });
    await openRoom(a.page, srv.url, room.id);
    await openRoom(b.page, srv.url, room.id);
    await waitForBodies(b.page, (x) => x.includes('before the restart'), 'the first message');

    await srv.stop();
    for (const p of [a, b]) await p.page.locator('[data-testid=connection-banner]').waitFor();
    // Written while everyone is disconnected: shown as pending, sent when the connection is back.
    for (let i = 1; i <= 3; i++) await send(a.page, `during outage ${i}`);
    await a.page.locator('.msg[data-status=pending]').nth(2).waitFor();
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await a.page.screenshot({ path: join(ROOT, 'test-artifacts/web-reconnecting.png') });

    await srv.restart();
    for (const p of [a, b])
      await p.page.locator('[data-testid=connection-banner]').waitFor({ state: 'detached', timeout: 20_000 });
    const expected = ['before the restart', 'during outage 1', 'during outage 2', 'during outage 3'];
    for (const p of [a, b]) {
      await waitForBodies(p.page, (x) => x.includes('during outage 3'), 'the outage messages', 20_000);
    }
    await a.page.locator('.msg[data-status=pending]').waitFor({ state: 'detached' });
    await send(b.page, 'back online');
    for (const p of [a, b]) {
      const got = await waitForBodies(p.page, (x) => x.includes('back online'), 'the message after recovery');
      expect(got).toEqual([...expected, 'back online']);
    }
    // The server stored each once, too.
    const stored = (await alice.api.messages(room.id)).map((m) => m.body);
    expect(stored).toEqual([...expected, 'back online']);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('renders hostile message text as text: no markup, no script, no javascript: links', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice');
    const bob = await seedUser(srv.url, 'bob');
    const room = await alice.api.createRoom('xss', 'public');
    await bob.api.join(room.id);
    const a = await newUserPage(web.browser, { session: session(alice) });
    const b = await newUserPage(web.browser, { session: session(bob) });
    await openRoom(a.page, srv.url, room.id);
    await openRoom(b.page, srv.url, room.id);

    const payloads = [
      '<img src=x onerror=alert(1)>',
      '<script>alert(1)</script>',
      '[x](javascript:alert(1))',
      '[y](  JaVaScRiPt:alert(2))',
      '**<svg onload=alert(3)>**',
    ];
    for (const p of payloads) await send(a.page, p);
    // One more from the HTTP API, so a message also arrives through history rather than the live socket.
    await bob.api.sendMessage(
      room.id,
      '<iframe src="javascript:alert(4)"></iframe> see [docs](https://example.com/docs)',
      'x-1',
    );
    for (const p of [a.page, b.page]) {
      await waitForBodies(p, (x) => x.some((s) => s.includes('see docs')), 'the hostile messages');
    }
    await b.page.reload(); // and rendered again from history
    await waitForBodies(b.page, (x) => x.length === payloads.length + 1, 'the hostile messages after reload');
    await a.page.waitForTimeout(300); // give any injected handler a chance to fire

    for (const { page } of [a, b]) {
      const list = page.locator('.messages');
      expect(await list.locator('img').count()).toBe(0);
      expect(await list.locator('script, iframe, svg:not(.icon)').count()).toBe(0);
      expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0);
      const got = await bodies(page);
      expect(got).toEqual(expect.arrayContaining(['<img src=x onerror=alert(1)>', '<script>alert(1)</script>']));
      expect(got).toContain('[x](javascript:alert(1))');
      const link = list.locator('a', { hasText: 'docs' });
      expect(await link.getAttribute('href')).toBe('https://example.com/docs');
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
      expect(await link.getAttribute('target')).toBe('_blank');
      expect(await page.locator('.messages strong').allInnerTexts()).toContain('<svg onload=alert(3)>');
    }
    expect([...a.dialogs, ...b.dialogs]).toEqual([]);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('“sign out everywhere” ends the session in every browser', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice');
    const elsewhere = await new ChatApi(srv.url).login('alice', alice.password);
    const one = await newUserPage(web.browser, { session: session(alice) });
    const two = await newUserPage(web.browser, { session: { token: elsewhere.token, user: elsewhere.user } });
    for (const p of [one, two]) await p.page.goto(srv.url);
    for (const p of [one, two]) await p.page.locator('.me-card').waitFor();
    await one.page.getByRole('button', { name: 'Settings' }).click();
    await one.page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await one.page.getByRole('tab', { name: 'Sign in' }).waitFor();
    await two.page.getByText('Your session ended. Please sign in again.').waitFor();
  });

  // What "looks right" means is for a person looking at the PNGs; the test checks only what a machine can.
  it('takes light and dark screenshots (test-artifacts/; docs/screenshots/ on request): the theme is applied, no page errors, the phone sidebar is a drawer', async () => {
    const srv = await serve();
    const demo = await seedDemo(srv.url);
    // Others online, one of them typing, for a lived-in picture.
    const clients: ChatClient[] = [];
    for (const u of [demo.bob, demo.carol, demo.dan]) {
      const c = new ChatClient({
        url: srv.url,
        token: u.token,
        WebSocket: WebSocket as unknown as ChatClientOptions['WebSocket'],
      });
      clients.push(c);
      await c.connect();
    }
    const typing = setInterval(() => clients[0]?.typing(demo.design.id), 1000);
    try {
      const out = join(ROOT, 'test-artifacts');
      const docs = process.env.RELAYCHAT_SCREENSHOTS ? join(ROOT, process.env.RELAYCHAT_SCREENSHOTS) : null;
      mkdirSync(out, { recursive: true });
      if (docs) mkdirSync(docs, { recursive: true });
      for (const theme of ['light', 'dark'] as const) {
        const { page, errors } = await newUserPage(web.browser, { session: session(demo.alice), colorScheme: theme });
        await openRoom(page, srv.url, demo.design.id);
        await waitForBodies(page, (x) => x.some((s) => s.startsWith('Dark mode screenshots')), 'the demo conversation');
        await page.locator('.member', { hasText: 'Dan Okafor' }).locator('.presence-online').waitFor();
        await page.locator('.typing-text', { hasText: 'Bob Chen is typing' }).waitFor();
        // Activity elsewhere shows up as unread counts in the sidebar.
        await demo.dan.api.sendMessage(demo.eng.id, `Rollout at 100% (${theme})`, `eng-${theme}`);
        await demo.bob.api.sendMessage(demo.dm.id, `Ready when you are (${theme})`, `dm-${theme}`);
        await page.locator('.room-item.unread .unread-badge').nth(1).waitFor();
        expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
        await page.locator('textarea.composer-input').blur();
        const shot = await page.screenshot({ path: join(out, `web-${theme}.png`) });
        if (docs) writeFileSync(join(docs, `${theme}.png`), shot);
        expect(statSync(join(out, `web-${theme}.png`)).size).toBeGreaterThan(20_000);
        expect(errors).toEqual([]);
      }
      // Phone width: the sidebar collapses behind a menu button.
      const phone = await newUserPage(web.browser, {
        session: session(demo.alice),
        viewport: { width: 390, height: 780 },
      });
      await openRoom(phone.page, srv.url, demo.design.id);
      expect(await phone.page.locator('.sidebar').isVisible()).toBe(false);
      await phone.page.getByRole('button', { name: 'Open navigation' }).click();
      await phone.page.locator('.sidebar.open').waitFor();
      await phone.page.waitForTimeout(300);
      await phone.page.screenshot({ path: join(out, 'web-phone-nav.png') });
      await phone.page.locator('.sidebar .room-item', { hasText: 'engineering' }).click();
      await phone.page.locator('h1.room-title', { hasText: 'engineering' }).waitFor();
      await phone.page.waitForTimeout(300);
      await phone.page.screenshot({ path: join(out, 'web-phone.png') });
    } finally {
      clearInterval(typing);
      for (const c of clients) c.close();
    }
  });
});

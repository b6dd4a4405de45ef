/**
 * What a new user ran into trying the web app (issue 14): each test here failed before its fix. A real server
 * (port 0, real SQLite file) and a real Chromium, the web client built from the current sources.
 */
import { existsSync } from 'node:fs';
import type { WebSocketRoute } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { EMOJI_FONT_PATH } from '../../scripts/lib/requirements.js';
import { startServer, type TestServer } from '../helpers/harness.js';
import { newUserPage, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite();

const serve = (): Promise<TestServer> => startServer({}, { webDir: web.webDir });

/** Debian's colour emoji font (fonts-noto-color-emoji), as on most Linux desktops. */
const EMOJI_FONT = EMOJI_FONT_PATH;

describe('first use of the web app', { timeout: 60_000 }, () => {
  it('signs in after a look at "Create account": the sign-in form keeps no rule of the other form', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
    const { page, errors } = await newUserPage(web.browser);
    await page.goto(srv.url);
    await page.getByRole('tab', { name: 'Create account' }).click();
    await page.locator('input[name=displayName]').waitFor();
    await page.getByRole('tab', { name: 'Sign in' }).click();
    await page.locator('input[name=displayName]').waitFor({ state: 'detached' });
    const username = page.locator('input[name=username]');
    // No pattern at all: an empty one matches only the empty string and blocks every sign-in.
    expect(await username.evaluate((el) => el.hasAttribute('pattern'))).toBe(false);
    await username.fill('alice');
    await page.locator('input[name=password]').fill(alice.password);
    expect(await username.evaluate((el: HTMLInputElement) => el.validity.valid)).toBe(true);
    await page.locator('form button[type=submit]').click();
    await page.locator('.me-card .me-name', { hasText: 'Alice Martin' }).waitFor({ state: 'attached' });
    expect(errors).toEqual([]);
  });

  it('counts the members of a DM and a group DM it was invited to as they are, without a reload', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
    const bob = await seedUser(srv.url, 'bob', 'Bob Chen');
    await seedUser(srv.url, 'carol', 'Carol Diaz');
    const { page, errors } = await newUserPage(web.browser, { session: { token: bob.token, user: bob.user } });
    await page.goto(srv.url);
    await page.locator('.me-card').waitFor();
    // Alice opens a DM with Bob and a group DM with Bob and Carol while Bob's page is open.
    const dm = await alice.api.openDm('bob');
    const group = await alice.api.openDm('bob', 'carol');
    await alice.api.sendMessage(group.id, 'hello both', 'g1');
    for (const [room, count] of [
      [dm, 2],
      [group, 3],
    ] as const) {
      await page.locator(`.room-item[data-room="${room.id}"]`).click();
      await page.locator(`.room-item.active[data-room="${room.id}"]`).waitFor({ state: 'attached' });
      await expect
        .poll(() => page.locator('.room-tools .pill-button > span').first().textContent())
        .toBe(String(count));
    }
    // The message after the joins reached Bob, so every join did: the count is final, not on its way.
    await page.locator('.messages .msg', { hasText: 'hello both' }).waitFor();
    expect(await page.locator('.room-tools .pill-button > span').first().textContent()).toBe('3');
    expect(errors).toEqual([]);
  });

  it('shows a new display name of someone else live: as author, as DM title, in the member list', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
    const bob = await seedUser(srv.url, 'bob', 'Bob Chen');
    const dm = await alice.api.openDm('bob');
    await alice.api.sendMessage(dm.id, 'hi bob', 'd1');
    const { page, errors } = await newUserPage(web.browser, { session: { token: bob.token, user: bob.user } });
    await page.goto(`${srv.url}/r/${dm.id}`);
    await page.locator('.messages .msg', { hasText: 'hi bob' }).waitFor();
    await page.locator('.members').getByText('Alice Martin').waitFor();
    await alice.api.updateProfile({ displayName: 'Alice Okoye' });
    await page.locator('.msg-author', { hasText: 'Alice Okoye' }).waitFor();
    await page.locator('h1.room-title', { hasText: 'Alice Okoye' }).waitFor();
    await page.locator(`.room-item[data-room="${dm.id}"]`, { hasText: 'Alice Okoye' }).waitFor();
    await page.locator('.members').getByText('Alice Okoye').waitFor();
    expect(await page.locator('body').textContent()).not.toContain('Alice Martin');
    expect(errors).toEqual([]);
  });

  it('after a reconnect, re-reads the names it missed (profile frames are not replayed)', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
    const bob = await seedUser(srv.url, 'bob', 'Bob Chen');
    const team = await bob.api.createRoom('team', 'public');
    await alice.api.join(team.id);
    await alice.api.sendMessage(team.id, 'bye all', 't1');
    await alice.api.leave(team.id); // no longer in the member list: only her profile names her message
    const { page, errors } = await newUserPage(web.browser, { session: { token: bob.token, user: bob.user } });
    // The page's socket through a relay that loses `profile` frames until `lose` is false, as a cut connection would.
    let lose = true;
    let lost = 0;
    let sockets = 0;
    let current: WebSocketRoute | undefined;
    await page.routeWebSocket(
      (url) => url.pathname === '/ws',
      (ws) => {
        sockets++;
        current = ws;
        const server = ws.connectToServer();
        ws.onMessage((m) => server.send(m));
        ws.onClose(() => server.close());
        server.onClose(() => ws.close());
        server.onMessage((m) => {
          if (lose && typeof m === 'string') {
            const parsed = JSON.parse(m) as { type: string } | { type: string }[];
            const frames = Array.isArray(parsed) ? parsed : [parsed];
            const kept = frames.filter((f) => f.type !== 'profile');
            lost += frames.length - kept.length;
            if (kept.length === 0) return;
            if (kept.length !== frames.length) return ws.send(JSON.stringify(kept));
          }
          ws.send(m);
        });
      },
    );
    await page.goto(`${srv.url}/r/${team.id}`);
    await page.locator('.msg-author', { hasText: 'Alice Martin' }).waitFor();
    await alice.api.updateProfile({ displayName: 'Alice Okoye' });
    await expect.poll(() => lost).toBe(1);
    lose = false;
    // The connection drops (the server goes away); the client reconnects and is welcomed again.
    expect(sockets).toBe(1);
    await current?.close({ code: 1001, reason: 'going away' });
    await expect.poll(() => sockets).toBe(2);
    await page.locator('.msg-author', { hasText: 'Alice Okoye' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('keeps unsent drafts per room across a reload, forgets one once sent', async () => {
    const srv = await serve();
    const bob = await seedUser(srv.url, 'bob', 'Bob Chen');
    const a = await bob.api.createRoom('room-a', 'public');
    const b = await bob.api.createRoom('room-b', 'public');
    const { page, errors } = await newUserPage(web.browser, { session: { token: bob.token, user: bob.user } });
    const input = page.locator('textarea.composer-input');
    const open = async (roomId: string) => {
      await page.goto(`${srv.url}/r/${roomId}`);
      await page.locator(`.room-item.active[data-room="${roomId}"]`).waitFor({ state: 'attached' });
    };
    await open(a.id);
    await input.pressSequentially('half a thought in a');
    await page.locator(`.room-item[data-room="${b.id}"]`).click();
    await page.locator(`.room-item.active[data-room="${b.id}"]`).waitFor({ state: 'attached' });
    await input.pressSequentially('and one in b');
    await page.reload(); // at once, as a closed tab would: the last keys typed are kept too
    await page.locator(`.room-item.active[data-room="${b.id}"]`).waitFor({ state: 'attached' });
    await expect.poll(() => input.inputValue()).toBe('and one in b');
    await open(a.id);
    await expect.poll(() => input.inputValue()).toBe('half a thought in a');
    await input.press('Enter');
    await page.locator('.messages .msg[data-status=sent]', { hasText: 'half a thought in a' }).waitFor();
    expect(await input.inputValue()).toBe('');
    await page.reload();
    await page.locator(`.room-item.active[data-room="${a.id}"]`).waitFor({ state: 'attached' });
    await page.locator('.messages .msg', { hasText: 'half a thought in a' }).waitFor();
    expect(await input.inputValue()).toBe('');
    await open(b.id);
    await expect.poll(() => input.inputValue()).toBe('and one in b');
    expect(errors).toEqual([]);
  });

  it('shows bidi controls in a message inert: no text reversed, the message stored as sent', async () => {
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
    const bob = await seedUser(srv.url, 'bob', 'Bob Chen');
    const room = await alice.api.createRoom('files', 'public');
    await bob.api.join(room.id);
    // U+202E (right-to-left override) shows "invoice_gnp.exe" as "invoice_exe.png"; U+2066..U+2069 isolate.
    const spoof = 'invoice_\u202egnp.exe and \u2067`code\u202e`\u2069';
    await alice.api.sendMessage(room.id, spoof, 'b1');
    await alice.api.sendMessage(room.id, 'שלום עולם', 'b2');
    const { page, errors } = await newUserPage(web.browser, { session: { token: bob.token, user: bob.user } });
    await page.goto(`${srv.url}/r/${room.id}`);
    const msg = page.locator('.messages .msg .md').filter({ hasText: 'invoice_' });
    await msg.waitFor();
    const text = await msg.evaluate((el) => el.textContent ?? '');
    expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/u); // nothing in the page can reorder the text
    expect(text).toBe('invoice_U+202Egnp.exe and U+2067codeU+202EU+2069');
    expect(await msg.locator('.bidi-control').count()).toBe(4);
    expect(await msg.locator('.bidi-control').first().getAttribute('title')).toBe('U+202E RLO');
    // Each paragraph takes its direction from its own text, isolated from the others.
    const hebrew = page.locator('.messages .msg .md p', { hasText: 'שלום' });
    expect(await hebrew.getAttribute('dir')).toBe('auto');
    expect(await hebrew.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    expect(await msg.locator('p').evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
    // Stored as sent: the rendering neutralises, the server keeps the body.
    expect((await bob.api.messages(room.id, { limit: 10 })).map((m) => m.body)).toContain(spoof);
    expect(errors).toEqual([]);
  });

  it('draws digits and spaces with the text font, emoji with the colour emoji font', async () => {
    // The font must be installed for this to mean anything (Debian: fonts-noto-color-emoji; npm test installs it).
    expect(existsSync(EMOJI_FONT), `${EMOJI_FONT} (apt-get install -y fonts-noto-color-emoji)`).toBe(true);
    const srv = await serve();
    const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
    const room = await alice.api.createRoom('plans', 'public');
    await alice.api.sendMessage(room.id, 'Meeting at 12:07 # 1 * 2', 'f1');
    await alice.api.sendMessage(room.id, 'Ship it 🚀 done', 'f2');
    await alice.api.sendMessage(room.id, '🚀😀', 'f3');
    const { page, errors } = await newUserPage(web.browser, { session: { token: alice.token, user: alice.user } });
    await page.goto(`${srv.url}/r/${room.id}`);
    await page.locator('.messages .md.jumbo').waitFor();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    /** The platform fonts Chromium drew the text of each element matching `selector` with, by family. */
    const fontsOf = async (selector: string): Promise<string[][]> => {
      const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector });
      const out: string[][] = [];
      for (const nodeId of nodeIds) {
        const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
        out.push(fonts.map((f) => f.familyName).sort());
      }
      return out;
    };
    const [digits, mixed] = await fontsOf('.messages .msg .md p');
    expect(digits).not.toContain('Noto Color Emoji');
    expect(digits!.length).toBeGreaterThan(0);
    expect(mixed).toContain('Noto Color Emoji'); // the rocket
    expect(mixed!.length).toBeGreaterThan(1); // the words beside it in the text font
    expect(await fontsOf('.messages .md.jumbo')).toEqual([['Noto Color Emoji']]);
    for (const time of await fontsOf('.messages .msg-time')) expect(time).not.toContain('Noto Color Emoji');
    expect(errors).toEqual([]);
  });
});

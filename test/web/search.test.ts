/**
 * Search-as-you-type shows the answer to the latest query, even when an older query's answer arrives after it:
 * in real Chromium, the answer to the first query is held back (playwright route interception) until the newer
 * one is on screen, then released. Every search pane (room directory, people picker, admin user list) uses the
 * one `useSearch` of web/src/app/kit.tsx; each is checked here.
 */
import type { Page, Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/harness.js';
import { newUserPage, webSuite } from './browser.js';
import { seedUser, type SeededUser } from './seed.js';

const web = webSuite();

/** A server with an admin and four people, each with a public room: three of each start with "c". */
async function serve(): Promise<{ srv: TestServer; admin: SeededUser }> {
  const srv = await startServer({}, { webDir: web.webDir });
  const admin = await seedUser(srv.url, 'root', 'Root Admin'); // the first account is the server admin
  for (const [name, display] of [
    ['carol', 'Carol Diaz'],
    ['cam', 'Cam Lee'],
    ['cody', 'Cody Walsh'],
    ['dave', 'Dave Evans'],
  ] as const) {
    const u = await seedUser(srv.url, name, display);
    await u.api.createRoom(`${name}-room`, 'public');
  }
  return { srv, admin };
}

interface Pane {
  name: string;
  /** The API path the pane searches. */
  path: string;
  open: (page: Page) => Promise<void>;
  label: string;
  /** What the pane lists, top to bottom. */
  rows: (page: Page) => Promise<string[]>;
  /** The same, read from the API's answer. */
  fromAnswer: (body: unknown) => string[];
  /** The newer query and what it lists. */
  newer: { q: string; rows: string[] };
}

const dialog = (page: Page) => page.getByRole('dialog');
const usernames = (body: unknown) => (body as { users: { username: string }[] }).users.map((u) => u.username);

const PANES: Pane[] = [
  {
    name: 'the admin user list',
    path: '/api/v1/admin/users',
    open: (page) => page.getByRole('button', { name: 'Administration' }).click(),
    label: 'Search users by username',
    rows: (page) =>
      dialog(page)
        .locator('.admin-user')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-user') ?? '')),
    fromAnswer: usernames,
    newer: { q: 'carol', rows: ['carol'] },
  },
  {
    name: 'the room directory',
    path: '/api/v1/rooms',
    open: (page) => page.getByRole('button', { name: 'Browse rooms' }).click(),
    label: 'Search rooms',
    rows: (page) => dialog(page).locator('.directory-row .directory-name').allInnerTexts(),
    fromAnswer: (body) => (body as { rooms: { name: string }[] }).rooms.map((r) => r.name),
    newer: { q: 'carol', rows: ['carol-room'] },
  },
  {
    name: 'the people picker (new direct message)',
    path: '/api/v1/users',
    open: (page) => page.getByRole('button', { name: 'New direct message' }).click(),
    label: 'Search people by name',
    rows: (page) => dialog(page).locator('.directory-row .directory-meta').allInnerTexts(),
    fromAnswer: (body) => usernames(body).map((u) => `@${u}`),
    newer: { q: 'carol', rows: ['@carol'] },
  },
];

/** The first query typed; its answer is the one held back. */
const OLDER = 'c';

describe('search panes', () => {
  for (const pane of PANES) {
    it(`${pane.name} keeps the newer answer when an older one arrives late`, async () => {
      const { srv, admin } = await serve();
      const { page, errors } = await newUserPage(web.browser, { session: { token: admin.token, user: admin.user } });
      // Marks, in the page, that the held answer has been read by the app (and a task has run since).
      await page.addInitScript((older) => {
        const w = window as unknown as { __heldRead?: boolean };
        const orig = window.fetch.bind(window);
        window.fetch = async (input, init) => {
          const res = await orig(input, init);
          if (new URL(res.url).searchParams.get('q') === older) {
            const text = res.text.bind(res);
            res.text = async () => {
              const body = await text();
              setTimeout(() => (w.__heldRead = true), 0);
              return body;
            };
          }
          return res;
        };
      }, OLDER);
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let heldBody: unknown;
      let held!: () => void;
      const heldSeen = new Promise<void>((r) => (held = r));
      await page.route(
        (url) => url.pathname === pane.path && url.searchParams.get('q') === OLDER,
        async (route: Route) => {
          const answer = await route.fetch();
          heldBody = await answer.json();
          held();
          await released;
          await route.fulfill({ response: answer });
        },
      );
      await page.goto(srv.url);
      await page.locator('.me-card').waitFor();
      await pane.open(page);
      const input = dialog(page).getByLabel(pane.label);
      await input.fill(OLDER);
      await heldSeen;
      // Shown, the held answer would change the list: it names more than the newer query's.
      expect(pane.fromAnswer(heldBody)).not.toEqual(pane.newer.rows);
      expect(pane.fromAnswer(heldBody).length).toBeGreaterThan(pane.newer.rows.length);

      await input.fill(pane.newer.q);
      await expect.poll(() => pane.rows(page), { timeout: 10_000 }).toEqual(pane.newer.rows);
      release();
      await page.waitForFunction(() => (window as unknown as { __heldRead?: boolean }).__heldRead === true);
      // Two frames: anything the late answer would render has rendered.
      await page.evaluate(
        () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(undefined)))),
      );
      expect(await pane.rows(page)).toEqual(pane.newer.rows);
      expect(await input.inputValue()).toBe(pane.newer.q);
      expect(errors).toEqual([]);
    });
  }
});

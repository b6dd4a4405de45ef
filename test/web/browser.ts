import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import type { PublicUser } from '../../src/protocol/model.js';
import { assertServiceAllowed } from '../../scripts/lib/proc.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Debian's Chromium (`apt-get install -y chromium`); never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // Voice notes (issue 15): a fake microphone (a tone) granted without a prompt, and <audio> that may play from a
  // script. Only loopback pages are opened, so granting media here grants it to our test server alone.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/**
 * A production build of the web client made from the current sources, built at most once per change: it is
 * cached under node_modules/.cache by a hash of everything that goes into it, so re-runs cost nothing and an
 * edit to web/ or the SDK is never tested against a stale bundle. Safe when several test files build at once
 * (each builds into its own temp dir, then renames into place; the loser uses the winner's).
 */
export function builtWebDir(): string {
  const inputs = [
    ...filesUnder(join(ROOT, 'web')),
    ...filesUnder(join(ROOT, 'src/client')),
    ...filesUnder(join(ROOT, 'src/protocol')),
    join(ROOT, 'vite.config.ts'),
  ].sort();
  const hash = createHash('sha256');
  for (const f of inputs) hash.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  const cache = join(ROOT, 'node_modules/.cache/relaychat-web');
  const dir = join(cache, hash.digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'index.html'))) return dir;
  mkdirSync(cache, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process finished first
  }
  return dir;
}

/**
 * One Chromium for a test file's tests: launched (and the built web client found) before them, closed after them.
 * `use` receives both once they are ready.
 */
export function withBrowser(use: (browser: Browser, webDir: string) => void): void {
  let browser: Browser | undefined;
  beforeAll(async () => {
    const webDir = builtWebDir();
    browser = await launchBrowser();
    use(browser, webDir);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });
}

/** What a web test file shares: its Chromium and the built client (set before its tests run), and screenshots. */
export interface WebSuite {
  browser: Browser;
  webDir: string;
  /** A screenshot to `test-artifacts/web-<prefix>-<name>.png`, taken once animations and transitions have ended. */
  shot(page: Page, name: string): Promise<void>;
}

/** withBrowser plus screenshots, for a test file whose pictures are named `web-<prefix>-…` (`web-…` without one). */
export function webSuite(prefix = ''): WebSuite {
  const suite: WebSuite = {
    browser: undefined as unknown as Browser,
    webDir: '',
    shot: async (page, name) => {
      mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
      // After the dialogs' and drawers' transitions: the picture shows where things end up (a transition cut short,
      // say by the element leaving, counts as ended).
      await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))));
      await page.screenshot({ path: join(ROOT, `test-artifacts/web-${prefix ? `${prefix}-` : ''}${name}.png`) });
    },
  };
  withBrowser((b, dir) => {
    suite.browser = b;
    suite.webDir = dir;
  });
  return suite;
}

export async function launchBrowser(): Promise<Browser> {
  assertServiceAllowed('Chromium');
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

export interface UserPage {
  context: BrowserContext;
  page: Page;
  /** Every `alert()`/`confirm()` the page tried to open (the XSS test expects none). */
  dialogs: string[];
  /** Uncaught page errors. */
  errors: string[];
  /** Console messages of type `error` (a CSP violation logs one, so does a failed resource load). */
  consoleErrors: string[];
}

/** A fresh browser profile (its own localStorage) with one page; closed when the test finishes. */
export async function newUserPage(
  browser: Browser,
  opts: {
    session?: { token: string; user: PublicUser };
    colorScheme?: 'light' | 'dark';
    viewport?: { width: number; height: number };
    /** Ignore the page's CSP, so a test of the client's own escaping is not masked by the second wall. */
    bypassCSP?: boolean;
    /** Browser permissions granted up front (e.g. `notifications`). */
    permissions?: string[];
  } = {},
): Promise<UserPage> {
  const context = await browser.newContext({
    bypassCSP: opts.bypassCSP ?? false,
    ...(opts.permissions ? { permissions: opts.permissions } : {}),
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    colorScheme: opts.colorScheme ?? 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  onTestFinished(() => context.close());
  context.setDefaultTimeout(10_000);
  if (opts.session) {
    // As if this user had signed in before: the app finds its session in localStorage on load.
    await context.addInitScript((session) => {
      try {
        if (location.protocol === 'http:' && !sessionStorage.getItem('seeded')) {
          localStorage.setItem('relaychat.session', JSON.stringify(session));
          sessionStorage.setItem('seeded', '1');
        }
      } catch {
        /* about:blank has no storage */
      }
    }, opts.session);
  }
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, dialogs, errors, consoleErrors };
}

/** Message bodies shown in the open room, top to bottom. */
export async function bodies(page: Page): Promise<string[]> {
  return page.locator('.messages .msg .md').allInnerTexts();
}

/** Waits until `check` holds for the page's message bodies; fails with what was there. */
export async function waitForBodies(
  page: Page,
  check: (b: string[]) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  while (Date.now() < deadline) {
    last = await bodies(page);
    if (check(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; messages were: ${JSON.stringify(last)}`);
}

/**
 * A signed-in user's page (its own browser profile) opened on a room, or on the app's start when `roomId` is
 * omitted, once the room's first page of messages is shown. `locale` starts the app in that language.
 */
export async function openRoomPage(
  browser: Browser,
  u: { token: string; user: PublicUser },
  url: string,
  roomId?: string,
  opts: {
    viewport?: { width: number; height: number };
    locale?: 'zh-CN';
    permissions?: string[];
    /** Runs in every page before the app (e.g. to record what it calls). */
    initScript?: () => void;
  } = {},
): Promise<UserPage> {
  const p = await newUserPage(browser, {
    session: { token: u.token, user: u.user },
    ...(opts.viewport ? { viewport: opts.viewport } : {}),
    ...(opts.permissions ? { permissions: opts.permissions } : {}),
  });
  if (opts.locale) {
    await p.context.addInitScript(
      (locale) => localStorage.setItem('relaychat.locale', JSON.stringify(locale)),
      opts.locale,
    );
  }
  if (opts.initScript) await p.context.addInitScript(opts.initScript);
  await p.page.goto(roomId ? `${url}/r/${roomId}` : url);
  await p.page.locator('.me-card').waitFor({ state: 'attached' });
  if (roomId) {
    await p.page.locator(`.room-item.active[data-room="${roomId}"]`).waitFor({ state: 'attached' });
    await p.page.locator('.messages .loading-row').waitFor({ state: 'detached' });
  }
  return p;
}

/** Types `text` into the open room's composer (the first: a thread panel has its own) and sends it with Enter. */
export async function sendInComposer(page: Page, text: string): Promise<void> {
  const input = page.locator('textarea.composer-input').first();
  await input.fill(text);
  await input.press('Enter');
}

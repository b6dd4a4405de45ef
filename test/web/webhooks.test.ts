/**
 * Webhooks in the web client (issue 16), in a real Chromium against a real server and real receivers on loopback
 * (the server runs with WEBHOOK_ALLOW_PRIVATE_TARGETS so it may deliver to them). A room's owner creates a signed
 * incoming webhook in Room settings → Integrations, copies the curl line it shows once and runs it; the message
 * appears in the room as the integration. Limits and refused targets read as clear errors. The owner subscribes a
 * receiver to the room's events and reads the delivery log (delivered, and failed with the receiver's status); a
 * server admin does the same server-wide in Administration → Integrations, on a phone in 简体中文.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import { webhookReceiver } from '../helpers/webhook-receiver.js';
import { openRoomPage, waitForBodies, webSuite, type UserPage } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('webhooks');
const { shot } = web;
const CLIPBOARD = ['clipboard-read', 'clipboard-write'];

/** A delivery row's event number, exactly (`#3`, not `#30`). */
const seqOf = (seq: number) => new RegExp(`#${seq}(?!\\d)`);

const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());

/** Uncaught errors and console errors, less the browser's own line for an HTTP error answer (tested on purpose). */
const problems = (p: UserPage) => [
  ...p.errors,
  ...p.consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(e)),
];

/**
 * Clicks the log's Refresh until a delivery row matching `hasText` shows `status`: the log is read on demand (the
 * server pushes nothing about deliveries), so the test does what a person would.
 */
async function refreshUntil(log: Locator, status: string, hasText: RegExp): Promise<Locator> {
  const row = log
    .getByTestId('delivery')
    .filter({ hasText })
    .and(log.locator(`[data-status="${status}"]`));
  await waitFor(
    async () => {
      if ((await row.count()) > 0) return true;
      await log.getByRole('button', { name: /^(Refresh|刷新)$/ }).click();
      return false;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: `a ${status} delivery of ${String(hasText)} in the log` },
  );
  return row.first();
}

describe('web client: webhooks', { timeout: 120_000 }, () => {
  it('room settings: an incoming webhook posts via its curl line; a subscription logs its deliveries', async () => {
    const srv = await startServer(
      {
        webhookAllowPrivateTargets: true,
        webhookPollMs: 50,
        webhookRetryDelaysSeconds: '0.2',
        maxWebhooksPerRoom: 2,
      },
      { webDir: web.webDir },
    );
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('deploys', 'public');
    await bob.api.join(room.id);
    const other = await alice.api.createWebhook(room.id, { name: 'Old alerts' });

    const a = await openRoomPage(web.browser, alice, srv.url, room.id, { permissions: CLIPBOARD });
    const b = await openRoomPage(web.browser, bob, srv.url, room.id);
    await a.page.getByRole('button', { name: 'Manage room' }).click();
    const dialog = a.page.getByRole('dialog');
    await dialog.getByRole('tab', { name: 'Integrations' }).click();
    const incoming = dialog.getByTestId('incoming-webhooks');
    await incoming.getByTestId('incoming-webhook').filter({ hasText: 'Old alerts' }).waitFor();

    // Create a signed one: its URL, secret and a curl line are shown once, with copy buttons.
    await incoming.getByRole('button', { name: 'New incoming webhook' }).click();
    await incoming.getByLabel('Name', { exact: true }).fill('CI');
    await incoming.getByRole('checkbox', { name: /^Require a signature/ }).check();
    await incoming.getByRole('button', { name: 'Create webhook' }).click();
    const once = incoming.getByTestId('webhook-created');
    await expect(once.textContent()).resolves.toContain('you will not see it again');
    const url = await once.getByLabel('Webhook URL', { exact: true }).inputValue();
    expect(url).toMatch(new RegExp(`^${srv.url}/api/v1/hooks/[A-Za-z0-9_-]{43}$`));
    await once.getByRole('button', { name: 'Copy Webhook URL' }).click();
    await once.getByRole('button', { name: 'Webhook URL copied' }).waitFor();
    expect(await clipboard(a.page)).toBe(url);
    await once.getByRole('button', { name: 'Copy Try it with curl' }).click();
    const curl = await clipboard(a.page);
    expect(curl).toBe(await once.getByLabel('Try it with curl', { exact: true }).inputValue());
    expect(curl).toContain(url);
    await shot(a.page, 'incoming-created');

    // Unsigned, the URL is refused; the copied curl line signs and posts as pasted into a shell.
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'not signed' }),
    });
    expect(unsigned.status).toBe(401);
    await promisify(execFile)('bash', ['-euc', curl], { timeout: 20_000 });
    await waitForBodies(a.page, (x) => x.includes('Hello from curl'), 'the curl post at alice');
    await waitForBodies(b.page, (x) => x.includes('Hello from curl'), 'the curl post at bob');
    const posted = (await bob.api.messages(room.id)).find((m) => m.body === 'Hello from curl');
    expect(posted?.data?.integration).toMatchObject({ name: 'CI', iconUrl: null });

    // Done: the secret is gone from the page; the list shows it as signed.
    await once.getByRole('button', { name: 'Done' }).click();
    await once.waitFor({ state: 'detached' });
    expect(await dialog.locator(`input[value="${url}"]`).count()).toBe(0);
    const ciRow = incoming.getByTestId('incoming-webhook').filter({ hasText: 'CI' });
    await expect(ciRow.textContent()).resolves.toContain('signed');

    // The room has as many as it may (MAX_WEBHOOKS_PER_ROOM = 2): a clear error, nothing created.
    await incoming.getByRole('button', { name: 'New incoming webhook' }).click();
    await incoming.getByLabel('Name', { exact: true }).fill('Third');
    await incoming.getByRole('button', { name: 'Create webhook' }).click();
    await incoming.getByRole('alert').filter({ hasText: 'as many webhooks as it may' }).waitFor();
    await incoming.getByRole('button', { name: 'Cancel' }).click();
    expect((await alice.api.webhooks(room.id)).map((w) => w.name)).toEqual(['Old alerts', 'CI']);

    // Revoke asks first; then the URL is dead at once.
    const oldRow = incoming.getByTestId('incoming-webhook').filter({ hasText: 'Old alerts' });
    await oldRow.getByRole('button', { name: 'Revoke Old alerts' }).click();
    await expect(oldRow.textContent()).resolves.toContain('Its URL stops working at once');
    await oldRow.getByRole('button', { name: 'Revoke', exact: true }).click();
    await oldRow.waitFor({ state: 'detached' });
    const dead = await fetch(other.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'after revoke' }),
    });
    expect(dead.status).toBe(404);

    // Outgoing: a URL the guard refuses (credentials in it) is a clear error.
    const rx = await webhookReceiver();
    const failing = await webhookReceiver({ status: () => 500 });
    const subs = dialog.getByTestId('webhook-subscriptions');
    await subs.getByRole('button', { name: 'New subscription' }).click();
    await subs.getByLabel('Receiver URL', { exact: true }).fill('http://user:pw@127.0.0.1:9/hook');
    await subs.getByRole('button', { name: 'Subscribe' }).click();
    await subs.getByRole('alert').filter({ hasText: 'The server will not send to this URL' }).waitFor();
    expect(await alice.api.subscriptions(room.id)).toEqual([]);

    // Subscribed: messages and joins; the secret is shown once and verifies the receiver's signatures.
    await subs.getByLabel('Receiver URL', { exact: true }).fill(rx.url);
    await expect(subs.getByRole('checkbox', { name: /New messages/ }).isChecked()).resolves.toBe(true);
    await subs.getByRole('checkbox', { name: /Members joined/ }).check();
    await subs.getByRole('button', { name: 'Subscribe' }).click();
    const subOnce = subs.getByTestId('subscription-created');
    await subOnce.getByRole('button', { name: 'Copy Signing secret' }).click();
    const secret = await clipboard(a.page);
    expect(secret).toBe(await subOnce.getByLabel('Signing secret', { exact: true }).inputValue());
    rx.setSecret(secret);
    await subOnce.getByRole('button', { name: 'Done' }).click();
    // And one whose receiver answers 500: retried once (WEBHOOK_RETRY_DELAYS_SECONDS=0.2), then failed.
    await subs.getByRole('button', { name: 'New subscription' }).click();
    await subs.getByLabel('Receiver URL', { exact: true }).fill(failing.url);
    await subs.getByRole('button', { name: 'Subscribe' }).click();
    await subs.getByTestId('subscription-created').getByRole('button', { name: 'Done' }).click();
    expect((await alice.api.subscriptions(room.id)).map((s) => [s.url, s.events])).toEqual([
      [rx.url, ['message', 'member.joined']],
      [failing.url, ['message']],
    ]);

    const sent = await bob.api.sendMessage(room.id, 'ship it', 'ship-1');
    const okRow = subs.getByTestId('subscription').filter({ hasText: rx.url });
    await okRow.getByRole('button', { name: 'Delivery log' }).click();
    const okLog = okRow.getByTestId('delivery-log');
    const delivered = await refreshUntil(okLog, 'delivered', seqOf(sent.message.seq));
    await expect(delivered.textContent()).resolves.toMatch(/^message #\d+delivered/);
    expect(await delivered.locator('td.num').textContent()).toBe('1');
    expect(await delivered.locator('.webhook-log-error').textContent()).toBe('—');
    expect(rx.unique().find((r) => r.event.seq === sent.message.seq)).toMatchObject({
      verified: true,
      event: { body: 'ship it' },
    });
    const badRow = subs.getByTestId('subscription').filter({ hasText: failing.url });
    await badRow.getByRole('button', { name: 'Delivery log' }).click();
    const failed = await refreshUntil(badRow.getByTestId('delivery-log'), 'failed', seqOf(sent.message.seq));
    expect(await failed.locator('.webhook-log-error').textContent()).toBe('HTTP 500');
    expect(await failed.locator('td.num').textContent()).toBe('2');
    await failed.scrollIntoViewIfNeeded();
    await shot(a.page, 'delivery-log');

    // Delete asks first.
    await okRow.getByRole('button', { name: `Delete subscription ${rx.url}` }).click();
    await okRow.getByRole('button', { name: 'Delete', exact: true }).click();
    await okRow.waitFor({ state: 'detached' });
    expect((await alice.api.subscriptions(room.id)).map((s) => s.url)).toEqual([failing.url]);
    expect(problems(a)).toEqual([]);
    expect(problems(b)).toEqual([]);
  });

  it('Administration → Integrations: server-wide subscriptions, on a phone in 简体中文', async () => {
    const srv = await startServer({ webhookAllowPrivateTargets: true, webhookPollMs: 50 }, { webDir: web.webDir });
    const root = await seedUser(srv.url, 'root', 'Root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const room = await alice.api.createRoom('general-chat', 'public');
    await root.api.join(room.id);
    const rx = await webhookReceiver();
    // Opened on that room, so the message below is not unread (an unread count puts a data: PNG favicon, which the
    // page's CSP refuses — a known issue outside this view).
    const r = await openRoomPage(web.browser, root, srv.url, room.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    await r.page.getByRole('button', { name: '打开导航' }).click();
    await r.page.getByRole('button', { name: '服务器管理' }).click();
    const dialog = r.page.getByRole('dialog');
    await dialog.getByRole('tab', { name: '集成' }).click();
    const subs = dialog.getByTestId('webhook-subscriptions');
    await expect(subs.locator('h3').textContent()).resolves.toBe('全服务器传出 Webhook');
    await subs.getByText('还没有传出 Webhook。').waitFor();
    await subs.getByRole('button', { name: '新建订阅' }).click();
    await subs.getByLabel('接收端 URL', { exact: true }).fill(rx.url);
    await shot(r.page, 'server-form-phone-zh');
    await subs.getByRole('button', { name: '订阅', exact: true }).click();
    const once = subs.getByTestId('subscription-created');
    await expect(once.textContent()).resolves.toContain('之后将无法再次查看');
    rx.setSecret(await once.getByLabel('签名密钥', { exact: true }).inputValue());
    await once.getByRole('button', { name: '完成' }).click();

    const sent = await alice.api.sendMessage(room.id, '你好，世界', 'zh-1');
    const row = subs.getByTestId('subscription');
    await row.getByRole('button', { name: '投递记录' }).click();
    const delivered = await refreshUntil(row.getByTestId('delivery-log'), 'delivered', seqOf(sent.message.seq));
    await expect(delivered.textContent()).resolves.toContain('已送达');
    // Server-wide: each entry names its room.
    await expect(delivered.textContent()).resolves.toContain('#general-chat');
    expect(rx.unique().find((x) => x.event.seq === sent.message.seq)?.verified).toBe(true);
    // Nothing wider than the phone: the log's rows are cards.
    await delivered.scrollIntoViewIfNeeded();
    expect(await r.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const box = (await delivered.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await shot(r.page, 'server-log-phone-zh');

    // The log is paged (20 at a time, newest first): after 21 more, the first is on the second page.
    let last = sent.message.seq;
    for (let i = 0; i < 21; i++) last = (await alice.api.sendMessage(room.id, `burst ${i}`, `burst-${i}`)).message.seq;
    const log = row.getByTestId('delivery-log');
    await refreshUntil(log, 'delivered', seqOf(last));
    expect(await log.getByTestId('delivery').count()).toBe(20);
    await expect(
      log
        .getByTestId('delivery')
        .filter({ hasText: seqOf(sent.message.seq) })
        .count(),
    ).resolves.toBe(0);
    await log.getByRole('button', { name: '更早的投递' }).click();
    await log
      .getByTestId('delivery')
      .filter({ hasText: seqOf(sent.message.seq) })
      .waitFor();
    expect(await log.getByTestId('delivery').count()).toBeGreaterThan(20);
    expect((await root.api.subscriptions(null)).map((s) => [s.roomId, s.url])).toEqual([[null, rx.url]]);
    expect(problems(r)).toEqual([]);
  });

  it('room settings on a phone in 简体中文; a server admin who is not a room admin is pointed elsewhere', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    const root = await seedUser(srv.url, 'root', 'Root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const room = await alice.api.createRoom('release', 'public');
    await root.api.join(room.id);

    const a = await openRoomPage(web.browser, alice, srv.url, room.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });
    await a.page.getByRole('button', { name: '管理房间' }).click();
    const dialog = a.page.getByRole('dialog');
    await dialog.getByRole('tab', { name: '集成' }).click();
    const incoming = dialog.getByTestId('incoming-webhooks');
    await incoming.getByText('还没有传入 Webhook。').waitFor();
    await incoming.getByRole('button', { name: '新建传入 Webhook' }).click();
    await incoming.getByLabel('名称', { exact: true }).fill('告警');
    await incoming.getByRole('button', { name: '创建 Webhook' }).click();
    const once = incoming.getByTestId('webhook-created');
    await expect(once.textContent()).resolves.toContain('之后将无法再次查看');
    const url = await once.getByRole('textbox', { name: 'Webhook URL', exact: true }).inputValue();
    // Unsigned: the curl line is one command, no secret in it.
    const curl = await once.getByRole('textbox', { name: '用 curl 试一下', exact: true }).inputValue();
    expect(curl).toBe(`curl -X POST '${url}' -H 'content-type: application/json' -d '{"text": "Hello from curl"}'`);
    // Fits the phone: the box and its fields stay inside the screen (long values scroll inside their field).
    expect(await a.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const box = (await once.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await shot(a.page, 'incoming-created-phone-zh');
    await once.getByRole('button', { name: '完成' }).click();
    await incoming.getByTestId('incoming-webhook').filter({ hasText: '告警' }).waitFor();
    expect(problems(a)).toEqual([]);

    // A server admin may manage the room (its Integrations tab shows) but not its webhooks: a note, no lists.
    const r = await openRoomPage(web.browser, root, srv.url, room.id);
    await r.page.getByRole('button', { name: 'Manage room' }).click();
    const rd = r.page.getByRole('dialog');
    await rd.getByRole('tab', { name: 'Integrations' }).click();
    await expect(rd.getByTestId('webhooks-unavailable').textContent()).resolves.toContain(
      'Administration → Integrations',
    );
    expect(await rd.getByTestId('incoming-webhooks').count()).toBe(0);
    expect(problems(r)).toEqual([]);
  });
});

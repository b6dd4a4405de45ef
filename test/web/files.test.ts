/**
 * Files, voice notes and avatars in the web client (issue 15), in a real Chromium against a real server: attach by
 * button, paste a screenshot, drop files on the room; upload progress and cancel; images as thumbnails (box
 * reserved from their size) that open a lightbox; other files as cards that download; a voice note recorded from
 * Chromium's fake microphone and played inline; avatars set in settings, seen live by others, initials otherwise.
 * Screenshots on a desktop, a phone (390×844) and in 简体中文.
 */
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/protocol/model.js';
import { startServer, waitFor } from '../helpers/harness.js';
import { openRoomPage, webSuite } from './browser.js';
import { seedUser, type SeededUser } from './seed.js';

const web = webSuite('files');
const { shot } = web;

const png = (width: number, height: number, background = '#3b82f6') =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

async function setup(): Promise<{ url: string; alice: SeededUser; bob: SeededUser; roomId: string }> {
  const srv = await startServer({}, { webDir: web.webDir });
  await seedUser(srv.url, 'root');
  const alice = await seedUser(srv.url, 'alice', 'Alice');
  const bob = await seedUser(srv.url, 'bob', 'Bob');
  const room = await alice.api.createRoom('media', 'public');
  await bob.api.join(room.id);
  return { url: srv.url, alice, bob, roomId: room.id };
}

/** The room's newest message as another member reads it over HTTP. */
async function lastMessage(u: SeededUser, roomId: string): Promise<Message | undefined> {
  return (await u.api.messages(roomId, { limit: 1 })).at(-1);
}

/** Waits until the room's newest message (as another member reads it) satisfies `pred`; returns it. */
async function newestWhere(u: SeededUser, roomId: string, pred: (m: Message) => boolean, what: string) {
  let found: Message | undefined;
  await waitFor(
    async () => {
      const m = await lastMessage(u, roomId);
      found = m && pred(m) ? m : undefined;
      return found !== undefined;
    },
    10_000,
    what,
  );
  return found as Message;
}

const chips = (page: Page) => page.locator('[data-testid=upload-chip]');

describe('web client: files, voice notes and avatars', { timeout: 180_000 }, () => {
  it('attach by button, send with no text; thumbnail with its box reserved, lightbox, file card download', async () => {
    const { url, alice, bob, roomId } = await setup();
    const a = await openRoomPage(web.browser, alice, url, roomId);
    const photo = await png(800, 600);
    await a.page.locator('[data-testid=attach-input]').setInputFiles([
      { name: 'photo.png', mimeType: 'image/png', buffer: photo },
      { name: 'notes.pdf', mimeType: 'application/pdf', buffer: PDF },
    ]);
    await chips(a.page).nth(1).waitFor();
    await waitFor(
      async () =>
        (await chips(a.page).evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).join() ===
        'done,done',
      15_000,
      'both uploads done',
    );
    await shot(a.page, 'chips');
    // Enter in the empty composer sends the files alone.
    await a.page.locator('textarea.composer-input').press('Enter');
    await chips(a.page).first().waitFor({ state: 'detached' });
    const sent = await newestWhere(bob, roomId, (m) => m.attachments?.length === 2, 'the message with two attachments');
    expect(sent.body).toBe('');
    expect(sent.attachments?.map((f) => [f.name, f.contentType])).toEqual([
      ['photo.png', 'image/png'],
      ['notes.pdf', 'application/pdf'],
    ]);

    // The thumbnail's box comes from the stored size (800×600 scaled into 360×280), before and after it loads.
    const thumb = a.page.locator('.messages .att-image').first();
    await thumb.waitFor();
    const box = await thumb.boundingBox();
    expect([Math.round(box!.width), Math.round(box!.height)]).toEqual([360, 270]);
    const img = thumb.locator('img');
    await waitFor(
      () => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0),
      10_000,
      'thumbnail loaded',
    );
    const after = await thumb.boundingBox();
    expect([Math.round(after!.width), Math.round(after!.height)]).toEqual([360, 270]);
    // A signed link, never the session token.
    const src = (await img.getAttribute('src')) ?? '';
    expect(src).toContain('/content?');
    expect(src).not.toContain(alice.token);

    // The lightbox: the full image, Escape closes it and focus returns to the thumbnail.
    await thumb.click();
    const box2 = a.page.getByRole('dialog', { name: 'photo.png' });
    await box2.waitFor();
    const full = box2.locator('img.lightbox-image');
    await waitFor(() => full.evaluate((el: HTMLImageElement) => el.naturalWidth === 800), 10_000, 'full image');
    await shot(a.page, 'lightbox');
    await a.page.keyboard.press('Escape');
    await box2.waitFor({ state: 'detached' });
    expect(await thumb.evaluate((el) => el === document.activeElement)).toBe(true);
    // Keyboard: Enter on the focused thumbnail opens it again; a click anywhere closes it.
    await a.page.keyboard.press('Enter');
    await box2.waitFor();
    await box2.click({ position: { x: 5, y: 5 } });
    await box2.waitFor({ state: 'detached' });

    // The file card: name, size and type; the download gets the very bytes.
    const card = a.page.locator('.messages [data-testid=file-card]');
    await expect(card.locator('.att-file-name').textContent()).resolves.toBe('notes.pdf');
    await expect(card.locator('.att-file-meta').textContent()).resolves.toBe(`${PDF.length} B · PDF`);
    const [download] = await Promise.all([
      a.page.waitForEvent('download'),
      card.getByRole('button', { name: 'Download notes.pdf' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('notes.pdf');
    const chunks: Buffer[] = [];
    for await (const c of (await download.createReadStream())!) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(PDF)).toBe(true);
    await shot(a.page, 'desktop');

    // Bob, on a phone and in Chinese, sees the same message.
    const b = await openRoomPage(web.browser, bob, url, roomId, {
      viewport: { width: 390, height: 844 },
      locale: 'zh-CN',
    });
    await b.page.locator('.messages .att-image img').waitFor();
    await b.page.locator('.messages [data-testid=file-card]').waitFor();
    await shot(b.page, 'phone-zh');
  });

  it('paste a screenshot and drop files on the room; progress shows and cancel aborts the upload', async () => {
    const { url, alice, bob, roomId } = await setup();
    const a = await openRoomPage(web.browser, alice, url, roomId);
    const shotPng = (await png(120, 80, '#10b981')).toString('base64');

    // Paste: a clipboard holding an image (as a screenshot tool leaves it) becomes an attachment, not text.
    await a.page.locator('textarea.composer-input').evaluate((el, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, shotPng);
    await chips(a.page).first().waitFor();
    await expect(chips(a.page).first().locator('.upload-chip-name').textContent()).resolves.toMatch(/^pasted-.*\.png$/);
    expect(await a.page.locator('textarea.composer-input').inputValue()).toBe('');

    // Drop: the room shows where to drop while files hover, and takes them.
    const conversation = a.page.locator('section.conversation');
    await conversation.evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['hello, dropped'], 'dropped.txt', { type: 'text/plain' }));
      el.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await a.page.locator('.drop-zone').waitFor();
    await shot(a.page, 'drop-zone');
    await conversation.evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['hello, dropped'], 'dropped.txt', { type: 'text/plain' }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await a.page.locator('.drop-zone').waitFor({ state: 'detached' });
    await waitFor(
      async () =>
        (await chips(a.page).evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).join() ===
        'done,done',
      15_000,
      'pasted and dropped files uploaded',
    );

    // A big upload on a slow line: its bar moves, and cancel aborts the request and drops the chip.
    const cdp = await a.context.newCDPSession(a.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 256 * 1024,
    });
    const aborted: string[] = [];
    a.page.on('requestfailed', (r) => {
      if (r.url().endsWith('/api/v1/files')) aborted.push(r.failure()?.errorText ?? '');
    });
    await a.page
      .locator('[data-testid=attach-input]')
      .setInputFiles([{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(6 << 20, 7) }]);
    const big = chips(a.page).filter({ hasText: 'big.bin' });
    const bar = big.getByRole('progressbar');
    await waitFor(async () => Number(await bar.getAttribute('aria-valuenow')) > 0, 15_000, 'progress above 0%');
    const pct = Number(await bar.getAttribute('aria-valuenow'));
    expect(pct).toBeLessThan(100);
    await shot(a.page, 'progress');
    await big.getByRole('button', { name: 'Cancel uploading big.bin' }).click();
    await big.waitFor({ state: 'detached' });
    await waitFor(() => aborted.length > 0, 5000, 'the upload request aborted');
    expect(aborted[0]).toContain('ABORTED');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    // The two left go with the text; the cancelled one never does.
    await a.page.locator('textarea.composer-input').fill('a screenshot and a note');
    await a.page.locator('textarea.composer-input').press('Enter');
    const m = await newestWhere(bob, roomId, (m) => m.body === 'a screenshot and a note', 'the message');
    // Plain text has no magic bytes: the server calls it what it cannot tell apart from any other bytes.
    expect(m.attachments?.map((f) => f.contentType)).toEqual(['image/png', 'application/octet-stream']);
    expect(m.attachments?.[0]).toMatchObject({ width: 120, height: 80 });
  });

  it('a file over the server limit, or one too many for a message, is refused before a byte is sent', async () => {
    const srv = await startServer({ maxUploadBytes: 1 << 20, maxAttachmentsPerMessage: 2 }, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const room = await alice.api.createRoom('limits', 'public');
    const a = await openRoomPage(web.browser, alice, srv.url, room.id, { locale: 'zh-CN' });
    const posted: string[] = [];
    a.page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/files')) posted.push(r.url());
    });
    const input = a.page.locator('[data-testid=attach-input]');
    // The limit comes from the server's welcome (1 MB here), in the reader's language.
    await input.setInputFiles([
      { name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(2 << 20) },
    ]);
    const huge = chips(a.page).filter({ hasText: 'huge.bin' });
    await expect.poll(() => huge.getAttribute('data-status')).toBe('failed');
    await expect(huge.getByRole('alert').textContent()).resolves.toBe('文件过大：上限为 1 MB。');
    // Three small ones for a message that may carry two: the third is refused, the two go up.
    await input.setInputFiles(
      ['a.txt', 'b.txt', 'c.txt'].map((name) => ({ name, mimeType: 'text/plain', buffer: Buffer.from(name) })),
    );
    const statuses = () => chips(a.page).evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    await expect.poll(statuses).toEqual(['failed', 'done', 'done', 'failed']);
    await expect(chips(a.page).nth(3).getByRole('alert').textContent()).resolves.toBe('每条消息最多 2 个文件。');
    await shot(a.page, 'limits-zh');
    expect(posted).toHaveLength(2);
    expect(a.errors).toEqual([]);
  });

  it('records a voice note with the microphone, uploads it, and plays it inline', async () => {
    const { url, alice, bob, roomId } = await setup();
    const a = await openRoomPage(web.browser, alice, url, roomId, { permissions: ['microphone'] });
    await a.page.getByRole('button', { name: 'Record a voice note' }).click();
    const rec = a.page.locator('[data-testid=voice-recording]');
    await rec.waitFor();
    await waitFor(
      async () => ((await rec.locator('.voice-time').textContent()) ?? '').startsWith('0:02'),
      10_000,
      '2 s recorded',
    );
    await shot(a.page, 'recording');
    await a.page.getByRole('button', { name: 'Stop and attach the voice note' }).click();
    await rec.waitFor({ state: 'detached' });
    await waitFor(
      async () => (await chips(a.page).first().getAttribute('data-status')) === 'done',
      15_000,
      'voice note uploaded',
    );
    await a.page.locator('textarea.composer-input').press('Enter');
    const m = await newestWhere(bob, roomId, (m) => (m.attachments?.length ?? 0) > 0, 'the voice note message');
    expect(m.attachments?.[0]?.contentType).toBe('audio/webm');
    expect(m.attachments?.[0]?.name).toMatch(/^voice-note-.*\.webm$/);
    expect(m.attachments?.[0]?.size).toBeGreaterThan(1000);

    // Bob plays it: the player loads the signed link and time moves.
    const b = await openRoomPage(web.browser, bob, url, roomId);
    const audio = b.page.locator('.messages [data-testid=voice-note] audio');
    await audio.waitFor();
    await audio.evaluate((el: HTMLAudioElement) => el.play());
    await waitFor(() => audio.evaluate((el: HTMLAudioElement) => el.currentTime > 0.3 && !el.error), 10_000, 'playing');
    await shot(b.page, 'voice-note');
  });

  it('avatars: set in settings, shown on my messages to others live, initials otherwise; removed again', async () => {
    const { url, alice, bob, roomId } = await setup();
    await alice.api.sendMessage(roomId, 'hello from alice', 'a-1');
    await bob.api.sendMessage(roomId, 'and bob, without a picture', 'b-1');
    const a = await openRoomPage(web.browser, alice, url, roomId);
    const b = await openRoomPage(web.browser, bob, url, roomId, { locale: 'zh-CN' });
    const aliceRow = b.page.locator('.messages .msg', { hasText: 'hello from alice' }).locator('.avatar');
    const bobRow = b.page.locator('.messages .msg', { hasText: 'and bob' }).locator('.avatar');
    await expect(aliceRow.getAttribute('data-avatar')).resolves.toBe('initials');
    await expect(aliceRow.textContent()).resolves.toBe('A');

    await a.page.getByRole('button', { name: 'Settings', exact: true }).click();
    const dialog = a.page.getByRole('dialog');
    await dialog
      .locator('[data-testid=avatar-input]')
      .setInputFiles([{ name: 'me.png', mimeType: 'image/png', buffer: await png(400, 300, '#f59e0b') }]);
    await dialog.getByRole('button', { name: 'Remove picture' }).waitFor();
    await shot(a.page, 'avatar-settings');
    await a.page.keyboard.press('Escape');
    await a.page.locator('.me-card .avatar img').waitFor();

    // Bob sees it on Alice's message without reloading; his own row keeps his initials on their colour.
    await waitFor(
      async () => (await aliceRow.getAttribute('data-avatar')) === 'image',
      10_000,
      'alice’s picture at bob',
    );
    const natural = await aliceRow.locator('img').evaluate(async (el: HTMLImageElement) => {
      await el.decode();
      return [el.naturalWidth, el.naturalHeight];
    });
    expect(natural).toEqual([256, 256]);
    await expect(bobRow.getAttribute('data-avatar')).resolves.toBe('initials');
    await expect(bobRow.textContent()).resolves.toBe('B');
    await shot(b.page, 'avatars-zh');

    // Removed: back to initials everywhere, live.
    await alice.api.clearAvatar();
    await waitFor(async () => (await aliceRow.getAttribute('data-avatar')) === 'initials', 10_000, 'initials again');
    await a.page.locator('.me-card .avatar[data-avatar=initials]').waitFor();
  });
});

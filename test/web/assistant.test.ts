/**
 * The built-in assistant in the web client (issue 16), in a real Chromium against a real server and a fake
 * OpenAI-compatible endpoint on loopback: the room's owner adds it in the room settings (Integrations tab), a question @mentions it,
 * both members see the answer grow as it streams (the endpoint holds the rest until the test lets it go), then the
 * streamed text gives way to the one final message. Desktop, and a phone in 简体中文.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { startFakeOpenAi } from '../helpers/fake-openai.js';
import { openRoomPage, sendInComposer, waitForBodies, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('assistant');
const { shot } = web;
const stream = (page: Page) => page.getByTestId('assistant-stream');

describe('web client: the assistant', { timeout: 120_000 }, () => {
  it('added in room settings; its answer grows as it streams, then is the final message', async () => {
    const fake = await startFakeOpenAi({
      chunks: ['The answer ', 'grows ', 'and then ', 'ends here.'],
      chunkDelayMs: 50,
      holdAfter: 2,
    });
    onTestFinished(() => fake.close());
    const srv = await startServer(
      { assistantUrl: fake.url, assistantModel: 'fake', assistantStreamIntervalMs: 0 },
      { webDir: web.webDir },
    );
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice');
    const bob = await seedUser(srv.url, 'bob', 'Bob');
    const room = await alice.api.createRoom('help', 'public');
    await bob.api.join(room.id);

    const a = await openRoomPage(web.browser, alice, srv.url, room.id);
    const b = await openRoomPage(web.browser, bob, srv.url, room.id, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
    });

    await a.page.getByRole('button', { name: 'Manage room' }).click();
    const dialog = a.page.getByRole('dialog');
    await dialog.getByRole('tab', { name: 'Integrations' }).click();
    const section = dialog.getByTestId('assistant-settings');
    await section.getByRole('button', { name: 'Add assistant' }).click();
    await section.getByRole('button', { name: 'Remove assistant' }).waitFor();
    await expect(section.textContent()).resolves.toContain('@assistant is in this room');
    await shot(a.page, 'room-settings');
    await a.page.keyboard.press('Escape');

    await sendInComposer(a.page, '@assistant what happens next?');
    // The first two chunks arrive; the endpoint holds the rest: both pages show the partial answer.
    await stream(a.page).filter({ hasText: 'The answer grows' }).waitFor();
    await stream(b.page).filter({ hasText: 'The answer grows' }).waitFor();
    await expect(stream(b.page).textContent()).resolves.toContain('助手 正在回答…');
    const partial = (await stream(a.page).locator('.assistant-stream-text').textContent())!;
    expect(partial.trim()).toBe('The answer grows');
    await shot(a.page, 'streaming-desktop');
    await shot(b.page, 'streaming-phone-zh');
    // Nothing of it is in the timeline yet.
    expect(await a.page.locator('.messages .msg', { hasText: 'The answer grows' }).count()).toBe(0);

    fake.release();
    await waitForBodies(a.page, (x) => x.includes('The answer grows and then ends here.'), 'the final answer at alice');
    await waitForBodies(b.page, (x) => x.includes('The answer grows and then ends here.'), 'the final answer at bob');
    await stream(a.page).waitFor({ state: 'detached' });
    await stream(b.page).waitFor({ state: 'detached' });
    const box = (await b.page.locator('.messages .msg', { hasText: 'ends here.' }).boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await shot(a.page, 'final-desktop');
    await shot(b.page, 'final-phone-zh');
    for (const p of [a, b]) await p.context.close();
  });
});

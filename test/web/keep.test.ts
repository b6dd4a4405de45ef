/**
 * Keeping and leaving in the browser (issue 18): an admin makes a one-time password reset link in the user
 * directory, the link's page sets a new password (phone, 简体中文); a person deletes their account from settings,
 * erasing their messages, and lands on the sign-in screen while the others see the messages go.
 */
import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { startServer } from '../helpers/harness.js';
import { newUserPage, openRoomPage, webSuite } from './browser.js';
import { seedUser } from './seed.js';

const web = webSuite('keep');

describe('keeping and leaving (web)', () => {
  it('an admin makes a reset link; its page sets a new password once (phone, zh-CN)', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    const root = await seedUser(srv.url, 'root', 'Root Admin');
    const carol = await seedUser(srv.url, 'carol', 'Carol Diaz');

    const r = await openRoomPage(web.browser, root, srv.url);
    await r.page.getByRole('button', { name: 'Administration' }).click();
    const row = r.page.locator('.admin-user[data-user="carol"]');
    await row.getByRole('button', { name: 'Reset link' }).click();
    const field = row.getByRole('textbox', { name: 'One-time password reset link for Carol Diaz' });
    await expect.poll(() => field.inputValue()).toMatch(new RegExp(`^${srv.url}/reset#[A-Za-z0-9_-]{40,}$`));
    const url = await field.inputValue();
    await web.shot(r.page, 'admin-reset-link');

    // Carol, signed out, on her phone, in Chinese.
    const c = await newUserPage(web.browser, { viewport: { width: 390, height: 844 } });
    await c.context.addInitScript(() => {
      try {
        localStorage.setItem('relaychat.locale', JSON.stringify('zh-CN'));
      } catch {
        /* about:blank has no storage */
      }
    });
    await c.page.goto(url);
    const card = c.page.getByTestId('reset-page');
    await card.getByText('账号 @carol').waitFor();
    await c.page.getByLabel('新密码', { exact: true }).fill('a brand new password');
    await c.page.getByLabel('再次输入新密码').fill('a brand new passwort');
    await c.page.getByRole('button', { name: '设置密码' }).click();
    await card.getByText('两次输入的密码不一致。').waitFor();
    await web.shot(c.page, 'reset-page-phone-zh');
    await c.page.getByLabel('再次输入新密码').fill('a brand new password');
    await c.page.getByRole('button', { name: '设置密码' }).click();
    await card.getByText('新密码已设置，之前的所有会话均已退出。').waitFor();
    // The token is gone from the address bar.
    expect(new URL(c.page.url()).hash).toBe('');
    await web.shot(c.page, 'reset-done-phone-zh');
    await expect(carol.api.me()).rejects.toMatchObject({ code: 'unauthorized' });
    expect((await new ChatApi(srv.url).login('carol', 'a brand new password')).user.id).toBe(carol.user.id);

    // Used once: opening it again (a fresh load, not a jump within the page) says so.
    await c.page.goto('about:blank');
    await c.page.goto(url);
    await card.getByText('此重置链接无效、已使用或已过期，请向管理员索取新链接。').waitFor();
    expect(c.errors).toEqual([]);
  });

  it('deleting one’s account from settings (erase) signs out; others see the messages go', async () => {
    const srv = await startServer({}, { webDir: web.webDir });
    await seedUser(srv.url, 'root');
    const alice = await seedUser(srv.url, 'alice', 'Alice Martin');
    const bob = await seedUser(srv.url, 'bob', 'Bob Chen');
    const room = await bob.api.createRoom('garden', 'public');
    await alice.api.join(room.id);
    await alice.api.sendMessage(room.id, 'my words, soon gone', 'a-1');
    await bob.api.sendMessage(room.id, 'bob stays', 'b-1');

    const b = await openRoomPage(web.browser, bob, srv.url, room.id);
    await b.page.locator('.messages .msg', { hasText: 'my words, soon gone' }).waitFor();

    const a = await openRoomPage(web.browser, alice, srv.url, room.id, { viewport: { width: 390, height: 844 } });
    await a.page.getByRole('button', { name: 'Open navigation' }).first().click();
    await a.page.getByRole('button', { name: 'Settings', exact: true }).click();
    const keep = a.page.getByTestId('account-keep');
    await keep.getByRole('button', { name: 'Delete my account…' }).click();
    await keep.getByLabel('Erase all my messages').check();
    await keep.getByLabel('Your password').fill('not my password');
    await keep.getByRole('button', { name: 'Delete my account for good' }).click();
    await keep.getByText('Wrong username or password.').waitFor();
    await keep.scrollIntoViewIfNeeded();
    await web.shot(a.page, 'delete-phone');
    await keep.getByLabel('Your password').fill(alice.password);
    await keep.getByRole('button', { name: 'Delete my account for good' }).click();
    await a.page.getByRole('tab', { name: 'Sign in' }).waitFor();

    // Bob sees her message go, live; his stays.
    await b.page.locator('.messages .msg', { hasText: 'my words, soon gone' }).waitFor({ state: 'detached' });
    await b.page.locator('.messages .msg', { hasText: 'bob stays' }).waitFor();
    // The deleted message's line names its sender as a deleted user (the profile change reached bob's page live).
    await b.page.locator('.messages .msg', { hasText: 'Deleted user' }).waitFor();
    await expect(new ChatApi(srv.url).login('alice', alice.password)).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect(a.errors).toEqual([]);

    // The same section on a desktop, in Chinese.
    const z = await openRoomPage(web.browser, bob, srv.url, room.id, { locale: 'zh-CN' });
    await z.page.getByRole('button', { name: '设置', exact: true }).click();
    const zk = z.page.getByTestId('account-keep');
    await zk.getByRole('button', { name: '删除我的账号…' }).click();
    await zk.getByLabel('保留我的消息（显示为“已删除的用户”）').waitFor();
    await zk.scrollIntoViewIfNeeded();
    await web.shot(z.page, 'settings-desktop-zh');
    expect(z.errors).toEqual([]);
  });
});

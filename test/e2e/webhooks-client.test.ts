import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiError, ChatApi } from '../../src/client/api.js';
import { startServer } from '../helpers/harness.js';
import { cast, history } from '../helpers/moderation-kit.js';
import { waitFor } from '../helpers/wait.js';
import { webhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * The SDK's webhook methods (src/client/api.ts, what the web app's Integrations tab calls) against a real server:
 * each reaches its route with the caller's rights, and errors arrive as ApiError with the catalogue code.
 */

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof ApiError ? e.code : `not an ApiError: ${String(e)}`),
  );

describe('ChatApi: webhooks', () => {
  it('incoming: create (url and secret once), post through the URL, list, revoke', async () => {
    const t = await startServer();
    const c = await cast(t.url);
    const owner = new ChatApi(t.url, c.owner.token);
    const alice = new ChatApi(t.url, c.alice.token);

    expect(await codeOf(alice.createWebhook(c.roomId, { name: 'CI' }))).toBe('forbidden');
    const plain = await owner.createWebhook(c.roomId, { name: 'CI', iconUrl: 'https://example.com/ci.png' });
    expect(plain).toMatchObject({ roomId: c.roomId, name: 'CI', signed: false });
    expect(plain.url).toMatch(new RegExp(`^${t.url}/api/v1/hooks/[A-Za-z0-9_-]{43}$`));
    expect(plain.signingSecret).toBeUndefined();

    const posted = await owner.postToWebhook(plain.url, { text: 'build passed' }, { idempotencyKey: 'b-1' });
    expect(posted.duplicate).toBe(false);
    expect(posted.message.data?.integration).toMatchObject({ id: plain.id, name: 'CI' });
    const again = await new ChatApi(t.url).postToWebhook(
      plain.url,
      { text: 'build passed' },
      { idempotencyKey: 'b-1' },
    );
    expect(again).toMatchObject({ duplicate: true, message: { seq: posted.message.seq } });

    // Signed: the secret shows once; a good signature posts, a missing one is bad_signature.
    const signed = await owner.createWebhook(c.roomId, { name: 'Deploys', signed: true });
    expect(signed.signingSecret).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    // Signed as sent (this spacing is not JSON.stringify's): the signature covers these exact bytes.
    const body = '{"text": "deployed"}';
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `v1=${createHmac('sha256', signed.signingSecret!).update(`${ts}.${body}`).digest('hex')}`;
    expect(await codeOf(owner.postToWebhook(signed.url, { text: 'deployed' }))).toBe('bad_signature');
    const ok = await owner.postToWebhook(
      signed.url,
      { text: 'deployed' },
      { timestamp: ts, signature: sig, rawBody: body },
    );
    expect(ok.message.body).toBe('deployed');

    const list = await owner.webhooks(c.roomId);
    expect(list.map((w) => [w.name, w.signed])).toEqual([
      ['CI', false],
      ['Deploys', true],
    ]);
    expect(list.every((w) => w.url === undefined && w.signingSecret === undefined)).toBe(true);
    expect(await codeOf(alice.webhooks(c.roomId))).toBe('forbidden');

    await owner.revokeWebhook(c.roomId, plain.id);
    expect(await codeOf(owner.postToWebhook(plain.url, { text: 'after revoke' }))).toBe('webhook_not_found');
    expect(await codeOf(owner.revokeWebhook(c.roomId, plain.id))).toBe('webhook_not_found');
    expect((await owner.webhooks(c.roomId)).map((w) => w.id)).toEqual([signed.id]);
    const bodies = (await history(t.url, c.alice.token, c.roomId)).map((m) => m.body);
    expect(bodies.filter((b) => b === 'build passed' || b === 'deployed')).toEqual(['build passed', 'deployed']);
  });

  it('outgoing: room and server-wide subscriptions, their delivery logs, unsubscribe; refused targets', async () => {
    const t = await startServer({ webhookAllowPrivateTargets: true, webhookPollMs: 50 });
    const c = await cast(t.url);
    const owner = new ChatApi(t.url, c.owner.token);
    const admin = new ChatApi(t.url, c.admin.token);
    const rx = await webhookReceiver();

    const sub = await owner.subscribe(c.roomId, { url: rx.url, events: ['message'] });
    expect(sub).toMatchObject({ roomId: c.roomId, url: rx.url, events: ['message'] });
    expect(sub.secret.length).toBeGreaterThan(20);
    rx.setSecret(sub.secret);
    const global = await admin.subscribe(null, { url: rx.url, events: ['member.joined'] });
    expect(global.roomId).toBeNull();
    // Room admins cannot subscribe server-wide; a server admin who is not a room admin cannot use the room's list.
    expect(await codeOf(owner.subscribe(null, { url: rx.url, events: ['message'] }))).toBe('forbidden');
    expect(await codeOf(admin.subscriptions(c.roomId))).toBe('not_member');

    const m = await new ChatApi(t.url, c.alice.token).sendMessage(c.roomId, 'to the receiver', 'rx-1');
    await waitFor(() => rx.got.some((r) => r.event.seq === m.message.seq), {
      what: 'the message delivered',
      timeoutMs: 15_000,
      intervalMs: 20,
    });
    const log = (await waitFor(
      async () => {
        const d = await owner.deliveries(c.roomId, sub.id);
        return d.some((x) => x.status === 'delivered' && x.seq === m.message.seq) ? d : undefined;
      },
      { what: 'the delivery logged', timeoutMs: 15_000, intervalMs: 20 },
    ))!;
    expect(log[0]).toMatchObject({ subscriptionId: sub.id, eventType: 'message', attempts: 1, lastError: null });
    expect(rx.got.find((r) => r.event.seq === m.message.seq)?.verified).toBe(true);
    // Paging: `before` an entry's updatedAt returns only older ones.
    expect(await owner.deliveries(c.roomId, sub.id, { limit: 1, before: log[0]!.updatedAt })).toEqual(
      log.filter((d) => Date.parse(d.updatedAt) < Date.parse(log[0]!.updatedAt)).slice(0, 1),
    );

    await new ChatApi(t.url, c.bob.token).leave(c.roomId);
    await new ChatApi(t.url, c.bob.token).join(c.roomId);
    await waitFor(async () => (await admin.deliveries(null, global.id)).some((d) => d.eventType === 'member.joined'), {
      what: 'the server-wide delivery logged',
      timeoutMs: 15_000,
      intervalMs: 20,
    });

    expect((await owner.subscriptions(c.roomId)).map((s) => [s.id, s.secret])).toEqual([[sub.id, undefined]]);
    expect((await admin.subscriptions(null)).map((s) => s.id)).toEqual([global.id]);
    await owner.unsubscribe(c.roomId, sub.id);
    await admin.unsubscribe(null, global.id);
    expect(await owner.subscriptions(c.roomId)).toEqual([]);
    expect(await admin.subscriptions(null)).toEqual([]);
    expect(await codeOf(owner.deliveries(c.roomId, sub.id))).toBe('webhook_not_found');
  });

  it('a target the SSRF guard refuses is webhook_target_refused', async () => {
    const t = await startServer();
    const c = await cast(t.url);
    const owner = new ChatApi(t.url, c.owner.token);
    expect(await codeOf(owner.subscribe(c.roomId, { url: 'http://127.0.0.1:9/hook', events: ['message'] }))).toBe(
      'webhook_target_refused',
    );
    expect(await codeOf(owner.subscribe(c.roomId, { url: 'http://u:p@example.com/', events: ['message'] }))).toBe(
      'webhook_target_refused',
    );
    expect(await owner.subscriptions(c.roomId)).toEqual([]);
  });
});

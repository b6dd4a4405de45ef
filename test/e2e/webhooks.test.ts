import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type {
  IncomingWebhook,
  IntegrationRef,
  RoomEvent,
  WebhookDelivery,
  WebhookSubscription,
} from '../../src/protocol/model.js';
import { startServer } from '../helpers/harness.js';
import { call, cast, expectStatus, history } from '../helpers/moderation-kit.js';
import { waitFor } from '../helpers/wait.js';
import { webhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Issue 16, webhooks end to end on both backends. Incoming: a secret URL posts into its room through the normal send
 * path as a named integration; signed ones refuse bad, stale and replayed signatures. Outgoing: subscriptions deliver
 * signed POSTs to a local receiver, in sequence order, retrying on the configured schedule, then failing; targets
 * pass the SSRF guard.
 */

const sign = (secret: string, ts: number, body: string) =>
  `v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;

/** What a POST to a hook URL answers (fields absent when the other case). */
interface HookAnswer {
  message: RoomEvent & { data: { integration: IntegrationRef } };
  duplicate: boolean;
  error: { code: string; retryAfterMs: number };
}

async function hookPost(url: string, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: text,
  });
  const raw = await res.text();
  return { status: res.status, body: (raw ? JSON.parse(raw) : {}) as HookAnswer };
}

describe('incoming webhooks', () => {
  it('room admins create one; a POST to its URL posts as the named integration, idempotently', async () => {
    const t = await startServer();
    const c = await cast(t.url);
    // Members and moderators may not; the owner (and admins) may.
    await expectStatus(
      t.url,
      c.alice.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/webhooks`,
      { name: 'CI' },
      403,
      'forbidden',
    );
    await expectStatus(
      t.url,
      c.mod.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/webhooks`,
      { name: 'CI' },
      403,
      'forbidden',
    );
    const { webhook } = (await expectStatus(
      t.url,
      c.owner.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/webhooks`,
      {
        name: 'CI',
        iconUrl: 'https://example.com/ci.png',
      },
      201,
    )) as { webhook: IncomingWebhook & { url: string } };
    expect(webhook.url).toMatch(new RegExp(`^${t.url}/api/v1/hooks/[A-Za-z0-9_-]{43}$`));
    expect(webhook.signed).toBe(false);

    const r = await hookPost(webhook.url, { text: 'build #12 passed' }, { 'idempotency-key': 'build-12' });
    expect(r.status).toBe(201);
    const msg = r.body.message as RoomEvent;
    expect(msg).toMatchObject({
      roomId: c.roomId,
      type: 'message',
      body: 'build #12 passed',
      senderId: c.owner.user.id,
    });
    expect(msg.data).toMatchObject({
      integration: { id: webhook.id, name: 'CI', iconUrl: 'https://example.com/ci.png' },
    });
    // The same idempotency key: the stored message again, nothing new.
    const again = await hookPost(webhook.url, { text: 'build #12 passed' }, { 'idempotency-key': 'build-12' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ duplicate: true, message: { seq: msg.seq } });
    // A display name and icon per post; repeats of the same text are not a flood.
    const named = await hookPost(webhook.url, {
      text: 'build #12 passed',
      displayName: 'Nightly',
      iconUrl: 'https://example.com/n.png',
    });
    expect(named.status).toBe(201);
    expect(named.body.message.data.integration).toMatchObject({
      name: 'Nightly',
      iconUrl: 'https://example.com/n.png',
    });
    const msgs = (await history(t.url, c.alice.token, c.roomId)).filter((m) => m.data?.integration);
    expect(msgs.map((m) => m.seq)).toEqual([msg.seq, named.body.message.seq]);

    // Bad input: clear codes.
    expect((await hookPost(webhook.url, '{nope')).body.error.code).toBe('bad_json');
    expect((await hookPost(webhook.url, { body: 'x' })).body.error.code).toBe('validation_failed');
    expect((await hookPost(webhook.url.replace(/.{4}$/, 'AAAA'), { text: 'x' })).body.error.code).toBe(
      'webhook_not_found',
    );

    // Listed (no URL, no secret), revoked: the URL is dead at once.
    const list = (await expectStatus(
      t.url,
      c.owner.token,
      'GET',
      `/api/v1/rooms/${c.roomId}/webhooks`,
      undefined,
      200,
    )) as {
      webhooks: IncomingWebhook[];
    };
    expect(list.webhooks).toEqual([expect.objectContaining({ id: webhook.id, name: 'CI' })]);
    expect(list.webhooks[0]).not.toHaveProperty('url');
    await expectStatus(
      t.url,
      c.alice.token,
      'DELETE',
      `/api/v1/rooms/${c.roomId}/webhooks/${webhook.id}`,
      undefined,
      403,
      'forbidden',
    );
    await expectStatus(
      t.url,
      c.owner.token,
      'DELETE',
      `/api/v1/rooms/${c.roomId}/webhooks/${webhook.id}`,
      undefined,
      204,
    );
    const dead = await hookPost(webhook.url, { text: 'after revoke' });
    expect([dead.status, dead.body.error.code]).toEqual([404, 'webhook_not_found']);
  });

  it('signed webhooks: a good signature posts; bad, stale and replayed ones are refused with their codes', async () => {
    const t = await startServer();
    const c = await cast(t.url);
    const { webhook } = (await expectStatus(
      t.url,
      c.owner.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/webhooks`,
      {
        name: 'Signed',
        signed: true,
      },
      201,
    )) as { webhook: IncomingWebhook & { url: string; signingSecret: string } };
    expect(webhook.signingSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const body = JSON.stringify({ text: 'deploy done' });
    const now = Math.floor(Date.now() / 1000);
    const headers = (ts: number, sig = sign(webhook.signingSecret, ts, body)) => ({
      'x-relaychat-timestamp': String(ts),
      'x-relaychat-signature': sig,
    });

    const none = await hookPost(webhook.url, body);
    expect([none.status, none.body.error.code]).toEqual([401, 'bad_signature']);
    const bad = await hookPost(webhook.url, body, headers(now, sign('wrong-secret', now, body)));
    expect([bad.status, bad.body.error.code]).toEqual([401, 'bad_signature']);
    // The signature covers the body: another body under a good signature is refused.
    const tampered = await hookPost(webhook.url, JSON.stringify({ text: 'deploy FAILED' }), headers(now));
    expect(tampered.body.error?.code).toBe('bad_signature');
    // Well past the 5 minutes either way: a loaded machine may take seconds between `now` and these posts.
    const stale = await hookPost(webhook.url, body, headers(now - 360));
    expect([stale.status, stale.body.error.code]).toEqual([401, 'signature_stale']);
    const future = await hookPost(webhook.url, body, headers(now + 360));
    expect(future.body.error?.code).toBe('signature_stale');

    const good = await hookPost(webhook.url, body, headers(now));
    expect(good.status).toBe(201);
    expect(good.body.message.data.integration.name).toBe('Signed');
    const replay = await hookPost(webhook.url, body, headers(now));
    expect([replay.status, replay.body.error.code]).toEqual([409, 'signature_replayed']);
    // A fresh signature of the same text is a new post.
    const next = await hookPost(webhook.url, body, headers(now + 1));
    expect(next.status).toBe(201);
    const posted = (await history(t.url, c.alice.token, c.roomId)).filter((m) => m.data?.integration);
    expect(posted).toHaveLength(2);
  });

  it('rate-limited per webhook (WEBHOOK_POSTS_PER_MINUTE); the creator must still be allowed to post', async () => {
    const t = await startServer({ webhookPostsPerMinute: 2 });
    const c = await cast(t.url);
    const { webhook } = (await expectStatus(
      t.url,
      c.owner.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/webhooks`,
      { name: 'Bot' },
      201,
    )) as {
      webhook: { url: string };
    };
    expect((await hookPost(webhook.url, { text: 'one' })).status).toBe(201);
    expect((await hookPost(webhook.url, { text: 'two' })).status).toBe(201);
    const third = await hookPost(webhook.url, { text: 'three' });
    expect([third.status, third.body.error.code]).toEqual([429, 'rate_limited']);
    expect(third.body.error.retryAfterMs).toBeGreaterThan(0);
    // The creator's own messages are not throttled by the webhook's posts.
    expect(
      (
        await call(t.url, c.owner.token, 'POST', `/api/v1/rooms/${c.roomId}/messages`, {
          body: 'me',
          clientMsgId: 'm1',
        })
      ).status,
    ).toBe(201);
  });
});

async function subscribe(url: string, token: string, path: string, target: string, events: string[]) {
  return (await expectStatus(url, token, 'POST', path, { url: target, events }, 201)) as {
    subscription: WebhookSubscription & { secret: string };
  };
}

const fast = {
  webhookAllowPrivateTargets: true,
  webhookPollMs: 50,
  webhookRetryDelaysSeconds: '0.2,0.4',
  webhookTimeoutMs: 1000,
  webhookLeaseMs: 3000,
};

describe('outgoing webhooks', () => {
  it('delivers the chosen events of a room, signed, in order, with the event id as idempotency key', async () => {
    const t = await startServer(fast);
    const c = await cast(t.url);
    const rx = await webhookReceiver();
    await expectStatus(
      t.url,
      c.mod.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/subscriptions`,
      { url: rx.url, events: ['message'] },
      403,
      'forbidden',
    );
    const { subscription } = await subscribe(t.url, c.owner.token, `/api/v1/rooms/${c.roomId}/subscriptions`, rx.url, [
      'message',
      'reaction.added',
    ]);
    rx.setSecret(subscription.secret);
    expect(subscription.roomId).toBe(c.roomId);
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call<{ message: RoomEvent }>(t.url, c.alice.token, 'POST', `/api/v1/rooms/${c.roomId}/messages`, {
        body: `m${i}`,
        clientMsgId: `c${i}`,
      });
      sent.push(r.body.message.seq);
    }
    await waitFor(() => rx.got.length >= 5, { timeoutMs: 10_000, what: 'five deliveries' });
    expect(rx.got.map((r) => r.event.seq)).toEqual(sent);
    expect(rx.got.every((r) => r.verified)).toBe(true);
    expect(rx.got.map((r) => r.key)).toEqual(rx.got.map((r) => r.event.id));
    // Joins were not subscribed to: a member.joined after the last message is not delivered (the next message is the marker).
    await c.bob.api.leave(c.roomId);
    const marker = await call<{ message: RoomEvent }>(
      t.url,
      c.alice.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/messages`,
      { body: 'marker', clientMsgId: 'mk' },
    );
    await waitFor(() => rx.got.some((r) => r.event.id === marker.body.message.id), {
      timeoutMs: 10_000,
      what: 'the marker',
    });
    expect(rx.got.map((r) => r.event.type)).toEqual(Array(6).fill('message'));

    // The log entry is written once the receiver has answered: poll for it.
    const logPath = `/api/v1/rooms/${c.roomId}/subscriptions/${subscription.id}/deliveries`;
    const log = (await waitFor(
      async () => {
        const r = await call<{ deliveries: WebhookDelivery[] }>(t.url, c.owner.token, 'GET', logPath);
        return r.body.deliveries.length === 6 ? r.body : null;
      },
      { timeoutMs: 10_000, what: 'six log entries' },
    ))!;
    expect(log.deliveries.every((d) => d.status === 'delivered' && d.lastStatus === 200 && d.attempts === 1)).toBe(
      true,
    );
    const listed = (await expectStatus(
      t.url,
      c.owner.token,
      'GET',
      `/api/v1/rooms/${c.roomId}/subscriptions`,
      undefined,
      200,
    )) as { subscriptions: WebhookSubscription[] };
    expect(listed.subscriptions).toEqual([
      expect.objectContaining({ id: subscription.id, url: rx.url, events: ['message', 'reaction.added'] }),
    ]);
    expect(listed.subscriptions[0]).not.toHaveProperty('secret');
  });

  it('retries a failing receiver on the schedule, then marks the delivery failed and goes on in order', async () => {
    const t = await startServer(fast);
    const c = await cast(t.url);
    // The first message's deliveries all fail (3 attempts); the second's first attempt fails, its retry succeeds.
    const rx = await webhookReceiver({
      status: (r) => (r.event.body === 'doomed' ? 500 : r.event.body === 'flaky' && r.attempt === 1 ? 503 : 200),
    });
    const { subscription } = await subscribe(t.url, c.owner.token, `/api/v1/rooms/${c.roomId}/subscriptions`, rx.url, [
      'message',
    ]);
    rx.setSecret(subscription.secret);
    for (const body of ['doomed', 'flaky', 'fine']) {
      await call(t.url, c.alice.token, 'POST', `/api/v1/rooms/${c.roomId}/messages`, { body, clientMsgId: body });
    }
    await waitFor(() => rx.got.some((r) => r.event.body === 'fine'), { timeoutMs: 15_000, what: 'the last delivery' });
    expect(rx.got.map((r) => `${r.event.body}#${r.attempt}`)).toEqual([
      'doomed#1',
      'doomed#2',
      'doomed#3',
      'flaky#1',
      'flaky#2',
      'fine#1',
    ]);
    // The backoff was kept (≥ 200 ms, then ≥ 400 ms between the attempts at the doomed one).
    expect(rx.got[1]!.at - rx.got[0]!.at).toBeGreaterThanOrEqual(190);
    expect(rx.got[2]!.at - rx.got[1]!.at).toBeGreaterThanOrEqual(390);
    const log = (await waitFor(
      async () => {
        const r = await call<{ deliveries: WebhookDelivery[] }>(
          t.url,
          c.owner.token,
          'GET',
          `/api/v1/rooms/${c.roomId}/subscriptions/${subscription.id}/deliveries`,
        );
        return r.body.deliveries.length === 3 ? r.body.deliveries : null;
      },
      { timeoutMs: 10_000, what: 'three log entries' },
    ))!;
    const byBody = (seqBody: string) =>
      log.find((d) => d.eventId === rx.got.find((r) => r.event.body === seqBody)!.key)!;
    expect(byBody('doomed')).toMatchObject({ status: 'failed', attempts: 3, lastStatus: 500, lastError: 'status 500' });
    expect(byBody('flaky')).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200, lastError: null });
    expect(byBody('fine')).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('the SSRF guard refuses loopback and private targets unless the operator allows them', async () => {
    const t = await startServer({ webhookAllowPrivateTargets: false });
    const c = await cast(t.url);
    const path = `/api/v1/rooms/${c.roomId}/subscriptions`;
    for (const target of [
      'http://127.0.0.1:9/hook',
      'http://localhost:9/hook',
      'http://[::1]:9/hook',
      'http://10.0.0.1/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://2130706433/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://user:pw@example.com/hook',
    ]) {
      await expectStatus(
        t.url,
        c.owner.token,
        'POST',
        path,
        { url: target, events: ['message'] },
        422,
        'webhook_target_refused',
      );
    }
    await expectStatus(
      t.url,
      c.owner.token,
      'POST',
      path,
      { url: 'ftp://example.com/x', events: ['message'] },
      400,
      'validation_failed',
    );
    await expectStatus(
      t.url,
      c.owner.token,
      'POST',
      path,
      { url: 'https://example.com/x', events: ['nope'] },
      400,
      'validation_failed',
    );
  });

  it('server-wide subscriptions (server admins) cover every public room, also rooms created later', async () => {
    const t = await startServer(fast);
    const c = await cast(t.url);
    const rx = await webhookReceiver();
    await expectStatus(
      t.url,
      c.owner.token,
      'POST',
      '/api/v1/webhooks/subscriptions',
      { url: rx.url, events: ['message'] },
      403,
      'forbidden',
    );
    const { subscription } = await subscribe(t.url, c.admin.token, '/api/v1/webhooks/subscriptions', rx.url, [
      'message',
    ]);
    rx.setSecret(subscription.secret);
    expect(subscription.roomId).toBeNull();
    const later = await c.alice.api.createRoom('later');
    const priv = await c.alice.api.createRoom('secret', 'private');
    await call(t.url, c.alice.token, 'POST', `/api/v1/rooms/${priv.id}/messages`, {
      body: 'private',
      clientMsgId: 'p',
    });
    await call(t.url, c.alice.token, 'POST', `/api/v1/rooms/${c.roomId}/messages`, {
      body: 'in general',
      clientMsgId: 'g',
    });
    await call(t.url, c.alice.token, 'POST', `/api/v1/rooms/${later.id}/messages`, {
      body: 'in later',
      clientMsgId: 'l',
    });
    await waitFor(() => rx.got.length >= 2, { timeoutMs: 10_000, what: 'two deliveries' });
    expect(rx.got.map((r) => r.event.body).sort()).toEqual(['in general', 'in later']);
    expect(rx.got.every((r) => r.verified)).toBe(true);
    // Deleting it stops deliveries (the marker goes to a second subscription created after).
    await expectStatus(
      t.url,
      c.admin.token,
      'DELETE',
      `/api/v1/webhooks/subscriptions/${subscription.id}`,
      undefined,
      204,
    );
    const rx2 = await webhookReceiver();
    const second = await subscribe(t.url, c.admin.token, '/api/v1/webhooks/subscriptions', rx2.url, ['message']);
    rx2.setSecret(second.subscription.secret);
    await call(t.url, c.alice.token, 'POST', `/api/v1/rooms/${c.roomId}/messages`, {
      body: 'after delete',
      clientMsgId: 'ad',
    });
    await waitFor(() => rx2.got.length >= 1, { timeoutMs: 10_000, what: 'the marker' });
    expect(rx.got).toHaveLength(2);
  });

  it('deliveries survive a server restart: each event once by idempotency key, in order', async () => {
    const t = await startServer({ ...fast, webhookRetryDelaysSeconds: '0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1' });
    const c = await cast(t.url);
    // The receiver is slow, so the restart lands with deliveries still queued.
    const rx = await webhookReceiver({ delayMs: () => 30 });
    const { subscription } = await subscribe(t.url, c.owner.token, `/api/v1/rooms/${c.roomId}/subscriptions`, rx.url, [
      'message',
    ]);
    rx.setSecret(subscription.secret);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await call<{ message: RoomEvent }>(t.url, c.alice.token, 'POST', `/api/v1/rooms/${c.roomId}/messages`, {
        body: `r${i}`,
        clientMsgId: `r${i}`,
      });
      ids.push(r.body.message.id);
    }
    await waitFor(() => rx.got.length >= 3, { timeoutMs: 10_000, what: 'some deliveries before the restart' });
    await t.restart();
    for (let i = 20; i < 25; i++) {
      const r = await call<{ message: RoomEvent }>(t.url, c.alice.token, 'POST', `/api/v1/rooms/${c.roomId}/messages`, {
        body: `r${i}`,
        clientMsgId: `r${i}`,
      });
      ids.push(r.body.message.id);
    }
    await waitFor(() => rx.unique().length >= 25, { timeoutMs: 20_000, what: 'every delivery' });
    expect(rx.unique().map((r) => r.key)).toEqual(ids);
    expect(rx.got.every((r) => r.verified)).toBe(true);
  });
});

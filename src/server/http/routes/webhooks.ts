import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ChatError } from '../../../core/chat-error.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../../core/webhooks/signature.js';
import {
  CreateIncomingWebhookRequest,
  CreateSubscriptionRequest,
  DeliveriesQuery,
  HookTokenParams,
  IdempotencyKey,
  IncomingWebhookPost,
  RoomIdParams,
  RoomSubscriptionParams,
  RoomWebhookParams,
  SubscriptionIdParams,
} from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { parse } from '../validate.js';

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Incoming webhooks (room admins), the secret URL they post to, and outgoing subscriptions (issue 16). */
export function webhookRoutes(app: FastifyInstance, s: Services): void {
  app.post('/api/v1/rooms/:roomId/webhooks', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    const { webhook, token } = await s.webhooks.createIncoming(
      auth,
      roomId,
      parse(CreateIncomingWebhookRequest, req.body),
    );
    // The URL is the secret: shown in this answer only (the server keeps a hash of its token).
    const url = `${req.protocol}://${req.host}/api/v1/hooks/${token}`;
    return reply.status(201).send({ webhook: { ...webhook, url } });
  });

  app.get('/api/v1/rooms/:roomId/webhooks', async (req) => {
    const auth = await requireAuth(s, req);
    return { webhooks: await s.webhooks.listIncoming(auth, parse(RoomIdParams, req.params).roomId) };
  });

  app.delete('/api/v1/rooms/:roomId/webhooks/:webhookId', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, webhookId } = parse(RoomWebhookParams, req.params);
    await s.webhooks.revokeIncoming(auth, roomId, webhookId);
    return reply.status(204).send();
  });

  // The secret URL: no session, the token is the credential. Its own scope keeps the raw body for the signature.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/api/v1/hooks/:token', async (req, reply) => {
      const { token } = parse(HookTokenParams, req.params);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new ChatError('bad_json');
      }
      const input = parse(IncomingWebhookPost, json);
      const key = header(req, 'idempotency-key');
      const { event, duplicate } = await s.webhooks.post(token, raw, input, {
        timestamp: header(req, TIMESTAMP_HEADER),
        signature: header(req, SIGNATURE_HEADER),
        idempotencyKey: key === undefined ? undefined : parse(IdempotencyKey, key),
      });
      return reply.status(duplicate ? 200 : 201).send({ message: event, duplicate });
    });
  });

  // ---- outgoing: per room (room admins) ----
  app.post('/api/v1/rooms/:roomId/subscriptions', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId } = parse(RoomIdParams, req.params);
    const subscription = await s.webhooks.subscribe(auth, roomId, parse(CreateSubscriptionRequest, req.body));
    return reply.status(201).send({ subscription });
  });
  app.get('/api/v1/rooms/:roomId/subscriptions', async (req) => {
    const auth = await requireAuth(s, req);
    return { subscriptions: await s.webhooks.listSubscriptions(auth, parse(RoomIdParams, req.params).roomId) };
  });
  app.delete('/api/v1/rooms/:roomId/subscriptions/:id', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { roomId, id: subscriptionId } = parse(RoomSubscriptionParams, req.params);
    await s.webhooks.unsubscribe(auth, roomId, subscriptionId);
    return reply.status(204).send();
  });
  app.get('/api/v1/rooms/:roomId/subscriptions/:id/deliveries', async (req) => {
    const auth = await requireAuth(s, req);
    const { roomId, id: subscriptionId } = parse(RoomSubscriptionParams, req.params);
    const q = parse(DeliveriesQuery, req.query);
    return {
      deliveries: await s.webhooks.deliveries(auth, roomId, subscriptionId, { limit: q.limit ?? 50, before: q.before }),
    };
  });

  // ---- outgoing: server-wide (server admins; every public room) ----
  app.post('/api/v1/webhooks/subscriptions', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const subscription = await s.webhooks.subscribe(auth, null, parse(CreateSubscriptionRequest, req.body));
    return reply.status(201).send({ subscription });
  });
  app.get('/api/v1/webhooks/subscriptions', async (req) => {
    const auth = await requireAuth(s, req);
    return { subscriptions: await s.webhooks.listSubscriptions(auth, null) };
  });
  app.delete('/api/v1/webhooks/subscriptions/:id', async (req, reply) => {
    const auth = await requireAuth(s, req);
    await s.webhooks.unsubscribe(auth, null, parse(SubscriptionIdParams, req.params).id);
    return reply.status(204).send();
  });
  app.get('/api/v1/webhooks/subscriptions/:id/deliveries', async (req) => {
    const auth = await requireAuth(s, req);
    const { id: subscriptionId } = parse(SubscriptionIdParams, req.params);
    const q = parse(DeliveriesQuery, req.query);
    return {
      deliveries: await s.webhooks.deliveries(auth, null, subscriptionId, { limit: q.limit ?? 50, before: q.before }),
    };
  });
}

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ChatError } from '../../core/chat-error.js';

/** The one place where exceptions become HTTP responses: `{error: {code, message, retryable, ...}}`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ChatError, request, reply) => {
    let chat: ChatError;
    if (err instanceof ChatError) chat = err;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') chat = new ChatError('payload_too_large');
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') chat = new ChatError('unsupported_media_type');
    else if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      chat = new ChatError('bad_json');
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      chat = new ChatError('validation_failed', { message: err.message });
    } else {
      request.log.error({ err }, 'unhandled error');
      chat = new ChatError('internal');
    }
    if (chat.retryAfterMs !== undefined) void reply.header('retry-after', Math.ceil(chat.retryAfterMs / 1000));
    void reply.status(chat.status).send({ error: chat.toBody() });
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.status(404).send({ error: new ChatError('not_found', { message: 'No such route.' }).toBody() });
  });
}

/**
 * Errors fastify's router raises before any route, hook or error handler runs: a malformed percent-encoding in the
 * path, a path parameter over the router's length cap. Passed as the `frameworkErrors` option of Fastify(), so
 * they get the catalog's `{error}` shape (fastify's own body has a code that is not ours, and status 414).
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const chat =
    err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ChatError('validation_failed', { message: 'The URL path is malformed or a path parameter is too long.' })
      : new ChatError('internal');
  void reply.status(chat.status).send({ error: chat.toBody() });
}

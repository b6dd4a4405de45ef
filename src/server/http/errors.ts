import type { FastifyError, FastifyInstance } from 'fastify';
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

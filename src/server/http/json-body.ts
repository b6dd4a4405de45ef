import type { FastifyInstance } from 'fastify';
import { ChatError } from '../../core/chat-error.js';

/** JSON bodies: an empty body is allowed (POST /join has none); anything unparsable is `bad_json`. */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ChatError('bad_json'), undefined);
    }
  });
}

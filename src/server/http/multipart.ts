import { ChatError } from '../../core/chat-error.js';

/**
 * What a multipart parse error becomes: the plugin's own 4xx errors (limits, content type) and ours pass through;
 * the parser's plain errors ("Unexpected end of form", "Malformed part header") mean the body is malformed.
 */
export function malformedForm(err: unknown): unknown {
  if (err instanceof ChatError) return err;
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return err;
  const detail = err instanceof Error ? err.message.slice(0, 100) : 'unreadable';
  return new ChatError('validation_failed', { message: `The multipart body is malformed: ${detail}.` });
}

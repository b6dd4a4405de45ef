import { ApiError } from '../../../src/client/api.js';
import { SendError } from '../../../src/client/chat-client.js';
import { t, translate, type MsgKey } from '../i18n/index.js';

/**
 * A user-facing sentence for an API or send error, in the current language when we have one. `scope`: a view
 * loaded on demand that words its own errors (`<scope>.errors.<code>`, e.g. `webhooks.errors.too_many_webhooks`),
 * tried first; the server's own sentence, which says which rule refused, fills its `{detail}`.
 */
export function errorText(err: unknown, scope?: string): string {
  if (err instanceof ApiError || err instanceof SendError) {
    if (scope) {
      const scoped = `${scope}.errors.${err.code}`;
      const text = translate(scoped, { detail: err.message });
      if (text !== scoped) return text;
    }
    const key = `errors.${err.code}` as MsgKey;
    const text = t(key);
    return text === key ? err.message : text;
  }
  return t('errors.internal');
}

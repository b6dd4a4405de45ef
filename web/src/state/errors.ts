import { ApiError } from '../../../src/client/api.js';
import { SendError } from '../../../src/client/chat-client.js';
import { t, type MsgKey } from '../i18n/index.js';

/** A user-facing sentence for an API or send error, in the current language when we have one. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError || err instanceof SendError) {
    const key = `errors.${err.code}` as MsgKey;
    const text = t(key);
    return text === key ? err.message : text;
  }
  return t('errors.internal');
}

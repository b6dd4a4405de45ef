import type { WebhookSender } from '../../core/webhooks/delivery-worker.js';
import type { TargetCheck } from '../../core/webhooks/webhook-service.js';
import { checkUrl, FetchRefused, safeFetch, type SafeFetchOptions } from '../previews/safe-fetch.js';

/**
 * Outgoing webhook deliveries over the link previews' SSRF guard (src/server/previews/safe-fetch.ts): http(s) only, no
 * credentials in the URL, every resolved address public (unless WEBHOOK_ALLOW_PRIVATE_TARGETS), the socket pinned to
 * the checked address, no redirects followed (a 3xx is a failed attempt). Any port: receivers often listen on one of
 * their own, and a public address on any port is no way into our network.
 */
export interface WebhookHttpOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** DNS resolution; tests inject a stub. */
  resolve?: SafeFetchOptions['resolve'];
}

/** The receiver's answer is read (to finish the exchange) up to this many bytes and otherwise ignored. */
const ANSWER_MAX_BYTES = 65536;

function options(o: WebhookHttpOptions): SafeFetchOptions {
  return {
    timeoutMs: o.timeoutMs,
    maxBytes: ANSWER_MAX_BYTES,
    maxRedirects: 0,
    ports: 'any',
    allow: new Set(),
    types: [],
    overflow: 'truncate',
    allowPrivate: o.allowPrivate,
    ...(o.resolve ? { resolve: o.resolve } : {}),
  };
}

export function createWebhookSender(o: WebhookHttpOptions): WebhookSender {
  const base = options(o);
  return {
    async post(url, body, headers) {
      try {
        const answer = await safeFetch(url, { ...base, post: { body, headers } });
        return { status: answer.status };
      } catch (err) {
        // An answer with a status is an answer: its status goes to the log (safeFetch refuses non-2xx).
        if (err instanceof FetchRefused && err.status !== null) return { status: err.status };
        if (err instanceof FetchRefused) throw new Error(err.reason, { cause: err });
        throw err;
      }
    },
  };
}

export function createTargetCheck(o: WebhookHttpOptions): TargetCheck {
  const base = options(o);
  return (url) => checkUrl(url, base);
}

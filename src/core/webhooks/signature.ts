import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The webhook signature, one scheme both ways (incoming posts we verify, outgoing deliveries we sign):
 * `X-Relaychat-Timestamp: <unix seconds>` and `X-Relaychat-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." +
 * raw body)>`. The timestamp inside the MAC makes a captured request useless after the allowed age; remembering
 * signatures until then (incoming) makes it useless before.
 */
export const TIMESTAMP_HEADER = 'x-relaychat-timestamp';
export const SIGNATURE_HEADER = 'x-relaychat-signature';

export function signPayload(secret: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `v1=${mac}`;
}

export type SignatureCheck = 'ok' | 'invalid' | 'stale';

/**
 * Checks a signed request: `invalid` for a missing or malformed header or a MAC that does not match, `stale` for a
 * matching one whose timestamp is more than `maxAgeMs` from `now` (either way: a clock ahead is as suspect as behind).
 */
export function verifySignature(
  secret: string,
  body: Buffer,
  timestamp: string | undefined,
  signature: string | undefined,
  now: number,
  maxAgeMs: number,
): SignatureCheck {
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return 'invalid';
  const expected = Buffer.from(signPayload(secret, Number(timestamp), body));
  // A header may list several signatures (a secret being rotated): any match counts.
  const given = signature.split(',').map((s) => Buffer.from(s.trim()));
  if (!given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) return 'invalid';
  return Math.abs(now - Number(timestamp) * 1000) > maxAgeMs ? 'stale' : 'ok';
}

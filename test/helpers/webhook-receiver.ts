import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

/** One delivery as a receiver saw it. */
export interface Received {
  key: string;
  event: { id: string; roomId: string; seq: number; type: string; body: string | null };
  attempt: number;
  verified: boolean;
  at: number;
}

/**
 * A local outgoing-webhook receiver on loopback: records every POST, checks its signature with `secret()` (set once
 * the subscription's secret is known), and answers with `status()` (default 200). `unique()` is the deliveries
 * deduplicated by idempotency key, first arrival order.
 */
export async function webhookReceiver(
  opts: { status?: (r: Received, n: number) => number; delayMs?: (r: Received) => number } = {},
) {
  const got: Received[] = [];
  let secret = '';
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const ts = String(req.headers['x-relaychat-timestamp'] ?? '');
      const sig = Buffer.from(String(req.headers['x-relaychat-signature'] ?? ''));
      const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${ts}.`).update(raw).digest('hex')}`);
      const parsed = JSON.parse(raw.toString()) as { event: Received['event'] };
      const r: Received = {
        key: String(req.headers['idempotency-key']),
        event: parsed.event,
        attempt: Number(req.headers['x-relaychat-delivery-attempt']),
        verified: sig.length === expected.length && timingSafeEqual(sig, expected),
        at: Date.now(),
      };
      got.push(r);
      const status = opts.status?.(r, got.length) ?? 200;
      const delay = opts.delayMs?.(r) ?? 0;
      setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain' }).end('ok'), delay);
    });
  };
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    setSecret(s: string) {
      secret = s;
    },
    unique(): Received[] {
      const seen = new Set<string>();
      return got.filter((r) => !seen.has(r.key) && seen.add(r.key));
    },
  };
}

/**
 * ============================================================================================================
 *  BASELINE — NOT relaychat. The naive `ws` broadcast server from the design documents, used by `npm run bench`
 *  only as a yardstick: relaychat's figures are reported as ratios to this one under the identical workload.
 * ============================================================================================================
 *
 * It is the `ws` README broadcast loop ("on each message, loop over all clients and send"), with the smallest
 * change that gives it the bench's workload shape (clients spread over rooms): a one-message join, so a
 * message is broadcast to the clients of the sender's room instead of to every client on the server.
 *
 * Exactly what it does:
 * - Listens on HOST:PORT (env; defaults 127.0.0.1:0) with one `http` server. Any plain HTTP request gets
 *   `200 ok` (the bench polls `/healthz` to know it is up).
 * - Accepts a WebSocket upgrade on any path (`ws` defaults; permessage-deflate off, as in relaychat).
 * - The FIRST message on a connection must be JSON `{"join":"<room>"}`. The connection is added to that room's
 *   `Set` and gets `{"type":"joined","room":"<room>"}` back. A first message that is not a valid join closes
 *   the connection with 1008. This is the only message it ever parses.
 * - Every LATER message is sent, unchanged (same bytes, as a text frame), to every connection in the sender's
 *   room whose `readyState` is OPEN — the sender included — by looping over the room's `Set` and calling
 *   `ws.send`. Nothing is parsed, validated, stored, numbered, acknowledged, batched or rate limited; there is
 *   no authentication, no backpressure check (a slow reader's buffer grows without bound) and no resume.
 * - On close, the connection is removed from its room.
 *
 * The bench counts the baseline's deliveries by the message id in the body (it has no sequence numbers), and
 * reports "acked" and ack latency as not applicable.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const rooms = new Map<string, Set<WebSocket>>();

const http = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
});
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });

wss.on('connection', (ws) => {
  let room: Set<WebSocket> | undefined;
  ws.on('message', (data, isBinary) => {
    if (!room) {
      let name: unknown;
      try {
        name = (JSON.parse(String(data)) as { join?: unknown }).join;
      } catch {
        name = undefined;
      }
      if (typeof name !== 'string') return ws.close(1008, 'first message must be {"join":"<room>"}');
      room = rooms.get(name);
      if (!room) rooms.set(name, (room = new Set()));
      room.add(ws);
      ws.send(JSON.stringify({ type: 'joined', room: name }));
      return;
    }
    // The naive broadcast: every client in the room, one send each.
    for (const client of room) {
      if (client.readyState === client.OPEN) client.send(data, { binary: isBinary });
    }
  });
  ws.on('close', () => room?.delete(ws));
  ws.on('error', () => {});
});

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
http.listen(port, host, () => {
  const addr = http.address();
  process.stdout.write(`baseline listening on ${typeof addr === 'object' && addr ? addr.port : addr}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local stand-in for an OpenAI-compatible chat-completions endpoint, on loopback, for the assistant's tests:
 * `POST /v1/chat/completions` answered the way the real APIs answer `stream: true` (server-sent events of
 * `chat.completion.chunk` objects, then `data: [DONE]`), or failing on purpose:
 * - `stream`: the chunks, `chunkDelayMs` apart; with `holdAfter` it stops after that many chunks until `release()`;
 * - `slow`: headers and one chunk, then nothing (the assistant's timeout must end it);
 * - `fail`: HTTP 500 with an error body;
 * - `malformed`: HTTP 200 `text/event-stream` whose event is not JSON.
 * Every request's body and authorization header are kept for assertions.
 */
export type FakeMode = 'stream' | 'slow' | 'fail' | 'malformed';

export interface FakeOpenAi {
  /** Base URL for ASSISTANT_URL (`http://127.0.0.1:port/v1`). */
  url: string;
  requests: { authorization: string | undefined; body: Record<string, unknown> }[];
  mode: FakeMode;
  /** Lets a held `stream` answer go on. */
  release(): void;
  close(): Promise<void>;
}

export interface FakeOptions {
  mode?: FakeMode;
  chunks?: string[];
  chunkDelayMs?: number;
  holdAfter?: number;
}

const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'fake',
    choices: [{ index: 0, delta: finish ? {} : { content }, finish_reason: finish }],
  })}\n\n`;

export async function startFakeOpenAi(opts: FakeOptions = {}): Promise<FakeOpenAi> {
  const sockets = new Set<Socket>();
  let released: () => void = () => {};
  let gate = new Promise<void>((r) => (released = r));
  const fake: FakeOpenAi = {
    url: '',
    requests: [],
    mode: opts.mode ?? 'stream',
    release: () => released(),
    close: async () => {
      released();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const chunks = opts.chunks ?? ['Hello', ', this', ' is the', ' fake model.'];
  const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const part of req) raw += String(part);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    fake.requests.push({ authorization: req.headers.authorization, body: JSON.parse(raw) as Record<string, unknown> });
    switch (fake.mode) {
      case 'fail':
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":{"message":"the fake model is down","type":"server_error"}}');
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"choices": [ this is not json\n\n');
        return;
      case 'slow':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk('Thinking'));
        return; // never ends: the socket is destroyed by close()
      case 'stream': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (let i = 0; i < chunks.length; i++) {
          if (opts.holdAfter !== undefined && i === opts.holdAfter) await gate;
          if (res.destroyed) return;
          res.write(chunk(chunks[i]!));
          await delay(opts.chunkDelayMs ?? 20);
        }
        res.write(chunk('', 'stop'));
        res.end('data: [DONE]\n\n');
        gate = new Promise<void>((r) => (released = r));
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { call, cast, expectStatus, history } from '../helpers/moderation-kit.js';
import { waitFor } from '../helpers/wait.js';

/** The Webhooks section of docs/integrations.md runs as written: the signed curl post and the Node receiver. */
const doc = readFileSync('docs/integrations.md', 'utf8');
const section = doc.slice(doc.indexOf('## Webhooks'), doc.indexOf('## AI assistant'));
const blocks = (lang: string) =>
  [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('docs/integrations.md webhooks examples', () => {
  it('the signed curl example posts; the receiver verifies deliveries', async () => {
    const t = await startServer({ webhookAllowPrivateTargets: true, webhookPollMs: 50 });
    const c = await cast(t.url);
    const { webhook } = (await expectStatus(
      t.url,
      c.owner.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/webhooks`,
      {
        name: 'CI',
        signed: true,
      },
      201,
    )) as { webhook: { url: string; signingSecret: string } };
    const signedCurl = blocks('sh').find((b) => b.includes('x-relaychat-signature'))!;
    await promisify(execFile)('bash', ['-euc', signedCurl], {
      env: { ...process.env, HOOK_URL: webhook.url, SECRET: webhook.signingSecret },
    });
    const posted = await history(t.url, c.alice.token, c.roomId);
    expect(posted.at(-1)).toMatchObject({ body: 'Deployed', data: { integration: { name: 'CI' } } });

    const dir = mkdtempSync(join(tmpdir(), 'relaychat-receiver-'));
    const file = join(dir, 'receiver.mjs');
    writeFileSync(file, blocks('js')[0]!);
    const port = await freePort();
    const { subscription } = (await expectStatus(
      t.url,
      c.owner.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/subscriptions`,
      {
        url: `http://127.0.0.1:${port}/`,
        events: ['message'],
      },
      201,
    )) as { subscription: { secret: string } };
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, WEBHOOK_SECRET: subscription.secret, PORT: String(port) },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    onTestFinished(() => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })).status === 401,
      {
        timeoutMs: 10_000,
        what: 'the receiver to listen (and refuse an unsigned POST)',
      },
    );
    const sent = await call<{ message: { seq: number } }>(
      t.url,
      c.alice.token,
      'POST',
      `/api/v1/rooms/${c.roomId}/messages`,
      {
        body: 'hello receiver',
        clientMsgId: 'doc1',
      },
    );
    await waitFor(() => out.includes(`message ${sent.body.message.seq} hello receiver`), {
      timeoutMs: 10_000,
      what: 'the receiver to print the verified delivery',
    });
  });
});

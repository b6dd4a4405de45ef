import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatApi } from '../../src/client/api.js';
import { ChatClient, type ChatClientOptions } from '../../src/client/chat-client.js';
import type { ChainBreak } from '../../src/client/chain-check.js';
import { until, useCluster } from './fixture.js';

/**
 * History integrity (issue 18) on a real cluster: writers on three nodes append to one room at once — messages
 * (group-committed per node), reactions and edits (single-event transactions) — so every kind of writer contends for
 * the room row on PostgreSQL. The stored chain must verify, and every client (each on its node, receiving the
 * other nodes' events over Redis) must see an unbroken chain.
 */
describe('cluster: the hash chain under concurrent writers on every node', () => {
  const cluster = useCluster();

  it('verifies after concurrent appends from three nodes; no client sees a break', async () => {
    const c = cluster();
    const ownerApi = new ChatApi(c.nodes[0]!.url);
    const { token: ownerToken } = await ownerApi.register(`chainowner${process.pid}`, 'correct horse battery');
    const owner = new ChatApi(c.nodes[0]!.url, ownerToken);
    const room = await owner.createRoom(`chain ${process.pid}`);

    const writers: { client: ChatClient; api: ChatApi; name: string }[] = [];
    const breaks: ChainBreak[] = [];
    for (const node of c.nodes) {
      for (let w = 0; w < 2; w++) {
        const name = `chain${node.name}x${w}x${process.pid}`;
        const { token } = await new ChatApi(node.url).register(name, 'correct horse battery');
        const api = new ChatApi(node.url, token);
        await api.join(room.id);
        const client = new ChatClient({
          url: node.url,
          token,
          WebSocket: WebSocket as unknown as ChatClientOptions['WebSocket'],
        });
        client.on('chain.broken', (b) => breaks.push(b));
        await client.connect();
        writers.push({ client, api, name });
      }
    }

    const perWriter = 40;
    await Promise.all(
      writers.map(async ({ client, api, name }) => {
        const sends = Array.from({ length: perWriter }, (_, k) => client.send(room.id, `${name} ${k}`, `${name}-${k}`));
        // While its messages are group-committed, the writer reacts to and edits its own over HTTP.
        for (let k = 0; k < perWriter; k += 4) {
          const ack = await sends[k]!;
          await api.react(room.id, ack.seq, '👍');
          if (k % 8 === 0) await api.editMessage(room.id, ack.seq, `${name} ${k} (edited)`);
        }
        await Promise.all(sends);
      }),
    );
    const { lastSeq } = await owner.room(room.id);
    await until(
      () => writers.every(({ client }) => client.positions[room.id] === lastSeq),
      30_000,
      'every client to receive the whole room',
    );
    await Promise.all(writers.map(({ client }) => client.historyChecked()));
    for (const { client } of writers) client.close();

    expect(breaks).toEqual([]);
    const report = await owner.verifyRoom(room.id);
    expect(report.problems).toEqual([]);
    // room.created, the owner's join, 6 joins, 6 × 40 messages, 6 × 10 reactions, 6 × 5 edits.
    expect(report).toMatchObject({ ok: true, lastSeq, checked: lastSeq, chainFrom: 1 });
    expect(lastSeq).toBe(2 + 6 + 6 * perWriter + 6 * 10 + 6 * 5);
  }, 180_000);
});

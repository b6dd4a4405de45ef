import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { ChatApi } from '../../src/client/api.js';
import { ChatClient, type ChatClientOptions } from '../../src/client/chat-client.js';
import { WebSocket } from 'ws';
import { readAll, report, Traffic, until, useCluster } from './fixture.js';

describe('cluster: two nodes write to one room at full speed', () => {
  const cluster = useCluster();

  it('no duplicate and no missing sequence number; every member sees the one order', async () => {
    const c = cluster();
    // Readers through the load balancer; writers pinned to node1 and node2.
    const traffic = new Traffic(c.url);
    await traffic.setup({ users: 6, rooms: 1, tag: 'race' });
    const roomId = traffic.rooms[0]!;
    const writersPerNode = 3;
    const perWriter = 200;
    const writers: ChatClient[] = [];
    const names: string[] = [];
    for (const node of c.nodes.slice(0, 2)) {
      for (let w = 0; w < writersPerNode; w++) {
        const api = new ChatApi(node.url);
        const name = `w${node.name}x${w}x${process.pid}`;
        const { token } = await api.register(name, 'correct horse battery');
        await new ChatApi(node.url, token).join(roomId);
        const client = new ChatClient({
          url: node.url,
          token,
          WebSocket: WebSocket as unknown as ChatClientOptions['WebSocket'],
        });
        await client.connect();
        writers.push(client);
        names.push(name);
      }
    }
    const started = Date.now();
    // Every writer fires all its sends at once (pipelined on its socket): both nodes contend for the room row.
    const acks = await Promise.all(
      writers.flatMap((client, w) =>
        Array.from({ length: perWriter }, (_, k) => {
          const clientMsgId = `${names[w]}-${k}`;
          traffic.sent++;
          return client.send(roomId, `race ${clientMsgId}`, clientMsgId).then((ack) => {
            traffic.acks.set(clientMsgId, { roomId, seq: ack.seq, sender: names[w]!, at: Date.now() });
            return ack;
          });
        }),
      ),
    );
    const elapsedMs = Date.now() - started;
    for (const client of writers) client.close();
    await traffic.drain();

    // Acks: distinct seqs; per writer, increasing in send order.
    const seqs = acks.map((a) => a.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    for (let w = 0; w < writers.length; w++) {
      const mine = acks.slice(w * perWriter, (w + 1) * perWriter).map((a) => a.seq);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    // The database itself: seqs 1..last_seq, each once.
    const db = new pg.Client({ connectionString: c.databaseUrl });
    await db.connect();
    const {
      rows: [row],
    } = await db.query<{ n: string; distinct_seqs: string; min: string; max: string; last_seq: string }>(
      `SELECT count(*) AS n, count(DISTINCT seq) AS distinct_seqs, min(seq) AS min, max(seq) AS max,
              (SELECT last_seq FROM rooms WHERE id = $1) AS last_seq
       FROM events WHERE room_id = $1`,
      [roomId],
    );
    await db.end();
    const api = new ChatApi(c.url, traffic.members[0]!.token);
    const history = await readAll(api, roomId);
    const figures = await traffic.verify(api);
    traffic.close();
    report('2 nodes × 3 writers × 200 messages into one room, all at once', figures, {
      'write time (s)': (elapsedMs / 1000).toFixed(2),
      'throughput (messages/s)': Math.round((writers.length * perWriter) / (elapsedMs / 1000)),
      'events in the room (incl. joins)': history.length,
      'database: rows, distinct seqs, min, max, rooms.last_seq': Object.values(row!).join(', '),
    });
    expect(Number(row!.n)).toBe(Number(row!.distinct_seqs));
    expect(Number(row!.min)).toBe(1);
    expect(Number(row!.max)).toBe(Number(row!.n));
    expect(Number(row!.last_seq)).toBe(Number(row!.n));
    expect(figures.acked).toBe(writers.length * perWriter);
    await until(() => true, 1, 'noop');
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { topics, type BusMessage } from '../src/core/bus.js';
import { recordEvents, registerUser, startServer, connect, waitFor } from './helpers/harness.js';

describe('hub resync after a lossy bus', () => {
  it('a fan-out the bus dropped is delivered by resyncAll without waiting for the next event', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    let seen!: ReturnType<typeof recordEvents>;
    await connect(srv.url, bob.token, {}, (c) => (seen = recordEvents(c)));
    const { bus } = srv.server.services.ctx;
    // Make the bus lose room events, as Redis pub/sub may during a reconnect.
    const publish = bus.publish.bind(bus);
    bus.publish = (topic: string, m: BusMessage) =>
      topic === topics.room('lobby') && m.kind === 'event' ? Promise.resolve() : publish(topic, m);
    await alice.api.sendMessage('lobby', 'lost in transit', 'lost-1');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.bodies('lobby')).toEqual([]);
    bus.publish = publish;
    await srv.server.hub.resyncAll();
    await waitFor(() => seen.bodies('lobby').length === 1);
    expect(seen.bodies('lobby')).toEqual(['lost in transit']);
  });
});

import { describe, expect, it } from 'vitest';
import { topics, type BusMessage } from '../../src/core/bus.js';
import { recordEvents, registerUser, startServer, connect, waitFor } from '../helpers/harness.js';

describe('hub resync after a lossy bus', () => {
  it('a fan-out the bus dropped is delivered by resyncAll without waiting for the next event', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    // A second room carries the marker: Bob sees it only after anything published before it.
    const other = await alice.api.createRoom('marker room');
    await bob.api.join(other.id);
    let seen!: ReturnType<typeof recordEvents>;
    await connect(srv.url, bob.token, {}, (c) => (seen = recordEvents(c)));
    const { bus } = srv.server.ports;
    // Make the bus lose room events, as Redis pub/sub may during a reconnect.
    const publish = bus.publish.bind(bus);
    bus.publish = (topic: string, m: BusMessage) =>
      topic === topics.room('lobby') && m.kind === 'event' ? Promise.resolve() : publish(topic, m);
    await alice.api.sendMessage('lobby', 'lost in transit', 'lost-1');
    await alice.api.sendMessage(other.id, 'marker', 'marker-1');
    await waitFor(() => seen.bodies(other.id).length === 1);
    expect(seen.bodies('lobby'), 'the lost event is not delivered by itself').toEqual([]);
    bus.publish = publish;
    await srv.server.hub.resyncAll();
    await waitFor(() => seen.bodies('lobby').length === 1);
    expect(seen.bodies('lobby')).toEqual(['lost in transit']);
  });
});

describe('hub membership resync after a lossy bus', () => {
  it('a room.added the bus dropped is applied by resyncMemberships, with the room’s events from the join on', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const added: string[] = [];
    let seen!: ReturnType<typeof recordEvents>;
    await connect(srv.url, bob.token, {}, (c) => {
      seen = recordEvents(c);
      c.on('room.added', (f) => added.push(f.room.id));
    });
    const room = await alice.api.createRoom('added-while-lossy');
    await alice.api.sendMessage(room.id, 'before bob joined', 'before-1');
    const { bus } = srv.server.ports;
    // Lose notices on bob's user topic, as Redis pub/sub does while it is down.
    const publish = bus.publish.bind(bus);
    bus.publish = (topic: string, m: BusMessage) =>
      topic === topics.user(bob.user.id) ? Promise.resolve() : publish(topic, m);
    await bob.api.join(room.id);
    await alice.api.sendMessage(room.id, 'after bob joined', 'after-1');
    // A positive marker published after the join: once bob has it, a room.added would have arrived too.
    await alice.api.sendMessage('lobby', 'marker', 'marker-1');
    await waitFor(() => seen.bodies('lobby').includes('marker'));
    expect(added).toEqual([]);
    bus.publish = publish;
    await srv.server.hub.resyncMemberships();
    await waitFor(() => seen.bodies(room.id).length === 1);
    expect(added).toEqual([room.id]);
    // From bob's own join on: his member.joined, then the message after it; nothing from before.
    const events = seen.byRoom.get(room.id)!;
    expect(events.map((e) => e.type)).toEqual(['member.joined', 'message']);
    expect(seen.bodies(room.id)).toEqual(['after bob joined']);
    // Run again: nothing is added twice.
    await srv.server.hub.resyncMemberships();
    await alice.api.sendMessage('lobby', 'marker 2', 'marker-2');
    await waitFor(() => seen.bodies('lobby').includes('marker 2'));
    expect(added).toEqual([room.id]);
    expect(seen.byRoom.get(room.id)!.length).toBe(2);
  });
});

describe('hub catch-up while the store restarts', () => {
  it('a catch-up read that fails is retried, the connection stays open, and the events arrive once the store answers', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const bob = await registerUser(srv.url);
    const closes: number[] = [];
    let seen!: ReturnType<typeof recordEvents>;
    await connect(srv.url, bob.token, {}, (c) => {
      seen = recordEvents(c);
      c.on('disconnect', (d) => closes.push(d.code));
    });
    const { bus, store } = srv.server.ports;
    // The live event is lost, so the resync has to read the store, which fails twice (a restart) before answering.
    const publish = bus.publish.bind(bus);
    bus.publish = (topic: string, m: BusMessage) =>
      topic === topics.room('lobby') && m.kind === 'event' ? Promise.resolve() : publish(topic, m);
    await alice.api.sendMessage('lobby', 'committed before the restart', 'restart-1');
    bus.publish = publish;
    const listEvents = store.listEvents.bind(store);
    let failures = 0;
    store.listEvents = (...args: Parameters<typeof store.listEvents>) =>
      failures++ < 2 ? Promise.reject(new Error('Storage unavailable: connect ECONNREFUSED')) : listEvents(...args);
    await srv.server.hub.resyncAll();
    await waitFor(() => seen.bodies('lobby').length === 1, 10_000);
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(seen.bodies('lobby')).toEqual(['committed before the restart']);
    expect(closes).toEqual([]);
  });
});

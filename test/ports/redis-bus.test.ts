import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusHandler, BusMessage } from '../../src/core/bus.js';
import { RedisBus, type RedisLog } from '../../src/storage/redis/redis-bus.js';
import { busContract } from './contract/bus-contract.js';
import { waitFor } from '../helpers/wait.js';
import { uniquePrefix, useRedisServer } from '../helpers/redis.js';

const redis = useRedisServer();

/** A bus connected to the test server whose `ping` resolves (both connections up). */
async function node(prefix: string, log?: RedisLog): Promise<RedisBus> {
  const bus = new RedisBus({ redis: redis.url, prefix, ...(log ? { log } : {}) });
  await waitFor(
    () =>
      bus.ping().then(
        () => true,
        () => false,
      ),
    { timeoutMs: 15_000, intervalMs: 20, what: 'the bus to connect' },
  );
  return bus;
}

// Two nodes: two RedisBus instances with their own connections and the same prefix.
busContract('RedisBus', async () => {
  const prefix = uniquePrefix();
  const a = await node(prefix);
  const b = await node(prefix);
  return { a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) };
});

function recordingLog() {
  const entries: { level: 'warn' | 'error'; obj: object; msg: string }[] = [];
  const log: RedisLog = {
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
  };
  return { log, entries, has: (part: string) => entries.some((e) => e.msg.includes(part)) };
}

const typing = (username: string): BusMessage => ({ kind: 'typing', roomId: 'r_1', userId: 'u_1', username });
const nameOf = (m: BusMessage) => (m.kind === 'typing' ? m.username : m.kind);

function recorder() {
  const got: BusMessage[] = [];
  const handler: BusHandler = (m) => got.push(m);
  return { handler, got, names: () => got.map(nameOf), has: (n: string) => got.some((m) => nameOf(m) === n) };
}

/** Publishes numbered messages from `from` until `to` has one; proves the path works end to end. */
let probes = 0;
async function flows(from: RedisBus, topic: string, to: ReturnType<typeof recorder>, timeoutMs = 20_000) {
  await waitFor(
    async () => {
      const name = `probe-${++probes}`;
      await from.publish(topic, typing(name));
      return waitFor(() => to.has(name), { timeoutMs: 200 }).then(
        () => true,
        () => false,
      );
    },
    { timeoutMs, intervalMs: 0, what: `messages on ${topic} to flow` },
  );
}

describe('RedisBus specifics', () => {
  const open: RedisBus[] = [];
  const raw: Redis[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
    raw.splice(0).forEach((r) => r.disconnect());
  });
  const nodes = async (n: number, log?: RedisLog) => {
    const prefix = uniquePrefix();
    const made = await Promise.all(Array.from({ length: n }, () => node(prefix, log)));
    open.push(...made);
    return { prefix, made };
  };

  it('each node has its own random id', async () => {
    const {
      made: [a, b],
    } = await nodes(2);
    expect(a!.nodeId).toMatch(/^[0-9a-f]{16}$/);
    expect(a!.nodeId).not.toBe(b!.nodeId);
  });

  it('a subscriber gets its own node’s publish exactly once (local delivery, Redis echo dropped)', async () => {
    const {
      made: [a, b],
    } = await nodes(2);
    const topic = 'room:echo';
    const onA = recorder();
    const onB = recorder();
    a!.subscribe(topic, onA.handler);
    b!.subscribe(topic, onB.handler);
    await flows(a!, topic, onB);
    await flows(b!, topic, onA);
    onA.got.length = 0;
    onB.got.length = 0;

    const published = a!.publish(topic, typing('mine'));
    expect(onA.names()).toEqual(['mine']); // synchronously, before Redis was involved
    await published;
    // Redis ran a's PUBLISH before b's (a's promise resolved first), so a's subscriber connection gets the
    // echo before 'after': once 'after' is in, the echo has been seen and dropped.
    await waitFor(() => onB.has('mine'), { what: 'the remote copy' });
    await b!.publish(topic, typing('after'));
    await waitFor(() => onA.has('after'), { what: 'a later message' });
    expect(onA.names()).toEqual(['mine', 'after']);
    expect(onB.names()).toEqual(['mine', 'after']);
  });

  it('drops malformed payloads with a log line, keeps running, and delivers later valid messages', async () => {
    const rec = recordingLog();
    const {
      prefix,
      made: [a, b],
    } = await nodes(2, rec.log);
    const topic = 'room:malformed';
    const onB = recorder();
    b!.subscribe(topic, onB.handler);
    await flows(a!, topic, onB);
    onB.got.length = 0;

    const publisher = new Redis(redis.url);
    raw.push(publisher);
    const channel = `${prefix}bus:${topic}`;
    const junk = [
      'not json at all {',
      '42',
      'null',
      '"a string"',
      JSON.stringify({ o: 'other-node' }),
      JSON.stringify({ o: 7, m: typing('bad origin') }),
      JSON.stringify({ o: 'other-node', m: null }),
      JSON.stringify({ o: 'other-node', m: { kind: 'no-such-kind' } }),
      JSON.stringify({ m: typing('no origin') }),
    ];
    for (const payload of junk) await publisher.publish(channel, payload);
    // A well-formed envelope from a node that is neither a nor b is delivered.
    await publisher.publish(channel, JSON.stringify({ o: 'other-node', m: typing('foreign but valid') }));
    await a!.publish(topic, typing('valid'));

    await waitFor(() => onB.has('valid'), { what: 'the valid message after the junk' });
    expect(onB.names()).toEqual(['foreign but valid', 'valid']);
    await waitFor(() => rec.entries.filter((e) => e.msg.includes('malformed')).length === junk.length, {
      what: 'one log line per malformed payload',
    });
    await expect(b!.ping()).resolves.toBeUndefined();
  });

  it('reports an outage to a handler registered after it began, and only the registered handler hears events', async () => {
    const {
      made: [a],
    } = await nodes(1);
    const handler = (into: string[]) => ({
      lost: () => into.push('lost'),
      recovered: () => into.push('recovered'),
      subscribed: () => {},
    });
    const first: string[] = [];
    a!.setEventHandler(handler(first));
    await redis.stop();
    await waitFor(() => first.includes('lost'), { what: 'the outage reported' });
    // A handler registered now (as the server does once its hub exists) is told at once.
    const late: string[] = [];
    a!.setEventHandler(handler(late));
    expect(late).toEqual(['lost']);
    await redis.start();
    await waitFor(() => late.includes('recovered'), { timeoutMs: 20_000, what: 'recovered reported' });
    expect(late).toEqual(['lost', 'recovered']);
    expect(first).toEqual(['lost']); // replaced: it hears nothing more
  });

  it('survives a Redis restart: publish never throws, delivers locally, and traffic resumes by itself', async () => {
    const rec = recordingLog();
    const {
      made: [a, b],
    } = await nodes(2, rec.log);
    const topic = 'room:restart';
    const onA = recorder();
    const onB = recorder();
    a!.subscribe(topic, onA.handler);
    b!.subscribe(topic, onB.handler);
    await flows(a!, topic, onB);
    await flows(b!, topic, onA);

    await redis.stop();
    await waitFor(
      () =>
        a!.ping().then(
          () => false,
          () => true,
        ),
      { what: 'a to notice the outage' },
    );
    await expect(a!.ping()).rejects.toThrow();

    // While Redis is down: local delivery still happens, the promise resolves, the drop is logged.
    onA.got.length = 0;
    await expect(a!.publish(topic, typing('during outage'))).resolves.toBeUndefined();
    expect(onA.names()).toEqual(['during outage']);
    expect(rec.has('could not publish')).toBe(true);

    // A topic subscribed while Redis is down works once it is back.
    const later = 'room:subscribed-during-outage';
    const onLater = recorder();
    b!.subscribe(later, onLater.handler);

    await redis.start();
    for (const bus of [a!, b!]) {
      await waitFor(
        () =>
          bus.ping().then(
            () => true,
            () => false,
          ),
        {
          timeoutMs: 20_000,
          intervalMs: 50,
          what: 'the bus to reconnect',
        },
      );
    }
    // No subscribe call was repeated: ioredis restored the subscriptions.
    await flows(a!, topic, onB);
    await flows(b!, topic, onA);
    await flows(a!, later, onLater);
    await waitFor(() => rec.has('publishing to redis again'), { what: 'the recovery log line' });
  });

  it('heals what an outage lost: recovered after re-subscribing, the last dropped event republished, subscribed on confirmation', async () => {
    const prefix = uniquePrefix();
    const recovered: string[] = [];
    const subscribed: string[] = [];
    const make = async (name: string) => {
      const bus = new RedisBus({ redis: redis.url, prefix });
      bus.setEventHandler({
        lost: () => {},
        recovered: () => recovered.push(name),
        subscribed: (topic) => subscribed.push(`${name} ${topic.kind}:${topic.kind === 'room' ? topic.roomId : ''}`),
      });
      open.push(bus);
      await waitFor(
        () =>
          bus.ping().then(
            () => true,
            () => false,
          ),
        { timeoutMs: 15_000, intervalMs: 20, what: 'the bus to connect' },
      );
      return bus;
    };
    const a = await make('a');
    const b = await make('b');
    const topic = 'room:heal';
    const onB = recorder();
    b.subscribe(topic, onB.handler);
    await waitFor(() => subscribed.includes(`b ${topic}`), { what: 'subscribed after SUBSCRIBE is confirmed' });
    expect(recovered).toEqual([]); // the first connect is not a recovery

    const event = (seq: number): BusMessage => ({
      kind: 'event',
      event: {
        id: `e_${seq}`,
        roomId: 'heal',
        seq,
        type: 'message',
        senderId: 'u_1',
        body: `m${seq}`,
        clientMsgId: null,
        data: null,
        createdAt: new Date(0).toISOString(),
      },
    });
    // A Redis restart: both subscribers re-subscribe, then report it (the server then resyncs from the store,
    // which covers whatever was published while they were away).
    await redis.restart();
    await waitFor(() => recovered.includes('a') && recovered.includes('b'), {
      timeoutMs: 20_000,
      what: 'recovered on both nodes',
    });
    await flows(a, topic, onB);

    // Only a's publisher drops (b stays subscribed): what a publishes meanwhile is lost remotely, and the last
    // event of the topic is published again once a's publisher is back, so b's hub sees the gap.
    const admin = new Redis(redis.url);
    raw.push(admin);
    const clients = (await admin.client('LIST')) as string;
    const pubId = /id=(\d+) .*name=relaychat-bus-pub-/.exec(
      clients.split('\n').find((l) => l.includes(`name=relaychat-bus-pub-${a.nodeId}`)) ?? '',
    )?.[1];
    expect(pubId).toBeDefined();
    onB.got.length = 0;
    await admin.client('KILL', 'ID', pubId!);
    const pubOf = (bus: RedisBus) => (bus as unknown as { pub: Redis }).pub;
    await waitFor(() => pubOf(a).status !== 'ready', { timeoutMs: 5000, intervalMs: 0, what: 'a’s publisher to drop' });
    for (const seq of [7, 8, 9]) await a.publish(topic, event(seq));
    await waitFor(() => onB.got.some((m) => m.kind === 'event' && m.event.seq === 9), {
      timeoutMs: 20_000,
      what: 'the republished last event',
    });
    const seqs = onB.got.flatMap((m) => (m.kind === 'event' ? [m.event.seq] : []));
    expect(seqs).toEqual([9]);
  });

  it('subscribes in Redis only while a local handler needs the topic', async () => {
    const {
      prefix,
      made: [a],
    } = await nodes(1);
    const admin = new Redis(redis.url);
    raw.push(admin);
    const channel = `${prefix}bus:room:refcount`;
    const subscribers = async () => {
      const reply = (await admin.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
      return Number(reply[1]);
    };
    const h1: BusHandler = () => {};
    const h2: BusHandler = () => {};
    a!.subscribe('room:refcount', h1);
    a!.subscribe('room:refcount', h2);
    await waitFor(async () => (await subscribers()) === 1, { what: 'one SUBSCRIBE' });
    a!.unsubscribe('room:refcount', h1);
    await a!.ping(); // a round trip on the subscriber connection: an UNSUBSCRIBE sent would be done
    expect(await subscribers()).toBe(1);
    a!.unsubscribe('room:refcount', h2);
    await waitFor(async () => (await subscribers()) === 0, { what: 'the UNSUBSCRIBE' });
  });

  it('publish after close delivers nothing and does not throw; close twice is fine', async () => {
    const {
      made: [a],
    } = await nodes(1);
    const r = recorder();
    a!.subscribe('all', r.handler);
    await a!.close();
    await expect(a!.publish('all', typing('late'))).resolves.toBeUndefined();
    await expect(a!.close()).resolves.toBeUndefined();
    expect(r.got).toEqual([]);
    await expect(a!.ping()).rejects.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../src/core/bus.js';
import { InProcessBus } from '../../src/core/in-process-bus.js';
import { busContract } from './contract/bus-contract.js';

// One process is one node: both views are the same instance.
busContract('InProcessBus', () => {
  const bus = new InProcessBus();
  return Promise.resolve({ a: bus, b: bus, cleanup: () => bus.close() });
});

describe('InProcessBus specifics', () => {
  it('reports a throwing handler to onHandlerError with its topic, and delivers synchronously', async () => {
    const errors: { err: unknown; topic: string }[] = [];
    const bus = new InProcessBus({ onHandlerError: (err, topic) => errors.push({ err, topic }) });
    const boom = new Error('boom');
    const got: BusMessage[] = [];
    bus.subscribe('room:x', () => {
      throw boom;
    });
    bus.subscribe('room:x', (m) => got.push(m));
    const message: BusMessage = { kind: 'typing', roomId: 'x', userId: 'u', username: 'user' };
    const published = bus.publish('room:x', message);
    expect(got).toEqual([message]); // before the promise is even awaited
    await published;
    expect(errors).toEqual([{ err: boom, topic: 'room:x' }]);
    await bus.close();
  });

  it('close drops every subscription', async () => {
    const bus = new InProcessBus();
    const got: BusMessage[] = [];
    bus.subscribe('all', (m) => got.push(m));
    await bus.close();
    await bus.publish('all', { kind: 'typing', roomId: 'x', userId: 'u', username: 'user' });
    expect(got).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { connect, recordEvents, registerUser, startServer, waitFor } from '../helpers/harness.js';

describe('two users chatting', () => {
  it('delivers messages live over WebSocket, in order, to every member', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url, 'alice');
    const bob = await registerUser(srv.url, 'bob');
    const room = await alice.api.createRoom('general');
    await bob.api.join(room.id);
    const a = await connect(srv.url, alice.token);
    const b = await connect(srv.url, bob.token);
    const seenByBob = recordEvents(b);
    const seenByAlice = recordEvents(a);
    const ack = await a.send(room.id, 'hello bob');
    expect(ack.seq).toBeGreaterThan(0);
    await b.send(room.id, 'hi alice');
    await waitFor(() => seenByAlice.bodies(room.id).length === 2 && seenByBob.bodies(room.id).length === 2);
    expect(seenByBob.bodies(room.id)).toEqual(['hello bob', 'hi alice']);
    expect(seenByAlice.bodies(room.id)).toEqual(['hello bob', 'hi alice']);
  });
});

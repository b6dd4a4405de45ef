import { describe, expect, it } from 'vitest';
import { ChatError } from '../../src/core/chat-error.js';
import { LOBBY_ROOM_ID } from '../../src/core/context.js';
import { registerUser, startServer } from '../helpers/harness.js';
import { live, wsSend } from '../helpers/moderation-kit.js';

describe('the send path as named steps', () => {
  it('runs the shipped steps and after-commit hooks in the order the error codes depend on', async () => {
    const srv = await startServer();
    const { pipeline } = srv.server.services.messages;
    expect(pipeline.stepNames).toEqual([
      'length',
      'membership',
      'posting rights',
      'keyword filter',
      'rate limit',
      'slow mode',
      'flood guard',
      'duplicate lookup',
    ]);
    expect(pipeline.hookNames).toEqual(['count', 'flagged report', 'publish']);
  });

  it('a plugged-in step runs at its place, and a hook after the commit', async () => {
    // Two messages per (practically) forever: a refusal by the new step must not spend them.
    const srv = await startServer({ filterMask: 'darn', messageBurst: 2, messagesPerSecond: 0.001 });
    const { pipeline } = srv.server.services.messages;
    const seen: string[] = [];
    const committed: number[] = [];
    pipeline.addStep(
      {
        name: 'veto',
        run(d) {
          seen.push(d.body);
          if (d.body.includes('veto')) throw new ChatError('forbidden');
        },
      },
      { after: 'keyword filter' },
    );
    pipeline.addHook({ name: 'probe', run: (_d, r) => void committed.push(r.event.seq) });
    expect(pipeline.stepNames.indexOf('veto')).toBe(pipeline.stepNames.indexOf('keyword filter') + 1);

    const alice = await registerUser(srv.url);
    const a = await live(srv.url, alice.token);
    for (let i = 0; i < 3; i++) {
      const f = await wsSend(a, LOBBY_ROOM_ID, 'darn veto');
      expect([f.type, f.code]).toEqual(['error', 'forbidden']);
    }
    // After the keyword filter: it saw the masked body.
    expect(seen[0]).not.toContain('darn');
    // Before the rate limit: the vetoed sends took no tokens, so both allowed messages pass, then the third is refused.
    const ok1 = await wsSend(a, LOBBY_ROOM_ID, 'fine one');
    const ok2 = await wsSend(a, LOBBY_ROOM_ID, 'fine two');
    expect([ok1.type, ok2.type]).toEqual(['ack', 'ack']);
    const third = await wsSend(a, LOBBY_ROOM_ID, 'fine three');
    expect([third.type, third.code]).toEqual(['error', 'rate_limited']);
    expect(committed).toEqual([ok1.seq, ok2.seq]);
  });
});

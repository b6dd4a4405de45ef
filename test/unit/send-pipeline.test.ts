import { describe, expect, it } from 'vitest';
import type { AuthContext } from '../../src/core/accounts.js';
import { ChatError } from '../../src/core/chat-error.js';
import { LOBBY_ROOM_ID } from '../../src/core/context.js';
import { SendPipeline, type SendDraft } from '../../src/core/send/pipeline.js';
import type { RoomEvent } from '../../src/protocol/model.js';
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
      'dm block',
      'keyword filter',
      'reply target',
      'attachments',
      'rate limit',
      'slow mode',
      'flood guard',
      'duplicate lookup',
      'mentions',
    ]);
    expect(pipeline.hookNames).toEqual(['count', 'flagged report', 'publish', 'mention notify', 'link preview']);
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

/** The pipeline itself, with steps and hooks of its own (no server): where a plug-in lands, and when a send is answered. */
describe('SendPipeline', () => {
  const draft = (): SendDraft => ({
    auth: {} as AuthContext,
    input: { roomId: 'r', clientMsgId: 'c', body: 'b' },
    body: 'b',
    flagged: [],
  });
  const result = { event: {} as RoomEvent, duplicate: false };
  const step = (name: string) => ({ name, run() {} });

  it('starts empty: nothing to run', async () => {
    const p = new SendPipeline();
    expect([p.stepNames, p.hookNames]).toEqual([[], []]);
    await expect(p.check(draft())).resolves.toBeUndefined();
    await expect(p.committed(draft(), result)).resolves.toBeUndefined();
  });

  it('puts a step or hook right after the one named (the first one too); an unknown name is an error, not the start', () => {
    const p = new SendPipeline([step('a'), step('b')], [step('x'), step('y')]);
    p.addStep(step('a2'), { after: 'a' });
    p.addHook(step('x2'), { after: 'x' });
    expect(p.stepNames).toEqual(['a', 'a2', 'b']);
    expect(p.hookNames).toEqual(['x', 'x2', 'y']);
    // A check placed by a misspelt name must not end up running first, ahead of the membership check.
    expect(() => p.addStep(step('z'), { after: 'nope' })).toThrow('no send step or hook named nope');
    expect(() => p.addHook(step('z'), { after: 'nope' })).toThrow('no send step or hook named nope');
    expect(p.stepNames).toEqual(['a', 'a2', 'b']);
    expect(p.hookNames).toEqual(['x', 'x2', 'y']);
  });

  it('a send is answered only after every hook has finished, in order; a hook that fails fails the send', async () => {
    const order: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const p = new SendPipeline(
      [],
      [
        { name: 'slow', run: () => gate.then(() => void order.push('slow')) },
        { name: 'next', run: () => void order.push('next') },
      ],
    );
    let answered = false;
    const done = p.committed(draft(), result).then(() => (answered = true));
    await new Promise((r) => setImmediate(r));
    expect([answered, order], 'nothing answered nor run past a hook still running').toEqual([false, []]);
    release();
    await done;
    expect(order).toEqual(['slow', 'next']);
    // The publish hook failing (a bus that is down) fails the send: not an ack, nor an unhandled rejection.
    const failing = new SendPipeline([], [{ name: 'publish', run: () => Promise.reject(new Error('bus down')) }]);
    await expect(failing.committed(draft(), result)).rejects.toThrow('bus down');
  });
});

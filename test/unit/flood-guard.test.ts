import { describe, expect, it } from 'vitest';
import { ChatError } from '../../src/core/chat-error.js';
import { FloodGuard, mentionsOf } from '../../src/core/moderation/flood-guard.js';

function guard(opts: Partial<{ repeats: number; windowMs: number; maxMentions: number; maxKeys: number }> = {}) {
  const clock = { now: 1_000_000 };
  const g = new FloodGuard({ repeats: 3, windowMs: 30_000, maxMentions: 10, ...opts }, () => clock.now);
  return { g, clock };
}

describe('FloodGuard repeats', () => {
  it('allows `repeats` identical bodies per window, refuses the next with retryAfterMs', () => {
    const { g, clock } = guard();
    expect(g.check('u1', 'r1', 'hello')).toBeNull();
    clock.now += 1000;
    expect(g.check('u1', 'r1', 'hello')).toBeNull();
    clock.now += 1000;
    expect(g.check('u1', 'r1', 'hello')).toBeNull();
    clock.now += 1000;
    const err = g.check('u1', 'r1', 'hello');
    expect(err).toBeInstanceOf(ChatError);
    expect(err?.code).toBe('flood');
    expect(err?.status).toBe(429);
    // The oldest of the three leaves the window 30 s after it was sent: 27 s from now.
    expect(err?.retryAfterMs).toBe(27_000);
    // A refused send is not counted: waiting retryAfterMs is enough.
    clock.now += 27_000;
    expect(g.check('u1', 'r1', 'hello')).toBeNull();
    expect(g.check('u1', 'r1', 'hello')?.code).toBe('flood');
  });

  it('compares bodies ignoring surrounding and repeated whitespace and case', () => {
    const { g } = guard({ repeats: 2 });
    expect(g.check('u1', 'r1', 'buy   now')).toBeNull();
    expect(g.check('u1', 'r1', '  Buy\nnow\t')).toBeNull();
    expect(g.check('u1', 'r1', 'BUY NOW')?.code).toBe('flood');
    expect(g.check('u1', 'r1', 'buy now!')).toBeNull();
  });

  it('sees through invisible characters, width, look-alikes and combining marks (issue 21, finding 5)', () => {
    const { g } = guard({ repeats: 3 });
    // One more zero-width space each time: six identical-looking messages.
    const bodies = Array.from({ length: 6 }, (_, i) => `buy now${'\u200b'.repeat(i)}`);
    expect(bodies.map((b) => g.check('u1', 'r1', b)?.code ?? null)).toEqual([
      null,
      null,
      null,
      'flood',
      'flood',
      'flood',
    ]);
    for (const variant of [
      'buy\u2060 now', // word joiner
      '\ufeffbuy now\u00ad', // BOM, soft hyphen
      'ｂｕｙ ｎｏｗ', // full width (NFKC)
      'buy\u00a0now', // no-break space collapses like a space
      'bu\u0443 n\u043ew', // Cyrillic у and о
      'bu\u0301y now', // a combining mark
      'buy n\u{E0020}ow', // a tag character
    ]) {
      expect([variant, g.check('u1', 'r1', variant)?.code]).toEqual([variant, 'flood']);
    }
    expect(g.check('u1', 'r1', 'buy now please')).toBeNull();
  });

  it('counts per user, per room and per body', () => {
    const { g } = guard({ repeats: 1 });
    expect(g.check('u1', 'r1', 'x')).toBeNull();
    expect(g.check('u1', 'r1', 'x')?.code).toBe('flood');
    expect(g.check('u2', 'r1', 'x')).toBeNull();
    expect(g.check('u1', 'r2', 'x')).toBeNull();
    expect(g.check('u1', 'r1', 'y')).toBeNull();
    // Alternating bodies does not get around it.
    expect(g.check('u1', 'r1', 'x')?.code).toBe('flood');
    expect(g.check('u1', 'r1', 'y')?.code).toBe('flood');
  });

  it('forgets sends older than the window', () => {
    const { g, clock } = guard({ repeats: 2, windowMs: 1000 });
    expect(g.check('u', 'r', 'a')).toBeNull();
    clock.now += 600;
    expect(g.check('u', 'r', 'a')).toBeNull();
    clock.now += 300;
    expect(g.check('u', 'r', 'a')?.retryAfterMs).toBe(100);
    clock.now += 100;
    expect(g.check('u', 'r', 'a')).toBeNull();
  });

  it('keeps memory bounded: idle pairs are swept, and at most maxKeys pairs are tracked', () => {
    const { g, clock } = guard({ windowMs: 1000, maxKeys: 50 });
    for (let i = 0; i < 40; i++) g.check(`u${i}`, 'r', 'hi');
    expect(g.size).toBe(40);
    clock.now += 1500;
    g.check('fresh', 'r', 'hi'); // sweeps the idle ones
    expect(g.size).toBe(1);
    for (let i = 0; i < 500; i++) g.check(`v${i}`, 'r', 'hi');
    expect(g.size).toBeLessThanOrEqual(50);
    // The most recently active pairs are the ones kept.
    expect(g.check('v499', 'r', 'hi')).toBeNull();
    expect(g.check('v499', 'r', 'hi')).toBeNull();
    expect(g.check('v499', 'r', 'hi')?.code).toBe('flood');
  });

  it('remembers a bounded number of bodies per pair', () => {
    const { g } = guard({ repeats: 1 });
    for (let i = 0; i < 1000; i++) expect(g.check('u', 'r', `message ${i}`)).toBeNull();
    expect(g.check('u', 'r', 'message 999')?.code).toBe('flood');
    expect(g.size).toBe(1);
  });
});

describe('FloodGuard retries', () => {
  it('lets a retry of an accepted send (same clientMsgId) through uncounted, so the store can answer duplicate', () => {
    const { g } = guard({ repeats: 1 });
    expect(g.check('u', 'r', 'ok', 'k1')).toBeNull();
    expect(g.check('u', 'r', 'ok', 'k1')).toBeNull();
    expect(g.check('u', 'r', 'ok', 'k1')).toBeNull();
    // A new send of the same text is still a repeat.
    expect(g.check('u', 'r', 'ok', 'k2')?.code).toBe('flood');
  });
});

describe('FloodGuard mentions', () => {
  it('counts distinct @usernames, ignoring case, e-mail addresses and trailing punctuation', () => {
    expect([...mentionsOf('@alice hi @Bob and @ALICE, @carol.')].sort()).toEqual(['alice', 'bob', 'carol']);
    expect(mentionsOf('mail me at bob@example.com').size).toBe(0);
    expect(mentionsOf('@ alone, @@x').size).toBe(0);
    expect([...mentionsOf('(@a.b-c) 你好@dave')]).toEqual(['a.b-c', 'dave']);
    expect(mentionsOf('').size).toBe(0);
  });

  it('refuses more than maxMentions distinct mentions', () => {
    const { g } = guard({ maxMentions: 3 });
    expect(g.check('u', 'r', '@a @b @c')).toBeNull();
    expect(g.check('u', 'r', '@a @b @c @a @B @C')).toBeNull();
    const err = g.check('u', 'r', '@a @b @c @d');
    expect(err?.code).toBe('too_many_mentions');
    expect(err?.status).toBe(422);
    expect(g.check('u', 'r', Array.from({ length: 100 }, (_, i) => `@user${i}`).join(' '))?.code).toBe(
      'too_many_mentions',
    );
  });

  it('a refused mass mention is not counted as a send', () => {
    const { g } = guard({ maxMentions: 1, repeats: 1 });
    expect(g.check('u', 'r', '@a @b')?.code).toBe('too_many_mentions');
    expect(g.check('u', 'r', '@a @b')?.code).toBe('too_many_mentions');
    expect(g.check('u', 'r', '@a')).toBeNull();
  });

  it('maxMentions 0 refuses any mention', () => {
    const { g } = guard({ maxMentions: 0 });
    expect(g.check('u', 'r', 'hi @a')?.code).toBe('too_many_mentions');
    expect(g.check('u', 'r', 'hi all')).toBeNull();
  });
});

/**
 * The composer's command list without a browser (web/src/state/command-lists.ts): a room's commands are read again each
 * time the list opens — bots join, leave and change their commands, and nothing tells the room's members — but not
 * more than once per COMMANDS_REREAD_MS; meanwhile the last list is shown at once, then the fresh one; typing within
 * an open list never reads; a failed read shows the last list and the next opening reads again.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandInfo } from '../../src/protocol/commands.js';
import { CommandLists, COMMANDS_REREAD_MS } from '../../web/src/state/command-lists.js';

const cmd = (name: string, source: CommandInfo['source'] = 'builtin'): CommandInfo =>
  ({ name, description: name, source }) as CommandInfo;

/** A fake API whose `commands` answers come from `next` (a list, or an Error to fail with). */
function setup() {
  const answers: (CommandInfo[] | Error)[] = [];
  let reads = 0;
  const commands = new CommandLists(() => {
    reads++;
    const a = answers.shift() ?? new Error('no answer queued');
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  });
  /** One keystroke: every list `show` got (synchronously and once reads landed), names only. */
  const type = async (prefix: string, opening: boolean) => {
    const shown: string[][] = [];
    commands.suggest('r1', prefix, opening, (l) => shown.push(l.map((c) => c.name)));
    const sync = shown.length;
    await new Promise((r) => setTimeout(r, 0)); // the fake read's answer lands (timers are real; only Date is fake)
    return { sync, shown };
  };
  return { answers, reads: () => reads, type };
}

describe('the command list of the composer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-08T10:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('reads on opening (not within COMMANDS_REREAD_MS), shows the last list at once, then the fresh one', async () => {
    const s = setup();
    s.answers.push([cmd('me'), cmd('away')]);
    // First opening: nothing to show yet; the read's answer is shown when it lands.
    expect(await s.type('', true)).toEqual({ sync: 0, shown: [['me', 'away']] });
    expect(s.reads()).toBe(1);
    // Typing in the open list filters what was read, at once, without reading.
    expect(await s.type('a', false)).toEqual({ sync: 1, shown: [['away']] });
    // Closed and opened again within the window: no read.
    vi.setSystemTime(Date.now() + COMMANDS_REREAD_MS - 1);
    expect(await s.type('', true)).toEqual({ sync: 1, shown: [['me', 'away']] });
    expect(s.reads()).toBe(1);
    // Later, a bot registered /roll: the next opening shows the old list at once, then the new one.
    vi.setSystemTime(Date.now() + 1);
    s.answers.push([cmd('me'), cmd('away'), cmd('roll', 'bot')]);
    expect(await s.type('', true)).toEqual({
      sync: 1,
      shown: [
        ['me', 'away'],
        ['me', 'away', 'roll'],
      ],
    });
    expect(s.reads()).toBe(2);
    expect(await s.type('r', false)).toEqual({ sync: 1, shown: [['roll']] });
    expect(s.reads()).toBe(2);
  });

  it('a failed read shows the last list, and the next opening reads again at once', async () => {
    const s = setup();
    s.answers.push([cmd('me')]);
    await s.type('', true);
    vi.setSystemTime(Date.now() + COMMANDS_REREAD_MS);
    s.answers.push(new Error('network'));
    expect((await s.type('', true)).shown).toEqual([['me'], ['me']]);
    expect(s.reads()).toBe(2);
    s.answers.push([cmd('me'), cmd('roll', 'bot')]);
    expect((await s.type('', true)).shown).toEqual([['me'], ['me', 'roll']]);
    expect(s.reads()).toBe(3);
  });
});

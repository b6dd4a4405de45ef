import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/client/api.js';
import { registerUser, startServer } from '../helpers/harness.js';

/** Issue 21, finding 3: leave+join loops flooded every member with membership events. */

async function codeOf(p: Promise<unknown>): Promise<{ code: string; retryAfterMs: number | undefined } | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { code: err.code, retryAfterMs: err.retryAfterMs };
  }
}

describe('membership churn is rate-limited', () => {
  it('per user: joins and leaves beyond MEMBERSHIP_CHANGES_PER_MINUTE get rate_limited, and emit no events', async () => {
    const srv = await startServer({ membershipChangesPerMinute: 5 });
    const owner = await registerUser(srv.url);
    const churner = await registerUser(srv.url);
    const other = await registerUser(srv.url);
    const room = await owner.api.createRoom('churn', 'public');
    const joins: unknown[] = [];
    const leaves: unknown[] = [];
    for (let i = 0; i < 20; i++) {
      joins.push(await codeOf(churner.api.join(room.id)));
      leaves.push(await codeOf(churner.api.leave(room.id)));
    }
    // join, leave, join, leave, join: then the churner stays a member and every leave is refused
    // (a further join is a no-op for a member: no event, nothing counted).
    expect(leaves.slice(0, 2)).toEqual(['ok', 'ok']);
    expect(joins).toEqual(Array(20).fill('ok'));
    for (const r of leaves.slice(2)) {
      expect(r).toMatchObject({ code: 'rate_limited' });
      expect((r as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    }
    // Only the accepted changes are on the room's sequence.
    const events = await owner.api.events(room.id, { limit: 200 });
    const churn = events.filter((e) => e.type.startsWith('member.') && e.data?.userId === churner.user.id);
    expect(churn.map((e) => e.type)).toEqual([
      'member.joined',
      'member.left',
      'member.joined',
      'member.left',
      'member.joined',
    ]);
    // Other users are not affected.
    expect(await codeOf(other.api.join(room.id))).toBe('ok');
  });

  it('per room: ROOM_MEMBERSHIP_CHANGES_PER_MINUTE bounds churn spread over many accounts', async () => {
    const srv = await startServer({ roomMembershipChangesPerMinute: 5 });
    const owner = await registerUser(srv.url);
    const room = await owner.api.createRoom('busy', 'public');
    const outcomes: unknown[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await codeOf((await registerUser(srv.url)).api.join(room.id)));
    expect(outcomes.slice(0, 5)).toEqual(Array(5).fill('ok'));
    for (const r of outcomes.slice(5)) expect(r).toMatchObject({ code: 'rate_limited' });
    // Another room is not affected.
    const quiet = await owner.api.createRoom('quiet', 'public');
    expect(await codeOf((await registerUser(srv.url)).api.join(quiet.id))).toBe('ok');
  });
});

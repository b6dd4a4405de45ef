import type { WelcomeFrame, WelcomeRoom } from './frames.js';
import type { MyRoom } from './model.js';

// The compact `welcome` room list and back. Kept apart from frames.ts (which holds the zod schemas) so a client
// that only needs these functions, like the web client, does not bundle zod.

/** `welcome`'s rooms as `MyRoom`s, each DM with its `members` rebuilt from `memberIds` and `profiles`. */
export function welcomeRooms(w: Pick<WelcomeFrame, 'rooms' | 'profiles'>): MyRoom[] {
  return w.rooms.map(({ memberIds, ...room }) => {
    if (!memberIds) return room;
    const members = memberIds.flatMap((id) => {
      const p = w.profiles[id];
      return p
        ? [
            {
              id,
              username: p.username,
              displayName: p.displayName,
              ...(p.avatarUrl ? { avatarUrl: p.avatarUrl } : {}),
              ...(p.bot ? { bot: true as const } : {}),
            },
          ]
        : [];
    });
    return { ...room, members };
  });
}

/** The compact form of `rooms` for `welcome` (the inverse of `welcomeRooms`). */
export function compactRooms(rooms: readonly MyRoom[]): Pick<WelcomeFrame, 'rooms' | 'profiles'> {
  const profiles: WelcomeFrame['profiles'] = {};
  const compact = rooms.map(({ members, ...room }): WelcomeRoom => {
    if (!members) return room;
    for (const m of members) {
      profiles[m.id] = {
        username: m.username,
        displayName: m.displayName,
        ...(m.avatarUrl ? { avatarUrl: m.avatarUrl } : {}),
        ...(m.bot ? { bot: true as const } : {}),
      };
    }
    return { ...room, memberIds: members.map((m) => m.id) };
  });
  return { rooms: compact, profiles };
}

import { ApiError, type ChatApi, type Invite, type MyRoom, type PublicUser, type Room } from '../client/index.js';
import { CliError } from './errors.js';
import { roomTitle } from './format.js';

/** Room ids look like `r_` + base64url; anything else can only be a name. */
const ROOM_ID = /^r_[A-Za-z0-9_-]+$/;
/** How many public-directory pages `join <name>` reads before giving up (200 rooms a page). */
const MAX_SEARCH_PAGES = 10;

function ambiguous(arg: string, rooms: Room[]): CliError {
  const list = rooms.map((r) => `${roomTitle(r)} (${r.id})`).join(', ');
  return new CliError('ambiguous_room', `"${arg}" matches ${rooms.length} rooms: ${list}; use the room id`);
}

const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** `@bob` or `@bob,carol`: the DM whose other members are exactly those users. */
function matchDm(mine: MyRoom[], arg: string, me: string | undefined): MyRoom[] {
  const wanted = new Set(
    arg
      .slice(1)
      .split(',')
      .map((u) => u.trim().toLowerCase())
      .filter((u) => u && u !== me?.toLowerCase()),
  );
  return mine.filter((r) => {
    if (r.kind !== 'dm' || !r.members) return false;
    const others = new Set(r.members.map((m) => m.username.toLowerCase()));
    return others.size === wanted.size && [...wanted].every((u) => others.has(u));
  });
}

export interface ResolveOptions {
  /** Also look for an exact name in the public directory (for `join`). */
  searchPublic?: boolean;
  /** The logged-in username, so `@me,bob` still finds the DM with bob. */
  me?: string;
}

/**
 * Finds the room a command argument means: a room id, `@user` for a DM, or the exact name (case-insensitive)
 * of one of my rooms; with `searchPublic`, a public room's exact name. A name matching several rooms is an
 * error naming them all, never a guess.
 */
export async function resolveRoom(api: ChatApi, arg: string, opts: ResolveOptions = {}): Promise<Room | MyRoom> {
  const mine = await api.myRooms();
  const byId = mine.find((r) => r.id === arg);
  if (byId) return byId;

  const named = arg.startsWith('@')
    ? matchDm(mine, arg, opts.me)
    : mine.filter((r) => r.kind !== 'dm' && sameName(r.name, arg));
  if (named.length === 1) return named[0]!;
  if (named.length > 1) throw ambiguous(arg, named);

  if (opts.searchPublic && !arg.startsWith('@')) {
    const found: Room[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
      const res = await api.searchRooms(arg.slice(0, 100), { limit: 200, ...(cursor ? { cursor } : {}) });
      found.push(...res.rooms.filter((r) => sameName(r.name, arg)));
      if (!res.nextCursor) break;
      cursor = res.nextCursor;
    }
    if (found.length === 1) return found[0]!;
    if (found.length > 1) throw ambiguous(arg, found);
  }

  // An id of a room I am not in (a public room, or one I am invited to): the server decides if I may see it.
  if (ROOM_ID.test(arg)) {
    try {
      return await api.room(arg);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'room_not_found')) throw err;
    }
  }
  const where = arg.startsWith('@')
    ? `no DM with ${arg.slice(1)} (open one with \`chat dm ${arg.slice(1).split(',').join(' ')}\`)`
    : `no room "${arg}" among your rooms${opts.searchPublic ? ' or the public rooms' : ''}`;
  throw new CliError('room_not_found', `${where}; give a room id or see \`chat rooms\``);
}

/** The pending invite an argument means: the room's id or exact name. */
export async function resolveInvite(api: ChatApi, arg: string): Promise<Invite> {
  const invites = await api.invites();
  const byId = invites.find((i) => i.room.id === arg);
  if (byId) return byId;
  const named = invites.filter((i) => sameName(i.room.name, arg));
  if (named.length === 1) return named[0]!;
  if (named.length > 1)
    throw ambiguous(
      arg,
      named.map((i) => i.room),
    );
  throw new CliError('invite_not_found', `no pending invite to "${arg}"; see \`chat invites\``);
}

/**
 * Usernames for the user ids events carry. Seeded from a room's member list (one request); anyone else (a
 * member who has left) is looked up once by id. A failed lookup shows the id rather than failing the command.
 */
/** A user's name on screen: bots are marked `[bot]` wherever a name appears (issue 16). */
export const shownName = (u: Pick<PublicUser, 'username' | 'bot'>): string =>
  u.bot ? `${u.username} [bot]` : u.username;

export class UserNames {
  private readonly names = new Map<string, string>();

  constructor(private readonly api: ChatApi) {}

  add(users: readonly PublicUser[]): void {
    for (const u of users) this.names.set(u.id, shownName(u));
  }

  async seedRoom(roomId: string): Promise<void> {
    try {
      // The first page of names is enough to start with; others show as ids.
      this.add((await this.api.members(roomId, { limit: 200 })).members.map((m) => m.user));
    } catch {
      // Only names are at stake; ids are shown instead.
    }
  }

  async ensure(ids: readonly (string | undefined)[]): Promise<void> {
    for (const id of new Set(ids)) {
      if (!id || this.names.has(id)) continue;
      try {
        const { user } = await this.api.user(id);
        this.names.set(id, shownName(user));
      } catch {
        this.names.set(id, id);
      }
    }
  }

  name(id: string): string {
    return this.names.get(id) ?? id;
  }
}

import type { MyRoom, Room } from '../client/index.js';
import { UNREAD_COUNT_MAX } from '../protocol/model.js';
import { JSON_OPTION, type CommandSpec } from './command.js';
import type { Context } from './context.js';
import { usageError } from './errors.js';
import { localTime, roomTitle, table, userLabel } from './format.js';
import { resolveInvite, resolveRoom } from './resolve.js';

const ROOM_ARG = [{ name: 'room' }];
const ROOM_HELP = 'A <room> is a room id, the exact name of one of your rooms (any case), or @user for a DM.';

/** Resolves <room> with the logged-in username, so `@me,bob` works as well as `@bob`. */
export function findRoom(ctx: Context, arg: string, searchPublic = false): Promise<Room | MyRoom> {
  return resolveRoom(ctx.api(), arg, { me: ctx.login().username, searchPublic });
}

const label = (r: Room) => `${roomTitle(r)} (${r.id})`;

export const rooms: CommandSpec = {
  name: 'rooms',
  summary: 'List your rooms and DMs, most recently active first',
  details:
    'UNREAD counts the messages from others after your read marker, which the server keeps for all your devices\n' +
    '(the web app, `chat history`, `chat tail` and `chat read` move it); `(@N)` after it: N of them mention you\n' +
    '(`chat mentions` lists them). NOTIFY is your notification level (`chat notify`). See also `chat rooms search`.',
  options: JSON_OPTION,
  examples: ['chat rooms', 'chat rooms --json'],
  async run(ctx) {
    const mine = await ctx.api().myRooms();
    if (ctx.json) return ctx.printJson(mine);
    if (mine.length === 0) return ctx.note('You are in no rooms yet: `chat rooms search`, then `chat join <room>`.');
    const rows = mine.map((r) => [
      roomTitle(r),
      r.kind,
      r.myRole,
      String(r.memberCount),
      String(r.lastSeq),
      unreadLabel(r.unread) + (r.unreadMentions > 0 ? ` (@${unreadLabel(r.unreadMentions)})` : ''),
      r.notify ?? 'all', // an older server without levels: all, its behaviour
      r.id,
    ]);
    ctx.out(table(['ROOM', 'KIND', 'ROLE', 'MEMBERS', 'LAST', 'UNREAD', 'NOTIFY', 'ID'], rows));
  },
};

/** The server stops counting at UNREAD_COUNT_MAX. */
export function unreadLabel(n: number): string {
  return n >= UNREAD_COUNT_MAX ? `${UNREAD_COUNT_MAX - 1}+` : String(n);
}

export const roomsSearch: CommandSpec = {
  name: 'rooms search',
  summary: 'Search the directory of public rooms by name or topic',
  details: 'Without --all or --limit, shows the first page and how to get the next one.',
  args: [{ name: 'query', optional: true }],
  options: {
    ...JSON_OPTION,
    limit: { type: 'string', value: 'N', description: 'Show up to N rooms (fetching pages as needed)' },
    all: { type: 'boolean', description: 'Fetch every page' },
    cursor: { type: 'string', value: 'C', description: 'Continue from a previous page' },
  },
  examples: ['chat rooms search', 'chat rooms search rust --all', 'chat rooms search --limit 50 --json'],
  async run(ctx, inv) {
    const api = ctx.api();
    const all = inv.flag('all');
    const want = inv.int('limit', 1, 1_000_000);
    if (all && want !== undefined) throw usageError('give --all or --limit, not both', 'rooms search');
    const found: Room[] = [];
    let cursor = inv.string('cursor');
    let next: string | null;
    // One page by default; with --all every page; with --limit pages until N rooms.
    for (;;) {
      const pageSize = Math.min(200, want === undefined ? (all ? 200 : 20) : want - found.length);
      const page = await api.searchRooms(inv.args.query ?? '', { limit: pageSize, ...(cursor ? { cursor } : {}) });
      found.push(...page.rooms);
      next = page.nextCursor;
      if (!next || !(all || (want !== undefined && found.length < want))) break;
      cursor = next;
    }

    const joined = new Set((await api.myRooms()).map((r) => r.id));
    if (ctx.json)
      return ctx.printJson({ rooms: found.map((r) => ({ ...r, joined: joined.has(r.id) })), nextCursor: next });
    if (found.length === 0) return ctx.note('No public rooms match.');
    ctx.out(
      table(
        ['ROOM', 'MEMBERS', 'JOINED', 'TOPIC', 'ID'],
        found.map((r) => [
          r.name,
          String(r.memberCount),
          joined.has(r.id) ? 'yes' : '',
          r.topic.split('\n')[0] ?? '',
          r.id,
        ]),
      ),
    );
    if (next) ctx.note(`More rooms: add --all, or --cursor ${next}`);
  },
};

export const create: CommandSpec = {
  name: 'create',
  summary: 'Create a room (public unless --private); you become its owner',
  args: [{ name: 'name' }],
  options: {
    ...JSON_OPTION,
    private: { type: 'boolean', description: 'Only invited people can see and join it' },
    topic: { type: 'string', value: 'T', description: 'Room topic' },
  },
  examples: ['chat create general --topic "Anything goes"', 'chat create secret-plans --private'],
  async run(ctx, inv) {
    const room = await ctx
      .api()
      .createRoom(inv.args.name!, inv.flag('private') ? 'private' : 'public', inv.string('topic'));
    if (ctx.json) return ctx.printJson(room);
    ctx.out(`created ${room.kind} room ${label(room)}`);
  },
};

export const join: CommandSpec = {
  name: 'join',
  summary: 'Join a public room (or a private one you are invited to)',
  details:
    'A <room> is a room id or the exact name of a public room (any case). A room that needs approval\n' +
    'records a join request instead (exit status 0); you are added when a moderator approves it.',
  args: ROOM_ARG,
  examples: ['chat join general', 'chat join r_Xy12...'],
  async run(ctx, inv) {
    const target = await findRoom(ctx, inv.args.room!, true);
    const r = await ctx.api().requestJoin(target.id);
    // A recorded request is what was asked for in such a room: a success, not an error.
    if (!('room' in r)) return ctx.out(`request sent to join ${label(target)}: a moderator will approve it`);
    ctx.out(`joined ${label(r.room)}`);
  },
};

export const leave: CommandSpec = {
  name: 'leave',
  summary: 'Leave a room',
  details: ROOM_HELP,
  args: ROOM_ARG,
  examples: ['chat leave general'],
  async run(ctx, inv) {
    const room = await findRoom(ctx, inv.args.room!);
    await ctx.api().leave(room.id);
    ctx.out(`left ${label(room)}`);
  },
};

export const invite: CommandSpec = {
  name: 'invite',
  summary: 'Invite a user to a room',
  details: `${ROOM_HELP}\nIn private rooms only owners and admins may invite.`,
  args: [{ name: 'room' }, { name: 'username' }],
  examples: ['chat invite secret-plans bob'],
  async run(ctx, inv) {
    const room = await findRoom(ctx, inv.args.room!);
    await ctx.api().invite(room.id, inv.args.username!);
    ctx.out(`invited ${inv.args.username} to ${label(room)}`);
  },
};

export const invites: CommandSpec = {
  name: 'invites',
  summary: 'List your pending invites',
  options: JSON_OPTION,
  examples: ['chat invites', 'chat accept secret-plans'],
  async run(ctx) {
    const list = await ctx.api().invites();
    if (ctx.json) return ctx.printJson(list);
    if (list.length === 0) return ctx.note('No pending invites.');
    ctx.out(
      table(
        ['ROOM', 'KIND', 'FROM', 'WHEN', 'ID'],
        list.map((i) => [i.room.name, i.room.kind, i.inviter.username, localTime(i.createdAt), i.room.id]),
      ),
    );
  },
};

export const accept: CommandSpec = {
  name: 'accept',
  summary: 'Accept an invite and join the room',
  details: 'A <room> is the id or exact name of a room you are invited to (see `chat invites`).',
  args: ROOM_ARG,
  examples: ['chat accept secret-plans'],
  async run(ctx, inv) {
    const pending = await resolveInvite(ctx.api(), inv.args.room!);
    const room = await ctx.api().acceptInvite(pending.room.id);
    ctx.out(`joined ${label(room)}`);
  },
};

export const decline: CommandSpec = {
  name: 'decline',
  summary: 'Decline an invite',
  details: 'A <room> is the id or exact name of a room you are invited to (see `chat invites`).',
  args: ROOM_ARG,
  examples: ['chat decline secret-plans'],
  async run(ctx, inv) {
    const pending = await resolveInvite(ctx.api(), inv.args.room!);
    await ctx.api().declineInvite(pending.room.id);
    ctx.out(`declined the invite to ${label(pending.room)}`);
  },
};

export const members: CommandSpec = {
  name: 'members',
  summary: 'List the members of a room, with their role and presence',
  details: ROOM_HELP,
  args: ROOM_ARG,
  options: JSON_OPTION,
  examples: ['chat members general'],
  async run(ctx, inv) {
    const room = await findRoom(ctx, inv.args.room!);
    const res = await ctx.api().allMembers(room.id); // page by page
    if (ctx.json) return ctx.printJson(res);
    ctx.out(
      table(
        ['USER', 'ROLE', 'PRESENCE', 'JOINED'],
        res.members.map((m) => [userLabel(m.user), m.role, m.presence, localTime(m.joinedAt)]),
      ),
    );
    const shown = res.nextCursor ? ` (the first ${res.members.length} shown)` : '';
    ctx.note(`${res.members.length} member${res.members.length === 1 ? '' : 's'}, ${res.online} online${shown}`);
  },
};

export const dm: CommandSpec = {
  name: 'dm',
  summary: 'Open (or find) the DM with one or more users and print its room id',
  details: 'The same set of people always gets the same DM. Refer to it later as @user (or @user1,user2).',
  args: [{ name: 'username', variadic: true }],
  options: JSON_OPTION,
  examples: ['chat dm bob', 'chat dm bob carol', 'chat send "$(chat dm bob)" hi'],
  async run(ctx, inv) {
    const room = await ctx.api().openDm(...inv.rest);
    if (ctx.json) return ctx.printJson(room);
    ctx.out(room.id);
    ctx.note(`DM ${roomTitle(room)}: chat tail ${roomTitle(room)}`);
  },
};

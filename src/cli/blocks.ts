import type { ChatApi, PublicUser } from '../client/index.js';
import { JSON_OPTION, type CommandSpec } from './command.js';
import type { Context } from './context.js';
import { CliError } from './errors.js';
import { clean, localTime } from './format.js';

/** The user a `<user>` argument names: a username, with or without `@`, matched exactly (ignoring case). */
async function findUser(api: ChatApi, arg: string): Promise<PublicUser> {
  const name = arg.replace(/^@/, '');
  const key = name.toLowerCase();
  const user = (await api.searchUsers(name, 50)).find((u) => u.username.toLowerCase() === key);
  if (!user) throw new CliError('user_not_found', `no user named ${clean(name)}`);
  return user;
}

const who = (u: PublicUser) =>
  u.displayName && u.displayName !== u.username ? `${u.username} (${clean(u.displayName)})` : u.username;

export const block: CommandSpec = {
  name: 'block',
  summary: 'Block a user: no DMs either way, no invites from them, their messages collapsed',
  details:
    'Nobody but you is told. In rooms you share, history and tail show their messages as [blocked]\n' +
    '(--show-blocked shows them). A DM between you is closed to both sides until you unblock them.',
  args: [{ name: 'user' }],
  options: JSON_OPTION,
  examples: ['chat block bob', 'chat block @bob'],
  async run(ctx, inv) {
    const api = ctx.api();
    const user = await findUser(api, inv.args.user!);
    const r = await api.block(user.id);
    if (ctx.json) return ctx.printJson(r);
    ctx.out(r.created ? `blocked ${who(user)}` : `${who(user)} was already blocked`);
  },
};

export const unblock: CommandSpec = {
  name: 'unblock',
  summary: 'Lift a block',
  args: [{ name: 'user' }],
  options: JSON_OPTION,
  examples: ['chat unblock bob'],
  async run(ctx, inv) {
    const api = ctx.api();
    const key = inv.args.user!.replace(/^@/, '').toLowerCase();
    // From my list first: a blocked user who was since deactivated is not found by search.
    const user =
      (await api.blocks()).find((b) => b.user.username.toLowerCase() === key)?.user ??
      (await findUser(api, inv.args.user!));
    const r = await api.unblock(user.id);
    if (ctx.json) return ctx.printJson(r);
    ctx.out(r.unblocked ? `unblocked ${who(user)}` : `${who(user)} was not blocked`);
  },
};

export const blocks: CommandSpec = {
  name: 'blocks',
  summary: 'List the users you blocked, newest first',
  args: [],
  options: JSON_OPTION,
  examples: ['chat blocks', 'chat blocks --json'],
  async run(ctx) {
    const list = await ctx.api().blocks();
    if (ctx.json) return ctx.printJson(list);
    if (list.length === 0) return ctx.note('You have blocked nobody.');
    for (const b of list) ctx.out(`${who(b.user)}  since ${localTime(b.since)}`);
  },
};

/** The ids of the users I blocked, for collapsing their messages; empty if the list cannot be read. */
export async function blockedIds(ctx: Context): Promise<Set<string>> {
  try {
    return new Set((await ctx.api().blocks()).map((b) => b.user.id));
  } catch {
    return new Set();
  }
}

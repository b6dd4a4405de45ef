import { hostname } from 'node:os';
import { ApiError, type AuthResult } from '../client/index.js';
import { JSON_OPTION, type CommandSpec } from './command.js';
import type { Context } from './context.js';
import { userLabel } from './format.js';
import { obtainPassword } from './password.js';

const PASSWORD_OPTION = {
  password: {
    type: 'string',
    value: 'P',
    description: 'Password (prefer $CHAT_PASSWORD: flags are visible to other local users in `ps`)',
  },
} as const;

/** The session label the server lists under `sessions`, so the user can tell this login apart. */
const sessionLabel = () => `chat CLI on ${hostname()}`.slice(0, 64);

function remember(ctx: Context, r: AuthResult): void {
  ctx.config.save(ctx.server, { token: r.token, username: r.user.username, userId: r.user.id });
}

export const register: CommandSpec = {
  name: 'register',
  summary: 'Create an account and log in',
  details: 'The password is read from --password, else $CHAT_PASSWORD, else asked for (twice) on the terminal.',
  args: [{ name: 'username' }],
  options: {
    ...PASSWORD_OPTION,
    'display-name': { type: 'string', value: 'NAME', description: 'Name shown to others (default: the username)' },
  },
  examples: ['chat register alice', 'CHAT_PASSWORD=... chat --server https://chat.example.com register alice'],
  async run(ctx, inv) {
    const username = inv.args.username!;
    const password = await obtainPassword({ flag: inv.string('password'), env: ctx.env, confirm: true });
    const r = await ctx.anonymousApi().register(username, password, inv.string('display-name'));
    remember(ctx, r);
    ctx.out(
      `registered and logged in as ${r.user.username} on ${ctx.server}${r.user.role === 'admin' ? ' (server admin)' : ''}`,
    );
  },
};

export const login: CommandSpec = {
  name: 'login',
  summary: 'Log in and save the session token',
  details: 'The password is read from --password, else $CHAT_PASSWORD, else asked for on the terminal.',
  args: [{ name: 'username' }],
  options: PASSWORD_OPTION,
  examples: ['chat login alice', 'CHAT_PASSWORD=... chat login alice'],
  async run(ctx, inv) {
    const password = await obtainPassword({ flag: inv.string('password'), env: ctx.env, confirm: false });
    const r = await ctx.anonymousApi().login(inv.args.username!, password, sessionLabel());
    remember(ctx, r);
    ctx.out(`logged in as ${r.user.username} on ${ctx.server}`);
  },
};

export const logout: CommandSpec = {
  name: 'logout',
  summary: 'End this session (or every session) and forget the token',
  options: { everywhere: { type: 'boolean', description: 'End all your sessions on this server, on every device' } },
  examples: ['chat logout', 'chat logout --everywhere'],
  async run(ctx, inv) {
    const api = ctx.api();
    let note = '';
    try {
      if (inv.flag('everywhere')) {
        const { revoked } = await api.logoutEverywhere();
        note = ` (${revoked} session${revoked === 1 ? '' : 's'} ended)`;
      } else {
        await api.logout();
      }
    } catch (err) {
      // A token the server no longer knows is as logged out as it gets: forget it anyway.
      if (!(err instanceof ApiError && err.code === 'unauthorized')) throw err;
      note = ' (the session had already ended)';
    }
    ctx.config.forget(ctx.server);
    ctx.out(`logged out of ${ctx.server}${note}`);
  },
};

export const whoami: CommandSpec = {
  name: 'whoami',
  summary: 'Show who you are logged in as (checks the token with the server)',
  options: JSON_OPTION,
  examples: ['chat whoami', 'chat whoami --json'],
  async run(ctx) {
    const user = await ctx.api().me();
    if (ctx.json) return ctx.printJson({ server: ctx.server, user });
    ctx.out(`${userLabel(user)} on ${ctx.server}${user.role === 'admin' ? ' — server admin' : ''}`);
    ctx.out(`id: ${user.id}`);
  },
};

import { login, logout, register, whoami } from './account.js';
import type { CommandSpec } from './command.js';
import { block, blocks, unblock } from './blocks.js';
import { tail } from './interactive.js';
import { edit, history, mentions, pin, pins, react, read, reply, send, thread, unpin, unreact } from './messages.js';
import { dnd, notify } from './notify.js';
import { downloadFile, uploadFile } from './files.js';
import { obtainPassword } from './password.js';
import { search } from './search.js';
import { command, commandList } from './slash.js';
import { adminBackup, adminResetLink, adminRestore, deleteAccount, exportMine } from './keep.js';
import { adminVerify } from './verify.js';
import { accept, create, decline, dm, invite, invites, join, leave, members, rooms, roomsSearch } from './rooms.js';

const adminCreate: CommandSpec = {
  name: 'admin create',
  summary: 'Create a server admin (or promote a user) directly in the local data directory',
  details:
    'Runs on the server machine, against the database, not over HTTP: use it to make the first admin.\n' +
    'It reads the same settings as the server (DATA_DIR, SCRYPT_LOG2N, ... or --data-dir). An existing user\n' +
    'is promoted and their password is set to the one given. The server may be running meanwhile.\n' +
    'The password is read from --password, else $CHAT_PASSWORD, else asked for (twice) on the terminal.',
  args: [{ name: 'username' }],
  options: {
    password: { type: 'string', value: 'P', description: 'Password (prefer $CHAT_PASSWORD)' },
    'data-dir': { type: 'string', value: 'DIR', description: 'Data directory (default: $DATA_DIR or ./data)' },
  },
  examples: ['chat admin create root', 'DATA_DIR=/var/lib/relaychat chat admin create root'],
  async run(ctx, inv) {
    const password = await obtainPassword({ flag: inv.string('password'), env: ctx.env, confirm: true });
    // Lazy: only this command loads server code (and SQLite).
    const { createAdmin } = await import('./admin.js');
    const r = await createAdmin({
      username: inv.args.username!,
      password,
      dataDir: inv.string('data-dir'),
      env: ctx.env,
    });
    ctx.out(
      r.created
        ? `created server admin ${r.user.username} (${r.user.id}) in ${r.database}`
        : `${r.user.username} (${r.user.id}) is now a server admin; password updated (${r.database})`,
    );
  },
};

/** Every command, in the order `chat --help` lists them. */
export const COMMANDS: CommandSpec[] = [
  register,
  login,
  logout,
  whoami,
  rooms,
  roomsSearch,
  create,
  join,
  leave,
  invite,
  invites,
  accept,
  decline,
  members,
  dm,
  send,
  uploadFile,
  downloadFile,
  reply,
  edit,
  react,
  unreact,
  history,
  thread,
  read,
  notify,
  dnd,
  pin,
  unpin,
  pins,
  block,
  unblock,
  blocks,
  mentions,
  search,
  tail,
  command,
  commandList,
  adminCreate,
  deleteAccount,
  exportMine,
  adminResetLink,
  adminBackup,
  adminRestore,
  adminVerify,
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

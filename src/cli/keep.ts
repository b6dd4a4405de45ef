import { writeFileSync } from 'node:fs';
import { JSON_OPTION, type CommandSpec } from './command.js';
import { CliError, usageError } from './errors.js';
import { obtainPassword } from './password.js';

/** Issue 18 from the CLI: deleting one's account, one's export, reset links, backup and restore. */

export const deleteAccount: CommandSpec = {
  name: 'delete-account',
  summary: 'Delete your account for good (your messages stay as "deleted user", or go with --erase)',
  details:
    'Needs your password (--password, else $CHAT_PASSWORD, else asked on the terminal) and --yes.\n' +
    'Every session ends at once; your username is free again. With --erase each of your messages is deleted\n' +
    'in its room, as if you deleted it yourself.',
  options: {
    password: { type: 'string', value: 'P', description: 'Password (prefer $CHAT_PASSWORD)' },
    erase: { type: 'boolean', description: 'Delete all your messages too (default: keep them, unsigned)' },
    yes: { type: 'boolean', description: 'Confirm: this cannot be undone' },
  },
  examples: ['chat delete-account --yes', 'chat delete-account --erase --yes'],
  async run(ctx, inv) {
    if (!inv.flag('yes')) throw usageError('deleting an account cannot be undone: add --yes', 'delete-account');
    const api = ctx.api();
    const password = await obtainPassword({ flag: inv.string('password'), env: ctx.env, confirm: false });
    const r = await api.deleteAccount(password, inv.flag('erase') ? 'erase' : 'keep');
    ctx.config.forget(ctx.server);
    ctx.out(
      `account deleted on ${ctx.server}` +
        (inv.flag('erase') ? `; ${r.erased} message${r.erased === 1 ? '' : 's'} erased` : '; messages kept') +
        `; left ${r.roomsLeft} room${r.roomsLeft === 1 ? '' : 's'}`,
    );
  },
};

export const exportMine: CommandSpec = {
  name: 'export',
  summary: 'Download your own data (profile, rooms, your messages, your files) as JSON',
  args: [{ name: 'file', optional: true }],
  examples: ['chat export', 'chat export my-chat.json'],
  async run(ctx, inv) {
    const doc = await ctx.api().exportMine();
    const file = inv.args.file;
    if (!file) return ctx.printJson(doc);
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    ctx.out(`wrote ${doc.messages.length} messages and ${doc.files.length} file entries to ${file}`);
  },
};

export const adminResetLink: CommandSpec = {
  name: 'admin reset-link',
  summary: 'Make a one-time password reset link for a user (server admins)',
  details: 'Hand the link to the user yourself; it works once, until PASSWORD_RESET_TTL_SECONDS pass.',
  args: [{ name: 'username' }],
  options: JSON_OPTION,
  examples: ['chat admin reset-link alice'],
  async run(ctx, inv) {
    const api = ctx.api();
    const name = inv.args.username!.replace(/^@/, '');
    const { users } = await api.adminUsers({ q: name, limit: 50 });
    const user = users.find((u) => u.username.toLowerCase() === name.toLowerCase());
    if (!user) throw new CliError('user_not_found', `no user named ${name}`);
    const link = await api.createResetLink(user.id);
    const url = `${ctx.server}${link.path}`;
    if (ctx.json) return ctx.printJson({ user: user.username, url, expiresAt: link.expiresAt });
    ctx.out(url);
    ctx.note(`one-time link for ${user.username}, valid until ${link.expiresAt}`);
  },
};

const DATA_DIR_OPTION = {
  'data-dir': { type: 'string', value: 'DIR', description: 'Data directory (default: $DATA_DIR or ./data)' },
} as const;

export const adminBackup: CommandSpec = {
  name: 'admin backup',
  summary: 'Back up the embedded store into a new directory, while the server runs',
  details:
    'Runs on the server machine, against DATA_DIR (not over HTTP). chat.db is copied with the SQLite online backup\n' +
    'API (a consistent snapshot while the server keeps writing), then the rest of DATA_DIR (file blobs) beside it.\n' +
    'A clustered server (DATABASE_URL) is backed up with pg_dump instead: see docs/operations.md.',
  args: [{ name: 'dir' }],
  options: DATA_DIR_OPTION,
  examples: ['chat admin backup /backups/relaychat-2026-12-08', 'DATA_DIR=/var/lib/relaychat chat admin backup ./b'],
  async run(ctx, inv) {
    const { backup } = await import('./backup.js');
    const r = await backup({ target: inv.args.dir!, dataDir: inv.string('data-dir'), env: ctx.env });
    ctx.out(`backed up to ${r.target}: database schema ${r.schemaVersion}, ${r.pages} pages, ${r.files} other files`);
  },
};

export const adminRestore: CommandSpec = {
  name: 'admin restore',
  summary: 'Restore a backup into the data directory of a stopped server',
  details:
    'Checks the backup (SQLite integrity_check) first. Refuses when DATA_DIR holds a database already, unless\n' +
    '--force: then everything in DATA_DIR is replaced. Stop the server first; start it after.',
  args: [{ name: 'dir' }],
  options: { ...DATA_DIR_OPTION, force: { type: 'boolean', description: 'Replace the data directory’s contents' } },
  examples: ['chat admin restore /backups/relaychat-2026-12-08 --data-dir /var/lib/relaychat'],
  async run(ctx, inv) {
    const { restore } = await import('./backup.js');
    const r = restore({
      source: inv.args.dir!,
      dataDir: inv.string('data-dir'),
      env: ctx.env,
      force: inv.flag('force'),
    });
    ctx.out(`restored into ${r.dataDir} (database schema ${r.schemaVersion}); start the server`);
  },
};

import { randomUUID } from 'node:crypto';
import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { JSON_OPTION, type CommandSpec } from './command.js';
import { CliError, usageError } from './errors.js';
import { humanSize, roomTitle } from './format.js';
import { withRetry } from './messages.js';
import { findRoom } from './rooms.js';

export const uploadFile: CommandSpec = {
  name: 'upload',
  summary: 'Upload a file and send it to a room as a message',
  details:
    'Streams the file from disk (it is never read into memory whole), then sends a message carrying it, with\n' +
    '--message as its text (none by default). The server decides the type from the content, not the name.\n' +
    "Limits: the server's MAX_UPLOAD_BYTES (25 MiB by default), your quota, uploads per minute.",
  args: [{ name: 'room' }, { name: 'path' }],
  options: {
    ...JSON_OPTION,
    message: { type: 'string', short: 'm', value: 'TEXT', description: 'Text of the message carrying the file' },
  },
  examples: ['chat upload general ./screenshot.png', 'chat upload @bob report.pdf -m "the numbers"'],
  async run(ctx, inv) {
    const path = inv.args.path!;
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) throw usageError(`not a file: ${path}`, 'upload');
    const room = await findRoom(ctx, inv.args.room!);
    const api = ctx.api();
    // openAsBlob reads the file as the request streams it.
    const file = await api.upload(await openAsBlob(path), basename(path));
    const clientMsgId = `cli-${randomUUID()}`;
    const text = inv.string('message') ?? '';
    const { message, duplicate } = await withRetry(() =>
      api.sendMessage(room.id, text, clientMsgId, undefined, [file.id]),
    );
    if (ctx.json) return ctx.printJson({ file, message, duplicate });
    ctx.out(
      `uploaded ${file.name} (${file.contentType}, ${humanSize(file.size)}) as ${file.id}; sent #${message.seq} to ${roomTitle(room)}`,
    );
  },
};

export const downloadFile: CommandSpec = {
  name: 'download',
  summary: 'Download a file you may read',
  details:
    "Writes to -o PATH (a directory keeps the file's name), or to the file's own name in the current\n" +
    'directory; `-o -` writes to stdout. An existing file is not overwritten unless --force. The bytes are\n' +
    'written to a temporary file and renamed when complete, so an interrupted download leaves nothing half-written.',
  args: [{ name: 'fileId' }],
  options: {
    output: { type: 'string', short: 'o', value: 'PATH', description: 'Where to write (`-` = stdout)' },
    force: { type: 'boolean', description: 'Overwrite an existing file' },
  },
  examples: [
    'chat download f_3kq9Ld0aZ1xYb2cV',
    'chat download f_3kq9Ld0aZ1xYb2cV -o ~/Downloads/',
    'chat download f_… -o - | less',
  ],
  async run(ctx, inv) {
    const id = inv.args.fileId!;
    const api = ctx.api();
    const info = await api.fileInfo(id);
    const res = await api.downloadFile(id);
    if (!res.body) throw new CliError('internal', 'the server sent no body');
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    const out = inv.string('output');
    if (out === '-') {
      await pipeline(body, process.stdout, { end: false });
      return;
    }
    // The server cleaned the name (no path parts); basename again in case of an older or other server.
    const safeName = basename(info.name) || 'file';
    let target = out ?? safeName;
    const existing = await stat(target).catch(() => null);
    if (existing?.isDirectory()) target = join(target, safeName);
    if ((await stat(target).catch(() => null)) && !inv.flag('force')) {
      throw new CliError('exists', `${target} exists; use --force to overwrite`);
    }
    const temp = join(dirname(target), `.${basename(target)}.${randomUUID().slice(0, 8)}.part`);
    try {
      await pipeline(body, createWriteStream(temp, { flags: 'wx' }));
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    ctx.out(`saved ${info.name} (${info.contentType}, ${humanSize(info.size)}) to ${target}`);
  },
};

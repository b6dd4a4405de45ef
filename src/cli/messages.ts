import { randomUUID } from 'node:crypto';
import { ApiError, type ChatApi, type Message, type Reaction } from '../client/index.js';
import { JSON_OPTION, type CommandSpec } from './command.js';
import { usageError } from './errors.js';
import { clean, localTime, roomTitle, withBody } from './format.js';
import { UserNames } from './resolve.js';
import { findRoom } from './rooms.js';

/** clientMsgId: the server stores a message at most once per id, which makes retrying a send safe. */
export const newClientMsgId = () => `cli-${randomUUID()}`;

const SEND_ATTEMPTS = 4;

/** Sends over HTTP, retrying retryable failures (network, rate limit) with the same clientMsgId. */
function sendWithRetry(api: ChatApi, roomId: string, body: string) {
  const clientMsgId = newClientMsgId();
  return withRetry(() => api.sendMessage(roomId, body, clientMsgId));
}

/** Runs an idempotent request, retrying retryable failures (network, rate limit) with backoff. */
async function withRetry<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      if (!(err instanceof ApiError) || !err.retryable || attempt >= SEND_ATTEMPTS) throw err;
      const wait = err.retryAfterMs ?? 250 * 2 ** attempt;
      await new Promise((r) => setTimeout(r, Math.min(wait, 10_000)));
    }
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\n$/, '');
}

export const send: CommandSpec = {
  name: 'send',
  summary: 'Send one message and print its sequence number',
  details:
    'The words after <room> are joined with spaces. Use `-` as the text to read the message from stdin,\n' +
    'and `--` before text that starts with a dash. A <room> is a room id, the exact name of one of your\n' +
    'rooms, or @user for a DM.',
  args: [{ name: 'room' }, { name: 'text', variadic: true }],
  options: JSON_OPTION,
  examples: ['chat send general hello everyone', 'chat send @bob "see you at 3?"', 'git log -1 | chat send dev -'],
  async run(ctx, inv) {
    const body = inv.rest.length === 1 && inv.rest[0] === '-' ? await readStdin() : inv.rest.join(' ');
    if (body.trim() === '') throw usageError('the message is empty', 'send');
    const room = await findRoom(ctx, inv.args.room!);
    const { message, duplicate } = await sendWithRetry(ctx.api(), room.id, body);
    if (ctx.json) return ctx.printJson({ message, duplicate });
    ctx.out(`sent #${message.seq} to ${roomTitle(room)}`);
  },
};

/** One message as a line: a deleted one says so instead of its (redacted) body; an edited one is marked. */
export const edit: CommandSpec = {
  name: 'edit',
  summary: 'Replace the text of one of your messages',
  details:
    'The <seq> is the number `chat send` and `chat history` print (#12 or 12). The words after it are the new\n' +
    'text; `-` reads it from stdin. Everyone in the room sees the edit; `chat history` marks it (edited).',
  args: [{ name: 'room' }, { name: 'seq' }, { name: 'text', variadic: true }],
  options: JSON_OPTION,
  examples: ['chat edit general 12 hello everyone', 'chat edit @bob #40 "see you at 4?"'],
  async run(ctx, inv) {
    const seq = Number(inv.args.seq!.replace(/^#/, ''));
    if (!Number.isSafeInteger(seq) || seq < 1) throw usageError(`not a message number: ${inv.args.seq}`, 'edit');
    const body = inv.rest.length === 1 && inv.rest[0] === '-' ? await readStdin() : inv.rest.join(' ');
    if (body.trim() === '') throw usageError('the new text is empty', 'edit');
    const room = await findRoom(ctx, inv.args.room!);
    const { message, edited } = await withRetry(() => ctx.api().editMessage(room.id, seq, body));
    if (ctx.json) return ctx.printJson({ message, edited });
    ctx.out(edited ? `edited #${message.seq} in ${roomTitle(room)}` : `#${message.seq} already says that`);
  },
};

/** Moves the read marker; a failure (rate limit, network) is not worth failing the command over. */
export async function markReadQuietly(api: ChatApi, roomId: string, seq: number): Promise<void> {
  await api.markRead(roomId, seq).catch(() => undefined);
}

export const read: CommandSpec = {
  name: 'read',
  summary: 'Mark a room read (up to its last message, or up to <seq>)',
  details:
    'Moves your read marker, kept by the server for all your devices: `chat rooms` and the web app count unread\n' +
    'messages after it. It only moves forward. In DMs and small rooms members see it as a read receipt, unless you\n' +
    "turned receipts off in the web app's settings.",
  args: [{ name: 'room' }, { name: 'seq', optional: true }],
  options: JSON_OPTION,
  examples: ['chat read general', 'chat read @bob 40'],
  async run(ctx, inv) {
    const room = await findRoom(ctx, inv.args.room!);
    let seq = room.lastSeq;
    if (inv.args.seq !== undefined) {
      seq = Number(inv.args.seq.replace(/^#/, ''));
      if (!Number.isSafeInteger(seq) || seq < 0) throw usageError(`not a message number: ${inv.args.seq}`, 'read');
    }
    const r = await withRetry(() => ctx.api().markRead(room.id, seq));
    if (ctx.json) return ctx.printJson(r);
    ctx.out(r.moved ? `read up to #${r.readSeq} in ${roomTitle(room)}` : `already read up to #${r.readSeq}`);
  },
};

function seqArg(raw: string, command: string): number {
  const seq = Number(raw.replace(/^#/, ''));
  if (!Number.isSafeInteger(seq) || seq < 1) throw usageError(`not a message number: ${raw}`, command);
  return seq;
}

export const pin: CommandSpec = {
  name: 'pin',
  summary: 'Pin a message to the room (moderators; either member of a DM)',
  details: 'Everyone in the room sees it in the pinned list (`chat pins`). The <seq> is the number history prints.',
  args: [{ name: 'room' }, { name: 'seq' }],
  options: JSON_OPTION,
  examples: ['chat pin general 12'],
  async run(ctx, inv) {
    const seq = seqArg(inv.args.seq!, 'pin');
    const room = await findRoom(ctx, inv.args.room!);
    const r = await withRetry(() => ctx.api().pin(room.id, seq));
    if (ctx.json) return ctx.printJson(r);
    ctx.out(r.pinned ? `pinned #${seq} in ${roomTitle(room)}` : `#${seq} is already pinned`);
  },
};

export const unpin: CommandSpec = {
  name: 'unpin',
  summary: 'Unpin a message',
  args: [{ name: 'room' }, { name: 'seq' }],
  options: JSON_OPTION,
  examples: ['chat unpin general 12'],
  async run(ctx, inv) {
    const seq = seqArg(inv.args.seq!, 'unpin');
    const room = await findRoom(ctx, inv.args.room!);
    const r = await withRetry(() => ctx.api().unpin(room.id, seq));
    if (ctx.json) return ctx.printJson(r);
    ctx.out(r.unpinned ? `unpinned #${seq} in ${roomTitle(room)}` : `#${seq} was not pinned`);
  },
};

export const pins: CommandSpec = {
  name: 'pins',
  summary: "List a room's pinned messages, newest pin first",
  args: [{ name: 'room' }],
  options: JSON_OPTION,
  examples: ['chat pins general', 'chat pins @bob --json'],
  async run(ctx, inv) {
    const api = ctx.api();
    const room = await findRoom(ctx, inv.args.room!);
    const list = await api.pins(room.id);
    if (ctx.json) return ctx.printJson(list);
    if (list.length === 0) return ctx.note(`Nothing is pinned in ${roomTitle(room)}.`);
    const names = new UserNames(api);
    await names.seedRoom(room.id);
    await names.ensure(list.flatMap((p) => [p.message.senderId, p.pinnedBy]));
    for (const p of list) {
      ctx.out(formatMessage(p.message as Message, names.name(p.message.senderId), true));
      ctx.out(`    pinned by ${names.name(p.pinnedBy)} ${localTime(p.pinnedAt)}`);
    }
  },
};

export function formatMessage(m: Message, author: string, withSeq: boolean): string {
  const head = `${withSeq ? `#${m.seq} ` : ''}[${localTime(m.createdAt)}] ${author}: `;
  if (m.data?.deleted) return `${head}(message deleted)`;
  const editedAt = typeof m.data?.editedAt === 'string' ? m.data.editedAt : undefined;
  const line = withBody(head, editedAt ? `${m.body} (edited ${localTime(editedAt)})` : m.body);
  return m.reactions?.length ? `${line}\n${' '.repeat(withSeq ? 4 : 2)}${reactionsText(m.reactions)}` : line;
}

/** `👍 2  🎉 1`: a message's reactions, as history prints them under it. */
export function reactionsText(reactions: readonly Reaction[]): string {
  return reactions.map((r) => `${clean(r.emoji)} ${r.count}`).join('  ');
}

/** `chat react` / `chat unreact`: the same arguments, the same retries (both requests are idempotent). */
function reactionCommand(name: 'react' | 'unreact'): CommandSpec {
  const adding = name === 'react';
  return {
    name,
    summary: adding ? 'React to a message with an emoji' : 'Take back your reaction to a message',
    details:
      'The <seq> is the number `chat send` and `chat history` print (#12 or 12). The <emoji> is an emoji (👍) or a\n' +
      'shortcode (thumbsup or :thumbsup:). ' +
      (adding
        ? 'Reacting twice with the same emoji changes nothing.'
        : 'Taking back one you do not have changes nothing.'),
    args: [{ name: 'room' }, { name: 'seq' }, { name: 'emoji' }],
    options: JSON_OPTION,
    examples: adding
      ? ['chat react general 12 👍', 'chat react @bob #40 :tada:']
      : ['chat unreact general 12 👍', 'chat unreact @bob #40 tada'],
    async run(ctx, inv) {
      const seq = Number(inv.args.seq!.replace(/^#/, ''));
      if (!Number.isSafeInteger(seq) || seq < 1) throw usageError(`not a message number: ${inv.args.seq}`, name);
      const room = await findRoom(ctx, inv.args.room!);
      const api = ctx.api();
      if (adding) {
        const r = await withRetry(() => api.react(room.id, seq, inv.args.emoji!));
        if (ctx.json) return ctx.printJson(r);
        ctx.out(
          r.added ? `reacted ${r.emoji} to #${seq} in ${roomTitle(room)}` : `you had reacted ${r.emoji} to #${seq}`,
        );
      } else {
        const r = await withRetry(() => api.unreact(room.id, seq, inv.args.emoji!));
        if (ctx.json) return ctx.printJson(r);
        ctx.out(
          r.removed ? `removed ${r.emoji} from #${seq} in ${roomTitle(room)}` : `you had no ${r.emoji} on #${seq}`,
        );
      }
    },
  };
}

export const react = reactionCommand('react');
export const unreact = reactionCommand('unreact');

export const history: CommandSpec = {
  name: 'history',
  summary: 'Print recent messages of a room, oldest first',
  details: 'A <room> is a room id, the exact name of one of your rooms, or @user for a DM.',
  args: [{ name: 'room' }],
  options: {
    ...JSON_OPTION,
    limit: { type: 'string', value: 'N', description: 'How many messages (1-200, default 50)' },
    before: { type: 'string', value: 'SEQ', description: 'Only messages before this sequence number (page back)' },
  },
  examples: ['chat history general', 'chat history general --limit 10', 'chat history @bob --before 120'],
  async run(ctx, inv) {
    const limit = inv.int('limit', 1, 200) ?? 50;
    const before = inv.int('before', 0, Number.MAX_SAFE_INTEGER);
    const api = ctx.api();
    const room = await findRoom(ctx, inv.args.room!);
    const messages = await api.messages(room.id, { limit, ...(before !== undefined ? { before } : {}) });
    const last = messages[messages.length - 1];
    // Shown is read: the marker moves for every device (best effort: history still prints if it cannot).
    if (last && before === undefined) await markReadQuietly(api, room.id, last.seq);
    if (ctx.json) return ctx.printJson(messages);
    const names = new UserNames(api);
    await names.seedRoom(room.id);
    await names.ensure(messages.map((m) => m.senderId));
    if (messages.length === 0) return ctx.note(before === undefined ? 'No messages yet.' : 'No older messages.');
    for (const m of messages) ctx.out(formatMessage(m, names.name(m.senderId), true));
    const first = messages[0]!;
    if (messages.length === limit && first.seq > 1) {
      ctx.note(`Older messages: chat history ${inv.args.room} --before ${first.seq}`);
    }
  },
};

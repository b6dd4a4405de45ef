import { randomUUID } from 'node:crypto';
import {
  ApiError,
  type ChatApi,
  type Message,
  type MyRoom,
  type Reaction,
  type ReplyOptions,
  type Room,
} from '../client/index.js';
import { JSON_OPTION, type CommandSpec } from './command.js';
import type { Context } from './context.js';
import { CliError, usageError } from './errors.js';
import { appLabel, clean, humanSize, localTime, roomTitle, withBody } from './format.js';
import { UserNames } from './resolve.js';
import { findRoom } from './rooms.js';
import { blockedIds } from './blocks.js';

/** clientMsgId: the server stores a message at most once per id, which makes retrying a send safe. */
export const newClientMsgId = () => `cli-${randomUUID()}`;

const SEND_ATTEMPTS = 4;

/** Sends over HTTP, retrying retryable failures (network, rate limit) with the same clientMsgId. */
function sendWithRetry(api: ChatApi, roomId: string, body: string, reply?: ReplyOptions) {
  const clientMsgId = newClientMsgId();
  return withRetry(() => api.sendMessage(roomId, body, clientMsgId, reply));
}

/** Runs an idempotent request, retrying retryable failures (network, rate limit) with backoff. */
export async function withRetry<T>(request: () => Promise<T>): Promise<T> {
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
    'rooms, or @user (@user1,user2 for a group) for a DM, which is opened if you have none with them yet.',
  args: [{ name: 'room' }, { name: 'text', variadic: true }],
  options: JSON_OPTION,
  examples: ['chat send general hello everyone', 'chat send @bob "see you at 3?"', 'git log -1 | chat send dev -'],
  async run(ctx, inv) {
    const body = inv.rest.length === 1 && inv.rest[0] === '-' ? await readStdin() : inv.rest.join(' ');
    if (body.trim() === '') throw usageError('the message is empty', 'send');
    const room = await findOrOpenRoom(ctx, inv.args.room!);
    const { message, duplicate } = await sendWithRetry(ctx.api(), room.id, body);
    if (ctx.json) return ctx.printJson({ message, duplicate });
    ctx.out(`sent #${message.seq} to ${roomTitle(room)}`);
  },
};

/** Like findRoom, but `@user` (or `@user1,user2`) with no DM yet opens one, as writing to someone does in any chat app. */
async function findOrOpenRoom(ctx: Context, arg: string): Promise<Room | MyRoom> {
  try {
    return await findRoom(ctx, arg);
  } catch (err) {
    if (!(arg.startsWith('@') && err instanceof CliError && err.code === 'room_not_found')) throw err;
    const me = ctx.login().username.toLowerCase();
    const names = arg
      .slice(1)
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n && n.toLowerCase() !== me);
    if (names.length === 0) throw err;
    return ctx.api().openDm(...names);
  }
}

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
    const seq = parseSeq(inv.args.seq!, 'edit');
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

export const mentions: CommandSpec = {
  name: 'mentions',
  summary: 'List the messages that mention you, newest first, in every room',
  details:
    'Mentions are `@yourname`, and `@room` / `@here` from those the room allows. Read ones stay listed;\n' +
    '`chat rooms` shows how many are unread per room.',
  options: {
    ...JSON_OPTION,
    limit: { type: 'string', value: 'N', description: 'How many (1-200, default 20)' },
    before: { type: 'string', value: 'ID', description: 'Only mentions older than this one (page back)' },
  },
  examples: ['chat mentions', 'chat mentions --limit 5', 'chat mentions --json'],
  async run(ctx, inv) {
    const limit = inv.int('limit', 1, 200) ?? 20;
    const before = inv.int('before', 1, Number.MAX_SAFE_INTEGER);
    const api = ctx.api();
    const list = await api.mentions({ limit, ...(before !== undefined ? { before } : {}) });
    if (ctx.json) return ctx.printJson(list);
    if (list.length === 0)
      return ctx.note(before === undefined ? 'Nobody has mentioned you yet.' : 'No older mentions.');
    const names = new UserNames(api);
    await names.ensure(namedUsers(list.map((i) => i.message as Message)));
    const name = (id: string) => names.name(id);
    const me = ctx.login().userId;
    for (const i of list) {
      const where = i.roomKind === 'dm' ? 'DM' : clean(i.roomName);
      ctx.out(`${where} ${formatMessage(i.message as Message, name(i.message.senderId), true, name, me)}`);
    }
    if (list.length === limit) ctx.note(`Older mentions: chat mentions --before ${list[list.length - 1]!.id}`);
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

/** How many characters of a quoted message a reply line shows. */
const QUOTE_COLUMNS = 60;

/**
 * One message as a line: a deleted one says so instead of its (redacted) body; an edited one is marked. A reply
 * gets a line above it quoting what it answers (`↪ reply to #12 alice: …`); a thread root, its reply count.
 * `name` maps a user id to a username (for the quoted author).
 */
/** A message from someone I blocked, collapsed to its number and time (`--show-blocked` prints it whole). */
export function collapsedLine(m: Message, withSeq: boolean): string {
  return `${withSeq ? `#${m.seq} ` : ''}[${localTime(m.createdAt)}] [blocked]`;
}

export function formatMessage(
  m: Message,
  author: string,
  withSeq: boolean,
  name?: (id: string) => string,
  me?: string,
): string {
  const shown = appLabel(m.data) ?? author;
  // An action message (`/me waves`) reads "* alice waves".
  const who = m.data?.emote === true ? `* ${shown} ` : `${shown}: `;
  const head = `${withSeq ? `#${m.seq} ` : ''}[${localTime(m.createdAt)}] ${who}`;
  const quote = replyLine(m, name);
  const pre = quote ? `${quote}\n` : '';
  if (m.data?.deleted) return `${pre}${head}(message deleted)${repliesNote(m)}`;
  const editedAt = typeof m.data?.editedAt === 'string' ? m.data.editedAt : undefined;
  const line =
    pre +
    withBody(
      head,
      `${editedAt ? `${m.body} (edited ${localTime(editedAt)})` : m.body}${repliesNote(m)}${mentionNote(m, me)}`,
    );
  const indent = ' '.repeat(withSeq ? 4 : 2);
  // Files: one line each, with the id `chat download` takes.
  const files = (m.attachments ?? []).map(
    (f) => `\n${indent}[file] ${clean(f.name)} (${f.contentType}, ${humanSize(f.size)}) ${f.id}`,
  );
  const withFiles = line + files.join('');
  return m.reactions?.length ? `${withFiles}\n${indent}${reactionsText(m.reactions)}` : withFiles;
}

/** ` [@you]` after a message that mentions `me` by name, ` [@room]` / ` [@here]` after one to everyone. */
export function mentionNote(m: Message, me: string | undefined): string {
  if (me === undefined || m.senderId === me) return '';
  const named = Array.isArray(m.data?.mentions) && (m.data.mentions as unknown[]).includes(me);
  if (named) return ' [@you]';
  return m.data?.mentionAll === 'room' || m.data?.mentionAll === 'here' ? ` [@${m.data.mentionAll}]` : '';
}

/** `  ↪ reply to #12 alice: first words…` for a reply; undefined for other messages. */
function replyLine(m: Message, name?: (id: string) => string): string | undefined {
  const d = m.data;
  if (typeof d?.replyTo !== 'number') return undefined;
  const q = d.quote as { senderId?: string; body?: string; deleted?: boolean } | undefined;
  const who = q?.senderId ? ` ${name ? name(q.senderId) : q.senderId}` : '';
  const text = q?.deleted || q?.body === undefined ? '(message deleted)' : oneLine(q.body);
  const kind = d.threadOnly === true ? 'thread reply' : 'reply';
  const thread = typeof d.threadRoot === 'number' && d.threadRoot !== d.replyTo ? ` in thread #${d.threadRoot}` : '';
  return `  ↪ ${kind} to #${d.replyTo}${thread}${who}: ${clean(text)}`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length > QUOTE_COLUMNS ? `${chars.slice(0, QUOTE_COLUMNS - 1).join('')}…` : flat;
}

/** ` [2 replies, last 14:33]` on a thread root (history and thread pages carry the counts). */
function repliesNote(m: Message): string {
  const n = m.data?.replyCount;
  if (typeof n !== 'number' || n < 1) return '';
  const last = typeof m.data?.lastReplyAt === 'string' ? `, last ${localTime(m.data.lastReplyAt)}` : '';
  return ` [${n} ${n === 1 ? 'reply' : 'replies'}${last}]`;
}

/** Every user a page of messages names: authors and quoted authors. */
export function namedUsers(messages: readonly Message[]): string[] {
  const ids = messages.map((m) => m.senderId);
  for (const m of messages) {
    const q = m.data?.quote as { senderId?: unknown } | undefined;
    if (typeof q?.senderId === 'string') ids.push(q.senderId);
  }
  return ids;
}

function parseSeq(raw: string, command: string): number {
  const seq = Number(raw.replace(/^#/, ''));
  if (!Number.isSafeInteger(seq) || seq < 1) throw usageError(`not a message number: ${raw}`, command);
  return seq;
}

export const reply: CommandSpec = {
  name: 'reply',
  summary: 'Reply to a message (quoting it), in the room or only in its thread',
  details:
    'The <seq> is the number `chat send` and `chat history` print (#12 or 12). The words after it are the\n' +
    'reply; `-` reads it from stdin. The reply quotes the start of the message and joins its thread. With\n' +
    "--thread it shows only in the thread (`chat thread`), not in the room's timeline.",
  args: [{ name: 'room' }, { name: 'seq' }, { name: 'text', variadic: true }],
  options: {
    ...JSON_OPTION,
    thread: { type: 'boolean', description: 'Reply in the thread only, not also in the room' },
  },
  examples: ['chat reply general 12 yes, at 3', 'chat reply general #12 --thread "room B"'],
  async run(ctx, inv) {
    const seq = parseSeq(inv.args.seq!, 'reply');
    const body = inv.rest.length === 1 && inv.rest[0] === '-' ? await readStdin() : inv.rest.join(' ');
    if (body.trim() === '') throw usageError('the reply is empty', 'reply');
    const room = await findRoom(ctx, inv.args.room!);
    const threadOnly = inv.flag('thread');
    const { message, duplicate } = await sendWithRetry(ctx.api(), room.id, body, { replyTo: seq, threadOnly });
    if (ctx.json) return ctx.printJson({ message, duplicate });
    const root = typeof message.data?.threadRoot === 'number' ? message.data.threadRoot : seq;
    ctx.out(
      `sent #${message.seq} to ${roomTitle(room)}${threadOnly ? ` (thread #${root} only)` : ` (reply to #${seq})`}`,
    );
  },
};

export const thread: CommandSpec = {
  name: 'thread',
  summary: 'Print a thread: the message and its replies, oldest first',
  details: "The <seq> is a thread's first message or any reply in it.",
  args: [{ name: 'room' }, { name: 'seq' }],
  options: {
    ...JSON_OPTION,
    limit: { type: 'string', value: 'N', description: 'How many replies (1-200, default 50)' },
    before: { type: 'string', value: 'SEQ', description: 'Only replies before this sequence number (page back)' },
  },
  examples: ['chat thread general 12', 'chat thread general 12 --limit 10'],
  async run(ctx, inv) {
    const seq = parseSeq(inv.args.seq!, 'thread');
    const limit = inv.int('limit', 1, 200) ?? 50;
    const before = inv.int('before', 0, Number.MAX_SAFE_INTEGER);
    const api = ctx.api();
    const room = await findRoom(ctx, inv.args.room!);
    const t = await api.thread(room.id, seq, { limit, ...(before !== undefined ? { before } : {}) });
    if (ctx.json) return ctx.printJson(t);
    const names = new UserNames(api);
    await names.seedRoom(room.id);
    await names.ensure(namedUsers([t.root, ...t.messages]));
    const name = (id: string) => names.name(id);
    ctx.out(formatMessage(t.root, name(t.root.senderId), true, name));
    if (t.messages.length === 0) return ctx.note('No replies yet.');
    for (const m of t.messages) ctx.out(withBody('  ', formatMessage(m, name(m.senderId), true, name)));
    const first = t.messages[0]!;
    if (t.messages.length === limit) {
      ctx.note(`Older replies: chat thread ${inv.args.room} ${t.root.seq} --before ${first.seq}`);
    }
  },
};

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
    'show-blocked': { type: 'boolean', description: 'Print the messages of users you blocked (shown as [blocked])' },
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
    await names.ensure(namedUsers(messages));
    if (messages.length === 0) return ctx.note(before === undefined ? 'No messages yet.' : 'No older messages.');
    const name = (id: string) => names.name(id);
    const blocked = inv.flag('show-blocked') ? new Set<string>() : await blockedIds(ctx);
    const me = ctx.login().userId;
    for (const m of messages) {
      ctx.out(blocked.has(m.senderId) ? collapsedLine(m, true) : formatMessage(m, name(m.senderId), true, name, me));
    }
    const first = messages[0]!;
    if (messages.length === limit && first.seq > 1) {
      ctx.note(`Older messages: chat history ${inv.args.room} --before ${first.seq}`);
    }
  },
};

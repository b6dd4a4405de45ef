import { SEARCH_HIGHLIGHT_END, SEARCH_HIGHLIGHT_START, type MessageSearchParams } from '../client/index.js';
import { JSON_OPTION, type CommandSpec } from './command.js';
import { usageError } from './errors.js';
import { appLabel, clean, localTime } from './format.js';
import { UserNames } from './resolve.js';
import { findRoom } from './rooms.js';

/** A snippet's highlight marks (U+E000 … U+E001) as bold on a terminal, as *stars* elsewhere (pipes, files). */
export function renderSnippet(snippet: string, tty: boolean): string {
  const [on, off] = tty ? ['\u001b[1m', '\u001b[22m'] : ['*', '*'];
  // clean() first: it neutralises control characters in the text, not the marks (private-use characters).
  return clean(snippet.replace(/\s+/g, ' '))
    .replaceAll(SEARCH_HIGHLIGHT_START, on)
    .replaceAll(SEARCH_HIGHLIGHT_END, off);
}

export const search: CommandSpec = {
  name: 'search',
  summary: 'Search messages in your rooms and public rooms, newest first',
  details:
    'Every word must match, as the start of a word (deploy finds "deployment"); Chinese and Japanese match\n' +
    'by characters (数据 finds 数据库). Matches are shown in bold (between *stars* when not on a terminal).\n' +
    'Dates are YYYY-MM-DD (UTC) or ISO 8601 with a zone. --room takes a room id, name or @user.',
  args: [{ name: 'query', variadic: true }],
  options: {
    ...JSON_OPTION,
    room: { type: 'string', value: 'R', description: 'Only this room' },
    from: { type: 'string', value: 'USER', description: 'Only messages by this username' },
    after: { type: 'string', value: 'DATE', description: 'Only messages sent after this date' },
    before: { type: 'string', value: 'DATE', description: 'Only messages sent before this date' },
    has: { type: 'string', value: 'link|file', description: 'Only messages with a link, or with files' },
    'in-thread': { type: 'boolean', description: 'Only thread replies' },
    relevance: { type: 'boolean', description: 'Best match first instead of newest first' },
    limit: { type: 'string', value: 'N', description: 'How many (default 20)' },
    cursor: { type: 'string', value: 'C', description: 'The next page (printed after a full page)' },
  },
  examples: [
    'chat search deploy',
    'chat search 数据库 --room ops',
    'chat search release notes --from alice --after 2026-11-01',
    'chat search runbook --has link --json',
  ],
  async run(ctx, inv) {
    const q = inv.rest.join(' ').trim();
    if (!q) throw usageError('give words to search for', 'search');
    const has = inv.string('has');
    if (has !== undefined && has !== 'link' && has !== 'file') throw usageError('--has takes link or file', 'search');
    const api = ctx.api();
    const roomArg = inv.string('room');
    const room = roomArg === undefined ? undefined : await findRoom(ctx, roomArg);
    const params: MessageSearchParams = { q };
    const set = <K extends keyof MessageSearchParams>(k: K, v: MessageSearchParams[K] | undefined) => {
      if (v !== undefined) params[k] = v;
    };
    set('roomId', room?.id);
    set('from', inv.string('from')?.replace(/^@/, ''));
    set('after', inv.string('after'));
    set('before', inv.string('before'));
    set('has', has as 'link' | 'file' | undefined);
    if (inv.flag('in-thread')) params.inThread = true;
    if (inv.flag('relevance')) params.sort = 'relevance';
    set('limit', inv.int('limit', 1, 200));
    set('cursor', inv.string('cursor'));
    const page = await api.search(params);
    if (ctx.json) return ctx.printJson(page);
    if (page.results.length === 0) return ctx.note(params.cursor ? 'No more results.' : 'No messages found.');
    const names = new UserNames(api);
    await names.ensure(page.results.map((r) => r.message.senderId));
    const tty = Boolean(process.stdout.isTTY);
    for (const r of page.results) {
      const where = r.roomKind === 'dm' ? 'DM' : clean(r.roomName);
      const m = r.message;
      ctx.out(
        `${where} #${m.seq} [${localTime(m.createdAt)}] ${appLabel(m.data) ?? names.name(m.senderId)}: ${renderSnippet(r.snippet, tty)}`,
      );
    }
    if (page.nextCursor) ctx.note(`More: add --cursor ${page.nextCursor}`);
  },
};

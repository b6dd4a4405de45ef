import { describe, expect, it } from 'vitest';
import { replaceShortcodes, suggestEmoji } from '../../web/src/state/emoji.js';
import { isEmojiOnly, parseInline, parseMarkdown, safeHref } from '../../web/src/state/markdown.js';
import {
  countReply,
  inMainTimeline,
  markDeleted,
  markEdited,
  markQuotesDeleted,
  mergeMessages,
  toUi,
  type UiMessage,
} from '../../web/src/state/messages.js';

describe('web client Markdown', () => {
  it('parses bold, italic, strike, inline code and line breaks', () => {
    expect(parseInline('a **b** *c* _d_ ~~e~~ `f*g*`\nh')).toEqual([
      { t: 'text', v: 'a ' },
      { t: 'strong', c: [{ t: 'text', v: 'b' }] },
      { t: 'text', v: ' ' },
      { t: 'em', c: [{ t: 'text', v: 'c' }] },
      { t: 'text', v: ' ' },
      { t: 'em', c: [{ t: 'text', v: 'd' }] },
      { t: 'text', v: ' ' },
      { t: 'del', c: [{ t: 'text', v: 'e' }] },
      { t: 'text', v: ' ' },
      { t: 'code', v: 'f*g*' },
      { t: 'br' },
      { t: 'text', v: 'h' },
    ]);
  });

  it('leaves snake_case, lone asterisks and unclosed markers alone', () => {
    expect(parseInline('snake_case_name 2 * 3 = 6 **open')).toEqual([
      { t: 'text', v: 'snake_case_name 2 * 3 = 6 **open' },
    ]);
  });

  it('makes links only to http(s) and mailto, and keeps anything else as plain text', () => {
    expect(parseInline('[docs](https://example.com/a_(b))')).toEqual([
      { t: 'link', href: 'https://example.com/a_(b)', c: [{ t: 'text', v: 'docs' }] },
    ]);
    expect(parseInline('[x](javascript:alert(1))')).toEqual([{ t: 'text', v: '[x](javascript:alert(1))' }]);
    expect(parseInline('[x](data:text/html,<b>)')).toEqual([{ t: 'text', v: '[x](data:text/html,<b>)' }]);
    expect(parseInline('[x](/relative)')).toEqual([{ t: 'text', v: '[x](/relative)' }]);
    expect(safeHref(' JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeHref('mailto:a@b.c')).toBe('mailto:a@b.c');
    expect(parseInline('see https://example.com/x.')).toEqual([
      { t: 'text', v: 'see ' },
      { t: 'link', href: 'https://example.com/x', c: [{ t: 'text', v: 'https://example.com/x' }] },
      { t: 'text', v: '.' },
    ]);
  });

  it('keeps markup characters as text', () => {
    expect(parseInline('<img src=x onerror=alert(1)>')).toEqual([{ t: 'text', v: '<img src=x onerror=alert(1)>' }]);
  });

  it('splits fenced code blocks and quotes from paragraphs', () => {
    expect(parseMarkdown('before\n```js\nconst a = 1 **not bold**\n```\n> quoted *it*\nafter')).toEqual([
      { t: 'p', c: [{ t: 'text', v: 'before' }] },
      { t: 'pre', v: 'const a = 1 **not bold**', lang: 'js' },
      {
        t: 'quote',
        c: [
          { t: 'text', v: 'quoted ' },
          { t: 'em', c: [{ t: 'text', v: 'it' }] },
        ],
      },
      { t: 'p', c: [{ t: 'text', v: 'after' }] },
    ]);
    expect(parseMarkdown('```unclosed')).toEqual([{ t: 'p', c: [{ t: 'text', v: '```unclosed' }] }]);
  });

  it('replaces :shortcodes: outside code, and knows emoji-only messages', () => {
    expect(replaceShortcodes('hi :wave: :nope: :+1:')).toBe('hi 👋 :nope: 👍');
    expect(parseInline('`:smile:` :smile:')).toEqual([
      { t: 'code', v: ':smile:' },
      { t: 'text', v: ' 😄' },
    ]);
    expect(suggestEmoji('th').map((e) => e.code)).toEqual(['thinking', 'thumbsup', 'thumbsdown']);
    expect(isEmojiOnly(':tada: 🎉')).toBe(true);
    expect(isEmojiOnly('123')).toBe(false);
    expect(isEmojiOnly('ok 👍')).toBe(false);
  });
});

describe('web client message store', () => {
  const msg = (seq: number | null, key: string, body = key): UiMessage => ({
    key,
    id: seq === null ? null : `e${seq}`,
    seq,
    roomId: 'r',
    senderId: 'u',
    body,
    clientMsgId: key,
    createdAt: '2026-01-01T00:00:00.000Z',
    status: seq === null ? 'pending' : 'sent',
  });

  it('orders by seq, drops duplicates, and replaces an optimistic message by its stored echo', () => {
    let list = mergeMessages([], [msg(2, 'b'), msg(1, 'a')]);
    list = mergeMessages(list, []);
    list = [...list, msg(null, 'mine')];
    list = mergeMessages(list, [msg(3, 'c'), msg(2, 'b')]);
    expect(list.map((m) => m.key)).toEqual(['a', 'b', 'c', 'mine']);
    list = mergeMessages(list, [msg(4, 'mine')]);
    expect(list.map((m) => [m.key, m.seq, m.status])).toEqual([
      ['a', 1, 'sent'],
      ['b', 2, 'sent'],
      ['c', 3, 'sent'],
      ['mine', 4, 'sent'],
    ]);
    expect(mergeMessages(list, [msg(4, 'mine'), msg(1, 'a')])).toBe(list); // nothing new: same array
  });

  it('edits: the newest edit wins whatever order they arrive in; deleted messages stay deleted', () => {
    const list = [msg(1, 'a'), msg(2, 'b')];
    const t1 = '2026-01-01T00:01:00.000Z';
    const t2 = '2026-01-01T00:02:00.000Z';
    const once = markEdited(list, 1, 'a v1', t1);
    expect(once[0]).toMatchObject({ body: 'a v1', editedAt: t1 });
    expect(once[1]).toBe(list[1]);
    const twice = markEdited(once, 1, 'a v2', t2);
    expect(twice[0]).toMatchObject({ body: 'a v2', editedAt: t2 });
    expect(markEdited(twice, 1, 'a v1', t1)).toBe(twice); // an older edit arriving late changes nothing
    expect(markEdited(twice, 9, 'x', t2)).toBe(twice);
    const gone = markDeleted(twice, 1);
    expect(markEdited(gone, 1, 'back?', '2026-01-01T00:03:00.000Z')).toBe(gone);
    expect(
      toUi({
        id: 'e1',
        roomId: 'r',
        seq: 1,
        type: 'message',
        senderId: 'u',
        body: 'now',
        clientMsgId: 'c',
        data: { editedAt: t2 },
        createdAt: t1,
      }),
    ).toMatchObject({ body: 'now', editedAt: t2 });
  });

  it('replies: the reply fields from the wire; counts on roots; quotes blanked when their target is deleted', () => {
    const reply = toUi({
      id: 'e3',
      roomId: 'r',
      seq: 3,
      type: 'message',
      senderId: 'u2',
      body: 're',
      clientMsgId: 'c3',
      data: { replyTo: 1, threadRoot: 1, threadOnly: true, quote: { senderId: 'u1', body: 'a' } },
      createdAt: '2026-01-01T00:03:00.000Z',
    });
    expect(reply.reply).toEqual({ replyTo: 1, threadRoot: 1, threadOnly: true, quote: { senderId: 'u1', body: 'a' } });
    expect(inMainTimeline(reply)).toBe(false);
    expect(inMainTimeline(msg(1, 'a'))).toBe(true);
    const root = toUi({
      id: 'e1',
      roomId: 'r',
      seq: 1,
      type: 'message',
      senderId: 'u1',
      body: 'a',
      clientMsgId: 'c1',
      data: { replyCount: 2, lastReplyAt: '2026-01-01T00:02:00.000Z' },
      createdAt: '2026-01-01T00:01:00.000Z',
    });
    const list = [root, msg(2, 'b'), reply];
    const up = countReply(list, 1, 1, reply.createdAt);
    expect(up[0]).toMatchObject({ replyCount: 3, lastReplyAt: reply.createdAt });
    expect(up[1]).toBe(list[1]);
    expect(countReply(up, 1, -1)[0]).toMatchObject({ replyCount: 2, lastReplyAt: reply.createdAt });
    expect(countReply(list, 9, 1)).toBe(list); // no such root here: the same array
    const blanked = markQuotesDeleted(list, 1);
    expect(blanked[2]!.reply!.quote).toEqual({ senderId: 'u1', body: '', deleted: true });
    expect(markQuotesDeleted(blanked, 1)).toBe(blanked);
    expect(markQuotesDeleted(list, 2)).toBe(list);
  });
});

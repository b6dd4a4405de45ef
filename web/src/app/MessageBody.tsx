import type { ComponentChildren } from 'preact';
import { t } from '../i18n/index.js';
import { formatFull, spacedAfterWord } from '../state/format.js';
import { inertText } from './Inert.js';
import { memo } from './memo.js';
import { replaceShortcodes } from '../state/emoji.js';
import { isEmojiOnly, parseMarkdown, type Inline } from '../state/markdown.js';

/**
 * Renders a message body from the Markdown parser's tree. Every string goes in as a text child, which the DOM
 * treats as text: this component never sets innerHTML, so a message cannot inject markup or script.
 */
/** How mentions in a body are shown: as chips, mine (`me`: my folded username) stronger. Absent: plain text. */
export interface MentionStyle {
  me: string;
}

// `@name` as the server reads it (src/core/moderation/flood-guard.ts): not inside an e-mail address.
const MENTION = /(?<![A-Za-z0-9_.@-])@([A-Za-z0-9][A-Za-z0-9_.-]*)/gu;

function withMentions(text: string, style: MentionStyle | undefined): ComponentChildren {
  if (!style || !text.includes('@')) return inertText(text);
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const m of text.matchAll(MENTION)) {
    const name = m[1]!.replace(/[.-]+$/, '');
    const start = m.index;
    if (start > at) out.push(inertText(text.slice(at, start)));
    const key = name.toLowerCase();
    const mine = key === style.me || key === 'room' || key === 'here';
    out.push(
      <span key={start} class={`mention${mine ? ' mention-me' : ''}`}>
        @{name}
      </span>,
    );
    at = start + 1 + name.length;
  }
  if (at < text.length) out.push(inertText(text.slice(at)));
  return out;
}

function inline(nodes: Inline[], style?: MentionStyle): ComponentChildren[] {
  return nodes.map((n, i) => {
    switch (n.t) {
      case 'text':
        return withMentions(n.v, style);
      case 'br':
        return <br key={i} />;
      case 'code':
        return (
          <code key={i} class="md-code">
            {inertText(n.v)}
          </code>
        );
      case 'strong':
        return <strong key={i}>{inline(n.c, style)}</strong>;
      case 'em':
        return <em key={i}>{inline(n.c, style)}</em>;
      case 'del':
        return <del key={i}>{inline(n.c, style)}</del>;
      case 'link':
        return (
          <a key={i} href={n.href} target="_blank" rel="noopener noreferrer nofollow">
            {inline(n.c)}
          </a>
        );
    }
  });
}

/** "(edited)", with the time on hover: inline at the end of the text, as chat apps show it. */
function EditedMark({ editedAt }: { editedAt: string }) {
  return (
    <span class="msg-edited" title={t('message.editedAt', { time: formatFull(editedAt) })}>
      {spacedAfterWord(t('message.edited'))}
    </span>
  );
}

export const MessageBody = memo(function MessageBody({
  body,
  editedAt,
  mentionMe,
}: {
  body: string;
  editedAt?: string;
  /** Set (to my username, folded) when the message mentions someone: its `@names` show as chips, mine stronger. */
  mentionMe?: string;
}) {
  const mentions = mentionMe === undefined ? undefined : { me: mentionMe };
  const mark = editedAt ? <EditedMark editedAt={editedAt} /> : null;
  // Each block is isolated, its direction from its own first strong letter (dir="auto"): a Hebrew or Arabic
  // line reads right to left without turning the message around it; bidi controls in it are shown inert.
  if (isEmojiOnly(body)) {
    return (
      <div class="md jumbo" dir="auto">
        {inertText(replaceShortcodes(body.trim()))}
        {mark}
      </div>
    );
  }
  const blocks = parseMarkdown(body);
  const last = blocks.length - 1;
  return (
    <div class="md">
      {blocks.map((b, i) => {
        if (b.t === 'pre')
          return (
            <pre key={i} class="md-pre" data-lang={b.lang || undefined} dir="auto">
              <code>{inertText(b.v)}</code>
            </pre>
          );
        if (b.t === 'quote')
          return (
            <blockquote key={i} class="md-quote" dir="auto">
              {inline(b.c, mentions)}
            </blockquote>
          );
        return (
          <p key={i} class="md-p" dir="auto">
            {inline(b.c, mentions)}
            {i === last && mark}
          </p>
        );
      })}
      {blocks[last]?.t !== 'p' && mark}
    </div>
  );
});

import type { ComponentChildren } from 'preact';
import { inertText } from './Inert.js';
import { memo } from './memo.js';
import { replaceShortcodes } from '../state/emoji.js';
import { isEmojiOnly, parseMarkdown, type Inline } from '../state/markdown.js';

/**
 * Renders a message body from the Markdown parser's tree. Every string goes in as a text child, which the DOM
 * treats as text: this component never sets innerHTML, so a message cannot inject markup or script.
 */
function inline(nodes: Inline[]): ComponentChildren[] {
  return nodes.map((n, i) => {
    switch (n.t) {
      case 'text':
        return inertText(n.v);
      case 'br':
        return <br key={i} />;
      case 'code':
        return (
          <code key={i} class="md-code">
            {inertText(n.v)}
          </code>
        );
      case 'strong':
        return <strong key={i}>{inline(n.c)}</strong>;
      case 'em':
        return <em key={i}>{inline(n.c)}</em>;
      case 'del':
        return <del key={i}>{inline(n.c)}</del>;
      case 'link':
        return (
          <a key={i} href={n.href} target="_blank" rel="noopener noreferrer nofollow">
            {inline(n.c)}
          </a>
        );
    }
  });
}

export const MessageBody = memo(function MessageBody({ body }: { body: string }) {
  // Each block is isolated, its direction from its own first strong letter (dir="auto"): a Hebrew or Arabic
  // line reads right to left without turning the message around it; bidi controls in it are shown inert.
  if (isEmojiOnly(body))
    return (
      <div class="md jumbo" dir="auto">
        {inertText(replaceShortcodes(body.trim()))}
      </div>
    );
  const blocks = parseMarkdown(body);
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
              {inline(b.c)}
            </blockquote>
          );
        return (
          <p key={i} class="md-p" dir="auto">
            {inline(b.c)}
          </p>
        );
      })}
    </div>
  );
});

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { roomTitle } from '../state/format.js';
import { can } from '../state/permissions.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { useAutoGrow } from './kit.js';
import { BlockedRow, MessageRow } from './MessageList.js';

/**
 * The thread side panel: the root, its replies (loaded, then live from the room's events), and a composer whose
 * replies go to the thread only unless "Also send to the room" is ticked. On a phone it covers the screen, with a
 * back button.
 */
export function ThreadPanel({ roomId }: { roomId: string }) {
  const chat = useChat();
  const panel = useApp((s) => (s.thread?.roomId === roomId ? s.thread : null));
  const view = useApp((s) => s.views[roomId]);
  const users = useApp((s) => s.users);
  const me = useApp((s) => s.me);
  const room = useApp((s) => s.rooms[roomId]);
  const editing = useApp((s) => (s.editing?.roomId === roomId ? s.editing.seq : null));
  const blocked = useApp((s) => s.blocked);
  const shownBlocked = useApp((s) => s.shownBlocked);
  const scroller = useRef<HTMLDivElement>(null);
  const replies = panel ? chat.threads.replies(panel, view?.messages ?? []) : [];

  /** Distance from the bottom to keep while older replies load above (null: follow the newest). */
  const keepFromBottom = useRef<number | null>(null);
  // Newest reply in view: the panel opens at the end and follows new replies; older ones load above in place.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (keepFromBottom.current !== null) {
      el.scrollTop = el.scrollHeight - keepFromBottom.current;
      if (!panel?.loading) keepFromBottom.current = null;
    } else el.scrollTop = el.scrollHeight;
  }, [replies.length, panel?.loading]);
  const showOlder = () => {
    const el = scroller.current;
    keepFromBottom.current = el ? el.scrollHeight - el.scrollTop : null;
    void chat.threads.loadOlder();
  };

  if (!panel) return null;
  const root = panel.root ?? chat.threads.find(roomId, panel.rootSeq) ?? null;
  const deleteAny = room ? can('deleteAny', room.kind, room.myRole, me) : false;
  const rootAuthor = root ? users[root.senderId] : undefined;
  const rootName =
    root?.integration?.name ?? (rootAuthor ? rootAuthor.displayName || rootAuthor.username : t('people.unknown'));
  // All of them, loaded or not (the root counts them), and at least those shown.
  const count = Math.max(replies.filter((m) => !m.deleted && m.seq !== null).length, root?.replyCount ?? 0);
  const row = (m: (typeof replies)[number], inThread: boolean) =>
    blocked[m.senderId] && !shownBlocked[m.key] ? (
      <BlockedRow key={m.key} m={m} />
    ) : (
      <MessageRow
        key={m.key}
        m={m}
        grouped={false}
        author={users[m.senderId]}
        mine={m.senderId === me?.id}
        canDelete={deleteAny || m.senderId === me?.id}
        editing={editing !== null && m.seq === editing}
        quoteAuthor={m.reply ? users[m.reply.quote.senderId] : undefined}
        inThread={inThread}
      />
    );

  return (
    <aside
      class="thread-panel"
      aria-label={t('thread.label', { name: rootName })}
      data-testid="thread-panel"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented) chat.threads.close();
      }}
    >
      <header class="thread-head">
        <button
          type="button"
          class="icon-button only-mobile"
          aria-label={t('thread.back')}
          title={t('thread.back')}
          onClick={() => chat.threads.close()}
        >
          <Icon name="arrowLeft" size={20} />
        </button>
        <div class="thread-title">
          <h2>{t('thread.title')}</h2>
          {room && (
            <span class="thread-room">
              {t('thread.in', { room: room.kind === 'dm' ? roomTitle(room, me?.id) : `#${roomTitle(room, me?.id)}` })}
            </span>
          )}
        </div>
        <button
          type="button"
          class="icon-button not-mobile"
          aria-label={t('thread.close')}
          title={t('thread.close')}
          onClick={() => chat.threads.close()}
        >
          <Icon name="x" size={18} />
        </button>
      </header>
      <div class="thread-scroll" ref={scroller}>
        {root && <div class="thread-root">{row(root, true)}</div>}
        <div class="thread-divider" role="separator">
          <span>{t('thread.repliesDivider', { count })}</span>
        </div>
        {panel.loading && (
          <div class="loading-row" role="status">
            <span class="spinner" aria-hidden="true" />
            {t('common.loading')}
          </div>
        )}
        {!panel.loading && panel.hasMore && (
          <button type="button" class="link-button thread-older" onClick={showOlder}>
            {t('thread.older')}
          </button>
        )}
        {!panel.loading && replies.length === 0 && <p class="empty-hint">{t('thread.noReplies')}</p>}
        <div class="thread-replies" data-testid="thread-replies">
          {replies.map((m) => row(m, true))}
        </div>
      </div>
      <ThreadComposer key={`${roomId}:${panel.rootSeq}`} />
    </aside>
  );
}

/** Enter sends to the thread (and the room, when ticked); Shift+Enter is a new line. */
function ThreadComposer() {
  const chat = useChat();
  const maxChars = useApp((s) => s.maxChars);
  const [text, setText] = useState('');
  const [alsoToRoom, setAlsoToRoom] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  useAutoGrow(input, text);
  useEffect(() => {
    if (matchMedia('(pointer: fine)').matches) input.current?.focus();
  }, []);
  const send = () => {
    if (!text.trim() || text.length > maxChars) return;
    chat.threads.sendInThread(text, alsoToRoom);
    setText('');
  };
  return (
    <form
      class="thread-composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <div class="composer">
        <textarea
          ref={input}
          class="composer-input thread-input"
          rows={1}
          value={text}
          placeholder={t('thread.placeholder')}
          aria-label={t('thread.placeholder')}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
              e.preventDefault();
              send();
            }
          }}
        />
        <div class="composer-actions">
          <button
            type="submit"
            class="send-button"
            aria-label={t('composer.send')}
            title={t('composer.send')}
            disabled={!text.trim() || text.length > maxChars}
          >
            <Icon name="send" size={18} />
          </button>
        </div>
      </div>
      <label class="thread-also">
        <input type="checkbox" checked={alsoToRoom} onChange={(e) => setAlsoToRoom(e.currentTarget.checked)} />
        {t('thread.alsoSend')}
      </label>
    </form>
  );
}

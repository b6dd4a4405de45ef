import { tk } from '../i18n/keep.js';
import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { MyRoom, PublicUser } from '../../../src/protocol/model.js';
import type { MemberLine } from '../state/app-state.js';
import { t } from '../i18n/index.js';
import { inMainTimeline, mentionsMe, type UiMessage, type UiReply } from '../state/messages.js';
import { dayKey, dayLabel, formatFull, formatTime, nameOf, roomTitle } from '../state/format.js';
import { recentEmoji, rememberEmoji } from '../state/recent-emoji.js';
import { Attachments } from './Attachments.js';
import { Avatar } from './Avatar.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { useAutoGrow } from './kit.js';
import { memo } from './memo.js';
import { LinkPreviewCard } from './LinkPreviewCard.js';
import { MessageBody } from './MessageBody.js';
import { ReactionPicker } from './ReactionPicker.js';
import { can } from '../state/permissions.js';
import { AppBadge, appIcon } from './AppName.js';

const NONE: UiMessage[] = [];
const NO_LINES: MemberLine[] = [];

/** Consecutive messages by one author within this long are grouped under one header. */
const GROUP_MS = 5 * 60_000;
const NEAR_BOTTOM_PX = 48;
/** Room left above "New messages" when a room opens there: the last message read stays in sight. */
const DIVIDER_MARGIN_PX = 64;
const NEAR_TOP_PX = 300;

/** Focuses the composer again (after an inline edit ends), if there is one. */
const focusComposer = () => document.querySelector<HTMLTextAreaElement>('.composer-input')?.focus();
const focusThreadComposer = () => document.querySelector<HTMLTextAreaElement>('.thread-input')?.focus();

/**
 * The inline editor of one's own message: Enter saves, Shift+Enter is a new line, Esc cancels (as in Slack and
 * Discord). Saving the same text just closes it; a refused edit stays open with the text, the reason in a toast.
 */
function MessageEditor({ m, seq }: { m: UiMessage; seq: number }) {
  const chat = useChat();
  const maxChars = useApp((s) => s.maxChars);
  const [text, setText] = useState(m.body);
  const [saving, setSaving] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);

  useAutoGrow(input, text);
  useEffect(() => {
    const el = input.current;
    el?.focus();
    el?.setSelectionRange(el.value.length, el.value.length);
  }, []);

  const close = () => {
    chat.ui.setEditing(null);
    focusComposer();
  };
  const save = async () => {
    if (saving || !text.trim() || text.length > maxChars) return;
    if (text === m.body) return close();
    setSaving(true);
    const ok = await chat.timeline.edit(m.roomId, seq, text);
    setSaving(false);
    if (ok) close();
  };
  return (
    <form
      class="msg-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <textarea
        ref={input}
        class="msg-editor-input"
        rows={1}
        value={text}
        aria-label={t('message.editLabel')}
        disabled={saving}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            close();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            void save();
          }
        }}
      />
      <div class="msg-editor-foot">
        <span class="msg-editor-hint">{t('message.editHint')}</span>
        {text.length > maxChars && <span class="char-count over">{maxChars - text.length}</span>}
        <button type="button" class="link-button muted" onClick={close}>
          {t('message.editCancel')}
        </button>
        <button type="submit" class="link-button" disabled={saving || !text.trim() || text.length > maxChars}>
          {t('message.editSave')}
        </button>
      </div>
    </form>
  );
}

// A deleted account (issue 18) reads as "Deleted user" in the reader's language.
const displayOf = (u: PublicUser | undefined) =>
  u ? (u.deleted ? tk('keep.deletedUser') : u.displayName || u.username) : t('people.unknown');

/** The quote of what a reply answers: author and start of the text; a click shows the original. */
function ReplyQuote({ m, reply, author }: { m: UiMessage; reply: UiReply; author: PublicUser | undefined }) {
  const chat = useChat();
  const name = displayOf(author);
  const text = reply.quote.deleted ? t('message.quoteDeleted') : reply.quote.body.replace(/\s+/g, ' ');
  return (
    <button
      type="button"
      class={`msg-quote${reply.quote.deleted ? ' gone' : ''}`}
      data-testid="reply-quote"
      data-reply-to={reply.replyTo}
      aria-label={t('message.quoteJump', { name })}
      title={t('message.quoteJump', { name })}
      onClick={() => void chat.threads.jumpTo(m.roomId, reply.replyTo)}
    >
      <Icon name="reply" size={13} />
      <span class="msg-quote-author">{name}</span>
      <span class="msg-quote-text">{text}</span>
    </button>
  );
}

/** "3 replies · last reply 14:33" under a thread's root, with a dot while it has replies this user has not seen. */
function ThreadLink({ m, seq, unread }: { m: UiMessage; seq: number; unread: boolean }) {
  const chat = useChat();
  const count = m.replyCount ?? 0;
  return (
    <button
      type="button"
      class={`msg-thread-link${unread ? ' unread' : ''}`}
      data-testid="thread-link"
      onClick={() => void chat.threads.open(m.roomId, seq)}
    >
      <Icon name="thread" size={14} />
      <span class="msg-thread-count">{t('message.replies', { count })}</span>
      {m.lastReplyAt && (
        <span class="msg-thread-last" title={formatFull(m.lastReplyAt)}>
          · {t('message.lastReply', { time: formatTime(m.lastReplyAt) })}
        </span>
      )}
      {unread && (
        <span class="unread-dot" role="status" aria-label={t('message.newReplies')} title={t('message.newReplies')} />
      )}
    </button>
  );
}

/** Who reacted, by display name, for a chip's tooltip: the first ten, then how many more. */
function whoReacted(names: string[], emoji: string): string {
  const shown = names.slice(0, 10).join(t('reactions.separator'));
  return names.length > 10
    ? t('reactions.whoMore', { names: shown, count: names.length - 10, emoji })
    : t('reactions.who', { names: shown, emoji });
}

/**
 * A message's reactions as chips (emoji and count; mine highlighted; the tooltip says who), each a toggle of my own
 * reaction, and a chip that opens the picker.
 */
function ReactionChips({ m, seq, onAdd }: { m: UiMessage; seq: number; onAdd: (anchor: DOMRect) => void }) {
  const chat = useChat();
  const users = useApp((s) => s.users);
  const me = useApp((s) => s.me?.id);
  const reactions = m.reactions ?? [];
  useEffect(() => {
    for (const r of reactions) for (const id of r.userIds) chat.people.ensureUser(id);
  }, [reactions]);
  return (
    <div class="reactions" role="group" aria-label={t('reactions.label')}>
      {reactions.map((r) => {
        const mine = !!me && r.userIds.includes(me);
        const who = whoReacted(
          r.userIds.map((id) => nameOf(users, id)),
          r.emoji,
        );
        return (
          <button
            type="button"
            key={r.emoji}
            class={`reaction${mine ? ' mine' : ''}`}
            aria-pressed={mine}
            aria-label={`${r.emoji} ${r.count}: ${who}`}
            title={who}
            data-emoji={r.emoji}
            onClick={() => {
              void chat.timeline.react(m.roomId, seq, r.emoji, !mine);
            }}
          >
            <span class="reaction-emoji">{r.emoji}</span>
            <span class="reaction-count">{r.count}</span>
          </button>
        );
      })}
      <button
        type="button"
        class="reaction reaction-add"
        aria-label={t('reactions.add')}
        title={t('reactions.add')}
        onClick={(e) => onAdd(e.currentTarget.getBoundingClientRect())}
      >
        <Icon name="smile" size={16} />
        <span aria-hidden="true">+</span>
      </button>
    </div>
  );
}

export const MessageRow = memo(function MessageRow({
  m,
  grouped,
  author,
  mine: mineSender,
  canDelete,
  editing,
  quoteAuthor,
  inThread = false,
  highlighted = false,
  unreadThread = false,
  pinned = false,
  canPin = false,
}: {
  m: UiMessage;
  grouped: boolean;
  author: PublicUser | undefined;
  mine: boolean;
  /** May delete this message: your own, or any as a moderator (the server checks again). */
  canDelete: boolean;
  /** Its inline editor is open. */
  editing: boolean;
  /** The author of the message a reply quotes. */
  quoteAuthor?: PublicUser | undefined;
  /** Shown in the thread panel: no thread link, and no quote of the root it answers. */
  inThread?: boolean;
  /** Just jumped to (a quote was clicked). */
  highlighted?: boolean;
  /** Its thread has replies this user has not seen. */
  unreadThread?: boolean;
  /** It is pinned in the room; `canPin`: this user may pin and unpin here. */
  pinned?: boolean;
  canPin?: boolean;
}) {
  const chat = useChat();
  // Posted through an incoming webhook: shown as the integration; not editable as one's own message.
  const app = m.integration;
  const name = app ? app.name : displayOf(author);
  const mine = mineSender && !app;
  const seq = m.seq;
  const actions = seq !== null && !m.deleted && !editing;
  const reply = m.reply;
  const showQuote = !!reply && !(inThread && reply.replyTo === reply.threadRoot);
  const isRoot = seq !== null && !reply && (m.replyCount ?? 0) > 0;
  /** Where the open reaction picker hangs (the button that opened it), or null when closed. */
  const [picker, setPicker] = useState<DOMRect | null>(null);
  const meId = chat.store.state.me?.id;
  const meName = chat.store.state.me?.username;
  const pick = (emoji: string) => {
    setPicker(null);
    if (seq === null) return;
    // Picking one you have already takes it back, as the chip does (and as in Slack).
    const had = !!meId && !!m.reactions?.some((r) => r.emoji === emoji && r.userIds.includes(meId));
    void chat.timeline.react(m.roomId, seq, emoji, !had).then((canonical) => {
      if (canonical && meId && !had) rememberEmoji(meId, canonical);
    });
  };
  return (
    <div
      class={`msg${grouped ? ' grouped' : ''}${mine ? ' mine' : ''}${m.deleted ? ' deleted' : ''}${highlighted ? ' highlighted' : ''}${!m.deleted && mentionsMe(m, meId) ? ' mentions-me' : ''} status-${m.status}`}
      data-seq={m.seq ?? undefined}
      data-status={m.status}
      data-key={m.key}
    >
      {actions && (
        <div class="msg-actions" role="toolbar" aria-label={t('message.actions')}>
          <button
            type="button"
            class="icon-button small"
            aria-label={t('message.reply')}
            title={t('message.reply')}
            onClick={() => (inThread ? focusThreadComposer() : chat.threads.startReply(m.roomId, seq))}
          >
            <Icon name="reply" size={15} />
          </button>
          {!inThread && (
            <button
              type="button"
              class="icon-button small"
              aria-label={t('message.replyInThread')}
              title={t('message.replyInThread')}
              onClick={() => void chat.threads.open(m.roomId, reply?.threadRoot ?? seq)}
            >
              <Icon name="thread" size={15} />
            </button>
          )}
          <button
            type="button"
            class="icon-button small"
            aria-label={t('reactions.add')}
            title={t('reactions.add')}
            onClick={(e) => setPicker(e.currentTarget.getBoundingClientRect())}
          >
            <Icon name="smile" size={15} />
          </button>
          {mine && (
            <button
              type="button"
              class="icon-button small"
              aria-label={t('message.edit')}
              title={t('message.edit')}
              onClick={() => chat.ui.setEditing({ roomId: m.roomId, seq })}
            >
              <Icon name="pencil" size={15} />
            </button>
          )}
          {canPin && (
            <button
              type="button"
              class={`icon-button small${pinned ? ' active' : ''}`}
              aria-label={pinned ? t('pins.unpin') : t('pins.pin')}
              title={pinned ? t('pins.unpin') : t('pins.pin')}
              aria-pressed={pinned}
              onClick={() => void chat.pins.toggle(m.roomId, seq, !pinned)}
            >
              <Icon name="pin" size={15} />
            </button>
          )}
          {!mine && (
            <button
              type="button"
              class="icon-button small"
              aria-label={t('message.report')}
              title={t('message.report')}
              onClick={() => chat.ui.setDialog({ kind: 'report', roomId: m.roomId, seq })}
            >
              <Icon name="flag" size={15} />
            </button>
          )}
          {canDelete && (
            <button
              type="button"
              class="icon-button small danger"
              aria-label={t('message.delete')}
              title={t('message.delete')}
              onClick={() => chat.ui.setDialog({ kind: 'deleteMessage', roomId: m.roomId, seq })}
            >
              <Icon name="trash" size={15} />
            </button>
          )}
        </div>
      )}
      <div class="msg-gutter">
        {grouped ? (
          <time class="msg-time-hover" dateTime={m.createdAt} title={formatFull(m.createdAt)}>
            {formatTime(m.createdAt)}
          </time>
        ) : (
          <Avatar id={app?.id ?? m.senderId} name={name} size={38} url={app ? appIcon(app) : author?.avatarUrl} />
        )}
      </div>
      <div class="msg-main">
        {!grouped && (
          <div class="msg-head">
            {app ? (
              <>
                <span class="msg-author msg-app">{name}</span>
                <AppBadge by={displayOf(author)} />
              </>
            ) : (
              <>
                <button
                  type="button"
                  class="msg-author"
                  onClick={() => chat.ui.setDialog({ kind: 'profile', userId: m.senderId })}
                >
                  {name}
                </button>
                {author?.bot && <span class="badge badge-bot">{t('people.bot')}</span>}
                {author?.role === 'admin' && <span class="badge">{t('people.admin')}</span>}
              </>
            )}
            <time class="msg-time" dateTime={m.createdAt} title={formatFull(m.createdAt)}>
              {formatTime(m.createdAt)}
            </time>
          </div>
        )}
        {showQuote && reply && !m.deleted && <ReplyQuote m={m} reply={reply} author={quoteAuthor} />}
        {pinned && !m.deleted && (
          <div class="msg-pinned">
            <Icon name="pin" size={12} />
            {t('pins.pinned')}
          </div>
        )}
        {m.deleted ? (
          <p class="msg-deleted">{t('message.deleted')}</p>
        ) : editing && seq !== null ? (
          <MessageEditor m={m} seq={seq} />
        ) : (
          (m.body || !m.attachments) && (
            <EmoteWrap emote={!!m.emote} name={name}>
              <MessageBody
                body={m.body}
                {...(m.editedAt ? { editedAt: m.editedAt } : {})}
                {...(m.mentions || m.mentionAll ? { mentionMe: (meName ?? '').toLowerCase() } : {})}
              />
            </EmoteWrap>
          )
        )}
        {m.attachments && !m.deleted && <Attachments files={m.attachments} />}
        {m.preview && !m.deleted && !editing && <LinkPreviewCard preview={m.preview} />}
        {isRoot && !inThread && seq !== null && <ThreadLink m={m} seq={seq} unread={unreadThread} />}
        {seq !== null && !m.deleted && m.reactions?.length ? <ReactionChips m={m} seq={seq} onAdd={setPicker} /> : null}
        {picker && seq !== null && !m.deleted && (
          <ReactionPicker
            anchor={picker}
            recent={meId ? recentEmoji(meId) : []}
            onPick={pick}
            onClose={() => setPicker(null)}
          />
        )}
        {m.status === 'pending' && <div class="msg-state">{t('message.sending')}</div>}
        {m.status === 'failed' && (
          <div class="msg-state failed" role="alert">
            <Icon name="alert" size={14} />
            <span>{m.error ? t('message.failedWhy', { why: m.error }) : t('message.failed')}</span>
            <button type="button" class="link-button" onClick={() => chat.outbox.retry(m.roomId, m.key)}>
              {t('message.retry')}
            </button>
            <button type="button" class="link-button muted" onClick={() => chat.outbox.discard(m.roomId, m.key)}>
              {t('message.discard')}
            </button>
          </div>
        )}
      </div>
    </div>
  );
});

/** An action message (`/me waves`) reads "* Alice waves": the name, then the body, in italics. */
function EmoteWrap({ emote, name, children }: { emote: boolean; name: string; children: ComponentChildren }) {
  if (!emote) return <>{children}</>;
  return (
    <div class="msg-emote" data-testid="emote">
      <span class="msg-emote-name">* {name}</span>
      {children}
    </div>
  );
}

/** A message from someone this user blocked, collapsed to one line; Show expands this one message. */
export function BlockedRow({ m }: { m: UiMessage }) {
  const chat = useChat();
  return (
    <div class="msg msg-blocked" data-seq={m.seq ?? undefined} data-key={m.key} data-testid="blocked-message">
      <div class="msg-gutter" />
      <div class="msg-main">
        <p class="msg-deleted">
          <Icon name="ban" size={13} /> {t('message.blocked')} ·{' '}
          <button type="button" class="link-button" onClick={() => chat.blocks.show(m.key)}>
            {t('message.blockedShow')}
          </button>
        </p>
      </div>
    </div>
  );
}

/** More names than this in one "joined" line read as "a, b, c and 4 others joined". */
const NAMES_PER_LINE = 3;

function namesText(names: string[]): string {
  if (names.length <= NAMES_PER_LINE) return names.join(t('members.lineSeparator'));
  return t('members.andOthers', {
    names: names.slice(0, NAMES_PER_LINE).join(t('members.lineSeparator')),
    count: names.length - NAMES_PER_LINE,
  });
}

/**
 * The joins and leaves that happened between two messages: one line per run of the same kind ("alice, bob joined",
 * "carol left"), one per change made by someone else ("dave removed erin").
 */
function MemberLines({ lines, users }: { lines: MemberLine[]; users: Record<string, PublicUser> }) {
  const out: { key: number; kind: MemberLine['kind']; text: string; at: string }[] = [];
  for (let i = 0; i < lines.length;) {
    const first = lines[i]!;
    if (first.kind === 'joined' || first.kind === 'left') {
      const run: MemberLine[] = [];
      for (; i < lines.length && lines[i]!.kind === first.kind; i++) run.push(lines[i]!);
      const names = [...new Set(run.map((l) => nameOf(users, l.userId)))];
      const key = first.kind === 'joined' ? 'members.lineJoined' : 'members.lineLeft';
      out.push({
        key: first.seq,
        kind: first.kind,
        text: t(key, { names: namesText(names) }),
        at: run.at(-1)!.createdAt,
      });
    } else {
      const key = first.kind === 'added' ? 'members.lineAdded' : 'members.lineRemoved';
      const text = t(key, { actor: nameOf(users, first.actorId), name: nameOf(users, first.userId) });
      out.push({ key: first.seq, kind: first.kind, text, at: first.createdAt });
      i++;
    }
  }
  return (
    <div class="member-lines">
      {out.map((l) => (
        <p key={l.key} class={`member-line member-line-${l.kind}`} title={formatFull(l.at)}>
          <Icon name={l.kind === 'joined' || l.kind === 'added' ? 'userPlus' : 'userMinus'} size={14} />
          <span>{l.text}</span>
        </p>
      ))}
    </div>
  );
}

function RoomIntro({ room, meId }: { room: MyRoom; meId: string | undefined }) {
  const title = roomTitle(room, meId);
  return (
    <div class="room-intro">
      <div class="room-intro-icon">
        <Icon name={room.kind === 'dm' ? 'at' : room.kind === 'private' ? 'lock' : 'hash'} size={28} />
      </div>
      <h2>{room.kind === 'dm' ? title : t('room.introTitle', { room: title })}</h2>
      <p>{room.kind === 'dm' ? t('room.introDm', { name: title }) : t('room.introBody', { room: title })}</p>
    </div>
  );
}

/**
 * "Seen by …" under the user's newest message: the members (other than the user) whose read marker has reached it.
 * In a two-person DM just "Seen". Null when nobody has, or receipts are not shown in this room.
 */
function seenLine(
  messages: UiMessage[],
  meId: string | undefined,
  receipts: Record<string, number> | undefined,
  users: Record<string, PublicUser>,
  oneToOne: boolean,
): { seq: number; text: string } | null {
  if (!receipts || !meId) return null;
  let seq: number | null = null;
  for (let i = messages.length - 1; i >= 0 && seq === null; i--) {
    const m = messages[i]!;
    if (m.senderId === meId && m.seq !== null && !m.deleted && !m.integration) seq = m.seq;
  }
  if (seq === null) return null;
  const readers = Object.entries(receipts)
    .filter(([userId, readSeq]) => userId !== meId && readSeq >= seq)
    .map(([userId]) => users[userId]?.displayName ?? users[userId]?.username ?? '…');
  if (readers.length === 0) return null;
  if (oneToOne) return { seq, text: t('receipts.seen') };
  const names = readers.slice(0, 3).join(', ');
  const more = readers.length - 3;
  return { seq, text: more > 0 ? t('receipts.seenByMore', { names, count: more }) : t('receipts.seenBy', { names }) };
}

export function MessageList({ roomId }: { roomId: string }) {
  const chat = useChat();
  const view = useApp((s) => s.views[roomId]);
  const users = useApp((s) => s.users);
  const me = useApp((s) => s.me);
  const room = useApp((s) => s.rooms[roomId]);
  const unread = useApp((s) => s.unread[roomId] ?? 0);
  const editing = useApp((s) => (s.editing?.roomId === roomId ? s.editing.seq : null));
  const highlight = useApp((s) => (s.highlight?.roomId === roomId ? s.highlight.seq : null));
  const threadSeen = useApp((s) => s.threadSeen);
  const deleteAny = room ? can('deleteAny', room.kind, room.myRole, me) : false;
  const canPin = room ? can('pin', room.kind, room.myRole, me) : false;
  const pins = useApp((s) => s.pins[roomId]);
  const blocked = useApp((s) => s.blocked);
  const shownBlocked = useApp((s) => s.shownBlocked);
  const pinnedSeqs = new Set(pins?.map((p) => p.seq));
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [showJump, setShowJump] = useState(false);
  const snapshot = useRef<{ first: string | undefined; height: number; top: number; count: number }>({
    first: undefined,
    height: 0,
    top: 0,
    count: 0,
  });
  const all = view?.messages ?? NONE;
  // Thread-only replies live in their thread (the side panel), not in the room's timeline.
  const messages = useMemo(() => all.filter(inMainTimeline), [all]);
  const receipts = useApp((s) => s.receipts[roomId]);
  const memberLines = useApp((s) => s.memberLines[roomId]) ?? NO_LINES;
  const oldestSeq = messages.find((m) => m.seq !== null)?.seq ?? null;
  // The joins and leaves among the messages on screen (all of them once the room's start is loaded).
  useEffect(() => {
    if (!view?.loaded) return;
    void chat.membership.cover(roomId, view.hasMore && oldestSeq !== null ? oldestSeq : 0);
  }, [roomId, view?.loaded, view?.hasMore, oldestSeq]);
  const divider = chat.timeline.dividerOf(roomId);
  const seen = seenLine(messages, me?.id, receipts, users, room?.kind === 'dm' && room.memberCount <= 2);

  const scrollToBottom = () => {
    // A window far back (a search result): back to the room's newest first.
    if (chat.timeline.view(roomId).detached) void chat.timeline.returnToLatest(roomId);
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    chat.timeline.atBottom = true;
    setShowJump(false);
  };

  // Keep the view where the reader is: pinned to the bottom for new messages, anchored when older ones load.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const prev = snapshot.current;
    const first = messages[0]?.key;
    if (prev.count && first !== prev.first && messages.length > prev.count && !atBottom.current) {
      el.scrollTop = prev.top + (el.scrollHeight - prev.height);
    } else if ((atBottom.current || chat.timeline.atBottom) && !view?.detached) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
    } else if (messages.length > prev.count || view?.detached) {
      setShowJump(true); // new messages below while the reader is scrolled up
    }
    snapshot.current = { first, height: el.scrollHeight, top: el.scrollTop, count: messages.length };
    // A short first page leaves nothing to scroll: fetch older ones until there is.
    if (view?.loaded && view.hasMore && !view.loading && el.scrollHeight <= el.clientHeight + NEAR_TOP_PX) {
      void chat.timeline.loadOlder(roomId);
    }
    // Likewise a window far back that does not fill the screen: newer pages.
    if (view?.detached && !view.loading && el.scrollHeight <= el.clientHeight + NEAR_BOTTOM_PX) {
      void chat.timeline.loadNewer(roomId);
    }
  }, [messages, view?.loaded, view?.hasMore, view?.loading, view?.detached]);

  // A new room opens at its newest message...
  useLayoutEffect(() => {
    snapshot.current = { first: undefined, height: 0, top: 0, count: 0 };
    scrollToBottom();
  }, [roomId]);

  // ...unless more came since the reader was last here than fit on the screen: then at "New messages", so they
  // read on from where they stopped (once per opening; scrolling down from there is theirs).
  const placedAtDivider = useRef<string | null>(null);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !view?.loaded || placedAtDivider.current === roomId) return;
    placedAtDivider.current = roomId;
    const line = el.querySelector<HTMLElement>('.new-divider');
    if (!line) return;
    const top = line.getBoundingClientRect().top - el.getBoundingClientRect().top + el.scrollTop - DIVIDER_MARGIN_PX;
    if (top >= el.scrollHeight - el.clientHeight) return; // all of it is on screen at the bottom already
    el.scrollTop = top;
    atBottom.current = false;
    chat.timeline.atBottom = false;
    snapshot.current = { ...snapshot.current, top: el.scrollTop, height: el.scrollHeight };
    setShowJump(true);
  }, [roomId, view?.loaded, messages]);

  // A quote clicked: bring its original into view (loaded by threads.jumpTo) and hold it there, highlighted.
  useLayoutEffect(() => {
    if (highlight === null) return;
    const row = scroller.current?.querySelector<HTMLElement>(`.msg[data-seq="${highlight}"]`);
    if (!row) return;
    atBottom.current = false;
    chat.timeline.atBottom = false;
    row.scrollIntoView({ block: 'center' });
  }, [highlight, messages.length]);

  // An edit left open does not follow you to another room, nor come back when you return.
  useEffect(() => () => chat.ui.setEditing(null), [roomId]);

  // The composer growing or the window resizing must not unpin the view.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    atBottom.current = bottom;
    chat.timeline.atBottom = bottom;
    snapshot.current = { ...snapshot.current, top: el.scrollTop, height: el.scrollHeight };
    setShowJump(
      !!view?.detached || (!bottom && el.scrollHeight - el.scrollTop - el.clientHeight > el.clientHeight / 2),
    );
    if (bottom) chat.timeline.markReadLatest(roomId);
    if (el.scrollTop < NEAR_TOP_PX) void chat.timeline.loadOlder(roomId);
    // The end of a window far back: the next newer page, until it meets the newest.
    if (bottom && view?.detached) void chat.timeline.loadNewer(roomId);
  };

  let prev: UiMessage | undefined;
  let dividerShown = false;
  // Lines before the oldest message shown belong to history not loaded yet, unless there is none.
  let lineAt = 0;
  let lastSeq = view?.hasMore ? (oldestSeq ?? Number.MAX_SAFE_INTEGER) : 0;
  /** The lines after the last message placed and before `seq`. */
  const linesBefore = (seq: number): MemberLine[] => {
    while (lineAt < memberLines.length && memberLines[lineAt]!.seq <= lastSeq) lineAt++;
    const from = lineAt;
    while (lineAt < memberLines.length && memberLines[lineAt]!.seq < seq) lineAt++;
    return memberLines.slice(from, lineAt);
  };
  let tailShown = false;
  const tail = () => {
    tailShown = true;
    const rest = linesBefore(Number.MAX_SAFE_INTEGER);
    return rest.length > 0 ? <MemberLines key="member-lines-tail" lines={rest} users={users} /> : null;
  };
  const rows = messages.map((m) => {
    // The lines since the last stored message: before this one, or (for one not stored yet) all that remain.
    const before = m.seq !== null ? linesBefore(m.seq) : [];
    const pendingTail = m.seq === null && !tailShown ? tail() : null;
    if (m.seq !== null) lastSeq = m.seq;
    // "New messages" above the first message from others after the read marker the room was opened with.
    const newStart =
      divider !== undefined && !dividerShown && m.seq !== null && m.seq > divider && m.senderId !== me?.id;
    if (newStart) dividerShown = true;
    const day = dayKey(m.createdAt);
    const newDay = !prev || dayKey(prev.createdAt) !== day;
    const grouped =
      !newDay &&
      !newStart && // the first new message heads its group: who wrote it is the first thing to read
      before.length === 0 &&
      !!prev &&
      prev.senderId === m.senderId &&
      // An integration is not its creator, and a post may name itself (displayName): a group of its own.
      prev.integration?.id === m.integration?.id &&
      prev.integration?.name === m.integration?.name &&
      prev.status !== 'failed' &&
      !m.reply && // a reply starts its own group: its quote heads it
      Date.parse(m.createdAt) - Date.parse(prev.createdAt) < GROUP_MS;
    prev = m;
    return (
      <Fragment key={m.key}>
        {pendingTail}
        {before.length > 0 && dayKey(before[0]!.createdAt) !== day && <MemberLines lines={before} users={users} />}
        {newDay && (
          <div class="day-divider" role="separator" aria-label={dayLabel(m.createdAt)}>
            <span>{dayLabel(m.createdAt)}</span>
          </div>
        )}
        {before.length > 0 && dayKey(before[0]!.createdAt) === day && <MemberLines lines={before} users={users} />}
        {newStart && (
          <div class="new-divider" role="separator" aria-label={t('room.newDivider')}>
            <span>{t('room.newDivider')}</span>
          </div>
        )}
        {blocked[m.senderId] && !shownBlocked[m.key] ? (
          <BlockedRow m={m} />
        ) : (
          <MessageRow
            m={m}
            grouped={grouped}
            author={users[m.senderId]}
            mine={m.senderId === me?.id}
            canDelete={deleteAny || m.senderId === me?.id}
            editing={editing !== null && m.seq === editing}
            quoteAuthor={m.reply ? users[m.reply.quote.senderId] : undefined}
            highlighted={highlight !== null && m.seq === highlight}
            unreadThread={(m.replyCount ?? 0) > 0 && threadSeen !== undefined && chat.threads.unread(roomId, m)}
            pinned={m.seq !== null && pinnedSeqs.has(m.seq)}
            canPin={canPin}
          />
        )}
        {seen && m.seq === seen.seq && (
          <div class="seen-by" role="status">
            {seen.text}
          </div>
        )}
      </Fragment>
    );
  });

  return (
    <div class="messages-wrap">
      <div
        class="messages"
        ref={scroller}
        onScroll={onScroll}
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        aria-label={t('room.messagesLabel', { room: room ? roomTitle(room, me?.id) : '' })}
        tabIndex={0}
      >
        <div class="messages-inner">
          {view?.loaded && !view.hasMore && room && <RoomIntro room={room} meId={me?.id} />}
          {(view?.loading || !view?.loaded) && (
            <div class="loading-row" role="status">
              <span class="spinner" aria-hidden="true" />
              {t('room.loadingHistory')}
            </div>
          )}
          {rows}
          {!tailShown && view?.loaded && tail()}
          {view?.loaded && !messages.length && <p class="empty-hint">{t('room.empty')}</p>}
        </div>
      </div>
      {showJump && (
        <button type="button" class="jump-latest" onClick={scrollToBottom}>
          <Icon name="arrowDown" size={16} />
          {unread > 0 ? t('room.newMessages', { count: unread }) : t('room.jumpLatest')}
        </button>
      )}
    </div>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { useAutoGrow } from './kit.js';
import { PICKER, suggestEmoji } from '../state/emoji.js';
import { nameOf, untilText } from '../state/format.js';
import { isMuted, rank, readOnlyFor } from '../state/permissions.js';
import { blockedDmPeer } from '../state/blocks.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { AttachButton, UploadChips, VoiceRecorder } from './Attach.js';
import { AssistantStream } from './Assistant.js';
import type { CommandInfo } from '../../../src/protocol/commands.js';
import { parseCommandText } from '../../../src/protocol/commands.js';
import { commandDescription, commandPrefix, type CommandNote } from '../state/commands.js';

const SHORTCODE_AT_CARET = /(^|\s):([a-z0-9_+-]{2,32})$/;
/** `@` and the start of a name right before the caret, where the server would read a mention (not in an e-mail). */
const MENTION_AT_CARET = /(?<![A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{0,32})$/;
/** Names offered at most. */
const MENTION_SUGGESTIONS = 8;

/** One line of the composer's suggestion list: an emoji for `:code`, a person or `@room`/`@here` for `@name`. */
type Suggestion =
  | { kind: 'emoji'; key: string; code: string; emoji: string }
  | { kind: 'user'; key: string; username: string; displayName: string }
  | { kind: 'all'; key: string; word: 'room' | 'here' }
  | { kind: 'command'; key: string; info: CommandInfo };

function TypingIndicator({ roomId }: { roomId: string }) {
  const typing = useApp((s) => s.typing[roomId]);
  const users = useApp((s) => s.users);
  const blocked = useApp((s) => s.blocked);
  // Someone this user blocked is not shown typing (their messages are collapsed too).
  const names = Object.keys(typing ?? {})
    .filter((id) => !blocked[id])
    .map((id) => nameOf(users, id));
  let text = '';
  if (names.length === 1) text = t('typing.one', { a: names[0] as string });
  else if (names.length === 2) text = t('typing.two', { a: names[0] as string, b: names[1] as string });
  else if (names.length > 2) text = t('typing.many');
  return (
    <div class="typing" aria-live="polite">
      {text && (
        <>
          <span class="typing-dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          <span class="typing-text">{text}</span>
        </>
      )}
    </div>
  );
}

function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>('button')?.focus();
    const onDoc = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener('mousedown', onDoc);
    return () => document.removeEventListener('mousedown', onDoc);
  }, []);
  return (
    <div
      class="emoji-picker"
      ref={ref}
      role="dialog"
      aria-label={t('composer.emojiPicker')}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      {PICKER.map(({ code, emoji }) => (
        <button
          type="button"
          key={code}
          class="emoji-cell"
          title={`:${code}:`}
          aria-label={`:${code}:`}
          onClick={() => onPick(emoji)}
        >
          {emoji}
        </button>
      ))}
    </div>
  );
}

/** What a command answered only to you (`/help`, the topic, a usage error), above the composer until dismissed. */
function CommandNoteView({ note, onClose }: { note: CommandNote; onClose: () => void }) {
  return (
    <div
      class={`command-note ${note.tone}`}
      role={note.tone === 'error' ? 'alert' : 'status'}
      data-testid="command-note"
    >
      <div class="command-note-body">
        <p>{note.text}</p>
        {note.commands && (
          <ul class="command-help">
            {note.commands.map((c) => (
              <li key={`${c.source}:${c.name}`}>
                <code>
                  /{c.name}
                  {c.argsHint ? ` ${c.argsHint}` : ''}
                </code>{' '}
                {c.source === 'bot' && <span class="badge">{t('commands.bot')}</span>}
                <span>{commandDescription(c)}</span>
              </li>
            ))}
          </ul>
        )}
        <p class="command-note-private">{t('commands.onlyYou')}</p>
      </div>
      <button
        type="button"
        class="icon-button small"
        aria-label={t('common.dismiss')}
        title={t('common.dismiss')}
        onClick={onClose}
      >
        <Icon name="x" size={15} />
      </button>
    </div>
  );
}

/** A pasted image has a generic name (`image.png`): give it the time, so several pastes can be told apart. */
function pastedName(f: File): File {
  if (f.name && f.name !== 'image.png') return f;
  const ext = f.type.split('/')[1] ?? 'png';
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const name = `pasted-${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.${ext}`;
  return new File([f], name, { type: f.type });
}

/** Re-renders every `everyMs` until `until` (epoch ms) has passed, and once when it does; returns now. */
function useClock(until: number, everyMs: number): number {
  const [, tick] = useState(0);
  useEffect(() => {
    const left = until - Date.now();
    if (left <= 0) return;
    const id = setTimeout(() => tick((n) => n + 1), Math.min(left + 20, everyMs, 2 ** 31 - 1));
    return () => clearTimeout(id);
  });
  return Date.now();
}

/**
 * The composer, or why you cannot post here: a read-only room (below moderator) or a mute. Slow mode leaves it
 * open but counts down until your next message may go.
 */
export function Composer({ roomId, placeholder }: { roomId: string; placeholder: string }) {
  const room = useApp((s) => s.rooms[roomId]);
  const mutedUntil = useApp((s) => s.members[roomId]?.find((m) => m.user.id === s.me?.id)?.mutedUntil ?? null);
  const now = useClock(mutedUntil ? Date.parse(mutedUntil) : 0, 60 * 60_000);
  const peer = useApp((s) => blockedDmPeer(room, s.blocked));
  const chat = useChat();
  const users = useApp((s) => s.users);
  if (peer) {
    // The server refuses a DM either way while the block stands; say so instead of letting a send fail.
    return (
      <div class="composer-wrap">
        <div class="composer-blocked" role="status" data-testid="composer-blocked">
          <Icon name="ban" size={16} />
          <span>{t('composer.blockedDm', { name: nameOf(users, peer) })}</span>
          <button type="button" class="link-button" onClick={() => void chat.blocks.toggle(peer, false)}>
            {t('profile.unblock')}
          </button>
        </div>
      </div>
    );
  }
  let blocked: string | null = null;
  if (room && readOnlyFor(room)) blocked = t('composer.readOnly');
  else if (mutedUntil && isMuted({ mutedUntil }, now)) blocked = t('composer.muted', { until: untilText(mutedUntil) });
  if (blocked) {
    return (
      <div class="composer-wrap">
        <div class="composer-blocked" role="status" data-testid="composer-blocked">
          <Icon name={room && readOnlyFor(room) ? 'megaphone' : 'mute'} size={16} />
          <span>{blocked}</span>
        </div>
      </div>
    );
  }
  return <ComposerEditor roomId={roomId} placeholder={placeholder} />;
}

function ComposerEditor({ roomId, placeholder }: { roomId: string; placeholder: string }) {
  const chat = useChat();
  const slowUntil = useApp((s) => s.slowUntil[roomId] ?? 0);
  const now = useClock(slowUntil, 1000);
  const wait = Math.ceil((slowUntil - now) / 1000);
  const draft = useApp((s) => s.drafts[roomId] ?? '');
  const maxChars = useApp((s) => s.maxChars);
  const [picker, setPicker] = useState(false);
  const [suggest, setSuggest] = useState<Suggestion[]>([]);
  const members = useApp((s) => s.members[roomId]);
  const room = useApp((s) => s.rooms[roomId]);
  const meId = useApp((s) => s.me?.id);
  const [sel, setSel] = useState(0);
  const [note, setNote] = useState<CommandNote | null>(null);
  const [running, setRunning] = useState(false);
  // Answers to `GET …/commands` may come back out of order: only the latest typing's counts.
  const suggestTurn = useRef(0);
  // Whether the draft was a command name at the last keystroke: it becoming one opens the command list.
  const commandMode = useRef(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const replying = useApp((s) => (s.replying?.roomId === roomId ? s.replying.seq : null));
  const users = useApp((s) => s.users);
  const target = replying !== null ? chat.threads.find(roomId, replying) : undefined;
  const uploads = useApp((s) => s.uploads[roomId]);
  const uploading = !!uploads?.some((u) => u.status === 'uploading');
  const attached = !!uploads?.some((u) => u.status === 'done');

  useAutoGrow(input, draft);

  // A long list (the commands, on a phone) scrolls: keep the selected line in view.
  useEffect(() => {
    if (suggest.length) document.getElementById(`emoji-suggest-${roomId}-${sel}`)?.scrollIntoView({ block: 'nearest' });
  }, [sel, suggest]);

  // Reply clicked: type the answer right away.
  useEffect(() => {
    if (replying !== null) input.current?.focus();
  }, [replying]);

  // A reply left open does not follow you to another room.
  useEffect(() => () => chat.threads.cancelReply(), [roomId]);

  useEffect(() => {
    if (matchMedia('(pointer: fine)').matches) input.current?.focus();
    setSuggest([]);
    setNote(null);
    commandMode.current = false;
  }, [roomId]);

  /** Room members whose username or display name starts with `prefix` (any case); @room / @here if allowed. */
  const mentionSuggestions = (prefix: string): Suggestion[] => {
    const p = prefix.toLowerCase();
    const people: Suggestion[] = (members ?? [])
      .filter((m) => m.user.id !== meId)
      .filter((m) => m.user.username.toLowerCase().startsWith(p) || m.user.displayName.toLowerCase().startsWith(p))
      .slice(0, MENTION_SUGGESTIONS)
      .map((m) => ({
        kind: 'user',
        key: `u:${m.user.id}`,
        username: m.user.username,
        displayName: m.user.displayName,
      }));
    const mayAll = room && rank(room.myRole) >= rank(room.settings.mentionAllRole ?? 'moderator');
    const all: Suggestion[] = mayAll
      ? (['room', 'here'] as const)
          .filter((w) => w.startsWith(p))
          .map((word) => ({ kind: 'all', key: `a:${word}`, word }))
      : [];
    return [...people, ...all];
  };

  const updateSuggestions = (value: string, caret: number) => {
    const turn = ++suggestTurn.current;
    const prefix = commandPrefix(value, caret);
    const opening = prefix !== null && !commandMode.current;
    commandMode.current = prefix !== null;
    if (prefix !== null) {
      chat.commands.suggest(roomId, prefix, opening, (list) => {
        if (turn !== suggestTurn.current) return;
        setSuggest(list.map((info) => ({ kind: 'command', key: `c:${info.source}:${info.name}`, info })));
        setSel(0);
      });
      return;
    }
    const before = value.slice(0, caret);
    const at = MENTION_AT_CARET.exec(before);
    const m = at ? null : SHORTCODE_AT_CARET.exec(before);
    const list: Suggestion[] = at
      ? mentionSuggestions(at[1] as string)
      : m
        ? suggestEmoji(m[2] as string).map((s) => ({ kind: 'emoji', key: s.code, ...s }))
        : [];
    setSuggest(list);
    setSel(0);
  };

  const insert = (text: string, replaceBack = 0) => {
    const el = input.current;
    const start = el?.selectionStart ?? draft.length;
    const end = el?.selectionEnd ?? draft.length;
    const next = draft.slice(0, start - replaceBack) + text + draft.slice(end);
    chat.rooms.setDraft(roomId, next);
    const caret = start - replaceBack + text.length;
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(caret, caret);
    });
  };

  const pickSuggestion = (i: number) => {
    const s = suggest[i];
    const el = input.current;
    if (!s || !el) return;
    const before = draft.slice(0, el.selectionStart);
    if (s.kind === 'command') {
      suggestTurn.current++;
      insert(`/${s.info.name} `, before.length);
    } else if (s.kind === 'emoji') {
      const m = SHORTCODE_AT_CARET.exec(before);
      insert(`${s.emoji} `, m ? (m[2] as string).length + 1 : 0);
    } else {
      const m = MENTION_AT_CARET.exec(before);
      insert(`@${s.kind === 'user' ? s.username : s.word} `, m ? (m[1] as string).length + 1 : 0);
    }
    setSuggest([]);
  };

  const submit = () => {
    if ((!draft.trim() && !attached) || draft.length > maxChars || wait > 0) return;
    // Files still uploading go with the message, so it waits for them (their chips show how long).
    if (uploading) return chat.ui.toast(t('files.waitForUploads'), 'info');
    const parsed = parseCommandText(draft);
    suggestTurn.current++;
    commandMode.current = false;
    setSuggest([]);
    if (parsed.kind !== 'message') return void runCommand(draft);
    // `//text` posts `/text`: sent like any message (outbox, retries), no command involved.
    const body = parsed.body;
    const files = chat.uploads.take(roomId);
    if (replying !== null) chat.threads.sendReply(roomId, body, files);
    else chat.outbox.send(roomId, body, undefined, files);
    chat.rooms.setDraft(roomId, '');
    setNote(null);
  };

  /** `/…`: through the command route; a refused command keeps its text so it can be fixed. */
  const runCommand = async (text: string) => {
    if (running) return;
    setRunning(true);
    try {
      const { ok, note: shown } = await chat.commands.run(roomId, text);
      if (ok && (chat.store.state.drafts[roomId] ?? '') === text) chat.rooms.setDraft(roomId, '');
      setNote(shown);
    } finally {
      setRunning(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (suggest.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const d = e.key === 'ArrowDown' ? 1 : -1;
        setSel((sel + d + suggest.length) % suggest.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        const s = suggest[sel];
        // A command typed out in full: Enter runs it (Tab still completes).
        if (e.key === 'Enter' && s?.kind === 'command' && draft.trim().toLowerCase() === `/${s.info.name}`) submit();
        else pickSuggestion(sel);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setSuggest([]);
        return;
      }
    }
    if (e.key === 'Escape' && note) {
      e.preventDefault();
      setNote(null);
      return;
    }
    if (e.key === 'Escape' && replying !== null) {
      e.preventDefault();
      chat.threads.cancelReply();
      return;
    }
    // Up in an empty composer edits your last message here, as in Slack and Discord.
    if (e.key === 'ArrowUp' && draft === '' && !e.shiftKey && !e.altKey && !e.metaKey && !e.ctrlKey) {
      const seq = chat.timeline.lastOwn(roomId);
      if (seq !== null) {
        e.preventDefault();
        chat.ui.setEditing({ roomId, seq });
        return;
      }
    }
    // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition (pinyin) does neither.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  };

  const over = draft.length - maxChars;
  const listId = `emoji-suggest-${roomId}`;
  const targetAuthor = target ? users[target.senderId] : undefined;
  const targetName = targetAuthor ? targetAuthor.displayName || targetAuthor.username : t('people.unknown');
  return (
    <div class="composer-wrap">
      <AssistantStream roomId={roomId} />
      {replying !== null && (
        <div class="reply-preview" data-testid="reply-preview">
          <Icon name="reply" size={15} />
          <div class="reply-preview-text">
            <strong>{t('message.replyingTo', { name: targetName })}</strong>
            <span>{target?.body.replace(/\s+/g, ' ') ?? ''}</span>
          </div>
          <button
            type="button"
            class="icon-button small"
            aria-label={t('message.cancelReply')}
            title={t('message.cancelReply')}
            onClick={() => {
              chat.threads.cancelReply();
              input.current?.focus();
            }}
          >
            <Icon name="x" size={15} />
          </button>
        </div>
      )}
      <UploadChips roomId={roomId} />
      {note && <CommandNoteView note={note} onClose={() => setNote(null)} />}
      <form
        class={`composer${over > 0 ? ' over' : ''}`}
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        {suggest.length > 0 && (
          <ul
            class={suggest[0]?.kind === 'command' ? 'suggest suggest-commands' : 'suggest'}
            id={listId}
            role="listbox"
            aria-label={t(
              suggest[0]?.kind === 'emoji'
                ? 'composer.emojiSuggestions'
                : suggest[0]?.kind === 'command'
                  ? 'commands.suggestions'
                  : 'mentions.suggestions',
            )}
          >
            {suggest.map((s, i) => (
              <li
                key={s.key}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === sel}
                class={i === sel ? 'active' : ''}
                onMouseDown={(e) => {
                  e.preventDefault();
                  pickSuggestion(i);
                }}
              >
                {s.kind === 'command' ? (
                  <span class="suggest-command">
                    <span class="suggest-name">/{s.info.name}</span>
                    {s.info.argsHint && <span class="suggest-hint">{s.info.argsHint}</span>}
                    {s.info.source === 'bot' && <span class="badge">{t('commands.bot')}</span>}
                    <span class="suggest-desc">{commandDescription(s.info)}</span>
                  </span>
                ) : s.kind === 'emoji' ? (
                  <>
                    <span class="suggest-emoji">{s.emoji}</span> :{s.code}:
                  </>
                ) : s.kind === 'user' ? (
                  <>
                    <span class="suggest-name">{s.displayName || s.username}</span>{' '}
                    <span class="suggest-handle">@{s.username}</span>
                  </>
                ) : (
                  <>
                    <span class="suggest-name">@{s.word}</span>{' '}
                    <span class="suggest-handle">{t(s.word === 'room' ? 'mentions.room' : 'mentions.here')}</span>
                  </>
                )}
              </li>
            ))}
          </ul>
        )}
        <textarea
          ref={input}
          class="composer-input"
          rows={1}
          value={draft}
          placeholder={placeholder}
          aria-label={placeholder}
          aria-autocomplete="list"
          aria-controls={suggest.length ? listId : undefined}
          aria-activedescendant={suggest.length ? `${listId}-${sel}` : undefined}
          onInput={(e) => {
            const el = e.currentTarget;
            chat.rooms.setDraft(roomId, el.value);
            if (el.value.trim()) chat.outbox.typing(roomId);
            updateSuggestions(el.value, el.selectionStart);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => setSuggest([])}
          onPaste={(e) => {
            // A pasted screenshot (or copied files) becomes an attachment; pasted text stays text.
            const files = [...(e.clipboardData?.files ?? [])];
            if (!files.length) return;
            e.preventDefault();
            chat.uploads.add(roomId, files.map(pastedName));
          }}
        />
        <div class="composer-actions">
          {over > -200 && (
            <span class={`char-count${over > 0 ? ' over' : ''}`} aria-live="polite">
              {maxChars - draft.length}
            </span>
          )}
          <AttachButton roomId={roomId} />
          <VoiceRecorder roomId={roomId} />
          <div class="picker-anchor">
            <button
              type="button"
              class="icon-button"
              aria-label={t('composer.emoji')}
              aria-expanded={picker}
              title={t('composer.emoji')}
              onClick={() => setPicker(!picker)}
            >
              <Icon name="smile" size={20} />
            </button>
            {picker && (
              <EmojiPicker
                onPick={(emoji) => {
                  insert(emoji);
                  setPicker(false);
                }}
                onClose={() => {
                  setPicker(false);
                  input.current?.focus();
                }}
              />
            )}
          </div>
          <button
            type="submit"
            class="send-button"
            aria-label={t('composer.send')}
            title={t('composer.send')}
            disabled={(!draft.trim() && !attached) || over > 0 || wait > 0}
          >
            <Icon name="send" size={18} />
          </button>
        </div>
      </form>
      <div class="composer-foot">
        <TypingIndicator roomId={roomId} />
        {wait > 0 ? (
          <span class="composer-slow" role="status" data-testid="slow-mode">
            <Icon name="clock" size={12} /> {t('composer.slowWait', { seconds: wait })}
          </span>
        ) : (
          <span class="composer-hint">{t('composer.hint')}</span>
        )}
      </div>
    </div>
  );
}

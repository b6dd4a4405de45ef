import { useEffect, useRef, useState } from 'preact/hooks';
import {
  SEARCH_HIGHLIGHT_END,
  SEARCH_HIGHLIGHT_START,
  type MentionItem,
  type PublicUser,
  type SearchResult,
  type SessionInfo,
} from '../../../src/protocol/model.js';
import { LOCALES, t, type Locale } from '../i18n/index.js';
import { errorText } from '../state/errors.js';
import type { Dialog } from '../state/app-state.js';
import { AvatarEdit } from './AvatarEdit.js';
import { ListAuthor } from './AppName.js';
import { AccountKeep } from './Keep.js';
import { Avatar } from './Avatar.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { ErrorLine, Modal, SearchField, useSearch } from './kit.js';
import { MessageBody } from './MessageBody.js';
import { formatFull, formatTime, roomTitle, spacedAfterWord } from '../state/format.js';
import { dndActive, DND_FOREVER } from '../state/notify-policy.js';
import { can } from '../state/permissions.js';

function DirectoryDialog({ onClose }: { onClose: () => void }) {
  const chat = useChat();
  const mine = useApp((s) => s.rooms);
  const requested = useApp((s) => s.requested);
  const search = useSearch((q) => chat.rooms.search(q));
  const { result: rooms, error, setError } = search;
  return (
    <Modal title={t('directory.title')} onClose={onClose} wide>
      <SearchField search={search} label={t('directory.search')} />
      <ErrorLine error={error} />
      <ul class="directory" aria-busy={rooms === null}>
        {rooms?.map((r) => (
          <li key={r.id} class="directory-row">
            <span class="directory-icon">
              <Icon name="hash" size={18} />
            </span>
            <span class="directory-text">
              <span class="directory-name">{r.name}</span>
              <span class="directory-meta">
                {t('directory.members', { count: r.memberCount })}
                {r.topic ? ` · ${r.topic}` : ''}
              </span>
            </span>
            {requested[r.id] && !mine[r.id] ? (
              <span class="directory-pending" role="status">
                <Icon name="clock" size={14} /> {t('directory.requested')}
              </span>
            ) : mine[r.id] ? (
              <button
                type="button"
                class="button small"
                onClick={() => {
                  chat.rooms.open(r.id);
                  onClose();
                }}
              >
                {t('directory.open')}
              </button>
            ) : (
              <button
                type="button"
                class="button primary small"
                aria-label={t(r.settings?.joinApproval ? 'directory.requestRoom' : 'directory.joinRoom', {
                  room: r.name,
                })}
                onClick={() =>
                  chat.rooms.join(r.id).then(
                    (how) => how === 'joined' && onClose(),
                    (e: unknown) => setError(errorText(e)),
                  )
                }
              >
                {r.settings?.joinApproval ? t('directory.request') : t('directory.join')}
              </button>
            )}
          </li>
        ))}
        {rooms && !rooms.length && <li class="empty-hint">{t('directory.none')}</li>}
      </ul>
      <div class="dialog-foot">
        <span class="muted">{t('directory.privateHint')}</span>
        <button type="button" class="button" onClick={() => chat.ui.setDialog({ kind: 'create' })}>
          <Icon name="plus" size={16} />
          {t('nav.createRoom')}
        </button>
      </div>
    </Modal>
  );
}

function CreateRoomDialog({ onClose }: { onClose: () => void }) {
  const chat = useChat();
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal title={t('create.title')} onClose={onClose}>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!name.trim()) return;
          setBusy(true);
          chat.rooms.create(name.trim(), visibility, topic.trim()).then(onClose, (err: unknown) => {
            setBusy(false);
            setError(errorText(err));
          });
        }}
      >
        <label class="field">
          <span>{t('create.name')}</span>
          <input
            value={name}
            maxLength={80}
            required
            placeholder={t('create.namePlaceholder')}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>
            {t('create.topic')}
            <span class="muted">{spacedAfterWord(t('common.optional'))}</span>
          </span>
          <input value={topic} maxLength={500} onInput={(e) => setTopic(e.currentTarget.value)} />
        </label>
        <fieldset class="choice-group">
          <legend>{t('create.visibility')}</legend>
          {(['public', 'private'] as const).map((v) => (
            <label key={v} class={`choice${visibility === v ? ' selected' : ''}`}>
              <input
                type="radio"
                name="visibility"
                value={v}
                checked={visibility === v}
                onChange={() => setVisibility(v)}
              />
              <Icon name={v === 'public' ? 'hash' : 'lock'} size={18} />
              <span>
                <strong>{t(`create.${v}`)}</strong>
                <span class="muted">{t(`create.${v}Hint`)}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <ErrorLine error={error} />
        <div class="dialog-foot">
          <button type="button" class="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="button primary" disabled={busy || !name.trim()}>
            {t('create.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Search-as-you-type over users (for DMs and invites). */
function UserPicker({ onPick, actionLabel }: { onPick: (u: PublicUser) => Promise<void>; actionLabel: string }) {
  const chat = useChat();
  const meId = useApp((s) => s.me?.id);
  const search = useSearch((q) => chat.people.search(q).then((u) => u.filter((x) => x.id !== meId)));
  const { result: users, error, setError } = search;
  return (
    <>
      <SearchField search={search} label={t('people.search')} />
      <ErrorLine error={error} />
      <ul class="directory">
        {users?.map((u) => (
          <li key={u.id} class="directory-row">
            <Avatar id={u.id} name={u.displayName || u.username} size={32} url={u.avatarUrl ?? null} />
            <span class="directory-text">
              <span class="directory-name">{u.displayName || u.username}</span>
              <span class="directory-meta">@{u.username}</span>
            </span>
            <button
              type="button"
              class="button primary small"
              aria-label={`${actionLabel}: ${u.username}`}
              onClick={() => onPick(u).catch((e: unknown) => setError(errorText(e)))}
            >
              {actionLabel}
            </button>
          </li>
        ))}
        {users && !users.length && <li class="empty-hint">{t('people.none')}</li>}
      </ul>
    </>
  );
}

function DmDialog({ onClose }: { onClose: () => void }) {
  const chat = useChat();
  return (
    <Modal title={t('dm.title')} onClose={onClose}>
      <UserPicker actionLabel={t('dm.start')} onPick={(u) => chat.rooms.openDm(u.username).then(onClose)} />
    </Modal>
  );
}

function InviteDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const chat = useChat();
  const room = useApp((s) => s.rooms[roomId]);
  const [done, setDone] = useState<string[]>([]);
  return (
    <Modal title={t('invite.title', { room: room?.name ?? '' })} onClose={onClose}>
      <UserPicker
        actionLabel={t('invite.send')}
        onPick={async (u) => {
          await chat.rooms.invite(roomId, u.username);
          setDone((d) => [...d, u.displayName || u.username]);
        }}
      />
      {done.length > 0 && (
        <p class="form-success" role="status">
          <Icon name="check" size={16} /> {t('invite.sent', { names: done.join(', ') })}
        </p>
      )}
    </Modal>
  );
}

function LeaveDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const chat = useChat();
  const room = useApp((s) => s.rooms[roomId]);
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal title={t('leave.title', { room: room?.name ?? '' })} onClose={onClose}>
      <p>{room?.kind === 'private' ? t('leave.bodyPrivate') : t('leave.body')}</p>
      <ErrorLine error={error} />
      <div class="dialog-foot">
        <button type="button" class="button" onClick={onClose}>
          {t('common.cancel')}
        </button>
        <button
          type="button"
          class="button danger"
          onClick={() => chat.rooms.leave(roomId).then(onClose, (e: unknown) => setError(errorText(e)))}
        >
          {t('leave.submit')}
        </button>
      </div>
    </Modal>
  );
}

/** A room's notification level for this user (all their devices follow). */
function NotifyDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const chat = useChat();
  const room = useApp((s) => s.rooms[roomId]);
  const meId = useApp((s) => s.me?.id);
  const [error, setError] = useState<string | null>(null);
  if (!room) return null;
  return (
    <Modal title={t('notify.dialogTitle', { room: roomTitle(room, meId) })} onClose={onClose}>
      <fieldset class="choice-group">
        {(['all', 'mentions', 'none'] as const).map((level) => (
          <label key={level} class={`choice${room.notify === level ? ' selected' : ''}`}>
            <input
              type="radio"
              name="notify-level"
              value={level}
              checked={room.notify === level}
              onChange={() => chat.rooms.setNotify(roomId, level).then(onClose, (e: unknown) => setError(errorText(e)))}
            />
            <Icon name={level === 'all' ? 'bell' : level === 'mentions' ? 'at' : 'bellOff'} size={16} />
            <span>
              <strong>{t(`notify.${level}`)}</strong>
              <span class="muted">{t(`notify.${level}Hint`)}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {room.kind === 'dm' && <p class="muted">{t('notify.dmNote')}</p>}
      <ErrorLine error={error} />
    </Modal>
  );
}

/** Desktop notifications, sound and do-not-disturb, in the settings dialog. */
function NotificationSettings({ report }: { report: (p: Promise<void>, ok: string) => void }) {
  const chat = useChat();
  const settings = useApp((s) => s.settings);
  const permission = useApp((s) => s.permission);
  const sound = useApp((s) => s.sound);
  const dndUntil = settings?.dndUntil ?? null;
  const dnd = dndActive(settings);
  const dndText = !dnd
    ? t('dnd.off')
    : dndUntil !== null && dndUntil >= DND_FOREVER
      ? t('dnd.onForever')
      : t('dnd.onUntil', { when: formatFull(new Date(dndUntil ?? 0).toISOString()) });
  const desktopText =
    permission === 'granted'
      ? t('settings.desktopOn')
      : permission === 'denied'
        ? t('settings.desktopDenied')
        : permission === 'unsupported'
          ? t('settings.desktopUnsupported')
          : t('settings.desktopOff');
  const choices = [
    { id: 'off', label: t('dnd.off'), ms: null },
    { id: 'hour', label: t('dnd.hour'), ms: 3_600_000 },
    { id: 'hours8', label: t('dnd.hours8'), ms: 8 * 3_600_000 },
    { id: 'forever', label: t('dnd.forever'), ms: Infinity },
  ] as const;
  return (
    <fieldset class="notify-settings" data-testid="notify-settings">
      <legend>
        <Icon name="bell" size={14} /> {t('settings.notifications')}
      </legend>
      <div class="check notify-row">
        <span>
          <strong>{t('settings.desktop')}</strong>
          <span class="muted" data-permission={permission}>
            {desktopText}
          </span>
        </span>
        {permission === 'default' && (
          <button type="button" class="button small" onClick={() => void chat.notifier.requestPermission()}>
            {t('settings.enableDesktop')}
          </button>
        )}
      </div>
      <label class="check">
        <input type="checkbox" checked={sound} onChange={(e) => chat.notifier.setSound(e.currentTarget.checked)} />
        <span>
          <strong>{t('settings.sound')}</strong>
          <span class="muted">{t('settings.soundHint')}</span>
        </span>
      </label>
      <label class="field">
        <span>
          <Icon name="bellOff" size={14} /> {t('dnd.title')}
          <span class={`dnd-state${dnd ? ' on' : ''}`} data-dnd={dnd ? 'on' : 'off'}>
            {dndText}
          </span>
        </span>
        <select
          name="dnd"
          disabled={!settings}
          value=""
          onChange={(e) => {
            const c = choices.find((x) => x.id === e.currentTarget.value);
            if (c) report(chat.notifier.setDnd(c.ms), t('settings.saved'));
          }}
        >
          <option value="" disabled>
            {dndText}
          </option>
          {choices.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
        <span class="muted">{t('dnd.hint')}</span>
      </label>
    </fieldset>
  );
}

function SettingsDialog({ onClose }: { onClose: () => void }) {
  const chat = useChat();
  const me = useApp((s) => s.me);
  const theme = useApp((s) => s.theme);
  const locale = useApp((s) => s.locale);
  const settings = useApp((s) => s.settings);
  const [displayName, setDisplayName] = useState(me?.displayName ?? '');
  const [statusText, setStatusText] = useState(me?.statusText ?? '');
  const [announcement, setAnnouncement] = useState('');
  const [note, setNote] = useState<{ text: string; ok: boolean } | null>(null);
  const report = (p: Promise<void>, ok: string) =>
    p.then(
      () => setNote({ text: ok, ok: true }),
      (e: unknown) => setNote({ text: errorText(e), ok: false }),
    );
  return (
    <Modal title={t('settings.title')} onClose={onClose}>
      <div class="form">
        {me && (
          <AvatarEdit
            id={me.id}
            name={me.displayName || me.username}
            url={me.avatarUrl}
            onSet={(file) => chat.setAvatar(file)}
          />
        )}
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!displayName.trim()) return;
            void report(
              chat.updateProfile({ displayName: displayName.trim(), statusText: statusText.trim() }),
              t('settings.saved'),
            );
          }}
        >
          <label class="field grow">
            <span>{t('settings.displayName')}</span>
            <input value={displayName} maxLength={64} onInput={(e) => setDisplayName(e.currentTarget.value)} />
          </label>
          <label class="field grow">
            <span>{t('settings.status')}</span>
            <input
              value={statusText}
              maxLength={140}
              placeholder={t('settings.statusPlaceholder')}
              onInput={(e) => setStatusText(e.currentTarget.value)}
            />
          </label>
          <button type="submit" class="button">
            {t('common.save')}
          </button>
        </form>
        <fieldset class="choice-group row">
          <legend>{t('settings.theme')}</legend>
          {(['light', 'dark'] as const).map((v) => (
            <label key={v} class={`choice compact${theme === v ? ' selected' : ''}`}>
              <input type="radio" name="theme" checked={theme === v} onChange={() => chat.ui.setTheme(v)} />
              <Icon name={v === 'light' ? 'sun' : 'moon'} size={16} />
              <span>{t(`settings.${v}`)}</span>
            </label>
          ))}
        </fieldset>
        <label class="field">
          <span>
            <Icon name="globe" size={14} /> {t('settings.language')}
          </span>
          <select value={locale} onChange={(e) => chat.ui.setLocale(e.currentTarget.value as Locale)}>
            {LOCALES.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={settings?.readReceipts ?? false}
            disabled={!settings}
            onChange={(e) =>
              void report(chat.receipts.update({ readReceipts: e.currentTarget.checked }), t('settings.saved'))
            }
          />
          <span>
            <strong>{t('settings.readReceipts')}</strong>
            <span class="muted">{t('settings.readReceiptsHint')}</span>
          </span>
        </label>
        <NotificationSettings report={(p, ok) => void report(p, ok)} />
        {me?.role === 'admin' && (
          <form
            class="field"
            onSubmit={(e) => {
              e.preventDefault();
              if (!announcement.trim()) return;
              void report(
                chat.announce(announcement.trim()).then(() => setAnnouncement('')),
                t('settings.announceSent'),
              );
            }}
          >
            <span>
              <Icon name="megaphone" size={14} /> {t('settings.announce')}
            </span>
            <div class="inline-form">
              <input
                class="grow"
                value={announcement}
                placeholder={t('settings.announcePlaceholder')}
                aria-label={t('settings.announce')}
                onInput={(e) => setAnnouncement(e.currentTarget.value)}
              />
              <button type="submit" class="button">
                {t('settings.announceSend')}
              </button>
            </div>
          </form>
        )}
        {note && (
          <p class={note.ok ? 'form-success' : 'form-error'} role="status">
            {note.text}
          </p>
        )}
        <PasswordForm />
        <SessionList />
        <BlockedList />
        <AccountKeep />
        <div class="dialog-foot split">
          <button type="button" class="button danger-outline" onClick={() => void chat.logout(true)}>
            {t('settings.logoutAll')}
          </button>
          <button type="button" class="button" onClick={() => void chat.logout(false)}>
            <Icon name="logout" size={16} />
            {t('settings.logout')}
          </button>
        </div>
      </div>
    </Modal>
  );
}

/** Change the password (the current one is asked for); the server then ends this user's other sessions. */
function PasswordForm() {
  const chat = useChat();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [note, setNote] = useState<{ text: string; ok: boolean } | null>(null);
  return (
    <form
      class="field"
      onSubmit={(e) => {
        e.preventDefault();
        if (!current || !next) return;
        chat.changePassword(current, next).then(
          () => {
            setCurrent('');
            setNext('');
            setNote({ text: t('settings.passwordChanged'), ok: true });
          },
          (err: unknown) => setNote({ text: errorText(err), ok: false }),
        );
      }}
    >
      <span>
        <Icon name="lock" size={14} /> {t('settings.password')}
      </span>
      <div class="inline-form wrap">
        <input
          class="grow"
          type="password"
          autoComplete="current-password"
          value={current}
          placeholder={t('settings.currentPassword')}
          aria-label={t('settings.currentPassword')}
          onInput={(e) => setCurrent(e.currentTarget.value)}
        />
        <input
          class="grow"
          type="password"
          autoComplete="new-password"
          minLength={8}
          value={next}
          placeholder={t('settings.newPassword')}
          aria-label={t('settings.newPassword')}
          onInput={(e) => setNext(e.currentTarget.value)}
        />
        <button type="submit" class="button">
          {t('settings.changePassword')}
        </button>
      </div>
      {note && (
        <p class={note.ok ? 'form-success' : 'form-error'} role="status">
          {note.text}
        </p>
      )}
    </form>
  );
}

/** The users this user blocked, newest first, each with since when and Unblock. */
function BlockedList() {
  const chat = useChat();
  const blocked = useApp((s) => s.blocked);
  const list = Object.values(blocked).sort((a, b) => (a.since < b.since ? 1 : -1));
  return (
    <div class="field" data-testid="blocked-users">
      <span>
        <Icon name="ban" size={14} /> {t('settings.blocked')}
      </span>
      {list.length === 0 ? (
        <p class="muted">{t('settings.blockedNone')}</p>
      ) : (
        <ul class="session-list">
          {list.map((b) => (
            <li key={b.user.id} class="session-item">
              <span class="session-text">
                <strong>{b.user.displayName || b.user.username}</strong>
                <span class="muted">
                  @{b.user.username} · {t('settings.blockedSince', { when: formatFull(b.since) })}
                </span>
              </span>
              <button
                type="button"
                class="link-button"
                aria-label={t('settings.unblockName', { name: b.user.displayName || b.user.username })}
                onClick={() => void chat.blocks.toggle(b.user.id, false)}
              >
                {t('settings.unblock')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Where this account is signed in: each session by its label and last use; any but this one can be ended. */
function SessionList() {
  const chat = useChat();
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => chat.api.sessions().then(setSessions, setError);
  useEffect(() => void load(), []);
  return (
    <div class="field">
      <span>
        <Icon name="users" size={14} /> {t('settings.sessions')}
      </span>
      <ErrorLine error={error === null ? null : errorText(error)} />
      <ul class="session-list">
        {(sessions ?? []).map((s) => (
          <li key={s.id} class="session-item">
            <span class="session-text">
              <strong>{s.label || t('settings.sessionUnnamed')}</strong>
              <span class="muted">
                {s.current ? t('settings.thisDevice') : t('settings.lastUsed', { when: formatFull(s.lastUsedAt) })}
              </span>
            </span>
            {!s.current && (
              <button
                type="button"
                class="link-button muted"
                onClick={() =>
                  chat.api.revokeSession(s.id).then(
                    () => void load(),
                    (err: unknown) => setError(err),
                  )
                }
              >
                {t('settings.revoke')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A user's card: names, status text, presence; a DM from here, or one's own profile in settings. */
function ProfileDialog({ userId, onClose }: { userId: string; onClose: () => void }) {
  const chat = useChat();
  const user = useApp((s) => s.users[userId]);
  const me = useApp((s) => s.me);
  const status = useApp((s) => s.presence[userId]);
  useEffect(() => chat.people.ensureUser(userId), [userId, chat]);
  const name = user ? user.displayName || user.username : t('people.unknown');
  const mine = userId === me?.id;
  const blocked = useApp((s) => s.blocked[userId] !== undefined);
  const [confirming, setConfirming] = useState(false);
  if (confirming) {
    return (
      <Modal title={t('profile.blockTitle', { name })} onClose={onClose}>
        <p>{t('profile.blockConfirm')}</p>
        <div class="dialog-foot">
          <button type="button" class="button" onClick={() => setConfirming(false)}>
            {t('common.cancel')}
          </button>
          <button
            type="button"
            class="button danger"
            onClick={() => void chat.blocks.toggle(userId, true).then(() => setConfirming(false))}
          >
            {t('profile.blockYes')}
          </button>
        </div>
      </Modal>
    );
  }
  return (
    <Modal title={t('profile.title')} onClose={onClose}>
      <div class="profile-card">
        <Avatar id={userId} name={name} size={64} {...(status ? { presence: status } : {})} />
        <div class="profile-text">
          <strong class="profile-name">{name}</strong>
          {user && <span class="muted">@{user.username}</span>}
          {user?.role === 'admin' && <span class="badge">{t('people.admin')}</span>}
          {status && <span class="profile-presence">{t(`presence.${status}`)}</span>}
          {user?.statusText && <p class="profile-status">{user.statusText}</p>}
          {blocked && (
            <span class="profile-blocked" role="status">
              <Icon name="ban" size={13} /> {t('profile.blocked')}
            </span>
          )}
        </div>
      </div>
      <div class="dialog-foot">
        {!mine && user && (
          <button
            type="button"
            class={`button${blocked ? '' : ' danger-outline'}`}
            onClick={() => (blocked ? void chat.blocks.toggle(userId, false) : setConfirming(true))}
          >
            <Icon name="ban" size={16} />
            {blocked ? t('profile.unblock') : t('profile.block')}
          </button>
        )}
        {mine ? (
          <button type="button" class="button" onClick={() => chat.ui.setDialog({ kind: 'settings' })}>
            {t('profile.edit')}
          </button>
        ) : (
          user &&
          !blocked && (
            <button
              type="button"
              class="button primary"
              onClick={() =>
                chat.rooms.openDm(user.username).then(
                  () => chat.ui.setDialog(null),
                  (e: unknown) => chat.ui.fail(e),
                )
              }
            >
              <Icon name="message" size={16} />
              {t('profile.message')}
            </button>
          )
        )}
      </div>
    </Modal>
  );
}

/** The moderation and admin views, split out of the initial bundle: fetched the first time one opens. */
const views = {
  moderation: () => import('./Moderation.js'),
  admin: () => import('./Admin.js'),
};
type Views = { [K in keyof typeof views]: Awaited<ReturnType<(typeof views)[K]>> };
const loaded: Partial<Views> = {};

function useView<K extends keyof Views>(name: K): Views[K] | undefined {
  const chat = useChat();
  const [mod, setMod] = useState(loaded[name]);
  useEffect(() => {
    if (mod) return;
    let live = true;
    views[name]().then(
      (m) => {
        loaded[name] = m as Views[K];
        if (live) setMod(m as Views[K]);
      },
      (e: unknown) => {
        // A new build replaced the chunk since this page loaded: a reload fetches the current one.
        chat.ui.toast(t('errors.loadFailed'), 'error');
        chat.ui.setDialog(null);
        console.warn(e);
      },
    );
    return () => {
      live = false;
    };
  }, [name]);
  return mod;
}

function Loading({ onClose }: { onClose: () => void }) {
  return (
    <Modal title={t('common.loading')} onClose={onClose}>
      <div class="loading-row" role="status">
        <span class="spinner" aria-hidden="true" />
      </div>
    </Modal>
  );
}

function ModerationDialog({ dialog, onClose }: { dialog: NonNullable<Dialog>; onClose: () => void }) {
  const m = useView('moderation');
  if (!m) return <Loading onClose={onClose} />;
  switch (dialog.kind) {
    case 'roomSettings':
      return <m.RoomSettingsDialog roomId={dialog.roomId} onClose={onClose} />;
    case 'member':
      return <m.MemberDialog roomId={dialog.roomId} userId={dialog.userId} onClose={onClose} />;
    case 'report':
      return <m.ReportDialog roomId={dialog.roomId} seq={dialog.seq} onClose={onClose} />;
    case 'deleteMessage':
      return <m.DeleteMessageDialog roomId={dialog.roomId} seq={dialog.seq} onClose={onClose} />;
    case 'reports':
      return <m.ReportsDialog onClose={onClose} />;
    default:
      return null;
  }
}

/** The room's pinned messages, newest pin first; those who may pin can unpin from here. */
function PinsDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const chat = useChat();
  const pins = useApp((s) => s.pins[roomId]);
  const room = useApp((s) => s.rooms[roomId]);
  const users = useApp((s) => s.users);
  const me = useApp((s) => s.me);
  const canPin = room ? can('pin', room.kind, room.myRole, me) : false;
  useEffect(() => {
    for (const p of pins ?? []) {
      chat.people.ensureUser(p.message.senderId);
      chat.people.ensureUser(p.pinnedBy);
    }
  }, [pins, chat]);
  const nameOf = (id: string) => users[id]?.displayName || users[id]?.username || t('people.unknown');
  return (
    <Modal title={t('pins.title')} onClose={onClose}>
      {!pins || pins.length === 0 ? (
        <p class="muted">{t('pins.none')}</p>
      ) : (
        <ul class="pin-list">
          {pins.map((p) => (
            <li key={p.seq} class="pin-item">
              <div class="pin-head">
                <ListAuthor message={p.message} user={users[p.message.senderId]} name={nameOf(p.message.senderId)} />
                <time dateTime={p.message.createdAt} title={formatFull(p.message.createdAt)}>
                  {formatTime(p.message.createdAt)}
                </time>
                <span class="pin-actions">
                  <button
                    type="button"
                    class="link-button"
                    onClick={() => {
                      onClose();
                      void chat.threads.jumpTo(roomId, p.seq);
                    }}
                  >
                    {t('pins.jump')}
                  </button>
                  {canPin && (
                    <button
                      type="button"
                      class="link-button muted"
                      onClick={() => void chat.pins.toggle(roomId, p.seq, false)}
                    >
                      {t('pins.unpin')}
                    </button>
                  )}
                </span>
              </div>
              <MessageBody body={p.message.body ?? ''} />
              <p class="pin-by muted">{t('pins.by', { name: nameOf(p.pinnedBy) })}</p>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}

/** My mentions inbox, newest first (GET /me/mentions); a click opens the room at the message. */
function MentionsDialog({ onClose }: { onClose: () => void }) {
  const chat = useChat();
  const users = useApp((s) => s.users);
  const meId = useApp((s) => s.me?.id);
  const rooms = useApp((s) => s.rooms);
  const [items, setItems] = useState<MentionItem[] | null>(null);
  useEffect(() => {
    let live = true;
    chat.api
      .mentions({ limit: 50 })
      .then((list) => {
        if (!live) return;
        setItems(list);
        for (const i of list) chat.people.ensureUser(i.message.senderId);
      })
      .catch((err: unknown) => chat.ui.fail(err));
    return () => {
      live = false;
    };
  }, [chat]);
  const nameOf = (id: string) => users[id]?.displayName || users[id]?.username || t('people.unknown');
  const roomName = (i: MentionItem) => {
    const r = rooms[i.roomId];
    return r ? roomTitle(r, meId) : i.roomName;
  };
  return (
    <Modal title={t('mentions.title')} onClose={onClose}>
      {items === null ? (
        <p class="muted">{t('common.loading')}</p>
      ) : items.length === 0 ? (
        <p class="muted">{t('mentions.empty')}</p>
      ) : (
        <ul class="pin-list mention-list">
          {items.map((i) => (
            <li key={i.id} class="pin-item mention-item">
              <button
                type="button"
                class="mention-open"
                onClick={() => {
                  onClose();
                  chat.rooms.open(i.roomId);
                  void chat.threads.jumpTo(i.roomId, i.message.seq);
                }}
              >
                <div class="pin-head">
                  <ListAuthor message={i.message} user={users[i.message.senderId]} name={nameOf(i.message.senderId)} />
                  <span class="muted">{t('mentions.inRoom', { room: roomName(i) })}</span>
                  <time dateTime={i.message.createdAt} title={formatFull(i.message.createdAt)}>
                    {formatTime(i.message.createdAt)}
                  </time>
                </div>
                <MessageBody
                  body={i.message.body ?? ''}
                  mentionMe={(chat.store.state.me?.username ?? '').toLowerCase()}
                />
              </button>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}

/** A search snippet as text with its highlight marks (U+E000 … U+E001, docs/protocol.md) turned into <mark>. */
export function Snippet({ text }: { text: string }) {
  const parts: (string | { mark: string })[] = [];
  for (const [i, piece] of text.split(SEARCH_HIGHLIGHT_START).entries()) {
    if (i === 0) {
      if (piece) parts.push(piece);
      continue;
    }
    const end = piece.indexOf(SEARCH_HIGHLIGHT_END);
    parts.push({ mark: end < 0 ? piece : piece.slice(0, end) });
    if (end >= 0 && end + 1 < piece.length) parts.push(piece.slice(end + 1));
  }
  return (
    <p class="search-snippet">{parts.map((p, i) => (typeof p === 'string' ? p : <mark key={i}>{p.mark}</mark>))}</p>
  );
}

/**
 * Message search (GET /api/v1/search): a query, a room and an author filter, results newest first with highlighted
 * snippets; a click opens the room at the message (loading the history back to it) and highlights it.
 */
function SearchDialog({ roomId, onClose }: { roomId?: string; onClose: () => void }) {
  const chat = useChat();
  const users = useApp((s) => s.users);
  const meId = useApp((s) => s.me?.id);
  const rooms = useApp((s) => s.rooms);
  const [q, setQ] = useState('');
  const [room, setRoom] = useState(roomId ?? '');
  const [from, setFrom] = useState('');
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const asked = useRef<{ q: string; room: string; from: string } | null>(null);
  const run = async (more: boolean) => {
    const ask = more && asked.current ? asked.current : { q: q.trim(), room, from: from.trim().replace(/^@/, '') };
    if (!ask.q) return;
    asked.current = ask;
    setBusy(true);
    try {
      const page = await chat.api.search({
        q: ask.q,
        ...(ask.room ? { roomId: ask.room } : {}),
        ...(ask.from ? { from: ask.from } : {}),
        ...(more && next ? { cursor: next } : {}),
      });
      for (const r of page.results) chat.people.ensureUser(r.message.senderId);
      setResults((cur) => (more && cur ? [...cur, ...page.results] : page.results));
      setNext(page.nextCursor);
    } catch (err) {
      chat.ui.fail(err);
    } finally {
      setBusy(false);
    }
  };
  const nameOf = (id: string) => users[id]?.displayName || users[id]?.username || t('people.unknown');
  const roomName = (r: SearchResult) => {
    const known = rooms[r.message.roomId];
    return known ? roomTitle(known, meId) : r.roomName;
  };
  const myRooms = Object.values(rooms).sort((a, b) => roomTitle(a, meId).localeCompare(roomTitle(b, meId)));
  return (
    <Modal title={t('search.title')} onClose={onClose} wide>
      <form
        class="search-form"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void run(false);
        }}
      >
        <label class="search-query">
          <span class="sr-only">{t('search.label')}</span>
          <Icon name="search" size={16} />
          <input
            type="search"
            value={q}
            autoFocus
            maxLength={100}
            placeholder={t('search.placeholder')}
            onInput={(e) => setQ(e.currentTarget.value)}
          />
        </label>
        <div class="search-filters">
          <label>
            <span>{t('search.room')}</span>
            <select value={room} onChange={(e) => setRoom(e.currentTarget.value)}>
              <option value="">{t('search.allRooms')}</option>
              {myRooms.map((r) => (
                <option key={r.id} value={r.id}>
                  {roomTitle(r, meId)}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>{t('search.from')}</span>
            <input
              type="text"
              value={from}
              maxLength={33}
              placeholder={t('search.fromPlaceholder')}
              onInput={(e) => setFrom(e.currentTarget.value)}
            />
          </label>
          <button type="submit" class="button primary" disabled={busy || !q.trim()}>
            {t('search.submit')}
          </button>
        </div>
      </form>
      {results === null ? (
        <p class="muted search-hint">{busy ? t('common.loading') : t('search.hint')}</p>
      ) : results.length === 0 ? (
        <p class="muted">{t('search.empty')}</p>
      ) : (
        <>
          <p class="muted search-count" aria-live="polite">
            {t('search.results', { count: results.length + (next ? '+' : '') })}
          </p>
          <ul class="pin-list search-results">
            {results.map((r) => (
              <li key={r.message.id} class="pin-item search-item">
                <button
                  type="button"
                  class="mention-open"
                  onClick={() => {
                    onClose();
                    chat.rooms.open(r.message.roomId);
                    void chat.threads.jumpTo(r.message.roomId, r.message.seq);
                  }}
                >
                  <div class="pin-head">
                    <ListAuthor
                      message={r.message}
                      user={users[r.message.senderId]}
                      name={nameOf(r.message.senderId)}
                    />
                    <span class="muted">{t('mentions.inRoom', { room: roomName(r) })}</span>
                    <time dateTime={r.message.createdAt} title={formatFull(r.message.createdAt)}>
                      {formatTime(r.message.createdAt)}
                    </time>
                  </div>
                  <Snippet text={r.snippet} />
                </button>
              </li>
            ))}
          </ul>
          {next && (
            <button type="button" class="button" disabled={busy} onClick={() => void run(true)}>
              {t('search.more')}
            </button>
          )}
        </>
      )}
    </Modal>
  );
}

function AdminDialog({ onClose }: { onClose: () => void }) {
  const m = useView('admin');
  return m ? <m.AdminDialog onClose={onClose} /> : <Loading onClose={onClose} />;
}

export function Dialogs() {
  const chat = useChat();
  const dialog = useApp((s) => s.dialog);
  const close = () => chat.ui.setDialog(null);
  if (!dialog) return null;
  switch (dialog.kind) {
    case 'directory':
      return <DirectoryDialog onClose={close} />;
    case 'create':
      return <CreateRoomDialog onClose={close} />;
    case 'dm':
      return <DmDialog onClose={close} />;
    case 'invite':
      return <InviteDialog roomId={dialog.roomId} onClose={close} />;
    case 'leave':
      return <LeaveDialog roomId={dialog.roomId} onClose={close} />;
    case 'settings':
      return <SettingsDialog onClose={close} />;
    case 'pins':
      return <PinsDialog roomId={dialog.roomId} onClose={close} />;
    case 'notify':
      return <NotifyDialog roomId={dialog.roomId} onClose={close} />;
    case 'mentions':
      return <MentionsDialog onClose={close} />;
    case 'search':
      return <SearchDialog {...(dialog.roomId ? { roomId: dialog.roomId } : {})} onClose={close} />;
    case 'profile':
      return <ProfileDialog userId={dialog.userId} onClose={close} />;
    case 'admin':
      return <AdminDialog onClose={close} />;
    default:
      return <ModerationDialog key={JSON.stringify(dialog)} dialog={dialog} onClose={close} />;
  }
}

import type { MyRoom } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { dmPeer, roomTitle } from '../state/format.js';
import { Avatar } from './Avatar.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { dndActive } from '../state/notify-policy.js';
import { rank } from '../state/permissions.js';

function RoomItem({ room }: { room: MyRoom }) {
  const chat = useChat();
  const meId = useApp((s) => s.me?.id);
  const active = useApp((s) => s.active === room.id);
  const unread = useApp((s) => s.unread[room.id] ?? 0);
  const mentioned = useApp((s) => !!s.mentioned[room.id]);
  const mentions = useApp((s) => s.unreadMentions[room.id] ?? 0);
  const peer = dmPeer(room, meId);
  const peerPresence = useApp((s) => (peer ? (s.presence[peer.id] ?? 'offline') : undefined));
  const title = roomTitle(room, meId);
  return (
    <li>
      <a
        href={`/r/${room.id}`}
        class={`room-item${active ? ' active' : ''}${unread ? ' unread' : ''}`}
        aria-current={active ? 'page' : undefined}
        data-room={room.id}
        onClick={(e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          chat.rooms.open(room.id);
        }}
      >
        {room.kind === 'dm' ? (
          <Avatar
            id={peer?.id ?? room.id}
            name={title}
            size={22}
            presence={peerPresence}
            url={peer ? (peer.avatarUrl ?? undefined) : null}
          />
        ) : room.avatarUrl ? (
          <Avatar id={room.id} name={title} size={22} url={room.avatarUrl} />
        ) : (
          <Icon name={room.kind === 'private' ? 'lock' : 'hash'} size={16} class="room-icon" />
        )}
        <span class="room-name">{title}</span>
        {peer?.bot && <span class="badge badge-bot">{t('people.bot')}</span>}
        {room.notify !== 'all' && (
          <span
            class="room-muted"
            role="img"
            aria-label={t('notify.button', { level: t(`notify.${room.notify}`) })}
            title={t('notify.button', { level: t(`notify.${room.notify}`) })}
            data-notify={room.notify}
          >
            <Icon name="bellOff" size={14} />
          </span>
        )}
        {mentions > 0 && (
          <span class="mention-badge" aria-label={t('nav.unreadMentions', { count: mentions })}>
            @{mentions > 99 ? '99+' : mentions}
          </span>
        )}
        {unread > 0 && (
          <span
            class={`unread-badge${room.notify !== 'all' && !mentioned ? ' dim' : ''}`}
            aria-label={t('nav.unread', { count: unread })}
          >
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </a>
    </li>
  );
}

function Invites() {
  const chat = useChat();
  const invites = useApp((s) => s.invites);
  if (!invites.length) return null;
  return (
    <section class="side-section invites" aria-label={t('invites.title')}>
      <h2 class="side-heading">{t('invites.title')}</h2>
      <ul>
        {invites.map((i) => (
          <li key={i.roomId} class="invite-card">
            <p>{t('invites.body', { user: i.inviter.displayName || i.inviter.username, room: i.roomName })}</p>
            <div class="invite-actions">
              <button
                type="button"
                class="button primary small"
                onClick={() => chat.rooms.acceptInvite(i.roomId).catch((e: unknown) => chat.ui.fail(e))}
              >
                {t('invites.accept')}
              </button>
              <button
                type="button"
                class="button small"
                onClick={() => chat.rooms.declineInvite(i.roomId).catch((e: unknown) => chat.ui.fail(e))}
              >
                {t('invites.decline')}
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Sidebar() {
  const chat = useChat();
  const rooms = useApp((s) => s.rooms);
  useApp((s) => s.activity); // re-sort on activity
  const me = useApp((s) => s.me);
  const theme = useApp((s) => s.theme);
  const settings = useApp((s) => s.settings);
  const dnd = dndActive(settings);
  const conn = useApp((s) => s.conn);
  const serverOnline = useApp((s) => s.serverOnline);
  const open = useApp((s) => s.sidebarOpen);
  const sorted = rooms ? chat.rooms.sortedRooms() : [];
  const channels = sorted.filter((r) => r.kind !== 'dm');
  const dms = sorted.filter((r) => r.kind === 'dm');
  const myName = me ? me.displayName || me.username : '';
  // The moderation queue is for server admins and for moderators of any room.
  const moderates = me?.role === 'admin' || channels.some((r) => rank(r.myRole) >= rank('moderator'));

  return (
    <nav class={`sidebar${open ? ' open' : ''}`} aria-label={t('nav.label')}>
      <div class="side-top">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true">
            <Icon name="message" size={16} />
          </span>
          <span class="brand-name">relaychat</span>
        </div>
        <span class="server-online" title={t('nav.serverOnline', { count: serverOnline })}>
          <span class={`presence ${conn === 'open' ? 'presence-online' : 'presence-away'}`} aria-hidden="true" />
          {t('nav.serverOnline', { count: serverOnline })}
        </span>
        <button
          type="button"
          class="icon-button only-mobile side-close"
          aria-label={t('nav.closeSidebar')}
          onClick={() => chat.ui.toggleSidebar(false)}
        >
          <Icon name="x" size={18} />
        </button>
      </div>
      <div class="side-actions">
        <button type="button" class="side-action" onClick={() => chat.ui.setDialog({ kind: 'directory' })}>
          <Icon name="compass" size={16} />
          {t('nav.browse')}
        </button>
        <button type="button" class="side-action" onClick={() => chat.ui.setDialog({ kind: 'search' })}>
          <Icon name="search" size={16} />
          {t('search.title')}
        </button>
        <button type="button" class="side-action" onClick={() => chat.ui.setDialog({ kind: 'mentions' })}>
          <Icon name="at" size={16} />
          {t('mentions.title')}
        </button>
        {moderates && (
          <button type="button" class="side-action" onClick={() => chat.ui.setDialog({ kind: 'reports' })}>
            <Icon name="flag" size={16} />
            {t('nav.reports')}
          </button>
        )}
        {me?.role === 'admin' && (
          <button type="button" class="side-action" onClick={() => chat.ui.setDialog({ kind: 'admin' })}>
            <Icon name="shield" size={16} />
            {t('nav.admin')}
          </button>
        )}
      </div>
      <div class="side-scroll">
        <Invites />
        <section class="side-section">
          <div class="side-heading-row">
            <h2 class="side-heading">{t('nav.rooms')}</h2>
            <button
              type="button"
              class="icon-button small"
              aria-label={t('nav.createRoom')}
              title={t('nav.createRoom')}
              onClick={() => chat.ui.setDialog({ kind: 'create' })}
            >
              <Icon name="plus" size={16} />
            </button>
          </div>
          <ul class="room-list">
            {channels.map((r) => (
              <RoomItem key={r.id} room={r} />
            ))}
          </ul>
        </section>
        <section class="side-section">
          <div class="side-heading-row">
            <h2 class="side-heading">{t('nav.dms')}</h2>
            <button
              type="button"
              class="icon-button small"
              aria-label={t('nav.newDm')}
              title={t('nav.newDm')}
              onClick={() => chat.ui.setDialog({ kind: 'dm' })}
            >
              <Icon name="plus" size={16} />
            </button>
          </div>
          <ul class="room-list">
            {dms.map((r) => (
              <RoomItem key={r.id} room={r} />
            ))}
            {!dms.length && (
              <li>
                <button type="button" class="side-empty" onClick={() => chat.ui.setDialog({ kind: 'dm' })}>
                  {t('nav.noDms')}
                </button>
              </li>
            )}
          </ul>
        </section>
      </div>
      {me && (
        <div class="me-card">
          <Avatar
            id={me.id}
            name={myName}
            size={32}
            presence={conn === 'open' ? 'online' : 'offline'}
            url={me.avatarUrl ?? null}
          />
          <span class="me-text">
            <span class="me-name">{myName}</span>
            <span class="me-sub">@{me.username}</span>
          </span>
          <button
            type="button"
            class="icon-button"
            aria-label={theme === 'dark' ? t('settings.lightMode') : t('settings.darkMode')}
            title={theme === 'dark' ? t('settings.lightMode') : t('settings.darkMode')}
            onClick={() => chat.ui.setTheme(theme === 'dark' ? 'light' : 'dark')}
          >
            <Icon name={theme === 'dark' ? 'sun' : 'moon'} size={18} />
          </button>
          <button
            type="button"
            class={`icon-button${dnd ? ' dnd-on' : ''}`}
            aria-label={dnd ? t('dnd.turnOff') : t('dnd.turnOn')}
            title={dnd ? t('dnd.turnOff') : t('dnd.turnOn')}
            aria-pressed={dnd}
            data-dnd={dnd ? 'on' : 'off'}
            disabled={!settings}
            onClick={() => void chat.notifier.setDnd(dnd ? null : Infinity).catch(() => {})}
          >
            <Icon name={dnd ? 'bellOff' : 'bell'} size={18} />
          </button>
          <button
            type="button"
            class="icon-button"
            aria-label={t('settings.title')}
            title={t('settings.title')}
            onClick={() => chat.ui.setDialog({ kind: 'settings' })}
          >
            <Icon name="settings" size={18} />
          </button>
        </div>
      )}
    </nav>
  );
}

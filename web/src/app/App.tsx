import { setFaviconBadge } from './favicon.js';
import { useEffect } from 'preact/hooks';
import { t } from '../i18n/index.js';
import type { Chat } from '../state/chat.js';
import { roomTitle } from '../state/format.js';
import { useSelector } from '../state/store.js';
import { AuthScreen } from './Auth.js';
import { ResetPage } from './Keep.js';
import { Announcements, ConnectionBanner, Toasts } from './Banners.js';
import { ChatContext, useApp, useChat } from './context.js';
import { Dialogs } from './Dialogs.js';
import { Icon } from './Icon.js';
import { RoomView } from './RoomView.js';
import { Sidebar } from './Sidebar.js';

function Splash() {
  return (
    <main class="splash" aria-busy="true">
      <span class="brand-mark large" aria-hidden="true">
        <Icon name="message" size={22} />
      </span>
      <p>
        <span class="spinner" aria-hidden="true" /> {t('conn.connecting')}
      </p>
      <ConnectionBanner />
    </main>
  );
}

function NoRoom() {
  const chat = useChat();
  return (
    <div class="no-room">
      <button
        type="button"
        class="icon-button only-mobile"
        aria-label={t('nav.openSidebar')}
        onClick={() => chat.ui.toggleSidebar(true)}
      >
        <Icon name="menu" size={20} />
      </button>
      <h1>{t('room.noneTitle')}</h1>
      <p class="muted">{t('room.noneBody')}</p>
      <button type="button" class="button primary" onClick={() => chat.ui.setDialog({ kind: 'directory' })}>
        <Icon name="compass" size={16} /> {t('nav.browse')}
      </button>
    </div>
  );
}

function Shell() {
  const chat = useChat();
  const active = useApp((s) => s.active);
  const sidebarOpen = useApp((s) => s.sidebarOpen);
  const unread = useApp((s) => s.unread);
  const room = useApp((s) => (s.active ? s.rooms[s.active] : undefined));
  const meId = useApp((s) => s.me?.id);
  const rooms = useApp((s) => s.rooms);
  const mentioned = useApp((s) => s.mentioned);
  // The tab title and the favicon badge carry the unread total, so it shows in the tab strip while you are
  // elsewhere; the badge turns red while something unread mentions you or is a direct message.
  useEffect(() => {
    const total = Object.values(unread).reduce((a, b) => a + b, 0);
    const where = room ? (room.kind === 'dm' ? roomTitle(room, meId) : `#${room.name}`) : '';
    document.title = `${total ? `(${total}) ` : ''}${where ? `${where} · ` : ''}relaychat`;
    for (const id of Object.keys(mentioned)) if (!unread[id]) chat.notifier.read(id);
    const mention = Object.entries(unread).some(([id, n]) => n > 0 && (mentioned[id] || rooms[id]?.kind === 'dm'));
    void setFaviconBadge(total, mention);
  }, [unread, room, meId, rooms, mentioned, chat]);
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      <Sidebar />
      {sidebarOpen && <div class="scrim only-mobile" onClick={() => chat.ui.toggleSidebar(false)} />}
      <main class="main" id="main">
        <ConnectionBanner />
        <Announcements />
        {active ? <RoomView key={active} roomId={active} /> : <NoRoom />}
      </main>
      <Dialogs />
    </div>
  );
}

function Root() {
  const phase = useApp((s) => s.phase);
  const theme = useApp((s) => s.theme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document
      .querySelector('meta[name="theme-color"]')
      ?.setAttribute('content', theme === 'dark' ? '#1a1d21' : '#ffffff');
  }, [theme]);
  // A password reset link (issue 18) opens its own page, signed in or not.
  if (location.pathname === '/reset') {
    return (
      <>
        <ResetPage />
        <Toasts />
      </>
    );
  }
  return (
    <>
      {phase === 'ready' ? <Shell /> : phase === 'auth' ? <AuthScreen /> : <Splash />}
      <Toasts />
    </>
  );
}

export function App({ chat }: { chat: Chat }) {
  const locale = useSelector(chat.store, (s) => s.locale);
  return (
    <ChatContext.Provider value={chat}>
      {/* Re-mount on a language switch so every string is re-read from the new table. */}
      <Root key={locale} />
    </ChatContext.Provider>
  );
}

import { t } from '../i18n/index.js';
import { formatTime } from '../state/format.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { MessageBody } from './MessageBody.js';

/** Shown while the socket is down; the SDK reconnects and resumes by itself, so there is nothing to click. */
export function ConnectionBanner() {
  const conn = useApp((s) => s.conn);
  if (conn !== 'reconnecting' && conn !== 'closed') return null;
  return (
    <div class="banner banner-warn" role="status" data-testid="connection-banner">
      <span class="spinner small" aria-hidden="true" />
      <span>{conn === 'closed' ? t('conn.closed') : t('conn.reconnecting')}</span>
    </div>
  );
}

export function Announcements() {
  const chat = useChat();
  const list = useApp((s) => s.announcements);
  if (!list.length) return null;
  return (
    <div class="announcements">
      {list.map((a) => (
        <div key={a.id} class="banner banner-accent" role="alert" data-testid="announcement">
          <Icon name="megaphone" size={18} />
          <div class="banner-text">
            <strong>{t('announce.from', { name: a.from.displayName || a.from.username })}</strong>
            <span class="muted"> · {formatTime(a.createdAt)}</span>
            <MessageBody body={a.body} />
          </div>
          <button
            type="button"
            class="icon-button small"
            aria-label={t('common.dismiss')}
            onClick={() => chat.ui.dismissAnnouncement(a.id)}
          >
            <Icon name="x" size={16} />
          </button>
        </div>
      ))}
    </div>
  );
}

export function Toasts() {
  const chat = useChat();
  const toasts = useApp((s) => s.toasts);
  return (
    <div class="toasts" aria-live="polite">
      {toasts.map((x) => (
        <div key={x.id} class={`toast toast-${x.tone}`} role={x.tone === 'error' ? 'alert' : 'status'}>
          <span>{x.text}</span>
          <button
            type="button"
            class="icon-button small"
            aria-label={t('common.dismiss')}
            onClick={() => chat.ui.dismissToast(x.id)}
          >
            <Icon name="x" size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}

/**
 * Messages posted through an incoming webhook (issue 16) carry `data.integration`: they are shown as the
 * integration — its name, its icon if any, an "app" badge — instead of the account that set the webhook up.
 */
import { integrationOf } from '../../../src/client/integration.js';
import type { IntegrationRef, PublicUser } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { tb } from '../i18n/bots.js';
import { Avatar } from './Avatar.js';

/**
 * The integration's icon, only when this server serves it: the page's CSP allows images from its own origin alone,
 * and loading a picture from anywhere else would tell that host who reads the room. Others show initials.
 */
export function appIcon(app: IntegrationRef): string | null {
  if (!app.iconUrl) return null;
  try {
    const url = new URL(app.iconUrl, location.href);
    return url.origin === location.origin ? url.href : null;
  } catch {
    return null;
  }
}

/** The "app" badge; its tooltip names who set the integration up (they answer for what it posts). */
export function AppBadge({ by }: { by?: string | undefined }) {
  return (
    <span class="badge badge-app" title={by ? tb('bots.appBy', { name: by }) : undefined}>
      {tb('bots.app')}
    </span>
  );
}

/**
 * A message's author in a list (pins, mentions, search results): avatar and name, with the app badge for an
 * integration and the bot badge for a bot.
 */
export function ListAuthor({
  message,
  user,
  name,
}: {
  message: { senderId: string; data: Record<string, unknown> | null };
  user: PublicUser | undefined;
  name: string;
}) {
  const app = integrationOf(message.data);
  return (
    <>
      <Avatar
        id={app?.id ?? message.senderId}
        name={app?.name ?? name}
        size={28}
        {...(app ? { url: appIcon(app) } : {})}
      />
      <strong>{app?.name ?? name}</strong>
      {app ? <AppBadge by={name} /> : user?.bot && <span class="badge badge-bot">{t('people.bot')}</span>}
    </>
  );
}

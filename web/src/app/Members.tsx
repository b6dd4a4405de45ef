import type { Member } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { Avatar } from './Avatar.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { can, isMuted, outranks } from '../state/permissions.js';
import { spacedAfterWord, untilText } from '../state/format.js';

export function Members({ roomId }: { roomId: string }) {
  const chat = useChat();
  const members = useApp((s) => s.members[roomId]);
  const hasMore = useApp((s) => Boolean(s.membersNext[roomId]));
  const presence = useApp((s) => s.presence);
  const room = useApp((s) => s.rooms[roomId]);
  const me = useApp((s) => s.me);
  const meId = me?.id;
  const moderator = room ? can('moderate', room.kind, room.myRole, me) : false;
  const status = (m: Member) => presence[m.user.id] ?? m.presence;
  const sorted = [...(members ?? [])].sort(
    (a, b) =>
      Number(status(a) === 'offline') - Number(status(b) === 'offline') ||
      (a.user.displayName || a.user.username).localeCompare(b.user.displayName || b.user.username),
  );
  const online = sorted.filter((m) => status(m) !== 'offline');
  const offline = sorted.filter((m) => status(m) === 'offline');

  const row = (m: Member) => {
    const name = m.user.displayName || m.user.username;
    const st = status(m);
    const muted = isMuted(m);
    const actOn =
      moderator &&
      m.user.id !== meId &&
      room &&
      outranks(room.myRole, me, m.role) &&
      (m.user.role !== 'admin' || me?.role === 'admin');
    return (
      <li key={m.user.id} class={`member${st === 'offline' ? ' offline' : ''}`}>
        <Avatar id={m.user.id} name={name} size={30} presence={st} url={m.user.avatarUrl ?? null} />
        <span class="member-text">
          <span class="member-name">
            {name}
            {m.user.bot && <span class="badge badge-bot">{t('people.bot')}</span>}
            {m.user.id === meId && <span class="muted">{spacedAfterWord(t('people.you'))}</span>}
          </span>
          <span class="member-sub">
            {m.role !== 'member' ? t(`roles.${m.role}`) : `@${m.user.username}`}
            {muted && m.mutedUntil && (
              <span class="member-muted" title={untilText(m.mutedUntil)}>
                <Icon name="mute" size={12} /> {t('members.muted')}
              </span>
            )}
          </span>
        </span>
        {actOn && (
          <button
            type="button"
            class="icon-button small member-mod"
            aria-label={t('members.moderate', { name })}
            title={t('members.moderate', { name })}
            onClick={() => chat.ui.setDialog({ kind: 'member', roomId, userId: m.user.id })}
          >
            <Icon name="shield" size={15} />
          </button>
        )}
        <span class="sr-only">{t(`presence.${st}`)}</span>
        {m.user.id !== meId && (
          <button
            type="button"
            class="icon-button small member-dm"
            aria-label={t('members.message', { name })}
            title={t('members.message', { name })}
            onClick={() => chat.rooms.openDm(m.user.username).catch((e: unknown) => chat.ui.fail(e))}
          >
            <Icon name="message" size={16} />
          </button>
        )}
      </li>
    );
  };

  return (
    <aside class="members" aria-label={t('members.title')}>
      <div class="members-head">
        <h2>{t('members.title')}</h2>
        <button
          type="button"
          class="icon-button small"
          aria-label={t('members.close')}
          onClick={() => chat.ui.toggleMembers(false)}
        >
          <Icon name="x" size={16} />
        </button>
      </div>
      {room && room.kind !== 'dm' && (
        <button type="button" class="member-invite" onClick={() => chat.ui.setDialog({ kind: 'invite', roomId })}>
          <Icon name="userPlus" size={16} />
          {t('members.invite')}
        </button>
      )}
      {!members && (
        <div class="loading-row">
          <span class="spinner" aria-hidden="true" />
        </div>
      )}
      {online.length > 0 && (
        <section>
          <h3>{t('members.online', { count: online.length })}</h3>
          <ul>{online.map(row)}</ul>
        </section>
      )}
      {offline.length > 0 && (
        <section>
          <h3>{t('members.offline', { count: offline.length })}</h3>
          <ul>{offline.map(row)}</ul>
        </section>
      )}
      {hasMore && (
        <button type="button" class="member-more" onClick={() => void chat.people.loadMoreMembers(roomId)}>
          {t('members.more', { shown: members?.length ?? 0, total: room?.memberCount ?? 0 })}
        </button>
      )}
    </aside>
  );
}

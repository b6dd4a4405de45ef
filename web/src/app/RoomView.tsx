import { t } from '../i18n/index.js';
import { dmPeer, durationText, roomTitle } from '../state/format.js';
import { Avatar, PresenceDot } from './Avatar.js';
import { Composer } from './Composer.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { Members } from './Members.js';
import { MessageList } from './MessageList.js';
import { ThreadPanel } from './ThreadPanel.js';
import { can } from '../state/permissions.js';
import { useState } from 'preact/hooks';

export function RoomView({ roomId }: { roomId: string }) {
  const chat = useChat();
  const room = useApp((s) => s.rooms[roomId]);
  const me = useApp((s) => s.me);
  const meId = me?.id;
  const online = useApp((s) => s.online[roomId]);
  const membersOpen = useApp((s) => s.membersOpen);
  const pinCount = useApp((s) => s.pins[roomId]?.length ?? 0);
  const presence = useApp((s) => s.presence);
  const threadOpen = useApp((s) => s.thread?.roomId === roomId);
  const drop = useFileDrop((files) => chat.uploads.add(roomId, files));
  if (!room) return null;
  const title = roomTitle(room, meId);
  const peer = dmPeer(room, meId);
  const settings = room.settings;
  const flags = settings
    ? [
        settings.readOnly && { icon: 'megaphone' as const, text: t('room.readOnly') },
        settings.slowModeSeconds > 0 && {
          icon: 'clock' as const,
          text: t('room.slowMode', { duration: durationText(settings.slowModeSeconds) }),
        },
        settings.joinApproval && room.kind === 'public' && { icon: 'lock' as const, text: t('room.approval') },
      ].filter((f) => !!f)
    : [];
  const placeholder =
    room.kind === 'dm' ? t('composer.placeholderDm', { name: title }) : t('composer.placeholder', { room: title });

  return (
    <div class={`room${membersOpen ? ' with-members' : ''}${threadOpen ? ' with-thread' : ''}`}>
      <header class="room-header">
        <button
          type="button"
          class="icon-button only-mobile"
          aria-label={t('nav.openSidebar')}
          onClick={() => chat.ui.toggleSidebar(true)}
        >
          <Icon name="menu" size={20} />
        </button>
        <div class="room-title-wrap">
          <h1 class="room-title">
            {peer ? (
              <PresenceDot status={presence[peer.id] ?? 'offline'} label />
            ) : room.avatarUrl ? (
              <Avatar id={room.id} name={title} size={24} url={room.avatarUrl} />
            ) : (
              <Icon name={room.kind === 'private' ? 'lock' : room.kind === 'dm' ? 'at' : 'hash'} size={18} />
            )}
            <span>{title}</span>
            {peer?.bot && <span class="badge badge-bot">{t('people.bot')}</span>}
          </h1>
          {(room.topic || flags.length > 0) && (
            <p class="room-topic" title={room.topic || undefined}>
              {flags.map((f) => (
                <span key={f.text} class="room-flag">
                  <Icon name={f.icon} size={12} />
                  {f.text}
                </span>
              ))}
              {room.topic}
            </p>
          )}
        </div>
        <div class="room-tools">
          <button
            type="button"
            class="icon-button"
            aria-label={t('search.button')}
            title={t('search.button')}
            onClick={() => chat.ui.setDialog({ kind: 'search', roomId })}
          >
            <Icon name="search" size={18} />
          </button>
          <button
            type="button"
            class={`pill-button${membersOpen ? ' active' : ''}`}
            aria-pressed={membersOpen}
            aria-label={t('room.membersButton', { count: room.memberCount, online: online ?? 0 })}
            title={t('room.membersButton', { count: room.memberCount, online: online ?? 0 })}
            onClick={() => chat.ui.toggleMembers()}
          >
            <Icon name="users" size={16} />
            <span>{room.memberCount}</span>
            <span class="online-count">
              <span class="presence presence-online" aria-hidden="true" />
              {online ?? 0}
            </span>
          </button>
          {pinCount > 0 && (
            <button
              type="button"
              class="pill-button"
              aria-label={t('pins.button', { count: pinCount })}
              title={t('pins.button', { count: pinCount })}
              onClick={() => chat.ui.setDialog({ kind: 'pins', roomId })}
            >
              <Icon name="pin" size={16} />
              <span>{pinCount}</span>
            </button>
          )}
          <button
            type="button"
            class={`icon-button${room.notify !== 'all' ? ' notify-muted' : ''}`}
            aria-label={t('notify.button', { level: t(`notify.${room.notify}`) })}
            title={t('notify.button', { level: t(`notify.${room.notify}`) })}
            data-notify={room.notify}
            onClick={() => chat.ui.setDialog({ kind: 'notify', roomId })}
          >
            <Icon name={room.notify === 'all' ? 'bell' : 'bellOff'} size={18} />
          </button>
          {can('moderate', room.kind, room.myRole, me) && (
            <button
              type="button"
              class="icon-button"
              aria-label={t('room.settings')}
              title={t('room.settings')}
              onClick={() => chat.ui.setDialog({ kind: 'roomSettings', roomId })}
            >
              <Icon name="shield" size={18} />
            </button>
          )}
          {room.kind !== 'dm' && (
            <>
              <button
                type="button"
                class="icon-button"
                aria-label={t('room.invite')}
                title={t('room.invite')}
                onClick={() => chat.ui.setDialog({ kind: 'invite', roomId })}
              >
                <Icon name="userPlus" size={18} />
              </button>
              <button
                type="button"
                class="icon-button"
                aria-label={t('room.leave')}
                title={t('room.leave')}
                onClick={() => chat.ui.setDialog({ kind: 'leave', roomId })}
              >
                <Icon name="logout" size={18} />
              </button>
            </>
          )}
        </div>
      </header>
      <div class="room-body">
        <section class={`conversation${drop.over ? ' drop-over' : ''}`} aria-label={title} {...drop.handlers}>
          {drop.over && (
            <div class="drop-zone" aria-hidden="true">
              <Icon name="paperclip" size={28} />
              <span>{t('files.dropHere')}</span>
            </div>
          )}
          <MessageList roomId={roomId} />
          <Composer roomId={roomId} placeholder={placeholder} />
        </section>
        {threadOpen ? <ThreadPanel roomId={roomId} /> : membersOpen && <Members roomId={roomId} />}
      </div>
    </div>
  );
}

/** Files dragged from the desktop onto the conversation: `over` while they hover, `onFiles` when dropped. */
function useFileDrop(onFiles: (files: File[]) => void) {
  const [over, setOver] = useState(false);
  const hasFiles = (e: DragEvent) => !!e.dataTransfer?.types.includes('Files');
  return {
    over,
    handlers: {
      onDragEnter: (e: DragEvent) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setOver(true);
      },
      onDragOver: (e: DragEvent) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      },
      onDragLeave: (e: DragEvent) => {
        // Leaving for a child is not leaving the conversation.
        const to = e.relatedTarget as Node | null;
        if (!to || !(e.currentTarget as HTMLElement).contains(to)) setOver(false);
      },
      onDrop: (e: DragEvent) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setOver(false);
        const files = [...(e.dataTransfer?.files ?? [])];
        if (files.length) onFiles(files);
      },
    },
  };
}

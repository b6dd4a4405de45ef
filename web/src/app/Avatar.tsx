import { useState } from 'preact/hooks';
import type { PresenceStatus } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { colorFor, initials } from '../state/format.js';
import { useApp } from './context.js';

/**
 * A user's or a room's picture, or their initials on a colour of their own (stable per id) when they have none or
 * it does not load. `url` names the picture; without it a user's is looked up by `id` among the users known.
 */
export function Avatar({
  id,
  name,
  size = 36,
  presence,
  url,
}: {
  id: string;
  name: string;
  size?: number;
  presence?: PresenceStatus | undefined;
  /** The picture; null = none (do not look it up). */
  url?: string | null | undefined;
}) {
  const known = useApp((s) => s.users[id]?.avatarUrl);
  const src = url === undefined ? known : url;
  const [failed, setFailed] = useState<string | null>(null);
  const showImage = !!src && failed !== src;
  return (
    <span
      class={`avatar${showImage ? ' has-image' : ''}`}
      style={{
        width: `${size}px`,
        height: `${size}px`,
        background: colorFor(id),
        fontSize: `${Math.round(size * 0.4)}px`,
      }}
      aria-hidden="true"
      data-avatar={showImage ? 'image' : 'initials'}
    >
      {showImage ? (
        <img src={src} alt="" width={size} height={size} loading="lazy" onError={() => setFailed(src)} />
      ) : (
        initials(name)
      )}
      {presence && <PresenceDot status={presence} />}
    </span>
  );
}

export function PresenceDot({ status, label = false }: { status: PresenceStatus; label?: boolean }) {
  return (
    <span
      class={`presence presence-${status}`}
      role={label ? 'img' : undefined}
      aria-label={label ? t(`presence.${status}`) : undefined}
      title={t(`presence.${status}`)}
    />
  );
}

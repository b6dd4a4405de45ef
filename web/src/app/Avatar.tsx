import type { PresenceStatus } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { colorFor, initials } from '../state/format.js';

export function Avatar({
  id,
  name,
  size = 36,
  presence,
}: {
  id: string;
  name: string;
  size?: number;
  presence?: PresenceStatus | undefined;
}) {
  return (
    <span
      class="avatar"
      style={{
        width: `${size}px`,
        height: `${size}px`,
        background: colorFor(id),
        fontSize: `${Math.round(size * 0.4)}px`,
      }}
      aria-hidden="true"
    >
      {initials(name)}
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

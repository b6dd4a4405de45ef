/** Change or remove a picture (yours in settings, a room's in its settings): the server crops and resizes it. */
import { useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { errorText } from '../state/errors.js';
import { Avatar } from './Avatar.js';
import { ErrorLine } from './kit.js';

export function AvatarEdit({
  id,
  name,
  url,
  onSet,
}: {
  id: string;
  name: string;
  url: string | undefined;
  /** Uploads the picture, or removes it (null). */
  onSet: (file: File | null) => Promise<void>;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = (file: File | null) => {
    setBusy(true);
    setError(null);
    onSet(file).then(
      () => setBusy(false),
      (e: unknown) => {
        setBusy(false);
        setError(errorText(e));
      },
    );
  };
  return (
    <div class="avatar-edit">
      <Avatar id={id} name={name} size={56} url={url ?? null} />
      <div class="avatar-edit-actions">
        <input
          ref={input}
          type="file"
          accept="image/png,image/jpeg,image/gif,image/webp"
          hidden
          data-testid="avatar-input"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (file) run(file);
          }}
        />
        <button type="button" class="button" disabled={busy} onClick={() => input.current?.click()}>
          {busy ? t('auth.working') : t('avatar.change')}
        </button>
        {url && (
          <button type="button" class="button" disabled={busy} onClick={() => run(null)}>
            {t('avatar.remove')}
          </button>
        )}
        <ErrorLine error={error} />
      </div>
    </div>
  );
}

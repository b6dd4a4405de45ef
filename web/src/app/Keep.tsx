/**
 * Keeping and leaving (issue 18): one's data export and account deletion (in settings), the password reset page
 * (`/reset#<token>`), and the admin's one-time reset link (in the user directory).
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { tk } from '../i18n/keep.js';
import { errorText } from '../state/errors.js';
import { formatFull } from '../state/format.js';
import { useChat } from './context.js';
import { Icon } from './Icon.js';

/** Settings: download one's data; delete the account (password and keep/erase asked in a second step). */
export function AccountKeep() {
  const chat = useChat();
  const [open, setOpen] = useState(false);
  const [messages, setMessages] = useState<'keep' | 'erase'>('keep');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ text: string; ok: boolean } | null>(null);

  const download = async () => {
    setNote(null);
    try {
      const res = await fetch('/api/v1/me/export', { headers: { authorization: `Bearer ${chat.api.token ?? ''}` } });
      if (!res.ok) throw new Error(String(res.status));
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'relaychat.json';
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setNote({ text: tk('keep.exported'), ok: true });
    } catch (err) {
      setNote({ text: errorText(err), ok: false });
    }
  };

  const remove = (e: Event) => {
    e.preventDefault();
    if (!password) return;
    setBusy(true);
    setNote(null);
    chat.api.deleteAccount(password, messages).then(
      // The server closed every socket already; this ends the session here (its logout call finds it gone).
      () => void chat.logout(false),
      (err: unknown) => {
        setBusy(false);
        setNote({ text: errorText(err), ok: false });
      },
    );
  };

  return (
    <div class="field keep-account" data-testid="account-keep">
      <span>
        <Icon name="download" size={14} /> {tk('keep.data')}
      </span>
      <p class="muted">{tk('keep.exportHint')}</p>
      <div>
        <button type="button" class="button" onClick={() => void download()}>
          <Icon name="download" size={16} /> {tk('keep.export')}
        </button>
      </div>
      <span class="keep-danger-title">
        <Icon name="trash" size={14} /> {tk('keep.delete')}
      </span>
      <p class="muted">{tk('keep.deleteHint')}</p>
      {!open ? (
        <div>
          <button type="button" class="button danger-outline" onClick={() => setOpen(true)}>
            {tk('keep.deleteStart')}
          </button>
        </div>
      ) : (
        <form class="keep-delete" onSubmit={remove} aria-label={tk('keep.delete')}>
          <fieldset class="choice-group">
            {(['keep', 'erase'] as const).map((v) => (
              <label key={v} class={`choice compact${messages === v ? ' selected' : ''}`}>
                <input type="radio" name="keep-messages" checked={messages === v} onChange={() => setMessages(v)} />
                <span>{v === 'keep' ? tk('keep.keepMessages') : tk('keep.eraseMessages')}</span>
              </label>
            ))}
          </fieldset>
          <div class="inline-form wrap">
            <input
              class="grow"
              type="password"
              autoComplete="current-password"
              value={password}
              placeholder={tk('keep.password')}
              aria-label={tk('keep.password')}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
            <button type="button" class="button" onClick={() => setOpen(false)} disabled={busy}>
              {tk('keep.cancel')}
            </button>
            <button type="submit" class="button danger" disabled={busy || !password}>
              {tk('keep.confirm')}
            </button>
          </div>
        </form>
      )}
      {note && (
        <p class={note.ok ? 'form-success' : 'form-error'} role="status">
          {note.text}
        </p>
      )}
    </div>
  );
}

/** Admin directory: makes a one-time reset link for a user and shows it with a copy button. */
export function ResetLinkButton({ userId, name }: { userId: string; name: string }) {
  const chat = useChat();
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <button
        type="button"
        class="button small"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          chat.api.createResetLink(userId).then(
            (r) => {
              setBusy(false);
              setCopied(false);
              setLink({ url: `${location.origin}${r.path}`, expiresAt: r.expiresAt });
            },
            (err: unknown) => {
              setBusy(false);
              chat.ui.toast(errorText(err), 'error');
            },
          );
        }}
      >
        {tk('keep.resetLink')}
      </button>
      {link && (
        <span class="keep-link" role="group" aria-label={tk('keep.resetLinkFor', { name })}>
          <input
            readOnly
            value={link.url}
            aria-label={tk('keep.resetLinkFor', { name })}
            onFocus={(e) => e.currentTarget.select()}
          />
          <button
            type="button"
            class="button small"
            onClick={() =>
              void navigator.clipboard?.writeText(link.url).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? tk('keep.copied') : tk('keep.copy')}
          </button>
          <span class="muted">{tk('keep.resetLinkHint', { name, when: formatFull(link.expiresAt) })}</span>
        </span>
      )}
    </>
  );
}

/** The page a reset link opens: whose link it is, then a new password (twice). */
export function ResetPage() {
  const chat = useChat();
  const token = location.hash.slice(1);
  const [who, setWho] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const [pw, setPw] = useState('');
  const [pw2, setPw2] = useState('');
  useEffect(() => {
    if (!token) return setError(t('errors.reset_link_invalid' as never));
    chat.api.checkResetLink(token).then(
      (r) => setWho(r.username),
      (err: unknown) => setError(errorText(err)),
    );
  }, [token]);
  const submit = (e: Event) => {
    e.preventDefault();
    if (pw !== pw2) return setError(tk('keep.mismatch'));
    setBusy(true);
    setError(null);
    chat.api.resetPassword(token, pw).then(
      () => {
        setDone(true);
        // The token must not linger in the address bar or history.
        history.replaceState(null, '', '/reset');
      },
      (err: unknown) => {
        setBusy(false);
        setError(errorText(err));
      },
    );
  };
  return (
    <main class="auth">
      <div class="auth-card" data-testid="reset-page">
        <div class="auth-brand">
          <span class="brand-mark large" aria-hidden="true">
            <Icon name="lock" size={22} />
          </span>
          <h1>{tk('keep.resetTitle')}</h1>
          {who && <p class="muted">{tk('keep.resetFor', { name: who })}</p>}
        </div>
        {done ? (
          <>
            <p class="form-success" role="status">
              {tk('keep.resetDone')}
            </p>
            <a class="button primary" href="/">
              {tk('keep.toSignIn')}
            </a>
          </>
        ) : who ? (
          <form class="form" onSubmit={submit} aria-label={tk('keep.resetTitle')}>
            <label class="field">
              <span>{tk('keep.newPassword')}</span>
              <input
                type="password"
                autoComplete="new-password"
                required
                minLength={8}
                value={pw}
                onInput={(e) => setPw(e.currentTarget.value)}
              />
            </label>
            <label class="field">
              <span>{tk('keep.repeatPassword')}</span>
              <input
                type="password"
                autoComplete="new-password"
                required
                minLength={8}
                value={pw2}
                onInput={(e) => setPw2(e.currentTarget.value)}
              />
            </label>
            {error && (
              <p class="form-error" role="alert">
                {error}
              </p>
            )}
            <button type="submit" class="button primary" disabled={busy}>
              {tk('keep.resetSave')}
            </button>
          </form>
        ) : error ? (
          <>
            <p class="form-error" role="alert">
              {error}
            </p>
            <a class="button" href="/">
              {tk('keep.toSignIn')}
            </a>
          </>
        ) : (
          <p class="muted">{tk('keep.checking')}</p>
        )}
      </div>
    </main>
  );
}

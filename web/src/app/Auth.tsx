import { useState } from 'preact/hooks';
import { LOCALES, t, type Locale } from '../i18n/index.js';
import { spacedAfterWord } from '../state/format.js';
import { errorText } from '../state/errors.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';

export function AuthScreen() {
  const chat = useChat();
  const notice = useApp((s) => s.authNotice);
  const locale = useApp((s) => s.locale);
  const theme = useApp((s) => s.theme);
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const p =
      mode === 'login'
        ? chat.login(username.trim(), password)
        : chat.register(username.trim(), password, displayName.trim() || undefined);
    p.catch((err: unknown) => {
      setBusy(false);
      setError(errorText(err));
    });
  };

  return (
    <main class="auth">
      <div class="auth-tools">
        <select
          aria-label={t('settings.language')}
          value={locale}
          onChange={(e) => chat.ui.setLocale(e.currentTarget.value as Locale)}
        >
          {LOCALES.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          class="icon-button"
          aria-label={theme === 'dark' ? t('settings.lightMode') : t('settings.darkMode')}
          onClick={() => chat.ui.setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          <Icon name={theme === 'dark' ? 'sun' : 'moon'} size={18} />
        </button>
      </div>
      <div class="auth-card">
        <div class="auth-brand">
          <span class="brand-mark large" aria-hidden="true">
            <Icon name="message" size={22} />
          </span>
          <h1>relaychat</h1>
          <p class="muted">{t('auth.tagline')}</p>
        </div>
        <div class="tabs" role="tablist" aria-label={t('auth.mode')}>
          {(['login', 'register'] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={mode === m}
              class={`tab${mode === m ? ' active' : ''}`}
              onClick={() => {
                setMode(m);
                setError(null);
              }}
            >
              {m === 'login' ? t('auth.login') : t('auth.register')}
            </button>
          ))}
        </div>
        {notice && (
          <p class="form-note" role="status">
            {t(notice)}
          </p>
        )}
        <form class="form" onSubmit={submit} aria-label={mode === 'login' ? t('auth.login') : t('auth.register')}>
          <label class="field">
            <span>{t('auth.username')}</span>
            {/* Keyed by mode: Preact clears a dropped `pattern` to pattern="" (matches only ""), not removes it. */}
            <input
              key={mode}
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellcheck={false}
              required
              minLength={mode === 'register' ? 3 : 1}
              maxLength={32}
              pattern={mode === 'register' ? '[A-Za-z0-9][A-Za-z0-9_.\\-]*' : undefined}
              title={mode === 'register' ? t('auth.usernameHint') : undefined}
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
          </label>
          {mode === 'register' && (
            <label class="field">
              <span>
                {t('auth.displayName')}
                <span class="muted">{spacedAfterWord(t('common.optional'))}</span>
              </span>
              <input
                name="displayName"
                autoComplete="nickname"
                maxLength={64}
                value={displayName}
                onInput={(e) => setDisplayName(e.currentTarget.value)}
              />
            </label>
          )}
          <label class="field">
            <span>{t('auth.password')}</span>
            <input
              name="password"
              type="password"
              autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
              required
              minLength={mode === 'register' ? 8 : 1}
              maxLength={256}
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
            {mode === 'register' && <small class="muted">{t('auth.passwordHint')}</small>}
          </label>
          {error && (
            <p class="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" class="button primary block" disabled={busy}>
            {busy ? t('auth.working') : mode === 'login' ? t('auth.login') : t('auth.createAccount')}
          </button>
        </form>
      </div>
    </main>
  );
}

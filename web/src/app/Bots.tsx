/**
 * Managing bots in the web app (issue 16): a room's bots in its settings (its owners; server admins too), every bot
 * in the admin view, where server admins create server-wide ones. Create with scopes as checkboxes; the token is
 * shown once with a copy button; a new token (the old one dies at once) and deleting each ask first.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { BOT_SCOPES, type BotInfo, type BotScope } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { tb } from '../i18n/bots.js';
import { Avatar } from './Avatar.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { errorText } from '../state/errors.js';
import { ErrorLine } from './kit.js';
import { useAction, useNames, useRoomName } from './ModShared.js';

/** Checked when the form opens: a bot that reads its rooms and posts, the common case. */
const DEFAULT_SCOPES: readonly BotScope[] = ['read', 'post'];

/** Room settings → Integrations: the room's bots, for its owners (and server admins); others are told who may. */
export function RoomBots({ roomId }: { roomId: string }) {
  const myRole = useApp((s) => s.rooms[roomId]?.myRole ?? null);
  const admin = useApp((s) => s.me?.role === 'admin');
  if (myRole !== 'owner' && !admin) {
    return (
      <section class="bots" data-testid="bots">
        <h3>{tb('bots.section')}</h3>
        <p class="muted">{tb('bots.ownersOnly')}</p>
      </section>
    );
  }
  return <BotsPanel roomId={roomId} />;
}

/** Admin → Integrations: every bot on the server; new ones are server-wide. */
export function ServerBots() {
  return <BotsPanel roomId={null} />;
}

/** A token just made (by creating the bot or replacing its token), shown until its owner says it is copied. */
interface Shown {
  name: string;
  token: string;
}

function BotsPanel({ roomId }: { roomId: string | null }) {
  const chat = useChat();
  const [bots, setBots] = useState<BotInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  const [deleted, setDeleted] = useState<string | null>(null);
  const load = () =>
    chat.api.bots().then(
      (all) => {
        // In a room: its bots. In the admin view: all, server-wide ones first.
        const list = roomId ? all.filter((b) => b.roomId === roomId) : all;
        setBots(roomId ? list : [...list].sort((a, b) => Number(a.roomId !== null) - Number(b.roomId !== null)));
        setError(null);
      },
      (e: unknown) => setError(errorText(e)),
    );
  useEffect(() => {
    void load();
  }, [roomId]);
  const names = useNames((bots ?? []).map((b) => b.createdBy));
  return (
    <section class="bots" data-testid="bots">
      <h3>{tb('bots.section')}</h3>
      <p class="muted">{roomId ? tb('bots.hintRoom') : tb('bots.hintServer')}</p>
      {shown && <TokenOnce shown={shown} onDone={() => setShown(null)} />}
      <ErrorLine error={error} />
      {bots === null && !error && (
        <div class="loading-row">
          <span class="spinner" aria-hidden="true" />
        </div>
      )}
      {bots && !bots.length && <p class="empty-hint">{tb('bots.none')}</p>}
      {bots && bots.length > 0 && (
        <ul class="mod-list bot-list">
          {bots.map((b) => (
            <BotRow
              key={b.bot.id}
              info={b}
              inRoom={roomId !== null}
              creator={names(b.createdBy)}
              onToken={(token) => setShown({ name: b.bot.displayName || b.bot.username, token })}
              onDeleted={() => {
                setBots((cur) => cur && cur.filter((x) => x.bot.id !== b.bot.id));
                setDeleted(tb('bots.deleted', { name: b.bot.displayName || b.bot.username }));
              }}
            />
          ))}
        </ul>
      )}
      {deleted && (
        <p class="form-success" role="status">
          {deleted}
        </p>
      )}
      <CreateBot
        roomId={roomId}
        onCreated={(s) => {
          setShown(s);
          void load();
        }}
      />
    </section>
  );
}

function BotRow({
  info,
  inRoom,
  creator,
  onToken,
  onDeleted,
}: {
  info: BotInfo;
  inRoom: boolean;
  creator: string;
  onToken: (token: string) => void;
  onDeleted: () => void;
}) {
  const chat = useChat();
  const { busy, run, Note } = useAction();
  const [confirming, setConfirming] = useState<'rotate' | 'delete' | null>(null);
  const roomName = useRoomName(inRoom ? null : info.roomId);
  const u = info.bot;
  const name = u.displayName || u.username;
  // A room bot outside its room's settings: where it lives, once the room's name is known.
  const where =
    info.roomId === null ? tb('bots.serverWide') : !inRoom && roomName ? tb('bots.inRoom', { room: roomName }) : null;
  return (
    <li class="mod-row bot-row" data-bot={u.username}>
      <Avatar id={u.id} name={name} size={32} url={u.avatarUrl} />
      <span class="mod-row-text">
        <span>
          <strong>{name}</strong> <span class="muted">@{u.username}</span>
          <span class="badge badge-bot">{t('people.bot')}</span>
        </span>
        <span class="mod-row-meta">
          {[where, creator ? tb('bots.createdBy', { name: creator }) : null].filter(Boolean).join(' · ')}
        </span>
        <span class="bot-scopes" aria-label={tb('bots.scopes')}>
          {info.scopes.map((s) => (
            <span key={s} class="bot-scope" data-scope={s}>
              {tb(`bots.scope.${s}`)}
            </span>
          ))}
        </span>
      </span>
      {confirming ? (
        <div class="bot-confirm mod-row-note" role="alertdialog" aria-label={name}>
          <p>{confirming === 'rotate' ? tb('bots.rotateConfirm', { name }) : tb('bots.deleteConfirm', { name })}</p>
          <span class="admin-actions">
            <button type="button" class="button small" disabled={busy} onClick={() => setConfirming(null)}>
              {t('common.cancel')}
            </button>
            <button
              type="button"
              class="button small danger"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  if (confirming === 'rotate') {
                    onToken(await chat.api.rotateBotToken(u.id));
                    setConfirming(null);
                  } else {
                    await chat.api.deleteBot(u.id);
                    onDeleted();
                  }
                })
              }
            >
              {confirming === 'rotate' ? tb('bots.rotateYes') : tb('bots.deleteYes')}
            </button>
          </span>
        </div>
      ) : (
        <span class="admin-actions">
          <button type="button" class="button small" onClick={() => setConfirming('rotate')}>
            {tb('bots.rotate')}
          </button>
          <button type="button" class="button small danger-outline" onClick={() => setConfirming('delete')}>
            <Icon name="trash" size={14} />
            {tb('bots.delete')}
          </button>
        </span>
      )}
      <span class="mod-row-note">
        <Note />
      </span>
    </li>
  );
}

function CreateBot({ roomId, onCreated }: { roomId: string | null; onCreated: (s: Shown) => void }) {
  const chat = useChat();
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [scopes, setScopes] = useState<BotScope[]>([...DEFAULT_SCOPES]);
  const [missing, setMissing] = useState(false);
  const { busy, run, Note } = useAction();
  const toggle = (s: BotScope, on: boolean) => {
    setMissing(false);
    setScopes((cur) => BOT_SCOPES.filter((x) => (x === s ? on : cur.includes(x))));
  };
  return (
    <form
      class="form bot-create"
      onSubmit={(e) => {
        e.preventDefault();
        if (!scopes.length) return setMissing(true);
        void run(async () => {
          const made = await chat.api.createBot({
            username: username.trim(),
            ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
            ...(roomId ? { roomId } : {}),
            scopes,
          });
          onCreated({ name: made.bot.displayName || made.bot.username, token: made.token });
          setUsername('');
          setDisplayName('');
          setScopes([...DEFAULT_SCOPES]);
        });
      }}
    >
      <h4>{tb('bots.create')}</h4>
      <div class="bot-names">
        <label class="field">
          <span>{tb('bots.username')}</span>
          <input
            value={username}
            required
            minLength={3}
            maxLength={32}
            pattern="[A-Za-z0-9][A-Za-z0-9_.\-]*"
            autoComplete="off"
            spellcheck={false}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>
            {tb('bots.displayName')} <span class="muted">{t('common.optional')}</span>
          </span>
          <input value={displayName} maxLength={64} onInput={(e) => setDisplayName(e.currentTarget.value)} />
        </label>
      </div>
      <fieldset class="bot-scope-choices">
        <legend>{tb('bots.scopes')}</legend>
        {BOT_SCOPES.map((s) => (
          <label key={s} class="check">
            <input
              type="checkbox"
              name="scope"
              value={s}
              checked={scopes.includes(s)}
              onChange={(e) => toggle(s, e.currentTarget.checked)}
            />
            <span>
              <strong>{tb(`bots.scope.${s}`)}</strong>
              <span class="muted">{tb(`bots.scope.${s}Hint`)}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <ErrorLine error={missing ? tb('bots.scopesNeeded') : null} />
      <Note />
      <div class="dialog-foot">
        <button type="submit" class="button primary" disabled={busy}>
          {tb('bots.create')}
        </button>
      </div>
    </form>
  );
}

/** The token, once: a copy button, and the warning that it will not be shown again. */
function TokenOnce({ shown, onDone }: { shown: Shown; onDone: () => void }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  useEffect(() => {
    setCopied(null);
    // Made from the form at the bottom of a long list: bring the token into view, selected.
    field.current?.scrollIntoView({ block: 'nearest' });
    field.current?.focus();
  }, [shown.token]);
  const copy = () => {
    field.current?.select();
    // The clipboard API needs a secure context (https, or localhost); without it the selected text is the fallback.
    const write = navigator.clipboard?.writeText(shown.token);
    if (!write) return setCopied('failed');
    write.then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  };
  return (
    <div class="bot-token" data-testid="bot-token">
      <h4>{tb('bots.tokenTitle', { name: shown.name })}</h4>
      <p class="form-note">
        <Icon name="alert" size={14} /> {tb('bots.tokenOnce')}
      </p>
      <div class="bot-token-row">
        <input
          ref={field}
          class="bot-token-value"
          readOnly
          value={shown.token}
          aria-label={tb('bots.tokenLabel')}
          spellcheck={false}
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" class="button" onClick={copy}>
          {copied === 'yes' ? <Icon name="check" size={14} /> : null}
          {copied === 'yes' ? tb('bots.copied') : tb('bots.copy')}
        </button>
      </div>
      {copied === 'failed' && <ErrorLine error={tb('bots.copyFailed')} />}
      <div class="dialog-foot">
        <button type="button" class="button primary" onClick={onDone}>
          {tb('bots.done')}
        </button>
      </div>
    </div>
  );
}

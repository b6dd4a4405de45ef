/**
 * Webhooks in the web app (issue 16): a room's incoming webhooks (a secret URL that posts into the room) and its
 * outgoing ones (event subscriptions, with their delivery logs), in Room settings → Integrations; server-wide
 * subscriptions in Admin → Integrations. Secrets are shown once, right after creation, with copy buttons.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type {
  IncomingWebhook,
  WebhookDelivery,
  WebhookEventType,
  WebhookSubscription,
} from '../../../src/protocol/model.js';
import { WEBHOOK_EVENT_TYPES } from '../../../src/protocol/model.js';
import { can } from '../../../src/protocol/permissions.js';
import { getLocale } from '../i18n/index.js';
import { tw, type WebhooksKey } from '../i18n/webhooks.js';
import { errorText } from '../state/errors.js';
import { useApp, useChat } from './context.js';
import { ErrorLine, useAutoGrow } from './kit.js';

/** Delivery log entries per page (the server allows up to 100). */
const LOG_PAGE = 20;
/** What a new subscription listens to unless changed: new messages. */
const DEFAULT_EVENTS: readonly WebhookEventType[] = ['message'];

/** Runs an action with a busy flag; a failure becomes the view's error line, worded by the webhooks catalogue. */
function useRun() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async <T,>(p: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await p();
    } catch (e) {
      setError(errorText(e, 'webhooks'));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

const stamp = (iso: string) =>
  new Intl.DateTimeFormat(getLocale(), { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));

/** Room settings → Integrations: the room's incoming and outgoing webhooks (its owner and admins). */
export function RoomWebhooks({ roomId }: { roomId: string }) {
  const me = useApp((s) => s.me);
  const room = useApp((s) => s.rooms[roomId]);
  if (!room) return null;
  // The server's rule (src/protocol/permissions.ts): room admins only; a server admin uses the server-wide list.
  if (!can('manageWebhooks', room.kind, room.myRole, me?.role === 'admin')) {
    return room.kind === 'dm' ? null : (
      <section class="webhooks" data-testid="webhooks-unavailable">
        <h3>{tw('webhooks.title')}</h3>
        <p class="muted">{tw('webhooks.roomAdminsOnly')}</p>
      </section>
    );
  }
  return (
    <>
      <IncomingWebhooks roomId={roomId} />
      <Subscriptions roomId={roomId} />
    </>
  );
}

/** Admin → Integrations: outgoing webhooks for every public room (server admins). */
export function ServerWebhooks() {
  return <Subscriptions roomId={null} />;
}

// ---- incoming ----

function IncomingWebhooks({ roomId }: { roomId: string }) {
  const chat = useChat();
  const [list, setList] = useState<IncomingWebhook[] | null>(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<(IncomingWebhook & { url: string }) | null>(null);
  const { error, setError, run } = useRun();
  useEffect(() => {
    chat.api.webhooks(roomId).then(setList, (e: unknown) => setError(errorText(e, 'webhooks')));
  }, [roomId]);
  return (
    <section class="webhooks" data-testid="incoming-webhooks" aria-labelledby="webhooks-in-title">
      <div class="webhooks-head">
        <h3 id="webhooks-in-title">{tw('webhooks.in.title')}</h3>
        {!creating && !created && (
          <button type="button" class="button small" onClick={() => setCreating(true)}>
            {tw('webhooks.in.new')}
          </button>
        )}
      </div>
      <p class="muted">{tw('webhooks.in.hint')}</p>
      <ErrorLine error={error} />
      {created && <IncomingSecret hook={created} onDone={() => setCreated(null)} />}
      {creating && (
        <IncomingForm
          roomId={roomId}
          onCancel={() => setCreating(false)}
          onCreated={(hook) => {
            setCreating(false);
            setCreated(hook);
            const { url: _url, signingSecret: _secret, ...listed } = hook;
            setList((l) => [...(l ?? []), listed]);
          }}
        />
      )}
      {list && !list.length && !creating && <p class="empty-hint">{tw('webhooks.in.none')}</p>}
      <ul class="mod-list">
        {list?.map((h) => (
          <IncomingRow
            key={h.id}
            hook={h}
            onRevoke={() =>
              run(() => chat.api.revokeWebhook(roomId, h.id)).then(
                () => void chat.api.webhooks(roomId).then(setList, () => undefined),
              )
            }
          />
        ))}
      </ul>
    </section>
  );
}

function IncomingRow({ hook, onRevoke }: { hook: IncomingWebhook; onRevoke: () => Promise<void> }) {
  const names = useApp((s) => s.users);
  const [confirming, setConfirming] = useState(false);
  const by = names[hook.createdBy];
  return (
    <li class="mod-row webhook-row" data-testid="incoming-webhook">
      <span class="mod-row-text">
        <strong>
          {hook.name}
          {hook.signed && <span class="badge webhook-signed">{tw('webhooks.in.signedBadge')}</span>}
        </strong>
        <span class="mod-row-meta">
          {by
            ? tw('webhooks.createdBy', { name: by.displayName || by.username, when: stamp(hook.createdAt) })
            : stamp(hook.createdAt)}
        </span>
      </span>
      {confirming ? (
        <Confirm
          text={tw('webhooks.in.revokeConfirm', { name: hook.name })}
          action={tw('webhooks.in.revoke')}
          onCancel={() => setConfirming(false)}
          onConfirm={() => void onRevoke()}
        />
      ) : (
        <button
          type="button"
          class="button small danger-outline"
          aria-label={tw('webhooks.in.revokeName', { name: hook.name })}
          onClick={() => setConfirming(true)}
        >
          {tw('webhooks.in.revoke')}
        </button>
      )}
    </li>
  );
}

function IncomingForm({
  roomId,
  onCancel,
  onCreated,
}: {
  roomId: string;
  onCancel: () => void;
  onCreated: (hook: IncomingWebhook & { url: string }) => void;
}) {
  const chat = useChat();
  const [name, setName] = useState('');
  const [iconUrl, setIconUrl] = useState('');
  const [signed, setSigned] = useState(false);
  const { busy, error, run } = useRun();
  return (
    <form
      class="form webhook-form"
      aria-label={tw('webhooks.in.new')}
      onSubmit={(e) => {
        e.preventDefault();
        const input = { name: name.trim(), ...(iconUrl.trim() ? { iconUrl: iconUrl.trim() } : {}), signed };
        void run(() => chat.api.createWebhook(roomId, input)).then((hook) => hook && onCreated(hook));
      }}
    >
      <label class="field">
        <span>{tw('webhooks.in.name')}</span>
        <input
          value={name}
          maxLength={80}
          required
          placeholder={tw('webhooks.in.namePlaceholder')}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label class="field">
        <span>
          {tw('webhooks.in.icon')} <small class="muted">{tw('webhooks.optional')}</small>
        </span>
        <input
          type="url"
          value={iconUrl}
          maxLength={2048}
          placeholder="https://…"
          onInput={(e) => setIconUrl(e.currentTarget.value)}
        />
      </label>
      <label class="check">
        <input type="checkbox" checked={signed} onChange={(e) => setSigned(e.currentTarget.checked)} />
        <span>
          <strong>{tw('webhooks.in.signed')}</strong>
          <span class="muted">{tw('webhooks.in.signedHint')}</span>
        </span>
      </label>
      <ErrorLine error={error} />
      <div class="dialog-foot">
        <button type="button" class="button" onClick={onCancel}>
          {tw('webhooks.cancel')}
        </button>
        <button type="submit" class="button primary" disabled={busy}>
          {tw('webhooks.in.create')}
        </button>
      </div>
    </form>
  );
}

/** A ready-to-paste curl line that posts to the webhook (signed ones sign with openssl, as docs/integrations.md). */
export function curlLine(url: string, signingSecret?: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  if (!signingSecret) {
    return `curl -X POST ${q(url)} -H 'content-type: application/json' -d '{"text": "Hello from curl"}'`;
  }
  return [
    `SECRET=${q(signingSecret)}; TS=$(date +%s); BODY='{"text": "Hello from curl"}'`,
    `SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //')`,
    `curl -X POST ${q(url)} -H 'content-type: application/json' \\`,
    `  -H "x-relaychat-timestamp: $TS" -H "x-relaychat-signature: v1=$SIG" -d "$BODY"`,
  ].join('\n');
}

function IncomingSecret({ hook, onDone }: { hook: IncomingWebhook & { url: string }; onDone: () => void }) {
  return (
    <OnceBox title={tw('webhooks.in.createdTitle', { name: hook.name })} onDone={onDone} testId="webhook-created">
      <Secret label={tw('webhooks.in.url')} value={hook.url} />
      {hook.signingSecret && <Secret label={tw('webhooks.signingSecret')} value={hook.signingSecret} />}
      <Secret label={tw('webhooks.in.curl')} value={curlLine(hook.url, hook.signingSecret)} multiline />
    </OnceBox>
  );
}

// ---- shown once ----

/** A panel for what is shown only once (a secret URL, a signing secret): say so, and let it be dismissed. */
function OnceBox({
  title,
  onDone,
  children,
  testId,
}: {
  title: string;
  onDone: () => void;
  children: ComponentChildren;
  testId: string;
}) {
  return (
    <div class="webhook-once" role="status" data-testid={testId}>
      <strong>{title}</strong>
      <p class="webhook-once-warn">{tw('webhooks.onceWarning')}</p>
      {children}
      <div class="dialog-foot">
        <button type="button" class="button primary small" onClick={onDone}>
          {tw('webhooks.done')}
        </button>
      </div>
    </div>
  );
}

/** A read-only value with a copy button (the clipboard API; when it is refused, the text is selected instead). */
function Secret({ label, value, multiline = false }: { label: string; value: string; multiline?: boolean }) {
  const [copied, setCopied] = useState<'yes' | 'select' | null>(null);
  const line = useRef<HTMLInputElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  // The curl lines wrap: the box grows to show all of it (up to a point), nothing hidden sideways.
  useAutoGrow(area, multiline ? value : '', 320);
  const copy = async () => {
    const field = area.current ?? line.current;
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      field?.focus();
      field?.select();
      setCopied('select');
    }
  };
  return (
    <div class="field webhook-secret">
      <span>{label}</span>
      <div class="webhook-secret-row">
        {multiline ? (
          <textarea
            ref={area}
            class="webhook-code"
            readOnly
            rows={2}
            value={value}
            aria-label={label}
            onFocus={(e) => e.currentTarget.select()}
          />
        ) : (
          <input
            ref={line}
            class="webhook-code"
            readOnly
            value={value}
            aria-label={label}
            onFocus={(e) => e.currentTarget.select()}
          />
        )}
        <button
          type="button"
          class="button small"
          aria-label={tw(copied === 'yes' ? 'webhooks.copiedName' : 'webhooks.copyName', { what: label })}
          onClick={() => void copy()}
        >
          {copied === 'yes' ? tw('webhooks.copied') : tw('webhooks.copy')}
        </button>
      </div>
      {copied === 'select' && <small class="muted">{tw('webhooks.copyManually')}</small>}
    </div>
  );
}

function Confirm({
  text,
  action,
  onCancel,
  onConfirm,
}: {
  text: string;
  action: string;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  return (
    <div class="webhook-confirm mod-row-note" role="group" aria-label={text}>
      <span>{text}</span>
      <button type="button" class="button small" onClick={onCancel}>
        {tw('webhooks.cancel')}
      </button>
      <button type="button" class="button small danger" onClick={onConfirm}>
        {action}
      </button>
    </div>
  );
}

// ---- outgoing ----

function Subscriptions({ roomId }: { roomId: string | null }) {
  const chat = useChat();
  const [list, setList] = useState<WebhookSubscription[] | null>(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<(WebhookSubscription & { secret: string }) | null>(null);
  const { error, setError, run } = useRun();
  const reload = () => chat.api.subscriptions(roomId).then(setList, (e: unknown) => setError(errorText(e, 'webhooks')));
  useEffect(() => {
    void reload();
  }, [roomId]);
  return (
    <section class="webhooks" data-testid="webhook-subscriptions" aria-labelledby="webhooks-out-title">
      <div class="webhooks-head">
        <h3 id="webhooks-out-title">{tw(roomId ? 'webhooks.out.title' : 'webhooks.out.serverTitle')}</h3>
        {!creating && !created && (
          <button type="button" class="button small" onClick={() => setCreating(true)}>
            {tw('webhooks.out.new')}
          </button>
        )}
      </div>
      <p class="muted">{tw(roomId ? 'webhooks.out.hint' : 'webhooks.out.serverHint')}</p>
      <ErrorLine error={error} />
      {created && (
        <OnceBox
          title={tw('webhooks.out.createdTitle', { url: created.url })}
          onDone={() => setCreated(null)}
          testId="subscription-created"
        >
          <Secret label={tw('webhooks.signingSecret')} value={created.secret} />
          <p class="muted webhook-verify-hint">{tw('webhooks.out.verifyHint')}</p>
        </OnceBox>
      )}
      {creating && (
        <SubscriptionForm
          roomId={roomId}
          onCancel={() => setCreating(false)}
          onCreated={(sub) => {
            setCreating(false);
            setCreated(sub);
            const { secret: _secret, ...listed } = sub;
            setList((l) => [...(l ?? []), listed]);
          }}
        />
      )}
      {list && !list.length && !creating && <p class="empty-hint">{tw('webhooks.out.none')}</p>}
      <ul class="mod-list">
        {list?.map((s) => (
          <SubscriptionRow
            key={s.id}
            roomId={roomId}
            sub={s}
            onDelete={() => run(() => chat.api.unsubscribe(roomId, s.id)).then(() => void reload())}
          />
        ))}
      </ul>
    </section>
  );
}

function SubscriptionRow({
  roomId,
  sub,
  onDelete,
}: {
  roomId: string | null;
  sub: WebhookSubscription;
  onDelete: () => Promise<void>;
}) {
  const [confirming, setConfirming] = useState(false);
  const [showLog, setShowLog] = useState(false);
  return (
    <li class="mod-row webhook-row" data-testid="subscription">
      <span class="mod-row-text">
        <strong class="webhook-url">{sub.url}</strong>
        <span class="mod-row-meta webhook-events">
          {sub.events.map((e) => (
            <code key={e}>{e}</code>
          ))}
        </span>
        <span class="mod-row-meta">{tw('webhooks.createdAt', { when: stamp(sub.createdAt) })}</span>
      </span>
      <button type="button" class="button small" aria-expanded={showLog} onClick={() => setShowLog((x) => !x)}>
        {showLog ? tw('webhooks.out.hideLog') : tw('webhooks.out.showLog')}
      </button>
      {confirming ? (
        <Confirm
          text={tw('webhooks.out.deleteConfirm', { url: sub.url })}
          action={tw('webhooks.out.delete')}
          onCancel={() => setConfirming(false)}
          onConfirm={() => void onDelete()}
        />
      ) : (
        <button
          type="button"
          class="button small danger-outline"
          aria-label={tw('webhooks.out.deleteName', { url: sub.url })}
          onClick={() => setConfirming(true)}
        >
          {tw('webhooks.out.delete')}
        </button>
      )}
      {showLog && <DeliveryLog roomId={roomId} subscriptionId={sub.id} />}
    </li>
  );
}

function SubscriptionForm({
  roomId,
  onCancel,
  onCreated,
}: {
  roomId: string | null;
  onCancel: () => void;
  onCreated: (sub: WebhookSubscription & { secret: string }) => void;
}) {
  const chat = useChat();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<ReadonlySet<WebhookEventType>>(new Set(DEFAULT_EVENTS));
  const { busy, error, setError, run } = useRun();
  const toggle = (e: WebhookEventType, on: boolean) =>
    setEvents((cur) => {
      const next = new Set(cur);
      if (on) next.add(e);
      else next.delete(e);
      return next;
    });
  return (
    <form
      class="form webhook-form"
      aria-label={tw('webhooks.out.new')}
      onSubmit={(e) => {
        e.preventDefault();
        if (!events.size) {
          setError(tw('webhooks.out.pickEvents'));
          return;
        }
        // In the order the server lists them, so the stored list reads the same as the checkboxes.
        const picked = WEBHOOK_EVENT_TYPES.filter((t) => events.has(t));
        void run(() => chat.api.subscribe(roomId, { url: url.trim(), events: picked })).then(
          (sub) => sub && onCreated(sub),
        );
      }}
    >
      <label class="field">
        <span>{tw('webhooks.out.url')}</span>
        <input
          type="url"
          value={url}
          maxLength={2048}
          required
          placeholder="https://example.com/relaychat-events"
          onInput={(e) => setUrl(e.currentTarget.value)}
        />
      </label>
      <fieldset class="webhook-event-types">
        <legend>{tw('webhooks.out.events')}</legend>
        {WEBHOOK_EVENT_TYPES.map((type) => (
          <label key={type} class="check webhook-event">
            <input type="checkbox" checked={events.has(type)} onChange={(e) => toggle(type, e.currentTarget.checked)} />
            <span>
              <span>{tw(`webhooks.event.${type}` as WebhooksKey)}</span>
              <code class="muted">{type}</code>
            </span>
          </label>
        ))}
      </fieldset>
      <ErrorLine error={error} />
      <div class="dialog-foot">
        <button type="button" class="button" onClick={onCancel}>
          {tw('webhooks.cancel')}
        </button>
        <button type="submit" class="button primary" disabled={busy}>
          {tw('webhooks.out.create')}
        </button>
      </div>
    </form>
  );
}

const STATUS_KEY: Record<WebhookDelivery['status'], WebhooksKey> = {
  delivered: 'webhooks.log.delivered',
  retrying: 'webhooks.log.retrying',
  failed: 'webhooks.log.failed',
};

/** The last failure of a delivery: the receiver's HTTP status and what went wrong (nothing once delivered). */
function lastErrorText(d: WebhookDelivery): string {
  if (d.status === 'delivered') return '—';
  if (d.lastStatus === null) return d.lastError ?? '—';
  // The server words a bad status as `status 500`: the HTTP line says it already.
  return d.lastError && d.lastError !== `status ${d.lastStatus}`
    ? `HTTP ${d.lastStatus}: ${d.lastError}`
    : `HTTP ${d.lastStatus}`;
}

/** A subscription's delivery log, most recently changed first; refreshed on demand, older pages on demand. */
function DeliveryLog({ roomId, subscriptionId }: { roomId: string | null; subscriptionId: string }) {
  const chat = useChat();
  const [log, setLog] = useState<WebhookDelivery[] | null>(null);
  const [more, setMore] = useState(false);
  const { busy, error, run } = useRun();
  // A server-wide log names each event's room (by id when the admin is not in it).
  const rooms = useApp((s) => s.rooms);
  const load = async (before?: string) => {
    const page = await run(() =>
      chat.api.deliveries(roomId, subscriptionId, { limit: LOG_PAGE, ...(before ? { before } : {}) }),
    );
    if (!page) return;
    setMore(page.length === LOG_PAGE);
    setLog((cur) => (before ? [...(cur ?? []), ...page] : page));
  };
  useEffect(() => {
    void load();
  }, [subscriptionId]);
  return (
    <div class="webhook-log mod-row-note" data-testid="delivery-log">
      <div class="webhooks-head">
        <strong>{tw('webhooks.log.title')}</strong>
        <button type="button" class="button small" disabled={busy} onClick={() => void load()}>
          {tw('webhooks.log.refresh')}
        </button>
      </div>
      <ErrorLine error={error} />
      {log && !log.length && <p class="empty-hint">{tw('webhooks.log.none')}</p>}
      {log && log.length > 0 && (
        <div class="webhook-log-scroll">
          <table class="webhook-log-table">
            <thead>
              <tr>
                <th scope="col">{tw('webhooks.log.event')}</th>
                <th scope="col">{tw('webhooks.log.status')}</th>
                <th scope="col">{tw('webhooks.log.attempts')}</th>
                <th scope="col">{tw('webhooks.log.lastError')}</th>
                <th scope="col">{tw('webhooks.log.time')}</th>
              </tr>
            </thead>
            <tbody>
              {log.map((d) => (
                <tr key={`${d.eventId}`} data-testid="delivery" data-status={d.status}>
                  <td>
                    <code>{d.eventType}</code> <span class="muted">#{d.seq}</span>
                    {roomId === null && <span class="webhook-log-room"> · #{rooms[d.roomId]?.name ?? d.roomId}</span>}
                  </td>
                  <td>
                    <span class={`badge webhook-status ${d.status}`}>{tw(STATUS_KEY[d.status])}</span>
                  </td>
                  <td class="num" data-label={tw('webhooks.log.attempts')}>
                    {d.attempts}
                  </td>
                  <td class="webhook-log-error">{lastErrorText(d)}</td>
                  <td>
                    <time dateTime={d.updatedAt}>{stamp(d.updatedAt)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {more && log && (
        <button
          type="button"
          class="button small"
          disabled={busy}
          onClick={() => void load(log[log.length - 1]!.updatedAt)}
        >
          {tw('webhooks.log.more')}
        </button>
      )}
    </div>
  );
}

/** Pieces shared by the moderation and admin views (both loaded on demand). */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AuditEntry } from '../../../src/protocol/model.js';
import { translate } from '../i18n/index.js';
import { tm } from '../i18n/mod.js';
import { errorText } from '../state/errors.js';
import { durationText, formatFull, formatTime, nameOf } from '../state/format.js';
import { useApp, useChat } from './context.js';
import { ErrorLine } from './kit.js';

/** Sanction lengths offered for mutes and bans; `undefined` = until lifted. */
export const DURATIONS: readonly (number | undefined)[] = [600, 3600, 86_400, 604_800, 2_592_000, undefined];

export function durationLabel(sec: number | undefined): string {
  return sec === undefined ? tm('mod.forever') : durationText(sec);
}

export function DurationSelect({
  value,
  onChange,
  label,
}: {
  value: number | undefined;
  onChange: (sec: number | undefined) => void;
  label: string;
}) {
  return (
    <select
      aria-label={label}
      value={value === undefined ? 'forever' : String(value)}
      onChange={(e) => onChange(e.currentTarget.value === 'forever' ? undefined : Number(e.currentTarget.value))}
    >
      {DURATIONS.map((d) => (
        <option key={d ?? 'forever'} value={d === undefined ? 'forever' : String(d)}>
          {durationLabel(d)}
        </option>
      ))}
    </select>
  );
}

/** Tabs for a dialog with several panels. */
export function Tabs<K extends string>({
  tabs,
  active,
  onPick,
  label,
}: {
  tabs: readonly { id: K; text: string }[];
  active: K;
  onPick: (id: K) => void;
  label: string;
}) {
  return (
    <div class="mod-tabs" role="tablist" aria-label={label}>
      {tabs.map((tab) => (
        <button
          key={tab.id}
          type="button"
          role="tab"
          aria-selected={tab.id === active}
          class={`tab${tab.id === active ? ' active' : ''}`}
          onClick={() => onPick(tab.id)}
        >
          {tab.text}
        </button>
      ))}
    </div>
  );
}

/** Runs an action, keeping a busy flag and the error or success line for the view. */
export function useAction(): {
  busy: boolean;
  note: { text: string; ok: boolean } | null;
  run: (p: () => Promise<unknown>, ok?: string) => Promise<boolean>;
  Note: () => ComponentChildren;
} {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ text: string; ok: boolean } | null>(null);
  const run = async (p: () => Promise<unknown>, ok?: string) => {
    setBusy(true);
    setNote(null);
    try {
      await p();
      if (ok) setNote({ text: ok, ok: true });
      return true;
    } catch (e) {
      setNote({ text: errorText(e), ok: false });
      return false;
    } finally {
      setBusy(false);
    }
  };
  const Note = () =>
    note ? (
      note.ok ? (
        <p class="form-success" role="status">
          {note.text}
        </p>
      ) : (
        <ErrorLine error={note.text} />
      )
    ) : null;
  return { busy, note, run, Note };
}

/** A user's name from the shared directory, fetched when not known yet. */
export function useNames(ids: readonly (string | null | undefined)[]): (id: string | null | undefined) => string {
  const chat = useChat();
  const users = useApp((s) => s.users);
  const key = ids.filter(Boolean).join(',');
  useEffect(() => {
    chat.people.lookupUsers(ids.filter((x): x is string => !!x));
  }, [key]);
  return (id) => (id ? nameOf(users, id) : '');
}

/** Names of rooms the user is not in (a server admin's queue), fetched once per page load; null when unreadable. */
const roomNames = new Map<string, Promise<string | null>>();

/** A room's name: from the user's rooms, else fetched (public rooms); '' until known or when not readable. */
export function useRoomName(roomId: string | null): string {
  const chat = useChat();
  const mine = useApp((s) => (roomId ? s.rooms[roomId]?.name : undefined));
  const [fetched, setFetched] = useState<string | null>(null);
  useEffect(() => {
    if (!roomId || mine !== undefined) return;
    let live = true;
    let p = roomNames.get(roomId);
    if (!p) {
      p = chat.api.room(roomId).then(
        (r) => r.name,
        () => null,
      );
      roomNames.set(roomId, p);
    }
    void p.then((name) => live && setFetched(name));
    return () => {
      live = false;
    };
  }, [roomId, mine]);
  return mine ?? fetched ?? '';
}

function auditLabel(action: string): string {
  const key = `audit.${action}`;
  const text = translate(key);
  return text === key ? action : text;
}

function auditDetails(data: Record<string, unknown> | null): string {
  if (!data) return '';
  return Object.entries(data)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}

export const AUDIT_PAGE = 50;

/** The audit log, newest first, paged on demand. */
function RoomLabel({ id }: { id: string }) {
  const name = useRoomName(id);
  return <span class="muted"> · #{name || id}</span>;
}

export function AuditList({ load }: { load: (before?: string) => Promise<AuditEntry[]> }) {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const page = (before?: string) =>
    load(before).then(
      (got) => {
        setEntries((cur) => [...(before ? (cur ?? []) : []), ...got]);
        setMore(got.length === AUDIT_PAGE);
      },
      (e: unknown) => setError(errorText(e)),
    );
  useEffect(() => {
    void page();
  }, []);
  const name = useNames((entries ?? []).flatMap((e) => [e.actorId, e.targetUserId]));
  return (
    <div class="audit">
      <ErrorLine error={error} />
      {entries === null && !error && (
        <div class="loading-row">
          <span class="spinner" aria-hidden="true" />
        </div>
      )}
      {entries && !entries.length && <p class="empty-hint">{tm('audit.none')}</p>}
      <ul class="mod-list">
        {entries?.map((e) => (
          <li key={e.id} class="mod-row audit-row" data-action={e.action}>
            <time dateTime={e.createdAt} title={formatFull(e.createdAt)} class="muted">
              {formatTime(e.createdAt)}
            </time>
            <span class="mod-row-text">
              <span>
                <strong>{name(e.actorId)}</strong> {auditLabel(e.action)}
                {e.targetUserId && <strong> {name(e.targetUserId)}</strong>}
                {e.roomId && <RoomLabel id={e.roomId} />}
              </span>
              {e.data && <span class="mod-row-meta">{auditDetails(e.data)}</span>}
            </span>
          </li>
        ))}
      </ul>
      {more && entries && (
        <button type="button" class="button small" onClick={() => void page(entries[entries.length - 1]?.id)}>
          {tm('common.loadMore')}
        </button>
      )}
    </div>
  );
}

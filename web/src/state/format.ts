import type { MyRoom, PublicUser, UserProfile } from '../../../src/protocol/model.js';
import { getLocale, t } from '../i18n/index.js';

export function nameOf(users: Record<string, PublicUser>, id: string): string {
  const u = users[id];
  return u ? u.displayName || u.username : t('people.unknown');
}

/** A room's title: its name, or for a DM the other members' names. */
export function roomTitle(room: MyRoom, meId: string | undefined): string {
  if (room.kind !== 'dm') return room.name;
  const others = (room.members ?? []).filter((u) => u.id !== meId);
  if (!others.length) return room.name;
  return others.map((u) => u.displayName || u.username).join(', ');
}

/** The other person in a one-to-one DM (for its avatar and presence dot). */
export function dmPeer(room: MyRoom, meId: string | undefined): UserProfile | undefined {
  if (room.kind !== 'dm') return undefined;
  const others = (room.members ?? []).filter((u) => u.id !== meId);
  return others.length === 1 ? others[0] : undefined;
}

const PALETTE = ['#e8590c', '#2f9e44', '#1971c2', '#9c36b5', '#c2255c', '#0c8599', '#5f3dc4', '#d9480f', '#2b8a3e'];

/** A stable color per user id (FNV-1a hash into a palette readable on light and dark backgrounds). */
export function colorFor(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return PALETTE[(h >>> 0) % PALETTE.length] as string;
}

export function initials(name: string): string {
  const parts = name
    .trim()
    .split(/[\s._-]+/)
    .filter(Boolean);
  const first = [...(parts[0] ?? '?')][0] ?? '?';
  const second = parts.length > 1 ? ([...(parts[1] as string)][0] ?? '') : '';
  return (first + second).toUpperCase();
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
function fmt(key: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const id = `${getLocale()}|${key}`;
  let f = timeFormats.get(id);
  if (!f) timeFormats.set(id, (f = new Intl.DateTimeFormat(getLocale(), opts)));
  return f;
}

export function formatTime(iso: string): string {
  return fmt('time', { hour: 'numeric', minute: '2-digit' }).format(new Date(iso));
}

export function formatFull(iso: string): string {
  return fmt('full', { dateStyle: 'full', timeStyle: 'short' }).format(new Date(iso));
}

export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "Today", "Yesterday", a weekday this week, or a date. */
export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const startOf = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((startOf(now) - startOf(d)) / 86_400_000);
  if (days === 0) return t('time.today');
  if (days === 1) return t('time.yesterday');
  if (days > 1 && days < 7) return fmt('weekday', { weekday: 'long', month: 'long', day: 'numeric' }).format(d);
  const sameYear = d.getFullYear() === now.getFullYear();
  return fmt(sameYear ? 'date' : 'dateYear', {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
    ...(sameYear ? {} : { year: 'numeric' }),
  }).format(d);
}

/** A whole duration in the largest unit that divides it: "30 seconds", "5 minutes", "1 day". */
export function durationText(sec: number): string {
  if (sec >= 86_400 && sec % 86_400 === 0) return t('time.days', { count: sec / 86_400 });
  if (sec >= 3600 && sec % 3600 === 0) return t('time.hours', { count: sec / 3600 });
  if (sec >= 60 && sec % 60 === 0) return t('time.minutes', { count: sec / 60 });
  return t('time.seconds', { count: sec });
}

/** "until <date>", or "indefinitely" for the far-future end the server uses for "until lifted". */
export function untilText(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || new Date(ms).getUTCFullYear() >= 9999) return t('mod.indefinitely');
  return t('mod.until', { when: formatFull(iso) });
}

/**
 * `text` with the space that separates it from what precedes it: none before a full-width bracket (Chinese
 * "（你）"), which carries its own, so the gap is not doubled.
 */
export function spacedAfterWord(text: string): string {
  return /^[（【「『]/u.test(text) ? text : ` ${text}`;
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB'] as const;

/** A size people read: "820 B", "4.2 KB", "12 MB" (units of 1024; one decimal below 10). */
export function bytesText(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u > 0 && v < 10 ? 1 : 0;
  const num = new Intl.NumberFormat(getLocale(), { maximumFractionDigits: digits }).format(v);
  return `${num} ${BYTE_UNITS[u] as string}`;
}

/** A file's kind in a word: the subtype of its detected type ("PDF", "ZIP"), else its name's extension. */
export function fileKindText(contentType: string, name: string): string {
  const sub = contentType.split(';')[0]?.split('/')[1] ?? '';
  if (sub && sub !== 'octet-stream') return sub.replace(/^(x-|vnd\.)/, '').toUpperCase();
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1];
  return ext ? ext.toUpperCase() : t('files.binary');
}

/** "0:07", "12:30": an elapsed time in minutes and seconds. */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

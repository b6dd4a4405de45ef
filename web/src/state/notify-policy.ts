/**
 * The notification policy as pure functions (notifier.ts applies them): which messages a room's level lets
 * through, do-not-disturb, and a notification's plain-text body. No i18n or DOM state, so tests import it alone.
 */
import type { MyRoom, NotifyLevel, RoomEvent, UserSettings } from '../../../src/protocol/model.js';
import { load } from './persist.js';

/** `FOREVER_MS`: do-not-disturb until turned off. */
export const DND_FOREVER = 253_402_300_799_000;

export type Permission = NotificationPermission | 'unsupported';

export function permissionNow(): Permission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Whether a message mentions `meId`: listed in `data.mentions`, or `@room` / `@here`. */
export function mentionsMe(e: RoomEvent, meId: string): boolean {
  const d = e.data;
  if (!d) return false;
  if (d.mentionAll === 'room' || d.mentionAll === 'here') return true;
  return Array.isArray(d.mentions) && d.mentions.includes(meId);
}

/** Whether a message in `room` notifies at `level`: DMs count as mentions. */
export function levelAllows(level: NotifyLevel, room: Pick<MyRoom, 'kind'>, e: RoomEvent, meId: string): boolean {
  if (level === 'none') return false;
  if (level === 'all') return true;
  return room.kind === 'dm' || mentionsMe(e, meId);
}

export function dndActive(settings: UserSettings | null, now = Date.now()): boolean {
  return settings?.dndUntil != null && settings.dndUntil > now;
}

/** A message body as plain text for a notification: Markdown marks and extra whitespace gone, cut short. */
export function snippet(body: string, max = 140): string {
  const text = body
    .replace(/```[\s\S]*?```/g, (m) => m.slice(3, -3))
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_~`>#|]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Device preferences the notifier keeps (local, not synced). */
export function notifierStart(): { sound: boolean; permission: Permission } {
  return { sound: load<boolean>('sound') ?? false, permission: permissionNow() };
}

import { integrationOf, type MyRoom, type PublicUser, type Room } from '../client/index.js';
import { displayWidth, padEndDisplay } from './display-width.js';

/**
 * Text from the server goes to a terminal: strip control characters (except newline and tab) so a message
 * can never carry escape sequences that move the cursor, retitle the window or hide text. The server rejects
 * them already; this is defence in depth against a hostile or buggy server.
 */
export function clean(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu, '\uFFFD');
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time: `14:03` today, `2024-05-01 14:03` otherwise. */
export function localTime(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  const sameDay =
    d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? hm : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${hm}`;
}

/** `head` then the body; continuation lines of a multi-line body are indented under it. */
export function withBody(head: string, body: string): string {
  const [first = '', ...more] = clean(body).split('\n');
  const indent = ' '.repeat(Math.min(head.length, 8));
  return [`${head}${first}`, ...more.map((l) => `${indent}${l}`)].join('\n');
}

/** Aligned columns, two spaces apart; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows].map((r) => r.map(clean));
  // Terminal columns, not UTF-16 units: a CJK character takes two, a combining accent none.
  const widths = headers.map((_, i) => Math.max(...all.map((r) => displayWidth(r[i] ?? ''))));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : padEndDisplay(cell, widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** How a room is named on screen: its name, or `@alice,bob` for a DM (whose name is empty). */
export function roomTitle(room: Room | MyRoom): string {
  if (room.kind !== 'dm') return room.name;
  const members = 'members' in room ? room.members : undefined;
  return members && members.length > 0 ? `@${members.map((m) => m.username).join(',')}` : `(dm ${room.id})`;
}

export function userLabel(u: PublicUser): string {
  const label = u.displayName && u.displayName !== u.username ? `${u.username} (${u.displayName})` : u.username;
  return u.bot ? `${label} [bot]` : label;
}

/**
 * A message posted through an incoming webhook is shown as its integration, marked `[app]`, not as the account that
 * set the webhook up (issue 16); undefined for any other message.
 */
export function appLabel(data: Record<string, unknown> | null | undefined): string | undefined {
  const app = integrationOf(data);
  return app ? `${clean(app.name)} [app]` : undefined;
}

/** `48213` → `47.1 KiB`. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

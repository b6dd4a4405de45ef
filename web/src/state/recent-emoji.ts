import { load, save } from './persist.js';

/** How many recently used reactions the picker keeps first. */
export const RECENT_MAX = 24;

const key = (userId: string) => `recentEmoji.${userId}`;

/** This user's recently used reactions in this browser, newest first. */
export function recentEmoji(userId: string): string[] {
  const list = load<unknown>(key(userId));
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string').slice(0, RECENT_MAX) : [];
}

/** Puts `emoji` first in this user's recent list (once). */
export function rememberEmoji(userId: string, emoji: string): void {
  save(key(userId), [emoji, ...recentEmoji(userId).filter((e) => e !== emoji)].slice(0, RECENT_MAX));
}

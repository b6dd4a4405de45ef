import type { Room, RoomEvent, PublicUser } from './model.js';

/**
 * Slash commands (issue 16): the wire types of `POST/GET /api/v1/rooms/:roomId/commands` and the one parser the
 * server, the web client and the CLI share, so they agree on what is a command, what is an escaped `//text` and
 * where the arguments start.
 */

/** One command a room offers, as `GET …/commands` lists it (built-ins first, then bot commands by name). */
export interface CommandInfo {
  name: string;
  description: string;
  /** How to write the arguments, e.g. `@user [duration] [reason]`; absent for a command without any. */
  argsHint?: string;
  source: 'builtin' | 'bot';
  /** The bot that registered it (source `bot` only). */
  botId?: string;
}

/** What running a command did (`200 {result}`). */
export type CommandResult =
  /** It posted a message (`/me`, `/shrug`, `//text`): the stored event, as a send would answer. */
  | { kind: 'message'; message: RoomEvent; duplicate: boolean }
  /** Text only the caller sees (`/help`, `/topic` without text); nothing was stored or sent to anyone else. */
  | { kind: 'ephemeral'; command: string; text: string; commands?: CommandInfo[] }
  /**
   * The action was done through the same service as its own route; its room event (if any) arrives on the room
   * sequence like the route's. `target` is the user acted on, `room` the room after a change, `user` the caller's
   * profile after `/nick` or `/away`, `away` whether `/away` marked the caller away.
   */
  | {
      kind: 'done';
      command: string;
      target?: PublicUser;
      room?: Room;
      user?: PublicUser;
      away?: boolean;
      durationSec?: number;
    }
  /** Handed to a bot over its WebSocket (`command` frame); the bot answers by posting. */
  | { kind: 'dispatched'; command: string; botId: string; invocationId: string };

/** Longest command name; names are lower-case letters, digits, `_` and `-`, starting with a letter. */
export const COMMAND_NAME_MAX = 32;
const NAME = new RegExp(`^[a-z][a-z0-9_-]{0,${COMMAND_NAME_MAX - 1}}$`);

/** Whether `name` may name a command (what a bot may register, what `/name` may call). */
export function isCommandName(name: string): boolean {
  return NAME.test(name);
}

export type ParsedText =
  /** Not a command: post `body` as a message (plain text, or `//text` unescaped to `/text`). */
  | { kind: 'message'; body: string }
  /** A command: its name (lower-cased) and the argument text after it, trimmed. */
  | { kind: 'command'; name: string; args: string }
  /** Starts with `/` but names no possible command (`/`, `/ x`, `/123`): refused as `unknown_command`. */
  | { kind: 'invalid'; name: string };

/** Splits composer text into a message, a command call or an invalid command. */
export function parseCommandText(text: string): ParsedText {
  if (!text.startsWith('/')) return { kind: 'message', body: text };
  if (text.startsWith('//')) return { kind: 'message', body: text.slice(1) };
  const m = /^\/(\S*)(?:\s+([\s\S]*))?$/.exec(text);
  const raw = m?.[1] ?? '';
  const name = raw.toLowerCase();
  if (!isCommandName(name)) return { kind: 'invalid', name: raw };
  return { kind: 'command', name, args: (m?.[2] ?? '').trim() };
}

/** One argument word: its text with quotes removed, whether it was quoted, and where its source ends in `args`. */
export interface ArgToken {
  value: string;
  quoted: boolean;
  end: number;
}

/**
 * Splits command arguments into words: whitespace separates, `"…"` or `'…'` groups (so `"Alice Smith"` or `""` is one
 * word), `\` escapes the next character inside quotes. Throws `ArgsError` on an unterminated quote.
 */
export function tokenizeArgs(args: string): ArgToken[] {
  const out: ArgToken[] = [];
  let i = 0;
  while (i < args.length) {
    while (i < args.length && /\s/.test(args[i] ?? '')) i++;
    if (i >= args.length) break;
    const q = args[i];
    if (q === '"' || q === "'") {
      let value = '';
      let j = i + 1;
      for (; j < args.length && args[j] !== q; j++) {
        if (args[j] === '\\' && j + 1 < args.length) j++;
        value += args[j];
      }
      if (j >= args.length) throw new ArgsError(`unterminated ${q} quote`);
      out.push({ value, quoted: true, end: j + 1 });
      i = j + 1;
    } else {
      let j = i;
      while (j < args.length && !/\s/.test(args[j] ?? '')) j++;
      out.push({ value: args.slice(i, j), quoted: false, end: j });
      i = j;
    }
  }
  return out;
}

/**
 * The first `n` words of `args`, and the text after them as one free-text value (a reason, a topic): the text as
 * written, or a single quoted word's content (so `""` gives an empty rest).
 */
export function splitArgs(args: string, n: number): { words: ArgToken[]; rest: string; restQuoted: boolean } {
  const tokens = tokenizeArgs(args);
  const words = tokens.slice(0, n);
  const after = tokens.slice(n);
  const start = words.length > 0 ? (words[words.length - 1]?.end ?? 0) : 0;
  const restText = args.slice(start).trim();
  const only = after.length === 1 ? after[0] : undefined;
  if (only?.quoted) return { words, rest: only.value, restQuoted: true };
  return { words, rest: restText, restQuoted: false };
}

/** A parse problem in command arguments (the server answers it as `command_usage` with the usage line). */
export class ArgsError extends Error {
  override name = 'ArgsError';
}

/**
 * A duration as commands take it: a number of seconds, or a number with a unit `s`, `m`, `h`, `d` or `w`
 * (`90`, `10m`, `2h`, `7d`). Returns null when it is not one.
 */
export function parseDuration(word: string): number | null {
  const m = /^(\d{1,9})([smhdw]?)$/i.exec(word);
  if (!m) return null;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}

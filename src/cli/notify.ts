import { FOREVER_MS, NOTIFY_LEVELS, type NotifyLevel } from '../protocol/model.js';
import { JSON_OPTION, type CommandSpec } from './command.js';
import { usageError } from './errors.js';
import { localTime, roomTitle } from './format.js';
import { withRetry } from './messages.js';
import { findRoom } from './rooms.js';

/** `30m`, `2h`, `1d` (or a bare number of minutes) as milliseconds; null when it is none of those. */
export function parseDuration(raw: string): number | null {
  const m = /^(\d{1,6})([mhd]?)$/.exec(raw.trim().toLowerCase());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] === 'h' ? 3_600_000 : m[2] === 'd' ? 86_400_000 : 60_000;
  return n > 0 ? n * unit : null;
}

export const notify: CommandSpec = {
  name: 'notify',
  summary: "Set a room's notification level: all, mentions or none",
  details:
    'Your level for the room, kept by the server for all your devices (the web app follows it live): `all` (the\n' +
    'default) notifies of every message, `mentions` only of messages that mention you, @room and @here (in a DM,\n' +
    'of every message), `none` of nothing. Messages still arrive and count as unread. `chat rooms` shows it.',
  args: [{ name: 'room' }, { name: 'level' }],
  options: JSON_OPTION,
  examples: ['chat notify general mentions', 'chat notify random none', 'chat notify @bob all'],
  async run(ctx, inv) {
    const level = inv.args.level!.toLowerCase() as NotifyLevel;
    if (!NOTIFY_LEVELS.includes(level)) {
      throw usageError(`not a level: ${inv.args.level} (all, mentions or none)`, 'notify');
    }
    const room = await findRoom(ctx, inv.args.room!);
    const set = await withRetry(() => ctx.api().setNotifyLevel(room.id, level));
    if (ctx.json) return ctx.printJson({ roomId: room.id, level: set });
    ctx.out(`notifications in ${roomTitle(room)}: ${set}`);
  },
};

export const dnd: CommandSpec = {
  name: 'dnd',
  summary: 'Do not disturb: on, off, for a while (30m, 2h, 1d), or show it',
  details:
    'Do-not-disturb is kept by the server for all your devices: while it lasts the web app shows no desktop\n' +
    'notifications and plays no sound. Nothing is held back: messages arrive and count as unread as always.\n' +
    '`on` lasts until you turn it off; a duration ends it by itself. Without an argument, shows the state.',
  args: [{ name: 'state', optional: true }],
  options: JSON_OPTION,
  examples: ['chat dnd on', 'chat dnd 2h', 'chat dnd off', 'chat dnd'],
  async run(ctx, inv) {
    const raw = inv.args.state?.toLowerCase();
    let settings;
    if (raw === undefined) {
      settings = await ctx.api().settings();
    } else {
      let dndUntil: number | null;
      if (raw === 'on') dndUntil = FOREVER_MS;
      else if (raw === 'off') dndUntil = null;
      else {
        const ms = parseDuration(raw);
        if (ms === null) throw usageError(`not on, off or a duration (30m, 2h, 1d): ${inv.args.state}`, 'dnd');
        dndUntil = Math.min(FOREVER_MS, Date.now() + ms);
      }
      settings = await withRetry(() => ctx.api().updateSettings({ dndUntil }));
    }
    if (ctx.json) return ctx.printJson({ dndUntil: settings.dndUntil });
    const until = settings.dndUntil;
    if (until === null) ctx.out('do not disturb: off');
    else if (until >= FOREVER_MS) ctx.out('do not disturb: on, until you turn it off');
    else ctx.out(`do not disturb: on until ${localTime(new Date(until).toISOString())}`);
  },
};

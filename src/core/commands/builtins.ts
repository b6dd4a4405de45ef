import type { CommandInfo } from '../../protocol/commands.js';

/**
 * The built-in slash commands: name, argument hint and description, in the order `/help` and the composer list
 * them. What each one does is in command-service.ts; the hints are the usage lines of `command_usage` errors.
 */
export const BUILTIN_COMMANDS = [
  { name: 'me', argsHint: '<action>', description: 'Post an action: /me waves shows as "* you waves".' },
  { name: 'shrug', argsHint: '[message]', description: 'Post a message with ¯\\_(ツ)_/¯ appended.' },
  { name: 'topic', argsHint: '[topic | ""]', description: 'Show the topic, set it, or clear it with "".' },
  { name: 'invite', argsHint: '@user', description: 'Invite someone to this room.' },
  { name: 'kick', argsHint: '@user [reason]', description: 'Remove a member from this room (moderators).' },
  {
    name: 'ban',
    argsHint: '@user [duration] [reason]',
    description: 'Ban someone from this room, for a time (30m, 2h, 7d) or until lifted (moderators).',
  },
  {
    name: 'mute',
    argsHint: '@user [duration] [reason]',
    description: 'Stop a member posting, for a time (30m, 2h, 7d) or until lifted (moderators).',
  },
  { name: 'slow', argsHint: '<seconds | 30s | 5m | off>', description: 'Set slow mode for this room (admins).' },
  { name: 'nick', argsHint: '<display name>', description: 'Change your display name.' },
  {
    name: 'away',
    argsHint: '[message]',
    description: 'Mark yourself away with a message; /away alone marks you back.',
  },
  { name: 'help', argsHint: '[command]', description: 'List the commands of this room, or show one.' },
] as const satisfies readonly Omit<CommandInfo, 'source'>[];

export type BuiltinName = (typeof BUILTIN_COMMANDS)[number]['name'];

export const SHRUG = '¯\\_(ツ)_/¯';

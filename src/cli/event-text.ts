import type { RoomEvent } from '../client/index.js';
import { clean, withBody } from './format.js';

/**
 * One line for a room event other than a message (`* bob joined`), or undefined for events not worth a line.
 * `name` maps a user id to a username.
 */
export function describeEvent(e: RoomEvent, name: (id: string) => string): string | undefined {
  const actor = name(e.senderId);
  const subjectId = typeof e.data?.userId === 'string' ? e.data.userId : undefined;
  const subject = subjectId ? name(subjectId) : 'someone';
  const bySomeoneElse = subjectId !== undefined && subjectId !== e.senderId;
  switch (e.type) {
    case 'message':
      return undefined;
    case 'room.created':
      return `* ${actor} created the room`;
    case 'room.updated': {
      const parts: string[] = [];
      if (typeof e.data?.name === 'string') parts.push(`renamed the room to "${clean(e.data.name)}"`);
      if (typeof e.data?.topic === 'string') parts.push(`set the topic to "${clean(e.data.topic)}"`);
      return parts.length ? `* ${actor} ${parts.join(' and ')}` : undefined;
    }
    case 'member.joined':
      return bySomeoneElse ? `* ${actor} added ${subject}` : `* ${subject} joined`;
    case 'member.left':
      return e.data?.reason === 'removed' || bySomeoneElse
        ? `* ${subject} was removed by ${actor}`
        : `* ${subject} left`;
    case 'member.invited':
      return `* ${actor} invited ${subject}`;
    case 'message.edited': {
      const seq = typeof e.data?.seq === 'number' ? ` #${e.data.seq}` : '';
      // A body blanked by a later delete: the edit happened, its text is gone.
      return e.body ? withBody(`* ${actor} edited message${seq}: `, e.body) : `* ${actor} edited message${seq}`;
    }
    case 'message.deleted':
      return `* ${actor} deleted message${typeof e.data?.seq === 'number' ? ` #${e.data.seq}` : ''}`;
    case 'reaction.added':
    case 'reaction.removed': {
      const emoji = typeof e.data?.emoji === 'string' ? clean(e.data.emoji) : '?';
      const seq = typeof e.data?.seq === 'number' ? ` #${e.data.seq}` : '';
      return e.type === 'reaction.added'
        ? `* ${actor} reacted ${emoji} to message${seq}`
        : `* ${actor} removed ${emoji} from message${seq}`;
    }
    case 'member.role':
      return `* ${actor} made ${subject} ${typeof e.data?.role === 'string' ? e.data.role : 'a member'}`;
    case 'message.pinned':
      return `* ${actor} pinned message${typeof e.data?.seq === 'number' ? ` #${e.data.seq}` : ''}`;
    case 'message.unpinned':
      return `* ${actor} unpinned message${typeof e.data?.seq === 'number' ? ` #${e.data.seq}` : ''}`;
    case 'member.read':
      return undefined; // read receipts are for the web app's "seen by", not a line each
    default:
      return undefined;
  }
}

/**
 * The rooms' command lists for the composer's autocomplete (issue 16). Nothing tells a room's members when a bot
 * joins, leaves or changes its commands, so a room's list is read again each time the autocomplete opens — but not
 * more than once per COMMANDS_REREAD_MS; meanwhile the last list read is shown at once, then the fresh one.
 */
import type { CommandInfo } from '../../../src/protocol/commands.js';

/** Commands offered at most while typing a name. */
const COMMAND_SUGGESTIONS = 12;

/**
 * The list opening again this soon after the last read does not read again (a `/` typed, erased and typed again):
 * the list is at most this stale when it opens, and one person typing costs at most one read per this long.
 */
export const COMMANDS_REREAD_MS = 2000;

/** One room's command list: the read in flight or done, and the last list that came back (shown meanwhile). */
interface ListRead {
  startedAt: number;
  list: Promise<CommandInfo[]>;
  done: boolean;
  last: CommandInfo[] | null;
}

export class CommandLists {
  private readonly lists = new Map<string, ListRead>();

  /** `read`: the room's commands from the server (`GET …/commands`). */
  constructor(private readonly read: (roomId: string) => Promise<CommandInfo[]>) {}

  /** The room's commands as last read (read now if never). */
  list(roomId: string): Promise<CommandInfo[]> {
    return (this.lists.get(roomId) ?? this.start(roomId)).list;
  }

  private start(roomId: string): ListRead {
    const entry: ListRead = {
      startedAt: Date.now(),
      done: false,
      last: this.lists.get(roomId)?.last ?? null,
      list: Promise.resolve([]),
    };
    entry.list = this.read(roomId).then(
      (list) => {
        entry.last = list;
        return list;
      },
      () => {
        entry.startedAt = 0; // failed: the next opening reads again
        return entry.last ?? [];
      },
    );
    void entry.list.then(() => (entry.done = true));
    this.lists.set(roomId, entry);
    return entry;
  }

  /**
   * Commands whose name starts with `prefix`, built-ins first (the server's order), handed to `show`: at once from
   * the last list read, and again when a read in flight lands. `opening`: the list has just opened, so the room's
   * commands are read again unless they were read in the last COMMANDS_REREAD_MS.
   */
  suggest(roomId: string, prefix: string, opening: boolean, show: (list: CommandInfo[]) => void): void {
    let entry = this.lists.get(roomId);
    if (!entry || (opening && Date.now() - entry.startedAt >= COMMANDS_REREAD_MS)) entry = this.start(roomId);
    const match = (all: CommandInfo[]) => all.filter((c) => c.name.startsWith(prefix)).slice(0, COMMAND_SUGGESTIONS);
    if (entry.last) show(match(entry.last));
    if (!entry.done) void entry.list.then((all) => show(match(all)));
  }
}

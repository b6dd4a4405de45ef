import type { ChainProblem } from '../protocol/chain.js';
import { JSON_OPTION, type CommandSpec } from './command.js';
import { CliError } from './errors.js';
import { findRoom } from './rooms.js';

const ROOM_ID = /^r_[A-Za-z0-9_-]+$/;
const describe = (p: ChainProblem) => `seq ${p.seq}: ${p.problem}: ${p.detail}`;

/** `chat admin verify [room]`: walks stored hash chains on the server (docs/protocol.md "History integrity"). */
export const adminVerify: CommandSpec = {
  name: 'admin verify',
  summary: "Check a room's tamper-evident history (or every room's) and name the first broken link",
  details:
    "The server walks the room's stored events and checks every link of its hash chain: nothing removed,\n" +
    'reordered or changed by hand. With a <room>: room admins and owners, and server admins. Without one:\n' +
    'every room on the server (server admins). Exit status 1 when a chain is broken.\n' +
    'A <room> is a room id, the exact name of one of your rooms (any case), or @user for a DM.',
  args: [{ name: 'room', optional: true }],
  options: JSON_OPTION,
  examples: ['chat admin verify general', 'chat admin verify'],
  async run(ctx, inv) {
    if (inv.args.room) {
      const arg = inv.args.room;
      // A room id is taken as it is: a server admin may verify a private room or DM they are not in.
      const room = ROOM_ID.test(arg) ? { id: arg, name: '' } : await findRoom(ctx, arg, true);
      const report = await ctx.api().verifyRoom(room.id);
      if (ctx.json) ctx.printJson(report);
      else if (report.ok) {
        const legacy = report.chainFrom > 1 ? ` (events before ${report.chainFrom} predate the chain)` : '';
        ctx.out(
          `${room.name || room.id}: intact, ${report.checked} events checked up to seq ${report.lastSeq}${legacy}`,
        );
      } else {
        ctx.out(`${room.name || room.id}: BROKEN at ${describe(report.firstBroken!)}`);
        for (const p of report.problems.slice(1)) ctx.out(`  ${describe(p)}`);
      }
      if (!report.ok) throw new CliError('chain_broken', `the history of ${room.id} is broken`);
      return;
    }
    const summary = await ctx.api().verifyAllRooms();
    if (ctx.json) ctx.printJson(summary);
    else {
      for (const b of summary.broken) ctx.out(`${b.roomId}: BROKEN at ${describe(b.firstBroken)}`);
      ctx.out(`${summary.rooms} rooms checked, ${summary.broken.length} broken`);
    }
    if (!summary.ok) throw new CliError('chain_broken', `${summary.broken.length} rooms have a broken history`);
  },
};

import type { Block } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';

/**
 * Blocking: a user's private list of people they do not want to hear from. The server enforces it where a block
 * decides whether something happens at all — opening a DM, sending in a one-to-one DM (either side blocked: both
 * get `dm_unavailable`), an invite from someone the invitee blocked (dropped) — and leaves shared rooms alone:
 * a blocked user's messages there still arrive, and the blocker's clients collapse them. Nobody but the blocker
 * is told of a block; each change reaches the blocker's other devices live (`block` frame).
 */
export class BlockService {
  constructor(private readonly ctx: DomainContext) {}

  private async limit(auth: AuthContext): Promise<void> {
    const r = await this.ctx.limiter.take(`block:${auth.user.id}`, this.ctx.limits.rates.block);
    if (!r.ok) throw new ChatError('rate_limited', { retryAfterMs: r.retryAfterMs });
  }

  /** Blocks `userId`; `created: false` (and no notice) when the block existed — the call is idempotent. */
  async block(auth: AuthContext, userId: string): Promise<{ block: Block; created: boolean }> {
    if (userId === auth.user.id) throw new ChatError('cannot_block_self');
    await this.limit(auth);
    const r = await this.ctx.store.blockUser(auth.user.id, userId, this.ctx.limits.maxBlocksPerUser);
    if (r.created) {
      await this.ctx.bus.publish(topics.user(auth.user.id), {
        kind: 'block',
        userId: auth.user.id,
        blocked: true,
        user: r.block.user,
        since: r.block.since,
      });
    }
    return r;
  }

  /** Lifts the block; `unblocked: false` when there was none. */
  async unblock(auth: AuthContext, userId: string): Promise<{ unblocked: boolean }> {
    if (userId === auth.user.id) throw new ChatError('cannot_block_self');
    await this.limit(auth);
    const unblocked = await this.ctx.store.unblockUser(auth.user.id, userId);
    if (unblocked) {
      const [user] = await this.ctx.store.getUsers([userId]);
      if (user) {
        await this.ctx.bus.publish(topics.user(auth.user.id), {
          kind: 'block',
          userId: auth.user.id,
          blocked: false,
          user,
          since: null,
        });
      }
    }
    return { unblocked };
  }

  list(auth: AuthContext): Promise<Block[]> {
    return this.ctx.store.listBlocks(auth.user.id);
  }
}

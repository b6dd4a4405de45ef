import type { AccountQueries } from './accounts.js';
import type { AvatarQueries } from './avatars.js';
import type { BlockQueries } from './blocks.js';
import type { BotQueries } from './bots.js';
import type { ChainQueries } from './chain.js';
import type { EventQueries } from './events.js';
import type { FileQueries } from './files.js';
import type { MentionQueries } from './mentions.js';
import type { ModerationQueries } from './moderation.js';
import type { PinQueries } from './pins.js';
import type { ReadQueries } from './reads.js';
import type { ReactionQueries } from './reactions.js';
import type { RoomQueries } from './rooms.js';
import type { SearchQueries } from './search.js';
import type { ThreadQueries } from './threads.js';
import type { WebhookQueries } from './webhooks.js';
import type { KeepQueries } from './keep.js';

/**
 * Every named query a recipe may run, with its arguments and result: the contract between the recipes and the
 * engines' SQL. Declared beside the recipes of each concern; an engine's query table is checked against this, so a
 * query an engine lacks, or one with the wrong arguments, does not compile.
 */
export interface Queries
  extends
    AccountQueries,
    RoomQueries,
    ModerationQueries,
    EventQueries,
    ReactionQueries,
    ReadQueries,
    PinQueries,
    ThreadQueries,
    MentionQueries,
    BlockQueries,
    FileQueries,
    AvatarQueries,
    SearchQueries,
    WebhookQueries,
    BotQueries,
    KeepQueries,
    ChainQueries {}

import type { SearchResult } from '../protocol/model.js';
import type { AuthContext } from './accounts.js';
import { ChatError } from './chat-error.js';
import type { DomainContext } from './context.js';
import { parseQuery, snippet } from './search-text.js';
import type { RoomService } from './rooms.js';
import type { MessageSearch } from './store.js';

/** What a caller asks (the parsed `GET /api/v1/search` query). Dates are epoch ms. */
export interface SearchRequest {
  q: string;
  roomId?: string | undefined;
  /** An author's username. */
  from?: string | undefined;
  after?: number | undefined;
  before?: number | undefined;
  has?: 'file' | 'link' | undefined;
  inThread?: boolean | undefined;
  sort: 'newest' | 'relevance';
  /** Default: 20, or the page maximum when lower. */
  limit?: number | undefined;
  cursor?: string | undefined;
}

const invalid = (path: string, message: string) => new ChatError('validation_failed', { issues: [{ path, message }] });

/**
 * The opaque cursor of a results page: base64url of `n.<position>` (newest first: continue below that index entry)
 * or `r.<offset>` (relevance: results to skip). A cursor only continues the sort it came from.
 */
const encodeCursor = (sort: MessageSearch['sort'], n: number) =>
  Buffer.from(`${sort === 'newest' ? 'n' : 'r'}.${n}`).toString('base64url');
function decodeCursor(cursor: string, sort: MessageSearch['sort']): number {
  const m = /^([nr])\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || (m[1] === 'n') !== (sort === 'newest')) throw invalid('cursor', 'not a cursor of this search and sort');
  return Number(m[2]);
}

/** Full-text message search over the rooms a user may read (members' rooms and public rooms). */
export class SearchService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
  ) {}

  async search(auth: AuthContext, req: SearchRequest): Promise<{ results: SearchResult[]; nextCursor: string | null }> {
    const limits = this.ctx.limits.search;
    const rate = await this.ctx.limiter.take(`search:${auth.user.id}`, this.ctx.limits.rates.search);
    if (!rate.ok) throw new ChatError('rate_limited', { retryAfterMs: rate.retryAfterMs });
    if ([...req.q].length > limits.queryMaxChars) throw invalid('q', `at most ${limits.queryMaxChars} characters`);
    if (req.limit !== undefined && req.limit > limits.pageMax) throw invalid('limit', `at most ${limits.pageMax}`);
    // One more than allowed tells "too many" from "exactly the maximum".
    const parts = parseQuery(req.q, limits.maxTerms + 1);
    if (parts.length === 0) throw invalid('q', 'no letters, digits or CJK characters to search for');
    if (parts.length > limits.maxTerms) throw invalid('q', `at most ${limits.maxTerms} words`);
    const cursor = req.cursor === undefined ? undefined : decodeCursor(req.cursor, req.sort);

    // A room filter gets the answer reading the room's history would (room_not_found for a hidden room, banned…).
    if (req.roomId !== undefined) await this.rooms.requireReadable(auth, req.roomId);
    let senderId: string | undefined;
    if (req.from !== undefined) {
      const user = await this.ctx.store.getUserByUsername(req.from);
      if (!user) throw new ChatError('user_not_found');
      senderId = user.id;
    }

    let limit = req.limit ?? Math.min(20, limits.pageMax);
    if (req.sort === 'relevance') {
      limit = Math.min(limit, limits.relevanceMax - (cursor ?? 0));
      if (limit <= 0) return { results: [], nextCursor: null };
    }
    const hits = await this.ctx.store.searchMessages({
      userId: auth.user.id,
      parts,
      sort: req.sort,
      limit: limit + 1,
      ...(req.roomId !== undefined ? { roomId: req.roomId } : {}),
      ...(senderId !== undefined ? { senderId } : {}),
      ...(req.after !== undefined ? { after: req.after } : {}),
      ...(req.before !== undefined ? { before: req.before } : {}),
      ...(req.has !== undefined ? { has: req.has } : {}),
      ...(req.inThread !== undefined ? { inThread: req.inThread } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    const more = hits.length > limit;
    if (more) hits.length = limit;
    const last = hits.at(-1);
    let nextCursor: string | null = null;
    if (more && last) {
      nextCursor =
        req.sort === 'newest'
          ? encodeCursor('newest', last.position)
          : encodeCursor('relevance', (cursor ?? 0) + limit);
    }
    return {
      results: hits.map((h) => ({
        message: h.message,
        roomName: h.roomName,
        roomKind: h.roomKind,
        snippet: snippet(h.message.body ?? '', parts, limits.snippetChars),
      })),
      nextCursor,
    };
  }
}

/**
 * People: the directory of users this page knows, each room's member list, presence and online counts, who is
 * typing, and which room this tab tells the server it views (so that big rooms send it their presence changes).
 */
import type { AssistantStreamFrame, PresenceNotice, TypingNotice } from '../../../src/protocol/frames.js';
import type { PublicUser, RoomEvent, UserProfile } from '../../../src/protocol/model.js';
import { TYPING_TTL_MS } from '../../../src/protocol/timing.js';
import type { AppState } from './app-state.js';
import { omit, Slice } from './slice.js';

/** Members per page of the member list: rooms up to this size load whole, bigger ones show "load more". */
const MEMBERS_PAGE = 200;

export class People extends Slice {
  private fetchingUsers = new Set<string>();
  private typingSweep: ReturnType<typeof setTimeout> | undefined;
  private refreshTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Member-list fetches in flight per room: the latest request's number, and whether a member event came meanwhile. */
  private membersFetch = new Map<string, { seq: number; stale: boolean }>();
  private membersFetchSeq = 0;
  /**
   * The fetch number current when a user's presence (or a room's online count) last came as an event: a member-list
   * answer from a fetch started before that carries an older value and must not overwrite it.
   */
  private presenceAt = new Map<string, number>();
  private onlineAt = new Map<string, number>();
  /** The tab has been hidden long enough to count as away: it views no room (see syncView). */
  private idle = false;

  /** Forgets the session's bookkeeping (the state itself is reset from SESSION_START). */
  reset(): void {
    this.fetchingUsers.clear();
    clearTimeout(this.typingSweep);
    for (const t of this.refreshTimers.values()) clearTimeout(t);
    this.refreshTimers.clear();
    this.membersFetch.clear();
    this.presenceAt.clear();
    this.onlineAt.clear();
    this.idle = false;
  }

  // ───────────────────────────── directory ─────────────────────────────

  /** Adds users the caller fetched (e.g. with a moderation list or a frame) to the shared directory. */
  knowUsers(users: readonly PublicUser[]): void {
    if (users.length) this.set((s) => ({ users: { ...s.users, ...Object.fromEntries(users.map((u) => [u.id, u])) } }));
  }

  /**
   * Names known from `welcome` or a room (DM peers): a known user gets the (possibly newer) names, an unknown one a
   * placeholder until their full profile arrives (a member list or a lookup replaces it).
   */
  knowProfiles(profiles: readonly UserProfile[]): void {
    if (!profiles.length) return;
    this.set((s) => {
      const users = { ...s.users };
      for (const p of profiles) {
        const known = users[p.id];
        users[p.id] = known
          ? { ...known, username: p.username, displayName: p.displayName }
          : { id: p.id, username: p.username, displayName: p.displayName, statusText: '', role: 'user', createdAt: '' };
      }
      return { users };
    });
  }

  /** A `profile` frame: the user's new names wherever the page shows them (directory and member lists). */
  profileChanged(user: PublicUser): void {
    this.set((s) => {
      const members: AppState['members'] = {};
      for (const [roomId, list] of Object.entries(s.members)) {
        members[roomId] = list.some((m) => m.user.id === user.id)
          ? list.map((m) => (m.user.id === user.id ? { ...m, user } : m))
          : list;
      }
      return { users: s.users[user.id] ? { ...s.users, [user.id]: user } : s.users, members };
    });
  }

  /**
   * After a reconnect: `profile` frames are not replayed, so the full profiles this page holds are read again
   * (a few at a time). Member lists are read again by whoever shows them.
   */
  async refreshProfiles(): Promise<void> {
    const live = this.live();
    const ids = Object.values(this.s.users)
      .filter((u) => u.createdAt)
      .map((u) => u.id);
    const next = async (): Promise<void> => {
      const id = ids.shift();
      if (id === undefined || !live()) return;
      try {
        const { user } = await this.ctx.api.request<{ user: PublicUser }>(
          'GET',
          `/api/v1/users/${encodeURIComponent(id)}`,
        );
        if (live()) this.profileChanged(user);
      } catch {
        /* gone or unreachable: the name stays as it was */
      }
      return next();
    };
    await Promise.all([next(), next(), next(), next()]);
  }

  search(q: string): Promise<PublicUser[]> {
    return this.ctx.api.searchUsers(q, 20);
  }

  /** Fetches users not known yet (names for ids in reports and audit entries). */
  lookupUsers(ids: Iterable<string>): void {
    for (const id of ids) this.ensureUser(id);
  }

  ensureUser(id: string, username?: string): void {
    // A placeholder (no createdAt: names only, from welcome or a DM) still fetches the full profile once.
    if (this.s.users[id]?.createdAt || this.fetchingUsers.has(id)) return;
    this.fetchingUsers.add(id);
    if (username && !this.s.users[id]) {
      // A placeholder until the profile arrives, so a name shows at once.
      const placeholder: PublicUser = {
        id,
        username,
        displayName: username,
        statusText: '',
        role: 'user',
        createdAt: '',
      };
      this.set((s) => ({ users: { ...s.users, [id]: placeholder } }));
    }
    const live = this.live();
    this.ctx.api
      .request<{ user: PublicUser }>('GET', `/api/v1/users/${encodeURIComponent(id)}`)
      .then(({ user }) => {
        if (!live()) return;
        this.set((s) => ({ users: { ...s.users, [id]: user } }));
        this.fetchingUsers.delete(id);
      })
      .catch(() => undefined); // stays in fetchingUsers: a failed lookup is not retried on every message
  }

  // ───────────────────────────── member lists ─────────────────────────────

  async loadMembers(roomId: string): Promise<void> {
    const seq = ++this.membersFetchSeq;
    this.membersFetch.set(roomId, { seq, stale: false });
    const live = this.live();
    try {
      const { members, online, nextCursor } = await this.ctx.api.members(roomId, { limit: MEMBERS_PAGE });
      if (!live()) return;
      const cur = this.membersFetch.get(roomId);
      if (cur?.seq !== seq) return; // a newer fetch started: its answer wins
      this.membersFetch.delete(roomId);
      if (cur.stale) this.refreshMembersSoon(roomId);
      this.set((s) => {
        const users = { ...s.users };
        const presence = { ...s.presence };
        for (const m of members) {
          users[m.user.id] = m.user;
          if ((this.presenceAt.get(m.user.id) ?? -1) < seq) presence[m.user.id] = m.presence;
        }
        const fresher = (this.onlineAt.get(roomId) ?? -1) >= seq;
        return {
          members: { ...s.members, [roomId]: members },
          membersNext: { ...s.membersNext, [roomId]: nextCursor },
          online: fresher ? s.online : { ...s.online, [roomId]: online },
          users,
          presence,
        };
      });
    } catch {
      /* not fatal: the list stays as it was */
      if (live() && this.membersFetch.get(roomId)?.seq === seq) this.membersFetch.delete(roomId);
    }
  }

  /** Appends the next page of a big room's members (the list shows a "load more" button while there is one). */
  async loadMoreMembers(roomId: string): Promise<void> {
    const cursor = this.s.membersNext[roomId];
    if (!cursor || this.membersFetch.has(roomId)) return;
    const live = this.live();
    try {
      const page = await this.ctx.api.members(roomId, { limit: MEMBERS_PAGE, cursor });
      if (!live()) return;
      this.set((s) => {
        const have = s.members[roomId];
        if (!have || s.membersNext[roomId] !== cursor) return {}; // reloaded meanwhile: that answer wins
        const known = new Set(have.map((m) => m.user.id));
        const users = { ...s.users };
        for (const m of page.members) users[m.user.id] = m.user;
        return {
          members: { ...s.members, [roomId]: [...have, ...page.members.filter((m) => !known.has(m.user.id))] },
          membersNext: { ...s.membersNext, [roomId]: page.nextCursor },
          users,
        };
      });
    } catch {
      /* not fatal: the button stays, the user may try again */
    }
  }

  private refreshMembersSoon(roomId: string): void {
    if (this.refreshTimers.has(roomId)) return;
    this.refreshTimers.set(
      roomId,
      setTimeout(() => {
        this.refreshTimers.delete(roomId);
        void this.loadMembers(roomId);
      }, 150),
    );
  }

  /** `member.joined`, `member.left`, `member.role`: the list is read again (once any fetch in flight lands). */
  membershipChanged(roomId: string): void {
    const inFlight = this.membersFetch.get(roomId);
    // A change during a fetch may not be in its answer: fetch again once it lands.
    if (inFlight) inFlight.stale = true;
    else if (this.s.members[roomId]) this.refreshMembersSoon(roomId);
  }

  /** `member.muted` / `member.unmuted`: the member's entry shows it at once. */
  muteChanged(e: RoomEvent, userId: string, until: string | null): void {
    this.set((s) => {
      const list = s.members[e.roomId];
      if (!list) return {};
      return {
        members: {
          ...s.members,
          [e.roomId]: list.map((m) => (m.user.id === userId ? { ...m, mutedUntil: until } : m)),
        },
      };
    });
  }

  // ───────────────────────────── presence ─────────────────────────────

  onPresence(n: PresenceNotice): void {
    for (const c of n.changes) this.presenceAt.set(c.userId, this.membersFetchSeq);
    this.onlineAt.set(n.roomId, this.membersFetchSeq);
    this.set((s) => {
      const presence = { ...s.presence };
      for (const c of n.changes) presence[c.userId] = c.status;
      return { presence, online: { ...s.online, [n.roomId]: n.online }, serverOnline: n.serverOnline };
    });
  }

  /** The tab went away (hidden for a while) or came back: an away tab views no room. */
  setIdle(idle: boolean): boolean {
    const was = this.idle;
    this.idle = idle;
    if (was !== idle) this.syncView();
    return was;
  }

  /**
   * Tells the server which room this tab shows (the open conversation and its member list), so that big rooms
   * send their presence changes here; nothing while the tab has been hidden for a while. Call it before
   * loading a member list, so no change falls between the list and the live updates.
   */
  syncView(): void {
    const client = this.ctx.client;
    if (!client) return;
    const active = this.s.active;
    const want = active && !this.idle ? [active] : [];
    if (want.join() !== client.viewed.join()) client.view(want);
  }

  // ───────────────────────────── typing ─────────────────────────────

  onTyping(n: TypingNotice): void {
    if (n.userId === this.s.me?.id) return;
    this.ensureUser(n.userId, n.username);
    this.set((s) => ({
      typing: { ...s.typing, [n.roomId]: { ...s.typing[n.roomId], [n.userId]: Date.now() + TYPING_TTL_MS } },
    }));
    this.scheduleTypingSweep();
  }

  /** The assistant's answer as it grows; the message at `seq` replaces it (Composer's AssistantStream). */
  onAssistantStream(f: AssistantStreamFrame): void {
    const cur = this.s.assistantStreams[f.roomId];
    // A late `streaming` frame of an answer already finished changes nothing.
    if (cur && cur.answerId === f.answerId && cur.state !== 'streaming') return;
    this.set((s) => ({ assistantStreams: { ...s.assistantStreams, [f.roomId]: f } }));
  }

  /** Their message arrived: they are no longer typing it. */
  stoppedTyping(roomId: string, userId: string): void {
    const typing = this.s.typing[roomId];
    if (typing?.[userId]) this.set((s) => ({ typing: { ...s.typing, [roomId]: omit(typing, userId) } }));
  }

  private scheduleTypingSweep(): void {
    clearTimeout(this.typingSweep);
    let next = Infinity;
    for (const room of Object.values(this.s.typing))
      for (const until of Object.values(room)) next = Math.min(next, until);
    if (next === Infinity) return;
    this.typingSweep = setTimeout(
      () => {
        const now = Date.now();
        const typing: AppState['typing'] = {};
        for (const [roomId, users] of Object.entries(this.s.typing)) {
          const live = Object.fromEntries(Object.entries(users).filter(([, until]) => until > now));
          if (Object.keys(live).length) typing[roomId] = live;
        }
        this.set({ typing });
        this.scheduleTypingSweep();
      },
      Math.max(50, next - Date.now() + 20),
    );
  }
}

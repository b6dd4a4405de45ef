/**
 * Rooms: the user's rooms and what the sidebar shows of them (latest activity, preview), which one is open,
 * invites, join requests, drafts, and the actions that add or remove a room.
 */
import type { InviteFrame } from '../../../src/protocol/frames.js';
import {
  toProfile,
  type MemberRole,
  type MyRoom,
  type NotifyLevel,
  type Room,
  type RoomEvent,
  type UserProfile,
} from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import type { People } from './people.js';
import { debounced, load, save } from './persist.js';
import type { Pins } from './pins.js';
import type { Receipts } from './receipts.js';
import { omit, Slice, type StateContext } from './slice.js';
import type { Timeline } from './timeline.js';
import type { Ui } from './ui.js';

export function roomFromUrl(): string | null {
  const m = /^\/r\/([A-Za-z0-9_-]+)\/?$/.exec(location.pathname);
  return m ? (m[1] as string) : null;
}

/**
 * A room as the server sent it merged over the one known: a snapshot older than what events already brought
 * (an HTTP answer overtaken by the socket) keeps the newer sequence and the member count that goes with it.
 */
function newer(known: MyRoom | undefined, room: MyRoom): MyRoom {
  if (!known || known.lastSeq <= room.lastSeq) return { ...known, ...room };
  return { ...known, ...room, lastSeq: known.lastSeq, memberCount: known.memberCount };
}

/** A room this user just created or joined, as `GET /me/rooms` would list it: read to its end, default level. */
function joinedNow(room: Room, myRole: 'owner' | 'member'): MyRoom {
  return {
    ...room,
    myRole,
    joinedSeq: room.lastSeq,
    readSeq: room.lastSeq,
    unread: 0,
    unreadMentions: 0,
    notify: 'all',
  };
}

export class Rooms extends Slice {
  private draftOwner: string | null = null;
  private saveDrafts = debounced(300, () => {
    if (!this.draftOwner) return;
    const drafts = this.s.drafts;
    save(`drafts.${this.draftOwner}`, Object.keys(drafts).length ? drafts : undefined);
  });

  constructor(
    ctx: StateContext,
    private readonly timeline: Timeline,
    private readonly people: People,
    private readonly receipts: Receipts,
    private readonly pins: Pins,
    private readonly ui: Ui,
  ) {
    super(ctx);
  }

  sortedRooms(): MyRoom[] {
    const { rooms, activity } = this.s;
    const at = (r: MyRoom) => activity[r.id] ?? Date.parse(r.createdAt);
    return Object.values(rooms).sort((a, b) => at(b) - at(a) || a.name.localeCompare(b.name));
  }

  open(roomId: string, opts: { push?: boolean; replace?: boolean } = {}): void {
    const url = `/r/${roomId}`;
    if (opts.replace) history.replaceState(null, '', url);
    else if (opts.push !== false && location.pathname !== url) history.pushState(null, '', url);
    this.timeline.atBottom = true;
    this.set({ active: roomId });
    this.ui.navigated();
    const me = this.s.me;
    if (me) save(`active.${me.id}`, roomId);
    this.timeline.clearDivider(roomId);
    this.timeline.openDivider(roomId);
    if (this.timeline.view(roomId).loaded) this.timeline.markReadLatest(roomId);
    else void this.timeline.loadLatest(roomId);
    this.people.syncView();
    void this.people.loadMembers(roomId);
    void this.receipts.load(roomId);
    void this.pins.load(roomId);
  }

  /** None open (no rooms left). */
  private openNone(): void {
    this.set({ active: null });
    this.people.syncView();
  }

  /** After a (re)connect: the room to show — the one open, else from the URL, the last one, the lobby, any. */
  pickAfterWelcome(rooms: MyRoom[], first: boolean, userId: string): void {
    const byId = this.s.rooms;
    const active = this.s.active;
    if (!first && active && byId[active]) {
      // Presence may have changed while we were away; history fills in by itself through the resume.
      void this.people.loadMembers(active);
      return;
    }
    const fromUrl = roomFromUrl();
    const saved = load<string>(`active.${userId}`);
    const pick =
      (fromUrl && byId[fromUrl] ? fromUrl : null) ??
      (saved && byId[saved] ? saved : null) ??
      rooms.find((r) => r.name.toLowerCase() === 'lobby')?.id ??
      rooms[0]?.id ??
      null;
    if (pick) this.open(pick, { push: false, replace: true });
    else this.openNone();
  }

  add(room: MyRoom): void {
    this.people.knowProfiles(room.members ?? []);
    this.timeline.fromServer(room);
    this.set((s) => ({
      rooms: { ...s.rooms, [room.id]: newer(s.rooms[room.id], room) },
      activity: { ...s.activity, [room.id]: s.activity[room.id] ?? Date.now() },
      invites: s.invites.filter((i) => i.roomId !== room.id),
    }));
  }

  /** `room.added`: a join request may have been approved. */
  added(room: MyRoom): void {
    if (this.s.requested[room.id]) {
      this.set((s) => ({ requested: omit(s.requested, room.id) }));
      this.ui.toast(t('join.approved', { room: room.name }), 'success');
    }
    this.add(room);
  }

  remove(roomId: string, reason: 'left' | 'removed' | 'banned'): void {
    const room = this.s.rooms[roomId];
    if (!room) return;
    this.set((s) => ({
      rooms: omit(s.rooms, roomId),
      views: omit(s.views, roomId),
      unread: omit(s.unread, roomId),
      unreadMentions: omit(s.unreadMentions, roomId),
    }));
    this.receipts.forget(roomId);
    this.pins.forget(roomId);
    this.ui.roomGone(roomId);
    if (reason === 'removed') this.ui.toast(t('rooms.removed', { room: room.name }), 'info');
    if (reason === 'banned') this.ui.toast(t('rooms.banned', { room: room.name }), 'error');
    if (this.s.active === roomId) {
      const next = this.sortedRooms()[0];
      if (next) this.open(next.id);
      else this.openNone();
    }
  }

  /** A room event moved the room's sequence on. */
  advanced(e: RoomEvent): void {
    const room = this.s.rooms[e.roomId];
    if (room && e.seq > room.lastSeq) {
      this.set((s) => ({ rooms: { ...s.rooms, [e.roomId]: { ...room, lastSeq: e.seq } } }));
    }
  }

  /** A message: the room moves up the sidebar with it as its preview. */
  messaged(e: RoomEvent): void {
    // A thread-only reply is news of its thread, not the room's latest line.
    if (e.data?.threadOnly === true) return;
    this.set((s) => ({
      activity: { ...s.activity, [e.roomId]: Math.max(s.activity[e.roomId] ?? 0, Date.parse(e.createdAt)) },
      previews: { ...s.previews, [e.roomId]: { senderId: e.senderId, body: e.body ?? '' } },
    }));
  }

  /** `member.joined` / `member.left`: the member count. */
  memberCountChanged(roomId: string, delta: number): void {
    this.set((s) => {
      const r = s.rooms[roomId];
      return r ? { rooms: { ...s.rooms, [roomId]: { ...r, memberCount: r.memberCount + delta } } } : {};
    });
  }

  /** A `profile` frame: a DM's title is its members' names. */
  profileChanged(user: UserProfile): void {
    this.set((s) => {
      let changed = false;
      const rooms = { ...s.rooms };
      for (const r of Object.values(s.rooms)) {
        if (!r.members?.some((m) => m.id === user.id)) continue;
        changed = true;
        rooms[r.id] = { ...r, members: r.members.map((m) => (m.id === user.id ? toProfile(user) : m)) };
      }
      return changed ? { rooms } : {};
    });
  }

  /** Sets this user's notification level for the room (all their devices follow by a `notify` frame). */
  async setNotify(roomId: string, level: NotifyLevel): Promise<void> {
    await this.ctx.api.setNotifyLevel(roomId, level);
    this.notifyChanged(roomId, level);
  }

  /** A `notify` frame, or the answer to setNotify: the room's level here. */
  notifyChanged(roomId: string, level: NotifyLevel): void {
    this.set((s) => {
      const r = s.rooms[roomId];
      return r && r.notify !== level ? { rooms: { ...s.rooms, [roomId]: { ...r, notify: level } } } : {};
    });
  }

  /** This user's role in the room changed. */
  myRoleChanged(roomId: string, role: MyRoom['myRole']): void {
    this.set((s) => {
      const r = s.rooms[roomId];
      return r ? { rooms: { ...s.rooms, [roomId]: { ...r, myRole: role } } } : {};
    });
  }

  /** Sets (a file) or removes (null) the room's picture (owners and admins); `room.updated` follows too. */
  async setAvatar(roomId: string, file: File | null): Promise<void> {
    const room = file
      ? await this.ctx.api.setRoomAvatar(roomId, file, file.name)
      : await this.ctx.api.clearRoomAvatar(roomId);
    this.set((s) => {
      const r = s.rooms[roomId];
      if (!r) return {};
      const next: MyRoom = { ...r };
      if (room.avatarUrl) next.avatarUrl = room.avatarUrl;
      else delete next.avatarUrl;
      return { rooms: { ...s.rooms, [roomId]: next } };
    });
  }

  /** `room.updated`: name, topic, settings and picture. */
  updated(e: RoomEvent): void {
    const d = e.data ?? {};
    // Settings come flattened in the event's data (`readOnly`, `slowModeSeconds`, `joinApproval`).
    const flat = (typeof d.settings === 'object' && d.settings ? d.settings : d) as Record<string, unknown>;
    this.set((s) => {
      const r = s.rooms[e.roomId];
      if (!r) return {};
      const settings = { ...r.settings };
      if (typeof flat.readOnly === 'boolean') settings.readOnly = flat.readOnly;
      if (typeof flat.slowModeSeconds === 'number') settings.slowModeSeconds = flat.slowModeSeconds;
      if (typeof flat.joinApproval === 'boolean') settings.joinApproval = flat.joinApproval;
      if (typeof flat.mentionAllRole === 'string') settings.mentionAllRole = flat.mentionAllRole as MemberRole;
      if (typeof flat.linkPreviews === 'boolean') settings.linkPreviews = flat.linkPreviews;
      const next: MyRoom = {
        ...r,
        ...(typeof d.name === 'string' ? { name: d.name } : {}),
        ...(typeof d.topic === 'string' ? { topic: d.topic } : {}),
        settings,
      };
      // The picture: a new URL, or null when it was removed.
      if (typeof d.avatarUrl === 'string') next.avatarUrl = d.avatarUrl;
      else if (d.avatarUrl === null) delete next.avatarUrl;
      return { rooms: { ...s.rooms, [e.roomId]: next } };
    });
  }

  /** Sidebar data for a room: its latest message (preview, activity time) and what is unread since last time. */
  async summarize(room: MyRoom): Promise<void> {
    const live = this.live();
    try {
      const [latest] = await this.ctx.api.messages(room.id, { limit: 1 });
      if (!live()) return;
      if (latest) {
        this.people.ensureUser(latest.senderId);
        this.set((s) => ({
          activity: { ...s.activity, [room.id]: Math.max(s.activity[room.id] ?? 0, Date.parse(latest.createdAt)) },
          previews: s.previews[room.id] ? s.previews : { ...s.previews, [room.id]: latest },
        }));
      } else {
        this.set((s) => ({
          activity: { ...s.activity, [room.id]: s.activity[room.id] ?? Date.parse(room.createdAt) },
        }));
      }
      const read = this.timeline.readOf(room.id) ?? room.lastSeq;
      if (room.lastSeq > read && this.s.active !== room.id) {
        const missed = await this.ctx.api.messages(room.id, { after: read, limit: 100 });
        if (!live()) return;
        this.timeline.countUnread(
          room.id,
          missed.filter((m) => m.senderId !== this.s.me?.id).map((m) => m.seq),
        );
      }
    } catch {
      /* a room we can no longer read: the sidebar just shows no preview */
    }
  }

  setDraft(roomId: string, text: string): void {
    this.set((s) => ({ drafts: text ? { ...s.drafts, [roomId]: text } : omit(s.drafts, roomId) }));
    this.saveDrafts();
    if (!text) this.saveDrafts.flush(); // sent or emptied: a reload right after must not bring it back
  }

  /** The signed-in user's unsent drafts, kept in this browser per user and room (`drafts.<userId>`). */
  beginDrafts(userId: string): Record<string, string> {
    this.draftOwner = userId;
    const saved = load<Record<string, string>>(`drafts.${userId}`);
    return saved && typeof saved === 'object' ? saved : {};
  }

  /** Signing out leaves no draft behind in the browser (a shared computer). */
  endDrafts(): void {
    if (this.draftOwner) save(`drafts.${this.draftOwner}`, undefined);
    this.draftOwner = null;
  }

  /** The page is going away: what was typed in the last moments is kept. */
  flushDrafts(): void {
    this.saveDrafts.flush();
  }

  // ───────────────────────────── actions ─────────────────────────────

  async create(name: string, visibility: 'public' | 'private', topic: string): Promise<void> {
    const room = await this.ctx.api.createRoom(name, visibility, topic || undefined);
    this.add(joinedNow(room, 'owner'));
    this.open(room.id);
  }

  search(q: string): Promise<Room[]> {
    return this.ctx.api.searchRooms(q, { limit: 50 }).then((r) => r.rooms);
  }

  /** Joins a public room; one that needs approval records a request instead (`'pending'`). */
  async join(roomId: string): Promise<'joined' | 'pending'> {
    if (this.s.rooms[roomId]) {
      this.open(roomId);
      return 'joined';
    }
    const r = await this.ctx.api.requestJoin(roomId);
    if (!('room' in r)) {
      this.set((s) => ({ requested: { ...s.requested, [roomId]: true } }));
      this.ui.toast(t('join.requested'), 'success');
      return 'pending';
    }
    const room = r.room;
    this.add(joinedNow(room, 'member'));
    this.open(room.id);
    return 'joined';
  }

  async leave(roomId: string): Promise<void> {
    await this.ctx.api.leave(roomId);
    this.remove(roomId, 'left');
  }

  async openDm(username: string): Promise<void> {
    const room = await this.ctx.api.openDm(username);
    this.add(room);
    this.open(room.id);
  }

  // ───────────────────────────── invites ─────────────────────────────

  async invite(roomId: string, username: string): Promise<void> {
    await this.ctx.api.invite(roomId, username);
  }

  async acceptInvite(roomId: string): Promise<void> {
    const room = await this.ctx.api.acceptInvite(roomId);
    this.add(joinedNow(room, 'member'));
    this.open(room.id);
  }

  async declineInvite(roomId: string): Promise<void> {
    await this.ctx.api.declineInvite(roomId);
    this.set((s) => ({ invites: s.invites.filter((i) => i.roomId !== roomId) }));
  }

  async loadInvites(): Promise<void> {
    const live = this.live();
    try {
      const invites = await this.ctx.api.invites();
      if (!live()) return;
      this.people.knowUsers(invites.map((i) => i.inviter));
      this.set({ invites: invites.map((i) => ({ roomId: i.room.id, roomName: i.room.name, inviter: i.inviter })) });
    } catch {
      /* shown again on the next connect */
    }
  }

  invited(f: InviteFrame): void {
    this.people.ensureUser(f.inviter.id);
    this.people.knowUsers([f.inviter]);
    this.set((s) => ({ invites: [...s.invites.filter((i) => i.roomId !== f.roomId), { ...f }] }));
    this.ui.toast(t('invites.toast', { user: f.inviter.displayName, room: f.roomName }), 'info');
  }
}

/**
 * The app's state and every action on it. All server traffic goes through the project's SDK: `ChatApi` for
 * HTTP and `ChatClient` for the socket, so the browser gets the same guarantees as any client — resume by
 * per-room seq (persisted, so a reload resumes too), an outbox of unacknowledged sends re-sent with the same
 * clientMsgId, and exactly-once, in-order events. On top, the UI store dedupes messages by room+seq and
 * reconciles its optimistic messages with acks and echoes by clientMsgId.
 */
import { ApiError, ChatApi } from '../../../src/client/api.js';
import { ChatClient, SendError, type ConnectionState } from '../../../src/client/chat-client.js';
import type { InviteFrame, PresenceNotice, TypingNotice, WelcomeFrame } from '../../../src/protocol/frames.js';
import { TYPING_TTL_MS } from '../../../src/protocol/timing.js';
import type {
  Announcement,
  Member,
  MemberRole,
  MyRoom,
  PresenceStatus,
  PublicUser,
  Room,
  RoomEvent,
} from '../../../src/protocol/model.js';
import { detectLocale, setLocale as applyLocale, t, type Locale, type MsgKey } from '../i18n/index.js';
import { formatFull } from './format.js';
import { debounced, load, remove, save } from './persist.js';
import { markDeleted, mergeMessages, toUi, type UiMessage } from './messages.js';
import { slowModeFor } from './permissions.js';
import { Store } from './store.js';

export const PAGE_SIZE = 50;
/** Typing notices are sent at most this often while the user types (the server also drops extras). */
const TYPING_SEND_EVERY_MS = 3000;

export interface RoomView {
  /** Stored messages in seq order, then this user's pending/failed ones in the order sent. */
  messages: UiMessage[];
  hasMore: boolean;
  loading: boolean;
  loaded: boolean;
}

export interface PendingInvite {
  roomId: string;
  roomName: string;
  inviter: PublicUser;
}

export interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'error' | 'success';
}

export type Dialog =
  | { kind: 'directory' }
  | { kind: 'create' }
  | { kind: 'dm' }
  | { kind: 'invite'; roomId: string }
  | { kind: 'leave'; roomId: string }
  | { kind: 'settings' }
  // Moderation and administration: their views load on first use (app/Moderation.tsx, app/Admin.tsx).
  | { kind: 'roomSettings'; roomId: string }
  | { kind: 'member'; roomId: string; userId: string }
  | { kind: 'report'; roomId: string; seq: number }
  | { kind: 'deleteMessage'; roomId: string; seq: number }
  | { kind: 'reports' }
  | { kind: 'admin' }
  | null;

export type Theme = 'light' | 'dark';

export interface AppState {
  phase: 'boot' | 'auth' | 'connecting' | 'ready';
  authNotice: MsgKey | null;
  me: PublicUser | null;
  conn: ConnectionState;
  rooms: Record<string, MyRoom>;
  /** Time of the latest message per room (ms), for "latest activity first". */
  activity: Record<string, number>;
  previews: Record<string, { senderId: string; body: string }>;
  views: Record<string, RoomView>;
  unread: Record<string, number>;
  members: Record<string, Member[]>;
  online: Record<string, number>;
  serverOnline: number;
  presence: Record<string, PresenceStatus>;
  users: Record<string, PublicUser>;
  typing: Record<string, Record<string, number>>;
  invites: PendingInvite[];
  announcements: Announcement[];
  toasts: Toast[];
  active: string | null;
  drafts: Record<string, string>;
  sidebarOpen: boolean;
  membersOpen: boolean;
  dialog: Dialog;
  theme: Theme;
  locale: Locale;
  maxChars: number;
  /** Public rooms this user asked to join that need a moderator's approval (answered 202 pending). */
  requested: Record<string, true>;
  /** Per room: when slow mode lets this user post again (epoch ms). */
  slowUntil: Record<string, number>;
}

interface SavedSession {
  token: string;
  user: PublicUser;
}

interface SavedSend {
  roomId: string;
  clientMsgId: string;
  body: string;
  createdAt: string;
}

function randomId(): string {
  // getRandomValues works on plain http too (randomUUID needs a secure context).
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return 'w' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Below this width the member list covers the conversation, so it starts closed and closes on navigation. */
function membersOverlay(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(max-width: 1100px)').matches;
}

function systemTheme(): Theme {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const EMPTY_VIEW: RoomView = { messages: [], hasMore: true, loading: false, loaded: false };

/** Send refusals that are about this user or this room (moderation), worth a toast besides the failed message. */
const MODERATION_CODES = new Set(['muted', 'read_only', 'banned', 'content_blocked', 'too_many_mentions', 'flood']);

/** The sign-in screen's explanation for a socket the server closed for good. */
const CLOSE_NOTICES: Record<number, MsgKey> = {
  4001: 'auth.sessionEnded',
  4003: 'auth.sessionEnded',
  4006: 'auth.accountDisabled',
  4007: 'auth.sessionExpired',
};

export class Chat {
  readonly store: Store<AppState>;
  readonly api = new ChatApi(location.origin);
  private client: ChatClient | null = null;
  private offs: (() => void)[] = [];
  /** Last read seq per room, and the seqs of others' messages after it that we know of (the unread count). */
  private read: Record<string, number> = {};
  private unseen = new Map<string, Set<number>>();
  private lastTypingSent = new Map<string, number>();
  private typingSweep: ReturnType<typeof setTimeout> | undefined;
  private fetchingUsers = new Set<string>();
  /** Seqs deleted while this page runs, per room: a history page fetched just before a delete is shown redacted. */
  private deletedSeqs = new Map<string, Set<number>>();
  private loadingMembers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Member-list fetches in flight per room: the latest request's number, and whether a member event came meanwhile. */
  private membersFetch = new Map<string, { seq: number; stale: boolean }>();
  private membersFetchSeq = 0;
  /**
   * The fetch number current when a user's presence (or a room's online count) last came as an event: a member-list
   * answer from a fetch started before that carries an older value and must not overwrite it.
   */
  private presenceAt = new Map<string, number>();
  private onlineAt = new Map<string, number>();
  private toastId = 0;
  private awayTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set by the message list: whether the active room is scrolled to its newest message. */
  atBottom = true;
  private savePositions = debounced(400, () => this.persistPositions());
  private saveRead = debounced(400, () => this.me && save(`read.${this.me.id}`, this.read));

  constructor() {
    const theme = load<Theme>('theme') ?? systemTheme();
    const locale = load<Locale>('locale') ?? detectLocale();
    applyLocale(locale);
    this.store = new Store<AppState>({
      phase: 'boot',
      authNotice: null,
      me: null,
      conn: 'idle',
      rooms: {},
      activity: {},
      previews: {},
      views: {},
      unread: {},
      members: {},
      online: {},
      serverOnline: 0,
      presence: {},
      users: {},
      typing: {},
      invites: [],
      announcements: [],
      toasts: [],
      active: null,
      drafts: {},
      sidebarOpen: false,
      membersOpen: !membersOverlay() && (load<boolean>('membersOpen') ?? true),
      dialog: null,
      theme,
      locale,
      maxChars: 4000,
      requested: {},
      slowUntil: {},
    });
    window.addEventListener('popstate', () => {
      const id = this.roomFromUrl();
      if (id && this.s.rooms[id]) this.open(id, { push: false });
    });
    window.addEventListener('pagehide', () => {
      this.savePositions.flush();
      this.saveRead.flush();
    });
    document.addEventListener('visibilitychange', () => this.onVisibility());
  }

  private get s(): AppState {
    return this.store.state;
  }
  private get me(): PublicUser | null {
    return this.s.me;
  }
  private set(patch: Partial<AppState> | ((s: AppState) => Partial<AppState>)): void {
    this.store.update(patch);
  }

  // ───────────────────────────── session ─────────────────────────────

  boot(): void {
    const session = load<SavedSession>('session');
    if (!session?.token) return this.set({ phase: 'auth' });
    this.start(session.token, session.user);
  }

  async login(username: string, password: string): Promise<void> {
    const r = await this.api.login(username, password, this.deviceLabel());
    save('session', { token: r.token, user: r.user } satisfies SavedSession);
    this.start(r.token, r.user);
  }

  async register(username: string, password: string, displayName?: string): Promise<void> {
    const r = await this.api.register(username, password, displayName);
    save('session', { token: r.token, user: r.user } satisfies SavedSession);
    this.start(r.token, r.user);
  }

  private deviceLabel(): string {
    const ua = navigator.userAgent;
    const browser = /Firefox\//.test(ua)
      ? 'Firefox'
      : /Edg\//.test(ua)
        ? 'Edge'
        : /Chrom/.test(ua)
          ? 'Chrome'
          : 'Browser';
    return `${browser} (web)`;
  }

  private start(token: string, user: PublicUser): void {
    this.api.token = token;
    this.read = load<Record<string, number>>(`read.${user.id}`) ?? {};
    this.unseen.clear();
    this.set((s) => ({ phase: 'connecting', authNotice: null, me: user, users: { ...s.users, [user.id]: user } }));
    const client = new ChatClient({
      url: location.origin,
      token,
      userId: user.id,
      resume: load<Record<string, number>>(`positions.${user.id}`) ?? {},
      backoff: { minMs: 500, maxMs: 5000 },
      sendTimeoutMs: 60_000,
    });
    this.client = client;
    this.offs = [
      client.on('welcome', (w) => this.onWelcome(w)),
      client.on('event', (e) => this.onEvent(e)),
      client.on('typing', (n) => this.onTyping(n)),
      client.on('presence', (n) => this.onPresence(n)),
      client.on('room.added', (f) => {
        if (this.s.requested[f.room.id]) {
          this.set((s) => ({ requested: omit(s.requested, f.room.id) }));
          this.toast(t('join.approved', { room: f.room.name }), 'success');
        }
        this.addRoom(f.room);
      }),
      client.on('room.removed', (f) => this.removeRoom(f.roomId, f.reason)),
      client.on('invite', (f) => this.onInvite(f)),
      client.on('announcement', (f) =>
        this.set((s) => ({ announcements: [...s.announcements.slice(-2), f.announcement] })),
      ),
      client.on('state', (conn) => this.set({ conn })),
      client.on('error', (f) => {
        if (f.code !== 'rate_limited') this.toast(errorText(new SendError(f.code, f.message)), 'error');
      }),
      client.on('send.delayed', (d) => {
        if (d.code !== 'slow_mode') return;
        const until = Date.now() + d.retryAfterMs;
        if ((this.s.slowUntil[d.roomId] ?? 0) < Date.now()) {
          this.toast(t('errors.slowModeWait', { seconds: Math.ceil(d.retryAfterMs / 1000) }), 'info');
        }
        this.set((s) => ({ slowUntil: { ...s.slowUntil, [d.roomId]: Math.max(until, s.slowUntil[d.roomId] ?? 0) } }));
      }),
      client.on('disconnect', (d) => {
        const notice = CLOSE_NOTICES[d.code];
        if (!d.willReconnect && notice) this.endSession(notice);
      }),
    ];
    // Sends that were still unacknowledged when the page last closed: the same clientMsgId makes them safe.
    for (const p of load<SavedSend[]>(`outbox.${user.id}`) ?? []) {
      this.addLocal({
        key: p.clientMsgId,
        id: null,
        seq: null,
        roomId: p.roomId,
        senderId: user.id,
        body: p.body,
        clientMsgId: p.clientMsgId,
        createdAt: p.createdAt,
        status: 'pending',
      });
      this.transmit(p.roomId, p.clientMsgId, p.body);
    }
    client.connect().catch(() => {
      /* refused: the 'disconnect' handler ends the session */
    });
  }

  async logout(everywhere = false): Promise<void> {
    try {
      if (everywhere) await this.api.logoutEverywhere();
      else await this.api.logout();
    } catch {
      /* the session may already be gone; log out locally regardless */
    }
    this.endSession(null);
  }

  private endSession(notice: MsgKey | null): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.client?.close();
    this.client = null;
    this.savePositions.flush();
    this.saveRead.flush();
    remove('session');
    this.api.token = undefined;
    clearTimeout(this.typingSweep);
    this.set({
      phase: 'auth',
      authNotice: notice,
      me: null,
      conn: 'idle',
      rooms: {},
      activity: {},
      previews: {},
      views: {},
      unread: {},
      members: {},
      online: {},
      presence: {},
      typing: {},
      invites: [],
      announcements: [],
      active: null,
      drafts: {},
      dialog: null,
      requested: {},
      slowUntil: {},
    });
    if (location.pathname !== '/') history.replaceState(null, '', '/');
  }

  private persistPositions(): void {
    if (this.client && this.me) save(`positions.${this.me.id}`, this.client.positions);
  }

  private persistOutbox(): void {
    const me = this.me;
    if (!me) return;
    const pending: SavedSend[] = [];
    for (const view of Object.values(this.s.views)) {
      for (const m of view.messages) {
        if (m.status === 'pending')
          pending.push({ roomId: m.roomId, clientMsgId: m.clientMsgId, body: m.body, createdAt: m.createdAt });
      }
    }
    save(`outbox.${me.id}`, pending.length ? pending : undefined);
  }

  // ───────────────────────────── socket events ─────────────────────────────

  private onWelcome(w: WelcomeFrame): void {
    const first = this.s.phase !== 'ready';
    const rooms = Object.fromEntries(w.rooms.map((r) => [r.id, r]));
    for (const r of w.rooms) this.read[r.id] ??= r.lastSeq; // a new device starts with everything read
    this.saveRead();
    const users: Record<string, PublicUser> = { [w.user.id]: w.user };
    for (const r of w.rooms) for (const u of r.members ?? []) users[u.id] = u;
    this.set((s) => ({
      phase: 'ready',
      me: w.user,
      rooms,
      serverOnline: w.online,
      maxChars: w.limits.maxMessageChars,
      users: { ...s.users, ...users },
    }));
    const session = load<SavedSession>('session');
    if (session) save('session', { ...session, user: w.user });
    void this.loadInvites();
    const known = this.s.activity;
    void this.eachLimited(
      w.rooms.filter((r) => first || known[r.id] === undefined),
      4,
      (r) => this.summarize(r),
    );
    const active = this.s.active;
    if (first || !active || !rooms[active]) {
      const fromUrl = this.roomFromUrl();
      const saved = load<string>(`active.${w.user.id}`);
      const pick =
        (fromUrl && rooms[fromUrl] ? fromUrl : null) ??
        (saved && rooms[saved] ? saved : null) ??
        w.rooms.find((r) => r.name.toLowerCase() === 'lobby')?.id ??
        w.rooms[0]?.id ??
        null;
      if (pick) this.open(pick, { push: false, replace: true });
      else this.set({ active: null });
    } else {
      // Presence may have changed while we were away; history fills in by itself through the resume.
      void this.loadMembers(active);
    }
  }

  private onEvent(e: RoomEvent): void {
    const room = this.s.rooms[e.roomId];
    this.savePositions();
    if (room && e.seq > room.lastSeq) {
      this.set((s) => ({ rooms: { ...s.rooms, [e.roomId]: { ...room, lastSeq: e.seq } } }));
    }
    switch (e.type) {
      case 'message': {
        this.addStored(e.roomId, [toUi(e)]);
        this.ensureUser(e.senderId);
        const typing = this.s.typing[e.roomId];
        this.set((s) => ({
          activity: { ...s.activity, [e.roomId]: Math.max(s.activity[e.roomId] ?? 0, Date.parse(e.createdAt)) },
          previews: { ...s.previews, [e.roomId]: { senderId: e.senderId, body: e.body ?? '' } },
          ...(typing?.[e.senderId] ? { typing: { ...s.typing, [e.roomId]: omit(typing, e.senderId) } } : {}),
        }));
        if (e.senderId === this.me?.id || this.isReading(e.roomId)) this.markRead(e.roomId, e.seq);
        else this.countUnread(e.roomId, [e.seq]);
        return;
      }
      case 'message.deleted': {
        const seq = typeof e.data?.seq === 'number' ? e.data.seq : null;
        if (seq === null) return;
        let gone = this.deletedSeqs.get(e.roomId);
        if (!gone) this.deletedSeqs.set(e.roomId, (gone = new Set()));
        gone.add(seq);
        this.setView(e.roomId, (v) => ({ messages: markDeleted(v.messages, seq) }));
        const set = this.unseen.get(e.roomId);
        if (set?.delete(seq)) this.countUnread(e.roomId, []);
        return;
      }
      case 'member.muted':
      case 'member.unmuted': {
        const userId = String(e.data?.userId ?? '');
        const until = e.type === 'member.muted' && typeof e.data?.until === 'string' ? e.data.until : null;
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
        if (userId === this.me?.id && room) {
          if (until) this.toast(t('mod.youMuted', { room: room.name, until: untilText(until) }), 'error');
          else this.toast(t('mod.youUnmuted', { room: room.name }), 'info');
          if (!this.s.members[e.roomId]) void this.loadMembers(e.roomId);
        }
        return;
      }
      case 'member.joined':
      case 'member.left':
      case 'member.role': {
        if (e.type === 'member.role' && room && e.data?.userId === this.me?.id && typeof e.data?.role === 'string') {
          const role = e.data.role as MemberRole;
          this.set((s) => {
            const r = s.rooms[e.roomId];
            return r ? { rooms: { ...s.rooms, [e.roomId]: { ...r, myRole: role } } } : {};
          });
          this.toast(t('mod.yourRole', { room: room.name, role: t(`roles.${role}`) }), 'info');
        }
        if (room && e.type !== 'member.role') {
          const delta = e.type === 'member.joined' ? 1 : -1;
          this.set((s) => {
            const r = s.rooms[e.roomId];
            return r ? { rooms: { ...s.rooms, [e.roomId]: { ...r, memberCount: r.memberCount + delta } } } : {};
          });
        }
        const inFlight = this.membersFetch.get(e.roomId);
        // A change during a fetch may not be in its answer: fetch again once it lands.
        if (inFlight) inFlight.stale = true;
        else if (this.s.members[e.roomId]) this.refreshMembersSoon(e.roomId);
        return;
      }
      case 'room.updated': {
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
          return {
            rooms: {
              ...s.rooms,
              [e.roomId]: {
                ...r,
                ...(typeof d.name === 'string' ? { name: d.name } : {}),
                ...(typeof d.topic === 'string' ? { topic: d.topic } : {}),
                settings,
              },
            },
          };
        });
        return;
      }
      default:
        return;
    }
  }

  private onTyping(n: TypingNotice): void {
    if (n.userId === this.me?.id) return;
    this.ensureUser(n.userId, n.username);
    this.set((s) => ({
      typing: { ...s.typing, [n.roomId]: { ...s.typing[n.roomId], [n.userId]: Date.now() + TYPING_TTL_MS } },
    }));
    this.scheduleTypingSweep();
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

  private onPresence(n: PresenceNotice): void {
    for (const c of n.changes) this.presenceAt.set(c.userId, this.membersFetchSeq);
    this.onlineAt.set(n.roomId, this.membersFetchSeq);
    this.set((s) => {
      const presence = { ...s.presence };
      for (const c of n.changes) presence[c.userId] = c.status;
      return { presence, online: { ...s.online, [n.roomId]: n.online }, serverOnline: n.serverOnline };
    });
  }

  private onInvite(f: InviteFrame): void {
    this.ensureUser(f.inviter.id);
    this.set((s) => ({
      users: { ...s.users, [f.inviter.id]: f.inviter },
      invites: [...s.invites.filter((i) => i.roomId !== f.roomId), { ...f }],
    }));
    this.toast(t('invites.toast', { user: f.inviter.displayName, room: f.roomName }), 'info');
  }

  private addRoom(room: MyRoom): void {
    const users: Record<string, PublicUser> = {};
    for (const u of room.members ?? []) users[u.id] = u;
    this.read[room.id] ??= 0;
    this.set((s) => ({
      rooms: { ...s.rooms, [room.id]: { ...s.rooms[room.id], ...room } },
      activity: { ...s.activity, [room.id]: s.activity[room.id] ?? Date.now() },
      users: { ...s.users, ...users },
      invites: s.invites.filter((i) => i.roomId !== room.id),
    }));
  }

  private removeRoom(roomId: string, reason: 'left' | 'removed' | 'banned'): void {
    const room = this.s.rooms[roomId];
    if (!room) return;
    this.set((s) => ({
      rooms: omit(s.rooms, roomId),
      views: omit(s.views, roomId),
      unread: omit(s.unread, roomId),
      dialog: s.dialog && 'roomId' in s.dialog && s.dialog.roomId === roomId ? null : s.dialog,
    }));
    if (reason === 'removed') this.toast(t('rooms.removed', { room: room.name }), 'info');
    if (reason === 'banned') this.toast(t('rooms.banned', { room: room.name }), 'error');
    if (this.s.active === roomId) {
      const next = this.sortedRooms()[0];
      if (next) this.open(next.id);
      else this.set({ active: null });
    }
  }

  private onVisibility(): void {
    clearTimeout(this.awayTimer);
    if (document.visibilityState === 'visible') {
      this.client?.setPresence('online');
      const active = this.s.active;
      if (active && this.atBottom) this.markReadLatest(active);
    } else {
      this.awayTimer = setTimeout(() => this.client?.setPresence('away'), 120_000);
    }
  }

  // ───────────────────────────── rooms & history ─────────────────────────────

  sortedRooms(): MyRoom[] {
    const { rooms, activity } = this.s;
    const at = (r: MyRoom) => activity[r.id] ?? Date.parse(r.createdAt);
    return Object.values(rooms).sort((a, b) => at(b) - at(a) || a.name.localeCompare(b.name));
  }

  private roomFromUrl(): string | null {
    const m = /^\/r\/([A-Za-z0-9_-]+)\/?$/.exec(location.pathname);
    return m ? (m[1] as string) : null;
  }

  open(roomId: string, opts: { push?: boolean; replace?: boolean } = {}): void {
    const url = `/r/${roomId}`;
    if (opts.replace) history.replaceState(null, '', url);
    else if (opts.push !== false && location.pathname !== url) history.pushState(null, '', url);
    this.atBottom = true;
    this.set((s) => ({ active: roomId, sidebarOpen: false, membersOpen: s.membersOpen && !membersOverlay() }));
    if (this.me) save(`active.${this.me.id}`, roomId);
    if (this.view(roomId).loaded) this.markReadLatest(roomId);
    else void this.loadLatest(roomId);
    void this.loadMembers(roomId);
  }

  private view(roomId: string): RoomView {
    return this.s.views[roomId] ?? EMPTY_VIEW;
  }

  private setView(roomId: string, fn: (v: RoomView) => Partial<RoomView>): void {
    this.set((s) => {
      const v = s.views[roomId] ?? EMPTY_VIEW;
      return { views: { ...s.views, [roomId]: { ...v, ...fn(v) } } };
    });
  }

  private addStored(roomId: string, msgs: UiMessage[]): void {
    this.setView(roomId, (v) => ({ messages: mergeMessages(v.messages, this.redact(roomId, msgs)) }));
  }

  private redact(roomId: string, msgs: UiMessage[]): UiMessage[] {
    const gone = this.deletedSeqs.get(roomId);
    if (!gone?.size) return msgs;
    return msgs.map((m) => (m.seq !== null && gone.has(m.seq) ? { ...m, body: '', deleted: true } : m));
  }

  private addLocal(m: UiMessage): void {
    this.setView(m.roomId, (v) => ({ messages: [...v.messages.filter((x) => x.key !== m.key), m] }));
  }

  async loadLatest(roomId: string): Promise<void> {
    const v = this.view(roomId);
    if (v.loaded || v.loading) return;
    this.setView(roomId, () => ({ loading: true }));
    try {
      const page = await this.api.messages(roomId, { limit: PAGE_SIZE });
      for (const m of page) this.ensureUser(m.senderId);
      this.setView(roomId, (cur) => ({
        messages: mergeMessages(cur.messages, this.redact(roomId, page.map(toUi))),
        hasMore: page.length === PAGE_SIZE,
        loaded: true,
        loading: false,
      }));
      if (this.isReading(roomId)) this.markReadLatest(roomId);
    } catch (err) {
      this.setView(roomId, () => ({ loading: false }));
      this.fail(err);
    }
  }

  async loadOlder(roomId: string): Promise<void> {
    const v = this.view(roomId);
    if (!v.loaded || v.loading || !v.hasMore) return;
    const oldest = v.messages.find((m) => m.seq !== null)?.seq;
    if (oldest === undefined || oldest === null || oldest <= 1) return this.setView(roomId, () => ({ hasMore: false }));
    this.setView(roomId, () => ({ loading: true }));
    try {
      const page = await this.api.messages(roomId, { before: oldest, limit: PAGE_SIZE });
      for (const m of page) this.ensureUser(m.senderId);
      this.setView(roomId, (cur) => ({
        messages: mergeMessages(cur.messages, this.redact(roomId, page.map(toUi))),
        hasMore: page.length === PAGE_SIZE,
        loading: false,
      }));
    } catch (err) {
      this.setView(roomId, () => ({ loading: false }));
      this.fail(err);
    }
  }

  async loadMembers(roomId: string): Promise<void> {
    const seq = ++this.membersFetchSeq;
    this.membersFetch.set(roomId, { seq, stale: false });
    try {
      const { members, online } = await this.api.members(roomId);
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
          online: fresher ? s.online : { ...s.online, [roomId]: online },
          users,
          presence,
        };
      });
    } catch {
      /* not fatal: the list stays as it was */
      if (this.membersFetch.get(roomId)?.seq === seq) this.membersFetch.delete(roomId);
    }
  }

  private refreshMembersSoon(roomId: string): void {
    if (this.loadingMembers.has(roomId)) return;
    this.loadingMembers.set(
      roomId,
      setTimeout(() => {
        this.loadingMembers.delete(roomId);
        void this.loadMembers(roomId);
      }, 150),
    );
  }

  /** Sidebar data for a room: its latest message (preview, activity time) and what is unread since last time. */
  private async summarize(room: MyRoom): Promise<void> {
    try {
      const [latest] = await this.api.messages(room.id, { limit: 1 });
      if (latest) {
        this.ensureUser(latest.senderId);
        this.set((s) => ({
          activity: { ...s.activity, [room.id]: Math.max(s.activity[room.id] ?? 0, Date.parse(latest.createdAt)) },
          previews: s.previews[room.id] ? s.previews : { ...s.previews, [room.id]: latest },
        }));
      } else {
        this.set((s) => ({
          activity: { ...s.activity, [room.id]: s.activity[room.id] ?? Date.parse(room.createdAt) },
        }));
      }
      const read = this.read[room.id] ?? room.lastSeq;
      if (room.lastSeq > read && this.s.active !== room.id) {
        const missed = await this.api.messages(room.id, { after: read, limit: 100 });
        this.countUnread(
          room.id,
          missed.filter((m) => m.senderId !== this.me?.id).map((m) => m.seq),
        );
      }
    } catch {
      /* a room we can no longer read: the sidebar just shows no preview */
    }
  }

  private async eachLimited<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
    const queue = [...items];
    await Promise.all(
      Array.from({ length: Math.min(n, queue.length) }, async () => {
        for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
      }),
    );
  }

  // ───────────────────────────── unread ─────────────────────────────

  private isReading(roomId: string): boolean {
    return this.s.active === roomId && this.atBottom && document.visibilityState === 'visible';
  }

  private countUnread(roomId: string, seqs: number[]): void {
    const read = this.read[roomId] ?? 0;
    let set = this.unseen.get(roomId);
    if (!set) this.unseen.set(roomId, (set = new Set()));
    for (const seq of seqs) if (seq > read) set.add(seq);
    const n = set.size;
    if ((this.s.unread[roomId] ?? 0) !== n) this.set((s) => ({ unread: { ...s.unread, [roomId]: n } }));
  }

  markRead(roomId: string, seq: number): void {
    if (seq > (this.read[roomId] ?? 0)) {
      this.read[roomId] = seq;
      this.saveRead();
    }
    const set = this.unseen.get(roomId);
    if (set) for (const s of set) if (s <= seq) set.delete(s);
    const n = set?.size ?? 0;
    if ((this.s.unread[roomId] ?? 0) !== n) this.set((s) => ({ unread: { ...s.unread, [roomId]: n } }));
  }

  /** The message list reached the bottom of the active room: everything in it is read. */
  markReadLatest(roomId: string): void {
    const msgs = this.view(roomId).messages;
    for (let i = msgs.length - 1; i >= 0; i--) {
      const seq = msgs[i]?.seq;
      if (seq != null) return this.markRead(roomId, Math.max(seq, this.s.rooms[roomId]?.lastSeq ?? 0));
    }
    const last = this.s.rooms[roomId]?.lastSeq;
    if (last) this.markRead(roomId, last);
  }

  // ───────────────────────────── sending ─────────────────────────────

  send(roomId: string, text: string): void {
    const me = this.me;
    const body = text.replace(/\s+$/, '');
    if (!me || !body.trim()) return;
    const clientMsgId = randomId();
    this.atBottom = true;
    this.addLocal({
      key: clientMsgId,
      id: null,
      seq: null,
      roomId,
      senderId: me.id,
      body,
      clientMsgId,
      createdAt: new Date().toISOString(),
      status: 'pending',
    });
    this.lastTypingSent.delete(roomId);
    this.persistOutbox();
    this.transmit(roomId, clientMsgId, body);
  }

  /** Resends a failed message with its original clientMsgId: if the first try was stored, nothing doubles. */
  retry(roomId: string, key: string): void {
    const m = this.view(roomId).messages.find((x) => x.key === key);
    if (!m || m.status !== 'failed') return;
    this.addLocal({ ...m, status: 'pending', error: undefined });
    this.persistOutbox();
    this.transmit(roomId, m.clientMsgId, m.body);
  }

  discard(roomId: string, key: string): void {
    this.setView(roomId, (v) => ({ messages: v.messages.filter((m) => m.key !== key || m.status !== 'failed') }));
    this.persistOutbox();
  }

  private transmit(roomId: string, clientMsgId: string, body: string): void {
    const client = this.client;
    if (!client) return;
    client.send(roomId, body, clientMsgId).then(
      (ack) => {
        if (this.client !== client) return;
        const me = this.me;
        this.addStored(roomId, [
          {
            key: clientMsgId,
            id: ack.id,
            seq: ack.seq,
            roomId,
            senderId: me?.id ?? '',
            body,
            clientMsgId,
            createdAt: ack.createdAt,
            status: 'sent',
          },
        ]);
        this.markRead(roomId, ack.seq);
        this.persistOutbox();
        const room = this.s.rooms[roomId];
        const slow = room ? slowModeFor(room) : 0;
        if (slow > 0) this.set((s) => ({ slowUntil: { ...s.slowUntil, [roomId]: Date.now() + slow * 1000 } }));
      },
      (err: unknown) => {
        if (this.client !== client) return;
        const code = err instanceof SendError ? err.code : 'internal';
        if (code === 'closed' || code === 'unauthorized') return;
        if (MODERATION_CODES.has(code)) this.toast(errorText(err), 'error');
        this.setView(roomId, (v) => ({
          messages: v.messages.map((m) =>
            m.key === clientMsgId && m.seq === null ? { ...m, status: 'failed', error: errorText(err) } : m,
          ),
        }));
        this.persistOutbox();
      },
    );
  }

  typing(roomId: string): void {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(roomId) ?? 0) < TYPING_SEND_EVERY_MS) return;
    this.lastTypingSent.set(roomId, now);
    this.client?.typing(roomId);
  }

  setDraft(roomId: string, text: string): void {
    this.set((s) => ({ drafts: { ...s.drafts, [roomId]: text } }));
  }

  // ───────────────────────────── room actions ─────────────────────────────

  async createRoom(name: string, visibility: 'public' | 'private', topic: string): Promise<void> {
    const room = await this.api.createRoom(name, visibility, topic || undefined);
    this.addRoom({ ...room, myRole: 'owner', joinedSeq: room.lastSeq });
    this.read[room.id] = room.lastSeq;
    this.open(room.id);
  }

  searchRooms(q: string): Promise<Room[]> {
    return this.api.searchRooms(q, { limit: 50 }).then((r) => r.rooms);
  }

  searchUsers(q: string): Promise<PublicUser[]> {
    return this.api.searchUsers(q, 20);
  }

  /** Joins a public room; one that needs approval records a request instead (`'pending'`). */
  async join(roomId: string): Promise<'joined' | 'pending'> {
    if (this.s.rooms[roomId]) {
      this.open(roomId);
      return 'joined';
    }
    const r = await this.api.requestJoin(roomId);
    if (!('room' in r)) {
      this.set((s) => ({ requested: { ...s.requested, [roomId]: true } }));
      this.toast(t('join.requested'), 'success');
      return 'pending';
    }
    const room = r.room;
    this.addRoom({ ...room, myRole: 'member', joinedSeq: room.lastSeq });
    this.read[room.id] = room.lastSeq;
    this.open(room.id);
    return 'joined';
  }

  async leave(roomId: string): Promise<void> {
    await this.api.leave(roomId);
    this.removeRoom(roomId, 'left');
  }

  async invite(roomId: string, username: string): Promise<void> {
    await this.api.invite(roomId, username);
  }

  async acceptInvite(roomId: string): Promise<void> {
    const room = await this.api.acceptInvite(roomId);
    this.addRoom({ ...room, myRole: 'member', joinedSeq: room.lastSeq });
    this.open(room.id);
  }

  async declineInvite(roomId: string): Promise<void> {
    await this.api.declineInvite(roomId);
    this.set((s) => ({ invites: s.invites.filter((i) => i.roomId !== roomId) }));
  }

  private async loadInvites(): Promise<void> {
    try {
      const invites = await this.api.invites();
      this.set((s) => ({
        invites: invites.map((i) => ({ roomId: i.room.id, roomName: i.room.name, inviter: i.inviter })),
        users: { ...s.users, ...Object.fromEntries(invites.map((i) => [i.inviter.id, i.inviter])) },
      }));
    } catch {
      /* shown again on the next connect */
    }
  }

  async openDm(username: string): Promise<void> {
    const room = await this.api.openDm(username);
    this.addRoom(room);
    this.open(room.id);
  }

  async announce(body: string): Promise<void> {
    await this.api.announce(body);
  }

  async updateProfile(displayName: string): Promise<void> {
    const user = await this.api.updateProfile({ displayName });
    this.set((s) => ({ me: user, users: { ...s.users, [user.id]: user } }));
  }

  // ───────────────────────────── people ─────────────────────────────

  /** Adds users the caller fetched (e.g. with a moderation list) to the shared directory. */
  knowUsers(users: PublicUser[]): void {
    if (users.length) this.set((s) => ({ users: { ...s.users, ...Object.fromEntries(users.map((u) => [u.id, u])) } }));
  }

  /** Fetches users not known yet (names for ids in reports and audit entries). */
  lookupUsers(ids: Iterable<string>): void {
    for (const id of ids) this.ensureUser(id);
  }

  private ensureUser(id: string, username?: string): void {
    if (this.s.users[id] || this.fetchingUsers.has(id)) return;
    this.fetchingUsers.add(id);
    if (username) {
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
    this.api
      .request<{ user: PublicUser }>('GET', `/api/v1/users/${encodeURIComponent(id)}`)
      .then(({ user }) => this.set((s) => ({ users: { ...s.users, [id]: user } })))
      .catch(() => undefined)
      .finally(() => this.fetchingUsers.delete(id));
  }

  // ───────────────────────────── ui ─────────────────────────────

  setTheme(theme: Theme): void {
    save('theme', theme);
    this.set({ theme });
  }

  setLocale(locale: Locale): void {
    applyLocale(locale);
    save('locale', locale);
    this.set({ locale });
  }

  setDialog(dialog: Dialog): void {
    this.set({ dialog });
  }

  toggleSidebar(open?: boolean): void {
    this.set((s) => ({ sidebarOpen: open ?? !s.sidebarOpen }));
  }

  toggleMembers(open?: boolean): void {
    this.set((s) => {
      const membersOpen = open ?? !s.membersOpen;
      if (!membersOverlay()) save('membersOpen', membersOpen);
      return { membersOpen };
    });
  }

  dismissAnnouncement(id: string): void {
    this.set((s) => ({ announcements: s.announcements.filter((a) => a.id !== id) }));
  }

  toast(text: string, tone: Toast['tone'] = 'info'): void {
    const id = ++this.toastId;
    this.set((s) => ({ toasts: [...s.toasts.slice(-3), { id, text, tone }] }));
    setTimeout(() => this.dismissToast(id), tone === 'error' ? 8000 : 5000);
  }

  dismissToast(id: number): void {
    this.set((s) => ({ toasts: s.toasts.filter((x) => x.id !== id) }));
  }

  /** Shows an action's error as a toast (dialogs show theirs inline instead). */
  fail(err: unknown): void {
    this.toast(errorText(err), 'error');
  }
}

function omit<T extends Record<string, unknown>>(obj: T, key: string): T {
  const { [key]: _drop, ...rest } = obj;
  return rest as T;
}

/** "until <date>", or "indefinitely" for the far-future end the server uses for "until lifted". */
export function untilText(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || new Date(ms).getUTCFullYear() >= 9999) return t('mod.indefinitely');
  return t('mod.until', { when: formatFull(iso) });
}

/** A user-facing sentence for an API or send error, in the current language when we have one. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError || err instanceof SendError) {
    const key = `errors.${err.code}` as MsgKey;
    const text = t(key);
    return text === key ? err.message : text;
  }
  return t('errors.internal');
}

/**
 * The app's state: one store (`Store<AppState>`, shape in app-state.ts) and the parts that write it — `ui`,
 * `people`, `timeline`, `outbox`, `rooms` — composed here with the session: signing in and out, and the socket
 * whose frames this class routes to the parts. All server traffic goes through the project's SDK: `ChatApi` for
 * HTTP and `ChatClient` for the socket, so the browser gets the same guarantees as any client — resume by
 * per-room seq (persisted, so a reload resumes too), an outbox of unacknowledged sends re-sent with the same
 * clientMsgId, and exactly-once, in-order events.
 */
import { ChatApi } from '../../../src/client/api.js';
import { ChatClient, SendError } from '../../../src/client/chat-client.js';
import type { WelcomeFrame } from '../../../src/protocol/frames.js';
import { welcomeRooms } from '../../../src/protocol/welcome.js';
import type { MemberRole, MyRoom, PublicUser, RoomEvent } from '../../../src/protocol/model.js';
import { t, type MsgKey } from '../i18n/index.js';
import { SESSION_START, type AppState } from './app-state.js';
import { errorText } from './errors.js';
import { untilText } from './format.js';
import { Notifier } from './notifier.js';
import { Outbox } from './outbox.js';
import { People } from './people.js';
import { debounced, load, remove, save } from './persist.js';
import { Membership } from './membership.js';
import { previewOf } from './messages.js';
import { Pins } from './pins.js';
import { Blocks } from './blocks.js';
import { Commands } from './commands.js';
import { Receipts } from './receipts.js';
import { roomFromUrl, Rooms } from './rooms.js';
import type { StateContext } from './slice.js';
import { Store } from './store.js';
import { Threads } from './threads.js';
import { Timeline } from './timeline.js';
import { FileLinks } from './file-links.js';
import { Uploads } from './uploads.js';
import { deviceStart, Ui } from './ui.js';

interface SavedSession {
  token: string;
  user: PublicUser;
}

/** The sign-in screen's explanation for a socket the server closed for good. */
const CLOSE_NOTICES: Record<number, MsgKey> = {
  4001: 'auth.sessionEnded',
  4003: 'auth.sessionEnded',
  4006: 'auth.accountDisabled',
  4007: 'auth.sessionExpired',
};

/** A hidden tab counts as away (presence, and it views no room) after this long. */
const AWAY_AFTER_MS = 120_000;

function deviceLabel(): string {
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

async function eachLimited<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(n, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

export class Chat {
  readonly store = new Store<AppState>({ ...SESSION_START, ...deviceStart() });
  readonly api = new ChatApi(location.origin);
  private readonly ctx: StateContext = { store: this.store, api: this.api, client: null, epoch: 0 };
  readonly ui = new Ui(this.ctx);
  readonly people = new People(this.ctx);
  readonly timeline = new Timeline(this.ctx, this.people, this.ui);
  readonly outbox = new Outbox(this.ctx, this.timeline, this.ui);
  readonly uploads = new Uploads(this.ctx);
  readonly fileLinks = new FileLinks(this.api);
  readonly receipts = new Receipts(this.ctx, this.people);
  readonly pins = new Pins(this.ctx, this.timeline, this.ui);
  readonly blocks = new Blocks(this.ctx, this.ui);
  readonly membership = new Membership(this.ctx, this.people);
  readonly commands = new Commands(this.ctx, this.people);
  readonly rooms = new Rooms(this.ctx, this.timeline, this.people, this.receipts, this.pins, this.ui);
  readonly threads = new Threads(this.ctx, this.timeline, this.outbox, this.people, this.ui);
  readonly notifier = new Notifier(this.ctx, this.ui, (roomId) => {
    if (this.s.rooms[roomId]) this.rooms.open(roomId);
  });
  private offs: (() => void)[] = [];
  private awayTimer: ReturnType<typeof setTimeout> | undefined;
  private savePositions = debounced(400, () => {
    const me = this.store.state.me;
    if (this.ctx.client && me) save(`positions.${me.id}`, this.ctx.client.positions);
  });

  constructor() {
    window.addEventListener('popstate', () => {
      const id = roomFromUrl();
      if (id && this.s.rooms[id]) this.rooms.open(id, { push: false });
    });
    window.addEventListener('pagehide', () => {
      this.savePositions.flush();
      this.timeline.flush();
      this.rooms.flushDrafts();
    });
    document.addEventListener('visibilitychange', () => this.onVisibility());
  }

  private get s(): AppState {
    return this.store.state;
  }

  // ───────────────────────────── signing in and out ─────────────────────────────

  boot(): void {
    const session = load<SavedSession>('session');
    if (!session?.token) return this.store.update({ phase: 'auth' });
    this.start(session.token, session.user);
  }

  async login(username: string, password: string): Promise<void> {
    const r = await this.api.login(username, password, deviceLabel());
    save('session', { token: r.token, user: r.user } satisfies SavedSession);
    this.start(r.token, r.user);
  }

  async register(username: string, password: string, displayName?: string): Promise<void> {
    const r = await this.api.register(username, password, displayName);
    save('session', { token: r.token, user: r.user } satisfies SavedSession);
    this.start(r.token, r.user);
  }

  async logout(everywhere = false): Promise<void> {
    // What was read here reaches the server while the session still can.
    await this.timeline.flushMarks();
    try {
      if (everywhere) await this.api.logoutEverywhere();
      else await this.api.logout();
    } catch {
      /* the session may already be gone; log out locally regardless */
    }
    this.endSession(null);
  }

  private start(token: string, user: PublicUser): void {
    this.api.token = token;
    this.ctx.epoch++;
    this.people.reset();
    this.outbox.reset();
    this.uploads.reset();
    this.fileLinks.clear();
    this.timeline.begin(user.id);
    this.membership.reset();
    this.store.update({
      ...SESSION_START,
      phase: 'connecting',
      authNotice: null,
      me: user,
      users: { [user.id]: user },
      drafts: this.rooms.beginDrafts(user.id),
    });
    this.threads.begin(user.id);
    const client = new ChatClient({
      url: location.origin,
      token,
      userId: user.id,
      resume: load<Record<string, number>>(`positions.${user.id}`) ?? {},
      backoff: { minMs: 500, maxMs: 5000 },
      sendTimeoutMs: 60_000,
    });
    this.ctx.client = client;
    this.offs = [
      client.on('welcome', (w) => this.onWelcome(w)),
      client.on('event', (e) => this.onEvent(e)),
      client.on('typing', (n) => this.people.onTyping(n)),
      client.on('assistant.stream', (f) => this.people.onAssistantStream(f)),
      client.on('presence', (n) => this.people.onPresence(n)),
      client.on('room.added', (f) => this.rooms.added(f.room)),
      client.on('room.removed', (f) => {
        this.rooms.remove(f.roomId, f.reason);
        this.membership.forget(f.roomId);
      }),
      client.on('invite', (f) => this.rooms.invited(f)),
      client.on('announcement', (f) => this.ui.announced(f.announcement)),
      client.on('profile', (f) => this.profileChanged(f.user)),
      client.on('read', (f) => this.timeline.readElsewhere(f.roomId, f.readSeq)),
      client.on('notify', (f) => this.rooms.notifyChanged(f.roomId, f.level)),
      client.on('settings', (f) => this.notifier.settingsChanged(f.settings)),
      client.on('synced', (f) => this.notifier.roomSynced(f.roomId)),
      client.on('block', (f) => this.blocks.onNotice(f)),
      client.on('mention', (f) => this.timeline.mentioned(f.roomId, f.seq)),
      client.on('state', (conn) => this.store.update({ conn })),
      client.on('error', (f) => {
        if (f.code !== 'rate_limited') this.ui.toast(errorText(new SendError(f.code, f.message)), 'error');
      }),
      client.on('send.delayed', (d) => this.outbox.delayed(d)),
      client.on('disconnect', (d) => {
        const notice = CLOSE_NOTICES[d.code];
        if (!d.willReconnect && notice) this.endSession(notice);
      }),
    ];
    this.outbox.resend(user.id);
    client.connect().catch(() => {
      /* refused: the 'disconnect' handler ends the session */
    });
  }

  /** Back to the sign-in screen with nothing of this session left: the state returns to SESSION_START. */
  private endSession(notice: MsgKey | null): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.ctx.client?.close();
    this.ctx.client = null;
    this.savePositions.flush();
    this.timeline.flush(true);
    this.threads.end();
    this.ctx.epoch++;
    this.people.reset();
    this.outbox.reset();
    this.uploads.reset();
    this.fileLinks.clear();
    this.rooms.endDrafts();
    remove('session');
    this.api.token = undefined;
    this.store.update({ ...SESSION_START, phase: 'auth', authNotice: notice });
    if (location.pathname !== '/') history.replaceState(null, '', '/');
  }

  // ───────────────────────────── the socket ─────────────────────────────

  private onWelcome(w: WelcomeFrame): void {
    const first = this.s.phase !== 'ready';
    this.notifier.connected();
    // welcome names DM peers by id with one profile each; rebuild each DM's member names from them.
    const list = welcomeRooms(w);
    const rooms = Object.fromEntries(list.map((r) => [r.id, r]));
    for (const r of list) this.timeline.fromServer(r); // the read marker and unread count, as the server keeps them
    this.people.knowProfiles(list.flatMap((r) => r.members ?? []));
    this.people.knowUsers([w.user]);
    this.store.update({
      phase: 'ready',
      me: w.user,
      rooms,
      serverOnline: w.online,
      maxChars: w.limits.maxMessageChars,
      maxUploadBytes: w.limits.maxUploadBytes,
      maxAttachments: w.limits.maxAttachmentsPerMessage,
      assistant: w.features.assistant,
    });
    const session = load<SavedSession>('session');
    if (session) save('session', { ...session, user: w.user });
    void this.rooms.loadInvites();
    void this.blocks.load(); // every welcome: `block` frames missed while away are not replayed
    if (first) {
      void this.receipts.loadSettings().then(() => {
        if (this.s.active) void this.receipts.load(this.s.active);
      });
    }
    const known = this.s.activity;
    void eachLimited(
      list.filter((r) => first || known[r.id] === undefined),
      4,
      (r: MyRoom) => this.rooms.summarize(r),
    );
    this.rooms.pickAfterWelcome(list, first, w.user.id);
    if (!first) void this.people.refreshProfiles(); // `profile` frames missed while away are not replayed
  }

  /** A `profile` frame: someone's names changed (this user's too, from another device). */
  private profileChanged(user: PublicUser): void {
    this.people.profileChanged(user);
    this.rooms.profileChanged(user);
    if (user.id === this.s.me?.id) this.store.update({ me: user });
  }

  /** Every room event, in seq order: what each kind changes. */
  private onEvent(e: RoomEvent): void {
    const room = this.s.rooms[e.roomId];
    const me = this.s.me;
    // A room as the server sent it (welcome, room.added, an HTTP answer) counts every event up to its lastSeq;
    // those events may still be replayed after it (a new membership starts at its join), so they count once.
    const counted = room !== undefined && e.seq <= room.lastSeq;
    this.savePositions();
    this.rooms.advanced(e);
    switch (e.type) {
      case 'message':
        this.timeline.message(e);
        this.notifier.onMessage(e, counted);
        this.people.ensureUser(e.senderId);
        this.people.stoppedTyping(e.roomId, e.senderId);
        this.rooms.messaged(e);
        return;
      case 'message.deleted':
        if (typeof e.data?.seq === 'number') {
          const before = this.threads.find(e.roomId, e.data.seq);
          this.timeline.deleted(e.roomId, e.data.seq);
          this.threads.deleted(e.roomId, e.data.seq, before);
        }
        this.pins.onEvent(e);
        return;
      case 'message.pinned':
      case 'message.unpinned':
        this.pins.onEvent(e);
        return;
      case 'reaction.added':
      case 'reaction.removed': {
        const d = e.data;
        if (typeof d?.seq === 'number' && typeof d.emoji === 'string' && typeof d.userId === 'string') {
          this.timeline.reacted(e.roomId, d.seq, d.emoji, d.userId, e.type === 'reaction.added');
        }
        return;
      }
      case 'message.preview': {
        const preview = previewOf(e.data?.preview);
        if (typeof e.data?.seq === 'number' && preview) this.timeline.previewed(e.roomId, e.data.seq, preview);
        return;
      }
      case 'message.edited':
        if (typeof e.data?.seq === 'number' && typeof e.data.editedAt === 'string' && e.body) {
          this.timeline.edited(e.roomId, e.data.seq, e.body, e.data.editedAt);
        }
        return;
      case 'member.muted':
      case 'member.unmuted': {
        const userId = String(e.data?.userId ?? '');
        const until = e.type === 'member.muted' && typeof e.data?.until === 'string' ? e.data.until : null;
        this.people.muteChanged(e, userId, until);
        if (userId === me?.id && room) {
          if (until) this.ui.toast(t('mod.youMuted', { room: room.name, until: untilText(until) }), 'error');
          else this.ui.toast(t('mod.youUnmuted', { room: room.name }), 'info');
          if (!this.s.members[e.roomId]) void this.people.loadMembers(e.roomId);
        }
        return;
      }
      case 'member.joined':
      case 'member.left':
      case 'member.role':
        if (e.type === 'member.role' && room && e.data?.userId === me?.id && typeof e.data?.role === 'string') {
          const role = e.data.role as MemberRole;
          this.rooms.myRoleChanged(e.roomId, role);
          this.ui.toast(t('mod.yourRole', { room: room.name, role: t(`roles.${role}`) }), 'info');
        }
        if (room && !counted && e.type !== 'member.role')
          this.rooms.memberCountChanged(e.roomId, e.type === 'member.joined' ? 1 : -1);
        this.membership.onEvent(e);
        this.people.membershipChanged(e.roomId);
        return;
      case 'room.updated':
        this.rooms.updated(e);
        return;
      case 'member.read':
        this.receipts.onEvent(e);
        return;
      default:
        return;
    }
  }

  private onVisibility(): void {
    clearTimeout(this.awayTimer);
    if (document.visibilityState === 'visible') {
      // `/away message` keeps you away until `/away` alone.
      if (!this.commands.away) this.ctx.client?.setPresence('online');
      const active = this.s.active;
      if (active && this.timeline.atBottom) {
        // What came while the tab was hidden gets the "new messages" divider, as on opening the room.
        this.timeline.openDivider(active);
        this.timeline.markReadLatest(active);
      }
      // Big rooms told this tab nothing while it viewed nothing: the member list is read again.
      if (this.people.setIdle(false) && active) void this.people.loadMembers(active);
    } else {
      this.awayTimer = setTimeout(() => {
        this.ctx.client?.setPresence('away');
        this.people.setIdle(true);
      }, AWAY_AFTER_MS);
    }
  }

  // ───────────────────────────── this user ─────────────────────────────

  async announce(body: string): Promise<void> {
    await this.api.announce(body);
  }

  async updateProfile(patch: { displayName?: string; statusText?: string }): Promise<void> {
    const user = await this.api.updateProfile(patch);
    this.store.update({ me: user });
    this.people.knowUsers([user]);
  }

  /** Sets (a file) or removes (null) this user's picture. */
  async setAvatar(file: File | null): Promise<void> {
    const user = file ? await this.api.setAvatar(file, file.name) : await this.api.clearAvatar();
    this.store.update({ me: user });
    this.people.knowUsers([user]);
  }

  /** Changes the password; the server ends this user's other sessions. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.api.changePassword(currentPassword, newPassword);
  }
}

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOBBY_ROOM_ID } from '../../src/core/context.js';
import type { RoomAction } from '../../src/protocol/permissions.js';
import type { MemberRole, RoomKind } from '../../src/protocol/model.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { rawSocket, registerUser, startServer, waitFor, type TestServer, type TestUser } from '../helpers/harness.js';
import { may, mayDownloadAttachment, type Caller } from '../helpers/permission-oracle.js';
import { upload } from '../helpers/files.js';

/**
 * The authorization matrix of issue #5: every role × every action × room kind, over HTTP and WebSocket, against
 * one real server. The expected outcome of each cell comes from the literal grid in test/helpers/permission-oracle.ts
 * (not from ROOM_PERMISSIONS, which the server decides with: a wrong cell there must not move the expectation too;
 * test/unit/permissions-oracle.test.ts pins the grid to the code and to docs/protocol.md §7) through the gates below,
 * which spell out which denial code each kind of check answers. Every cell runs; the test fails
 * at the end with the list of cells that did not match.
 */

const ROLES = [
  'anonymous',
  'nonMember',
  'member',
  'moderator',
  'roomAdmin',
  'owner',
  'serverAdmin',
  'banned',
  'deactivated',
] as const;
type Role = (typeof ROLES)[number];
const KINDS: readonly RoomKind[] = ['public', 'private', 'dm'];
type Transport = 'http' | 'ws';
type Frame = Record<string, unknown>;

const ROOM_ROLE: Partial<Record<Role, MemberRole>> = {
  member: 'member',
  moderator: 'moderator',
  roomAdmin: 'admin',
  owner: 'owner',
};
/** DMs have members only: these role cells cannot exist there. */
const NOT_IN_DM: ReadonlySet<Role> = new Set(['moderator', 'roomAdmin', 'owner']);

const roomRole = (role: Role): MemberRole | null => ROOM_ROLE[role] ?? null;
/** The oracle's column for a role's room standing (server powers aside): anyone without a room role is outside. */
const standing = (role: Role): Caller => (roomRole(role) ? (role as Caller) : 'nonMember');
const signedOut = (role: Role) => role === 'anonymous' || role === 'deactivated';
const UNAUTHORIZED = '401 unauthorized';

/** A 1×1 PNG in a multipart form (field `file`), for the avatar cells. */
const PNG_1PX = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
function pictureForm(): FormData {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(PNG_1PX)], { type: 'image/png' }), 'a.png');
  return form;
}

interface Want {
  want: string;
  allow: boolean;
}
const outcome = (denied: string | null, allowed: string): Want =>
  denied === null ? { want: allowed, allow: true } : { want: denied, allow: false };

/** RoomService.requireVisible: private rooms and DMs are hidden from non-members; a public room refuses its banned. */
function seeGate(kind: RoomKind, role: Role): string | null {
  if (signedOut(role)) return UNAUTHORIZED;
  if (roomRole(role)) return null;
  if (kind !== 'public') return '404 room_not_found';
  if (role === 'banned') return '403 banned';
  return null;
}

/** RoomService.requireMember: visible, then a member. */
function memberGate(kind: RoomKind, role: Role): string | null {
  return seeGate(kind, role) ?? (roomRole(role) ? null : '403 not_member');
}

/** RoomService.requireAllowed: the permission table; server admins pass where the table says so. */
function allowGate(kind: RoomKind, role: Role, action: RoomAction): string | null {
  if (signedOut(role)) return UNAUTHORIZED;
  const r = roomRole(role);
  const serverAdmin = role === 'serverAdmin';
  if (!r && !serverAdmin && kind !== 'public') return '404 room_not_found';
  if (!may(action, kind, serverAdmin ? 'serverAdmin' : standing(role))) return r ? '403 forbidden' : '403 not_member';
  return null;
}

/** WebSocket errors carry the same codes as HTTP: `403 banned` → `error:banned`. */
const asWsError = (http: string) => `error:${http.split(' ')[1]}`;

interface Res {
  status: number;
  code: string | undefined;
  body: Record<string, unknown> | undefined;
}
const show = (r: Res) => (r.status < 300 ? String(r.status) : `${r.status} ${r.code ?? '?'}`);

interface Ctx {
  kind: RoomKind;
  role: Role;
  roomId: string;
  /** The stable user of the role (undefined for anonymous). */
  token: string | undefined;
}

interface HttpAction {
  name: string;
  kinds?: readonly RoomKind[];
  expect(kind: RoomKind, role: Role): Want;
  /** Role cells that cannot be built in this kind, beyond DM room roles, with the reason. */
  notApplicable?(kind: RoomKind, role: Role): string | null;
  run(c: Ctx): Promise<string>;
}

describe('authorization matrix', () => {
  it('checks every role × action × room kind over HTTP and WebSocket', { timeout: 90_000 }, async () => {
    const started = Date.now();
    // Every presence change reaches every lobby member (however many users the cells register): the presence
    // cells' marker below travels through the lobby.
    const srv: TestServer = await startServer({
      reportsPerHour: 100_000,
      // Room pictures count as profile changes; every owner/admin cell sets one.
      profileChangesPerMinute: 100_000,
      helloTimeoutMs: 60_000,
      presenceFanoutMaxMembers: 1_000_000,
      // The assistant on (local FAQ engine), for the cells that add it to and remove it from rooms.
      assistantFaqFile: fileURLToPath(new URL('../../docs/examples/faq.md', import.meta.url)),
    });
    const api = (p: string) => `${srv.url}/api/v1${p}`;

    async function call(method: string, path: string, token?: string, body?: unknown): Promise<Res> {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      let payload: string | FormData | undefined;
      if (body instanceof FormData) {
        payload = body; // multipart (avatars): fetch writes its own Content-Type with the boundary
      } else if (method !== 'GET' && (method !== 'DELETE' || body !== undefined)) {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(body ?? {});
      }
      const res = await fetch(api(path), { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
      const text = await res.text();
      // A file download answers with the file's bytes, not JSON.
      const isJson = res.headers.get('content-type')?.startsWith('application/json') ?? false;
      const json = text && isJson ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      const code = (json?.error as { code?: string } | undefined)?.code;
      return { status: res.status, code, body: json };
    }
    async function must(p: Promise<Res>, what: string): Promise<Res> {
      const r = await p;
      if (r.status >= 300) throw new Error(`fixture step failed: ${what}: ${show(r)}`);
      return r;
    }

    // ---- Fixtures -------------------------------------------------------------------------------------------
    // The first account registered is the server admin (FIRST_USER_IS_ADMIN defaults to true).
    const sadmin = await registerUser(srv.url);
    expect(sadmin.user.role).toBe('admin');
    const reg = () => registerUser(srv.url);
    const owner = await reg();
    const radmin = await reg();
    const mod = await reg();
    const member = await reg();
    const nonMember = await reg();
    const banned = await reg();
    const deact = await reg();
    const author = await reg(); // writes the messages others delete and report
    const dmTarget = await reg(); // the DM member server admins sanction (then restored)
    const invitee = await reg(); // receives invites; never joins
    const marker = await reg(); // in the lobby only, like every user: its presence changes are the presence cells' marker
    const stable: Record<Exclude<Role, 'anonymous'>, TestUser> = {
      nonMember,
      member,
      moderator: mod,
      roomAdmin: radmin,
      owner,
      serverAdmin: sadmin,
      banned,
      deactivated: deact,
    };
    const tokenOf = (role: Role) => (role === 'anonymous' ? undefined : stable[role].token);

    const tag = `${process.pid}${Date.now() % 100_000}`;
    const names = { public: `matrix-pub-${tag}`, private: `matrix-priv-${tag}` };
    const mkRoom = async (visibility: 'public' | 'private') =>
      (
        (await must(call('POST', '/rooms', owner.token, { name: names[visibility], visibility }), 'create room')).body!
          .room as { id: string }
      ).id;
    const rooms: Record<RoomKind, string> = {
      public: await mkRoom('public'),
      private: await mkRoom('private'),
      dm: '',
    };

    async function addToRoom(kind: 'public' | 'private', u: TestUser): Promise<void> {
      const id = rooms[kind];
      if (kind === 'public') {
        await must(call('POST', `/rooms/${id}/join`, u.token), 'join');
        return;
      }
      await must(call('POST', `/rooms/${id}/invites`, owner.token, { username: u.username }), 'invite');
      await must(call('POST', `/rooms/${id}/invite/accept`, u.token), 'accept invite');
    }
    async function setRoomRole(kind: RoomKind, userId: string, role: MemberRole, by = owner.token): Promise<void> {
      await must(call('PUT', `/rooms/${rooms[kind]}/members/${userId}/role`, by, { role }), 'set role');
    }
    let msgN = 0;
    async function post(kind: RoomKind, token: string, body?: string): Promise<number> {
      msgN++;
      body ??= `matrix message ${msgN}`;
      const r = await must(
        call('POST', `/rooms/${rooms[kind]}/messages`, token, { body, clientMsgId: `mx-${msgN}-${tag}` }),
        'post',
      );
      return (r.body!.message as { seq: number }).seq;
    }

    for (const kind of ['public', 'private'] as const) {
      for (const u of [radmin, mod, member, nonMember, banned, deact, author, sadmin]) await addToRoom(kind, u);
      await setRoomRole(kind, radmin.user.id, 'admin');
      await setRoomRole(kind, mod.user.id, 'moderator');
    }
    // The DM: its member set is fixed. A deactivated account cannot be named in a DM, so `deact` is not in it
    // (its token is refused before any room check anyway).
    const dmOthers = (me: TestUser) =>
      [owner, member, banned, dmTarget, author].filter((u) => u !== me).map((u) => u.username);
    rooms.dm = (
      (await must(call('POST', '/dms', owner.token, { usernames: dmOthers(owner) }), 'open DM')).body!.room as {
        id: string;
      }
    ).id;

    // Messages each role wrote while still a member ("delete own message" for those who are not any more).
    const ownSeq = new Map<string, number>();
    for (const kind of ['public', 'private'] as const) {
      for (const [role, u] of [
        ['nonMember', nonMember],
        ['banned', banned],
        ['deactivated', deact],
        ['serverAdmin', sadmin],
      ] as const) {
        ownSeq.set(`${role}/${kind}`, await post(kind, u.token));
      }
      await must(call('POST', `/rooms/${rooms[kind]}/leave`, sadmin.token), 'admin leaves');
    }
    ownSeq.set('banned/dm', await post('dm', banned.token));
    const authorSeq = {} as Record<RoomKind, number>;
    for (const kind of KINDS) authorSeq[kind] = await post(kind, author.token);
    // A file the author attached to a message in each room (the file download cells).
    const authorFile = {} as Record<RoomKind, string>;
    for (const kind of KINDS) {
      const up = await upload(srv.url, author.token, Buffer.from(`matrix file in ${kind} ${tag}`), `${kind}.txt`);
      if (up.status !== 201) throw new Error(`fixture step failed: upload: ${up.status}`);
      authorFile[kind] = up.body.file.id;
      await must(
        call('POST', `/rooms/${rooms[kind]}/messages`, author.token, {
          body: 'with a file',
          clientMsgId: `mx-file-${kind}-${tag}`,
          attachments: [up.body.file.id],
        }),
        'post with a file',
      );
    }

    // Sockets opened while everyone still belongs: removal, bans and deactivation must reach open connections,
    // not only new ones.
    interface Sock {
      frames: Frame[];
      send(frame: unknown): void;
      close(): void;
      code: number | null;
    }
    async function openSocket(): Promise<Sock> {
      const s = await rawSocket(srv.url);
      const sock: Sock = { frames: s.frames, send: s.send, close: () => s.ws.close(), code: null };
      void s.closed.then((c) => (sock.code = c.code));
      return sock;
    }
    async function hello(sock: Sock, token: string, resume?: Record<string, number>): Promise<Frame | null> {
      sock.send({ type: 'hello', v: PROTOCOL_VERSION, token, ...(resume ? { resume } : {}) });
      await waitFor(() => sock.code !== null || sock.frames.some((f) => f.type === 'welcome'), 5000, 'welcome');
      return sock.frames.find((f) => f.type === 'welcome') ?? null;
    }
    const syncedAll = (sock: Sock, welcome: Frame) =>
      (welcome.rooms as { id: string }[]).every((r) =>
        sock.frames.some((f) => f.type === 'synced' && f.roomId === r.id),
      );
    let refN = 0;
    /** Waits for the answer to a ping: everything the server sent this socket before it has arrived. */
    async function barrier(sock: Sock): Promise<void> {
      if (sock.code !== null) return;
      const ref = `barrier-${++refN}`;
      sock.send({ type: 'ping', ref });
      await waitFor(() => sock.code !== null || sock.frames.some((f) => f.ref === ref), 3000, 'pong').catch(() => {});
    }

    const WS_ROLES = ['owner', 'roomAdmin', 'moderator', 'member', 'nonMember', 'serverAdmin', 'banned', 'deactivated'];
    const live = {} as Record<Role, Sock>;
    for (const role of WS_ROLES as Exclude<Role, 'anonymous'>[]) {
      const sock = await openSocket();
      const welcome = await hello(sock, stable[role].token);
      if (!welcome) throw new Error(`fixture: ${role} could not connect`);
      await waitFor(() => syncedAll(sock, welcome), 5000, `${role} synced`);
      live[role] = sock;
    }
    const markerSock = await openSocket();
    const markerWelcome = await hello(markerSock, marker.token);
    if (!markerWelcome) throw new Error('fixture: the marker could not connect');
    await waitFor(() => syncedAll(markerSock, markerWelcome), 5000, 'marker synced');

    // Now: the non-member is kicked (a former member), the banned user banned, the deactivated user deactivated.
    for (const kind of ['public', 'private'] as const) {
      await must(call('POST', `/rooms/${rooms[kind]}/members/${nonMember.user.id}/kick`, owner.token), 'kick');
      await must(call('PUT', `/rooms/${rooms[kind]}/bans/${banned.user.id}`, owner.token), 'ban');
    }
    await must(call('PUT', `/rooms/${rooms.dm}/bans/${banned.user.id}`, sadmin.token), 'ban from DM');
    await must(call('POST', `/admin/users/${deact.user.id}/deactivate`, sadmin.token), 'deactivate');
    const removed = (sock: Sock, n: number) => sock.frames.filter((f) => f.type === 'room.removed').length >= n;
    // Bounded; if removal never reaches the sockets the WebSocket cells below say so.
    await waitFor(
      () => removed(live.nonMember, 2) && removed(live.banned, 3) && live.deactivated.code !== null,
      5000,
    ).catch(() => {});

    // One open report per room (filed by a member), for the report-queue scope cells.
    for (const kind of KINDS) {
      await must(
        call('POST', '/reports', member.token, { roomId: rooms[kind], seq: authorSeq[kind], reason: 'fixture' }),
        'report',
      );
    }

    // ---- Recording --------------------------------------------------------------------------------------------
    interface Result {
      transport: Transport;
      role: Role;
      action: string;
      kind: RoomKind | 'server';
      want: string;
      allow: boolean;
      got: string;
    }
    const results: Result[] = [];
    const notApplicable: { transport: Transport; role: Role; action: string; kind: RoomKind; why: string }[] = [];
    function record(t: Transport, role: Role, action: string, kind: RoomKind | 'server', w: Want, got: string) {
      results.push({ transport: t, role, action, kind, want: w.want, allow: w.allow, got });
    }
    /** Whether the (role, kind) cell exists; records it as not applicable otherwise. */
    function applicable(t: Transport, role: Role, action: string, kind: RoomKind, extra?: string | null): boolean {
      const why = kind === 'dm' && NOT_IN_DM.has(role) ? 'DMs have no room roles above member' : (extra ?? null);
      if (why) notApplicable.push({ transport: t, role, action, kind, why });
      return !why;
    }

    // ---- Fresh actors and targets (so allowed mutations do not disturb later cells) -----------------------------
    const fresh = () => registerUser(srv.url);
    async function freshMember(kind: 'public' | 'private'): Promise<TestUser> {
      const u = await fresh();
      await addToRoom(kind, u);
      return u;
    }
    /** An actor holding `role` who may be used up (joins, leaves). DMs cannot take new members: the stable one. */
    async function freshActor(kind: RoomKind, role: Role): Promise<string | undefined> {
      if (role === 'anonymous' || role === 'deactivated') return tokenOf(role);
      if (kind === 'dm' && role !== 'nonMember' && role !== 'serverAdmin') return tokenOf(role);
      const u = await fresh();
      if (role === 'nonMember') return u.token;
      if (role === 'serverAdmin') {
        await must(call('PUT', `/admin/users/${u.user.id}/role`, sadmin.token, { role: 'admin' }), 'promote');
        return u.token;
      }
      const k = kind as 'public' | 'private';
      await addToRoom(k, u);
      if (role === 'banned') {
        await must(call('PUT', `/rooms/${rooms[k]}/bans/${u.user.id}`, owner.token), 'ban fresh');
        return u.token;
      }
      const r = roomRole(role)!;
      if (r !== 'member') await setRoomRole(k, u.user.id, r);
      return u.token;
    }
    /** A member to kick, ban, mute or promote: fresh in rooms, the DM's `dmTarget` (restored after) in the DM. */
    async function targetIn(kind: RoomKind): Promise<TestUser> {
      return kind === 'dm' ? dmTarget : freshMember(kind);
    }
    /** Puts `dmTarget` back as a plain, unmuted, unbanned member of the DM. */
    async function restoreDmTarget(): Promise<void> {
      const dm = rooms.dm;
      await call('DELETE', `/rooms/${dm}/bans/${dmTarget.user.id}`, sadmin.token);
      const r = await must(call('POST', '/dms', dmTarget.token, { usernames: dmOthers(dmTarget) }), 'reopen DM');
      if ((r.body!.room as { id: string }).id !== dm) throw new Error('reopening the DM gave another room');
      await call('DELETE', `/rooms/${dm}/mutes/${dmTarget.user.id}`, sadmin.token);
      // No role can change in a DM (not even by a server admin), so there is none to restore.
    }
    const store = srv.server.ports.store;
    /** A pending join request from a fresh user (only public rooms with approval make them over HTTP). */
    async function freshJoinRequest(roomId: string): Promise<TestUser> {
      const u = await fresh();
      await store.createJoinRequest(roomId, u.user.id);
      return u;
    }

    // ---- HTTP actions ---------------------------------------------------------------------------------------------
    const read = (kind: RoomKind, role: Role, ok: string) =>
      outcome(seeGate(kind, role) ?? (may('read', kind, standing(role)) ? null : '403 not_member'), ok);
    const gated = (action: RoomAction, ok: string) => (kind: RoomKind, role: Role) =>
      outcome(allowGate(kind, role, action), ok);
    let n = 0;
    // Files hide whether they exist: every refusal past authentication is 404 not_found.
    const fileRead = (kind: RoomKind, role: Role, ok: string) => {
      if (signedOut(role)) return outcome(UNAUTHORIZED, ok);
      // A role banned from the room, or removed from it, reads it as the outsider it now is.
      const asCaller: Caller = roomRole(role) ? standing(role) : role === 'serverAdmin' ? 'serverAdmin' : 'nonMember';
      const banned = role === 'banned';
      return outcome(mayDownloadAttachment(kind, asCaller) && !banned ? null : '404 not_found', ok);
    };
    const HTTP: HttpAction[] = [
      {
        name: 'file.download',
        expect: (k, r) => fileRead(k, r, '200'),
        run: async (c) => show(await call('GET', `/files/${authorFile[c.kind]}`, c.token)),
      },
      {
        name: 'file.link',
        expect: (k, r) => fileRead(k, r, '200'),
        run: async (c) => show(await call('GET', `/files/${authorFile[c.kind]}/link?variant=original`, c.token)),
      },
      {
        name: 'room.get',
        expect: (k, r) => read(k, r, '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}`, c.token)),
      },
      {
        name: 'history.messages',
        expect: (k, r) => read(k, r, '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/messages?limit=5`, c.token)),
      },
      {
        // Searching one room answers like reading its history.
        name: 'search.room',
        expect: (k, r) => read(k, r, '200'),
        run: async (c) => show(await call('GET', `/search?q=matrix&roomId=${c.roomId}`, c.token)),
      },
      {
        // Searching everything: the room's messages are among the results exactly for those who may read it.
        name: 'search.all',
        expect: (k, r) => {
          const gate = read(k, r, '200 found');
          return gate.allow || signedOut(r) ? gate : { want: '200 hidden', allow: false };
        },
        run: async (c) => {
          const r = await call('GET', '/search?q=matrix&limit=50', c.token);
          if (r.status !== 200) return show(r);
          const results = r.body!.results as { message: { roomId: string } }[];
          return `200 ${results.some((x) => x.message.roomId === c.roomId) ? 'found' : 'hidden'}`;
        },
      },
      {
        name: 'history.events',
        expect: (k, r) => read(k, r, '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/events?after=0&limit=5`, c.token)),
      },
      {
        name: 'members.list',
        expect: (k, r) => read(k, r, '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/members`, c.token)),
      },
      {
        name: 'message.send',
        expect: (k, r) => outcome(memberGate(k, r) ?? (may('post', k, standing(r)) ? null : '403 forbidden'), '201'),
        run: async (c) =>
          show(
            await call('POST', `/rooms/${c.roomId}/messages`, c.token, {
              body: `http send ${++n}`,
              clientMsgId: `http-${n}-${tag}`,
            }),
          ),
      },
      {
        // A reply is a post: the same rights, whatever the target (here the author's message).
        name: 'message.reply',
        expect: (k, r) => outcome(memberGate(k, r) ?? (may('post', k, standing(r)) ? null : '403 forbidden'), '201'),
        run: async (c) =>
          show(
            await call('POST', `/rooms/${c.roomId}/messages`, c.token, {
              body: `http reply ${++n}`,
              clientMsgId: `http-${n}-${tag}`,
              replyTo: authorSeq[c.kind],
              threadOnly: n % 2 === 0,
            }),
          ),
      },
      {
        name: 'message.thread',
        expect: (k, r) => read(k, r, '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/messages/${authorSeq[c.kind]}/thread`, c.token)),
      },
      {
        name: 'invite',
        expect: (k, r) => outcome(memberGate(k, r) ?? (may('invite', k, standing(r)) ? null : '403 forbidden'), '204'),
        run: async (c) =>
          show(await call('POST', `/rooms/${c.roomId}/invites`, c.token, { username: invitee.username })),
      },
      {
        name: 'room.update',
        expect: gated('update', '200'),
        run: async (c) => show(await call('PATCH', `/rooms/${c.roomId}`, c.token, { topic: `topic ${++n}` })),
      },
      {
        name: 'room.settings',
        expect: gated('update', '200'),
        run: async (c) =>
          show(
            await call('PATCH', `/rooms/${c.roomId}`, c.token, {
              settings: { readOnly: false, slowModeSeconds: 0, joinApproval: false },
            }),
          ),
      },
      {
        name: 'room.avatar.set',
        expect: gated('update', '200'),
        run: async (c) => show(await call('PUT', `/rooms/${c.roomId}/avatar`, c.token, pictureForm())),
      },
      {
        name: 'room.avatar.clear',
        expect: gated('update', '200'),
        run: async (c) => show(await call('DELETE', `/rooms/${c.roomId}/avatar`, c.token)),
      },
      {
        name: 'member.setRole',
        expect: gated('setRole', '204'),
        run: async (c) => {
          const t = await targetIn(c.kind);
          const r = await call('PUT', `/rooms/${c.roomId}/members/${t.user.id}/role`, c.token, { role: 'moderator' });
          if (c.kind === 'dm') await restoreDmTarget();
          return show(r);
        },
      },
      {
        name: 'member.kick',
        expect: gated('kick', '204'),
        run: async (c) => {
          const t = await targetIn(c.kind);
          const r = await call('POST', `/rooms/${c.roomId}/members/${t.user.id}/kick`, c.token);
          if (c.kind === 'dm') await restoreDmTarget();
          return show(r);
        },
      },
      {
        name: 'member.ban',
        expect: gated('ban', '204'),
        run: async (c) => {
          const t = await targetIn(c.kind);
          const r = await call('PUT', `/rooms/${c.roomId}/bans/${t.user.id}`, c.token);
          if (c.kind === 'dm') await restoreDmTarget();
          return show(r);
        },
      },
      {
        name: 'bans.list',
        expect: gated('ban', '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/bans`, c.token)),
      },
      {
        name: 'member.mute',
        expect: gated('mute', '204'),
        run: async (c) => {
          const t = await targetIn(c.kind);
          const r = await call('PUT', `/rooms/${c.roomId}/mutes/${t.user.id}`, c.token, { durationSec: 60 });
          if (c.kind === 'dm') await restoreDmTarget();
          return show(r);
        },
      },
      {
        name: 'message.deleteOthers',
        expect: (k, r) => {
          if (signedOut(r)) return outcome(UNAUTHORIZED, '');
          if (r === 'serverAdmin')
            return outcome(may('deleteMessage', k, 'serverAdmin') ? null : '403 forbidden', '204');
          return outcome(seeGate(k, r) ?? (may('deleteMessage', k, standing(r)) ? null : '403 forbidden'), '204');
        },
        run: async (c) => {
          const seq = await post(c.kind, author.token);
          return show(await call('DELETE', `/rooms/${c.roomId}/messages/${seq}`, c.token));
        },
      },
      {
        name: 'message.deleteOwn',
        notApplicable: (k, r) =>
          k === 'dm' && (r === 'nonMember' || r === 'serverAdmin') ? 'never a DM member: has no message there' : null,
        // The author may delete while a member; a former member may not (a moderator may).
        expect: (k, r) => {
          if (signedOut(r)) return outcome(UNAUTHORIZED, '');
          if (r === 'serverAdmin') return outcome(null, '204');
          return outcome(seeGate(k, r) ?? (roomRole(r) ? null : '403 forbidden'), '204');
        },
        run: async (c) => {
          let seq = ownSeq.get(`${c.role}/${c.kind}`);
          if (roomRole(c.role)) seq = await post(c.kind, c.token!);
          seq ??= authorSeq[c.kind]; // anonymous, or deactivated in the DM it was never in: refused first anyway
          return show(await call('DELETE', `/rooms/${c.roomId}/messages/${seq}`, c.token));
        },
      },
      {
        name: 'message.editOwn',
        notApplicable: (k, r) =>
          k === 'dm' && (r === 'nonMember' || r === 'serverAdmin') ? 'never a DM member: has no message there' : null,
        // The author edits while a member (posting rights permitting); a former member may not, nor may anyone else.
        expect: (k, r) => {
          if (signedOut(r)) return outcome(UNAUTHORIZED, '');
          return outcome(memberGate(k, r) ?? (may('editMessage', k, standing(r)) ? null : '403 forbidden'), '200');
        },
        run: async (c) => {
          let seq = ownSeq.get(`${c.role}/${c.kind}`);
          if (roomRole(c.role)) seq = await post(c.kind, c.token!);
          seq ??= authorSeq[c.kind];
          return show(await call('PATCH', `/rooms/${c.roomId}/messages/${seq}`, c.token, { body: `edited ${seq}` }));
        },
      },
      {
        // Reacting to someone else's message: members (not muted); nobody outside, server admins included.
        name: 'reaction.add',
        expect: (k, r) => outcome(memberGate(k, r) ?? (may('react', k, standing(r)) ? null : '403 forbidden'), '200'),
        run: async (c) =>
          show(await call('PUT', `/rooms/${c.roomId}/messages/${authorSeq[c.kind]}/reactions/%F0%9F%91%8D`, c.token)),
      },
      {
        name: 'reaction.remove',
        expect: (k, r) => outcome(memberGate(k, r) ?? (may('react', k, standing(r)) ? null : '403 forbidden'), '200'),
        run: async (c) =>
          show(await call('DELETE', `/rooms/${c.roomId}/messages/${authorSeq[c.kind]}/reactions/thumbsup`, c.token)),
      },
      {
        // Nobody rewrites another's message: not the room's moderators, owners or server admins.
        name: 'message.editOthers',
        expect: (k, r) => {
          if (signedOut(r)) return outcome(UNAUTHORIZED, '');
          return outcome(memberGate(k, r) ?? '403 forbidden', '200');
        },
        run: async (c) => {
          const seq = await post(c.kind, author.token);
          return show(await call('PATCH', `/rooms/${c.roomId}/messages/${seq}`, c.token, { body: 'rewritten' }));
        },
      },
      {
        name: 'read.mark',
        expect: (k, r) => {
          if (signedOut(r)) return outcome(UNAUTHORIZED, '');
          return outcome(memberGate(k, r) ?? (may('markRead', k, standing(r)) ? null : '403 forbidden'), '200');
        },
        run: async (c) => show(await call('PUT', `/rooms/${c.roomId}/read`, c.token, { seq: 1 })),
      },
      {
        name: 'read.receipts',
        expect: (k, r) => {
          if (signedOut(r)) return outcome(UNAUTHORIZED, '');
          return outcome(memberGate(k, r) ?? (may('markRead', k, standing(r)) ? null : '403 forbidden'), '200');
        },
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/receipts`, c.token)),
      },
      {
        name: 'notify.set',
        expect: gated('notify', '200'),
        run: async (c) => show(await call('PUT', `/rooms/${c.roomId}/notifications`, c.token, { level: 'mentions' })),
      },
      {
        name: 'message.pin',
        expect: gated('pin', '200'),
        run: async (c) => show(await call('PUT', `/rooms/${c.roomId}/messages/${authorSeq[c.kind]}/pin`, c.token)),
      },
      {
        name: 'message.unpin',
        expect: gated('pin', '200'),
        run: async (c) => show(await call('DELETE', `/rooms/${c.roomId}/messages/${authorSeq[c.kind]}/pin`, c.token)),
      },
      {
        name: 'pins.list',
        expect: (k, r) => read(k, r, '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/pins`, c.token)),
      },
      {
        name: 'joinRequests.list',
        expect: gated('approveJoin', '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/requests`, c.token)),
      },
      {
        name: 'joinRequests.approve',
        // Approving in a DM would add a member to a fixed member set; DM requests cannot be filed. Reject covers DMs.
        kinds: ['public', 'private'],
        expect: gated('approveJoin', '204'),
        run: async (c) => {
          const u = await freshJoinRequest(c.roomId);
          return show(await call('POST', `/rooms/${c.roomId}/requests/${u.user.id}/approve`, c.token));
        },
      },
      {
        name: 'joinRequests.reject',
        expect: gated('approveJoin', '204'),
        run: async (c) => {
          const u = await freshJoinRequest(c.roomId);
          return show(await call('POST', `/rooms/${c.roomId}/requests/${u.user.id}/reject`, c.token));
        },
      },
      {
        name: 'room.audit',
        expect: gated('viewAudit', '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/audit`, c.token)),
      },
      {
        name: 'room.webhooks',
        expect: gated('manageWebhooks', '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/webhooks`, c.token)),
      },
      {
        name: 'room.subscriptions',
        expect: gated('manageWebhooks', '200'),
        run: async (c) => show(await call('GET', `/rooms/${c.roomId}/subscriptions`, c.token)),
      },
      {
        name: 'room.assistant.add',
        expect: gated('manageAssistant', '200'),
        run: async (c) => show(await call('PUT', `/rooms/${c.roomId}/assistant`, c.token)),
      },
      {
        name: 'room.assistant.remove',
        expect: gated('manageAssistant', '200'),
        run: async (c) => show(await call('DELETE', `/rooms/${c.roomId}/assistant`, c.token)),
      },
      {
        name: 'message.report',
        expect: (k, r) => read(k, r, '201'),
        run: async (c) =>
          show(
            await call('POST', '/reports', c.token, { roomId: c.roomId, seq: authorSeq[c.kind], reason: `r${++n}` }),
          ),
      },
      {
        name: 'reports.list',
        expect: (k, r) => {
          if (signedOut(r)) return outcome(UNAUTHORIZED, '');
          const sees = r === 'serverAdmin' || may('viewReports', k, standing(r));
          return outcome(sees ? null : 'hidden', 'visible');
        },
        run: async (c) => {
          const r = await call('GET', '/reports?status=open&limit=100', c.token);
          if (r.status !== 200) return show(r);
          return (r.body!.reports as { roomId: string | null }[]).some((x) => x.roomId === c.roomId)
            ? 'visible'
            : 'hidden';
        },
      },
      {
        name: 'room.join',
        expect: (k, r) => read(k, r, '200'),
        run: async (c) => {
          const token = c.role === 'nonMember' || c.role === 'serverAdmin' ? await freshActor(c.kind, c.role) : c.token;
          return show(await call('POST', `/rooms/${c.roomId}/join`, token));
        },
      },
      {
        name: 'room.leave',
        expect: (k, r) => outcome(memberGate(k, r), '204'),
        run: async (c) => {
          const token = await freshActor(c.kind, c.role);
          const r = await call('POST', `/rooms/${c.roomId}/leave`, token);
          if (c.kind === 'dm' && r.status === 204) {
            // The stable DM member left: opening the DM again brings them back.
            await must(call('POST', '/dms', token, { usernames: dmOthers(member) }), 'member reopens DM');
          }
          return show(r);
        },
      },
      {
        name: 'rooms.search',
        // The directory lists public rooms only: never private rooms or DMs, whoever asks (members see theirs in
        // /me/rooms). A public room's existence is no secret, so it is listed to its banned users too.
        expect: (k, r) =>
          signedOut(r) ? outcome(UNAUTHORIZED, '') : outcome(k === 'public' ? null : 'unlisted', 'listed'),
        run: async (c) => {
          const q = c.kind === 'dm' ? '' : names[c.kind];
          const r = await call('GET', `/rooms?q=${encodeURIComponent(q)}&limit=50`, c.token);
          if (r.status !== 200) return show(r);
          return (r.body!.rooms as { id: string }[]).some((x) => x.id === c.roomId) ? 'listed' : 'unlisted';
        },
      },
      {
        name: 'dm.reopen',
        kinds: ['dm'],
        // Opening a DM with the same people brings a former member back — but not one a server admin banned from it.
        // Anyone else naming those people opens another DM: no way into this one.
        expect: (_k, r) => {
          if (signedOut(r)) return outcome(UNAUTHORIZED, '');
          if (r === 'member') return outcome(null, 'this DM');
          if (r === 'banned') return outcome('403 banned', '');
          return outcome('another DM', '');
        },
        run: async (c) => {
          const me = c.role === 'anonymous' ? owner : stable[c.role];
          const usernames =
            c.role === 'member' || c.role === 'banned' ? dmOthers(me) : dmOthers(owner).concat(owner.username);
          const r = await call('POST', '/dms', c.token, { usernames });
          if (r.status >= 300) return show(r);
          return (r.body!.room as { id: string }).id === c.roomId ? 'this DM' : 'another DM';
        },
      },
    ];

    // The kinds run side by side: each cell's mutations and restores touch only its own room (or fresh users).
    async function httpCells(kind: RoomKind): Promise<void> {
      for (const role of ROLES) {
        for (const a of HTTP) {
          if (a.kinds && !a.kinds.includes(kind)) continue;
          if (!applicable('http', role, a.name, kind, a.notApplicable?.(kind, role))) continue;
          const want = a.expect(kind, role);
          let got: string;
          try {
            got = await a.run({ kind, role, roomId: rooms[kind], token: tokenOf(role) });
          } catch (err) {
            got = `threw: ${(err as Error).message}`;
          }
          record('http', role, a.name, kind, want, got);
        }
      }
    }

    // Server administration: not about a room, one cell per role. Targets are fresh users.
    const ADMIN: { name: string; ok: string; run(token: string | undefined, target: TestUser): Promise<Res> }[] = [
      { name: 'admin.listUsers', ok: '200', run: (t) => call('GET', '/admin/users?limit=5', t) },
      { name: 'admin.deactivate', ok: '204', run: (t, u) => call('POST', `/admin/users/${u.user.id}/deactivate`, t) },
      { name: 'admin.reactivate', ok: '204', run: (t, u) => call('POST', `/admin/users/${u.user.id}/reactivate`, t) },
      { name: 'admin.forceLogout', ok: '200', run: (t, u) => call('POST', `/admin/users/${u.user.id}/logout`, t) },
      {
        name: 'admin.setServerRole',
        ok: '204',
        run: (t, u) => call('PUT', `/admin/users/${u.user.id}/role`, t, { role: 'admin' }),
      },
      { name: 'admin.serverBan', ok: '204', run: (t, u) => call('PUT', `/admin/users/${u.user.id}/ban`, t) },
      { name: 'admin.serverUnban', ok: '204', run: (t, u) => call('DELETE', `/admin/users/${u.user.id}/ban`, t) },
      { name: 'admin.audit', ok: '200', run: (t) => call('GET', '/admin/audit?limit=5', t) },
      { name: 'admin.stats', ok: '200', run: (t) => call('GET', '/admin/stats', t) },
      { name: 'admin.announce', ok: '201', run: (t) => call('POST', '/announcements', t, { body: 'matrix notice' }) },
      // Issue 18.
      { name: 'admin.resetLink', ok: '201', run: (t, u) => call('POST', `/admin/users/${u.user.id}/reset-link`, t) },
    ];
    async function adminCells(): Promise<void> {
      for (const role of ROLES) {
        for (const a of ADMIN) {
          const want = outcome(signedOut(role) ? UNAUTHORIZED : role === 'serverAdmin' ? null : '403 forbidden', a.ok);
          let got: string;
          try {
            got = show(await a.run(tokenOf(role), await fresh()));
          } catch (err) {
            got = `threw: ${(err as Error).message}`;
          }
          record('http', role, a.name, 'server', want, got);
        }
      }
    }
    // One's own account: anyone signed in, nobody else (no cell names another user). Pictures (issue 15).
    const OWN: { name: string; ok: string; run(token: string | undefined): Promise<Res> }[] = [
      { name: 'me.avatar.set', ok: '200', run: (t) => call('PUT', '/me/avatar', t, pictureForm()) },
      { name: 'me.avatar.clear', ok: '200', run: (t) => call('DELETE', '/me/avatar', t) },
      // Issue 18: one's own data; deleting one's account gets as far as the password check (a wrong one here, so the
      // role's user lives on: the real deletion is in accounts.test.ts).
      { name: 'me.export', ok: '200', run: (t) => call('GET', '/me/export', t) },
      {
        name: 'me.delete',
        ok: '401 invalid_credentials',
        run: (t) => call('DELETE', '/me', t, { password: 'not-the-password', messages: 'keep' }),
      },
    ];
    async function ownCells(): Promise<void> {
      for (const role of ROLES) {
        for (const a of OWN) {
          const want = outcome(signedOut(role) ? UNAUTHORIZED : null, a.ok);
          let got: string;
          try {
            got = show(await a.run(tokenOf(role)));
          } catch (err) {
            got = `threw: ${(err as Error).message}`;
          }
          record('http', role, a.name, 'server', want, got);
        }
      }
    }
    await Promise.all([...KINDS.map(httpCells), adminCells(), ownCells()]);

    // ---- WebSocket ------------------------------------------------------------------------------------------------
    // Anonymous: a socket that never authenticates (its frames are refused until a valid hello).
    live.anonymous = await openSocket();
    const userIdOf = (role: Role) => (role === 'anonymous' ? '' : stable[role].user.id);
    const closedAs = (sock: Sock) => (sock.code !== null ? `closed:${sock.code}` : null);

    // hello + resume: a new connection per role naming all three rooms in `resume`.
    for (const role of ROLES) {
      const sock = await openSocket();
      const token = role === 'anonymous' ? 'not-a-session-token' : stable[role].token;
      const resume = Object.fromEntries(KINDS.map((k) => [rooms[k], 0]));
      let welcome: Frame | null = null;
      try {
        welcome = await hello(sock, token, resume);
        if (welcome) await waitFor(() => syncedAll(sock, welcome!), 5000, 'synced').catch(() => {});
        else await waitFor(() => sock.code !== null, 3000).catch(() => {});
        await barrier(sock);
      } catch {
        // recorded below as whatever arrived
      }
      for (const kind of KINDS) {
        const helloOk = applicable('ws', role, 'ws.hello', kind);
        const resumeOk = applicable('ws', role, 'ws.resume', kind);
        const r = roomRole(role);
        const refused = closedAs(sock) ?? 'no welcome';
        if (helloOk) {
          const listed = (welcome?.rooms as { id: string }[] | undefined)?.some((x) => x.id === rooms[kind]);
          const want = signedOut(role)
            ? outcome('closed:4001', '')
            : outcome(r ? null : 'welcome:unlisted', 'welcome:listed');
          record(
            'ws',
            role,
            'ws.hello',
            kind,
            want,
            welcome ? (listed ? 'welcome:listed' : 'welcome:unlisted') : refused,
          );
        }
        if (resumeOk) {
          const replayed = sock.frames.some((f) => f.type === 'event' && (f.event as Frame).roomId === rooms[kind]);
          const want = signedOut(role) ? outcome('closed:4001', '') : outcome(r ? null : 'nothing', 'replayed');
          record('ws', role, 'ws.resume', kind, want, welcome ? (replayed ? 'replayed' : 'nothing') : refused);
        }
      }
      sock.close();
    }

    // Live delivery: the owner posts in each room (in the DM the owner is a plain member).
    const wsWant = (role: Role, ok: string, no: string): Want => {
      if (role === 'deactivated') return outcome('closed:4006', '');
      return outcome(roomRole(role) ? null : no, ok);
    };
    const liveBody: Record<string, string> = {};
    const mark = new Map<Role, number>();
    for (const role of ROLES) mark.set(role, live[role].frames.length);
    for (const kind of KINDS) {
      liveBody[kind] = `live ${kind} ${tag}`;
      await post(kind, owner.token, liveBody[kind]);
    }
    const gotLive = (role: Role, kind: RoomKind) =>
      live[role].frames
        .slice(mark.get(role))
        .some((f) => f.type === 'event' && (f.event as Frame).body === liveBody[kind]);
    await waitFor(
      () => KINDS.every((k) => ROLES.every((r) => !roomRole(r) || (k === 'dm' && NOT_IN_DM.has(r)) || gotLive(r, k))),
      5000,
    ).catch(() => {});
    for (const role of ROLES) await barrier(live[role]);
    for (const kind of KINDS) {
      for (const role of ROLES) {
        if (!applicable('ws', role, 'ws.live', kind)) continue;
        const got = gotLive(role, kind) ? 'delivered' : (closedAs(live[role]) ?? 'not delivered');
        record('ws', role, 'ws.live', kind, wsWant(role, 'delivered', 'not delivered'), got);
      }
    }

    /** The first frame answering `ref` (ack, error, pong), or the socket's close. */
    async function answer(sock: Sock, ref: string, ms = 3000): Promise<Frame | null> {
      await waitFor(() => sock.code !== null || sock.frames.some((f) => f.ref === ref), ms).catch(() => {});
      return sock.frames.find((f) => f.ref === ref) ?? null;
    }

    // The send frame.
    for (const kind of KINDS) {
      for (const role of ROLES) {
        if (!applicable('ws', role, 'ws.send', kind)) continue;
        const ref = `send-${++refN}`;
        const sock = live[role];
        sock.send({
          type: 'send',
          roomId: rooms[kind],
          clientMsgId: `ws-${refN}-${tag}`,
          body: `ws send ${refN}`,
          ref,
        });
        const f = await answer(sock, ref);
        const got = f ? (f.type === 'ack' ? 'ack' : `error:${String(f.code)}`) : (closedAs(sock) ?? 'no answer');
        let want: Want;
        if (role === 'anonymous') want = outcome('error:unauthorized', '');
        else if (role === 'deactivated') want = outcome('closed:4006', '');
        else {
          const denied = memberGate(kind, role) ?? (may('post', kind, standing(role)) ? null : '403 forbidden');
          want = outcome(denied && asWsError(denied), 'ack');
        }
        record('ws', role, 'ws.send', kind, want, got);
      }
    }

    // The typing frame: relayed to the room's other members, or an error frame.
    for (const kind of KINDS) {
      for (const role of ROLES) {
        if (!applicable('ws', role, 'ws.typing', kind)) continue;
        const sock = live[role];
        const watcher = role === 'owner' ? live.member : live.owner;
        const from = watcher.frames.length;
        const ref = `typing-${++refN}`;
        const relayed = () =>
          watcher.frames
            .slice(from)
            .some((f) => f.type === 'typing' && f.roomId === rooms[kind] && f.userId === userIdOf(role));
        sock.send({ type: 'typing', roomId: rooms[kind], ref });
        await waitFor(() => sock.code !== null || relayed() || sock.frames.some((f) => f.ref === ref), 3000).catch(
          () => {},
        );
        await barrier(watcher);
        const err = sock.frames.find((f) => f.ref === ref && f.type === 'error');
        let got = closedAs(sock) ?? 'nothing';
        if (err) got = `error:${String(err.code)}${relayed() ? '+relayed' : ''}`;
        else if (relayed()) got = 'relayed';
        let want: Want;
        if (role === 'anonymous') want = outcome('error:unauthorized', '');
        else if (role === 'deactivated') want = outcome('closed:4006', '');
        // The gateway refuses rooms the connection is not in with `not_member` before asking the services.
        else want = outcome(roomRole(role) ? null : 'error:not_member', 'relayed');
        record('ws', role, 'ws.typing', kind, want, got);
      }
    }

    // Presence: who hears a change (the owner goes away), and whose change a room hears (everyone goes away).
    const presenceFor = (sock: Sock, from: number, kind: RoomKind, userId: string) =>
      sock.frames
        .slice(from)
        .some(
          (f) =>
            f.type === 'presence' &&
            f.roomId === rooms[kind] &&
            (f.changes as { userId: string; status: string }[]).some((c) => c.userId === userId && c.status === 'away'),
        );
    /*
     * A frame that should not come is shown absent by a marker, not a pause: once each change under test has been
     * published in the lobby (every user is in it; the marker user hears it), the flush carrying it — its frames for
     * every room, wanted or not — has begun, and the marker's change, made after that, goes out in a later flush,
     * through the same bus, after that one's last frame. Every open socket hearing the marker has therefore
     * received whatever those changes sent it.
     */
    const lobbyHeard = (sock: Sock, from: number, userId: string, status: string) =>
      sock.frames
        .slice(from)
        .some(
          (f) =>
            f.type === 'presence' &&
            f.roomId === LOBBY_ROOM_ID &&
            (f.changes as { userId: string; status: string }[]).some((c) => c.userId === userId && c.status === status),
        );
    let markerStatus = 'online';
    const settle = async (check: () => boolean, madeBy: Role[], markerFrom: number) => {
      await waitFor(check, 5000).catch(() => {});
      // Bounded: a change that never goes out (or an open socket that never hears the marker) fails its cells.
      await waitFor(
        () =>
          madeBy.every((r) =>
            r === 'anonymous'
              ? live.anonymous.frames.some((f) => f.type === 'error' && f.code === 'unauthorized')
              : live[r].code !== null || lobbyHeard(markerSock, markerFrom, userIdOf(r), 'away'),
          ),
        5000,
      ).catch(() => {});
      markerStatus = markerStatus === 'online' ? 'away' : 'online';
      const from = new Map(ROLES.map((r) => [r, live[r].frames.length]));
      markerSock.send({ type: 'presence', status: markerStatus });
      await waitFor(
        () =>
          ROLES.every(
            (r) =>
              r === 'anonymous' || // not in any room: it cannot hear the marker (nor anything else; its barrier below)
              live[r].code !== null ||
              lobbyHeard(live[r], from.get(r)!, marker.user.id, markerStatus),
          ),
        5000,
      ).catch(() => {});
      for (const role of ROLES) await barrier(live[role]);
    };
    for (const role of ROLES) mark.set(role, live[role].frames.length);
    let markerFrom = markerSock.frames.length;
    live.owner.send({ type: 'presence', status: 'away' });
    const heard = (role: Role, kind: RoomKind) => presenceFor(live[role], mark.get(role)!, kind, owner.user.id);
    await settle(
      () => KINDS.every((k) => ROLES.every((r) => !roomRole(r) || (k === 'dm' && NOT_IN_DM.has(r)) || heard(r, k))),
      ['owner'],
      markerFrom,
    );
    for (const kind of KINDS) {
      for (const role of ROLES) {
        if (!applicable('ws', role, 'ws.presence.receive', kind)) continue;
        const got = heard(role, kind) ? 'received' : (closedAs(live[role]) ?? 'none');
        record('ws', role, 'ws.presence.receive', kind, wsWant(role, 'received', 'none'), got);
      }
    }
    live.owner.send({ type: 'presence', status: 'online' });
    await waitFor(
      () =>
        live.member.frames.some(
          (f) =>
            f.type === 'presence' &&
            (f.changes as { userId: string; status: string }[]).some(
              (c) => c.userId === owner.user.id && c.status === 'online',
            ),
        ),
      5000,
    ).catch(() => {});

    const watch = live.owner;
    const from = watch.frames.length;
    const anonFrom = live.anonymous.frames.length;
    markerFrom = markerSock.frames.length;
    for (const role of ROLES) if (role !== 'owner') live[role].send({ type: 'presence', status: 'away' });
    const published = (role: Role, kind: RoomKind) =>
      role !== 'anonymous' && presenceFor(watch, from, kind, userIdOf(role));
    await settle(
      () =>
        KINDS.every((k) =>
          ROLES.every((r) => r === 'owner' || !roomRole(r) || (k === 'dm' && NOT_IN_DM.has(r)) || published(r, k)),
        ),
      ROLES.filter((r) => r !== 'owner'),
      markerFrom,
    );
    for (const kind of KINDS) {
      for (const role of ROLES) {
        if (role === 'owner') continue; // the owner's own change is the receive cells above
        if (!applicable('ws', role, 'ws.presence.publish', kind)) continue;
        const err = live.anonymous.frames.slice(anonFrom).find((f) => f.type === 'error' && f.code === 'unauthorized');
        let got = published(role, kind) ? 'published' : (closedAs(live[role]) ?? 'not published');
        if (role === 'anonymous' && err && got === 'not published') got = 'error:unauthorized';
        const want =
          role === 'anonymous' ? outcome('error:unauthorized', '') : wsWant(role, 'published', 'not published');
        record('ws', role, 'ws.presence.publish', kind, want, got);
      }
    }

    for (const role of ROLES) live[role].close();
    markerSock.close();

    // ---- Summary --------------------------------------------------------------------------------------------------
    const summary = (t: Transport) => {
      const cells = results.filter((r) => r.transport === t);
      const na = notApplicable.filter((r) => r.transport === t).length;
      const allowed = cells.filter((r) => r.allow).length;
      return `${t} ${cells.length} (${allowed} allowed, ${cells.length - allowed} denied, ${na} n/a)`;
    };
    const mismatches = results
      .filter((r) => r.want !== r.got)
      .map((r) => `${r.role} × ${r.action} × ${r.kind} × ${r.transport}: expected ${r.want}, got ${r.got}`);
    console.log(
      `authorization matrix: ${results.length} cells checked, ${results.filter((r) => r.allow).length} allowed, ` +
        `${results.filter((r) => !r.allow).length} denied, ${notApplicable.length} not applicable — ` +
        `${summary('http')}; ${summary('ws')}; ${mismatches.length} mismatches; ${Date.now() - started} ms`,
    );
    expect(mismatches, `${mismatches.length} of ${results.length} cells do not match`).toEqual([]);
  });
});

/**
 * Bot tokens in the matrix (issue 16): every scope alone, all of them, and a room bot outside its room, × what bots
 * may and may never do, over HTTP and WebSocket. The expected cells are the literal grid BOT_GRID (the server
 * decides with BOT_ROUTES and FRAME_SCOPES: a wrong entry there must not move the expectation too).
 */
type BotCaller = 'read' | 'post' | 'react' | 'commands' | 'all' | 'otherRoomBot';
const BOT_CALLERS: readonly BotCaller[] = ['read', 'post', 'react', 'commands', 'all', 'otherRoomBot'];
/** Per action: which callers are allowed; everyone else gets `403 forbidden`. */
const BOT_GRID: Record<string, readonly BotCaller[]> = {
  'GET /me': ['read', 'all', 'otherRoomBot'],
  'GET room messages': ['read', 'all'],
  'GET room members': ['read', 'all'],
  'POST room message': ['post', 'all'],
  'PUT reaction': ['react', 'all'],
  'PUT /bots/me/commands': ['commands', 'all', 'otherRoomBot'],
  'POST /rooms (create)': [],
  'POST /dms': [],
  'PATCH room (settings)': [],
  'POST invite': [],
  'PUT room ban': [],
  'POST /bots (create a bot)': [],
  'GET /bots': [],
  'GET /admin/users': [],
  'POST /announcements': [],
  'POST /auth/logout-all': [],
  'POST /auth/password': [],
  'PATCH /me (profile)': [],
  'DELETE /me': [],
  'GET /me/export': [],
  'POST /admin/users/:id/reset-link': [],
  'ws hello': ['read', 'all', 'otherRoomBot'],
  'ws send': ['all'],
  'ws typing': ['all'],
};

describe('authorization matrix: bot tokens', () => {
  it('checks every bot scope × action over HTTP and WebSocket', { timeout: 90_000 }, async () => {
    const t: TestServer = await startServer();
    const admin = await registerUser(t.url); // first user: server admin
    const owner = await registerUser(t.url);
    const victim = await registerUser(t.url);
    const room = await owner.api.createRoom(`botmatrix${process.pid}`, 'public');
    const otherRoom = await owner.api.createRoom(`botmatrix2${process.pid}`, 'public');
    await victim.api.join(room.id);
    const target = await owner.api.sendMessage(room.id, 'react to me', 'target');
    const seq = target.message.seq;

    const tokens = {} as Record<BotCaller, string>;
    for (const caller of BOT_CALLERS) {
      const scopes =
        caller === 'all' || caller === 'otherRoomBot' ? (['read', 'post', 'react', 'commands'] as const) : [caller];
      const home = caller === 'otherRoomBot' ? otherRoom.id : room.id;
      tokens[caller] = (
        await admin.api.createBot({ username: `mx${caller}${process.pid}`, roomId: home, scopes: [...scopes] })
      ).token;
    }

    const call = async (method: string, path: string, token: string, body?: unknown): Promise<string> => {
      const res = await fetch(`${t.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (res.status < 300) return 'allowed';
      const code = text ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined;
      return `${res.status} ${code ?? '?'}`;
    };
    let n = 0;
    const http: Record<string, (token: string) => Promise<string>> = {
      'GET /me': (k) => call('GET', '/api/v1/me', k),
      'GET room messages': (k) => call('GET', `/api/v1/rooms/${room.id}/messages`, k),
      'GET room members': (k) => call('GET', `/api/v1/rooms/${room.id}/members`, k),
      'POST room message': (k) =>
        call('POST', `/api/v1/rooms/${room.id}/messages`, k, { body: 'hi', clientMsgId: `m${++n}` }),
      'PUT reaction': (k) =>
        call('PUT', `/api/v1/rooms/${room.id}/messages/${seq}/reactions/${encodeURIComponent('👍')}`, k),
      'PUT /bots/me/commands': (k) =>
        call('PUT', '/api/v1/bots/me/commands', k, { commands: [{ name: 'x', description: 'X' }] }),
      'POST /rooms (create)': (k) => call('POST', '/api/v1/rooms', k, { name: `botroom${++n}${process.pid}` }),
      'POST /dms': (k) => call('POST', '/api/v1/dms', k, { usernames: [victim.username] }),
      'PATCH room (settings)': (k) => call('PATCH', `/api/v1/rooms/${room.id}`, k, { topic: 'bot topic' }),
      'POST invite': (k) => call('POST', `/api/v1/rooms/${room.id}/invites`, k, { username: admin.username }),
      'PUT room ban': (k) => call('PUT', `/api/v1/rooms/${room.id}/bans/${victim.user.id}`, k, {}),
      'POST /bots (create a bot)': (k) =>
        call('POST', '/api/v1/bots', k, { username: `bb${++n}${process.pid}`, scopes: ['read'] }),
      'GET /bots': (k) => call('GET', '/api/v1/bots', k),
      'GET /admin/users': (k) => call('GET', '/api/v1/admin/users', k),
      'POST /announcements': (k) => call('POST', '/api/v1/announcements', k, { body: 'hello all' }),
      'POST /auth/logout-all': (k) => call('POST', '/api/v1/auth/logout-all', k),
      'POST /auth/password': (k) =>
        call('POST', '/api/v1/auth/password', k, { currentPassword: 'whatever12', newPassword: 'whatever34' }),
      'PATCH /me (profile)': (k) => call('PATCH', '/api/v1/me', k, { statusText: 'beep' }),
      'DELETE /me': (k) => call('DELETE', '/api/v1/me', k, { password: 'whatever12', messages: 'erase' }),
      'GET /me/export': (k) => call('GET', '/api/v1/me/export', k),
      'POST /admin/users/:id/reset-link': (k) => call('POST', `/api/v1/admin/users/${victim.user.id}/reset-link`, k),
    };

    /** hello, then one frame; what the server answered (an ack/typing echo → allowed, an error frame → its code). */
    const ws = async (token: string, frame: Record<string, unknown> | null): Promise<string> => {
      const sock = await rawSocket(t.url);
      sock.send({ type: 'hello', v: PROTOCOL_VERSION, token });
      const first = await waitFor(
        () => sock.frames.find((f) => f.type === 'welcome' || f.type === 'error'),
        5000,
        'hello answer',
      );
      if (first?.type === 'error') return `403 ${String(first.code)}`;
      if (!frame) return 'allowed';
      sock.send({ ...frame, ref: 'x' });
      // A typing frame has no answer when allowed: a ping after it is the positive marker. A send is answered (ack
      // or error) after the store, so it waits for that answer itself.
      if (frame.type !== 'send') sock.send({ type: 'ping', ref: 'marker' });
      const answer = await waitFor(
        () =>
          sock.frames.find((f) => (f.type === 'error' || f.type === 'ack') && f.ref === 'x') ??
          sock.frames.find((f) => f.type === 'pong' && f.ref === 'marker'),
        5000,
        'frame answer',
      );
      sock.ws.close();
      return answer?.type === 'error' ? `403 ${String(answer.code)}` : 'allowed';
    };
    const wsActions: Record<string, (token: string) => Promise<string>> = {
      'ws hello': (k) => ws(k, null),
      'ws send': (k) => ws(k, { type: 'send', roomId: room.id, body: 'over ws', clientMsgId: `w${++n}` }),
      'ws typing': (k) => ws(k, { type: 'typing', roomId: room.id }),
    };

    const mismatches: string[] = [];
    let cells = 0;
    for (const [action, allowed] of Object.entries(BOT_GRID)) {
      const run = http[action] ?? wsActions[action];
      if (!run) throw new Error(`no runner for ${action}`);
      for (const caller of BOT_CALLERS) {
        cells++;
        const want = allowed.includes(caller) ? 'allowed' : '403 forbidden';
        const got = await run(tokens[caller]);
        if (got !== want) mismatches.push(`${caller} × ${action}: expected ${want}, got ${got}`);
      }
    }
    console.log(`authorization matrix (bots): ${cells} cells, ${mismatches.length} mismatches`);
    expect(mismatches).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { ChatApi, ApiError } from '../../src/client/api.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { rawSocket, registerUser, startServer, waitFor, type TestServer, type TestUser } from '../helpers/harness.js';

/** Bot accounts (issue 16): creation, who may manage them, tokens and rotation, the bot flag, login refusal. */
describe('bots', () => {
  let t: TestServer;
  let admin: TestUser;
  let owner: TestUser;
  let other: TestUser;
  let roomId: string;

  /** A server per test (the harness stops it when the test ends): an admin (the first user), a room owner, another. */
  async function setup() {
    t = await startServer();
    admin = await registerUser(t.url);
    owner = await registerUser(t.url);
    other = await registerUser(t.url);
    roomId = (await owner.api.createRoom(`botroom${process.pid}`, 'public')).id;
  }

  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'ok';
    } catch (err) {
      return err instanceof ApiError ? `${err.status} ${err.code}` : String(err);
    }
  };

  it('server admin creates a server-wide bot; it is marked bot and cannot log in by password', async () => {
    await setup();
    const { bot, token } = await admin.api.createBot({ username: `srv${process.pid}`, scopes: ['read', 'post'] });
    expect(bot.bot).toBe(true);
    const api = new ChatApi(t.url, token);
    const me = await api.me();
    expect(me).toMatchObject({ id: bot.id, bot: true });
    // Everyone sees the flag, e.g. in a user lookup.
    expect(await other.api.user(bot.id)).toMatchObject({ user: { bot: true } });
    expect(await other.api.me()).not.toHaveProperty('bot');
    // No password works for a bot, not even the empty marker hash.
    expect(await code(new ChatApi(t.url).login(bot.username, 'correct horse battery'))).toBe('401 invalid_credentials');
    expect((await admin.api.bots()).map((b) => b.bot.id)).toContain(bot.id);
    // Only server admins create server-wide bots.
    expect(await code(owner.api.createBot({ username: `nope${process.pid}`, scopes: ['read'] }))).toBe('403 forbidden');
    // A bot creates no bots and administers nothing, whatever its scopes.
    expect(await code(api.createBot({ username: `bb${process.pid}`, scopes: ['read'] }))).toBe('403 forbidden');
    expect(await code(api.adminUsers())).toBe('403 forbidden');
  });

  it('a room owner creates a room bot, which joins that room and no other', async () => {
    await setup();
    expect(await code(other.api.createBot({ username: `rb0${process.pid}`, roomId, scopes: ['read'] }))).toBe(
      '403 forbidden',
    );
    const { bot, token } = await owner.api.createBot({
      username: `rb${process.pid}`,
      roomId,
      scopes: ['read', 'post'],
    });
    const members = await owner.api.members(roomId);
    expect(members.members.map((m) => m.user.id)).toContain(bot.id);
    expect(members.members.find((m) => m.user.id === bot.id)?.user.bot).toBe(true);
    const listed = await owner.api.bots();
    expect(listed).toEqual([expect.objectContaining({ roomId, createdBy: owner.user.id, scopes: ['read', 'post'] })]);
    expect(await other.api.bots()).toEqual([]);
    const api = new ChatApi(t.url, token);
    const sent = await api.sendMessage(roomId, 'hello from a bot', 'b1');
    expect(sent.message).toMatchObject({ senderId: bot.id, body: 'hello from a bot' });
    const elsewhere = await other.api.createRoom(`else${process.pid}`, 'public');
    expect(await code(api.join(elsewhere.id))).toBe('403 forbidden');
    // Nor can anyone invite it elsewhere.
    expect(await code(other.api.invite(elsewhere.id, bot.username))).toBe('403 forbidden');
  });

  it('rotating a token kills the old token and its sockets at once', async () => {
    await setup();
    const { bot, token } = await owner.api.createBot({ username: `rot${process.pid}`, roomId, scopes: ['read'] });
    const sock = await rawSocket(t.url);
    sock.send({ type: 'hello', v: PROTOCOL_VERSION, token });
    await waitFor(() => sock.frames.find((f) => f.type === 'welcome'), 5000, 'welcome');
    const welcome = sock.frames.find((f) => f.type === 'welcome') as { user: { bot?: boolean } };
    expect(welcome.user.bot).toBe(true);
    const fresh = await owner.api.rotateBotToken(bot.id);
    expect((await sock.closed).code).toBe(4003);
    expect(await code(new ChatApi(t.url, token).me())).toBe('401 unauthorized');
    expect(await new ChatApi(t.url, fresh).me()).toMatchObject({ id: bot.id });
    // Another room's owner may not rotate it.
    expect(await code(other.api.rotateBotToken(bot.id))).toBe('403 forbidden');
    // Deleting it ends the new token too.
    await owner.api.deleteBot(bot.id);
    expect(await code(new ChatApi(t.url, fresh).me())).toBe('401 unauthorized');
    expect((await owner.api.bots()).map((b) => b.bot.id)).not.toContain(bot.id);
  });

  it('a token without the read scope may not open a socket', async () => {
    await setup();
    const { token } = await owner.api.createBot({ username: `wo${process.pid}`, roomId, scopes: ['post'] });
    const sock = await rawSocket(t.url);
    sock.send({ type: 'hello', v: PROTOCOL_VERSION, token });
    expect((await sock.closed).code).toBe(4001);
    expect(sock.frames).toEqual([expect.objectContaining({ type: 'error', code: 'forbidden' })]);
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import type { CommandInfo, CommandResult } from '../../src/protocol/commands.js';
import type { Member, PublicUser, RoomEvent } from '../../src/protocol/model.js';
import { registerUser, startServer } from '../helpers/harness.js';
import { call, cast, expectStatus, history, httpSend, live, type Live } from '../helpers/moderation-kit.js';

/**
 * Issue 16, slash commands end to end: `POST /api/v1/rooms/:roomId/commands` runs each built-in through the same
 * service and permission checks as its own route (a member without the right gets `forbidden` and nothing changes),
 * bad arguments answer `command_usage` with the usage line, an unknown command is `unknown_command` and never
 * posted, `//text` posts `/text`; `GET …/commands` lists them. Runs on both backends (vitest.config.ts).
 */

const run = (url: string, token: string, roomId: string, text: string, clientMsgId?: string) =>
  call<{ result: CommandResult }>(url, token, 'POST', `/api/v1/rooms/${roomId}/commands`, {
    text,
    ...(clientMsgId ? { clientMsgId } : {}),
  });

async function ok(url: string, token: string, roomId: string, text: string): Promise<CommandResult> {
  const r = await run(url, token, roomId, text);
  expect({ [text]: [r.status, r.body.error] }).toEqual({ [text]: [200, undefined] });
  return r.body.result;
}

async function refused(url: string, token: string, roomId: string, text: string, status: number, code: string) {
  const r = await run(url, token, roomId, text);
  expect({ [text]: [r.status, r.body.error?.code] }).toEqual({ [text]: [status, code] });
  return r.body.error!;
}

/** The room's last seq, read over HTTP (every event kind). */
async function lastSeq(url: string, token: string, roomId: string): Promise<number> {
  const r = await call<{ events: RoomEvent[] }>(url, token, 'GET', `/api/v1/rooms/${roomId}/events?limit=200`);
  expect(r.status).toBe(200);
  return r.body.events.reduce((m, e) => Math.max(m, e.seq), 0);
}

/** Waits for a marker message sent after the commands under test, then returns the room events before it. */
async function eventsBeforeMarker(l: Live, url: string, token: string, roomId: string, from: number) {
  const marker = `marker ${Math.random()}`;
  expect((await httpSend(url, token, roomId, marker)).status).toBe(201);
  await l.next((f) => f.type === 'event' && (f.event as RoomEvent).body === marker, 'the marker message', from);
  const evs = l.frames.slice(from).flatMap((f) => (f.type === 'event' ? [f.event as RoomEvent] : []));
  return evs.slice(
    0,
    evs.findIndex((e) => e.body === marker),
  );
}

describe('slash commands', () => {
  it('GET lists the built-ins with hints; /help is ephemeral; unknown commands are refused and never posted', async () => {
    const srv = await startServer();
    const { alice, bob, roomId } = await cast(srv.url);
    const b = await live(srv.url, bob.token);
    const from = b.frames.length;

    const list = await expectStatus<{ commands: CommandInfo[] }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${roomId}/commands`,
      undefined,
      200,
    );
    expect(list.commands.map((c) => c.name)).toEqual([
      'me',
      'shrug',
      'topic',
      'invite',
      'kick',
      'ban',
      'mute',
      'slow',
      'nick',
      'away',
      'help',
    ]);
    expect(list.commands.find((c) => c.name === 'ban')).toMatchObject({
      source: 'builtin',
      argsHint: '@user [duration] [reason]',
    });

    const help = await ok(srv.url, alice.token, roomId, '/help');
    expect(help).toMatchObject({ kind: 'ephemeral', command: 'help' });
    expect(help.kind === 'ephemeral' && help.text).toContain('/kick @user [reason]');
    const one = await ok(srv.url, alice.token, roomId, '/HELP /ban');
    expect(one.kind === 'ephemeral' && one.commands?.map((c) => c.name)).toEqual(['ban']);

    const seq = await lastSeq(srv.url, alice.token, roomId);
    const unknown = await refused(srv.url, alice.token, roomId, '/frobnicate now', 400, 'unknown_command');
    expect(unknown.message).toContain('/frobnicate');
    await refused(srv.url, alice.token, roomId, '/ spaced', 400, 'unknown_command');
    await refused(srv.url, alice.token, roomId, '/123', 400, 'unknown_command');
    await refused(srv.url, alice.token, roomId, '/help frobnicate', 400, 'unknown_command');
    expect(await lastSeq(srv.url, alice.token, roomId)).toBe(seq);
    // Not a command at all: the route takes only text starting with "/".
    await expectStatus(
      srv.url,
      alice.token,
      'POST',
      `/api/v1/rooms/${roomId}/commands`,
      { text: 'hi' },
      400,
      'validation_failed',
    );

    // Nothing of the above reached bob: the marker sent after them is the first event he gets.
    expect(await eventsBeforeMarker(b, srv.url, alice.token, roomId, from)).toEqual([]);
    // A stranger to a private room sees neither list nor commands.
    const stranger = await registerUser(srv.url, 'stranger');
    const priv = await alice.api.createRoom('secret', 'private');
    await expectStatus(
      srv.url,
      stranger.token,
      'GET',
      `/api/v1/rooms/${priv.id}/commands`,
      undefined,
      404,
      'room_not_found',
    );
    await refused(srv.url, stranger.token, priv.id, '/help', 404, 'room_not_found');
    b.close();
  });

  it('/me posts an action message, /shrug appends the shrug, //text posts /text; clientMsgId makes them idempotent', async () => {
    const srv = await startServer();
    const { mod, alice, bob, roomId } = await cast(srv.url);
    const b = await live(srv.url, bob.token);
    const from = b.frames.length;

    const me = await ok(srv.url, alice.token, roomId, '/me waves at "everyone"');
    expect(me).toMatchObject({
      kind: 'message',
      duplicate: false,
      message: { body: 'waves at "everyone"', senderId: alice.user.id, data: { emote: true } },
    });
    const again = await run(srv.url, alice.token, roomId, '/shrug fine', 'shrug-1');
    const retry = await run(srv.url, alice.token, roomId, '/shrug fine', 'shrug-1');
    expect(again.body.result).toMatchObject({
      kind: 'message',
      duplicate: false,
      message: { body: 'fine ¯\\_(ツ)_/¯' },
    });
    expect(retry.body.result).toMatchObject({ kind: 'message', duplicate: true });
    const escaped = await ok(srv.url, alice.token, roomId, '//etc/hosts is a file');
    expect(escaped).toMatchObject({ kind: 'message', message: { body: '/etc/hosts is a file' } });
    expect(escaped.kind === 'message' && escaped.message.data).toBeNull();
    await refused(srv.url, alice.token, roomId, '/me', 400, 'command_usage');

    const got = await eventsBeforeMarker(b, srv.url, alice.token, roomId, from);
    expect(got.map((e) => [e.type, e.body, e.data?.emote ?? null])).toEqual([
      ['message', 'waves at "everyone"', true],
      ['message', 'fine ¯\\_(ツ)_/¯', null],
      ['message', '/etc/hosts is a file', null],
    ]);
    // History carries the emote flag too, and the seqs are gap-free.
    const h = (await history(srv.url, bob.token, roomId)).filter((e) => e.senderId === alice.user.id);
    expect(h.find((e) => e.body === 'waves at "everyone"')?.data).toMatchObject({ emote: true });
    for (let i = 1; i < got.length; i++) expect(got[i]!.seq).toBe(got[i - 1]!.seq + 1);
    // A muted member's /me is refused like a send.
    await ok(srv.url, mod.token, roomId, '/mute @alice 10m');
    await refused(srv.url, alice.token, roomId, '/me still here', 403, 'muted');
    b.close();
  });

  it('moderation commands act like their routes: forbidden without the right (nothing changes), done with it', async () => {
    const srv = await startServer();
    const { owner, mod, alice, bob, roomId } = await cast(srv.url);
    const b = await live(srv.url, bob.token);
    const seq = await lastSeq(srv.url, owner.token, roomId);

    // alice, a plain member, may do none of these: forbidden, and the room sequence does not move.
    for (const text of [
      '/kick @bob',
      '/ban @bob 1h spam',
      '/mute bob',
      '/slow 30',
      '/topic new topic',
      '/kick @nobody',
    ]) {
      await refused(srv.url, alice.token, roomId, text, 403, 'forbidden');
    }
    // A moderator may not change settings or the topic either (room admins may), nor act on the owner.
    await refused(srv.url, mod.token, roomId, '/slow 30', 403, 'forbidden');
    await refused(srv.url, mod.token, roomId, '/kick @owner', 403, 'forbidden');
    expect(await lastSeq(srv.url, owner.token, roomId)).toBe(seq);
    expect((await owner.api.room(roomId)).settings.slowModeSeconds).toBe(0);

    // Bad arguments: the usage line, nothing done.
    expect((await refused(srv.url, mod.token, roomId, '/kick', 400, 'command_usage')).message).toContain(
      'Usage: /kick @user [reason]',
    );
    await refused(srv.url, mod.token, roomId, '/ban @bob "unterminated', 400, 'command_usage');
    await refused(srv.url, mod.token, roomId, '/ban @bob 999999999d', 400, 'command_usage');
    await refused(srv.url, owner.token, roomId, '/slow soon', 400, 'command_usage');
    await refused(srv.url, owner.token, roomId, '/slow 7h', 400, 'command_usage');
    await refused(srv.url, mod.token, roomId, '/kick @ghost-user', 404, 'user_not_found');
    expect(await lastSeq(srv.url, owner.token, roomId)).toBe(seq);

    // With the right: the same events as the routes, on the room sequence.
    const muted = await ok(srv.url, mod.token, roomId, '/mute @alice 10m "too loud"');
    expect(muted).toMatchObject({ kind: 'done', command: 'mute', target: { id: alice.user.id }, durationSec: 600 });
    await b.next((f) => f.type === 'event' && (f.event as RoomEvent).type === 'member.muted', 'member.muted');
    const members = await call<{ members: Member[] }>(srv.url, owner.token, 'GET', `/api/v1/rooms/${roomId}/members`);
    const until = Date.parse(members.body.members.find((m) => m.user.id === alice.user.id)!.mutedUntil!);
    expect(until - Date.now()).toBeGreaterThan(500_000);
    expect(until - Date.now()).toBeLessThanOrEqual(600_000);

    const slow = await ok(srv.url, owner.token, roomId, '/slow 5m');
    expect(slow).toMatchObject({ kind: 'done', room: { settings: { slowModeSeconds: 300 } } });
    expect((await ok(srv.url, owner.token, roomId, '/slow off')).kind).toBe('done');
    expect((await owner.api.room(roomId)).settings.slowModeSeconds).toBe(0);

    await ok(srv.url, owner.token, roomId, '/topic  Release  "v2" on Friday ');
    expect((await owner.api.room(roomId)).topic).toBe('Release  "v2" on Friday');
    expect(await ok(srv.url, bob.token, roomId, '/topic')).toMatchObject({
      kind: 'ephemeral',
      text: 'Topic: Release  "v2" on Friday',
    });
    await ok(srv.url, owner.token, roomId, '/topic ""');
    expect((await owner.api.room(roomId)).topic).toBe('');

    await ok(srv.url, mod.token, roomId, '/kick @bob');
    await b.next(
      (f) => f.type === 'room.removed' || (f.type === 'event' && (f.event as RoomEvent).type === 'member.left'),
      'bob kicked',
    );
    await ok(srv.url, mod.token, roomId, '/ban bob 2h spamming links');
    const bans = await call<{ bans: { user: PublicUser; reason: string; until: string }[] }>(
      srv.url,
      mod.token,
      'GET',
      `/api/v1/rooms/${roomId}/bans`,
    );
    expect(bans.body.bans.map((x) => [x.user.username, x.reason])).toEqual([['bob', 'spamming links']]);
    expect(Date.parse(bans.body.bans[0]!.until) - Date.now()).toBeGreaterThan(7_000_000);
    await expectStatus(srv.url, bob.token, 'POST', `/api/v1/rooms/${roomId}/join`, undefined, 403, 'banned');

    // The events are those of the routes, in order and gap-free.
    const evs = (
      await call<{ events: RoomEvent[] }>(
        srv.url,
        owner.token,
        'GET',
        `/api/v1/rooms/${roomId}/events?after=${seq}&limit=200`,
      )
    ).body.events;
    expect(evs.map((e) => e.type)).toEqual([
      'member.muted',
      'room.updated',
      'room.updated',
      'room.updated',
      'room.updated',
      'member.left',
    ]);
    evs.forEach((e, i) => expect(e.seq).toBe(seq + 1 + i));
    // The audit log records them as the routes do.
    const audit = await call<{ entries: { action: string }[] }>(
      srv.url,
      owner.token,
      'GET',
      `/api/v1/rooms/${roomId}/audit`,
    );
    expect(audit.body.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['room.mute', 'room.kick', 'room.ban', 'room.settings']),
    );
    b.close();
  });

  it('/invite, /nick and /away go through the invite and profile rules', async () => {
    const srv = await startServer();
    const { owner, alice, bob, roomId } = await cast(srv.url);
    const priv = await owner.api.createRoom('inner', 'private');
    await owner.api.invite(priv.id, 'alice');
    await alice.api.acceptInvite(priv.id);
    // Members of a private room may not invite (admins may): forbidden, no invite made.
    await refused(srv.url, alice.token, priv.id, '/invite @bob', 403, 'forbidden');
    expect(await bob.api.invites()).toEqual([]);
    await refused(srv.url, owner.token, priv.id, '/invite', 400, 'command_usage');
    await refused(srv.url, owner.token, priv.id, '/invite @bob @carol', 400, 'command_usage');
    await refused(srv.url, owner.token, priv.id, '/invite @nobody-here', 404, 'user_not_found');
    expect(await ok(srv.url, owner.token, priv.id, '/invite @bob')).toMatchObject({
      kind: 'done',
      target: { id: bob.user.id },
    });
    expect((await bob.api.invites()).map((i) => i.room.id)).toEqual([priv.id]);

    const nick = await ok(srv.url, alice.token, roomId, '/nick "Alice  Liddell"');
    expect(nick).toMatchObject({ kind: 'done', user: { displayName: 'Alice  Liddell' } });
    expect((await bob.api.user(alice.user.id)).user.displayName).toBe('Alice  Liddell');
    await refused(srv.url, alice.token, roomId, '/nick', 400, 'command_usage');
    await refused(srv.url, alice.token, roomId, `/nick ${'x'.repeat(65)}`, 400, 'command_usage');

    expect(await ok(srv.url, alice.token, roomId, '/away lunch, back at 2')).toMatchObject({
      kind: 'done',
      away: true,
      user: { statusText: 'lunch, back at 2' },
    });
    expect(await ok(srv.url, alice.token, roomId, '/away')).toMatchObject({ away: false, user: { statusText: '' } });
    expect((await bob.api.user(alice.user.id)).user.statusText).toBe('');
  });

  it('bot commands: listed next to the built-ins, dispatched to the bot as a command frame; the bot answers by posting', async () => {
    const srv = await startServer();
    const { owner, alice, bob, roomId } = await cast(srv.url);
    const { bot, token } = await owner.api.createBot({
      username: 'deploybot',
      roomId,
      scopes: ['read', 'post', 'commands'],
    });
    const botApi = new ChatApi(srv.url, token);
    await botApi.setBotCommands([
      { name: 'deploy', description: 'Deploy a service', argsHint: '<service> [env]' },
      // A bot cannot take over a built-in: /kick stays the moderation command.
      { name: 'kick', description: 'Not the real kick' },
    ]);

    const list = await expectStatus<{ commands: CommandInfo[] }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${roomId}/commands`,
      undefined,
      200,
    );
    expect(list.commands.filter((c) => c.source === 'bot')).toEqual([
      { name: 'deploy', description: 'Deploy a service', argsHint: '<service> [env]', source: 'bot', botId: bot.id },
    ]);
    expect(list.commands.filter((c) => c.name === 'kick')).toEqual([
      expect.objectContaining({ source: 'builtin', argsHint: '@user [reason]' }),
    ]);
    const help = await ok(srv.url, alice.token, roomId, '/help');
    expect(help.kind === 'ephemeral' && help.text).toContain('/deploy <service> [env] — Deploy a service');

    // The bot not connected: 503 bot_unavailable, nothing posted.
    const seq = await lastSeq(srv.url, alice.token, roomId);
    await refused(srv.url, alice.token, roomId, '/deploy api', 503, 'bot_unavailable');
    expect(await lastSeq(srv.url, alice.token, roomId)).toBe(seq);

    // Connected: the invocation reaches the bot's socket with the invoker's profile; the bot replies by posting.
    const botLive = await live(srv.url, token);
    const b = await live(srv.url, bob.token);
    const r = await ok(srv.url, alice.token, roomId, '/DEPLOY  api  "prod eu" ');
    expect(r).toMatchObject({ kind: 'dispatched', command: 'deploy', botId: bot.id });
    const frame = await botLive.next((f) => f.type === 'command', 'the command frame at the bot');
    expect(frame).toMatchObject({
      type: 'command',
      invocationId: r.kind === 'dispatched' ? r.invocationId : '',
      roomId,
      name: 'deploy',
      args: 'api  "prod eu"',
      user: { id: alice.user.id, username: 'alice' },
    });
    await botApi.sendMessage(roomId, 'deploying api to prod eu', 'bot-1');
    const reply = await b.next(
      (f) => f.type === 'event' && (f.event as RoomEvent).body === 'deploying api to prod eu',
      'the bot reply at bob',
    );
    expect((reply.event as RoomEvent).senderId).toBe(bot.id);
    // Nobody but the bot got the invocation.
    expect(b.frames.some((f) => f.type === 'command')).toBe(false);

    // A muted member may not invoke a bot (it would be a way to speak); an unknown name stays unknown.
    await ok(srv.url, owner.token, roomId, '/mute @alice');
    await refused(srv.url, alice.token, roomId, '/deploy api', 403, 'muted');
    await refused(srv.url, bob.token, roomId, '/deploy2 api', 400, 'unknown_command');
    // The bot removed: its command is gone from the list.
    await owner.api.deleteBot(bot.id);
    const after = await bob.api.commands(roomId);
    expect(after.filter((c) => c.source === 'bot')).toEqual([]);
    await refused(srv.url, bob.token, roomId, '/deploy api', 400, 'unknown_command');
    botLive.close();
    b.close();
  });

  it('the curl example of docs/integrations.md runs as written', async () => {
    const srv = await startServer();
    const { owner, roomId } = await cast(srv.url);
    const doc = readFileSync('docs/integrations.md', 'utf8');
    const block = /```sh slash-commands-example\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block, 'the example block in docs/integrations.md').toBeDefined();
    // Async: the server answering curl runs in this process.
    const { stdout: out } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', block!], {
      env: { PATH: process.env.PATH ?? '', SERVER: srv.url, TOKEN: owner.token, ROOM: roomId },
      encoding: 'utf8',
      timeout: 20_000,
    });
    // curl -s prints the three answers back to back.
    const answers = out
      .replace(/}{/g, '}\n{')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect((answers[0] as { commands: CommandInfo[] }).commands.map((c) => c.name)).toContain('kick');
    expect(answers[1]).toMatchObject({
      result: { kind: 'done', command: 'topic', room: { topic: 'Release on Friday' } },
    });
    expect(answers[2]).toMatchObject({
      result: { kind: 'message', duplicate: false, message: { body: 'ships v2', data: { emote: true } } },
    });
    expect((await owner.api.room(roomId)).topic).toBe('Release on Friday');
  });
});

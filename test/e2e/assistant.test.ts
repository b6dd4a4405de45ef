import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RoomEvent } from '../../src/protocol/model.js';
import { startServer } from '../helpers/harness.js';
import { startFakeOpenAi, type FakeOptions } from '../helpers/fake-openai.js';
import { call, cast, expectStatus, history, httpSend, live, type Frame, type Live } from '../helpers/moderation-kit.js';

/**
 * The built-in assistant end to end (issue 16), on both backends of the store: a room admin adds it, it answers
 * @mentions and DMs from the FAQ engine (the documented sample file) or from an OpenAI-compatible endpoint — a fake
 * one on loopback (test/helpers/fake-openai.ts) that streams, stalls, fails with 500 or sends malformed SSE — within
 * the per-room budget. Streamed text arrives as `assistant.stream` frames; the room's sequence gets one final
 * message, so history holds exactly the answer.
 */
const FAQ_FILE = fileURLToPath(new URL('../../docs/examples/faq.md', import.meta.url));

type Assistant = { added: boolean; user: { id: string; username: string }; backend: string };

const addAssistant = (url: string, token: string, roomId: string) =>
  expectStatus<{ assistant: Assistant }>(url, token, 'PUT', `/api/v1/rooms/${roomId}/assistant`, undefined, 200);

const isStream = (f: Frame, state?: string) => f.type === 'assistant.stream' && (!state || f.state === state);
const isMessageFrom = (userId: string) => (f: Frame) =>
  f.type === 'event' && (f.event as RoomEvent).type === 'message' && (f.event as RoomEvent).senderId === userId;

/** Sends `body` and waits for the last frame of the assistant's answer to it (`done` or `error`). */
async function askAndWait(l: Live, url: string, token: string, roomId: string, body: string, timeoutMs = 5000) {
  const from = l.frames.length;
  const sent = await httpSend(url, token, roomId, body);
  expect(sent.status).toBe(201);
  const q = sent.body.message;
  const end = await l.next(
    (f) => isStream(f) && f.replyTo === q.seq && f.state !== 'streaming',
    `the end of the answer to ${q.seq}`,
    from,
    timeoutMs,
  );
  return { question: q, end, from };
}

async function fakeEndpoint(opts: FakeOptions = {}) {
  const fake = await startFakeOpenAi(opts);
  onTestFinished(() => fake.close());
  return fake;
}

describe('assistant: adding and removing', () => {
  it('room admins add and remove it (member events on the sequence); members may not; a server without one says so', async () => {
    const none = await startServer();
    const u = await cast(none.url);
    await expectStatus(none.url, u.alice.token, 'GET', '/api/v1/assistant', undefined, 404, 'assistant_disabled');
    await expectStatus(
      none.url,
      u.owner.token,
      'PUT',
      `/api/v1/rooms/${u.roomId}/assistant`,
      undefined,
      404,
      'assistant_disabled',
    );

    const srv = await startServer({ assistantFaqFile: FAQ_FILE });
    // Its account is made at start (on every node), before anyone registers — a bot, which does not take the
    // place of the first user: the first person to register still becomes the server admin.
    const early = await srv.server.ports.store.getUserByUsername('assistant');
    expect(early?.bot).toBe(true);
    const { admin, owner, mod, alice, roomId } = await cast(srv.url);
    expect(admin.user.role).toBe('admin');
    const info = await expectStatus<{ assistant: Assistant }>(
      srv.url,
      alice.token,
      'GET',
      '/api/v1/assistant',
      undefined,
      200,
    );
    expect(info.assistant).toMatchObject({
      user: { username: 'assistant', bot: true },
      backend: 'faq',
      answersPerHour: 30,
    });
    expect(info.assistant.user.id).toBe(early!.id);
    // Another start on the same store (a restart, or another node) finds the same account.
    await srv.restart();
    const again = await expectStatus<{ assistant: Assistant }>(
      srv.url,
      alice.token,
      'GET',
      '/api/v1/assistant',
      undefined,
      200,
    );
    expect(again.assistant.user.id).toBe(info.assistant.user.id);
    // Not a bot anyone manages by hand: not in the admin's list, and neither rotated nor deleted.
    const bots = await expectStatus<{ bots: { bot: { id: string } }[] }>(
      srv.url,
      admin.token,
      'GET',
      '/api/v1/bots',
      undefined,
      200,
    );
    expect(bots.bots.map((b) => b.bot.id)).not.toContain(info.assistant.user.id);
    const mine = `/api/v1/bots/${info.assistant.user.id}`;
    await expectStatus(srv.url, admin.token, 'POST', `${mine}/token`, undefined, 404, 'not_found');
    await expectStatus(srv.url, admin.token, 'DELETE', mine, undefined, 404, 'not_found');
    for (const who of [alice, mod]) {
      await expectStatus(srv.url, who.token, 'PUT', `/api/v1/rooms/${roomId}/assistant`, undefined, 403, 'forbidden');
    }
    const watcher = await live(srv.url, alice.token);
    const added = await addAssistant(srv.url, owner.token, roomId);
    expect(added.assistant.added).toBe(true);
    const joined = await watcher.next(
      (f) =>
        f.type === 'event' &&
        (f.event as RoomEvent).type === 'member.joined' &&
        (f.event as RoomEvent).senderId === owner.user.id,
      'member.joined of the assistant',
    );
    expect((joined.event as RoomEvent).data).toMatchObject({ userId: info.assistant.user.id });
    // Adding twice appends nothing more.
    expect((await addAssistant(srv.url, owner.token, roomId)).assistant.added).toBe(true);
    const status = await expectStatus<{ assistant: Assistant }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${roomId}/assistant`,
      undefined,
      200,
    );
    expect(status.assistant.added).toBe(true);
    // A server admin who is not a member may remove it from a public room.
    const removed = await expectStatus<{ assistant: Assistant }>(
      srv.url,
      admin.token,
      'DELETE',
      `/api/v1/rooms/${roomId}/assistant`,
      undefined,
      200,
    );
    expect(removed.assistant.added).toBe(false);
    const all = await call<{ events: RoomEvent[] }>(
      srv.url,
      alice.token,
      'GET',
      `/api/v1/rooms/${roomId}/events?limit=200`,
    );
    const events = all.body.events.filter(
      (e) =>
        (e.type === 'member.joined' || e.type === 'member.left') &&
        (e.data as { userId?: string } | null)?.userId === info.assistant.user.id,
    );
    expect(events.map((e) => e.type)).toEqual(['member.joined', 'member.left']);
    // Removed, @assistant names no member: nothing is asked. The marker is an answer in a DM, asked afterwards.
    const q = await httpSend(srv.url, alice.token, roomId, '@assistant how do I reset my password?');
    expect(q.body.message.data?.mentions).toBeUndefined();
    const dm = await alice.api.openDm('assistant');
    await watcher.next((f) => f.type === 'room.added', 'the DM at alice');
    await askAndWait(watcher, srv.url, alice.token, dm.id, 'when are you open?');
    const answers = (await history(srv.url, alice.token, roomId)).filter((e) => e.senderId === info.assistant.user.id);
    expect(answers).toEqual([]);
  });
});

describe('assistant: the FAQ engine', () => {
  it('answers an @mention in the room with the FAQ answer, as a reply, once; says it does not know below the threshold', async () => {
    const srv = await startServer({ assistantFaqFile: FAQ_FILE });
    const { owner, alice, bob, roomId } = await cast(srv.url);
    const me = (await addAssistant(srv.url, owner.token, roomId)).assistant.user;
    const b = await live(srv.url, bob.token);
    // Not mentioned: not asked. (The mention below is the marker: its answer must be the only one.)
    await httpSend(srv.url, alice.token, roomId, 'how do I reset my password?');
    const { question, end } = await askAndWait(b, srv.url, alice.token, roomId, '@assistant I forgot my password');
    expect(end).toMatchObject({ state: 'done', roomId, replyTo: question.seq });
    const answer = (await history(srv.url, alice.token, roomId)).filter((e) => e.senderId === me.id);
    expect(answer).toHaveLength(1);
    expect(answer[0]).toMatchObject({ seq: end.seq, data: { replyTo: question.seq } });
    expect(answer[0]!.body).toMatch(/^Open \*\*Settings → Password\*\*/);
    // The final message reaches bob on the sequence (not necessarily before the `done` frame: frames are not
    // ordered with the sequence, a connection catching up reads events from the store).
    await b.next((f) => isMessageFrom(me.id)(f) && (f.event as RoomEvent).seq === end.seq, 'the answer at bob');

    const zh = await askAndWait(b, srv.url, alice.token, roomId, '@assistant 我需要发票');
    expect(zh.end.text).toContain('billing@example.com');
    const unknown = await askAndWait(b, srv.url, bob.token, roomId, '@assistant what is the capital of France?');
    expect(unknown.end).toMatchObject({ state: 'done', text: srv.config.assistantFaqUnknownText });
  });

  it('answers every message in a DM with it, and never itself: its answers ask nothing', async () => {
    const srv = await startServer({ assistantFaqFile: FAQ_FILE });
    const { alice } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    const dm = await alice.api.openDm('assistant');
    await a.next((f) => f.type === 'room.added', 'the DM');
    const first = await askAndWait(a, srv.url, alice.token, dm.id, 'when are you open?');
    expect(first.end.text).toBe('Monday to Friday, 9:00 to 18:00 (Beijing time).');
    const second = await askAndWait(a, srv.url, alice.token, dm.id, '如何修改密码');
    expect(second.end.state).toBe('done');
    const msgs = (await history(srv.url, alice.token, dm.id)).filter((e) => e.type === 'message');
    // Two questions, two answers, in order: the answers did not start a conversation with themselves.
    expect(msgs.map((e) => e.senderId === alice.user.id)).toEqual([true, false, true, false]);
  });

  it('the per-room budget: past ASSISTANT_ANSWERS_PER_HOUR a question gets assistant_over_budget and no answer; other rooms are not affected', async () => {
    const srv = await startServer({ assistantFaqFile: FAQ_FILE, assistantAnswersPerHour: 2 });
    const { owner, alice, roomId } = await cast(srv.url);
    const me = (await addAssistant(srv.url, owner.token, roomId)).assistant.user;
    const a = await live(srv.url, alice.token);
    for (let i = 0; i < 2; i++) {
      expect((await askAndWait(a, srv.url, alice.token, roomId, '@assistant when are you open?')).end.state).toBe(
        'done',
      );
    }
    const third = await askAndWait(a, srv.url, alice.token, roomId, '@assistant when are you open?');
    expect(third.end).toMatchObject({ state: 'error', error: { code: 'assistant_over_budget', retryable: true } });
    expect(third.end.error as { retryAfterMs: number }).toMatchObject({ retryAfterMs: expect.any(Number) });
    expect(third.end.seq).toBeUndefined();
    const answers = (await history(srv.url, alice.token, roomId)).filter((e) => e.senderId === me.id);
    expect(answers).toHaveLength(2);
    // Another room has its own budget.
    const other = await owner.api.createRoom('other');
    await alice.api.join(other.id);
    await addAssistant(srv.url, owner.token, other.id);
    await a.next((f) => f.type === 'room.added' && (f.room as { id: string }).id === other.id, 'other room');
    expect((await askAndWait(a, srv.url, alice.token, other.id, '@assistant when are you open?')).end.state).toBe(
      'done',
    );
  });
});

describe('assistant: a bot among bots', () => {
  it('is a bot account, and never answers another bot (no loops between bots)', async () => {
    const srv = await startServer({ assistantFaqFile: FAQ_FILE });
    const { owner, alice, roomId } = await cast(srv.url);
    const me = (await addAssistant(srv.url, owner.token, roomId)).assistant.user as { id: string; bot?: boolean };
    expect(me.bot).toBe(true);
    const { token } = await owner.api.createBot({ username: 'echo', roomId, scopes: ['read', 'post'] });
    const a = await live(srv.url, alice.token);
    const fromBot = await httpSend(srv.url, token, roomId, '@assistant when are you open?');
    expect(fromBot.status).toBe(201);
    expect(fromBot.body.message.data?.mentions).toEqual([me.id]);
    // The marker: a person's question afterwards is answered; the bot's never was.
    const { question } = await askAndWait(a, srv.url, alice.token, roomId, '@assistant when are you open?');
    const answers = (await history(srv.url, alice.token, roomId)).filter((e) => e.senderId === me.id);
    expect(answers.map((e) => e.data?.replyTo)).toEqual([question.seq]);
    expect(a.frames.filter((f) => isStream(f) && f.replyTo === fromBot.body.message.seq)).toEqual([]);
  });
});

describe('assistant: an OpenAI-compatible endpoint', () => {
  it('streams: frames grow, then one final message through the send path; the request carries model, key, context and stream: true', async () => {
    const fake = await fakeEndpoint({ chunks: ['Hello', ', this', ' is the', ' fake model.'], chunkDelayMs: 80 });
    const srv = await startServer({
      assistantUrl: fake.url,
      assistantModel: 'fake-model',
      assistantApiKey: 'sk-test-key',
      assistantStreamIntervalMs: 0,
    });
    const { owner, alice, bob, roomId } = await cast(srv.url);
    const me = (await addAssistant(srv.url, owner.token, roomId)).assistant.user;
    await httpSend(srv.url, bob.token, roomId, 'we deploy on Fridays');
    const b = await live(srv.url, bob.token);
    const { question, end, from } = await askAndWait(b, srv.url, alice.token, roomId, '@assistant say hello');
    expect(end).toMatchObject({ state: 'done', text: 'Hello, this is the fake model.' });
    const partial = b.frames.slice(from).filter((f) => isStream(f, 'streaming') && f.answerId === end.answerId);
    const texts = partial.map((f) => f.text as string);
    expect(texts.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.startsWith(texts[i - 1]!)).toBe(true);
    expect(texts[0]).toBe('Hello');
    // Exactly the final answer is on the record, once.
    const answers = (await history(srv.url, alice.token, roomId)).filter((e) => e.senderId === me.id);
    expect(answers.map((e) => [e.body, e.seq])).toEqual([['Hello, this is the fake model.', end.seq]]);
    // A client resuming from before the question replays the question and the answer, no partial text.
    const late = await live(srv.url, alice.token, { [roomId]: question.seq - 1 });
    await late.next((f) => f.type === 'synced' && f.roomId === roomId, 'synced');
    expect(
      late
        .events(roomId)
        .filter((e) => e.type === 'message')
        .map((e) => e.body),
    ).toEqual(['@assistant say hello', 'Hello, this is the fake model.']);
    expect(late.frames.some((f) => isStream(f))).toBe(false);

    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.authorization).toBe('Bearer sk-test-key');
    expect(req.body).toMatchObject({ model: 'fake-model', stream: true, max_tokens: 512 });
    const messages = req.body.messages as { role: string; content: string }[];
    expect(messages[0]!.role).toBe('system');
    expect(messages).toContainEqual({ role: 'user', content: 'bob: we deploy on Fridays' });
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'say hello' });
  });

  it('a stream longer than the interval is throttled to frames at least ASSISTANT_STREAM_INTERVAL_MS apart', async () => {
    const chunks = Array.from({ length: 20 }, (_, i) => `w${i} `);
    const fake = await fakeEndpoint({ chunks, chunkDelayMs: 10 });
    const srv = await startServer({ assistantUrl: fake.url, assistantModel: 'm', assistantStreamIntervalMs: 100 });
    const { alice } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    const dm = await alice.api.openDm('assistant');
    await a.next((f) => f.type === 'room.added', 'the DM');
    const { end, from } = await askAndWait(a, srv.url, alice.token, dm.id, 'count');
    expect(end.text).toBe(chunks.join(''));
    const partial = a.frames.slice(from).filter((f) => isStream(f, 'streaming'));
    // 20 chunks over ~200 ms or more: with a 100 ms interval, far fewer frames than chunks, but at least one.
    expect(partial.length).toBeGreaterThanOrEqual(1);
    expect(partial.length).toBeLessThan(chunks.length / 2);
  });

  it('a slow endpoint hits ASSISTANT_TIMEOUT_MS: the room gets an assistant_timeout notice', async () => {
    const fake = await fakeEndpoint({ mode: 'slow' });
    const srv = await startServer({ assistantUrl: fake.url, assistantModel: 'm', assistantTimeoutMs: 300 });
    const { alice } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    const dm = await alice.api.openDm('assistant');
    await a.next((f) => f.type === 'room.added', 'the DM');
    const { end } = await askAndWait(a, srv.url, alice.token, dm.id, 'hello?');
    expect(end).toMatchObject({ state: 'error', error: { code: 'assistant_timeout' } });
    expect(end.text).toMatch(/within 300 ms\. \(assistant_timeout\)$/);
    const last = (await history(srv.url, alice.token, dm.id)).at(-1)!;
    expect([last.seq, last.body]).toEqual([end.seq, end.text]);
  });

  it('a failing endpoint (HTTP 500) and a malformed stream: clear errors, posted and in the frame; the server stays up', async () => {
    const fake = await fakeEndpoint({ mode: 'fail' });
    const srv = await startServer({ assistantUrl: fake.url, assistantModel: 'm' });
    const { alice } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    const dm = await alice.api.openDm('assistant');
    await a.next((f) => f.type === 'room.added', 'the DM');
    const failed = await askAndWait(a, srv.url, alice.token, dm.id, 'hello?');
    expect(failed.end).toMatchObject({ state: 'error', error: { code: 'assistant_failed' } });
    expect(failed.end.text).toContain('HTTP 500');
    expect(failed.end.text).toContain('the fake model is down');
    fake.mode = 'malformed';
    const bad = await askAndWait(a, srv.url, alice.token, dm.id, 'again?');
    expect(bad.end).toMatchObject({ state: 'error', error: { code: 'assistant_bad_response' } });
    expect(bad.end.text).toMatch(/not JSON/);
    fake.mode = 'stream';
    const ok = await askAndWait(a, srv.url, alice.token, dm.id, 'and now?');
    expect(ok.end).toMatchObject({ state: 'done', text: 'Hello, this is the fake model.' });
    const bodies = (await history(srv.url, alice.token, dm.id)).filter((e) => e.type === 'message').map((e) => e.body);
    expect(bodies).toHaveLength(6);
  });

  it('an endpoint that cannot be reached is assistant_failed', async () => {
    const fake = await fakeEndpoint();
    const url = fake.url;
    await fake.close();
    const srv = await startServer({ assistantUrl: url, assistantModel: 'm' });
    const { alice } = await cast(srv.url);
    const a = await live(srv.url, alice.token);
    const dm = await alice.api.openDm('assistant');
    await a.next((f) => f.type === 'room.added', 'the DM');
    const { end } = await askAndWait(a, srv.url, alice.token, dm.id, 'hello?');
    expect(end).toMatchObject({ state: 'error', error: { code: 'assistant_failed' } });
    expect(end.text).toMatch(/could not be reached/);
  });
});

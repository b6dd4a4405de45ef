import { ChatApi } from '../../src/client/api.js';
import type { PublicUser, Room } from '../../src/protocol/model.js';

export interface SeededUser {
  api: ChatApi;
  token: string;
  user: PublicUser;
  username: string;
  password: string;
}

export const PASSWORD = 'correct horse battery';

export async function seedUser(url: string, username: string, displayName?: string): Promise<SeededUser> {
  const api = new ChatApi(url);
  const r = await api.register(username, PASSWORD, displayName);
  return { api, token: r.token, user: r.user, username, password: PASSWORD };
}

/** The rooms and conversation shown in the README screenshots (a believable team chat, with Markdown). */
export async function seedDemo(url: string) {
  const alice = await seedUser(url, 'alice', 'Alice Martin');
  const bob = await seedUser(url, 'bob', 'Bob Chen');
  const carol = await seedUser(url, 'carol', 'Carol Diaz');
  const dan = await seedUser(url, 'dan', 'Dan Okafor');
  const erin = await seedUser(url, 'erin', 'Erin Walsh');
  const people = [alice, bob, carol, dan, erin];

  const design = await alice.api.createRoom('design', 'public', 'Design reviews, mockups and UI polish');
  const eng = await bob.api.createRoom('engineering', 'public', 'Builds, deploys and the occasional fire');
  await carol.api.createRoom('random', 'public', 'Cats, coffee and everything else');
  const launch = await alice.api.createRoom('launch-plan', 'private', 'Launch checklist — invite only');
  for (const u of [bob, carol, dan, erin]) await u.api.join(design.id);
  for (const u of [alice, carol, dan]) await u.api.join(eng.id);
  await alice.api.invite(launch.id, 'bob');
  await bob.api.acceptInvite(launch.id);

  let n = 0;
  const say = async (u: SeededUser, room: Room, body: string) => {
    await u.api.sendMessage(room.id, body, `seed-${++n}`);
  };
  await say(bob, eng, 'Deploy of **v0.9.2** is out :rocket:');
  await say(dan, eng, 'Nice! Error rate is flat so far.');
  await say(alice, launch, 'Draft checklist is in the doc, please review by Friday.');

  await say(carol, design, 'Morning all :wave: the new sidebar mockups are up: https://example.com/mockups/sidebar');
  await say(carol, design, 'Main change: rooms sort by *latest activity*, unread ones are bold with a count.');
  await say(bob, design, 'Love it. Could the unread badge use the accent color instead of red? Red reads as an error.');
  await say(alice, design, 'Agreed :+1: red is for things that failed to send.');
  await say(alice, design, 'Also: grouped messages keep the hover timestamp in the gutter, like this thread.');
  await say(dan, design, 'For the composer I went with `Enter` to send and `Shift+Enter` for a new line:');
  await say(
    dan,
    design,
    '```ts\nif (e.key === "Enter" && !e.shiftKey && !e.isComposing) {\n  e.preventDefault();\n  send(draft);\n}\n```',
  );
  await say(erin, design, '> rooms sort by latest activity\nThis is the one I wanted most. Ship it :tada:');
  await say(carol, design, 'Dark mode screenshots coming after lunch :coffee:');

  const dm = await alice.api.openDm('bob');
  await alice.api.sendMessage(dm.id, 'Got a minute to pair on the reconnect banner?', `seed-${++n}`);
  await bob.api.sendMessage(dm.id, 'Sure, in 10 :smile:', `seed-${++n}`);
  await carol.api.openDm('alice');

  return { alice, bob, carol, dan, erin, people, design, eng, launch, dm };
}

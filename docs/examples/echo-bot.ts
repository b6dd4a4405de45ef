// A bot that answers "ping", greets whoever mentions it, and offers /roll. Run it with
// RELAYCHAT_URL=http://localhost:8080 BOT_TOKEN=<token> npx tsx docs/examples/echo-bot.ts
import WebSocket from 'ws';
import { createBot, type WebSocketCtor } from '../../src/client/index.js';

const bot = createBot({
  url: process.env.RELAYCHAT_URL ?? 'http://localhost:8080',
  token: process.env.BOT_TOKEN ?? '',
  WebSocket: WebSocket as unknown as WebSocketCtor, // Node 20 has no global WebSocket
});

bot.onMessage(async (message, { reply }) => {
  if (message.body.trim().toLowerCase() === 'ping') await reply('pong');
});

bot.onMention(async (message, { reply }) => {
  const sender = (await bot.api.user(message.senderId)).user;
  await reply(`Hello @${sender.username}! I answer "ping" and /roll.`);
});

bot.onCommand({ name: 'roll', description: 'Roll a die', argsHint: '[sides]' }, async (command, { reply }) => {
  const sides = Math.min(Math.max(Number.parseInt(command.args, 10) || 6, 2), 1000);
  const rolled = 1 + Math.floor(Math.random() * sides);
  await reply(`${command.user.displayName} rolled ${rolled} (1–${sides})`);
});

await bot.start();
console.log(`${bot.me?.username} is online`);
process.on('SIGTERM', () => {
  bot.stop();
  process.exit(0);
});

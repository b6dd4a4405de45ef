import { ConfigError, loadConfig, type Config } from './config.js';
import { createChatServer } from './app.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`relaychat: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const server = await createChatServer(config);
const url = await server.listen();
const storage = config.databaseUrl ? 'postgresql' : 'sqlite';
const bus = config.redisUrl ? 'redis' : 'in-process';
server.app.log.info(
  { url, storage, bus, ...(config.databaseUrl ? {} : { dataDir: config.dataDir }) },
  `relaychat listening on ${url}`,
);

// First signal: drain (readyz 503 for DRAIN_DELAY_MS when a load balancer watches), then close gracefully.
// A second signal skips what is left of the drain delay.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      void server.close();
      return;
    }
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

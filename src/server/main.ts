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
server.app.log.info({ url, dataDir: config.dataDir }, `relaychat listening on ${url}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

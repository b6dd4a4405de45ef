import { InMemoryPresence } from '../../src/core/in-memory-presence.js';
import { presenceContract } from './contract/presence-contract.js';

// One process is one node: both views are the same instance.
presenceContract('InMemoryPresence', () => {
  const presence = new InMemoryPresence();
  return Promise.resolve({ a: presence, b: presence, cleanup: () => presence.close() });
});

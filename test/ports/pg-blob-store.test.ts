import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { PgBlobStore } from '../../src/storage/blobs/pg-blob-store.js';
import { PgStore } from '../../src/storage/postgres/pg-store.js';
import { startPostgres, type PgTestServer } from '../helpers/postgres.js';
import { blobStoreContract } from './contract/blob-store-contract.js';

// One real PostgreSQL server for this file; every test gets its own migrated database (a copy of a template).
let server: PgTestServer;
let template: string;

beforeAll(async () => {
  server = await startPostgres();
  const db = await server.createDatabase({ prefix: 'template' });
  await (await PgStore.open({ connectionString: db.url })).close(); // migrates: 13 makes blobs and blob_chunks
  template = db.name;
}, 120_000);

afterAll(async () => {
  await server?.destroy();
}, 60_000);

blobStoreContract('PgBlobStore (cluster: chunks in PostgreSQL)', async () => {
  const db = await server.createDatabase({ template });
  const opened: PgBlobStore[] = [];
  const open = () => {
    const s = PgBlobStore.open({ connectionString: db.url, poolSize: 4 });
    opened.push(s);
    return s;
  };
  return {
    blobs: open(),
    reopen: async () => open(),
    async stored() {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const blobs = (await c.query<{ sha256: string }>('SELECT sha256 FROM blobs ORDER BY sha256')).rows;
        const partial = (
          await c.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM blob_chunks WHERE blob NOT IN (SELECT sha256 FROM blobs)',
          )
        ).rows[0]!.n;
        return { blobs: blobs.map((r) => r.sha256), partial };
      } finally {
        await c.end();
      }
    },
    async cleanup() {
      for (const s of opened) await s.close();
      await server.dropDatabase(db.name);
    },
  };
});

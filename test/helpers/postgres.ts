/**
 * A real PostgreSQL server for tests: one throwaway cluster per test file, one fresh database per test.
 * The launcher lives in scripts/lib/postgres.ts, shared with `npm run cluster`; see there for details.
 *
 *   let pg: PgTestServer;
 *   beforeAll(async () => { pg = await startPostgres(); });
 *   afterAll(async () => { await pg?.destroy(); });
 *   it('...', async () => { const db = await pg.createDatabase(); ... await pg.dropDatabase(db.name); });
 */
export * from '../../scripts/lib/postgres.js';

// A connection lost while checked out (PostgreSQL restarted while its holder waits for NATS):
// the process lives on, and the connection leaves the pool.
import pg from 'pg';
import { LOCAL_INFRA } from '@tenantry/testing';
import { checkOut } from './pool-client.js';

describe('checkOut (real PostgreSQL)', () => {
  let pool: pg.Pool;
  let admin: pg.Client;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: LOCAL_INFRA.bootstrapUrl, max: 2 });
    admin = new pg.Client({ connectionString: LOCAL_INFRA.bootstrapUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await pool?.end();
    await admin?.end();
  });

  it('survives the connection being terminated between two queries, and drops it on release', async () => {
    const uncaught: Error[] = [];
    const onUncaught = (error: Error) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const held = await checkOut(pool);
      const { rows } = await held.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // What a restart does to it: the server ends the connection while nobody queries.
      const ended = new Promise((resolve) => held.client.once('end', resolve));
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended;
      held.release();
      expect(uncaught).toEqual([]);
      // The pool works on with a fresh connection.
      const again = await checkOut(pool);
      const { rows: one } = await again.client.query<{ one: number }>('SELECT 1 AS one');
      expect(one[0]!.one).toBe(1);
      again.release();
      expect(pool.totalCount).toBeLessThanOrEqual(2);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('without it, the same loss is an error event nobody listens to (why it exists)', async () => {
    const client = await pool.connect();
    expect(client.listenerCount('error')).toBe(0);
    client.release();
  });
});

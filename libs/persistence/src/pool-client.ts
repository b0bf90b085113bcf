import type pg from 'pg';

/** A connection taken from a pool for the caller's own queries. */
export interface CheckedOut {
  readonly client: pg.PoolClient;
  /** Gives it back; after an error (the caller's, or the connection's own) it leaves the pool. */
  release(error?: Error): void;
}

/**
 * Takes a connection from `pool`. While a connection is checked out the pool no longer listens
 * for its errors, and node-postgres emits a connection lost between two queries (PostgreSQL
 * restarted while the caller waits for something else) as an 'error' event: without a listener
 * that ends the process. This one listens, and such a connection leaves the pool on release.
 */
export async function checkOut(pool: pg.Pool): Promise<CheckedOut> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost = error;
  };
  client.on('error', onError);
  return {
    client,
    release(error?: Error) {
      client.off('error', onError);
      client.release(error ?? lost);
    },
  };
}

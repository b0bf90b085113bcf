// Baseline: what the tenants service's `tenants.tenants.get` does at the least. A core NATS
// responder that parses the request, reads the tenant by primary key with plain `pg` (a named
// prepared statement, a pool of DB_POOL_SIZE connections as the service's own role) and replies
// in the service's envelope. No framework, no validation, no context, no metrics: the floor the
// service's own overhead is measured against. Sends 'ready' over IPC once subscribed.
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_SIZE ?? 10),
});
const nc = await connect({ servers: process.env.NATS_URL ?? '127.0.0.1:4222' });
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const query = {
  name: 'tenant-by-id',
  text: 'SELECT id, name, slug, status, created_at, updated_at FROM tenants WHERE id = $1',
};

nc.subscribe(process.env.SUBJECT, {
  queue: 'pg-responder',
  callback: (_error, msg) => {
    const { id } = JSON.parse(decoder.decode(msg.data));
    pool.query({ ...query, values: [id] }).then(
      ({ rows: [row] }) =>
        msg.respond(
          encoder.encode(
            JSON.stringify(
              row
                ? {
                    ok: true,
                    data: {
                      id: row.id,
                      name: row.name,
                      slug: row.slug,
                      status: row.status,
                      createdAt: row.created_at.toISOString(),
                      updatedAt: row.updated_at.toISOString(),
                    },
                  }
                : { ok: false, error: { code: 'NOT_FOUND', message: 'no such tenant' } },
            ),
          ),
        ),
      (error) =>
        msg.respond(
          encoder.encode(
            JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: error.message } }),
          ),
        ),
    );
  },
});
await nc.flush();
await pool.query('SELECT 1');
process.send?.('ready');
process.on('SIGTERM', async () => {
  await nc.drain();
  await pool.end();
  process.exit(0);
});

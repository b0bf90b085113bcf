import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Namespace, SERVICES } from '@tenantry/contracts';
import pg from 'pg';
import { Redis } from 'ioredis';

/** Drops a database and its roles: for tests cleaning up after themselves. */
export async function dropDatabase(
  bootstrapUrl: string,
  database: string,
  roles: string[],
): Promise<void> {
  const client = new pg.Client({ connectionString: bootstrapUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    for (const role of roles) {
      await client.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
    }
  } finally {
    await client.end();
  }
}

export interface InfraUrls {
  natsUrl: string;
  bootstrapUrl: string;
  redisUrl: string;
}

export const LOCAL_INFRA: InfraUrls = {
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  bootstrapUrl: process.env.DB_BOOTSTRAP_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};

/** Removes everything a namespace left behind: its streams and buckets, databases, roles and Redis keys. */
export async function cleanupNamespace(
  name: string,
  infra: InfraUrls = LOCAL_INFRA,
): Promise<void> {
  if (!name) throw new Error('refusing to clean up the default (empty) namespace');
  const ns = new Namespace(name);
  const nc = await connect({ servers: infra.natsUrl, timeout: 3_000 });
  try {
    const jsm = await jetstreamManager(nc);
    const prefix = ns.stream('');
    // Key-value buckets are streams too, named KV_<bucket> (`Namespace.bucket`).
    const bucketPrefix = `KV_${ns.bucket('')}`;
    for await (const stream of jsm.streams.list()) {
      const name = stream.config.name;
      if (name.startsWith(prefix) || name.startsWith(bucketPrefix)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
  for (const service of SERVICES) {
    const database = ns.database(service);
    await dropDatabase(infra.bootstrapUrl, database, [`${database}_app`, `${database}_owner`]);
  }
  const redis = new Redis(infra.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${ns.redisPrefix()}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

import pg from 'pg';
import type { DatabaseOptions } from './database.options.js';

const ident = (name: string) => pg.escapeIdentifier(name);
const literal = (value: string) => pg.escapeLiteral(value);

/** 42710 duplicate_object, 42P04 duplicate_database, 23505 unique_violation (two creators at once). */
const ALREADY_EXISTS = new Set(['42710', '42P04', '23505']);

async function ignoreExisting(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!ALREADY_EXISTS.has((error as { code?: string }).code ?? '')) throw error;
  }
}

async function withClient<T>(
  url: string,
  database: string | undefined,
  work: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const config = new URL(url);
  if (database) config.pathname = `/${database}`;
  const client = new pg.Client({
    connectionString: config.toString(),
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function ensureRole(
  client: pg.Client,
  name: string,
  password: string | undefined,
): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  const attributes = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS';
  const pass = password ? ` PASSWORD ${literal(password)}` : '';
  if (exists.rowCount === 0) {
    await ignoreExisting(client.query(`CREATE ROLE ${ident(name)} ${attributes}${pass}`));
  } else {
    await client.query(`ALTER ROLE ${ident(name)} ${attributes}${pass}`);
  }
}

/**
 * Creates the service's database and its two roles when missing, and grants the
 * app role data access (never ownership) on everything the owner creates.
 * Idempotent and safe to run from several replicas at once.
 */
export async function bootstrapDatabase(options: DatabaseOptions): Promise<void> {
  if (!options.bootstrapUrl) return;
  const { database, ownerUser, appUser } = options;
  await withClient(options.bootstrapUrl, undefined, async (client) => {
    // Role and grant changes race ("tuple concurrently updated") when replicas start together: one at a time.
    await client.query(`SELECT pg_advisory_lock(hashtext('tenantry.bootstrap'))`);
    try {
      await ensureRole(client, ownerUser, options.ownerPassword);
      await ensureRole(client, appUser, options.appPassword);
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0) {
        await ignoreExisting(
          client.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(ownerUser)}`),
        );
      }
      await client.query(`REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`);
      await client.query(
        `GRANT CONNECT, TEMPORARY ON DATABASE ${ident(database)} TO ${ident(appUser)}`,
      );
      await withClient(options.bootstrapUrl!, database, async (db) => {
        await db.query(`ALTER SCHEMA public OWNER TO ${ident(ownerUser)}`);
        await db.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
        await db.query(`GRANT USAGE ON SCHEMA public TO ${ident(appUser)}`);
        await db.query(
          `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(ownerUser)} IN SCHEMA public ` +
            `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${ident(appUser)}`,
        );
        await db.query(
          `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(ownerUser)} IN SCHEMA public ` +
            `GRANT USAGE, SELECT ON SEQUENCES TO ${ident(appUser)}`,
        );
      });
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('tenantry.bootstrap'))`);
    }
  });
}

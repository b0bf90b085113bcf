import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import type { DatabaseOptions } from './database.options.js';

export type MigrationClass = new () => MigrationInterface;

/**
 * Runs pending migrations as the owner role, one transaction each, under an
 * advisory lock so that replicas starting together migrate once.
 */
export async function runMigrations(
  options: DatabaseOptions,
  migrations: MigrationClass[],
): Promise<string[]> {
  const owner = new DataSource({
    type: 'postgres',
    host: options.host,
    port: options.port,
    database: options.database,
    username: options.ownerUser,
    password: options.ownerPassword,
    migrations,
    migrationsTableName: 'migrations',
    installExtensions: false,
    extra: { ...options.extra, max: 2 },
  });
  await owner.initialize();
  const lock = owner.createQueryRunner();
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtext('tenantry.migrations'))`);
    const done = await owner.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await lock
      .query(`SELECT pg_advisory_unlock(hashtext('tenantry.migrations'))`)
      .catch(() => undefined);
    await lock.release();
    await owner.destroy();
  }
}

/**
 * Turns on row-level security for a tenant table: `ENABLE` and `FORCE` (so even the
 * owner is filtered), with one policy comparing `tenant_id` to `app.tenant_id`.
 * Without `app.tenant_id` set, the table looks empty and rejects writes.
 */
export async function enableTenantRls(
  runner: QueryRunner,
  table: string,
  column = 'tenant_id',
): Promise<void> {
  const setting = `NULLIF(current_setting('app.tenant_id', true), '')::uuid`;
  await runner.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
  await runner.query(`ALTER TABLE "${table}" FORCE ROW LEVEL SECURITY`);
  await runner.query(
    `CREATE POLICY tenant_isolation ON "${table}" USING ("${column}" = ${setting}) WITH CHECK ("${column}" = ${setting})`,
  );
}

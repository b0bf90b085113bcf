import { randomUUID } from 'node:crypto';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { scratchDatabase } from '@tenantry/testing';
import { bootstrapDatabase } from './bootstrap-database.js';
import { enableTenantRls, runMigrations } from './migrations.js';
import { setTenant, withTenant } from './tenant-transactions.js';

const scratch = scratchDatabase('rls');
const { options } = scratch;

class CreateNotes1700000000000 implements MigrationInterface {
  name = 'CreateNotes1700000000000';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE notes (id serial PRIMARY KEY, tenant_id uuid NOT NULL, body text NOT NULL)`,
    );
    await enableTenantRls(runner, 'notes');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE notes`);
  }
}

function connectAs(user: string): DataSource {
  return new DataSource({
    type: 'postgres',
    host: options.host,
    port: options.port,
    database: options.database,
    username: user,
    installExtensions: false,
  });
}

describe('row-level security (real PostgreSQL)', () => {
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  let app: DataSource;
  let owner: DataSource;

  beforeAll(async () => {
    await bootstrapDatabase(options);
    expect(await runMigrations(options, [CreateNotes1700000000000])).toEqual([
      'CreateNotes1700000000000',
    ]);
    // Running again is a no-op: migrations are recorded.
    expect(await runMigrations(options, [CreateNotes1700000000000])).toEqual([]);
    app = await connectAs(options.appUser).initialize();
    owner = await connectAs(options.ownerUser).initialize();
    await withTenant(app, tenantA, (m) =>
      m.query(`INSERT INTO notes (tenant_id, body) VALUES ($1, 'a1'), ($1, 'a2')`, [tenantA]),
    );
    await withTenant(app, tenantB, (m) =>
      m.query(`INSERT INTO notes (tenant_id, body) VALUES ($1, 'b1')`, [tenantB]),
    );
  });

  afterAll(async () => {
    await app?.destroy();
    await owner?.destroy();
    await scratch.drop();
  });

  it('a query with no WHERE tenant_id sees only the current tenant rows', async () => {
    const a = await withTenant(app, tenantA, (m) =>
      m.query(`SELECT body FROM notes ORDER BY body`),
    );
    expect(a.map((r: { body: string }) => r.body)).toEqual(['a1', 'a2']);
    const b = await withTenant(app, tenantB, (m) => m.query(`SELECT body, tenant_id FROM notes`));
    expect(b).toEqual([{ body: 'b1', tenant_id: tenantB }]);
  });

  it('without a tenant the table looks empty, and the setting does not outlive its transaction', async () => {
    expect(await app.query(`SELECT count(*)::int AS n FROM notes`)).toEqual([{ n: 0 }]);
    await withTenant(app, tenantA, async () => undefined);
    // Same pool, next statement: SET LOCAL ended with the transaction.
    expect(await app.query(`SELECT count(*)::int AS n FROM notes`)).toEqual([{ n: 0 }]);
  });

  it('rejects writing or moving a row into another tenant', async () => {
    await expect(
      withTenant(app, tenantA, (m) =>
        m.query(`INSERT INTO notes (tenant_id, body) VALUES ($1, 'sneaky')`, [tenantB]),
      ),
    ).rejects.toThrow(/row-level security/);
    await expect(
      withTenant(app, tenantA, (m) => m.query(`UPDATE notes SET tenant_id = $1`, [tenantB])),
    ).rejects.toThrow(/row-level security/);
    const updated = await withTenant(app, tenantA, (m) =>
      m.query(`UPDATE notes SET body = body WHERE tenant_id = $1`, [tenantB]),
    );
    expect(updated[1]).toBe(0);
  });

  it('switches tenants inside one transaction for batches that span tenants', async () => {
    const seen = await app.transaction(async (m) => {
      await setTenant(m, tenantA);
      const a = await m.query(`SELECT count(*)::int AS n FROM notes`);
      await setTenant(m, tenantB);
      const b = await m.query(`SELECT count(*)::int AS n FROM notes`);
      return [a[0].n, b[0].n];
    });
    expect(seen).toEqual([2, 1]);
  });

  it('the service role cannot turn RLS off, bypass it, or own the table', async () => {
    await expect(app.query(`ALTER TABLE notes DISABLE ROW LEVEL SECURITY`)).rejects.toThrow(
      /must be owner/,
    );
    await expect(app.query(`ALTER TABLE notes NO FORCE ROW LEVEL SECURITY`)).rejects.toThrow(
      /must be owner/,
    );
    await expect(app.query(`DROP POLICY tenant_isolation ON notes`)).rejects.toThrow(
      /must be owner/,
    );
    await expect(app.query(`ALTER ROLE CURRENT_USER BYPASSRLS`)).rejects.toThrow(
      /must be superuser/,
    );
    // With row_security off, PostgreSQL refuses the query instead of returning unfiltered rows.
    await expect(
      app.transaction(async (m) => {
        await m.query(`SET LOCAL row_security = off`);
        return m.query(`SELECT * FROM notes`);
      }),
    ).rejects.toThrow(/row-level security/);
    const [role] = await app.query(
      `SELECT rolsuper, rolbypassrls, (SELECT tableowner FROM pg_tables WHERE tablename = 'notes') AS owner FROM pg_roles WHERE rolname = current_user`,
    );
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, owner: options.ownerUser });
  });

  it('FORCE applies RLS to the table owner too', async () => {
    expect(await owner.query(`SELECT count(*)::int AS n FROM notes`)).toEqual([{ n: 0 }]);
    const a = await withTenant(owner, tenantA, (m) =>
      m.query(`SELECT count(*)::int AS n FROM notes`),
    );
    expect(a).toEqual([{ n: 2 }]);
  });

  it('bootstrap is idempotent (a restart or a second replica changes nothing)', async () => {
    await expect(
      Promise.all([bootstrapDatabase(options), bootstrapDatabase(options)]),
    ).resolves.toBeDefined();
  });
});

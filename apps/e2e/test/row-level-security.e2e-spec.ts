/**
 * Every table that holds tenant data (has a `tenant_id` column) in every service's
 * database has row-level security enabled AND forced, with a policy: a new table
 * without RLS fails the build here. The databases are the ones the services made
 * themselves, by running their own migrations at start-up.
 */
import { BACKEND_SERVICES, Namespace } from '@tenantry/contracts';
import { LOCAL_INFRA, Platform } from '@tenantry/testing';
import pg from 'pg';

interface TableRls {
  table: string;
  rls: boolean;
  forced: boolean;
  policies: number;
}

async function tenantTables(database: string): Promise<TableRls[]> {
  const url = new URL(LOCAL_INFRA.bootstrapUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<TableRls>(`
      SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
             (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
       ORDER BY c.relname`);
    return rows;
  } finally {
    await client.end();
  }
}

describe('row-level security on every tenant table of every service', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await Platform.create({ services: [...BACKEND_SERVICES] });
    await platform.start();
  });

  afterAll(async () => {
    await platform?.destroy();
  });

  it.each([...BACKEND_SERVICES])(
    '%s: every table with tenant_id has RLS enabled, forced, and a policy',
    async (service) => {
      const tables = await tenantTables(new Namespace(platform.namespace).database(service));
      const unprotected = tables.filter((t) => !t.rls || !t.forced || t.policies === 0);
      expect(unprotected).toEqual([]);
    },
  );

  it('finds the tenant tables that exist today (the check looks at real tables)', async () => {
    const audit = await tenantTables(new Namespace(platform.namespace).database('audit'));
    expect(audit.map((t) => t.table)).toContain('audit_events');
  });
});

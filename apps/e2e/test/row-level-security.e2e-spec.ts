/**
 * Every table that holds tenant data (has a `tenant_id` column) in every service's
 * database has row-level security enabled AND forced, with a policy: a new table
 * without RLS fails the build here. The only way past it is to say why in the schema:
 * a table comment starting `platform-level:` (e.g. identity's credential_lookup, which
 * routes a credential to its tenant and holds no secrets). The databases are the ones
 * the services made themselves, by running their own migrations at start-up.
 */
import { BACKEND_SERVICES, Namespace } from '@tenantry/contracts';
import { LOCAL_INFRA, Platform } from '@tenantry/testing';
import pg from 'pg';

interface TableRls {
  table: string;
  rls: boolean;
  forced: boolean;
  policies: number;
  comment: string | null;
}

const PLATFORM_LEVEL = /^platform-level: \S/;

async function tenantTables(database: string): Promise<TableRls[]> {
  const url = new URL(LOCAL_INFRA.bootstrapUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<TableRls>(`
      SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
             (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
             obj_description(c.oid, 'pg_class') AS comment
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
      const unprotected = tables.filter(
        (t) => (!t.rls || !t.forced || t.policies === 0) && !PLATFORM_LEVEL.test(t.comment ?? ''),
      );
      expect(unprotected).toEqual([]);
    },
  );

  it('finds the tenant tables that exist today (the check looks at real tables)', async () => {
    const audit = await tenantTables(new Namespace(platform.namespace).database('audit'));
    expect(audit.map((t) => t.table)).toContain('audit_events');
    const identity = await tenantTables(new Namespace(platform.namespace).database('identity'));
    expect(identity.map((t) => t.table)).toEqual(
      expect.arrayContaining([
        'users',
        'sessions',
        'refresh_tokens',
        'api_keys',
        'credential_lookup',
      ]),
    );
    // The one exception says why, and is no back door: it has no RLS, and no secrets.
    const lookup = identity.find((t) => t.table === 'credential_lookup')!;
    expect(lookup).toMatchObject({ rls: false });
    expect(lookup.comment).toMatch(PLATFORM_LEVEL);
  });
});

import { createOutboxTable, enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The policy service's tables: each tenant's policy document (tenant data, under row-level
 * security), and which version of it the snapshot bucket has (platform level: numbers only,
 * so that the service can find, at start and after an outage, every tenant whose snapshot is
 * behind without reading any tenant's policy).
 */
export class CreateTenantPolicies1765000000000 implements MigrationInterface {
  name = 'CreateTenantPolicies1765000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE tenant_policies (
        tenant_id uuid PRIMARY KEY,
        document jsonb NOT NULL,
        version int NOT NULL CHECK (version >= 1),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await enableTenantRls(runner, 'tenant_policies');

    await runner.query(`
      CREATE TABLE policy_publications (
        tenant_id uuid PRIMARY KEY,
        version int NOT NULL CHECK (version >= 1),
        published_version int NOT NULL DEFAULT 0,
        published_revision bigint,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(
      `CREATE INDEX policy_publications_behind ON policy_publications (tenant_id) WHERE published_version < version`,
    );
    await runner.query(
      `COMMENT ON TABLE policy_publications IS 'platform-level: which tenants have a policy, its version and the version the snapshot bucket has; numbers only, no policy content, so the publisher can find every tenant behind without reading tenant data'`,
    );

    await createOutboxTable(runner);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['outbox', 'policy_publications', 'tenant_policies']) {
      await runner.query(`DROP TABLE IF EXISTS "${table}"`);
    }
  }
}

import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the tenants service told the policy service about each tenant (its plan, limits,
 * features and roles; tenant data, under row-level security): `limits.customRoles` is
 * enforced where roles are created. A tenant without a row (created before provisioning,
 * the platform tenant) is unlimited. Needs no other table (TypeORM runs migrations in
 * timestamp order, so it runs before the older-numbered policy tables on a new database).
 */
export class CreateTenantProfiles1764600000400 implements MigrationInterface {
  name = 'CreateTenantProfiles1764600000400';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE tenant_profiles (
        tenant_id uuid PRIMARY KEY,
        plan text NOT NULL,
        limits jsonb NOT NULL,
        features text[] NOT NULL DEFAULT '{}',
        roles text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await enableTenantRls(runner, 'tenant_profiles');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE tenant_profiles`);
  }
}

import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the tenants service told identity about a tenant (tenant lifecycle: bootstrap and
 * configure): its plan, limits, features and settings, which identity enforces where users
 * and SSO connections are created; and the first admin bootstrap invited (compensation
 * removes exactly that user). A tenant without a row (created before tenant provisioning,
 * the platform tenant) is unlimited. The row is locked by every creation that a quota
 * counts, so concurrent creations cannot pass a limit together.
 */
export class CreateTenantProfiles1764600000300 implements MigrationInterface {
  name = 'CreateTenantProfiles1764600000300';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE tenant_profiles (
        tenant_id uuid PRIMARY KEY,
        slug text NOT NULL,
        name text NOT NULL,
        plan text NOT NULL,
        limits jsonb NOT NULL,
        features text[] NOT NULL,
        roles text[] NOT NULL,
        settings jsonb NOT NULL,
        admin_user_id uuid,
        bootstrap_run_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await enableTenantRls(runner, 'tenant_profiles');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE tenant_profiles`);
  }
}

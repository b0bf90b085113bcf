import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SSO setup links: one-time, expiring links a tenant's admin hands to their IT department
 * to set up SSO and SCIM. Only the SHA-256 of the link's secret is stored; the link's id
 * goes into credential_lookup as kind 'setup_link', so the token alone finds the tenant.
 */
export class CreateSsoSetupLinks1764500000500 implements MigrationInterface {
  name = 'CreateSsoSetupLinks1764500000500';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE sso_setup_links (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        secret_hash text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        opened_at timestamptz,
        revoked_at timestamptz
      )`);
    await runner.query(`CREATE INDEX sso_setup_links_tenant ON sso_setup_links (tenant_id, id)`);
    await enableTenantRls(runner, 'sso_setup_links');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE sso_setup_links`);
  }
}

import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM directories: one IdP's provisioning into a tenant, with the hash of its bearer
 * token (the token's id goes into credential_lookup as kind 'scim_token', so a request
 * carrying only the token finds its tenant).
 */
export class CreateScimDirectories1764500000400 implements MigrationInterface {
  name = 'CreateScimDirectories1764500000400';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE scim_directories (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        default_role text,
        group_roles jsonb NOT NULL DEFAULT '[]',
        token_id uuid NOT NULL,
        token_hash text NOT NULL,
        token_created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT scim_directories_token_id_unique UNIQUE (token_id)
      )`);
    await runner.query(`CREATE INDEX scim_directories_tenant ON scim_directories (tenant_id, id)`);
    await enableTenantRls(runner, 'scim_directories');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE scim_directories`);
  }
}

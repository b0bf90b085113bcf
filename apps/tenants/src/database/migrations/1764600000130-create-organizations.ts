import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organizations inside a tenant: a tree. Tenant data, so row-level security. `path` is the
 * materialized path of ids from the root (`<root id>/<child id>/…/<own id>/`): a subtree is
 * every row whose path starts with the organization's, found through the pattern index; a
 * move rewrites the subtree's paths and depths in one statement. A slug is unique among
 * siblings (NULLS NOT DISTINCT: among the roots too).
 */
export class CreateOrganizations1764600000130 implements MigrationInterface {
  name = 'CreateOrganizations1764600000130';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE organizations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        parent_id uuid REFERENCES organizations (id),
        slug text NOT NULL,
        name text NOT NULL,
        path text NOT NULL,
        depth integer NOT NULL CHECK (depth >= 1),
        settings jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT organizations_slug_unique UNIQUE NULLS NOT DISTINCT (tenant_id, parent_id, slug)
      )`);
    await runner.query(
      `CREATE INDEX organizations_path ON organizations (tenant_id, path text_pattern_ops)`,
    );
    await runner.query(`CREATE INDEX organizations_parent ON organizations (parent_id)`);
    await enableTenantRls(runner, 'organizations');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE organizations`);
  }
}

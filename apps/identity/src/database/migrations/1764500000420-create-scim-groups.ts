import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The groups a SCIM directory pushes (displayName unique per directory, ignoring case)
 * and their members, users of the same directory.
 */
export class CreateScimGroups1764500000420 implements MigrationInterface {
  name = 'CreateScimGroups1764500000420';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE scim_groups (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        directory_id uuid NOT NULL REFERENCES scim_directories (id) ON DELETE CASCADE,
        display_name text NOT NULL,
        external_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(
      `CREATE UNIQUE INDEX scim_groups_display_name_unique ON scim_groups (directory_id, lower(display_name))`,
    );
    await enableTenantRls(runner, 'scim_groups');

    await runner.query(`
      CREATE TABLE scim_group_members (
        tenant_id uuid NOT NULL,
        group_id uuid NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      )`);
    await runner.query(`CREATE INDEX scim_group_members_user ON scim_group_members (user_id)`);
    await enableTenantRls(runner, 'scim_group_members');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE scim_group_members`);
    await runner.query(`DROP TABLE scim_groups`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenant templates: recipes for new tenants (a CreateTenantRequest with `{{variable}}`
 * placeholders). Platform-level, written by operators, so no row-level security.
 */
export class CreateTenantTemplates1764600000120 implements MigrationInterface {
  name = 'CreateTenantTemplates1764600000120';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE tenant_templates (
        id uuid PRIMARY KEY,
        key text NOT NULL,
        name text NOT NULL,
        description text NOT NULL,
        variables jsonb NOT NULL,
        body jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenant_templates_key_unique UNIQUE (key)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE tenant_templates`);
  }
}

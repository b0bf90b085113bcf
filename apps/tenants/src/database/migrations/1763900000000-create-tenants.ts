import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tenant registry is platform-level (one row per tenant), so it has no row-level security. */
export class CreateTenants1763900000000 implements MigrationInterface {
  name = 'CreateTenants1763900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        slug text NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenants_slug_unique UNIQUE (slug)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE tenants`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users provisioned by a SCIM directory: which directory manages them, the IdP's
 * externalId, and the SCIM attributes the IdP sent that have no column of their own
 * (name parts, emails, enterprise extension, ...), returned as they were sent.
 */
export class AddScimColumnsToUsers1764500000410 implements MigrationInterface {
  name = 'AddScimColumnsToUsers1764500000410';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE users
        ADD COLUMN scim_directory_id uuid REFERENCES scim_directories (id) ON DELETE SET NULL,
        ADD COLUMN scim_external_id text,
        ADD COLUMN scim_attributes jsonb`);
    await runner.query(
      `CREATE INDEX users_scim_directory ON users (scim_directory_id, id) WHERE scim_directory_id IS NOT NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX users_scim_directory`);
    await runner.query(`
      ALTER TABLE users
        DROP COLUMN scim_directory_id,
        DROP COLUMN scim_external_id,
        DROP COLUMN scim_attributes`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * More public identifiers routed to their tenant through credential_lookup: SSO
 * connection ids (the ACS and callback URLs carry only the connection), SCIM token ids,
 * SSO setup link ids and one-time SSO sign-in codes.
 */
export class WidenCredentialLookup1764500000100 implements MigrationInterface {
  name = 'WidenCredentialLookup1764500000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE credential_lookup DROP CONSTRAINT credential_lookup_kind_check`,
    );
    await runner.query(`
      ALTER TABLE credential_lookup ADD CONSTRAINT credential_lookup_kind_check CHECK (kind IN (
        'email', 'api_key', 'refresh_token', 'user_token',
        'sso_connection', 'scim_token', 'setup_link'
      ))`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE credential_lookup DROP CONSTRAINT credential_lookup_kind_check`,
    );
    await runner.query(`
      ALTER TABLE credential_lookup ADD CONSTRAINT credential_lookup_kind_check
        CHECK (kind IN ('email', 'api_key', 'refresh_token', 'user_token'))`);
  }
}

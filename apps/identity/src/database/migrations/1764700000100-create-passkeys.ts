import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Passkeys (WebAuthn credentials), a second factor or a sign-in of their own: the
 * credential's id and public key (COSE), its signature counter and transports. Nothing here
 * is a secret: the private key never leaves the authenticator. The credential id goes into
 * credential_lookup (kind 'passkey'), so a sign-in with the passkey alone finds its tenant.
 */
export class CreatePasskeys1764700000100 implements MigrationInterface {
  name = 'CreatePasskeys1764700000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE passkeys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        credential_id text NOT NULL,
        public_key bytea NOT NULL,
        counter bigint NOT NULL DEFAULT 0,
        transports text[] NOT NULL DEFAULT '{}',
        backed_up boolean NOT NULL DEFAULT false,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
    await runner.query(
      `CREATE UNIQUE INDEX passkeys_credential ON passkeys (tenant_id, credential_id)`,
    );
    await runner.query(`CREATE INDEX passkeys_user ON passkeys (tenant_id, user_id)`);
    await enableTenantRls(runner, 'passkeys');
    await runner.query(
      `ALTER TABLE credential_lookup DROP CONSTRAINT credential_lookup_kind_check`,
    );
    await runner.query(`
      ALTER TABLE credential_lookup ADD CONSTRAINT credential_lookup_kind_check CHECK (kind IN (
        'email', 'api_key', 'refresh_token', 'user_token',
        'sso_connection', 'scim_token', 'setup_link', 'passkey'
      ))`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM credential_lookup WHERE kind = 'passkey'`);
    await runner.query(
      `ALTER TABLE credential_lookup DROP CONSTRAINT credential_lookup_kind_check`,
    );
    await runner.query(`
      ALTER TABLE credential_lookup ADD CONSTRAINT credential_lookup_kind_check CHECK (kind IN (
        'email', 'api_key', 'refresh_token', 'user_token',
        'sso_connection', 'scim_token', 'setup_link'
      ))`);
    await runner.query(`DROP TABLE passkeys`);
  }
}

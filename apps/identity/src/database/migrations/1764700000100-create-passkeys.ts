import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Passkeys (WebAuthn credentials) as a second factor: the credential's id and public key
 * (COSE), its signature counter and transports. Nothing here is a secret: the private key
 * never leaves the authenticator.
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
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE passkeys`);
  }
}

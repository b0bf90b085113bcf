import { enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant's SSO connections (SAML 2.0 or OIDC): the IdP it trusts, the SP key pair
 * generated for it (SAML), the client credentials (OIDC) and how its users are mapped.
 * Each id is also in credential_lookup (kind 'sso_connection'): the ACS and callback URLs
 * carry only the connection.
 */
export class CreateSsoConnections1764500000200 implements MigrationInterface {
  name = 'CreateSsoConnections1764500000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE sso_connections (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        protocol text NOT NULL CHECK (protocol IN ('saml', 'oidc')),
        enabled boolean NOT NULL,
        jit boolean NOT NULL,
        default_role text,
        attribute_mapping jsonb NOT NULL DEFAULT '{}',
        group_roles jsonb NOT NULL DEFAULT '[]',
        saml_idp_entity_id text,
        saml_idp_sso_url text,
        saml_idp_certificates text[],
        saml_allow_idp_initiated boolean,
        saml_require_encrypted_assertions boolean,
        saml_clock_skew_seconds integer,
        saml_sp_private_key text,
        saml_sp_certificate text,
        oidc_issuer text,
        oidc_client_id text,
        oidc_client_secret text,
        oidc_scopes text[],
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sso_connections_saml_complete CHECK (protocol <> 'saml' OR (
          saml_idp_entity_id IS NOT NULL AND saml_idp_sso_url IS NOT NULL
          AND saml_idp_certificates IS NOT NULL AND saml_allow_idp_initiated IS NOT NULL
          AND saml_require_encrypted_assertions IS NOT NULL AND saml_clock_skew_seconds IS NOT NULL
          AND saml_sp_private_key IS NOT NULL AND saml_sp_certificate IS NOT NULL)),
        CONSTRAINT sso_connections_oidc_complete CHECK (protocol <> 'oidc' OR (
          oidc_issuer IS NOT NULL AND oidc_client_id IS NOT NULL
          AND oidc_client_secret IS NOT NULL AND oidc_scopes IS NOT NULL))
      )`);
    await runner.query(`CREATE INDEX sso_connections_tenant ON sso_connections (tenant_id, id)`);
    await enableTenantRls(runner, 'sso_connections');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM credential_lookup WHERE kind = 'sso_connection'`);
    await runner.query(`DROP TABLE sso_connections`);
  }
}

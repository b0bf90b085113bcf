import { createOutboxTable, enableTenantRls } from '@tenantry/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identity's tables. Every table of tenant data has tenant_id and row-level security;
 * platform operators and platform API keys live under the platform tenant id
 * (PLATFORM_TENANT_ID), so the same isolation covers them. Two platform-level tables
 * hold no secrets: credential_lookup (which tenant a public identifier belongs to) and
 * signing_keys (the token signing keys).
 */
export class CreateIdentity1764500000000 implements MigrationInterface {
  name = 'CreateIdentity1764500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        email text NOT NULL,
        display_name text NOT NULL,
        status text NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
        roles text[] NOT NULL DEFAULT '{}',
        password_hash text,
        password_changed_at timestamptz,
        mfa_enabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz,
        CONSTRAINT users_tenant_email_unique UNIQUE (tenant_id, email)
      )`);
    await enableTenantRls(runner, 'users');

    await runner.query(`
      CREATE TABLE password_history (
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(
      `CREATE INDEX password_history_user ON password_history (tenant_id, user_id, created_at DESC)`,
    );
    await enableTenantRls(runner, 'password_history');

    // Invitation and password-reset tokens: only a SHA-256 of the secret is kept.
    await runner.query(`
      CREATE TABLE user_tokens (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('invitation', 'password_reset')),
        secret_hash text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(
      `CREATE INDEX user_tokens_user ON user_tokens (tenant_id, user_id, kind) WHERE used_at IS NULL`,
    );
    await enableTenantRls(runner, 'user_tokens');

    await runner.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        amr text[] NOT NULL,
        auth_time timestamptz NOT NULL,
        ip text,
        user_agent text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text
      )`);
    await runner.query(`CREATE INDEX sessions_user ON sessions (tenant_id, user_id)`);
    await enableTenantRls(runner, 'sessions');

    // Refresh tokens: opaque, stored hashed, one family per session, rotated on every use.
    await runner.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        secret_hash text NOT NULL,
        parent_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await runner.query(
      `CREATE INDEX refresh_tokens_session ON refresh_tokens (tenant_id, session_id)`,
    );
    await enableTenantRls(runner, 'refresh_tokens');

    await runner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        prefix text NOT NULL UNIQUE,
        secret_hash text NOT NULL,
        scopes text[] NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        rotated_from uuid
      )`);
    await enableTenantRls(runner, 'api_keys');

    await runner.query(`
      CREATE TABLE mfa_totp (
        tenant_id uuid NOT NULL,
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        secret text NOT NULL,
        confirmed_at timestamptz,
        last_used_step bigint,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await enableTenantRls(runner, 'mfa_totp');

    await runner.query(`
      CREATE TABLE recovery_codes (
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        code_hash text NOT NULL,
        used_at timestamptz,
        PRIMARY KEY (user_id, code_hash)
      )`);
    await enableTenantRls(runner, 'recovery_codes');

    await runner.query(`
      CREATE TABLE auth_settings (
        tenant_id uuid PRIMARY KEY,
        settings jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await enableTenantRls(runner, 'auth_settings');

    // Mail waiting to go out (invitations, resets), written in the same transaction as
    // the token it carries; a sender sends and marks it, retrying while SMTP is down.
    await runner.query(`
      CREATE TABLE outgoing_mail (
        id uuid PRIMARY KEY,
        recipient text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        last_error text
      )`);
    await runner.query(
      `CREATE INDEX outgoing_mail_due ON outgoing_mail (next_attempt_at) WHERE sent_at IS NULL`,
    );

    // Platform level, no secrets: which tenant a login email, API key prefix, refresh
    // token or user token belongs to, so a request that carries only that can be routed
    // to its tenant (every query after that runs under the tenant's row-level security).
    await runner.query(`
      CREATE TABLE credential_lookup (
        kind text NOT NULL CHECK (kind IN ('email', 'api_key', 'refresh_token', 'user_token')),
        public_id text NOT NULL,
        tenant_id uuid NOT NULL,
        PRIMARY KEY (kind, public_id, tenant_id)
      )`);
    // The row-level-security check (apps/e2e) accepts a tenant_id table without RLS only
    // when it says why, like this.
    await runner.query(
      `COMMENT ON TABLE credential_lookup IS 'platform-level: maps a public identifier (login email, API key prefix, token id) to its tenant so a credential can be routed to it; holds no secrets (ADR 0006)'`,
    );

    // Platform level: the access-token signing keys (Ed25519). The private key never
    // leaves this database; the public half is served as the JWKS.
    await runner.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        public_jwk jsonb NOT NULL,
        private_pkcs8 text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        published_until timestamptz
      )`);

    await createOutboxTable(runner);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'signing_keys',
      'credential_lookup',
      'outgoing_mail',
      'auth_settings',
      'recovery_codes',
      'mfa_totp',
      'api_keys',
      'refresh_tokens',
      'sessions',
      'user_tokens',
      'password_history',
      'users',
      'outbox',
    ]) {
      await runner.query(`DROP TABLE ${table}`);
    }
  }
}
